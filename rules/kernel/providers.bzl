"""Providers of the kernel rules and device_info, for other rule sets to
load without loading the rules (see defs.bzl)."""

load(
    "//rules/kernel/private:providers.bzl",
    _DeviceInfo = "DeviceInfo",
    _KernelConfigInfo = "KernelConfigInfo",
    _KernelInfo = "KernelInfo",
)

DeviceInfo = _DeviceInfo
KernelConfigInfo = _KernelConfigInfo
KernelInfo = _KernelInfo
