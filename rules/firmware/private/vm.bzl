"""vm_image: a kernel and root filesystem with a script that boots them in QEMU."""

load("//rules/kernel:providers.bzl", "DeviceInfo", "KernelInfo")
load("//rules/rootfs:providers.bzl", "RootfsInfo")
load("//rules/service:defs.bzl", "shell_quote")

# run-vm's --arch for a kernel ARCH.
_VM_ARCH = {"mips": "mips", "arm": "arm", "arm64": "aarch64"}

def _vm_image_impl(ctx):
    dev = ctx.attr.device[DeviceInfo]
    k = ctx.attr.kernel[KernelInfo]
    root = ctx.attr.rootfs[RootfsInfo]
    arch = _VM_ARCH.get(dev.kernel_arch)
    if not arch:
        fail("attribute device: %s has ARCH %s, which run-vm cannot boot (want one of %s)" % (dev.name, dev.kernel_arch, ", ".join(_VM_ARCH.keys())))

    # QEMU's Malta loads the ELF vmlinux; virt boots the zImage or Image.
    kernel = k.vmlinux if arch == "mips" else k.image
    run_vm = ctx.executable._run_vm
    script = ctx.actions.declare_file(ctx.label.name + ".run")
    ctx.actions.write(script, """#!/bin/sh
# Boots {label} in QEMU with the console on this terminal (^A x quits).
# bazel run {label} [-- run-vm flags, e.g. --background DIR]
set -eu
r=${{RUNFILES_DIR:-$0.runfiles}}
r=$(cd "$r/{ws}" && pwd)
exec "$r/{run_vm}" --arch {arch}{args} "$@" "$r/{kernel}" "$r/{rootfs}"
""".format(
        label = ctx.label,
        ws = ctx.workspace_name,
        run_vm = run_vm.short_path,
        arch = arch,
        args = "".join([" " + shell_quote(a) for a in ctx.attr.run_vm_args]),
        kernel = kernel.short_path,
        rootfs = root.image.short_path,
    ), is_executable = True)
    runfiles = ctx.runfiles(files = [run_vm, kernel, root.image])
    runfiles = runfiles.merge(ctx.attr._run_vm[DefaultInfo].default_runfiles)
    return [
        DefaultInfo(executable = script, files = depset([script, kernel, root.image]), runfiles = runfiles),
        OutputGroupInfo(kernel = depset([kernel]), rootfs = depset([root.image])),
    ]

vm_image = rule(
    implementation = _vm_image_impl,
    doc = """A QEMU device's image: the kernel, the squashfs root filesystem and a
script that boots them with //tools:run-vm (bazel run it; extra arguments go
to run-vm). Output groups kernel and rootfs name the two files.""",
    attrs = {
        "device": attr.label(mandatory = True, providers = [DeviceInfo]),
        "kernel": attr.label(mandatory = True, providers = [KernelInfo]),
        "rootfs": attr.label(mandatory = True, providers = [RootfsInfo]),
        "run_vm_args": attr.string_list(doc = "run-vm flags the script always passes, before the caller's, e.g. the networks and MACs of an upstream VM."),
        "_run_vm": attr.label(default = "//tools/run-vm", executable = True, cfg = "target"),
    },
    executable = True,
)
