"""The router of the PPPoE tests: the gateway profile over a WAN service."""

load("//rules/firmware:defs.bzl", "firmware")
load("//userland/profiles:gateway.bzl", "gateway")

def pppoe_router(name, wan, wan6 = None, extra_services = [], rootfs_visibility = None):
    """The gateway (LAN on eth1) over `wan`, its image on the qemu device's kernel, and its root filesystem.

    Args:
      name: the filegroup of the image's root filesystem (vm_rootfs).
      wan: the WAN service (a pppoe, or a round_robin over one).
      wan6: the gateway's IPv6 from the ISP (a dhcp6_client), if any.
      extra_services: more services for the gateway's bundle.
      rootfs_visibility: of that filegroup (the test's package).
    """
    gateway(
        name = "gateway",
        lan_interfaces = ["eth1"],
        wan = wan,
        wan6 = wan6,
        extra_services = extra_services,
    )

    # The qemu device's kernel has PPP (checked: kernel_reuse).
    firmware(
        name = "image",
        device = "//devices/qemu:device",
        hostname = "router",
        kernel = "//devices/qemu:kernel",
        kernel_fragments = [],
        platform = "//toolchains:mips_24kc",
        services = [":gateway"],
    )
    native.filegroup(
        name = name,
        srcs = [":image"],
        output_group = "rootfs",
        visibility = rootfs_visibility,
    )
