"""flash_image and tftpboot_image: a device's flash image and RAM-boot directory."""

load("//rules/kernel:defs.bzl", "DeviceInfo", "KernelInfo")

def _hex(n):
    """n as 0x-prefixed hex, as the facts are written (Bazel 4's % has no x)."""
    if n < 0:
        fail("negative address or size %d" % n)
    s = ""
    for _ in range(16):
        s = "0123456789abcdef"[n % 16] + s
        n = n // 16
        if n == 0:
            break
    return "0x" + s

def _one_dtb(ctx, kernel_attr):
    dtbs = kernel_attr[KernelInfo].dtbs
    if len(dtbs) != 1:
        fail("%s: kernel %s has %d DTBs, want exactly one (the device's)" % (ctx.label, kernel_attr.label, len(dtbs)))
    return dtbs[0]

def _uimage_name(dev, what):
    # The uImage header holds 31 bytes of name.
    return ("bazwrt %s %s" % (dev.name, what))[:31]

def _flash_image_impl(ctx):
    dev = ctx.attr.device[DeviceInfo]
    dtb = _one_dtb(ctx, ctx.attr.kernel_build)
    name = ctx.label.name
    firmware = ctx.actions.declare_file(name + "/firmware.bin")
    report = ctx.actions.declare_file(name + "/size.txt")
    script = ctx.actions.declare_file(name + "/flash.scr")
    manifest = ctx.actions.declare_file(name + "/manifest.json")

    args = ctx.actions.args()
    args.add("flash")
    args.add("-kernel", ctx.file.kernel)
    args.add("-rootfs", ctx.file.rootfs)
    args.add("-erase-block", _hex(dev.erase_block))
    args.add("-partition-size", _hex(dev.flash_size))
    args.add("-kernel-size", _hex(dev.kernel_partition_size))
    args.add("-manifest", ctx.file.manifest)
    inputs = [ctx.file.kernel, ctx.file.rootfs, ctx.file.manifest]
    if dev.flash_base:
        if dev.flash_address < dev.flash_base:
            fail("%s: device %s: flash_base %s is above flash_address %s" % (ctx.label, dev.name, _hex(dev.flash_base), _hex(dev.flash_address)))
        args.add("-dtb", dtb)
        args.add("-flash-offset", _hex(dev.flash_address - dev.flash_base))
        inputs.append(dtb)
    args.add("-o", firmware)
    args.add("-report", report)
    ctx.actions.run(
        executable = ctx.executable._fwimage,
        arguments = [args],
        inputs = inputs,
        outputs = [firmware, report],
        mnemonic = "FlashImage",
        progress_message = "Writing flash image %s" % ctx.label,
    )

    sargs = ctx.actions.args()
    sargs.add("flash-script")
    sargs.add("-arch", dev.uimage_arch)
    sargs.add("-ram-start", _hex(dev.ram_start))
    sargs.add("-ram-size", _hex(dev.ram_size))
    sargs.add("-bootloader-reserve", _hex(dev.bootloader_reserve))
    sargs.add("-flash-address", _hex(dev.flash_address))
    sargs.add("-partition-size", _hex(dev.flash_size))
    sargs.add("-image", firmware)
    sargs.add("-file", firmware.basename)
    sargs.add("-name", _uimage_name(dev, "flash"))
    sargs.add("-o", script)
    ctx.actions.run(
        executable = ctx.executable._fwimage,
        arguments = [sargs],
        inputs = [firmware],
        outputs = [script],
        mnemonic = "FlashScript",
        progress_message = "Writing flash script %s" % ctx.label,
    )

    # A copy, not a symlink: a symlink to a source file points into the
    # workspace, and the outputs should stand on their own.
    ctx.actions.expand_template(template = ctx.file.manifest, output = manifest, substitutions = {})
    return [
        DefaultInfo(files = depset([firmware, script, report, manifest])),
        OutputGroupInfo(
            firmware = depset([firmware]),
            script = depset([script]),
            report = depset([report]),
            manifest = depset([manifest]),
        ),
    ]

