"""rootfs_files and system_files: fragments written from attributes."""

load("//rules/service:validate.bzl", "ip_error")
load(":providers.bzl", "FsInfo")

def entry(path, type, mode, origin, source = None, target = None, uid = 0, gid = 0, major = 0, minor = 0):
    """Returns one fsspec entry as a dict (see bazwrt/tools/fsspec).

    Args:
      path: absolute path on the device.
      type: file, dir, symlink, chardev, blockdev or fifo.
      mode: permission bits (int).
      origin: the label that contributes the entry.
      source: exec path of a file's content.
      target: a symlink's target.
      uid: owner.
      gid: group.
      major: a device's major number.
      minor: a device's minor number.

    Returns:
      The entry, ready for json.encode.
    """
    e = {"path": path, "type": type, "mode": mode, "uid": uid, "gid": gid, "origin": origin}
    if source:
        e["source"] = source
    if target:
        e["target"] = target
    if major or minor:
        e["major"] = major
        e["minor"] = minor
    return e

def write_fragment(ctx, entries, files):
    """Writes entries as the target's fragment and returns its FsInfo."""
    out = ctx.actions.declare_file(ctx.label.name + ".fs.json")
    ctx.actions.write(out, json.encode_indent(entries) + "\n")
    return FsInfo(manifest = out, files = depset(files))

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _path_error(p):
    if not p.startswith("/"):
        return "want an absolute path, got %r" % p
    parts = p.split("/")[1:]
    if p != "/" and ("" in parts or "." in parts or ".." in parts):
        return "want a clean absolute path (no //, . or ..), got %r" % p
    return None

def _mode(attr, s):
    ok = len(s) in (3, 4) and not [c for c in s.elems() if c not in "01234567"]
    if not ok:
        _fail(attr, "want an octal mode like \"0644\" or \"4755\", got %r" % s)
    return int(s, 8)

def _rootfs_files_impl(ctx):
    origin = str(ctx.label)
    entries = []
    files = []
    for t, path in ctx.attr.files.items():
        err = _path_error(path)
        if err:
            _fail("files", "%s: %s" % (t.label, err))
        fs = t[DefaultInfo].files.to_list()
        if len(fs) != 1:
            _fail("files", "%s gives %d files, want exactly one (use a filegroup per file)" % (t.label, len(fs)))
        f = fs[0]
        executable = t[DefaultInfo].files_to_run.executable
        mode = 0o755 if executable and executable.path == f.path else 0o644
        if path in ctx.attr.modes:
            mode = _mode("modes", ctx.attr.modes[path])
        entries.append(entry(path, "file", mode, origin, source = f.path))
        files.append(f)
    for path in ctx.attr.modes:
        if path not in ctx.attr.files.values():
            _fail("modes", "%s is not one of the paths in files" % path)
    for path, target in sorted(ctx.attr.symlinks.items()):
        err = _path_error(path)
        if err:
            _fail("symlinks", err)
        if not target:
            _fail("symlinks", "%s: empty target" % path)
        entries.append(entry(path, "symlink", 0o777, origin, target = target))
    for path, mode in sorted(ctx.attr.dirs.items()):
        err = _path_error(path)
        if err:
            _fail("dirs", err)
        entries.append(entry(path, "dir", _mode("dirs", mode), origin))
    return [write_fragment(ctx, entries, files)]

rootfs_files = rule(
    implementation = _rootfs_files_impl,
    doc = """Files, symlinks and directories for a root filesystem, as an FsInfo
fragment: e.g. a Go binary at /sbin/init with its links.""",
    attrs = {
        "files": attr.label_keyed_string_dict(allow_files = True, doc = "{target giving one file: absolute path on the device}. Mode 0755 for executables, 0644 otherwise."),
        "modes": attr.string_dict(doc = "{path in files: octal mode} to override the default mode."),
        "symlinks": attr.string_dict(doc = "{absolute path: target}; the target is stored as written."),
        "dirs": attr.string_dict(doc = "{absolute path: octal mode} of directories, e.g. mount points."),
    },
)

_LOWER = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"

def _name_error(name):
    if not name or len(name) > 32:
        return "want a name of 1-32 characters, got %r" % name
    if name[0] not in _LOWER + "_":
        return "want a name starting with a-z or _, got %r" % name
    for c in name.elems():
        if c not in _LOWER + _DIGITS + "_-":
            return "want a-z, 0-9, _ and - in a name, got %r" % name
    return None

def _id(attr, key, s, what):
    if not s.isdigit() or int(s) > 65534:
        _fail(attr, "%s: want a %s from 0 to 65534, got %r" % (key, what, s))
    return int(s)

def hostname_error(h):
    """Says why h is not a valid host name (RFC 1123).

    Args:
      h: the host name.

    Returns:
      The reason, or None when h is valid.
    """
    if not h or len(h) > 253:
        return "want a host name of 1-253 characters, got %r" % h
    for label in h.split("."):
        if not label or len(label) > 63:
            return "want dot-separated labels of 1-63 characters, got %r" % h
        if label.startswith("-") or label.endswith("-"):
            return "a label may not start or end with '-', got %r" % h
        for c in label.elems():
            if c not in _LOWER + _LOWER.upper() + _DIGITS + "-":
                return "want letters, digits, '-' and '.', got %r" % h
    return None

