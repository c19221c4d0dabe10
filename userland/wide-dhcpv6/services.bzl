"""dhcp6_client: IPv6 from the ISP by DHCPv6 (WIDE-DHCPv6's dhcp6c), a service template with typed options.

    load("//userland/wide-dhcpv6:services.bzl", "dhcp6_client")

    dhcp6_client(
        name = "wan6",
        wan = ":wan",              # a pppoe (ipv6 = True) or a dhcp_client
        lan = [":lan"],            # numbered from the delegated prefix
        duid_interface = "eth0",   # whose MAC makes the DUID
    )

A macro that makes `NAME`, the longrun, and `NAME_files`: dhcp6c's
configuration and its script, /etc/dhcp6c/SERVICE.conf and .script.

dhcp6c runs in the foreground on the WAN's interface (the `wan` service's,
known at build time), logging to its stderr. It asks for a delegated prefix
(IA_PD) and, with `address`, an address for the WAN (IA_NA), and the DNS
servers; it numbers each interface of `lan` with one /64 of the delegated
prefix (sla-id 0, 1, ... in the order given; the router is ::1 of each),
renews at T1, rebinds at T2, and releases when it
stops. dnsmasq then advertises those /64s on the LAN (its
`router_advertisements`), and the gateway profile does both (`wan6`).

The DUID is DUID-LL (RFC 8415, 11.4) of `duid_interface`'s MAC: the same at
every boot without writable storage (upstream dhcp6c makes a time-based
DUID-LLT and keeps it in a file, which /var, a tmpfs, would lose; see
patches/bazwrt-0003-duid-ll.patch).

When dhcp6c has configured the LAN, its script publishes in the service's
outputs: prefixes (each LAN address with its /64, one a line), address
(the WAN's, with `address`) and dns (one a line); the service is ready
then. A WAN link that goes away (a PPP session that drops comes back as a
new interface) stops dhcp6c (SIGKILL: a Release could not go out), and the
supervisor restarts it with its back-off: it asks again on the new link,
and the ISP's server gives the same prefix back while its binding lives
(//tests/pppoe TestIPv6).

Bad options fail at analysis, naming the attribute.
"""

load("//rules/rootfs:defs.bzl", "FsInfo", "fs_entry", "write_fs_fragment")
load(
    "//rules/service:defs.bzl",
    "InterfaceInfo",
    "SERVICE_ATTRS",
    "ServiceInfo",
    "ifname_error",
    "shell_quote",
    "template_service_name",
    "write_service",
)

_DIR = "/etc/dhcp6c"
_OUTPUTS_DIR = "/run/services/outputs"

# The characters of a service name that dhcp6c's files are named after:
# its configuration names the script in double quotes, which a quote in
# the name would end (and a ";" or brace then start another statement).
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "0123456789" + "._-+@"

# dhcp6c names the prefix-interfaces of one IA_PD by sla-id; 8 bits of
# subnet are what a /56 leaves a /64 (and a /60 only 4).
_MAX_LAN = 16

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _ifname(attr, target):
    if InterfaceInfo not in target:
        _fail(attr, "%s does not own a network interface (no InterfaceInfo): want e.g. a pppoe, dhcp_client or interface_address" % target.label)
    i = target[InterfaceInfo].ifname
    if not i or i.startswith("$"):
        _fail(attr, "%s names its interface only at run time: want a service whose interface is known at build time" % target.label)
    err = ifname_error(i)
    if err:
        _fail(attr, "%s: %s" % (target.label, err))
    return i

DhcpcConfigInfo = provider(
    doc = "dhcp6c's configuration written at build time (the NAME_files target of dhcp6_client).",
    fields = {
        "conf": "Its path on the device.",
        "wan": "The WAN interface.",
        "lan": "The LAN interfaces, in sla-id order.",
        "duid_interface": "The interface whose MAC makes the DUID.",
    },
)

