"""Tests of the dnsmasq template: its configuration, its service and its checks."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts", "unittest")
load("//rules/rootfs:providers.bzl", "FsInfo")
load("//rules/service:defs.bzl", "SERVICE_ATTRS", "ServiceInfo", "int_to_ipv4", "ipv4_to_int", "ipv6_to_int", "mac_error", "write_service")
load("//rules/service/tests:service_tests.bzl", "failure_test")
load("//userland/dnsmasq:services.bzl", "dnsmasq")

def _interface_impl(ctx):
    return write_service(ctx, "oneshot", {"up": "true\n"}, ctx.attr.deps, interface = {
        "ifname": ctx.attr.ifname,
        "addresses": ctx.attr.addresses,
    })

# A service that owns an interface with any addresses (interface_address
# has one): the fixture of the tests.
test_interface = rule(
    implementation = _interface_impl,
    attrs = dict(SERVICE_ATTRS, **{
        "ifname": attr.string(),
        "addresses": attr.string_list(),
    }),
)

def _write_action(env, basename):
    """The content that the target under test writes to the file named basename."""
    for a in analysistest.target_actions(env):
        for o in a.outputs.to_list():
            if o.basename == basename:
                return a.content, o
    asserts.true(env, False, "no action writes %s" % basename)
    return "", None

def _config_test_impl(ctx):
    env = analysistest.begin(ctx)
    content, conf = _write_action(env, ctx.attr.service + ".conf")
    got = [line for line in content.split("\n") if line and not line.startswith("#")]
    asserts.equals(env, ctx.attr.want, got, "the configuration's lines (comments left out)")
    asserts.true(env, content.endswith("\n"), "the configuration ends with a newline")

    # In the image, at /etc/dnsmasq/SERVICE.conf.
    manifest, _ = _write_action(env, analysistest.target_under_test(env).label.name + ".fs.json")
    entries = json.decode(manifest)
    asserts.equals(env, 1, len(entries), "entries of the fragment")
    if entries and conf:
        e = entries[0]
        asserts.equals(env, "/etc/dnsmasq/%s.conf" % ctx.attr.service, e["path"], "path")
        asserts.equals(env, "file", e["type"], "type")
        asserts.equals(env, 0o644, e["mode"], "mode")
        asserts.equals(env, conf.path, e["source"], "source")
        t = analysistest.target_under_test(env)
        asserts.equals(env, [conf], t[FsInfo].files.to_list(), "the fragment's files")
    return analysistest.end(env)

# target_under_test: the NAME_config target of a dnsmasq.
config_test = analysistest.make(
    _config_test_impl,
    attrs = {
        "service": attr.string(mandatory = True, doc = "The service's name on the device."),
        "want": attr.string_list(doc = "The configuration's lines, in order, without comments."),
    },
)

def _service_test_impl(ctx):
    env = analysistest.begin(ctx)
    t = analysistest.target_under_test(env)
    info = t[ServiceInfo]
    asserts.equals(env, ctx.attr.service, info.name, "the service's name")
    asserts.equals(env, "longrun", info.type, "type")
    run, _ = _write_action(env, "run")
    asserts.equals(env, ctx.attr.want_run, run, "the run script")
    files = [f.short_path.partition(".s6/%s/" % info.name)[2] for f in info.files.to_list()]
    deps = sorted([f.partition("dependencies.d/")[2] for f in files if f.startswith("dependencies.d/")])
    asserts.equals(env, sorted(ctx.attr.want_deps), deps, "dependencies.d")
    packages = sorted([str(p.label) for p in info.packages.to_list()])
    asserts.equals(env, sorted(ctx.attr.want_packages), packages, "packages")
    return analysistest.end(env)

# Analysed for a device: the dnsmasq package exists only for device platforms.
service_test = analysistest.make(
    _service_test_impl,
    config_settings = {"//command_line_option:platforms": "//toolchains:mips_24kc"},
    attrs = {
        "service": attr.string(mandatory = True),
        "want_run": attr.string(mandatory = True),
        "want_deps": attr.string_list(),
        "want_packages": attr.string_list(doc = "Labels, e.g. the configuration's."),
    },
)

def _address_helpers_test_impl(ctx):
    env = unittest.begin(ctx)
    for v in ["52:54:00:12:34:56", "AA:bb:CC:dd:EE:ff"]:
        asserts.equals(env, "", mac_error(v), "mac_error(%r)" % v)
    for v in ["", "52:54:00:12:34", "52:54:00:12:34:56:78", "52-54-00-12-34-56", "52:54:00:12:34:5g", "52:54:00:12:34:567", "5:54:00:12:34:56"]:
        asserts.true(env, mac_error(v) != "", "mac_error(%r) should fail" % v)
    for v, n in [("0.0.0.0", 0), ("192.168.8.1", 3232237569), ("255.255.255.255", 4294967295), ("10.0.0.1", 167772161)]:
        asserts.equals(env, n, ipv4_to_int(v), "ipv4_to_int(%r)" % v)
        asserts.equals(env, v, int_to_ipv4(n), "int_to_ipv4(%d)" % n)
    for v, n in [
        ("::", 0),
        ("::1", 1),
        ("::1000", 4096),
        ("1::", 5192296858534827628530496329220096),  # 2^112
        ("fd00:8::1", 336294683567409015958777886999278780417),
        ("::ffff:192.0.2.1", 281473902969345),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 340282366920938463463374607431768211455),
    ]:
        asserts.equals(env, n, ipv6_to_int(v), "ipv6_to_int(%r)" % v)
    asserts.equals(env, ipv6_to_int("fd00:0:0::0:1"), ipv6_to_int("FD00::1"), "two spellings of one address")
    return unittest.end(env)

address_helpers_test = unittest.make(_address_helpers_test_impl)

def dnsmasq_failure_test(name, expected, **kwargs):
    """A dnsmasq with one bad option (manual, no packages) and the test that its analysis fails.

    The options not given are a good configuration of the LAN fixture
    :dnsmasq_lan (192.168.8.1/24 and fd00:8::1/64 on br-lan).

    Args:
      name: the test; the dnsmasq is NAME_dnsmasq.
      expected: text the analysis error must contain.
      **kwargs: dnsmasq's options.
    """
    opts = {
        "interface": ":dnsmasq_lan",
        "dhcp_ranges": ["192.168.8.100-192.168.8.250"],
        "packages": [],
        "tags": ["manual"],
    }
    opts.update(kwargs)
    dnsmasq(name = name + "_dnsmasq", **opts)
    failure_test(
        name = name,
        expected = expected,
        target_under_test = ":%s_dnsmasq" % name,
    )
