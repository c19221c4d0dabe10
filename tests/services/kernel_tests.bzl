"""Analysis test: the kernel of an image gets the fragments its services ask for."""

load("@bazel_skylib//lib:unittest.bzl", "analysistest", "asserts")
load("//rules/kernel:providers.bzl", "KernelConfigInfo")

def _fragments_test_impl(ctx):
    env = analysistest.begin(ctx)
    got = [f.short_path for f in analysistest.target_under_test(env)[KernelConfigInfo].fragments]
    asserts.equals(env, ctx.attr.want, got, "fragments of the kernel config, in order")
    return analysistest.end(env)

fragments_test = analysistest.make(
    _fragments_test_impl,
    attrs = {"want": attr.string_list(doc = "The fragments' short paths, in the order applied.")},
)
