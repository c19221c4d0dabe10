"""firewall: an nftables firewall with zones, a service template with typed options.

    load("//userland/firewall:services.bzl", "firewall")

    firewall(
        name = "firewall",
        zones = {":lan": "lan", ":wan": "wan"},
        inbound = {"lan": ["tcp/22", "udp/53", "tcp/53", "udp/67"]},
        forward = {"lan": ["wan"]},
        masquerade = ["wan"],
        port_forwards = ["wan tcp/8080 192.168.8.10:80"],
    )

The ruleset is compiled when the image is built (//tools:firewall-compile)
into /etc/firewall/<name>.nft, nft syntax, listed in the image's manifest.
On the device the service (`firewall run`, in init's multicall binary)
loads it in one atomic transaction, then keeps each zone's set of interface
names equal to the interfaces its member services have up: a member writes
its interface to $OUTPUTS/ifname when it brings it up, and init removes its
outputs when it stops (see InterfaceInfo). Defaults: input and forward
dropped except established/related traffic, what `inbound` opens to the
router, the zone pairs of `forward` and what port forwards open; ICMP rate
limited, the ICMPv6 that IPv6 needs; reverse-path filtering; IPv4
masqueraded out of the `masquerade` zones. See docs/router.md.

The kernel options come with the service (kernel_fragments), and the
image's lost-option check covers them.
"""

load("//rules/rootfs:defs.bzl", "FsInfo", "fs_entry", "write_fs_fragment")
load("//rules/service:defs.bzl", "InterfaceInfo", "SERVICE_ATTRS", "ipv4_error", "ipv4_to_int", "shell_quote", "write_service")

FirewallInfo = provider(
    doc = "A compiled firewall ruleset and what its service needs to run it.",
    fields = {
        "ruleset": "File: the compiled ruleset (nft syntax).",
        "path": "Where the ruleset is in the image.",
        "zones": "dict: zone name -> list of member service names.",
    },
)

_PROTOS = ["tcp", "udp"]
_CHAINS = ["input", "forward", "output", "prerouting", "postrouting", "dstnat", "srcnat"]
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _port(attr, s, what):
    if not s.isdigit() or len(s) > 5 or int(s) < 1 or int(s) > 65535:
        _fail(attr, "%s: %r is not a port: want a number from 1 to 65535" % (what, s))
    return int(s)

def _proto_ports(attr, v):
    """Parses PROTO/PORT or PROTO/FIRST-LAST into (proto, "ports")."""
    proto, sep, ports = v.partition("/")
    if not sep or proto not in _PROTOS:
        _fail(attr, "%r: want PROTO/PORT or PROTO/FIRST-LAST with PROTO one of %s, e.g. tcp/22" % (v, ", ".join(_PROTOS)))
    first, dash, last = ports.partition("-")
    lo = _port(attr, first, v)
    if dash:
        hi = _port(attr, last, v)
        if lo > hi:
            _fail(attr, "%r: the range's first port is above its last" % v)
    return proto, ports

def _zone(attr, z, zones):
    if z not in zones:
        _fail(attr, "zone %r is not defined: want one of %s (the values of zones)" % (z, ", ".join(sorted(zones.keys())) or "none"))
    return z

def _in_subnet(addr, cidr):
    net, _, plen = cidr.partition("/")
    if ":" in net:
        return False
    size = 1
    for _ in range(32 - int(plen)):
        size *= 2
    return ipv4_to_int(addr) // size == ipv4_to_int(net) // size

