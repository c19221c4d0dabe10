"""Analysis tests of what the gateway's services tell the image."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules/service:defs.bzl", "ServiceDbInfo", "ServiceInfo")

def _notes_test_impl(ctx):
    env = analysistest.begin(ctx)
    t = analysistest.target_under_test(env)
    info = t[ServiceDbInfo] if ServiceDbInfo in t else t[ServiceInfo]
    asserts.equals(env, ctx.attr.want_notes, sorted(info.notes.to_list()), "notes")
    packages = [str(p.label) for p in info.packages.to_list()]
    for p in ctx.attr.want_packages:
        asserts.true(env, p in packages, "package %s not among %s" % (p, packages))
    for p in ctx.attr.unwanted_packages:
        asserts.false(env, p in packages, "package %s among %s" % (p, packages))
    return analysistest.end(env)

# Analysed for a device: the packages exist only for device platforms.
notes_test = analysistest.make(
    _notes_test_impl,
    config_settings = {"//command_line_option:platforms": "//toolchains:mips_24kc"},
    attrs = {
        "want_notes": attr.string_list(doc = "The notes, sorted."),
        "want_packages": attr.string_list(doc = "Labels that must be among the packages."),
        "unwanted_packages": attr.string_list(doc = "Labels that must not be among the packages."),
    },
)
