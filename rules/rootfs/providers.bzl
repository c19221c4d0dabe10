"""Providers of the root-filesystem rules, for other rule sets to load
without loading the rules (see defs.bzl)."""

load("//rules/rootfs/private:providers.bzl", _FsInfo = "FsInfo", _RootfsInfo = "RootfsInfo")

FsInfo = _FsInfo
RootfsInfo = _RootfsInfo
