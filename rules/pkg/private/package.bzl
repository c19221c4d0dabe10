"""The package rules: one action builds a C package into a staging tree."""

load("//rules/rootfs:providers.bzl", "FsInfo")
load(":providers.bzl", "PkgInfo")

GCC_TOOLCHAIN_TYPE = "//toolchains:gcc_toolchain_type"
MUSL_TOOLCHAIN_TYPE = "//toolchains:musl_toolchain_type"

# The steps of an autotools package: configure out of tree, make, install.
_AUTOTOOLS = """
"$src/configure" --host="$HOST" --build=x86_64-linux-gnu {configure_args}
make -j"$jobs" {make_args}
make {make_args} DESTDIR="$staging" {install_args}
"""

# Run before the script of a package with deps: their staging trees, merged
# into one tree $deps in the scratch directory (next to $build; the
# -ffile-prefix-map of the scratch directory covers it).
_DEPS = """
deps=$(dirname "$build")/deps
mkdir -p "$deps"
for d in {trees}; do
  cp -R "$execroot/$d/." "$deps/"
done
chmod -R u+w "$deps"
export deps
"""

# What a package's staging tree keeps out of a root filesystem by default:
# headers, static libraries, pkg-config files and documentation.
ROOTFS_EXCLUDE = ["include/**", "usr/include/**", "*.a", "*.la", "*.o", "lib/pkgconfig/**", "usr/lib/pkgconfig/**", "share/man/**", "usr/share/man/**", "share/doc/**", "usr/share/doc/**", "share/info/**", "usr/share/info/**"]

def _shell_words(words):
    return " ".join(["'" + w.replace("'", "'\\''") + "'" for w in words])

def _package_impl(ctx, bootstrap):
    if bootstrap:
        gcc = ctx.toolchains[GCC_TOOLCHAIN_TYPE].gcc
        musl = None
    else:
        musl = ctx.toolchains[MUSL_TOOLCHAIN_TYPE].musl
        gcc = musl.gcc if musl else None
    if not gcc:
        fail("%s: the target platform has no musl toolchain; build with --platforms=//toolchains:<device platform>" % ctx.label)

    staging = ctx.actions.declare_directory(ctx.label.name + "/staging")
    manifest = ctx.actions.declare_file(ctx.label.name + "/manifest.txt")
    binaries = {}
    pairs = []
    for path in ctx.attr.binaries:
        f = ctx.actions.declare_file(ctx.label.name + "/" + path)
        binaries[path] = f
        pairs.extend([path, f.path])

    data = ctx.files.data
    if ctx.attr.script:
        script = ctx.attr.script
    else:
        script = _AUTOTOOLS.format(
            configure_args = _shell_words(ctx.attr.configure_args),
            make_args = _shell_words(ctx.attr.make_args),
            install_args = _shell_words(ctx.attr.install_args or ["install"]),
        )
    script = ctx.expand_location(script, ctx.attr.data)

    env = {
        "PKG_NAME": ctx.label.name,
        "PKG_SRC": ctx.file.src.path if ctx.file.src else "",
        "PKG_STAGING": staging.path,
        "PKG_MANIFEST": manifest.path,
        "PKG_BINARIES": " ".join(pairs),
        "PKG_SCRIPT": script,
        "SOURCE_DATE_EPOCH": str(ctx.attr.source_date_epoch),
        "TC_PREFIX": gcc.prefix,
        "TC_TRIPLE": gcc.triple,
        "TC_ARCH_FLAGS": " ".join(gcc.arch_flags),
        "TC_CFLAGS": "",
        "TC_LDFLAGS": "",
        "TC_SYSROOT": "",
        "TC_LIBGCC": "",
    }
    inputs = ([ctx.file.src] if ctx.file.src else []) + data
    deps = [d[PkgInfo].staging for d in ctx.attr.deps]
    if deps:
        # Only for packages with deps, so that the others' actions (and
        # their cache keys) stay as they were.
        inputs += deps
        env["PKG_SCRIPT"] = _DEPS.format(trees = _shell_words([d.path for d in deps])) + script
    if musl:
        env.update({
            "TC_CFLAGS": " ".join(musl.cflags + ctx.attr.copts),
            "TC_LDFLAGS": " ".join(musl.ldflags),
            "TC_SYSROOT": musl.sysroot.path,
            "TC_LIBGCC": musl.libgcc.path if musl.libgcc else "",
        })
    else:
        env["TC_CFLAGS"] = " ".join(ctx.attr.copts)

    ctx.actions.run(
        executable = ctx.executable._build_sh,
        # musl.files has the gcc's files: the host packages it runs.
        inputs = depset(inputs, transitive = [musl.files if musl else gcc.files]),
        outputs = [staging, manifest] + binaries.values(),
        env = env,
        mnemonic = "PkgBuild",
        progress_message = "Building package %s for %s" % (ctx.label, gcc.triple),
    )
    fs = _rootfs_fragment(ctx, gcc, staging)
    return [
        DefaultInfo(files = depset([staging, manifest] + binaries.values())),
        PkgInfo(name = ctx.label.name, staging = staging, manifest = manifest, binaries = binaries, rootfs = fs),
        fs,
        OutputGroupInfo(binaries = depset(binaries.values()), rootfs = fs.files),
    ]

