"""pppoe: a PPPoE uplink (pppd with kernel-mode PPPoE), a service template with typed options.

    load("//userland/ppp:services.bzl", "pppoe")

    pppoe(
        name = "wan",
        interface = "eth0",
        username = "customer@isp",
        password = "...",
        lcp_echo_interval = 10,
        lcp_echo_failure = 3,
        mtu = 1492,
        ipv6 = True,
        after = ["firewall"],
    )

A macro that makes two targets: `NAME`, the longrun, and `NAME_options`, its
pppd options file, /etc/ppp/SERVICE.options in the image, mode 0600 (it
holds the password: readable by root only, and listed in the manifest with
that mode). The longrun runs `pppd file /etc/ppp/SERVICE.options`: in the
foreground (`nodetach`), logging to its stderr (/run/log/SERVICE/), PPPoE
on `interface` through pppd's pppoe plugin, which our static pppd has built
in (userland/ppp).

The link is the interface `ifname` (default ppp0), which the service
publishes at start, so the firewall's zone has it before it exists. When
IPCP is up, pppd's ip-up (/etc/ppp/ip-up, userland/ppp) points the default
route at the link, writes the peer's DNS servers to /run/resolv.conf and
publishes in the service's outputs: address (LOCAL/32), peer, dns (one a
line) and resolv.conf (dnsmasq's upstreams); ip-down removes them. The
service is ready when the address is published. With `ipv6`, IPv6CP gives
the link its link-local addresses, and ipv6-up points the IPv6 default
route at the link and publishes link6 (the local link-local address);
global addresses and the LAN's prefix come from DHCPv6 on the link (the
`dhcp6_client` service of //userland/wide-dhcpv6).

pppd runs without `persist`: when the link drops (LCP echoes unanswered
`lcp_echo_failure` times at `lcp_echo_interval` seconds, or the ISP's PADT)
or authentication fails, pppd exits, and the supervisor restarts it with
its back-off (1 s doubling to 30 s; reset after 10 s up). The finish
script logs the reason, from pppd's exit code.

Bad options fail at analysis, naming the attribute: the interface names,
credentials pppd's option syntax cannot carry (control characters, or
longer than 255 bytes), MTU/MRU outside 576..1492 (PPPoE's 8 bytes of
header in a 1500-byte Ethernet frame), LCP timings out of range.
"""

load("//rules/rootfs:defs.bzl", "FsInfo", "fs_entry", "write_fs_fragment")
load(
    "//rules/service:defs.bzl",
    "SERVICE_ATTRS",
    "first_unprintable",
    "ifname_error",
    "publish_ifname",
    "shell_quote",
    "template_service_name",
    "write_service",
)

_OPTIONS_DIR = "/etc/ppp"
_OUTPUTS_DIR = "/run/services/outputs"

# pppd's exit codes (pppd/pppd.h), for the finish script's log line.
_EXIT_REASONS = [
    ("1", "fatal error (see above)"),
    ("2", "bad option (see above)"),
    ("3", "not run as root"),
    ("4", "the kernel has no PPP support"),
    ("5", "terminated by a signal"),
    ("6", "the serial port could not be locked"),
    ("7", "the serial port could not be opened"),
    ("8", "no connection: for PPPoE, no access concentrator answered (see above)"),
    ("10", "PPP negotiation failed"),
    ("11", "the peer failed to authenticate itself"),
    ("12", "the link was idle"),
    ("13", "the connect time limit was reached"),
    ("15", "the peer stopped responding to LCP echo requests (link dead)"),
    ("16", "the modem hung up (the ISP ended the session)"),
    ("17", "PPP negotiation failed: loopback detected"),
    ("18", "the init script failed"),
    ("19", "authentication failed: the ISP refused the username or password"),
]

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def pppd_quote(attr, s):
    """Quotes s as one word of a pppd options or secrets file.

    Args:
      attr: the attribute s comes from, for the error.
      s: the value: 1 to 255 bytes, no control characters.

    Returns:
      s in double quotes, with backslashes and quotes escaped.
    """
    if not s:
        _fail(attr, "must not be empty")
    if len(s) > 255:
        _fail(attr, "%d bytes: pppd takes at most 255" % len(s))
    c = first_unprintable(s)
    if c != None:
        _fail(attr, "contains %r: want printable ASCII (a control character would end the option in pppd's file)" % c)
    return _pppd_escape(s)