def _ruleset_impl(ctx):
    # Zones: member services (with InterfaceInfo) -> zone name.
    zones = {}
    addresses = []
    inbound = []
    for target, zone in ctx.attr.zones.items():
        if not zone or len(zone) > 12 or zone[0] not in _NAME_CHARS[:26] or [c for c in zone.elems() if c not in _NAME_CHARS]:
            _fail("zones", "%r (for %s) is not a zone name: want 1 to 12 of a-z, 0-9, _, starting with a letter" % (zone, target.label))
        info = target[InterfaceInfo]
        zones.setdefault(zone, [])
        if info.service in zones[zone]:
            _fail("zones", "service %r is in zone %r twice" % (info.service, zone))
        zones[zone].append(info.service)
        addresses += info.addresses
        for v in info.inbound:
            proto, ports = _proto_ports("zones", v)
            inbound.append({"zone": zone, "proto": proto, "ports": ports})
    if not zones:
        _fail("zones", "want at least one zone: {\":lan\": \"lan\", \":wan\": \"wan\"}")
    seen = {}
    for target, zone in ctx.attr.zones.items():
        s = target[InterfaceInfo].service
        if s in seen and seen[s] != zone:
            _fail("zones", "service %r is in two zones, %r and %r" % (s, seen[s], zone))
        seen[s] = zone

    for zone, opens in ctx.attr.inbound.items():
        _zone("inbound", zone, zones)
        for v in opens:
            proto, ports = _proto_ports("inbound", v)
            inbound.append({"zone": zone, "proto": proto, "ports": ports})
    for zone in ctx.attr.inbound_all:
        _zone("inbound_all", zone, zones)
    forward = []
    for src, dsts in ctx.attr.forward.items():
        _zone("forward", src, zones)
        for dst in dsts:
            _zone("forward", dst, zones)
            if dst == src:
                _fail("forward", "%r to itself: traffic within a zone is not forwarded by zone rules" % src)
            forward.append({"from": src, "to": dst})
    for zone in ctx.attr.masquerade:
        _zone("masquerade", zone, zones)
    for zone in ctx.attr.clamp_mss:
        _zone("clamp_mss", zone, zones)

    forwards = []
    for v in ctx.attr.port_forwards:
        parts = v.split(" ")
        if len(parts) != 3:
            _fail("port_forwards", "%r: want \"ZONE PROTO/PORT ADDRESS:PORT\", e.g. \"wan tcp/8080 192.168.8.10:80\"" % v)
        zone = _zone("port_forwards", parts[0], zones)
        proto, port = _proto_ports("port_forwards", parts[1])
        if "-" in port:
            _fail("port_forwards", "%r: forward one port, not a range" % v)
        to_addr, colon, to_port = parts[2].rpartition(":")
        if not colon:
            _fail("port_forwards", "%r: want the destination as ADDRESS:PORT" % v)
        err = ipv4_error(to_addr)
        if err:
            _fail("port_forwards", err)
        nets = [a for a in addresses if _in_subnet(to_addr, a)]
        if not nets:
            _fail("port_forwards", "%r: %s is in none of the zones' subnets (%s)" % (v, to_addr, ", ".join(addresses) or "no static addresses"))
        if to_addr in [a.partition("/")[0] for a in addresses]:
            _fail("port_forwards", "%r: %s is the router's own address" % (v, to_addr))
        forwards.append({
            "zone": zone,
            "proto": proto,
            "port": int(port),
            "to_addr": to_addr,
            "to_port": _port("port_forwards", to_port, v),
        })

    rate = ctx.attr.icmp_rate
    n, slash, unit = rate.partition("/")
    if not slash or not n.isdigit() or int(n) < 1 or unit not in ["second", "minute", "hour"]:
        _fail("icmp_rate", "%r: want N/second, N/minute or N/hour with N >= 1" % rate)
    for chain, rules in ctx.attr.extra_rules.items():
        if chain not in _CHAINS:
            _fail("extra_rules", "chain %r: want one of %s" % (chain, ", ".join(_CHAINS)))
        for r in rules:
            if "\n" in r or ";" in r:
                _fail("extra_rules", "%r: one rule per entry, without newlines or ';'" % r)

    config = ctx.actions.declare_file(ctx.label.name + ".json")
    ctx.actions.write(config, json.encode({
        "table": "bazwrt",
        "zones": [{"name": z, "services": zones[z]} for z in sorted(zones.keys())],
        "inbound": inbound,
        "inbound_all": ctx.attr.inbound_all,
        "forward": forward,
        "masquerade": ctx.attr.masquerade,
        "clamp_mss": ctx.attr.clamp_mss,
        "port_forwards": forwards,
        "rpfilter": ctx.attr.rpfilter,
        "icmp_rate": rate,
        "extra": ctx.attr.extra_rules,
    }) + "\n")
    ruleset = ctx.actions.declare_file(ctx.label.name + ".nft")
    ctx.actions.run(
        executable = ctx.executable._compile,
        arguments = ["-o", ruleset.path, config.path],
        inputs = [config],
        outputs = [ruleset],
        mnemonic = "FirewallCompile",
        progress_message = "Compiling the firewall ruleset of %s" % ctx.label,
    )
    path = "/etc/firewall/%s.nft" % ctx.attr.service_name
    origin = str(ctx.label)
    return [
        DefaultInfo(files = depset([ruleset])),
        write_fs_fragment(ctx, [
            fs_entry("/etc/firewall", "dir", 0o755, origin),
            fs_entry(path, "file", 0o644, origin, source = ruleset.path),
        ], [ruleset]),
        FirewallInfo(ruleset = ruleset, path = path, zones = zones),
    ]

