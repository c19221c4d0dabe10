"""pppoe_server: a PPPoE access concentrator (rp-pppoe's pppoe-server with pppd), for emulated ISPs.

    load("//userland/rp-pppoe:services.bzl", "pppoe_server")

    pppoe_server(
        name = "pppoe_server",
        interface = "eth0",
        local_address = "100.64.0.1",
        first_address = "100.64.0.10",
        sessions = 16,
        users = {"customer": "its-password"},
        auth = "chap",
        dns = ["203.0.113.53"],
    )

A test peer, not a router's service: the emulated ISP (devices/qemu-isp)
runs it so that the router's `pppoe` service has something to dial.

A macro that makes `NAME`, the longrun, and `NAME_files`: the pppd options
of the sessions (/etc/ppp/SERVICE.server-options) and the secrets
(/etc/ppp/pap-secrets or /etc/ppp/chap-secrets, mode 0600, the fixed paths
pppd reads: one server per image). The longrun runs pppoe-server in the
foreground in kernel mode (`-k`: each session's pppd uses the kernel's
PPPoE through the pppoe plugin, built into our pppd), on `interface`, with
the server's end of every session at `local_address` and the subscribers'
from `first_address` on, one per session, at most `sessions` at a time.
Each session requires PAP or CHAP (`auth`) with one of `users`, gives the
subscriber the `dns` servers (IPCP), and with `ipv6` negotiates IPv6CP.
pppd logs to the service's log.

Bad options fail at analysis, naming the attribute.
"""

load("//rules/rootfs:defs.bzl", "FsInfo", "fs_entry", "write_fs_fragment")
load(
    "//rules/service:defs.bzl",
    "SERVICE_ATTRS",
    "ifname_error",
    "int_to_ipv4",
    "ipv4_error",
    "ipv4_to_int",
    "shell_quote",
    "template_service_name",
    "write_service",
)
load("//userland/ppp:services.bzl", "pppd_quote")

_DIR = "/etc/ppp"

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _ipv4(attr, v):
    err = ipv4_error(v)
    if err:
        _fail(attr, err)
    return ipv4_to_int(v)

def _entry(ctx, path, content, mode):
    f = ctx.actions.declare_file(ctx.label.name + path)
    ctx.actions.write(f, content)
    return f, fs_entry(path, "file", mode, str(ctx.label), source = f.path)

def _files_impl(ctx):
    svc = template_service_name(ctx)
    err = ifname_error(ctx.attr.interface)
    if err:
        _fail("interface", err)
    local = _ipv4("local_address", ctx.attr.local_address)
    first = _ipv4("first_address", ctx.attr.first_address)
    if ctx.attr.sessions < 1 or ctx.attr.sessions > 1024:
        _fail("sessions", "%d is out of range: want 1..1024" % ctx.attr.sessions)
    last = first + ctx.attr.sessions - 1
    if last > 0xffffffff:
        _fail("sessions", "%d addresses from %s run past 255.255.255.255" % (ctx.attr.sessions, ctx.attr.first_address))
    if local >= first and local <= last:
        _fail("local_address", "%s is among the subscribers' addresses %s-%s" % (ctx.attr.local_address, ctx.attr.first_address, int_to_ipv4(last)))
    if ctx.attr.auth not in ("pap", "chap"):
        _fail("auth", "%r: want \"pap\" or \"chap\"" % ctx.attr.auth)
    if not ctx.attr.users:
        _fail("users", "no users: want at least one {username: password}")
    for d in ctx.attr.dns:
        _ipv4("dns", d)

    options = [
        "# pppd options of the sessions of %s (%s), written at build time." % (svc, ctx.label),
        "require-" + ctx.attr.auth,
        "lcp-echo-interval 10",
        "lcp-echo-failure 3",
        "mtu 1492",
        "mru 1492",
        "noccp",
        "novj",
        "nodefaultroute",
        "logfd 2",
    ] + ["ms-dns " + d for d in ctx.attr.dns]
    options.append("+ipv6" if ctx.attr.ipv6 else "noipv6")
    secrets = ["# %s-secrets of %s (%s): client server secret addresses" % (ctx.attr.auth, svc, ctx.label)]
    for user, password in sorted(ctx.attr.users.items()):
        secrets.append("%s * %s *" % (pppd_quote("users", user), pppd_quote("users", password)))

    opts_path = "%s/%s.server-options" % (_DIR, svc)
    opts, opts_entry = _entry(ctx, opts_path, "\n".join(options) + "\n", 0o644)
    sec, sec_entry = _entry(ctx, "%s/%s-secrets" % (_DIR, ctx.attr.auth), "\n".join(secrets) + "\n", 0o600)
    args = [
        "-F",
        "-k",
        "-I",
        ctx.attr.interface,
        "-L",
        ctx.attr.local_address,
        "-R",
        ctx.attr.first_address,
        "-N",
        str(ctx.attr.sessions),
        "-O",
        opts_path,
    ]
    return [
        DefaultInfo(files = depset([opts, sec])),
        write_fs_fragment(ctx, [opts_entry, sec_entry], [opts, sec]),
        _ServerInfo(args = args),
    ]