def _pppd_escape(s):
    """s in double quotes, with backslashes and quotes escaped for pppd."""
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')

def _range(attr, v, lo, hi, why):
    if v < lo or v > hi:
        _fail(attr, "%d is out of range: want %d..%d (%s)" % (v, lo, hi, why))

def _options_impl(ctx):
    svc = template_service_name(ctx)
    for a in ("interface", "ifname"):
        err = ifname_error(getattr(ctx.attr, a))
        if err:
            _fail(a, err)
    if ctx.attr.interface == ctx.attr.ifname:
        _fail("ifname", "%r is also the Ethernet interface PPPoE runs on" % ctx.attr.ifname)
    for a in ("mtu", "mru"):
        _range(a, getattr(ctx.attr, a), 576, 1492, "PPPoE's header leaves 1492 bytes of a 1500-byte Ethernet frame")
    _range("lcp_echo_interval", ctx.attr.lcp_echo_interval, 1, 3600, "seconds between LCP echo requests")
    _range("lcp_echo_failure", ctx.attr.lcp_echo_failure, 1, 100, "unanswered echoes before the link is dead")

    lines = [
        "# pppd options of the service %s (%s), written at build time;" % (svc, ctx.label),
        "# run as: pppd file %s/%s.options" % (_OPTIONS_DIR, svc),
        "plugin pppoe.so",
        "nic-" + ctx.attr.interface,
        "ifname " + ctx.attr.ifname,
        "user " + pppd_quote("username", ctx.attr.username),
        "password " + pppd_quote("password", ctx.attr.password),
        # The ISP does not authenticate itself to us.
        "noauth",
        "nodetach",
        "logfd 2",
        "noipdefault",
        "usepeerdns",
        # The root is read-only: ip-up writes /run/resolv.conf instead.
        "noresolvconf",
        "mtu %d" % ctx.attr.mtu,
        "mru %d" % ctx.attr.mru,
        "lcp-echo-interval %d" % ctx.attr.lcp_echo_interval,
        "lcp-echo-failure %d" % ctx.attr.lcp_echo_failure,
        "noccp",
        "novj",
        "ip-up-script %s/ip-up" % _OPTIONS_DIR,
        "ip-down-script %s/ip-down" % _OPTIONS_DIR,
        # ip-up's sixth argument: where to publish the link's addresses,
        # and whether to leave the default route to a default_route service.
        # A service name may hold quotes and backslashes.
        "ipparam " + _pppd_escape("%s/%s%s" % (_OUTPUTS_DIR, svc, "" if ctx.attr.default_route else " noroute")),
    ]
    if ctx.attr.ipv6:
        lines += [
            "+ipv6",
            "ipv6-up-script %s/ipv6-up" % _OPTIONS_DIR,
            "ipv6-down-script %s/ipv6-down" % _OPTIONS_DIR,
        ]
    else:
        lines.append("noipv6")

    path = "%s/%s.options" % (_OPTIONS_DIR, svc)
    out = ctx.actions.declare_file(ctx.label.name + path)
    ctx.actions.write(out, "\n".join(lines) + "\n")
    return [
        DefaultInfo(files = depset([out])),
        # The password: root only.
        write_fs_fragment(ctx, [fs_entry(path, "file", 0o600, str(ctx.label), source = out.path)], [out]),
        PppOptionsInfo(path = path, ifname = ctx.attr.ifname, interface = ctx.attr.interface),
    ]

PppOptionsInfo = provider(
    doc = "A pppd options file written at build time (the NAME_options target of the pppoe macro).",
    fields = {
        "path": "Its path on the device (/etc/ppp/SERVICE.options).",
        "ifname": "The PPP interface's name.",
        "interface": "The Ethernet interface PPPoE runs on.",
    },
)

_pppoe_options = rule(
    implementation = _options_impl,
    doc = "pppd's options file, checked and written at build time (made by the pppoe macro).",
    attrs = {
        "service": attr.string(mandatory = True),
        "service_name": attr.string(),
        "interface": attr.string(mandatory = True),
        "ifname": attr.string(),
        "username": attr.string(mandatory = True),
        "password": attr.string(mandatory = True),
        "mtu": attr.int(),
        "mru": attr.int(),
        "lcp_echo_interval": attr.int(),
        "lcp_echo_failure": attr.int(),
        "ipv6": attr.bool(),
        "default_route": attr.bool(),
    },
)

