"""platform_files: packages and files built for another platform, in one directory."""

load(":providers.bzl", "PkgInfo")

def _platform_transition_impl(_settings, attr):
    return {"//command_line_option:platforms": str(attr.platform)}

# Builds an attribute's targets for the platform named by the rule's own
# `platform` attribute (rules that use it also need
# _allowlist_function_transition).
def check_platform(platform, device_platform, device_name):
    """Fails unless a rule's platform attribute names the device's platform.

    Rules that build for a device through platform_transition take the
    platform as an attribute (a transition cannot read providers) and the
    device's facts as DeviceInfo; both are stated in the device's package
    and must agree.

    Args:
      platform: the rule's platform attribute (a Target, or None).
      device_platform: DeviceInfo.platform, a Label.
      device_name: DeviceInfo.name, for the message.
    """
    got = platform.label if platform else None
    if got != device_platform:
        fail("attribute platform: %s, but device %s is built for %s" % (got, device_name, device_platform))

platform_transition = transition(
    implementation = _platform_transition_impl,
    inputs = [],
    outputs = ["//command_line_option:platforms"],
)

def _platform_files_impl(ctx):
    out = ctx.actions.declare_directory(ctx.label.name)
    inputs = []
    cmds = ["set -eu", 'o="$1"']
    for t in ctx.attr.srcs:
        if PkgInfo in t:
            pkg = t[PkgInfo]
            inputs.append(pkg.staging)
            cmds.append('mkdir -p "$o/%s" && cp -R "%s/." "$o/%s/"' % (pkg.name, pkg.staging.path, pkg.name))
        else:
            for f in t[DefaultInfo].files.to_list():
                inputs.append(f)
                cmds.append('cp -R "%s" "$o/%s"' % (f.path, f.basename))
    ctx.actions.run_shell(
        command = "\n".join(cmds),
        arguments = [out.path],
        inputs = inputs,
        outputs = [out],
        mnemonic = "PlatformFiles",
        progress_message = "Collecting %s for %s" % (ctx.label, ctx.attr.platform.label),
    )
    files = depset([out])
    return [DefaultInfo(files = files, runfiles = ctx.runfiles(transitive_files = files))]

platform_files = rule(
    implementation = _platform_files_impl,
    doc = """srcs built for platform (like rules_go's go_cross_binary), copied
into one directory named after the target: the staging tree of each package
(PkgInfo) as <dir>/<package name>/, any other file as <dir>/<basename>.
Tests on the host use it to get device binaries: the copies keep builds for
different platforms apart in the runfiles.""",
    attrs = {
        "srcs": attr.label_list(cfg = platform_transition, mandatory = True, doc = "Targets to build for platform."),
        "platform": attr.label(mandatory = True, doc = "The platform to build srcs for."),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)
