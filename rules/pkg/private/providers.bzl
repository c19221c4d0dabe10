"""Providers of the cross toolchains and of the package rules."""

GccInfo = provider(
    doc = "A cross gcc of the machine (Debian's gcc-12 cross packages) and how to call it for one platform.",
    fields = {
        "prefix": "string: the tools' path prefix, e.g. /usr/bin/mips-linux-gnu- (gcc, ar, strip, ... follow)",
        "triple": "string: the GNU triple packages are configured for (--host), e.g. mips-linux-musl",
        "arch_flags": "list of strings: flags that select the CPU and float ABI, given to every compile and link",
        "float_abi": "string: soft or hard; what checksec expects of every binary",
        "machine": "string: the ELF machine checksec expects: mips, arm or aarch64",
        "endian": "string: big or little",
        "cross_files": "depset of Files: the versions of the cross gcc's Debian packages (@host_packages), an input of every action that runs one of its tools",
        "files": "depset of Files: cross_files and the versions of the host's compiler and build tools, an input of every action that builds with the cross gcc (make, configure, kconfig)",
    },
)

MuslToolchainInfo = provider(
    doc = "A musl C toolchain: a cross gcc, a musl sysroot built by Bazel and the libgcc to link with.",
    fields = {
        "gcc": "GccInfo of the compiler",
        "sysroot": "File: directory with include/ and lib/ of musl (a tree artifact)",
        "libgcc": "File: the libgcc.a to link with (the soft-float one on soft-float targets)",
        "cflags": "list of strings: hardening and determinism flags for every compile",
        "ldflags": "list of strings: hardening flags for every link",
        "files": "depset of Files: everything an action that compiles needs as inputs (sysroot, libgcc and the gcc's files)",
    },
)

PkgInfo = provider(
    doc = "What a package rule installed: a staging tree and the list of its files.",
    fields = {
        "name": "string: the package name",
        "staging": "File: directory (tree artifact) laid out as the root filesystem (bin/, sbin/, lib/, include/, ...)",
        "manifest": "File: text file, one installed file a line: '<kind> <mode> <path>', kind is elf, file or link",
        "binaries": "dict: install path (e.g. bin/busybox) to File, the binaries named in the rule's binaries attribute",
        "rootfs": "FsInfo: the files of the package that go into a root filesystem (stripped; headers, static libraries and docs left out); the target also provides it",
    },
)