_firewall_ruleset = rule(
    implementation = _ruleset_impl,
    attrs = {
        "service_name": attr.string(mandatory = True),
        "zones": attr.label_keyed_string_dict(providers = [InterfaceInfo]),
        "inbound": attr.string_list_dict(),
        "inbound_all": attr.string_list(),
        "forward": attr.string_list_dict(),
        "masquerade": attr.string_list(),
        "clamp_mss": attr.string_list(),
        "port_forwards": attr.string_list(),
        "rpfilter": attr.bool(default = True),
        "icmp_rate": attr.string(default = "10/second"),
        "extra_rules": attr.string_list_dict(),
        "_compile": attr.label(default = "//tools/firewall-compile", executable = True, cfg = "exec"),
    },
)

def _service_impl(ctx):
    fw = ctx.attr.ruleset[FirewallInfo]
    run = ["exec firewall run -notify-fd 3 -ruleset %s" % shell_quote(fw.path)]
    for zone in sorted(fw.zones.keys()):
        for s in fw.zones[zone]:
            run.append("-zone " + shell_quote("%s=%s" % (zone, s)))
    return write_service(
        ctx,
        "longrun",
        {"run": " \\\n  ".join(run) + "\n", "notification-fd": "3\n"},
        ctx.attr.deps,
        packages = ctx.attr.packages + [ctx.attr.ruleset],
    )

_firewall_service = rule(
    implementation = _service_impl,
    attrs = dict(SERVICE_ATTRS, **{
        "ruleset": attr.label(mandatory = True, providers = [FirewallInfo, FsInfo]),
        "packages": attr.label_list(default = ["//userland/init:rootfs"]),
        "kernel_fragments": attr.label_list(allow_files = True, default = ["//kernel:features/nftables.config"]),
    }),
)

def firewall(
        name,
        zones,
        inbound = {},
        inbound_all = [],
        forward = {},
        masquerade = [],
        clamp_mss = [],
        port_forwards = [],
        rpfilter = True,
        icmp_rate = "10/second",
        extra_rules = {},
        service_name = None,
        deps = [],
        packages = None,
        kernel_fragments = None,
        **kwargs):
    """An nftables firewall with zones: a service, and its compiled ruleset `<name>_ruleset`.

    Args:
      name: the service's target name (and its name on the device, unless service_name).
      zones: {service: zone}: the services that own the zone's interfaces
        (InterfaceInfo: interface_address, dhcp_client, bridge, ...). A
        member's `inbound` (a DHCP client's udp/68) is opened in its zone.
      inbound: {zone: ["PROTO/PORT" or "PROTO/FIRST-LAST"]}: what reaches
        the router itself from the zone (the router's own services).
      inbound_all: zones from which everything reaches the router.
      forward: {from zone: [to zones]}: the zone pairs forwarded (lan -> wan).
      masquerade: zones whose outgoing IPv4 is masqueraded (NAT).
      clamp_mss: zones whose forwarded TCP connections have their MSS
        clamped to the route's MTU (a PPPoE WAN: 1492 bytes).
      port_forwards: ["ZONE PROTO/PORT ADDRESS:PORT"]: connections to the
        router's PORT arriving in ZONE go to ADDRESS:PORT, which must be in a
        zone's subnet.
      rpfilter: drop packets whose source address is not routed back out of
        the interface they came in on (spoofed sources).
      icmp_rate: limit of ICMP(v6) echo requests to the router, N/second.
      extra_rules: {chain: [rule]}: rules in the ruleset's nft syntax,
        appended to input, forward, output, prerouting (filter),
        postrouting (filter), dstnat or srcnat.
      service_name: the name on the device.
      deps: services that must be up before the firewall (usually none: it
        comes up first, before the interfaces).
      packages: instead of init's multicall binary (which has `firewall`).
      kernel_fragments: instead of //kernel:features/nftables.config.
      **kwargs: visibility, tags, ...
    """
    svc = service_name or name
    _firewall_ruleset(
        name = name + "_ruleset",
        service_name = svc,
        zones = zones,
        inbound = inbound,
        inbound_all = inbound_all,
        forward = forward,
        masquerade = masquerade,
        clamp_mss = clamp_mss,
        port_forwards = port_forwards,
        rpfilter = rpfilter,
        icmp_rate = icmp_rate,
        extra_rules = extra_rules,
        **kwargs
    )
    extra = {}
    if packages != None:
        extra["packages"] = packages
    if kernel_fragments != None:
        extra["kernel_fragments"] = kernel_fragments
    _firewall_service(
        name = name,
        service_name = svc,
        ruleset = ":" + name + "_ruleset",
        deps = deps,
        **dict(kwargs, **extra)
    )
