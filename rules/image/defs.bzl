"""Public API of the image rules: what goes onto a device's flash or into its RAM.

    load("//rules/image:defs.bzl", "flash_image", "tftpboot_image")

- flash_image: firmware.bin (uImage + squashfs for the firmware partition),
  flash.scr (the U-Boot script that writes it), a size report and the
  root filesystem's manifest.
- tftpboot_image: a directory to serve over TFTP for a RAM-only boot (kernel,
  squashfs in phram, patched DTB, boot.scr, README.txt).

Every address comes from the device's facts (DeviceInfo of
//rules/kernel:defs.bzl); the images are written by //tools/fwimage. See
docs/images.md.
"""

load(
    "//rules/image/private:image.bzl",
    _flash_image = "flash_image",
    _tftpboot_image = "tftpboot_image",
)

flash_image = _flash_image
tftpboot_image = _tftpboot_image
