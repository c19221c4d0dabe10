"""rootfs: fragments merged into a manifest and written as squashfs."""

load("//rules/kernel:providers.bzl", "DeviceInfo")
load("//rules/pkg:transition.bzl", "check_platform", "platform_transition")
load("//rules/service:providers.bzl", "ServiceDbInfo")
load(":providers.bzl", "FsInfo", "RootfsInfo")

def _rootfs_impl(ctx):
    dev = ctx.attr.device[DeviceInfo]
    check_platform(ctx.attr.platform, dev.platform, dev.name)
    infos = [t[FsInfo] for t in ctx.attr.fragments]
    if len(ctx.attr.services) > 1:
        fail("attribute services: want one service_db, got %d" % len(ctx.attr.services))
    notes = []
    if ctx.attr.services:
        db = ctx.attr.services[0]
        infos.append(db[FsInfo])
        notes = db[ServiceDbInfo].notes.to_list()
        for p in db[ServiceDbInfo].packages.to_list():
            if FsInfo not in p:
                fail("attribute services: package %s, needed by a service, gives no root filesystem files (FsInfo)" % p.label)
            infos.append(p[FsInfo])

    # One fragment may come through several paths (a package named by the
    # image and by a service): merge each once.
    seen = {}
    manifests = []
    for i in infos:
        if i.manifest.path not in seen:
            seen[i.manifest.path] = True
            manifests.append(i.manifest)
    manifest = ctx.actions.declare_file(ctx.label.name + ".manifest.json")
    report = ctx.actions.declare_file(ctx.label.name + ".size.txt")
    args = ctx.actions.args()
    args.add("merge")
    args.add("-o", manifest)
    args.add("-report", report)
    args.add_all(sorted(notes), before_each = "-note")
    args.add_all(manifests)
    inputs = depset(manifests, transitive = [i.files for i in infos])
    ctx.actions.run(
        executable = ctx.executable._rootfs,
        arguments = [args],
        inputs = inputs,
        outputs = [manifest, report],
        mnemonic = "RootfsMerge",
        progress_message = "Merging the root filesystem of %s (%d fragments)" % (ctx.label, len(manifests)),
    )

    image = ctx.actions.declare_file(ctx.label.name + ".squashfs")
    args = ctx.actions.args()
    args.add("-manifest", manifest)
    args.add("-o", image)
    args.add("-comp", ctx.attr.compression)
    args.add("-b", str(ctx.attr.block_size))
    args.add("-mkfs-time", str(ctx.attr.source_date_epoch))
    ctx.actions.run(
        executable = ctx.executable._mksquashfs,
        arguments = [args],
        inputs = depset([manifest], transitive = [inputs]),
        outputs = [image],
        mnemonic = "Mksquashfs",
        progress_message = "Writing squashfs %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset([image])),
        RootfsInfo(image = image, manifest = manifest, report = report),
        # inputs: the files the manifest's sources name, for tests that
        # write the image again.
        OutputGroupInfo(manifest = depset([manifest]), report = depset([report]), inputs = inputs),
    ]

rootfs = rule(
    implementation = _rootfs_impl,
    doc = """A read-only root filesystem: the fragments (packages, generated
files, the service database and the packages its services need), built for
the device's platform, merged into one manifest and written as squashfs by
//tools:mksquashfs. Two fragments that put different things at one path
fail the build, naming both. Outputs: <name>.squashfs (default),
<name>.manifest.json and <name>.size.txt (output groups manifest, report).""",
    attrs = {
        "device": attr.label(mandatory = True, providers = [DeviceInfo], doc = "The device (device_info)."),
        "platform": attr.label(mandatory = True, doc = "The device's platform, which fragments are built for; must be the device's."),
        "fragments": attr.label_list(cfg = platform_transition, providers = [FsInfo], doc = "Packages (pkg_build), rootfs_files, system_files: anything with FsInfo."),
        "services": attr.label_list(cfg = platform_transition, providers = [ServiceDbInfo, FsInfo], doc = "At most one service_db: its database and the packages its services need."),
        "compression": attr.string(default = "xz", values = ["xz", "gzip"]),
        "block_size": attr.int(default = 131072, doc = "squashfs data block size."),
        "source_date_epoch": attr.int(default = 1704067200, doc = "The time of every inode and of the superblock."),
        "_rootfs": attr.label(default = "//tools/rootfs", executable = True, cfg = "exec"),
        "_mksquashfs": attr.label(default = "//tools/mksquashfs", executable = True, cfg = "exec"),
        "_allowlist_function_transition": attr.label(default = "@bazel_tools//tools/allowlists/function_transition_allowlist"),
    },
)
