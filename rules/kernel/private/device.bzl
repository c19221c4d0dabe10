"""device_info: a device's facts, stated once."""

load(":providers.bzl", "DeviceInfo")

def _device_info_impl(ctx):
    name = ctx.attr.device_name or ctx.label.package.split("/")[-1]
    info = DeviceInfo(
        name = name,
        kernel_arch = ctx.attr.kernel_arch,
        cross_compile = ctx.attr.cross_compile,
        platform = ctx.attr.platform.label,
        uimage_arch = ctx.attr.uimage_arch or ctx.attr.kernel_arch,
        load_address = int(ctx.attr.load_address, 16) if ctx.attr.load_address else 0,
        entry_address = int(ctx.attr.entry_address, 16) if ctx.attr.entry_address else 0,
        flash_address = int(ctx.attr.flash_address, 16),
        flash_base = int(ctx.attr.flash_base, 16) if ctx.attr.flash_base else 0,
        flash_size = int(ctx.attr.flash_size, 16),
        erase_block = int(ctx.attr.erase_block, 16),
        kernel_partition_size = int(ctx.attr.kernel_partition_size, 16) if ctx.attr.kernel_partition_size else 0,
        ram_start = int(ctx.attr.ram_start, 16),
        ram_size = int(ctx.attr.ram_size, 16),
        bootloader_reserve = int(ctx.attr.bootloader_reserve, 16),
        uimage_compression = ctx.attr.uimage_compression,
        console = ctx.attr.console,
        root_device = ctx.attr.root_device,
        append_dtb = ctx.attr.append_dtb,
    )

    # The same facts as JSON, for tools and tests that are not Starlark.
    facts = ctx.actions.declare_file(ctx.label.name + ".json")
    d = {f: getattr(info, f) for f in dir(info) if f not in ("to_json", "to_proto")}
    d["platform"] = str(info.platform)
    ctx.actions.write(facts, json.encode_indent(d) + "\n")
    return [info, DefaultInfo(files = depset([facts]))]

def _hex(name):
    return attr.string(doc = name + ", as hex (\"0x80060000\")")

device_info = rule(
    implementation = _device_info_impl,
    doc = """The facts of one device (arch, cross compiler, platform, load and
entry address, flash window, console, root device), provided as DeviceInfo
for the kernel, uImage and image rules, and as <name>.json (the default
output) for tools and tests. Addresses are written in hex, as in data sheets,
and provided as ints.""",
    attrs = {
        "device_name": attr.string(doc = "Name of the device; default: the package's last component."),
        "kernel_arch": attr.string(mandatory = True, doc = "The kernel's ARCH (mips, arm, arm64)."),
        "cross_compile": attr.string(mandatory = True, doc = "Prefix of Debian's gcc cross compiler, e.g. mips-linux-gnu-."),
        "platform": attr.label(mandatory = True, doc = "The target platform for the device's userland (//toolchains:...)."),
        "uimage_arch": attr.string(doc = "U-Boot image architecture; default: kernel_arch."),
        "load_address": _hex("Kernel load address (empty: none, e.g. QEMU loads the ELF)"),
        "entry_address": _hex("Kernel entry point (empty: none)"),
        "flash_address": attr.string(mandatory = True, doc = "Start of the firmware partition in the flash window (or phram), hex."),
        "flash_base": _hex("Address of the start of the flash chip where U-Boot sees it (0x9f000000 on ath79); the DTB's partitions are offsets from it (empty: no flash chip, e.g. phram)"),
        "flash_size": attr.string(mandatory = True, doc = "Size of the firmware partition, hex."),
        "erase_block": attr.string(mandatory = True, doc = "Flash erase block size, hex."),
        "kernel_partition_size": _hex("Size of the kernel partition at the start of the firmware partition; the rootfs partition follows it (empty: no fixed split)"),
        "ram_start": attr.string(default = "0x0", doc = "Physical address of the start of RAM, hex."),
        "ram_size": attr.string(mandatory = True, doc = "Size of RAM, hex."),
        "uimage_compression": attr.string(default = "lzma", values = ["lzma", "none"], doc = "Compression of the kernel in the RAM-boot uImage: lzma, or none (a zImage decompresses itself, and some U-Boots cannot unpack lzma)."),
        "bootloader_reserve": attr.string(default = "0x100000", doc = "Bytes at the top of RAM that U-Boot keeps for itself (its code, malloc area, stack; `bdinfo` shows them), hex: RAM-boot and flash scripts download below it."),
        "console": attr.string(mandatory = True, doc = "Kernel console= argument."),
        "root_device": attr.string(mandatory = True, doc = "The root filesystem's block device."),
        "append_dtb": attr.bool(doc = "Append the DTB to the kernel in the boot image (ath79 with the stock U-Boot)."),
    },
)
