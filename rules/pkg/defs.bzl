"""Public API of the package rules: build C packages with the musl toolchains.

    load("//rules/pkg:defs.bzl", "pkg_build")

    pkg_build(
        name = "dropbear",
        src = "@debian_sources//:dropbear",
        configure_args = ["--prefix=/usr"],
        binaries = ["usr/sbin/dropbear"],
    )

See docs/toolchains.md for the toolchains, the providers and the hardening.
"""

load("//rules/pkg/private:package.bzl", _ROOTFS_EXCLUDE = "ROOTFS_EXCLUDE", _musl_build = "musl_build", _pkg_build = "pkg_build")
load("//rules/pkg/private:platform.bzl", _platform_files = "platform_files")
load(
    "//rules/pkg/private:providers.bzl",
    _GccInfo = "GccInfo",
    _MuslToolchainInfo = "MuslToolchainInfo",
    _PkgInfo = "PkgInfo",
)
load(
    "//rules/pkg/private:toolchain.bzl",
    _cross_gcc = "cross_gcc",
    _musl_toolchain = "musl_toolchain",
    _soft_libgcc = "soft_libgcc",
    _unsupported_toolchain = "unsupported_toolchain",
)

GccInfo = _GccInfo
MuslToolchainInfo = _MuslToolchainInfo
PkgInfo = _PkgInfo
cross_gcc = _cross_gcc
musl_toolchain = _musl_toolchain
soft_libgcc = _soft_libgcc
unsupported_toolchain = _unsupported_toolchain
platform_files = _platform_files

# pkg_build's default rootfs_exclude, for a package that leaves out more.
ROOTFS_EXCLUDE = _ROOTFS_EXCLUDE

# Only the device platforms have musl: package targets are skipped on others
# (the host, in `bazel build //...`).
MUSL = ["//toolchains:musl"]

def pkg_build(name, target_compatible_with = MUSL, **kwargs):
    """Builds a Make or autotools package with the platform's musl toolchain.

    One action unpacks src, builds out of tree with the hardened musl
    toolchain and installs into a staging tree; the target gives PkgInfo.

    Args:
      name: the package name.
      target_compatible_with: defaults to the musl platforms.
      **kwargs: attributes of the rule (src, script, configure_args, ...).
    """
    _pkg_build(name = name, target_compatible_with = target_compatible_with, **kwargs)

def musl_build(name, target_compatible_with = MUSL, **kwargs):
    """Builds a package with the bare cross gcc: musl itself.

    Args:
      name: the package name.
      target_compatible_with: defaults to the musl platforms.
      **kwargs: attributes of the rule, as for pkg_build.
    """
    _musl_build(name = name, target_compatible_with = target_compatible_with, **kwargs)
