"""Analysis tests: bad service configuration fails at analysis, naming the attribute."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("//rules/service:defs.bzl", "cidr_error", "ifname_error", "ip_error", "service_name_error")
load("//rules/service/private:ifname_cases.bzl", "IFNAME_CASES")
load("//rules/service/private:service_name_cases.bzl", "SERVICE_NAME_CASES")

def _failure_test_impl(ctx):
    env = analysistest.begin(ctx)
    asserts.expect_failure(env, ctx.attr.expected)
    return analysistest.end(env)

def make_failure_test(config_settings = {}):
    """A failure_test rule whose target is analysed with config_settings.

    Args:
      config_settings: build settings (flags) to analyse the target under.

    Returns:
      The test rule; assign it to a global of the calling .bzl file.
    """
    return analysistest.make(
        _failure_test_impl,
        expect_failure = True,
        config_settings = config_settings,
        attrs = {"expected": attr.string(mandatory = True, doc = "Text the analysis error must contain.")},
    )

failure_test = make_failure_test()

def _validators_test_impl(ctx):
    env = unittest.begin(ctx)
    good = ["192.168.1.1", "0.0.0.0", "255.255.255.255", "::", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1"]
    bad = ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "a.b.c.d", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "fe80::1%eth0", ":::", "1:2:3:4:5:6:7::8"]
    for v in good:
        asserts.equals(env, "", ip_error(v), "ip_error(%r)" % v)
    for v in bad:
        asserts.true(env, ip_error(v) != "", "ip_error(%r) should fail" % v)
    for v in ["10.0.0.0/8", "192.168.1.1/32", "2001:db8::/32", "::/0"]:
        asserts.equals(env, "", cidr_error(v), "cidr_error(%r)" % v)
    for v in ["10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/x"]:
        asserts.true(env, cidr_error(v) != "", "cidr_error(%r) should fail" % v)
    for v, good in IFNAME_CASES:
        if good:
            asserts.equals(env, "", ifname_error(v), "ifname_error(%r)" % v)
        else:
            asserts.true(env, ifname_error(v) != "", "ifname_error(%r) should fail" % v)
    for v, good in SERVICE_NAME_CASES:
        if good:
            asserts.equals(env, "", service_name_error(v), "service_name_error(%r)" % v)
        else:
            asserts.true(env, service_name_error(v) != "", "service_name_error(%r) should fail" % v)
    return unittest.end(env)

validators_test = unittest.make(_validators_test_impl)

def _written_test_impl(ctx):
    env = analysistest.begin(ctx)
    written = {}
    for a in analysistest.target_actions(env):
        if a.mnemonic != "FileWrite":
            continue
        for o in a.outputs.to_list():
            if o.basename in ctx.attr.want:
                written[o.basename] = a.content
    for basename, want in ctx.attr.want.items():
        asserts.true(env, basename in written, "no file %s written (written: %s)" % (basename, written.keys()))
        if basename in written:
            asserts.equals(env, want, written[basename], basename)
    return analysistest.end(env)

# The exact content of files a service target writes, by basename.
written_test = analysistest.make(
    _written_test_impl,
    attrs = {"want": attr.string_dict(doc = "{basename: the file's content}")},
)