def _finish_script():
    cases = "\n".join(["%s) why=%s ;;" % (code, shell_quote(why)) for code, why in _EXIT_REASONS])
    return """#!/bin/sh
# s6 finish: $1 is pppd's exit code (256 when killed by signal $2).
case "$1" in
%s
256) why="killed by signal $2" ;;
*) why="exit code $1" ;;
esac
echo "pppoe: pppd ended: $why; restarting with back-off" >&2
""" % cases

def _service_impl(ctx):
    opts = ctx.attr.options[PppOptionsInfo]

    # Readiness: a watcher holds descriptor 3 until ip-up has published
    # the address; pppd itself knows nothing of s6's notification.
    run = "\n".join([
        publish_ifname(opts.ifname),
        "ip link set %s up" % shell_quote(opts.interface),
        "( while [ ! -s \"$OUTPUTS/address\" ]; do usleep 200000; done; echo >&3 ) &",
        "exec 3>&-",
        "exec pppd file %s" % shell_quote(opts.path),
    ]) + "\n"
    return write_service(
        ctx,
        "longrun",
        {"run": run, "finish": _finish_script(), "notification-fd": "3\n"},
        ctx.attr.deps,
        packages = ctx.attr.packages + [ctx.attr.options],
        interface = {"ifname": opts.ifname},
    )

_SERVICE_ATTRS = dict(SERVICE_ATTRS)
_SERVICE_ATTRS.update({
    "packages": attr.label_list(
        default = ["//userland/ppp", "//userland/ppp:scripts", "//userland/busybox"],
        doc = "Packages the service needs in the image (default: pppd, its scripts, busybox); its options file is added.",
    ),
    "kernel_fragments": attr.label_list(allow_files = True, default = ["//kernel:features/ppp.config"]),
    "options": attr.label(mandatory = True, providers = [PppOptionsInfo, FsInfo]),
})

_pppoe_service = rule(
    implementation = _service_impl,
    doc = "The pppd longrun (made by the pppoe macro).",
    attrs = _SERVICE_ATTRS,
)

def pppoe(
        name,
        interface,
        username,
        password,
        ifname = "ppp0",
        mtu = 1492,
        mru = 1492,
        lcp_echo_interval = 10,
        lcp_echo_failure = 3,
        ipv6 = False,
        default_route = True,
        service_name = "",
        **kwargs):
    """A PPPoE uplink (see the file's doc).

    Args:
      name: the service's target (and its name on the device, unless
        service_name); NAME_options is its options file's.
      interface: the Ethernet interface PPPoE runs on, e.g. eth0.
      username: the PPP username (PAP or CHAP, as the ISP asks).
      password: its password (in a root-only file on the device).
      ifname: the PPP interface's name.
      mtu: the link's MTU (576..1492).
      mru: the MRU asked of the peer (576..1492).
      lcp_echo_interval: seconds between LCP echo requests.
      lcp_echo_failure: unanswered echo requests before the link is dead.
      ipv6: negotiate IPv6CP (link-local addresses; DHCPv6 gets the rest).
      default_route: point the default route(s) at the link when it comes
        up; False leaves them to a default_route service.
      service_name: the name on the device, if not `name`.
      **kwargs: the service's other attributes (deps, after, packages,
        kernel_fragments, visibility, tags, testonly...).
    """
    common = {k: kwargs[k] for k in ("tags", "testonly", "visibility", "compatible_with", "target_compatible_with") if k in kwargs}
    _pppoe_options(
        name = name + "_options",
        service = name,
        service_name = service_name,
        interface = interface,
        ifname = ifname,
        username = username,
        password = password,
        mtu = mtu,
        mru = mru,
        lcp_echo_interval = lcp_echo_interval,
        lcp_echo_failure = lcp_echo_failure,
        ipv6 = ipv6,
        default_route = default_route,
        **common
    )
    _pppoe_service(
        name = name,
        options = ":" + name + "_options",
        service_name = service_name,
        **kwargs
    )
