"""The gl-ar750's kernel with 5 GHz on, for the firmware tests."""

load("@bazel_skylib//lib:unittest.bzl", "asserts", "unittest")
load("//rules/kernel:defs.bzl", "KernelInfo", "firmware_path_error")
load("//rules/service/tests:service_tests.bzl", "make_failure_test")

def _five_ghz(_settings, attr):
    return {
        "//devices/gl-ar750:wifi_5ghz": True,
        "//devices/gl-ar750:ath10k_firmware": attr.firmware,
    }

_five_ghz_transition = transition(
    implementation = _five_ghz,
    inputs = [],
    outputs = ["//devices/gl-ar750:wifi_5ghz", "//devices/gl-ar750:ath10k_firmware"],
)

def _five_ghz_kernel_impl(ctx):
    k = ctx.attr.kernel[0][KernelInfo]
    return [
        DefaultInfo(files = depset([k.vmlinux, k.config, k.system_map])),
        OutputGroupInfo(
            vmlinux = depset([k.vmlinux]),
            config = depset([k.config]),
            system_map = depset([k.system_map]),
        ),
    ]

five_ghz_kernel = rule(
    implementation = _five_ghz_kernel_impl,
    doc = "A kernel built as a user who turns 5 GHz on builds it: --//devices/gl-ar750:wifi_5ghz and --//devices/gl-ar750:ath10k_firmware=firmware.",
    attrs = {
        "kernel": attr.label(mandatory = True, cfg = _five_ghz_transition, providers = [KernelInfo]),
        "firmware": attr.label(mandatory = True, doc = "What ath10k_firmware points at."),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
    },
)

# 5 GHz on, the firmware flag at an empty filegroup (as its default is
# until the user adds files; not the default itself, which may hold them).
no_firmware_test = make_failure_test({
    "//devices/gl-ar750:wifi_5ghz": True,
    "//devices/gl-ar750:ath10k_firmware": "//tests/gl-ar750/firmware:empty",
})

# 5 GHz on with the board data only.
board_only_test = make_failure_test({
    "//devices/gl-ar750:wifi_5ghz": True,
    "//devices/gl-ar750:ath10k_firmware": "//tests/gl-ar750/firmware:board_only",
})

# 5 GHz on with a file of the regulatory database's name among the user's:
# two files for one name in the kernel.
clash_test = make_failure_test({
    "//devices/gl-ar750:wifi_5ghz": True,
    "//devices/gl-ar750:ath10k_firmware": "//tests/gl-ar750/firmware:clash",
})

def _paths_test_impl(ctx):
    env = unittest.begin(ctx)
    for p in ["ath10k/QCA9887/hw1.0/board.bin", "ath10k/QCA9887/hw1.0/firmware-5.bin", "regulatory.db", "a+b/c_d-e.bin"]:
        asserts.equals(env, "", firmware_path_error(p), "firmware_path_error(%r)" % p)

    # CONFIG_EXTRA_FIRMWARE is a space-separated list in a quoted string,
    # and request_firmware() names are relative.
    for p in ["", "a b.bin", "a\"b", "/lib/firmware/x.bin", "ath10k/", "a/../b.bin", "./a.bin", "a//b.bin", "a$b", "a\nb"]:
        asserts.true(env, firmware_path_error(p) != "", "firmware_path_error(%r) should fail" % p)
    return unittest.end(env)

paths_test = unittest.make(_paths_test_impl)
