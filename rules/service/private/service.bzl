"""Implementation of the longrun, oneshot and bundle rules and service_db."""

load("//rules/rootfs:providers.bzl", "FsInfo")
load(":providers.bzl", "InterfaceInfo", "ServiceDbInfo", "ServiceInfo")
load(":validate.bzl", "service_name_error")

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _check_positive_ms(ctx, attr):
    v = getattr(ctx.attr, attr)
    if v < 0:
        _fail(attr, "want milliseconds >= 0 (0 = no limit), got %d" % v)

def _service_name(ctx):
    name = ctx.attr.service_name or ctx.label.name
    err = service_name_error(name)
    if err:
        _fail("service_name" if ctx.attr.service_name else "name", err)
    return name

def template_service_name(ctx):
    """The checked name on the device of a template macro's service.

    For the rules a macro makes beside its service (a configuration or
    options file), which have the attributes `service` (the macro's name)
    and `service_name` (the name on the device, if not that).

    Args:
      ctx: the rule context.

    Returns:
      The name; a bad one fails naming the attribute it came from.
    """
    attr, name = ("service_name", ctx.attr.service_name) if ctx.attr.service_name else ("name", ctx.attr.service)
    err = service_name_error(name)
    if err:
        _fail(attr, err)
    return name

def shell_quote(s):
    """Quotes s for a POSIX shell: 'it'\\''s'.

    Args:
      s: any string.

    Returns:
      s in single quotes, each ' written as '\\''.
    """
    return "'" + s.replace("'", "'\\''") + "'"

def execline_sh(script, name):
    """The execline script that runs a shell script as the file `name` did.

    A oneshot's `up` and `down` are execline scripts, as in s6-rc (the
    device runs them with `execlineb -P`); templates give shell. This is
    one execline command: `/bin/sh -c "SCRIPT" NAME`, so the shell runs
    SCRIPT with $0 set to NAME. In execline's quoted strings a backslash
    escapes the next character (and `\\0`, `\\n`, ... are escapes), newlines
    are kept, and braces, `#` and `$` mean nothing: only backslashes and
    double quotes are escaped (userland/init/execline/parse.go).

    Args:
      script: the shell script.
      name: the shell's $0: "up" or "down".

    Returns:
      The execline script.
    """
    if "\0" in script:
        fail("a script cannot contain a null character: %r" % script)
    return '/bin/sh -c "%s" %s\n' % (script.replace("\\", "\\\\").replace('"', '\\"'), name)

def publish_ifname(ifname):
    """The shell that writes a service's interface name to $OUTPUTS/ifname.

    The firewall's zone sets follow these files (see InterfaceInfo).

    Args:
      ifname: the interface's name, or a shell expansion such as "$interface"
        when it is known only at run time (then passed through as is).

    Returns:
      A shell command.
    """
    arg = '"%s"' % ifname if ifname.startswith("$") else shell_quote(ifname)
    return "printf '%%s\\n' %s >\"$OUTPUTS/ifname\"" % arg

def write_service(ctx, type, files, deps, notes = [], packages = None, interface = None, controls = []):
    """Writes the source directory and returns the providers.

    Args:
      ctx: the rule context; the rule has the attributes of SERVICE_ATTRS.
      type: "longrun", "oneshot" or "bundle".
      files: {path inside the service directory: content}, e.g. {"run": ...};
        a content is a string, or a File that an action of the template writes;
        a oneshot's "up" and "down" are strings of shell, written as the
        execline scripts that run them with /bin/sh (see execline_sh);
        the `type` file and the dependencies.d (contents.d for a bundle)
        entries of `deps` are added here.
      deps: the service targets this one needs (a bundle: its contents).
      notes: strings for the image's size report (what its builder should know).
      packages: the package targets the service needs, instead of the
        `packages` attribute (e.g. none when a template turns itself off).
      interface: for a service that owns a network interface, a dict of
        InterfaceInfo's fields other than `service` (ifname, and optionally
        addresses and inbound); the service must run publish_ifname.
      controls: service targets this one starts and stops itself (rc
        change): in the image's database with everything they need, but
        not dependencies (they stay down until it starts them).

    Returns:
      The DefaultInfo and ServiceInfo providers, and InterfaceInfo when
      `interface` is given.
    """
    name = _service_name(ctx)
    files = dict(files)
    files["type"] = type + "\n"
    files.update(_name_files("contents.d" if type == "bundle" else "dependencies.d", deps))
    for n in getattr(ctx.attr, "after", []):
        err = service_name_error(n)
        if err:
            _fail("after", err)
        files["dependencies.d/" + n] = ""
    root = ctx.label.name + ".s6"
    outs = []
    for path, content in sorted(files.items()):
        if type == "oneshot" and path in ("up", "down"):
            # Templates give shell; up and down are execline (s6-rc).
            if hasattr(content, "short_path"):
                fail("%s: the %s script must be a string of shell, got the file %s" % (ctx.label, path, content.short_path))
            content = execline_sh(content, path)
        f = ctx.actions.declare_file("%s/%s/%s" % (root, name, path))
        if hasattr(content, "short_path"):
            # Generated by an action of the template (e.g. from files it checks).
            ctx.actions.symlink(output = f, target_file = content)
        else:
            ctx.actions.write(f, content, is_executable = path in ("up", "down", "run", "finish"))
        outs.append(f)
    srcdir = "/".join([p for p in [ctx.bin_dir.path, ctx.label.workspace_root, ctx.label.package, root] if p])
    own = depset(outs)
    needed = list(deps) + list(controls)
    extra = []
    if interface != None:
        extra.append(InterfaceInfo(
            service = name,
            ifname = interface["ifname"],
            addresses = interface.get("addresses", []),
            inbound = interface.get("inbound", []),
        ))
    return extra + [
        DefaultInfo(files = own),
        ServiceInfo(
            name = name,
            type = type,
            srcdir = srcdir,
            files = own,
            transitive_srcdirs = depset([srcdir], transitive = [d[ServiceInfo].transitive_srcdirs for d in needed]),
            transitive_files = depset(outs, transitive = [d[ServiceInfo].transitive_files for d in needed]),
            kernel_fragments = depset(
                ctx.files.kernel_fragments,
                transitive = [d[ServiceInfo].kernel_fragments for d in needed],
            ),
            packages = depset(
                ctx.attr.packages if packages == None else packages,
                transitive = [d[ServiceInfo].packages for d in needed],
            ),
            notes = depset(notes, transitive = [d[ServiceInfo].notes for d in needed]),
        ),
    ]

