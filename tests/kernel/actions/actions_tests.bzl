"""Analysis tests of the kernel build's actions: which inputs each one has.

A device's .dts is compiled outside the kernel action, so that a DTS edit
does not rebuild the kernel; and the patches reach the build as they reach
the config step.
"""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")

def _by_mnemonic(env, mnemonic):
    return [a for a in analysistest.target_actions(env) if a.mnemonic == mnemonic]

def _dts_split_test_impl(ctx):
    env = analysistest.begin(ctx)
    builds = _by_mnemonic(env, "KernelBuild")
    asserts.equals(env, 1, len(builds), "KernelBuild actions")
    for a in builds:
        dts = [f.short_path for f in a.inputs.to_list() if f.extension in ("dts", "dtsi")]
        asserts.equals(env, [], dts, "device tree sources among the kernel action's inputs (a DTS edit would rebuild the kernel)")
        outs = [f.basename for f in a.outputs.to_list()]
        asserts.false(env, ctx.attr.dtb in outs, "the kernel action writes %s; the DTB action should" % ctx.attr.dtb)

    dtbs = _by_mnemonic(env, "KernelDtb")
    outs = [f.basename for a in dtbs for f in a.outputs.to_list()]
    asserts.equals(env, [ctx.attr.dtb], outs, "outputs of the KernelDtb actions")
    for a in dtbs:
        ins = [f.short_path for f in a.inputs.to_list()]
        for want in ctx.attr.dts_inputs:
            asserts.true(env, want in ins, "%s is not an input of the DTB action (inputs: %s)" % (want, ins))
        asserts.true(env, len([f for f in a.inputs.to_list() if f.basename == "dt_tools"]) == 1, "the DTB action does not use the kernel's dt_tools")
    return analysistest.end(env)

dts_split_test = analysistest.make(
    _dts_split_test_impl,
    attrs = {
        "dtb": attr.string(doc = "Basename of the device's DTB."),
        "dts_inputs": attr.string_list(doc = "Short paths the DTB action must read."),
    },
)

def _patches_test_impl(ctx):
    env = analysistest.begin(ctx)
    for mnemonic in ("KernelBuild", "KernelDtTools"):
        for a in _by_mnemonic(env, mnemonic):
            ins = [f.short_path for f in a.inputs.to_list()]
            for want in ctx.attr.patches:
                asserts.true(env, want in ins, "patch %s is not an input of %s" % (want, mnemonic))
    return analysistest.end(env)

patches_test = analysistest.make(
    _patches_test_impl,
    attrs = {"patches": attr.string_list(doc = "Short paths of the patches, in order.")},
)

def _reuse_test_impl(ctx):
    env = analysistest.begin(ctx)
    checks = _by_mnemonic(env, "KernelReuseCheck")
    asserts.equals(env, 1, len(checks), "KernelReuseCheck actions")
    for a in checks:
        ins = [f.short_path for f in a.inputs.to_list()]
        for want in ctx.attr.inputs:
            asserts.true(env, want in ins, "%s is not an input of the check (inputs: %s)" % (want, ins))
        stamps = a.outputs.to_list()
        groups = analysistest.target_under_test(env)[OutputGroupInfo]
        asserts.true(env, hasattr(groups, "_validation"), "no _validation output group: the check would not run")
        if hasattr(groups, "_validation"):
            asserts.equals(env, stamps, groups._validation.to_list(), "validation outputs")
    asserts.equals(env, [], _by_mnemonic(env, "KernelBuild"), "KernelBuild actions of a reused kernel")
    return analysistest.end(env)

reuse_test = analysistest.make(
    _reuse_test_impl,
    attrs = {"inputs": attr.string_list(doc = "Short paths the check must read: the reused .config and the services' fragments.")},
)
