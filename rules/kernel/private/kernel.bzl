"""kernel_config, kernel_build and kernel_menuconfig."""

load("//rules/pkg:transition.bzl", "check_platform", "platform_transition")
load("//rules/service:providers.bzl", "ServiceDbInfo")
load(":firmware.bzl", "check_firmware")
load(":providers.bzl", "DeviceInfo", "KernelConfigInfo", "KernelFirmwareInfo", "KernelInfo")

_ACTION_ENV = {"PATH": "/bin:/usr/bin:/usr/local/bin"}

# Where kernel_build_firmware.sh puts kernel_firmware's files, relative to
# the source tree (as CONFIG_EXTRA_FIRMWARE_DIR without a leading / is):
# kernel_build.sh unpacks the tree into a new directory in $TMPDIR, and the
# wrapper sets TMPDIR to a directory that also holds "firmware".
_FIRMWARE_DIR = "../firmware"

# The versions of the host's Debian packages the kernel actions run
# (toolchains/host_packages.bzl): the cross gcc of each CROSS_COMPILE, and
# the host compiler and tools (make, flex, bison, bc, ...). They are inputs,
# so a new compiler rebuilds the kernels it builds, and only those.
_HOST_PACKAGE_ATTRS = {
    "_cross_packages": attr.label_list(
        default = [
            "@host_packages//:cross-mips-linux-gnu.txt",
            "@host_packages//:cross-mipsel-linux-gnu.txt",
            "@host_packages//:cross-arm-linux-gnueabihf.txt",
            "@host_packages//:cross-aarch64-linux-gnu.txt",
        ],
        allow_files = True,
    ),
    "_host_packages": attr.label_list(
        default = ["@host_packages//:host_cc.txt", "@host_packages//:host_tools.txt"],
        allow_files = True,
    ),
}

def _cross_packages(ctx, cross_compile):
    """Returns the package versions file of the cross gcc CROSS_COMPILE names, in a list."""
    want = "cross-%s.txt" % cross_compile.rstrip("-")
    for f in ctx.files._cross_packages:
        if f.basename == want:
            return [f]
    fail("%s: no cross gcc %sgcc in toolchains/host_packages.bzl (known: %s)" % (
        ctx.label,
        cross_compile,
        ", ".join([f.basename for f in ctx.files._cross_packages]),
    ))

def _host_packages(ctx, cross_compile):
    """The package versions files of the cross gcc and the host tools."""
    return _cross_packages(ctx, cross_compile) + ctx.files._host_packages

def _kernel_config_impl(ctx):
    dev = ctx.attr.device[DeviceInfo]
    src = ctx.file.src

    # The fragments the image's services need come after the device's own:
    # a device fragment cannot silently switch off what a service needs
    # (the check fails instead).
    fragments = list(ctx.files.fragments)
    if ctx.attr.services:
        check_platform(ctx.attr.platform, dev.platform, dev.name)
        for t in ctx.attr.services:
            for f in t[ServiceDbInfo].kernel_fragments.to_list():
                if f not in fragments:
                    fragments.append(f)

    # Firmware built in: a fragment of our own, last, so that the check
    # also guards the list.
    firmware = {}
    owners = {}
    for t in ctx.attr.firmware:
        fw = t[KernelFirmwareInfo]
        check_firmware(ctx.label, "firmware", fw)
        for path, f in fw.files.items():
            if path in firmware and firmware[path] != f:
                fail("%s: firmware: two files for /lib/firmware/%s: %s (from %s) and %s (from %s)" % (
                    ctx.label,
                    path,
                    firmware[path].path,
                    owners[path],
                    f.path,
                    fw.label,
                ))
            firmware[path] = f
            owners[path] = fw.label
    if firmware:
        fragment = ctx.actions.declare_file(ctx.label.name + "/firmware.config")
        ctx.actions.write(fragment, "\n".join([
            "# Firmware built into the kernel, from %s." % ", ".join([str(t.label) for t in ctx.attr.firmware]),
            "CONFIG_FW_LOADER=y",
            'CONFIG_EXTRA_FIRMWARE="%s"' % " ".join(sorted(firmware.keys())),
            'CONFIG_EXTRA_FIRMWARE_DIR="%s"' % _FIRMWARE_DIR,
            "",
        ]))
        fragments.append(fragment)
    out = ctx.actions.declare_file(ctx.label.name + "/.config")
    args = ctx.actions.args()
    args.add(src)
    args.add(dev.kernel_arch)
    args.add(dev.cross_compile)
    args.add(ctx.attr.base)
    args.add(out)
    args.add(ctx.executable._checker)
    args.add_all(fragments)
    patches = ctx.files.patches
    env = dict(_ACTION_ENV)
    env["PATCHES"] = " ".join([p.path for p in patches])
    ctx.actions.run(
        executable = ctx.executable._script,
        arguments = [args],
        inputs = [src, ctx.file._unpack] + fragments + patches + _host_packages(ctx, dev.cross_compile),
        tools = [ctx.executable._checker],
        outputs = [out],
        env = env,
        mnemonic = "KernelConfig",
        progress_message = "Configuring kernel %s (%s + %d fragments)" % (ctx.label, ctx.attr.base, len(fragments)),
    )
    return [
        DefaultInfo(files = depset([out])),
        KernelConfigInfo(
            config = out,
            fragments = fragments,
            base = ctx.attr.base,
            src = src,
            patches = patches,
            kernel_arch = dev.kernel_arch,
            cross_compile = dev.cross_compile,
            firmware = firmware,
        ),
    ]