flash_image = rule(
    implementation = _flash_image_impl,
    doc = """The image for a device's firmware partition, and how to write it.

Outputs, in the directory <name>/:

- firmware.bin: the kernel uImage padded with 0xff to the kernel partition
  (DeviceInfo.kernel_partition_size; 0: to the next erase block), then the
  squashfs, padded to the erase block. Fails when the uImage does not fit
  the kernel partition or the whole does not fit the firmware partition
  (DeviceInfo.flash_size), listing the sizes and, from the manifest, the ten
  largest packages and files.
- flash.scr: a U-Boot script image that downloads firmware.bin over TFTP,
  checks its size and CRC32 against the image's (stopping with a message,
  nothing erased, when either differs), erases the firmware partition
  (DeviceInfo.flash_address, flash_size), copies the image into it, reads
  it back and resets. At the U-Boot prompt: tftpboot ADDR flash.scr;
  source ADDR (see docs/images.md for ADDR).
- size.txt: the sizes, the free space and the largest packages and files.
- manifest.json: the root filesystem's manifest, for looking up sizes.

Output groups firmware, script, report and manifest select one each.

With flash_base, the partitions labelled "kernel" and "rootfs" of the
kernel's DTB must be where the image puts the uImage and the squashfs.""",
    attrs = {
        "device": attr.label(mandatory = True, providers = [DeviceInfo], doc = "The device_info: partition, erase block, RAM, U-Boot arch."),
        "kernel": attr.label(mandatory = True, allow_single_file = True, doc = "The kernel uImage (a kernel_uimage target)."),
        "kernel_build": attr.label(mandatory = True, providers = [KernelInfo], doc = "The kernel_build the uImage was made from: its one DTB is checked."),
        "rootfs": attr.label(mandatory = True, allow_single_file = True, doc = "The root filesystem, a squashfs file."),
        "manifest": attr.label(mandatory = True, allow_single_file = [".json"], doc = "The root filesystem's manifest (bazwrt/tools/fsspec, with size and origin)."),
        "_fwimage": attr.label(default = "//tools/fwimage", executable = True, cfg = "exec"),
    },
)

def _tftpboot_image_impl(ctx):
    dev = ctx.attr.device[DeviceInfo]
    k = ctx.attr.kernel[KernelInfo]

    # A kernel without a DTB boots with the board's (QEMU's virt gives
    # U-Boot one); otherwise the device's, patched.
    dtbs = [_one_dtb(ctx, ctx.attr.kernel)] if k.dtbs else []
    if not dev.load_address or not dev.entry_address:
        fail("%s: device %s has no load/entry address: it is not booted from a uImage" % (ctx.label, dev.name))
    out = ctx.actions.declare_directory(ctx.label.name)

    args = ctx.actions.args()
    args.add("tftpboot")
    args.add("-kernel-bin", k.image)
    args.add("-vmlinux", k.vmlinux)
    if dtbs:
        args.add("-dtb", dtbs[0])
    else:
        args.add("-board-fdt")
    args.add("-rootfs", ctx.file.rootfs)
    args.add("-arch", dev.uimage_arch)
    args.add("-load", _hex(dev.load_address))
    args.add("-entry", _hex(dev.entry_address))
    args.add("-ram-start", _hex(dev.ram_start))
    args.add("-ram-size", _hex(dev.ram_size))
    args.add("-bootloader-reserve", _hex(dev.bootloader_reserve))
    args.add("-erase-block", _hex(dev.erase_block))
    args.add("-console", dev.console)
    if dev.append_dtb:
        args.add("-append-dtb")
    args.add("-compression", dev.uimage_compression)
    args.add("-name", _uimage_name(dev, "ram"))
    args.add("-served-as", "bazel-bin/" + out.short_path)
    args.add("-o", out.path)
    ctx.actions.run(
        executable = ctx.executable._fwimage,
        arguments = [args],
        inputs = [k.image, k.vmlinux, ctx.file.rootfs] + dtbs,
        outputs = [out],
        mnemonic = "TftpbootImage",
        progress_message = "Writing RAM-boot directory %s" % ctx.label,
    )
    return [DefaultInfo(files = depset([out]))]

tftpboot_image = rule(
    implementation = _tftpboot_image_impl,
    doc = """A directory, named after the target, for booting a device from RAM over
TFTP, with nothing written to flash:

- uImage: lzma(KernelInfo.image), with the patched DTB appended when
  DeviceInfo.append_dtb; load and entry address from DeviceInfo.
- rootfs.squashfs: placed at the top of RAM (below the boot loader's
  megabyte), aligned to the erase block, mounted through phram.
- <dtb>: KernelInfo.dtbs[0] with /reserved-memory/phram-rootfs@ADDR (no-map)
  and /chosen/bootargs (console, phram, mtdparts, root=/dev/mtdblock0).
  A kernel without a DTB boots with the board's instead, the one U-Boot
  has (QEMU's virt machine), and mem= keeps it off the rootfs.
- boot.scr: the U-Boot script that sets bootargs, downloads uImage and the
  rootfs and boots.
- README.txt: the tftpd command, what to type at the U-Boot prompt and the
  memory map.

The kernel needs phram and command-line partitions (//kernel:features/mtd-phram.config).
See docs/images.md.""",
    attrs = {
        "device": attr.label(mandatory = True, providers = [DeviceInfo], doc = "The device_info: load/entry address, RAM, erase block, console."),
        "kernel": attr.label(mandatory = True, providers = [KernelInfo], doc = "The kernel_build: its boot image, vmlinux (for the memory it occupies) and its one DTB, if any."),
        "rootfs": attr.label(mandatory = True, allow_single_file = True, doc = "The root filesystem, a squashfs file."),
        "_fwimage": attr.label(default = "//tools/fwimage", executable = True, cfg = "exec"),
    },
)
