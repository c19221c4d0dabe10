"""firmware: a whole system for a device, from its facts and a configuration.

    load("//rules/firmware:defs.bzl", "firmware")

    firmware(
        name = "image",
        device = ":device",
        platform = PLATFORM,
        hostname = "qemu",
        kernel_fragments = [...],
        services = ["//userland/busybox:ntpd"],
    )

makes, in the device's package:

| target | what |
| --- | --- |
| `kernel` (+ `kernel_config`, `kernel_menuconfig`) | the kernel: the device's fragments, then those the services ask for |
| `services` | the service database: the base services and `services`, with everything they depend on |
| `etc` | /etc from the attributes (hostname, hosts, users, groups) |
| `rootfs` | squashfs: init, busybox, `packages`, what the services need, /etc, the database |
| `manifest`, `size_report` | the root filesystem's manifest (JSON) and size report |
| `<name>` | the device's output: for a QEMU device the image with its run script (`vm` runs it); with `output = "none"` the kernel and the root filesystem |

The other names are fixed, so a package has one firmware() and `name` must
not be one of them.

See docs/rootfs.md.
"""

load("//rules/firmware/private:vm.bzl", _vm_image = "vm_image")
load("//rules/kernel:defs.bzl", _kernel = "kernel", _kernel_reuse = "kernel_reuse")
load("//rules/rootfs:defs.bzl", "rootfs", "system_files")
load("//rules/service:defs.bzl", "service_db")

vm_image = _vm_image

# What every image has: init and its service manager, busybox, and the base
# services (loopback, hostname, mounts, syslogd + klogd).
BASE_FRAGMENTS = [
    "//userland/init:rootfs",
    "//userland/busybox",
]

BASE_SERVICES = ["//userland/init:base"]

# The targets firmware() makes besides name (the kernel rule adds
# kernel_config and kernel_menuconfig).
_FIXED_NAMES = [
    "kernel",
    "kernel_config",
    "kernel_menuconfig",
    "services",
    "etc",
    "rootfs",
    "manifest",
    "size_report",
    "vm",
]

def firmware(
        name,
        device,
        platform,
        hostname,
        kernel_fragments,
        kernel_patches = [],
        kernel_firmware = [],
        kernel_images = [],
        dts = [],
        dts_srcs = [],
        services = [],
        controlled_services = [],
        packages = [],
        users = None,
        groups = None,
        hosts = {},
        output = "vm",
        kernel = None,
        run_vm_args = [],
        visibility = None):
    """A device's system: kernel, services, rootfs, manifest and the default output.

    Args:
      name: the default output's name (usually "image"): for output "vm"
        the image with its run script, for "none" a filegroup of the kernel
        and the root filesystem. The other targets have fixed names
        (kernel, services, etc, rootfs, manifest, size_report, vm).
      device: the device_info target.
      platform: the device's platform (the one device_info names; checked).
      hostname: the host name (/etc/hostname, /etc/hosts).
      kernel_fragments: the device's kernel config fragments, in order.
      kernel_patches: patches to the kernel source, in order (e.g. //kernel/patches/ath79).
      kernel_firmware: kernel_firmware targets whose files are built into
        the kernel (drivers built in load firmware before the root is
        mounted).
      kernel_images: boot images to build (vmlinux.bin, zImage, Image).
      dts: the device's own .dts files.
      dts_srcs: what they include.
      services: services brought up at boot, besides the base services.
      controlled_services: services in the database that start on demand.
      packages: more packages or fragments (FsInfo) for the root filesystem.
      users: {name: "UID:GID:HOME:SHELL"} (default: root and nobody).
      groups: {name: "GID[:members]"} (default: root and nogroup).
      hosts: {IP: [names]} for /etc/hosts.
      output: "vm" for QEMU devices (name boots with bazel run, alias vm);
        "none" when the device's package defines its own outputs.
      kernel: another image's kernel target to boot instead of building one
        (tests of other configurations of a device: a kernel build is the
        slowest action there is). Its configuration must already have what
        these services need: the build fails naming each option it lacks.
        kernel_fragments, kernel_patches and kernel_firmware are ignored.
      run_vm_args: for output "vm": run-vm flags its script always
        passes (e.g. --lan-network world for an upstream VM).
      visibility: of every target.
    """
    if name in _FIXED_NAMES:
        fail("firmware %s: name %r is one of the targets firmware() makes (%s): use another, e.g. \"image\"" % (
            name,
            name,
            ", ".join(_FIXED_NAMES),
        ))
    service_db(
        name = "services",
        services = BASE_SERVICES + services,
        controlled = controlled_services,
        visibility = visibility,
    )
    if kernel:
        _kernel_reuse(
            name = "kernel",
            kernel = kernel,
            services = [":services"],
            platform = platform,
            visibility = visibility,
        )
    else:
        _kernel(
            name = "kernel",
            device = device,
            fragments = kernel_fragments,
            patches = kernel_patches,
            firmware = kernel_firmware,
            images = kernel_images,
            dts = dts,
            dts_srcs = dts_srcs,
            services = [":services"],
            platform = platform,
            visibility = visibility,
        )
    etc = {"hostname": hostname, "hosts": hosts}
    if users != None:
        etc["users"] = users
    if groups != None:
        etc["groups"] = groups
    system_files(
        name = "etc",
        visibility = visibility,
        **etc
    )
    rootfs(
        name = "rootfs",
        device = device,
        platform = platform,
        fragments = BASE_FRAGMENTS + packages + [":etc"],
        services = [":services"],
        visibility = visibility,
    )
    native.filegroup(
        name = "manifest",
        srcs = [":rootfs"],
        output_group = "manifest",
        visibility = visibility,
    )
    native.filegroup(
        name = "size_report",
        srcs = [":rootfs"],
        output_group = "report",
        visibility = visibility,
    )
    if output == "vm":
        vm_image(
            name = name,
            device = device,
            kernel = ":kernel",
            rootfs = ":rootfs",
            run_vm_args = run_vm_args,
            visibility = visibility,
        )
        native.alias(
            name = "vm",
            actual = name,
            visibility = visibility,
        )
    elif output == "none":
        # The device's package defines its outputs (flash_image, ...);
        # name builds what they are made from.
        native.filegroup(
            name = name,
            srcs = [
                ":kernel",
                ":rootfs",
            ],
            visibility = visibility,
        )
    else:
        fail("firmware %s: output %r: want \"vm\" or \"none\"" % (name, output))