def _rootfs_fragment(ctx, gcc, staging):
    """Returns the FsInfo fragment of the package's files for a root filesystem.

    The files of the staging tree that are not excluded, ELF files stripped.
    """
    tree = ctx.actions.declare_directory(ctx.label.name + "/rootfs")
    frag = ctx.actions.declare_file(ctx.label.name + "/rootfs.json")
    args = ctx.actions.args()
    args.add("pkg")
    args.add("-origin", str(ctx.label))
    args.add("-staging", staging.path)
    args.add("-out", tree.path)
    args.add("-o", frag)
    args.add("-strip", gcc.prefix + "strip")
    args.add_all(ctx.attr.rootfs_exclude, before_each = "-exclude")
    args.add_all(["%s=%s" % (k, v) for k, v in sorted(ctx.attr.rootfs_links.items())], before_each = "-links")
    ctx.actions.run(
        executable = ctx.executable._rootfs,
        arguments = [args],
        # It runs the cross strip: the cross packages' versions are inputs.
        inputs = depset([staging], transitive = [gcc.cross_files]),
        outputs = [tree, frag],
        mnemonic = "RootfsPkg",
        progress_message = "Selecting and stripping the files of %s for a root filesystem" % ctx.label,
    )
    return FsInfo(manifest = frag, files = depset([tree]))

def _pkg_build_impl(ctx):
    return _package_impl(ctx, bootstrap = False)

def _musl_build_impl(ctx):
    return _package_impl(ctx, bootstrap = True)

_ATTRS = {
    "src": attr.label(allow_single_file = True, doc = "The source tarball (one top directory); none: the sources are in data."),
    "data": attr.label_list(allow_files = True, doc = "Other files the build reads: configs, patches. $(execpath) works in script."),
    "script": attr.string(doc = "Shell commands that configure, build and install the package into $staging, run in $build (out of tree; the source is in $src). Empty: autotools."),
    "configure_args": attr.string_list(doc = "Autotools: arguments of configure after --host and --build."),
    "make_args": attr.string_list(doc = "Autotools: arguments of both make calls."),
    "install_args": attr.string_list(doc = "Autotools: targets and arguments of the install make call (default: install)."),
    "deps": attr.label_list(
        providers = [PkgInfo],
        doc = "Packages built for the same platform whose staging trees (headers, static libraries) this build uses: all of them are copied into one tree, $deps, before the script runs (e.g. -I$deps/usr/include -L$deps/usr/lib). Nothing of them is linked or installed unless the script does it.",
    ),
    "copts": attr.string_list(doc = "More flags for every compile, after the toolchain's."),
    "binaries": attr.string_list(doc = "Install paths (e.g. usr/sbin/dropbear) to export as files of their own; the build fails when one is missing."),
    "source_date_epoch": attr.int(default = 1704067200, doc = "SOURCE_DATE_EPOCH of the build: the time a package may write into its outputs."),
    "rootfs_exclude": attr.string_list(
        default = ROOTFS_EXCLUDE,
        doc = "Staging paths left out of a root filesystem: DIR/** is a directory, a glob without / matches base names. The default leaves out headers, static libraries and documentation.",
    ),
    "rootfs_links": attr.string_dict(doc = "{LIST: TARGET}: each absolute path listed in the staging file LIST (one a line, e.g. busybox.links) becomes a symlink to TARGET in a root filesystem."),
    "_rootfs": attr.label(default = "//tools/rootfs", executable = True, cfg = "exec"),
    "_build_sh": attr.label(default = "//rules/pkg/private:build.sh", executable = True, cfg = "exec", allow_single_file = True),
}

pkg_build = rule(
    implementation = _pkg_build_impl,
    attrs = _ATTRS,
    toolchains = [MUSL_TOOLCHAIN_TYPE],
    # The toolchain's sysroot and libgcc are built for the target platform
    # (Bazel 4 configures toolchains in the host configuration otherwise).
    incompatible_use_toolchain_transition = True,
    doc = "Builds a Make or autotools package with the platform's musl toolchain (hardened, static-pie) into a staging tree.",
)

musl_build = rule(
    implementation = _musl_build_impl,
    attrs = _ATTRS,
    toolchains = [GCC_TOOLCHAIN_TYPE],
    incompatible_use_toolchain_transition = True,
    doc = "Builds a package with the bare cross gcc, no sysroot: for musl itself.",
)
