"""ssh_server: dropbear with key-only logins, a service template with typed options.

    load("//userland/dropbear:services.bzl", "ssh_server")

    ssh_server(
        name = "ssh",
        authorized_keys_files = ["//:authorized_keys"],
        listen = [":lan"],
    )

No key, no server: with no keys at all (the usual case on a fresh clone,
where //:authorized_keys is empty until the user creates the file) the
service is a oneshot that says so at boot, dropbear is left out of the
image and the image's size report carries the note.
"""

load("//rules/service:defs.bzl", "InterfaceInfo", "SERVICE_ATTRS", "shell_quote", "write_service")

_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

# The same rule for keys from files, checked when the image is built.
_KEY_ERE = "^(%s) [A-Za-z0-9+/=]+( [^']*)?$" % "|".join(_KEY_TYPES)

NO_KEYS_NOTE = "no SSH server: the image was built without authorized keys (create authorized_keys at the workspace root, one public key per line; see docs/router.md)"

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _key_error(k):
    parts = k.split(" ")
    if len(parts) < 2 or parts[0] not in _KEY_TYPES:
        return "want \"TYPE BASE64 [comment]\" with TYPE one of %s, got %r" % (", ".join(_KEY_TYPES), k[:48])
    if not parts[1] or [c for c in parts[1].elems() if c not in _BASE64]:
        return "the key after %s is not base64: %r" % (parts[0], parts[1][:32])
    if "\n" in k or "'" in k:
        return "one key per entry, without newlines or quotes"
    return None

def _listen_addresses(ctx):
    """dropbear -p arguments: ADDR:PORT for each static address of listen."""
    if ctx.attr.listen and ctx.attr.listen_anywhere:
        _fail("listen_anywhere", "listen names where to listen already; set one of the two")
    if not ctx.attr.listen:
        if not ctx.attr.listen_anywhere:
            _fail("listen", "want the services whose addresses SSH listens on (e.g. the LAN's), or listen_anywhere = True")
        return ["%d" % ctx.attr.port]
    out = []
    for t in ctx.attr.listen:
        i = t[InterfaceInfo]
        if not i.addresses:
            _fail("listen", "%s has no static address to listen on (%s gets its address at run time)" % (t.label, i.ifname or i.service))
        for a in i.addresses:
            ip = a.partition("/")[0]
            out.append(("[%s]:%d" if ":" in ip else "%s:%d") % (ip, ctx.attr.port))
    return out

def _ssh_server_impl(ctx):
    keys = ctx.attr.authorized_keys
    for k in keys:
        err = _key_error(k)
        if err:
            _fail("authorized_keys", err)
    if ctx.attr.port < 1 or ctx.attr.port > 65535:
        _fail("port", "want 1-65535, got %d" % ctx.attr.port)
    listen = _listen_addresses(ctx)
    files = ctx.files.authorized_keys_files
    if not keys and not files:
        return write_service(
            ctx,
            "oneshot",
            {"up": "echo %s >&2\n" % shell_quote("%s: no SSH server, the image has no authorized keys" % ctx.label.name)},
            ctx.attr.deps,
            notes = [NO_KEYS_NOTE],
            packages = [],
        )

    # The keys and the host key live in /run (the root is read-only); the
    # host key is new at each boot until the device has a writable
    # filesystem. -s: no password logins; -D: where authorized_keys is.
    # The keys go into the script as a quoted here-document: every line is
    # checked to be a key (no quote, no line that could end it).
    head = "d=/run/dropbear\nmkdir -p $d && chmod 700 $d\ncat >$d/authorized_keys <<'KEYS'\n"
    tail = """KEYS
chmod 600 $d/authorized_keys
[ -f $d/ed25519 ] || dropbearkey -t ed25519 -f $d/ed25519 >/dev/null
exec dropbear -F -E -s -D $d -r $d/ed25519 {listen}
""".format(listen = " ".join(["-p " + shell_quote(a) for a in listen]))
    run = ctx.actions.declare_file(ctx.label.name + ".run")
    args = ctx.actions.args()
    args.add(run)
    args.add(head)
    args.add(tail)
    args.add("".join([k + "\n" for k in keys]))
    args.add(_KEY_ERE)
    args.add_all(files)
    ctx.actions.run_shell(
        outputs = [run],
        inputs = files,
        arguments = [args],
        mnemonic = "SshKeys",
        progress_message = "Checking the authorized keys of %s" % ctx.label,
        command = """set -eu
out=$1 head=$2 tail=$3 inline=$4 ere=$5
shift 5
keys=$(printf '%s' "$inline"; for f in "$@"; do
  n=0
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    case "$line" in (''|'#'*) continue ;; esac
    if ! printf '%s\\n' "$line" | grep -Eq "$ere"; then
      echo "$f:$n: not an OpenSSH public key line (want TYPE BASE64 [comment], TYPE one of {types}, no quotes)" >&2
      exit 1
    fi
    printf '%s\\n' "$line"
  done <"$f"
done)
if [ -z "$keys" ]; then
  echo {label}": the authorized keys files hold no key: $*" >&2
  exit 1
fi
printf '%s%s\\n%s' "$head" "$keys" "$tail" >"$out"
""".format(
            types = ", ".join(_KEY_TYPES),
            label = shell_quote(str(ctx.label)),
        ),
    )
    return write_service(ctx, "longrun", {"run": run}, ctx.attr.deps + ctx.attr.listen)

_ATTRS = dict(SERVICE_ATTRS)
_ATTRS.update({
    "packages": attr.label_list(default = ["//userland/dropbear"], doc = "Packages the service needs (default: dropbear)."),
    "authorized_keys": attr.string_list(doc = "Public keys (\"ssh-ed25519 AAAA... comment\") that may log in as root."),
    "authorized_keys_files": attr.label_list(
        allow_files = True,
        doc = "Files of public keys, one per line (# comments and blank lines allowed), checked at build time. With neither keys nor files, there is no SSH server.",
    ),
    "listen": attr.label_list(
        providers = [InterfaceInfo],
        doc = "Services whose static addresses SSH listens on (e.g. the LAN's address); the server starts after them.",
    ),
    "listen_anywhere": attr.bool(doc = "Listen on every address, the WAN's included, instead of `listen`."),
    "port": attr.int(default = 22, doc = "The TCP port."),
})

ssh_server = rule(
    implementation = _ssh_server_impl,
    doc = "An SSH server (dropbear) that lets root in with the given keys only, on the given addresses only.",
    attrs = _ATTRS,
)