def _files_impl(ctx):
    svc = template_service_name(ctx)
    if [c for c in svc.elems() if c not in _NAME_CHARS]:
        _fail("service_name" if ctx.attr.service_name else "name", "%r names dhcp6c's files: want letters, digits and . _ - + @ only" % svc)
    wan = _ifname("wan", ctx.attr.wan)
    if not ctx.attr.lan:
        _fail("lan", "empty: want the LAN interfaces to number from the delegated prefix")
    if len(ctx.attr.lan) > _MAX_LAN:
        _fail("lan", "%d interfaces: at most %d (a /60 has 16 /64s)" % (len(ctx.attr.lan), _MAX_LAN))
    lan = []
    for t in ctx.attr.lan:
        i = _ifname("lan", t)
        if i == wan:
            _fail("lan", "%s is the WAN interface" % i)
        if i in lan:
            _fail("lan", "%s is given twice" % i)
        lan.append(i)
    duid_if = ctx.attr.duid_interface or wan
    err = ifname_error(duid_if)
    if err:
        _fail("duid_interface", err)

    conf_path = "%s/%s.conf" % (_DIR, svc)
    script_path = "%s/%s.script" % (_DIR, svc)
    pd = ["id-assoc pd 0 {"]
    for n, i in enumerate(lan):
        # ifid 1: the router is ::1 of each /64 (Debian's patch 0007);
        # sla-len is left to dhcp6c, which fits it to the delegated
        # length (Debian's 0021): a /56 gives 8 bits of subnet.
        pd.append("\tprefix-interface %s { sla-id %d; ifid 1; };" % (i, n))
    pd.append("};")
    conf = [
        "# dhcp6c configuration of the service %s (%s), written at build time." % (svc, ctx.label),
        "interface %s {" % wan,
        "\tsend ia-pd 0;",
    ] + (["\tsend ia-na 0;"] if ctx.attr.address else []) + [
        "\trequest domain-name-servers;",
        '\tscript "%s";' % script_path,
        "};",
    ] + pd + (["id-assoc na 0 { };"] if ctx.attr.address else [])

    # dhcp6c runs the script with REASON and new_domain_name_servers in
    # its environment, after it has configured the interfaces.
    out = "%s/%s" % (_OUTPUTS_DIR, svc)
    script = """#!/bin/sh
# dhcp6c's script for the service {svc}: publishes what DHCPv6 gave.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
umask 022
out={out}
publish() {{
	printf '%s\\n' "$2" >"$out/$1.tmp" && mv "$out/$1.tmp" "$out/$1"
}}
global() {{
	ip -6 addr show dev "$1" scope global 2>/dev/null | sed -n 's/.*inet6 \\([0-9a-f:]*\\/[0-9]*\\).*/\\1/p'
}}
[ -d "$out" ] || exit 0
echo "dhcp6c: ${{REASON:-?}}: dns ${{new_domain_name_servers:-none}}" >&2
publish dns "$(printf '%s\\n' ${{new_domain_name_servers:-}})"
{address}p=""
for i in {lan}; do
	p="$p$(global "$i")
"
done
p=$(printf '%s' "$p" | sed '/^$/d')
# Last: the service is ready when the LAN has its prefix.
[ -n "$p" ] && publish prefixes "$p"
exit 0
""".format(
        svc = svc,
        out = shell_quote(out),
        lan = " ".join([shell_quote(i) for i in lan]),
        address = ('publish address "$(global %s)"\n' % shell_quote(wan)) if ctx.attr.address else "",
    )

    conf_file = ctx.actions.declare_file(ctx.label.name + conf_path)
    ctx.actions.write(conf_file, "\n".join(conf) + "\n")
    script_file = ctx.actions.declare_file(ctx.label.name + script_path)
    ctx.actions.write(script_file, script, is_executable = True)
    return [
        DefaultInfo(files = depset([conf_file, script_file])),
        write_fs_fragment(ctx, [
            fs_entry(conf_path, "file", 0o644, str(ctx.label), source = conf_file.path),
            fs_entry(script_path, "file", 0o755, str(ctx.label), source = script_file.path),
        ], [conf_file, script_file]),
        DhcpcConfigInfo(conf = conf_path, wan = wan, lan = lan, duid_interface = duid_if),
    ]

_dhcp6c_files = rule(
    implementation = _files_impl,
    doc = "dhcp6c's configuration and script, checked and written at build time (made by dhcp6_client).",
    attrs = {
        "service": attr.string(mandatory = True),
        "service_name": attr.string(),
        "wan": attr.label(mandatory = True, providers = [ServiceInfo]),
        "lan": attr.label_list(providers = [ServiceInfo]),
        "address": attr.bool(),
        "duid_interface": attr.string(),
    },
)

