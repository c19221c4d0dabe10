"""Providers of the kernel rules and of device_info."""

DeviceInfo = provider(
    doc = """Facts of a device, stated once in devices/<name>/BUILD.bazel and read by
every rule that needs them (kernel, uImage, flash and tftpboot images).
Addresses and sizes are ints.""",
    fields = {
        "name": "The device's name (its package's last component), e.g. \"gl-ar750\".",
        "kernel_arch": "The kernel's ARCH, e.g. \"mips\".",
        "cross_compile": "The CROSS_COMPILE prefix of Debian's gcc cross compiler, e.g. \"mips-linux-gnu-\".",
        "platform": "Label of the target platform (//toolchains:...) that userland for the device is built for.",
        "uimage_arch": "The U-Boot image architecture name (mkimage -A), e.g. \"mips\".",
        "load_address": "Where the boot loader puts the kernel (int, 0 when the device has none, e.g. QEMU -kernel).",
        "entry_address": "The kernel's entry point (int, 0 when the device has none).",
        "flash_address": "Start of the flash window the firmware partition is in (int; phram address on qemu).",
        "flash_base": "Address of the start of the flash chip where U-Boot sees it; the DTB's partitions are offsets from it (int; 0 when the device has no flash chip).",
        "flash_size": "Size of the firmware partition: uImage + rootfs must fit (int).",
        "erase_block": "Flash erase block size (int).",
        "kernel_partition_size": "Size of the kernel partition at the start of the firmware partition, the rootfs partition following it (int; 0: the device has no fixed split, e.g. phram holds only the rootfs).",
        "ram_start": "Physical address where RAM starts (int).",
        "ram_size": "Size of RAM in bytes (int).",
        "uimage_compression": "The compression of the kernel in a RAM-boot uImage: \"lzma\" or \"none\".",
        "bootloader_reserve": "Bytes at the top of RAM that the boot loader uses, where U-Boot scripts must not download (int).",
        "console": "Kernel console argument, e.g. \"ttyS0,115200\".",
        "root_device": "The root filesystem's device, e.g. \"/dev/mtdblock5\".",
        "append_dtb": "Whether the DTB is appended to the kernel in the boot image (ath79 with the stock U-Boot).",
    },
)

KernelConfigInfo = provider(
    doc = "A resolved kernel .config and what produced it.",
    fields = {
        "config": "File: the resolved .config (after olddefconfig, checked against the fragments).",
        "fragments": "list of File: the fragments, in the order they were applied.",
        "base": "The make target the config started from, e.g. \"tinyconfig\".",
        "src": "File: the kernel source tarball.",
        "patches": "list of File: patches applied to the source, in order (kernel_build applies the same).",
        "kernel_arch": "The kernel's ARCH.",
        "cross_compile": "The CROSS_COMPILE prefix.",
        "firmware": "dict of str to File: firmware built into the kernel, by path under /lib/firmware (kernel_firmware; empty for none).",
    },
)

KernelInfo = provider(
    doc = """A built kernel. Later rules read this to make boot images (uImage, FIT),
to build out-of-tree modules (src + config + module_symvers, with the same
kernel_arch/cross_compile: `make modules_prepare` then `M=`), and to know which
modules are built in (modules_builtin).""",
    fields = {
        "image": "File: the boot image (vmlinux.bin, zImage or Image; vmlinux for boards booted as ELF).",
        "images": "dict of str to File: every boot image built, by its make target name.",
        "vmlinux": "File: the ELF vmlinux (symbols; what QEMU -kernel loads on Malta).",
        "config": "File: the .config the kernel was built with.",
        "dtbs": "list of File: device trees built for the device (in-tree and the device's own .dts).",
        "system_map": "File: System.map.",
        "module_symvers": "File: Module.symvers (for out-of-tree modules).",
        "modules_builtin": "File: modules.builtin (the modules compiled into the kernel, one path a line).",
        "release": "File: the kernel release string (`make kernelrelease`, e.g. \"6.1.176\"), one line.",
        "src": "File: the kernel source tarball.",
        "patches": "list of File: the patches applied to src (unpack.sh), for module builds.",
        "kernel_arch": "The kernel's ARCH.",
        "cross_compile": "The CROSS_COMPILE prefix.",
    },
)

KernelFirmwareInfo = provider(
    doc = """Firmware files built into a kernel (CONFIG_EXTRA_FIRMWARE): drivers
that are built in request their firmware at probe, before the root
filesystem is mounted, so /lib/firmware on the root would come too late.""",
    fields = {
        "files": "dict of str to File: each file by its path under /lib/firmware (the name request_firmware() asks for), e.g. \"ath10k/QCA9887/hw1.0/board.bin\".",
        "hint": "How the user gives the files (for error messages).",
        "label": "Label of the kernel_firmware target, for error messages.",
        "requires": "dict of str to list of str: what a driver needs (a description) to the paths of which at least one must be in files.",
        "source": "The label the files came from (the user's filegroup), for error messages.",
    },
)
