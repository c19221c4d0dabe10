"""Providers of the root-filesystem rules."""

FsInfo = provider(
    doc = """A fragment of a root filesystem: entries of the image and the files
they are made of (model: Monogon's fsspec). A package, a generated /etc file,
the service database: each contributes one; the rootfs rule merges them.""",
    fields = {
        "manifest": "File: a JSON array of bazwrt/tools/fsspec entries (path, type, mode, uid, gid, source, target, major, minor, origin); sources are paths from the exec root.",
        "files": "depset of Files the entries' sources are (or are inside, for tree artifacts).",
    },
)

RootfsInfo = provider(
    doc = "A root filesystem image and its manifest.",
    fields = {
        "image": "File: the squashfs image.",
        "manifest": "File: JSON, every entry with its size and origin (bazwrt/tools/fsspec).",
        "report": "File: the size report (largest packages and files).",
    },
)
