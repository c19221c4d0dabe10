"""Public API of the kernel rules.

Models: Kleaf's kernel_build and check_config, Monogon's linux_image. See
docs/kernel.md.

- device_info: a device's facts (DeviceInfo), read by kernel and image rules.
- kernel_config: tinyconfig (or a defconfig) + ordered fragments -> checked .config.
- kernel_build: vmlinux, boot images, DTBs (KernelInfo).
- kernel_menuconfig: `bazel run` helper to write a fragment.
- kernel_firmware: firmware files to build into a kernel (CONFIG_EXTRA_FIRMWARE), with what a driver requires.
- kernel_uimage: U-Boot legacy uImage (lzma, DTB appended when the device wants it).
- kernel_reuse: another image's kernel, checked to have what this image's services need.
- kernel: the three above for a device, named <name>_config, <name>, <name>_menuconfig.
"""

load("//rules/kernel/private:device.bzl", _device_info = "device_info")
load(
    "//rules/kernel/private:firmware.bzl",
    _firmware_path_error = "firmware_path_error",
    _kernel_firmware = "kernel_firmware",
)
load(
    "//rules/kernel/private:kernel.bzl",
    _kernel_build = "kernel_build",
    _kernel_config = "kernel_config",
    _kernel_menuconfig = "kernel_menuconfig",
    _kernel_reuse = "kernel_reuse",
)
load(
    "//rules/kernel/private:providers.bzl",
    _DeviceInfo = "DeviceInfo",
    _KernelConfigInfo = "KernelConfigInfo",
    _KernelFirmwareInfo = "KernelFirmwareInfo",
    _KernelInfo = "KernelInfo",
)
load("//rules/kernel/private:uimage.bzl", _kernel_uimage = "kernel_uimage")

DeviceInfo = _DeviceInfo
KernelConfigInfo = _KernelConfigInfo
KernelFirmwareInfo = _KernelFirmwareInfo
KernelInfo = _KernelInfo
device_info = _device_info
kernel_config = _kernel_config
kernel_firmware = _kernel_firmware
firmware_path_error = _firmware_path_error
kernel_build = _kernel_build
kernel_menuconfig = _kernel_menuconfig
kernel_reuse = _kernel_reuse
kernel_uimage = _kernel_uimage

def kernel(
        name,
        device,
        fragments,
        patches = [],
        base = "tinyconfig",
        images = [],
        intree_dtbs = [],
        dts = [],
        dts_srcs = [],
        services = [],
        platform = None,
        firmware = [],
        **kwargs):
    """A device's kernel: <name>_config, <name> and <name>_menuconfig.

    Args:
      name: name of the kernel_build target; the others are derived from it.
      device: the device_info target (ARCH, cross compiler).
      fragments: config fragments, in the order they are applied.
      patches: patches to the kernel source, applied in order before config and build.
      base: make target the config starts from.
      images: boot images (make targets under arch/$ARCH/boot); the first is the default output.
      intree_dtbs: DTBs of the kernel tree to build.
      dts: the device's own .dts files.
      dts_srcs: what the .dts files include.
      services: service_db targets whose kernel fragments are added.
      platform: the device's platform (with services).
      firmware: kernel_firmware targets to build into the kernel.
      **kwargs: common attributes (visibility, tags) for all three targets.
    """
    _kernel_config(
        name = name + "_config",
        device = device,
        base = base,
        fragments = fragments,
        patches = patches,
        services = services,
        platform = platform,
        firmware = firmware,
        **kwargs
    )
    _kernel_build(
        name = name,
        config = name + "_config",
        images = images,
        intree_dtbs = intree_dtbs,
        dts = dts,
        dts_srcs = dts_srcs,
        **kwargs
    )
    _kernel_menuconfig(
        name = name + "_menuconfig",
        config = name + "_config",
        **kwargs
    )