# unpack.sh, sourced by every script that makes a kernel tree.
_UNPACK = attr.label(default = ":unpack.sh", allow_single_file = True)

_SRC_ATTRS = {
    "src": attr.label(
        default = "@debian_sources//:linux",
        allow_single_file = [".tar.xz"],
        doc = "The kernel source, one .tar.xz (unpacked inside the action).",
    ),
    "patches": attr.label_list(
        allow_files = [".patch"],
        doc = "Patches to the source (`patch -p1`), applied in this order before the config step and the build; one that does not apply cleanly fails the build.",
    ),
    "_unpack": _UNPACK,
}

kernel_config = rule(
    implementation = _kernel_config_impl,
    doc = """A kernel .config: `make <base>`, then the fragments appended in order
(a later fragment overrides an earlier one), then `make olddefconfig`. The
build fails when an option a fragment asked for does not have the requested
value in the result, naming the option, both values and the fragment.""",
    attrs = dict(_SRC_ATTRS, **dict(_HOST_PACKAGE_ATTRS, **{
        "device": attr.label(mandatory = True, providers = [DeviceInfo], doc = "The device (device_info): ARCH and cross compiler."),
        "base": attr.string(default = "tinyconfig", doc = "The make target the config starts from (tinyconfig, or a *_defconfig)."),
        "fragments": attr.label_list(allow_files = [".config"], doc = "Config fragments, applied in this order."),
        "services": attr.label_list(
            cfg = platform_transition,
            providers = [ServiceDbInfo],
            doc = "service_db targets whose services' kernel fragments are applied after fragments.",
        ),
        "platform": attr.label(doc = "The device's platform, to analyse services for (required with services)."),
        "firmware": attr.label_list(
            providers = [KernelFirmwareInfo],
            doc = "kernel_firmware targets: their files are built into the kernel (CONFIG_EXTRA_FIRMWARE, after the fragments); fails at analysis when a requirement of one is not met or two give different files for one path.",
        ),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
        "_script": attr.label(default = ":kernel_config.sh", executable = True, cfg = "exec", allow_single_file = True),
        "_checker": attr.label(default = "//tools/kconfig-check", executable = True, cfg = "exec"),
    })),
)

def _out(ctx, name):
    return ctx.actions.declare_file(ctx.label.name + "/" + name)

def _device_dtbs(ctx, cfg, dts):
    """Compiles the device's own .dts files outside the kernel action.

    One action builds the kernel's dtc and copies the DT headers (cached
    while source and patches stay: a config change does not rerun it); each
    DTB is then a small action,
    so a DTS edit costs seconds, not a kernel build.
    """
    tools = ctx.actions.declare_directory(ctx.label.name + "/dt_tools")
    args = ctx.actions.args()
    args.add_all([cfg.src, cfg.kernel_arch, cfg.cross_compile, tools.path])
    args.add_all(cfg.patches)
    ctx.actions.run(
        executable = ctx.executable._dt_tools,
        arguments = [args],
        inputs = [cfg.src, ctx.file._unpack] + cfg.patches + _host_packages(ctx, cfg.cross_compile),
        outputs = [tools],
        env = _ACTION_ENV,
        mnemonic = "KernelDtTools",
        progress_message = "Building dtc and DT headers of %s" % ctx.label,
    )
    for src, out in dts.items():
        args = ctx.actions.args()
        args.add_all([tools.path, cfg.cross_compile, src, out])
        args.add_all(ctx.files.dts_srcs)
        ctx.actions.run(
            executable = ctx.executable._dtb,
            arguments = [args],
            # Only the cross gcc's preprocessor runs here (dtc is built).
            inputs = [tools, src] + ctx.files.dts_srcs + _cross_packages(ctx, cfg.cross_compile),
            outputs = [out],
            env = _ACTION_ENV,
            mnemonic = "KernelDtb",
            progress_message = "Compiling %s" % src.short_path,
        )