def _name_files(dir, targets):
    """The empty files dir/NAME that list services by name (dependencies.d, contents.d)."""
    return {"%s/%s" % (dir, t[ServiceInfo].name): "" for t in targets}

def _longrun_impl(ctx):
    if not ctx.attr.run.strip():
        _fail("run", "want the command that runs the daemon in the foreground, got an empty script")
    if ctx.attr.notification_fd and not (3 <= ctx.attr.notification_fd and ctx.attr.notification_fd <= 255):
        _fail("notification_fd", "want a descriptor from 3 to 255, got %d" % ctx.attr.notification_fd)
    for a in ("timeout_up", "timeout_down", "timeout_kill"):
        _check_positive_ms(ctx, a)
    files = {"run": ctx.attr.run}
    if ctx.attr.finish:
        files["finish"] = ctx.attr.finish
    if ctx.attr.notification_fd:
        files["notification-fd"] = "%d\n" % ctx.attr.notification_fd
    for a in ("timeout_up", "timeout_down", "timeout_kill"):
        if getattr(ctx.attr, a):
            files[a.replace("_", "-")] = "%d\n" % getattr(ctx.attr, a)
    if ctx.attr.down_signal:
        files["down-signal"] = ctx.attr.down_signal + "\n"
    return write_service(ctx, "longrun", files, ctx.attr.deps)

def _oneshot_impl(ctx):
    for a in ("timeout_up", "timeout_down"):
        _check_positive_ms(ctx, a)
    files = {"up": ctx.attr.up}
    if ctx.attr.down:
        files["down"] = ctx.attr.down
    for a in ("timeout_up", "timeout_down"):
        if getattr(ctx.attr, a):
            files[a.replace("_", "-")] = "%d\n" % getattr(ctx.attr, a)
    return write_service(ctx, "oneshot", files, ctx.attr.deps)

def _bundle_impl(ctx):
    if not ctx.attr.contents:
        _fail("contents", "a bundle needs at least one service")
    files = {}
    return write_service(ctx, "bundle", files, ctx.attr.contents)

_COMMON_ATTRS = {
    "service_name": attr.string(doc = "The name on the device; defaults to the target name."),
    "kernel_fragments": attr.label_list(
        allow_files = True,
        doc = "Kernel config fragments the service needs; the image's kernel includes them.",
    ),
    "packages": attr.label_list(doc = "Packages whose files the service needs in the image."),
}

_DEPS_ATTR = {
    "deps": attr.label_list(
        providers = [ServiceInfo],
        doc = "Services that must be up before this one starts (dependencies.d).",
    ),
    "after": attr.string_list(
        doc = """Services, by their name on the device, that must be up before this
one starts, without a build dependency on them: for a service that another
reads at analysis time (the firewall reads its zones' interfaces, which come
up after it). The image must have them: the database's compiler fails
naming an unknown one.""",
    ),
}

SERVICE_ATTRS = dict(_COMMON_ATTRS, **_DEPS_ATTR)

