"""The smoke test (smoke_test.go) of one QEMU device."""

load("@io_bazel_rules_go//go:def.bzl", "go_test")
load("//rules/pkg:defs.bzl", "platform_files")

def qemu_smoke_test(name, device, arch, platform, hostname):
    """Boots DEVICE:image in QEMU and runs smoke_test.go's checks on it.

    Args:
      name: the test.
      device: the device's package, e.g. "//devices/qemu-armv7l".
      arch: run-vm's architecture (mips, arm, aarch64).
      platform: the device's platform (its service database is read for it).
      hostname: the host name the image is built with.
    """
    for group in ("kernel", "rootfs"):
        native.filegroup(
            name = "%s_%s" % (name, group),
            srcs = [device + ":image"],
            output_group = group,
            testonly = True,
        )
    native.filegroup(
        name = name + "_hosts",
        srcs = [device + ":etc"],
        output_group = "hosts",
        testonly = True,
    )
    platform_files(
        name = name + "_services",
        srcs = [device + ":services"],
        platform = platform,
        testonly = True,
    )
    go_test(
        name = name,
        size = "medium",
        srcs = ["smoke_test.go"],
        args = [
            "-arch=" + arch,
            "-kernel=$(rootpath :%s_kernel)" % name,
            "-rootfs=$(rootpath :%s_rootfs)" % name,
            "-services=$(rootpath :%s_services)/services.db" % name,
            "-hosts=$(rootpath :%s_hosts)" % name,
            "-hostname=" + hostname,
        ],
        data = [":%s_%s" % (name, s) for s in ("kernel", "rootfs", "services", "hosts")],
        deps = [
            "//tests/runfiles",
            "//tools/vm",
            "//tools/vm/vmtest",
            "//userland/init/svcdb",
            "//userland/init/svcsrc",
        ],
    )
