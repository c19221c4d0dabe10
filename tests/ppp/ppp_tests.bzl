"""Analysis tests of the PPP templates: the files they write."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules/service/tests:service_tests.bzl", "failure_test")
load("//userland/ppp:services.bzl", "pppoe")
load("//userland/rp-pppoe:services.bzl", "pppoe_server")

def _files_test_impl(ctx):
    env = analysistest.begin(ctx)
    written = {}
    for a in analysistest.target_actions(env):
        for o in a.outputs.to_list():
            if a.mnemonic == "FileWrite" and o.path.endswith(tuple(ctx.attr.want.keys())):
                for suffix in ctx.attr.want:
                    if o.path.endswith(suffix):
                        written[suffix] = a.content
    for suffix, want in ctx.attr.want.items():
        asserts.true(env, suffix in written, "no file ending in %s written (written: %s)" % (suffix, written.keys()))
        if suffix in written:
            got = [line for line in written[suffix].split("\n") if line and not line.startswith("#")]
            asserts.equals(env, want, got, suffix)
    return analysistest.end(env)

files_test = analysistest.make(
    _files_test_impl,
    attrs = {"want": attr.string_list_dict(doc = "{path suffix: its lines, without comments and blank lines}")},
)

def pppoe_failure_test(name, expected, **attrs):
    """A pppoe with one bad option (manual, no packages) and the test that its analysis fails.

    Args:
      name: the test's name; the pppoe is NAME_case.
      expected: what the error must say.
      **attrs: the bad option(s), over a good configuration.
    """
    good = dict(interface = "eth0", password = "pw", username = "user")
    good.update(attrs)
    pppoe(name = name + "_case", packages = [], tags = ["manual"], **good)
    failure_test(name = name, expected = expected, target_under_test = ":%s_case_options" % name)

def pppoe_server_failure_test(name, expected, **attrs):
    """A pppoe_server with one bad option and the test that its analysis fails.

    Args:
      name: the test's name; the server is NAME_case.
      expected: what the error must say.
      **attrs: the bad option(s), over a good configuration.
    """
    good = dict(first_address = "100.64.0.10", interface = "eth0", local_address = "100.64.0.1", users = {"u": "p"})
    good.update(attrs)
    pppoe_server(name = name + "_case", packages = [], tags = ["manual"], **good)
    failure_test(name = name, expected = expected, target_under_test = ":%s_case_files" % name)