longrun = rule(
    implementation = _longrun_impl,
    doc = "A supervised daemon (s6-rc longrun).",
    attrs = dict(_COMMON_ATTRS, **dict(_DEPS_ATTR, **{
        "run": attr.string(mandatory = True, doc = "Shell script that execs the daemon in the foreground."),
        "finish": attr.string(doc = "Script run after each death, with exit code and signal as arguments."),
        "notification_fd": attr.int(doc = "Descriptor (3-255) the daemon writes a newline to when ready."),
        "timeout_up": attr.int(doc = "Milliseconds to wait for readiness; 0 = no limit."),
        "timeout_down": attr.int(doc = "Milliseconds to wait for the daemon to die; 0 = no limit."),
        "timeout_kill": attr.int(doc = "Milliseconds after the down signal before SIGKILL; 0 = never."),
        "down_signal": attr.string(
            values = ["", "SIGTERM", "SIGHUP", "SIGINT", "SIGQUIT", "SIGKILL", "SIGUSR1", "SIGUSR2"],
            doc = "Signal that stops the daemon; default SIGTERM.",
        ),
    })),
)

oneshot = rule(
    implementation = _oneshot_impl,
    doc = "A state change run once (s6-rc oneshot): `up` when started, `down` when stopped.",
    attrs = dict(_COMMON_ATTRS, **dict(_DEPS_ATTR, **{
        "up": attr.string(mandatory = True, doc = "Shell script run to bring the service up (written as the execline `up` file that runs it with /bin/sh)."),
        "down": attr.string(doc = "Shell script run to bring it down (likewise)."),
        "timeout_up": attr.int(doc = "Milliseconds before `up` is killed and the start fails; 0 = no limit."),
        "timeout_down": attr.int(doc = "Milliseconds before `down` is killed; 0 = no limit."),
    })),
)

bundle = rule(
    implementation = _bundle_impl,
    doc = "A named set of services (s6-rc bundle).",
    attrs = dict(_COMMON_ATTRS, **{
        "contents": attr.label_list(
            providers = [ServiceInfo],
            doc = "The services in the bundle.",
        ),
    }),
)

def _service_db_impl(ctx):
    # The boot bundle: the services listed, and through them their deps.
    default = ctx.label.name + ".s6/default"
    default_files = [ctx.actions.declare_file(default + "/type")]
    ctx.actions.write(default_files[0], "bundle\n")
    for t in ctx.attr.services:
        f = ctx.actions.declare_file("%s/contents.d/%s" % (default, t[ServiceInfo].name))
        ctx.actions.write(f, "")
        default_files.append(f)
    infos = [t[ServiceInfo] for t in ctx.attr.services + ctx.attr.controlled]
    srcdirs = depset(transitive = [i.transitive_srcdirs for i in infos]).to_list()
    default_dir = "/".join([p for p in [ctx.bin_dir.path, ctx.label.workspace_root, ctx.label.package, ctx.label.name + ".s6"] if p])
    args = ctx.actions.args()
    args.add("-require-default")
    args.add("-o", ctx.outputs.db)
    args.add(default_dir)
    args.add_all(srcdirs)
    ctx.actions.run(
        executable = ctx.executable._svc_compile,
        arguments = [args],
        inputs = depset(default_files, transitive = [i.transitive_files for i in infos]),
        outputs = [ctx.outputs.db],
        mnemonic = "SvcCompile",
        progress_message = "Compiling services of %s" % ctx.label,
    )

    # In a root filesystem, the database is where init reads it.
    frag = ctx.actions.declare_file(ctx.label.name + ".fs.json")
    ctx.actions.write(frag, json.encode([{
        "path": "/etc/svc/db",
        "type": "file",
        "mode": 0o644,
        "source": ctx.outputs.db.path,
        "origin": str(ctx.label),
    }]) + "\n")
    return [
        DefaultInfo(files = depset([ctx.outputs.db])),
        FsInfo(manifest = frag, files = depset([ctx.outputs.db])),
        ServiceDbInfo(
            db = ctx.outputs.db,
            kernel_fragments = depset(transitive = [i.kernel_fragments for i in infos]),
            packages = depset(transitive = [i.packages for i in infos]),
            notes = depset(transitive = [i.notes for i in infos]),
        ),
    ]

service_db = rule(
    implementation = _service_db_impl,
    doc = """Compiles services and everything they depend on into one database.

The services listed in `services` form the `default` bundle, which init
brings up at boot; `controlled` services are in the database but stay down
until something (a health check, an operator) starts them with `rc change`.""",
    attrs = {
        "services": attr.label_list(providers = [ServiceInfo], doc = "Services brought up at boot."),
        "controlled": attr.label_list(providers = [ServiceInfo], doc = "Services started on demand."),
        "_svc_compile": attr.label(
            default = "//tools/svc-compile",
            executable = True,
            cfg = "exec",
        ),
    },
    outputs = {"db": "%{name}.db"},
)