def _kernel_build_impl(ctx):
    cfg = ctx.attr.config[KernelConfigInfo]

    vmlinux = _out(ctx, "vmlinux")
    system_map = _out(ctx, "System.map")
    symvers = _out(ctx, "Module.symvers")
    builtin = _out(ctx, "modules.builtin")
    release = _out(ctx, "kernel.release")
    images = {t: _out(ctx, t) for t in ctx.attr.images}
    intree = {d: _out(ctx, d.split("/")[-1]) for d in ctx.attr.intree_dtbs}
    dts = {f: _out(ctx, f.basename[:-len(".dts")] + ".dtb") for f in ctx.files.dts}
    dtbs = list(intree.values()) + list(dts.values())
    if dts:
        _device_dtbs(ctx, cfg, dts)

    env = dict(_ACTION_ENV)
    env.update({
        "SRC": cfg.src.path,
        "PATCHES": " ".join([p.path for p in cfg.patches]),
        "CONFIG": cfg.config.path,
        "KARCH": cfg.kernel_arch,
        "CROSS_COMPILE": cfg.cross_compile,
        "OUT_VMLINUX": vmlinux.path,
        "OUT_SYSTEM_MAP": system_map.path,
        "OUT_SYMVERS": symvers.path,
        "OUT_BUILTIN": builtin.path,
        "OUT_RELEASE": release.path,
        "IMAGES": " ".join(["%s=%s" % (t, f.path) for t, f in images.items()]),
        "INTREE_DTBS": " ".join(["%s=%s" % (d, f.path) for d, f in intree.items()]),
    })

    # With firmware, a wrapper puts it where the .config says and runs the
    # same build; without, the action is kernel_build.sh's alone, so its key
    # does not depend on the wrapper.
    script = ctx.executable._script
    tools = []
    if cfg.firmware:
        env["FIRMWARE"] = " ".join(["%s=%s" % (p, f.path) for p, f in sorted(cfg.firmware.items())])
        env["KERNEL_BUILD"] = script.path
        tools = [script]
        script = ctx.executable._script_firmware
    ctx.actions.run(
        executable = script,
        tools = tools,
        inputs = [cfg.src, cfg.config, ctx.file._unpack] + cfg.patches + cfg.firmware.values() + _host_packages(ctx, cfg.cross_compile),
        outputs = [vmlinux, system_map, symvers, builtin, release] + list(images.values()) + list(intree.values()),
        env = env,
        mnemonic = "KernelBuild",
        progress_message = "Building kernel %s" % ctx.label,
    )
    image = images[ctx.attr.images[0]] if ctx.attr.images else vmlinux
    return [
        DefaultInfo(files = depset([image, vmlinux, cfg.config] + dtbs)),
        OutputGroupInfo(
            image = depset([image]),
            vmlinux = depset([vmlinux]),
            config = depset([cfg.config]),
            dtbs = depset(dtbs),
            images = depset(images.values()),
            extra = depset([system_map, symvers, builtin, release]),
        ),
        KernelInfo(
            image = image,
            images = images,
            vmlinux = vmlinux,
            config = cfg.config,
            dtbs = dtbs,
            system_map = system_map,
            module_symvers = symvers,
            modules_builtin = builtin,
            release = release,
            src = cfg.src,
            patches = cfg.patches,
            kernel_arch = cfg.kernel_arch,
            cross_compile = cfg.cross_compile,
        ),
    ]

kernel_build = rule(
    implementation = _kernel_build_impl,
    doc = """Builds vmlinux, the boot images and the DTBs from a kernel_config,
deterministically, with Debian's gcc cross compiler. Default outputs: the
first boot image (or vmlinux), vmlinux, the .config and the DTBs.""",
    attrs = dict(_HOST_PACKAGE_ATTRS, **{
        "config": attr.label(mandatory = True, providers = [KernelConfigInfo], doc = "The kernel_config."),
        "images": attr.string_list(doc = "Boot images by make target under arch/$ARCH/boot (vmlinux.bin, zImage, Image); the first is KernelInfo.image."),
        "intree_dtbs": attr.string_list(doc = "DTBs of the kernel tree, as paths under arch/$ARCH/boot/dts (e.g. qca/ar9331_tl_mr3020.dtb)."),
        "dts": attr.label_list(allow_files = [".dts"], doc = "The device's own .dts files, each compiled to <name>.dtb with the kernel's dtc."),
        "dts_srcs": attr.label_list(allow_files = [".dtsi", ".h"], doc = "Files the .dts include (found next to them)."),
        "_script": attr.label(default = ":kernel_build.sh", executable = True, cfg = "exec", allow_single_file = True),
        "_script_firmware": attr.label(default = ":kernel_build_firmware.sh", executable = True, cfg = "exec", allow_single_file = True),
        "_unpack": _UNPACK,
        "_dt_tools": attr.label(default = ":dt_tools.sh", executable = True, cfg = "exec", allow_single_file = True),
        "_dtb": attr.label(default = ":dtb.sh", executable = True, cfg = "exec", allow_single_file = True),
    }),
)

