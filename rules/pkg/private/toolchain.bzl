"""The cross toolchain rules: a cross gcc, the soft-float libgcc, musl toolchains."""

load(":providers.bzl", "GccInfo", "MuslToolchainInfo", "PkgInfo")

def _cross_gcc_impl(ctx):
    gcc = GccInfo(
        prefix = ctx.attr.prefix,
        triple = ctx.attr.triple,
        arch_flags = ctx.attr.arch_flags,
        float_abi = ctx.attr.float_abi,
        machine = ctx.attr.machine,
        endian = ctx.attr.endian,
        cross_files = depset(ctx.files.packages),
        files = depset(ctx.files.packages + ctx.files.host_packages),
    )
    return [gcc, platform_common.ToolchainInfo(gcc = gcc)]

cross_gcc = rule(
    implementation = _cross_gcc_impl,
    doc = "A cross gcc of the machine for one platform; a toolchain of //toolchains:gcc_toolchain_type.",
    attrs = {
        "prefix": attr.string(mandatory = True, doc = "Path prefix of the tools, e.g. /usr/bin/mips-linux-gnu-."),
        "triple": attr.string(mandatory = True, doc = "GNU triple of the target with musl, e.g. mips-linux-musl."),
        "arch_flags": attr.string_list(doc = "Flags that select the CPU and the float ABI."),
        "float_abi": attr.string(mandatory = True, values = ["soft", "hard"]),
        "machine": attr.string(mandatory = True, values = ["mips", "arm", "aarch64"]),
        "endian": attr.string(mandatory = True, values = ["big", "little"]),
        "packages": attr.label_list(
            mandatory = True,
            allow_files = True,
            doc = "The versions of the cross gcc's Debian packages (@host_packages//:cross-<triple>.txt): actions that run its tools take them as inputs, so a new version rebuilds what it built.",
        ),
        "host_packages": attr.label_list(
            allow_files = True,
            default = ["@host_packages//:host_cc.txt", "@host_packages//:host_tools.txt"],
            doc = "The versions of the host compiler and build tools that builds with this gcc run (make, kconfig's gcc, flex, bison, ...).",
        ),
    },
)

def _soft_libgcc_impl(ctx):
    gcc = ctx.attr.gcc[GccInfo]
    out = ctx.actions.declare_file(ctx.label.name + "/libgcc.a")
    ctx.actions.run(
        executable = ctx.executable._script,
        arguments = [
            gcc.prefix,
            " ".join(gcc.arch_flags),
            ctx.attr.gcc_source,
            ctx.attr.gcc_source_sha256,
            ctx.executable._checksec.path,
            out.path,
        ],
        inputs = depset([ctx.file._gcc_source_package], transitive = [gcc.files]),
        tools = [ctx.executable._checksec],
        outputs = [out],
        mnemonic = "SoftLibgcc",
        progress_message = "Building soft-float libgcc for %s" % gcc.triple,
    )
    return [DefaultInfo(files = depset([out]))]

soft_libgcc = rule(
    implementation = _soft_libgcc_impl,
    doc = """A soft-float libgcc.a: Debian's libgcc.a without its FPU-using members,
plus libgcc/soft-fp of gcc-12-source built soft-float. Debian's mips libgcc.a
is hard-float: soft-float code links against it and computes wrong results.""",
    attrs = {
        "gcc": attr.label(mandatory = True, providers = [GccInfo]),
        "gcc_source": attr.string(
            default = "/usr/src/gcc-12/gcc-12.2.0-dfsg.tar.xz",
            doc = "The gcc source tarball of Debian's gcc-12-source package (installed by ./bazelw).",
        ),
        "gcc_source_sha256": attr.string(
            default = "50c63ff82919323c25fbbb4a9eae259edc974118a0fb30c905190cb782ec11c2",
            doc = "Its sha256 (gcc-12-source 12.2.0-14+deb12u1): the build fails on any other.",
        ),
        "_gcc_source_package": attr.label(
            default = "@host_packages//:gcc_source.txt",
            allow_single_file = True,
            doc = "The version of gcc-12-source, an input: a new one rebuilds libgcc.",
        ),
        "_script": attr.label(default = "//rules/pkg/private:soft_libgcc.sh", executable = True, cfg = "exec", allow_single_file = True),
        "_checksec": attr.label(default = "//tools/checksec", executable = True, cfg = "exec"),
    },
)

# Hardening of every target binary (docs/toolchains.md). musl has no fortify
# headers: _FORTIFY_SOURCE is defined for the day it gets some, and checksec
# reports the fortified calls it finds (none, today).
HARDENING_CFLAGS = [
    "-O2",
    "-fPIE",
    "-fstack-protector-strong",
    "-D_FORTIFY_SOURCE=2",
]

HARDENING_LDFLAGS = [
    "-static-pie",
    "-Wl,-z,relro",
    "-Wl,-z,now",
    "-Wl,-z,noexecstack",
]

def _musl_toolchain_impl(ctx):
    gcc = ctx.attr.gcc[GccInfo]
    sysroot = ctx.attr.sysroot[PkgInfo].staging
    libgcc = ctx.file.libgcc
    musl = MuslToolchainInfo(
        gcc = gcc,
        sysroot = sysroot,
        libgcc = libgcc,
        cflags = HARDENING_CFLAGS + ctx.attr.cflags,
        ldflags = HARDENING_LDFLAGS + ctx.attr.ldflags,
        files = depset([sysroot] + ([libgcc] if libgcc else []), transitive = [gcc.files]),
    )
    return [musl, platform_common.ToolchainInfo(musl = musl)]

musl_toolchain = rule(
    implementation = _musl_toolchain_impl,
    doc = "A musl C toolchain; a toolchain of //toolchains:musl_toolchain_type.",
    attrs = {
        "gcc": attr.label(mandatory = True, providers = [GccInfo]),
        "sysroot": attr.label(mandatory = True, providers = [PkgInfo], doc = "The musl package (//userland/musl), built for the same platform."),
        "libgcc": attr.label(allow_single_file = True, doc = "The libgcc.a to link with; default: the cross gcc's own."),
        "cflags": attr.string_list(doc = "More flags for every compile."),
        "ldflags": attr.string_list(doc = "More flags for every link."),
    },
)

def _unsupported_toolchain_impl(_ctx):
    return [platform_common.ToolchainInfo(gcc = None, musl = None)]

unsupported_toolchain = rule(
    implementation = _unsupported_toolchain_impl,
    doc = "The toolchain of platforms without musl: rules that get it fail (see toolchains/unsupported).",
)
