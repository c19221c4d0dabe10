"""Repository rules that take Bazel rule sets and tools from Go modules.

rules_go, bazel-gazelle and buildtools are Go modules. They are pinned in
//third_party/go:go.mod, verified against its go.sum, and read from the Go
module cache (filled from the Go module proxy by `go mod download`), because
nothing else can be downloaded here. The host's `go` command is found on PATH.
"""

def _go(rctx):
    go = rctx.which("go")
    if not go:
        fail("no `go` command on PATH: install Go (./bazelw puts it on PATH) and run again")
    return go

def _run(rctx, args, **kwargs):
    res = rctx.execute(args, **kwargs)
    if res.return_code != 0:
        fail("%s failed (exit %d):\n%s%s" % (" ".join([str(a) for a in args]), res.return_code, res.stdout, res.stderr))
    return res.stdout

def _go_env():
    # The module cache of the user running Bazel, not one private to Bazel, so
    # `./bazelw`'s `go mod download` fills it once for every repository.
    return {"GOFLAGS": "-mod=readonly", "GOTOOLCHAIN": "local"}

def _download(rctx, module):
    """Downloads module at the version go.mod pins and checks it against go.sum."""
    moddir = rctx.path(rctx.attr.go_mod).dirname
    out = _run(
        rctx,
        [_go(rctx), "mod", "download", "-json", module],
        working_directory = str(moddir),
        environment = _go_env(),
    )
    info = json.decode(out)
    want = "%s %s %s" % (info["Path"], info["Version"], info["Sum"])
    gosum = rctx.read(rctx.path(rctx.attr.go_mod.relative("go.sum")))
    if want not in gosum.splitlines():
        fail("%s %s: checksum %s is not in %s's go.sum; pin the module with `go get` there" % (
            info["Path"],
            info["Version"],
            info["Sum"],
            rctx.attr.go_mod,
        ))
    return info

def _go_module_repository_impl(rctx):
    info = _download(rctx, rctx.attr.module)
    _run(rctx, ["cp", "-R", info["Dir"] + "/.", "."])

    # The module cache is read-only; patches need to write.
    _run(rctx, ["chmod", "-R", "u+w", "."])
    for patch in rctx.attr.patches:
        rctx.patch(patch, strip = 1)

go_module_repository = repository_rule(
    implementation = _go_module_repository_impl,
    doc = "A repository holding one Go module's files (e.g. a Bazel rule set), with patches applied.",
    attrs = {
        "module": attr.string(mandatory = True, doc = "The module path; its version is the one go_mod pins."),
        "go_mod": attr.label(mandatory = True, allow_single_file = True, doc = "The go.mod that pins the module; go.sum beside it verifies it."),
        "patches": attr.label_list(doc = "Patch files applied in order with -p1."),
    },
)

def _go_tool_repository_impl(rctx):
    info = _download(rctx, rctx.attr.module)
    moddir = rctx.path(rctx.attr.go_mod).dirname
    env = dict(_go_env())
    env["CGO_ENABLED"] = "0"
    _run(
        rctx,
        [_go(rctx), "build", "-trimpath", "-o", str(rctx.path(rctx.attr.binary)), rctx.attr.package],
        working_directory = str(moddir),
        environment = env,
    )
    rctx.file("BUILD.bazel", """\
# Built by go_tool_repository from {module} {version}.
exports_files(["{binary}"], visibility = ["//visibility:public"])
""".format(module = info["Path"], version = info["Version"], binary = rctx.attr.binary))

go_tool_repository = repository_rule(
    implementation = _go_tool_repository_impl,
    doc = """A repository holding one host tool built with the go command.

For tools whose own Bazel build cannot work here (buildtools' BUILD files need
proto rules that are not available offline).""",
    attrs = {
        "module": attr.string(mandatory = True),
        "package": attr.string(mandatory = True, doc = "The main package to build."),
        "binary": attr.string(mandatory = True, doc = "The name of the built file."),
        "go_mod": attr.label(mandatory = True, allow_single_file = True),
    },
)