_ServerInfo = provider(doc = "pppoe-server's command-line arguments.", fields = {"args": "list of strings"})

_pppoe_server_files = rule(
    implementation = _files_impl,
    attrs = {
        "service": attr.string(mandatory = True),
        "service_name": attr.string(),
        "interface": attr.string(mandatory = True),
        "local_address": attr.string(mandatory = True),
        "first_address": attr.string(mandatory = True),
        "sessions": attr.int(),
        "users": attr.string_dict(),
        "auth": attr.string(),
        "dns": attr.string_list(),
        "ipv6": attr.bool(),
    },
)

def _service_impl(ctx):
    args = ctx.attr.files[_ServerInfo].args
    run = "exec pppoe-server %s\n" % " ".join([shell_quote(a) for a in args])
    return write_service(
        ctx,
        "longrun",
        {"run": run},
        ctx.attr.deps,
        packages = ctx.attr.packages + [ctx.attr.files],
    )

_SERVICE_ATTRS = dict(SERVICE_ATTRS)
_SERVICE_ATTRS.update({
    "packages": attr.label_list(
        default = ["//userland/rp-pppoe", "//userland/ppp"],
        doc = "Packages the service needs in the image (default: pppoe-server, pppd); its files are added.",
    ),
    "kernel_fragments": attr.label_list(allow_files = True, default = ["//kernel:features/ppp.config"]),
    "files": attr.label(mandatory = True, providers = [_ServerInfo, FsInfo]),
})

_pppoe_server_service = rule(
    implementation = _service_impl,
    doc = "The pppoe-server longrun (made by the pppoe_server macro).",
    attrs = _SERVICE_ATTRS,
)

def pppoe_server(
        name,
        interface,
        local_address,
        first_address,
        users,
        sessions = 16,
        auth = "chap",
        dns = [],
        ipv6 = False,
        service_name = "",
        **kwargs):
    """A PPPoE access concentrator (see the file's doc).

    Args:
      name: the service's target (and its name on the device, unless
        service_name); NAME_files is its files'.
      interface: the Ethernet interface subscribers are on.
      local_address: the server's IPv4 address on every session.
      first_address: the first subscriber's IPv4 address.
      users: {username: password} accepted.
      sessions: at most this many sessions (and subscriber addresses).
      auth: "pap" or "chap": what the server requires.
      dns: IPv4 DNS servers given to subscribers.
      ipv6: negotiate IPv6CP.
      service_name: the name on the device, if not `name`.
      **kwargs: the service's other attributes (deps, after, visibility...).
    """
    common = {k: kwargs[k] for k in ("tags", "testonly", "visibility", "compatible_with", "target_compatible_with") if k in kwargs}
    _pppoe_server_files(
        name = name + "_files",
        service = name,
        service_name = service_name,
        interface = interface,
        local_address = local_address,
        first_address = first_address,
        sessions = sessions,
        users = users,
        auth = auth,
        dns = dns,
        ipv6 = ipv6,
        **common
    )
    _pppoe_server_service(
        name = name,
        files = ":" + name + "_files",
        service_name = service_name,
        **kwargs
    )