def _system_files_impl(ctx):
    a = ctx.attr
    err = hostname_error(a.hostname)
    if err:
        _fail("hostname", err)

    groups = {}  # name -> (gid, members)
    for name, spec in sorted(a.groups.items()):
        err = _name_error(name)
        if err:
            _fail("groups", err)
        gid, _, members = spec.partition(":")
        groups[name] = (_id("groups", name, gid, "group id"), [m for m in members.split(",") if m])
    gids = {g[0]: n for n, g in groups.items()}
    users = []
    for name, spec in sorted(a.users.items()):
        err = _name_error(name)
        if err:
            _fail("users", err)
        parts = spec.split(":")
        if len(parts) != 4:
            _fail("users", "%s: want \"UID:GID:HOME:SHELL\", got %r" % (name, spec))
        uid = _id("users", name, parts[0], "user id")
        gid = _id("users", name, parts[1], "group id")
        if gid not in gids:
            _fail("users", "%s: group id %d is not in groups (%s)" % (name, gid, ", ".join(["%s=%d" % (n, g[0]) for n, g in sorted(groups.items())])))
        for i, what in ((2, "home"), (3, "shell")):
            err = _path_error(parts[i])
            if err:
                _fail("users", "%s: %s: %s" % (name, what, err))
        users.append((name, uid, gid, parts[2], parts[3]))
    if not [u for u in users if u[1] == 0]:
        _fail("users", "want a user with id 0 (root)")
    for name, g in groups.items():
        for m in g[1]:
            if m not in a.users:
                _fail("groups", "%s: member %r is not in users" % (name, m))

    hosts = [("127.0.0.1", ["localhost", a.hostname]), ("::1", ["localhost", a.hostname])]
    for ip, names in sorted(a.hosts.items()):
        err = ip_error(ip)
        if err:
            _fail("hosts", err)
        if not names:
            _fail("hosts", "%s: want at least one name" % ip)
        for n in names:
            err = hostname_error(n)
            if err:
                _fail("hosts", "%s: %s" % (ip, err))
        hosts.append((ip, names))

    content = {
        "hostname": a.hostname + "\n",
        "hosts": "".join(["%s\t%s\n" % (ip, " ".join(names)) for ip, names in hosts]),
        "passwd": "".join(["%s:x:%d:%d:%s:%s:%s\n" % (n, uid, gid, n, home, shell) for n, uid, gid, home, shell in users]),
        "shadow": "".join(["%s:*:0:0:99999:7:::\n" % u[0] for u in users]),
        "group": "".join(["%s:x:%d:%s\n" % (n, gid, ",".join(groups[n][1])) for gid, n in sorted([(g[0], n) for n, g in groups.items()])]),
        # busybox's ash is built without prompt expansion (\\h, \\w).
        "profile": "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\nPS1=\"$(hostname)# \"\n",
    }
    modes = {"shadow": 0o600}
    origin = str(ctx.label)
    entries = []
    files = []
    groups = {}
    for name, text in sorted(content.items()):
        f = ctx.actions.declare_file("%s/etc/%s" % (ctx.label.name, name))
        ctx.actions.write(f, text)
        files.append(f)
        groups[name] = depset([f])
        entries.append(entry("/etc/" + name, "file", modes.get(name, 0o644), origin, source = f.path))

    # Mount points and the empty directories of a read-only root.
    for d, mode in [("/dev", 0o755), ("/proc", 0o555), ("/sys", 0o555), ("/run", 0o755), ("/tmp", 0o1777), ("/var", 0o755), ("/mnt", 0o755)]:
        entries.append(entry(d, "dir", mode, origin))
    for name, uid, gid, home, _ in users:
        if home != "/" and home not in ("/nonexistent",):
            entries.append(entry(home, "dir", 0o700, origin, uid = uid, gid = gid))

    # The console exists before devtmpfs is mounted on /dev.
    entries.append(entry("/dev/console", "chardev", 0o600, origin, major = 5, minor = 1))
    fs = write_fragment(ctx, entries, files)
    return [fs, DefaultInfo(files = depset(files)), OutputGroupInfo(**groups)]

system_files = rule(
    implementation = _system_files_impl,
    doc = """The files of /etc every image has, generated from typed attributes:
hostname, hosts, passwd, shadow (every password locked: logins are by key),
group and profile (one output group each), and the skeleton's mount points. Bad values fail at
analysis, naming the attribute.""",
    attrs = {
        "hostname": attr.string(mandatory = True, doc = "The device's host name (RFC 1123)."),
        "users": attr.string_dict(
            default = {"root": "0:0:/root:/bin/sh", "nobody": "65534:65534:/nonexistent:/bin/false"},
            doc = "{name: \"UID:GID:HOME:SHELL\"}; one must be uid 0. Home directories are created (mode 0700).",
        ),
        "groups": attr.string_dict(
            default = {"root": "0", "nogroup": "65534"},
            doc = "{name: \"GID\" or \"GID:member,member\"}.",
        ),
        "hosts": attr.string_list_dict(doc = "{IP address: [names]} added to /etc/hosts after localhost."),
    },
)