def _service_impl(ctx):
    c = ctx.attr.files[DhcpcConfigInfo]
    wan = shell_quote(c.wan)

    # dhcp6c binds to the interface's index: a PPP session that comes back
    # is a new interface, so a watcher stops dhcp6c when the index
    # changes, and the supervisor starts it again. Readiness: a watcher
    # holds descriptor 3 until the script has published the prefixes.
    run = "\n".join([
        "mkdir -p /var/lib/dhcpv6",
        "rm -f \"$OUTPUTS/prefixes\" \"$OUTPUTS/address\"",
        "idx=$(cat /sys/class/net/%s/ifindex) || { echo \"dhcp6c: no interface %s yet\" >&2; exit 1; }" % (wan, c.wan),
        # A new PPP link exists before IPv6CP has given it its link-local
        # address; dhcp6c started then gets "Network unreachable" and was
        # seen never to send again: wait for the address while the link
        # lasts.
        "until ip -6 addr show dev %s 2>/dev/null | grep -q 'inet6 fe80:'; do" % wan,
        "\t[ \"$(cat /sys/class/net/%s/ifindex 2>/dev/null)\" = \"$idx\" ] || { echo \"dhcp6c: %s went away before it had an IPv6 link-local address\" >&2; exit 1; }" % (wan, c.wan),
        "\tusleep 200000",
        "done",
        "( while [ ! -s \"$OUTPUTS/prefixes\" ]; do usleep 200000; done; echo >&3 ) &",
        "exec 3>&-",
        "( while [ \"$(cat /sys/class/net/%s/ifindex 2>/dev/null)\" = \"$idx\" ]; do sleep 1; done" % wan,
        # SIGKILL: on SIGTERM dhcp6c would spend 15 s trying to send a
        # Release through the interface that is gone.
        "  echo \"dhcp6c: %s went away; restarting\" >&2; kill -9 $$ ) &" % c.wan,
        "export DHCP6C_DUID_INTERFACE=%s" % shell_quote(c.duid_interface),
        "exec dhcp6c -f -c %s -p %s %s" % (shell_quote(c.conf), shell_quote("/run/dhcp6c-%s.pid" % template_service_name(ctx)), wan),
    ]) + "\n"
    return write_service(
        ctx,
        "longrun",
        {"run": run, "notification-fd": "3\n"},
        ctx.attr.deps,
        packages = ctx.attr.packages + [ctx.attr.files],
    )

_SERVICE_ATTRS = dict(SERVICE_ATTRS)
_SERVICE_ATTRS.update({
    "packages": attr.label_list(
        default = ["//userland/wide-dhcpv6", "//userland/busybox"],
        doc = "Packages the service needs in the image (default: dhcp6c, busybox); its configuration is added.",
    ),
    "service": attr.string(mandatory = True),
    "files": attr.label(mandatory = True, providers = [DhcpcConfigInfo, FsInfo]),
})

_dhcp6_client_service = rule(
    implementation = _service_impl,
    doc = "The dhcp6c longrun (made by dhcp6_client).",
    attrs = _SERVICE_ATTRS,
)

def dhcp6_client(
        name,
        wan,
        lan,
        address = True,
        duid_interface = "",
        service_name = "",
        deps = [],
        **kwargs):
    """IPv6 from the ISP by DHCPv6 with prefix delegation (see the file's doc).

    Args:
      name: the service's target (and its name on the device, unless
        service_name); NAME_files is its configuration's.
      wan: the WAN service (a pppoe with ipv6 = True, or a dhcp_client):
        DHCPv6 runs on its interface, after it is up.
      lan: the services of the LAN interfaces (e.g. the gateway's :lan),
        each numbered with one /64 of the delegated prefix, in order.
      address: also ask for an address for the WAN interface (IA_NA).
      duid_interface: the interface whose MAC makes the DUID (default the
        WAN's; for PPPoE, the Ethernet it runs on).
      service_name: the name on the device, if not `name`.
      deps: services needed besides wan and lan.
      **kwargs: the service's other attributes (after, packages,
        kernel_fragments, visibility, tags, testonly...).
    """
    common = {k: kwargs[k] for k in ("tags", "testonly", "visibility", "compatible_with", "target_compatible_with") if k in kwargs}
    _dhcp6c_files(
        name = name + "_files",
        service = name,
        service_name = service_name,
        wan = wan,
        lan = lan,
        address = address,
        duid_interface = duid_interface,
        **common
    )
    _dhcp6_client_service(
        name = name,
        service = name,
        files = ":" + name + "_files",
        service_name = service_name,
        deps = [wan] + lan + deps,
        **kwargs
    )