def _kernel_menuconfig_impl(ctx):
    cfg = ctx.attr.config[KernelConfigInfo]
    script = ctx.actions.declare_file(ctx.label.name + ".sh")
    ctx.actions.expand_template(
        template = ctx.file._template,
        output = script,
        substitutions = {
            "@SRC@": cfg.src.short_path,
            "@PATCHES@": " ".join([p.short_path for p in cfg.patches]),
            "@UNPACK@": ctx.file._unpack.short_path,
            "@CONFIG@": cfg.config.short_path,
            "@KARCH@": cfg.kernel_arch,
            "@CROSS_COMPILE@": cfg.cross_compile,
            "@CHECKER@": ctx.executable._checker.short_path,
            "@LABEL@": str(ctx.attr.config.label),
        },
        is_executable = True,
    )
    runfiles = ctx.runfiles(files = [cfg.src, cfg.config, ctx.file._unpack, ctx.executable._checker] + cfg.patches)
    runfiles = runfiles.merge(ctx.attr._checker[DefaultInfo].default_runfiles)
    return [DefaultInfo(executable = script, runfiles = runfiles)]

kernel_menuconfig = rule(
    implementation = _kernel_menuconfig_impl,
    doc = """`bazel run` target: opens menuconfig (or nconfig, config, ... given as
the argument) on a kernel_config's resolved .config and prints what the user
changed as a fragment, to paste into the device's or feature's fragment.""",
    attrs = {
        "config": attr.label(mandatory = True, providers = [KernelConfigInfo], doc = "The kernel_config to start from."),
        "_template": attr.label(default = ":menuconfig.sh.tpl", allow_single_file = True),
        "_unpack": _UNPACK,
        "_checker": attr.label(default = "//tools/kconfig-check", executable = True, cfg = "target"),
    },
    executable = True,
)

def _kernel_reuse_impl(ctx):
    k = ctx.attr.kernel[KernelInfo]
    fragments = []
    for t in ctx.attr.services:
        for f in t[ServiceDbInfo].kernel_fragments.to_list():
            if f not in fragments:
                fragments.append(f)

    # A validation action: any build of something that uses this kernel
    # runs it, and fails naming each option a service needs that the
    # reused kernel lacks.
    stamp = ctx.actions.declare_file(ctx.label.name + ".checked")
    args = ctx.actions.args()
    args.add(ctx.executable._checker)
    args.add(stamp)
    args.add("-config", k.config)
    args.add_all(fragments)
    ctx.actions.run_shell(
        command = "\"$1\" \"${@:3}\" && : >\"$2\"",
        arguments = [args],
        inputs = [k.config] + fragments,
        tools = [ctx.executable._checker],
        outputs = [stamp],
        mnemonic = "KernelReuseCheck",
        progress_message = "Checking that %s has the options %s's services need" % (ctx.attr.kernel.label, ctx.label),
    )
    return [
        ctx.attr.kernel[DefaultInfo],
        k,
        OutputGroupInfo(_validation = depset([stamp])),
    ]

kernel_reuse = rule(
    implementation = _kernel_reuse_impl,
    doc = """Another image's kernel, for an image whose services differ (tests of
other configurations of a device: a kernel build is the slowest action
there is). Forwards the kernel's KernelInfo; its validation fails the
build, naming the option and fragment, when the kernel's .config lacks an
option the services' kernel fragments ask for.""",
    attrs = {
        "kernel": attr.label(mandatory = True, providers = [KernelInfo], doc = "The kernel to reuse."),
        "services": attr.label_list(
            cfg = platform_transition,
            providers = [ServiceDbInfo],
            doc = "service_db targets whose services' kernel fragments the kernel must have.",
        ),
        "platform": attr.label(mandatory = True, doc = "The device's platform, to analyse services for."),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
        "_checker": attr.label(default = "//tools/kconfig-check", executable = True, cfg = "exec"),
    },
)
