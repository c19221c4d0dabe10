"""ssh_server: dropbear with key-only logins, a service template with typed options.

    load("//userland/dropbear:services.bzl", "ssh_server")

    ssh_server(name = "ssh", authorized_keys = ["ssh-ed25519 AAAA... me@laptop"])
"""

load("//rules/service:defs.bzl", "SERVICE_ATTRS", "write_service")

_KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"]
_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="

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

def _ssh_server_impl(ctx):
    keys = ctx.attr.authorized_keys
    if not keys:
        _fail("authorized_keys", "want at least one public key: there are no password logins")
    for k in keys:
        err = _key_error(k)
        if err:
            _fail("authorized_keys", err)
    if ctx.attr.port < 1 or ctx.attr.port > 65535:
        _fail("port", "want 1-65535, got %d" % ctx.attr.port)

    # The keys and the host key live in /run (the root is read-only); the
    # host key is new at each boot until the device has a writable
    # filesystem. -s: no password logins; -D: where authorized_keys is.
    run = """d=/run/dropbear
mkdir -p $d && chmod 700 $d
printf '%s\\n' {keys} >$d/authorized_keys && chmod 600 $d/authorized_keys
[ -f $d/ed25519 ] || dropbearkey -t ed25519 -f $d/ed25519 >/dev/null
exec dropbear -F -E -s -D $d -r $d/ed25519 -p {port}
""".format(keys = " ".join(["'%s'" % k for k in keys]), port = ctx.attr.port)
    return write_service(ctx, "longrun", {"run": run}, ctx.attr.deps)

_ATTRS = dict(SERVICE_ATTRS)
_ATTRS.update({
    "packages": attr.label_list(default = ["//userland/dropbear"], doc = "Packages the service needs (default: dropbear)."),
    "authorized_keys": attr.string_list(doc = "Public keys (\"ssh-ed25519 AAAA... comment\") that may log in as root; at least one."),
    "port": attr.int(default = 22, doc = "The TCP port."),
})

ssh_server = rule(
    implementation = _ssh_server_impl,
    doc = "An SSH server (dropbear) that lets root in with the given keys only.",
    attrs = _ATTRS,
)
