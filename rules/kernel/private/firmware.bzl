"""kernel_firmware: firmware files to build into a kernel."""

load(":providers.bzl", "KernelFirmwareInfo")

# A path CONFIG_EXTRA_FIRMWARE can carry: the option is a space-separated
# list inside a quoted string, and each name becomes a make target and an
# assembler string.
_PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+/"

def firmware_path_error(path):
    """Why path cannot be a firmware name in CONFIG_EXTRA_FIRMWARE, or "".

    Args:
      path: the name under /lib/firmware, e.g. "ath10k/QCA9887/hw1.0/board.bin".

    Returns:
      An error message, or "" when path is acceptable.
    """
    if not path:
        return "an empty path"
    for c in path.elems():
        if c not in _PATH_CHARS:
            return "%r has %r: want letters, digits and . _ - + / only (CONFIG_EXTRA_FIRMWARE is a space-separated list in a quoted string)" % (path, c)
    if path.startswith("/") or path.endswith("/"):
        return "%r: want a relative path to a file, as request_firmware() names it" % path
    for part in path.split("/"):
        if part in ("", ".", ".."):
            return "%r: want no empty, . or .. components" % path
    return ""

def _firmware_path(f):
    """f's path relative to the package (and repository) of the target that owns it."""
    prefix = ""
    if f.owner.workspace_name:
        prefix = "../%s/" % f.owner.workspace_name
    if f.owner.package:
        prefix += f.owner.package + "/"
    if not f.short_path.startswith(prefix):
        fail("%s: cannot place %s under /lib/firmware: it is not below its package %s" % (f.owner, f.short_path, prefix))
    return f.short_path[len(prefix):]

def _kernel_firmware_impl(ctx):
    files = {}
    for t in ctx.attr.srcs:
        for f in t.files.to_list():
            path = _firmware_path(f)
            err = firmware_path_error(path)
            if err:
                fail("%s: srcs (%s): %s" % (ctx.label, t.label, err))
            if path in files and files[path] != f:
                fail("%s: srcs: two files for %s: %s and %s" % (ctx.label, path, files[path].path, f.path))
            files[path] = f
    for what, paths in ctx.attr.requires.items():
        if not paths:
            fail("%s: requires[%r]: want at least one path" % (ctx.label, what))
        for p in paths:
            err = firmware_path_error(p)
            if err:
                fail("%s: requires[%r]: %s" % (ctx.label, what, err))
    return [KernelFirmwareInfo(
        files = files,
        hint = ctx.attr.hint,
        label = ctx.label,
        requires = ctx.attr.requires,
        source = ", ".join([str(t.label) for t in ctx.attr.srcs]),
    )]

kernel_firmware = rule(
    implementation = _kernel_firmware_impl,
    doc = """Firmware to build into a kernel (kernel_config's `firmware`).

Each file's path under /lib/firmware is its path below the package of the
target that owns it: a filegroup in `firmware/BUILD.bazel` with
`srcs = glob(["ath10k/**"])`, or a repository rooted at a copy of
/lib/firmware, gives `ath10k/QCA9887/hw1.0/board.bin` for the file of that
name. `requires` is checked by the kernel_config that uses it, so a
kernel_firmware that no kernel uses fails nothing.""",
    attrs = {
        "srcs": attr.label_list(allow_files = True, doc = "The firmware files (often a label_flag the user points at their own filegroup)."),
        "hint": attr.string(doc = "How the user gives the files, said when a requirement is not met (e.g. the flag to set)."),
        "requires": attr.string_list_dict(doc = "What a driver needs (a description) to paths under /lib/firmware, of which at least one must be given, e.g. {\"the QCA9887's board data\": [\"ath10k/QCA9887/hw1.0/board-2.bin\", \"ath10k/QCA9887/hw1.0/board.bin\"]}."),
    },
)

def check_firmware(owner, attr_name, fw):
    """Fails unless fw holds one file of each of its requirements.

    Args:
      owner: the label of the target that builds fw into a kernel.
      attr_name: the attribute of owner that names fw.
      fw: a KernelFirmwareInfo.
    """
    for what, paths in fw.requires.items():
        if not [p for p in paths if p in fw.files]:
            fail("%s: %s (%s) lacks %s: want one of %s; given (from %s): %s. %s" % (
                owner,
                attr_name,
                fw.label,
                what,
                ", ".join(paths),
                fw.source or "nothing",
                ", ".join(sorted(fw.files.keys())) or "no files",
                fw.hint or "See docs/kernel.md, \"Firmware\".",
            ))
