"""Public API of the root-filesystem rules (model: Monogon's fsspec).

    load("//rules/rootfs:defs.bzl", "rootfs", "rootfs_files", "system_files")

A root filesystem is made of fragments (FsInfo): JSON lists of entries
(bazwrt/tools/fsspec) and the files they name. Packages built with pkg_build
give one (stripped, without headers and docs), rootfs_files and
system_files write one from attributes, service_db gives the database.
rootfs merges them for the device's platform, fails naming both origins when
two disagree about a path, and writes the squashfs image, the manifest (every
path with its size and origin) and a size report. See docs/rootfs.md.
"""

load(
    "//rules/rootfs/private:files.bzl",
    _entry = "entry",
    _hostname_error = "hostname_error",
    _rootfs_files = "rootfs_files",
    _system_files = "system_files",
    _write_fragment = "write_fragment",
)
load("//rules/rootfs/private:providers.bzl", _FsInfo = "FsInfo", _RootfsInfo = "RootfsInfo")
load("//rules/rootfs/private:rootfs.bzl", _rootfs = "rootfs")

FsInfo = _FsInfo
RootfsInfo = _RootfsInfo
rootfs = _rootfs
rootfs_files = _rootfs_files
system_files = _system_files
hostname_error = _hostname_error

# For rules that put files of their own into the root filesystem (service
# templates' configuration): one fsspec entry, and the FsInfo of a list.
fs_entry = _entry
write_fs_fragment = _write_fragment
