"""kernel_uimage: a U-Boot legacy image of a kernel, for a device."""

load(":providers.bzl", "DeviceInfo", "KernelInfo")

def _kernel_uimage_impl(ctx):
    dev = ctx.attr.device[DeviceInfo]
    k = ctx.attr.kernel[KernelInfo]
    if not dev.load_address or not dev.entry_address:
        fail("%s: device %s has no load/entry address: it is not booted from a uImage" % (ctx.label, dev.name))
    out = ctx.actions.declare_file(ctx.label.name + ".bin")
    args = ctx.actions.args()
    args.add("-o", out)
    args.add("-arch", dev.uimage_arch)
    args.add("-load", str(dev.load_address))
    args.add("-entry", str(dev.entry_address))
    args.add("-comp", ctx.attr.compression)
    args.add("-name", ("bazwrt " + dev.name)[:31])
    inputs = [k.image]
    if dev.append_dtb:
        if len(k.dtbs) != 1:
            fail("%s: device %s appends a DTB, and kernel %s has %d DTBs (want exactly one)" % (ctx.label, dev.name, ctx.attr.kernel.label, len(k.dtbs)))
        args.add("-dtb", k.dtbs[0])
        inputs.append(k.dtbs[0])
    args.add(k.image)
    ctx.actions.run(
        executable = ctx.executable._uimage,
        arguments = [args],
        inputs = inputs,
        outputs = [out],
        mnemonic = "UImage",
        progress_message = "Writing uImage %s" % ctx.label,
    )
    return [DefaultInfo(files = depset([out]))]

kernel_uimage = rule(
    implementation = _kernel_uimage_impl,
    doc = """A U-Boot legacy uImage of a kernel_build's boot image, with the
device's load and entry address and architecture; the device's DTB is
appended before compression when the device says so (DeviceInfo.append_dtb,
ath79 with the stock U-Boot). Written by //tools/uimage, reproducibly.""",
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KernelInfo], doc = "The kernel_build."),
        "device": attr.label(mandatory = True, providers = [DeviceInfo], doc = "The device_info."),
        "compression": attr.string(default = "lzma", values = ["lzma", "none"], doc = "Payload compression."),
        "_uimage": attr.label(default = "//tools/uimage", executable = True, cfg = "exec"),
    },
)
