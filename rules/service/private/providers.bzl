"""Providers of the service rules."""

ServiceInfo = provider(
    doc = """A service in s6-rc source format, with everything it needs.

Each service target writes its s6-rc source directory (a directory named
after the service, inside `srcdir`) at build time; service_db compiles the
transitive closure with //tools:svc-compile.""",
    fields = {
        "name": "The service's name on the device (string).",
        "type": "\"longrun\", \"oneshot\" or \"bundle\".",
        "srcdir": "Path (from the exec root) of the directory that holds this service's source directory.",
        "files": "depset of the files of this service's source directory.",
        "transitive_srcdirs": "depset of `srcdir` of this service and every service it needs.",
        "transitive_files": "depset of the source files of this service and every service it needs.",
        "kernel_fragments": "depset of kernel config fragments the services need.",
        "packages": "depset of the package targets the services need in the image.",
    },
)

ServiceDbInfo = provider(
    doc = "A compiled service database and what its services need from the image.",
    fields = {
        "db": "The compiled database file (svc-compile output).",
        "kernel_fragments": "depset of kernel config fragments the services need.",
        "packages": "depset of package targets the services need.",
    },
)
