"""The @debian_sources repository: pinned source tarballs, verified.

./bazelw fetches the sources that sources.lock pins into a directory outside
the workspace (fetch-sources.sh) and names it in --repo_env=BAZWRT_SOURCES.
This rule copies each tarball from there into the repository through
repository_ctx.download, which checks the sha256 the lock file pins, and
exposes it as @debian_sources//:<name> (a single file, e.g. for the kernel
rules, which unpack it inside their action).
"""

def _parse(rctx, lock):
    entries = []
    for n, line in enumerate(rctx.read(lock).splitlines()):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f for f in line.replace("\t", " ").split(" ") if f]
        if len(fields) != 5 or len(fields[4]) != 64:
            fail("%s:%d: want 'name package version file sha256', got %r" % (lock, n + 1, line))
        name, package, version, file, sha256 = fields
        entries.append(struct(name = name, package = package, version = version, file = file, sha256 = sha256))
    return entries

def _debian_sources_impl(rctx):
    lock = rctx.path(rctx.attr.lock)
    srcdir = rctx.os.environ.get("BAZWRT_SOURCES", "")
    if not srcdir:
        fail("BAZWRT_SOURCES is not set: run ./bazelw once; it fetches the sources and sets it in .bazelrc.local")
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    for e in _parse(rctx, lock):
        path = rctx.path(srcdir + "/" + e.file)
        if not path.exists:
            fail("source %s %s (%s) is not in %s: run ./bazelw, which fetches it" % (e.package, e.version, e.file, srcdir))
        rctx.download(url = "file://" + str(path), output = e.file, sha256 = e.sha256)
        build.append("# %s %s" % (e.package, e.version))
        build.append("filegroup(name = %r, srcs = [%r])" % (e.name, e.file))
        build.append("")
    rctx.file("BUILD.bazel", "\n".join(build))

debian_sources = repository_rule(
    implementation = _debian_sources_impl,
    doc = "Source tarballs pinned by a lock file, from the directory ./bazelw fetched them into.",
    attrs = {
        "lock": attr.label(mandatory = True, allow_single_file = True),
    },
    environ = ["BAZWRT_SOURCES"],
)
