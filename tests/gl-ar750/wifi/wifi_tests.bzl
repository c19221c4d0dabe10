"""The gl-ar750's 2.4 GHz access point as a user turns it on."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules/service:defs.bzl", "ServiceDbInfo")
load("//rules/service/tests:service_tests.bzl", "make_failure_test")

_PLATFORM = "//toolchains:mips_24kc"

# What the user's .bazelrc.user says, with this package's passphrase file.
_ON = {
    "//command_line_option:platforms": _PLATFORM,
    "//devices/gl-ar750:wifi_2ghz": True,
    "//devices/gl-ar750:wifi_country": "NZ",
    "//devices/gl-ar750:wifi_ssid": "bazwrt test",
    "//devices/gl-ar750:wifi_passphrase": "//tests/gl-ar750/wifi:passphrase",
}

def _on_transition_impl(_settings, _attr):
    return _ON

_on_transition = transition(
    implementation = _on_transition_impl,
    inputs = [],
    outputs = _ON.keys(),
)

def _wifi_on_impl(ctx):
    return [DefaultInfo(files = ctx.attr.target[0][DefaultInfo].files)]

wifi_on = rule(
    implementation = _wifi_on_impl,
    doc = "A target of the gl-ar750's package built with its 2.4 GHz access point on.",
    attrs = {
        "target": attr.label(mandatory = True, cfg = _on_transition),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
    },
)

_WIFI_PACKAGES = ["//devices/gl-ar750:wifi_config", "//userland/hostapd:hostapd"]

def _packages(env):
    db = analysistest.target_under_test(env)[ServiceDbInfo]
    return [str(t.label) for t in db.packages.to_list()]

def _on_test_impl(ctx):
    env = analysistest.begin(ctx)
    got = _packages(env)
    for p in _WIFI_PACKAGES:
        asserts.true(env, p in got, "%s not among the services' packages: %s" % (p, got))
    return analysistest.end(env)

# Turned on, the services bring hostapd and its configuration.
on_test = analysistest.make(_on_test_impl, config_settings = _ON)

def _off_test_impl(ctx):
    env = analysistest.begin(ctx)
    got = _packages(env)
    for p in _WIFI_PACKAGES:
        asserts.false(env, p in got, "%s among the services' packages with 2.4 GHz off: %s" % (p, got))
    return analysistest.end(env)

# By default: no access point, no hostapd.
off_test = analysistest.make(_off_test_impl, config_settings = {"//command_line_option:platforms": _PLATFORM})

_NO_COUNTRY = dict(_ON)
_NO_COUNTRY.pop("//devices/gl-ar750:wifi_country")

# On without a country.
no_country_test = make_failure_test(_NO_COUNTRY)

_NO_PASSPHRASE = dict(_ON)
_NO_PASSPHRASE["//devices/gl-ar750:wifi_passphrase"] = "//tests/gl-ar750/wifi:empty"

# On without a passphrase file (the flag at an empty filegroup, as the
# default is until the user writes wifi-passphrase).
no_passphrase_test = make_failure_test(_NO_PASSPHRASE)
