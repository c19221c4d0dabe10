"""dnsmasq: DNS, DHCP and router advertisements on the LAN, a service template with typed options.

    load("//userland/dnsmasq:services.bzl", "dnsmasq")

    dnsmasq(
        name = "dnsmasq",
        interface = ":lan",
        dhcp_ranges = ["192.168.8.100-192.168.8.250"],
        lease_time = "12h",
        static_hosts = {"printer": ["52:54:00:12:34:56", "192.168.8.10"]},
        domain = "lan",
        upstreams = ["9.9.9.9"],
        upstream_service = ":wan",
        router_advertisements = True,
        dhcpv6_range = "::1000-::1fff",
    )

A macro that makes two targets: `NAME`, the longrun, and `NAME_config`, its
configuration, /etc/dnsmasq/SERVICE.conf in the image (an FsInfo fragment
that the service lists among its packages, so it is in the image's manifest
with the service). The longrun runs
`dnsmasq -k --log-facility=- --conf-file=/etc/dnsmasq/SERVICE.conf`: in the
foreground, logging to its stderr (/run/log/SERVICE/), as the user nobody
(the image's /etc/passwd must have it, as system_files' default does; its
group is nobody's), with no pid file. It starts after `interface`, not
after `upstream_service`, whose resolv.conf it reads when it appears: DNS
and DHCP on the LAN do not wait for the WAN. dnsmasq has no readiness notification: the service is
ready once spawned, and answers a moment later.

What the configuration says:

- DNS and DHCP on the interface of `interface` only (`interface=`, plus
  loopback, with `bind-dynamic`: it binds when the interface appears, and
  never on the WAN); the interface must have a static IPv4 address
  (ADDRESS/PREFIXLEN, e.g. interface_address; the first, if several),
  which is the router and DNS server of the leases
  (`dhcp-option=option:router` and `option:dns-server`).
- `dhcp_ranges`: "START-END" IPv4 ranges leased for `lease_time`, with the
  netmask of the interface's subnet; `dhcp-authoritative`.
- `static_hosts`: {name: [MAC, IPv4, IPv6]} (each optional, at least one):
  `dhcp-host=MAC,IPv4,NAME` gives a MAC its fixed address and name, and
  `host-record=NAME.DOMAIN,NAME,IPv4,IPv6` serves the addresses by name.
- `domain`: the LAN's domain (`domain=`, `local=/DOMAIN/`, `expand-hosts`);
  DHCP clients' names are served as NAME and NAME.DOMAIN. The image's
  /etc/hosts is not served (`no-hosts`: it maps the router's own name to
  127.0.0.1); plain names and private reverse lookups are never forwarded
  (`domain-needed`, `bogus-priv`).
- Upstream servers: `upstreams` (`server=`) and, with `upstream_service`,
  the servers of its resolv.conf, /run/services/outputs/SERVICE/resolv.conf
  (`resolv-file=`, re-read by dnsmasq whenever it changes, e.g. a new WAN
  lease); without `upstream_service`, `no-resolv`. With neither, dnsmasq
  answers local names only.
- `router_advertisements`: `enable-ra` and
  `dhcp-range=::,constructor:IFNAME,ra-stateless,ra-names`: router
  advertisements of the interface's IPv6 /64 prefix (SLAAC) and stateless
  DHCPv6 (DNS server, domain); `dhcpv6_range` ("::1000-::1fff", suffixes on
  that prefix) adds stateful DHCPv6 addresses. With `delegated_prefix`,
  the interface's /64 comes at run time (a dhcp6_client numbers it from
  the prefix the ISP delegates), and dnsmasq advertises whatever /64 the
  interface has, following it when it changes; no static IPv6 address is
  needed then.
- Leases: /run/dnsmasq/SERVICE.leases. /run is a tmpfs: the leases are
  lost at reboot (until the device has persistent storage); dnsmasq opens
  the file as root before it drops to nobody.

Every value is checked when Bazel analyses the target, and an error names
the attribute, the value and what was expected: the interface (a service
with InterfaceInfo and a static IPv4 address); each range (START-END,
START <= END, both in the interface's subnet, without the router's address
or the subnet's network and broadcast addresses, no two overlapping); the
lease time (N, Ns, Nm, Nh or Nd, at least 2 minutes, or "infinite"); the
static hosts (host names of one label, MAC addresses, IP addresses, IPv4 in
the subnet, none the router's, at most one MAC, one IPv4 and one IPv6 each,
no name, MAC or address twice); the domain (a DNS name); the upstreams (IP
addresses, not the router's or loopback); upstream_service (InterfaceInfo);
router_advertisements (a static IPv6 /64 address on the interface) and
dhcpv6_range (::START-::END on the /64, needs router_advertisements).
"""

load("//rules/rootfs:defs.bzl", "fs_entry", "hostname_error", "write_fs_fragment")
load("//rules/rootfs:providers.bzl", "FsInfo")
load(
    "//rules/service:defs.bzl",
    "InterfaceInfo",
    "SERVICE_ATTRS",
    "ServiceInfo",
    "cidr_error",
    "ifname_error",
    "int_to_ipv4",
    "ip_error",
    "ipv4_error",
    "ipv4_to_int",
    "ipv6_error",
    "ipv6_to_int",
    "mac_error",
    "shell_quote",
    "template_service_name",
    "write_service",
)

_CONF_DIR = "/etc/dnsmasq"
_LEASES_DIR = "/run/dnsmasq"
_OUTPUTS_DIR = "/run/services/outputs"

# The characters of a service name that dnsmasq's files are named after.
_NAME_CHARS = "abcdefghijklmnopqrstuvwxyz" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ" + "0123456789" + "._-+@"

_MIN_LEASE = 120  # seconds: dnsmasq raises shorter leases to 2 minutes.
_MAX_LEASE = 2147483647  # dnsmasq computes the seconds in a C int.
_LEASE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

DnsmasqConfigInfo = provider(
    doc = "A dnsmasq configuration written at build time (the NAME_config target of the dnsmasq macro).",
    fields = {
        "path": "Its path on the device (/etc/dnsmasq/SERVICE.conf).",
        "file": "The File.",
    },
)

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _pow2(n):
    p = 1
    for _ in range(n):
        p *= 2
    return p

def _service_name(ctx):
    name = template_service_name(ctx)
    attr = "service_name" if ctx.attr.service_name else "name"
    if [c for c in name.elems() if c not in _NAME_CHARS]:
        _fail(attr, "%r names dnsmasq's files: want letters, digits and . _ - + @ only" % name)
    return name

def _interface(ctx):
    """The interface's name, addresses and IPv4 subnet (of its first IPv4 address), checked."""
    t = ctx.attr.interface
    if InterfaceInfo not in t:
        _fail("interface", "%s does not own a network interface (no InterfaceInfo): want the LAN's service with a static address, e.g. an interface_address" % t.label)
    i = t[InterfaceInfo]
    if not i.ifname:
        _fail("interface", "%s names its interface only at run time: want a service whose interface is known at build time (e.g. an interface_address)" % t.label)
    err = ifname_error(i.ifname)
    if err:
        _fail("interface", "%s: %s" % (t.label, err))
    for a in i.addresses:
        err = cidr_error(a)
        if err:
            _fail("interface", "%s: %s" % (t.label, err))
    v4 = [a for a in i.addresses if ":" not in a]
    if not v4:
        _fail("interface", "%s has no static IPv4 address (addresses: %s): want the LAN's service that puts ADDRESS/PREFIXLEN on the interface, e.g. an interface_address" % (t.label, i.addresses))
    addr, _, length = v4[0].partition("/")
    router = ipv4_to_int(addr)
    size = _pow2(32 - int(length))
    network = router - router % size
    return struct(
        label = t.label,
        ifname = i.ifname,
        router = router,
        length = int(length),
        network = network,
        broadcast = network + size - 1,
        netmask = int_to_ipv4(_pow2(32) - size),
        subnet = "%s/%s" % (int_to_ipv4(network), length),
        addresses = i.addresses,
        v6 = [a for a in i.addresses if ":" in a],
    )

def _in_subnet(iface, n):
    return iface.network <= n and n <= iface.broadcast

def _check_host_address(attr, what, iface, n):
    """Fails if the IPv4 address n is not one a host of the subnet may have."""
    a = int_to_ipv4(n)
    if not _in_subnet(iface, n):
        _fail(attr, "%s: %s is outside the subnet %s of %s: want addresses from %s to %s" % (
            what,
            a,
            iface.subnet,
            iface.label,
            int_to_ipv4(iface.network + 1),
            int_to_ipv4(iface.broadcast - 1),
        ))
    if n == iface.router:
        _fail(attr, "%s: %s is the router's own address (%s's)" % (what, a, iface.label))
    if n == iface.network:
        _fail(attr, "%s: %s is the network address of the subnet %s" % (what, a, iface.subnet))
    if n == iface.broadcast:
        _fail(attr, "%s: %s is the broadcast address of the subnet %s" % (what, a, iface.subnet))

def _ranges(ctx, iface):
    """dhcp_ranges as [(start, end)] integers, checked."""
    if not ctx.attr.dhcp_ranges:
        _fail("dhcp_ranges", "want at least one IPv4 range START-END in %s, e.g. %s-%s" % (
            iface.subnet,
            int_to_ipv4(iface.network + 100),
            int_to_ipv4(iface.network + 250),
        ))
    out = []
    for r in ctx.attr.dhcp_ranges:
        start, sep, end = r.partition("-")
        if not sep:
            _fail("dhcp_ranges", "%r is not a range: want START-END, e.g. 192.168.8.100-192.168.8.250" % r)
        for a in (start, end):
            err = ipv4_error(a)
            if err:
                _fail("dhcp_ranges", "%r: %s" % (r, err))
        s, e = ipv4_to_int(start), ipv4_to_int(end)
        if s > e:
            _fail("dhcp_ranges", "%r: the start is after the end: want START <= END" % r)
        for n in (s, e):
            if not _in_subnet(iface, n):
                _check_host_address("dhcp_ranges", repr(r), iface, n)
        for n, what in ((iface.router, "the router's own address (%s's)" % iface.label), (iface.network, "the network address of the subnet"), (iface.broadcast, "the broadcast address of the subnet")):
            if s <= n and n <= e:
                _fail("dhcp_ranges", "%r contains %s, %s: want a range of the subnet %s without it" % (r, int_to_ipv4(n), what, iface.subnet))
        for j, (os, oe) in enumerate(out):
            if s <= oe and os <= e:
                _fail("dhcp_ranges", "%r overlaps %r: want ranges without common addresses" % (r, ctx.attr.dhcp_ranges[j]))
        out.append((s, e))
    return out

def _lease_time(ctx):
    v = ctx.attr.lease_time
    if v == "infinite":
        return v
    digits, unit = (v[:-1], v[-1]) if v and v[-1] in _LEASE_UNITS else (v, "s")
    if not digits or not digits.isdigit():
        _fail("lease_time", "%r is not a lease time: want N seconds, Ns, Nm, Nh, Nd (e.g. 12h) or \"infinite\"" % v)
    seconds = int(digits) * _LEASE_UNITS[unit]
    if seconds < _MIN_LEASE:
        _fail("lease_time", "%r is too short: want at least 2m (dnsmasq's minimum)" % v)
    if seconds > _MAX_LEASE:
        _fail("lease_time", "%r is too long: want at most %d seconds (about 68 years), or \"infinite\"" % (v, _MAX_LEASE))
    return v

def _is_mac_like(v):
    # MACs have 6 groups and no "::"; IPv6 addresses 8 groups or a "::".
    return "-" in v or (":" in v and "." not in v and "::" not in v and len(v.split(":")) != 8)

def _static_hosts(ctx, iface, v6_router):
    """static_hosts as [struct(name, mac, v4, v6)], checked."""
    hosts = []
    names, owners = {}, {}
    for name, values in ctx.attr.static_hosts.items():
        err = hostname_error(name)
        if err:
            _fail("static_hosts", "%r: %s" % (name, err))
        if "." in name:
            _fail("static_hosts", "%r: want a host name of one label (it is served as NAME and NAME.%s)" % (name, ctx.attr.domain))
        if name.lower() in names:
            _fail("static_hosts", "%r: two hosts have this name (%r): want each name once" % (name, names[name.lower()]))
        names[name.lower()] = name
        if not values:
            _fail("static_hosts", "%r: want its MAC address and/or its IP addresses, got none" % name)
        h = {"mac": None, "v4": None, "v6": None}
        for v in values:
            if _is_mac_like(v):
                kind, err = "mac", mac_error(v)
            else:
                kind, err = ("v6" if ":" in v else "v4"), ip_error(v)
            if err:
                _fail("static_hosts", "%r: %s" % (name, err))
            if h[kind] != None:
                _fail("static_hosts", "%r: %r and %r: want at most one %s per host" % (name, h[kind], v, {"mac": "MAC address", "v4": "IPv4 address", "v6": "IPv6 address"}[kind]))
            h[kind] = v.lower()
            if kind == "mac":
                key = ("mac", v.lower())
            elif kind == "v4":
                n = ipv4_to_int(v)
                _check_host_address("static_hosts", repr(name), iface, n)
                key = ("ip", "4/%d" % n)
            else:
                n = ipv6_to_int(v)
                if n in v6_router:
                    _fail("static_hosts", "%r: %s is the router's own address (%s's)" % (name, v, iface.label))
                key = ("ip", "6/%d" % n)
            if key in owners:
                _fail("static_hosts", "%r: %s is also %r's: want each MAC and address once" % (name, v, owners[key]))
            owners[key] = name
        hosts.append(struct(name = name, mac = h["mac"], v4 = h["v4"], v6 = h["v6"]))
    return hosts

def _domain(ctx):
    err = hostname_error(ctx.attr.domain)
    if err:
        _fail("domain", "%r is not a DNS domain: %s" % (ctx.attr.domain, err))
    return ctx.attr.domain.lower()

def _upstreams(ctx, iface, v6_router):
    seen = {}
    for u in ctx.attr.upstreams:
        err = ip_error(u)
        if err:
            _fail("upstreams", "%s: want the IP addresses of DNS servers" % err)
        v6 = ":" in u
        n = ipv6_to_int(u) if v6 else ipv4_to_int(u)
        key = "%d/%d" % (6 if v6 else 4, n)
        if key in seen:
            _fail("upstreams", "%r is listed twice (as %r)" % (u, seen[key]))
        seen[key] = u
        if (v6 and n == 1) or (not v6 and u.startswith("127.")):
            _fail("upstreams", "%r is a loopback address, where dnsmasq itself listens: it would forward queries to itself; want other DNS servers" % u)
        if (v6 and n in v6_router) or (not v6 and n == iface.router):
            _fail("upstreams", "%r is the router's own address (%s's): dnsmasq would forward queries to itself; want other DNS servers" % (u, iface.label))
    return ctx.attr.upstreams

def _upstream_service(ctx):
    t = ctx.attr.upstream_service
    if not t:
        return None
    if InterfaceInfo not in t:
        _fail("upstream_service", "%s does not own a network interface (no InterfaceInfo): want the WAN's service (e.g. a dhcp_client), whose outputs publish resolv.conf" % t.label)
    return t[InterfaceInfo].service

def _split_v6(a):
    addr, _, length = a.partition("/")
    return ipv6_to_int(addr), int(length)

def _ipv6(ctx, iface):
    """Checks router_advertisements and dhcpv6_range; returns the router's IPv6 addresses as integers."""
    v6_router = [_split_v6(a)[0] for a in iface.v6]

    # Link-local addresses (fe80::/10) are no prefix to advertise.
    half = _pow2(64)
    usable = [(n, length) for n, length in [_split_v6(a) for a in iface.v6] if n // _pow2(118) != 1018]
    if ctx.attr.router_advertisements and not ctx.attr.delegated_prefix:
        if not usable:
            _fail("router_advertisements", "%s has no static IPv6 address (addresses: %s): want one with a /64 prefix to advertise, or router_advertisements = False" % (iface.label, iface.addresses))
        if not [1 for _, length in usable if length == 64]:
            _fail("router_advertisements", "%s's IPv6 addresses %s: want one with a /64 prefix (SLAAC needs a /64)" % (iface.label, iface.v6))
    r = ctx.attr.dhcpv6_range
    if ctx.attr.delegated_prefix and not ctx.attr.router_advertisements:
        _fail("delegated_prefix", "needs router_advertisements = True: the delegated prefix is what the router advertises")
    if r and ctx.attr.delegated_prefix:
        _fail("dhcpv6_range", "%r with delegated_prefix: stateful DHCPv6 on a prefix known only at run time is not supported: want SLAAC (no dhcpv6_range)" % r)
    if r:
        if not ctx.attr.router_advertisements:
            _fail("dhcpv6_range", "%r needs router_advertisements = True: clients ask for DHCPv6 addresses when the router advertisement tells them to" % r)
        start, sep, end = r.partition("-")
        if not sep:
            _fail("dhcpv6_range", "%r is not a range: want ::START-::END, suffixes on the interface's /64 prefix, e.g. ::1000-::1fff" % r)
        ends = []
        for a in (start, end):
            err = ipv6_error(a)
            if err:
                _fail("dhcpv6_range", "%r: %s" % (r, err))
            n = ipv6_to_int(a)
            if n >= half:
                _fail("dhcpv6_range", "%r: %s sets bits of the prefix: want a suffix on the interface's /64 prefix, e.g. ::1000" % (r, a))
            ends.append(n)
        if ends[0] == 0:
            _fail("dhcpv6_range", "%r starts at ::, the subnet-router anycast address: want ::1 or above" % r)
        if ends[0] > ends[1]:
            _fail("dhcpv6_range", "%r: the start is after the end: want START <= END" % r)
        for a in iface.v6:
            n, length = _split_v6(a)
            if length == 64 and ends[0] <= n % half and n % half <= ends[1]:
                _fail("dhcpv6_range", "%r contains the router's own address %s (%s's): want a range without it" % (r, a.partition("/")[0], iface.label))
    return v6_router

def _config_impl(ctx):
    service = _service_name(ctx)
    iface = _interface(ctx)
    ranges = _ranges(ctx, iface)
    lease = _lease_time(ctx)
    domain = _domain(ctx)
    v6_router = _ipv6(ctx, iface)
    hosts = _static_hosts(ctx, iface, v6_router)
    upstreams = _upstreams(ctx, iface, v6_router)
    upstream = _upstream_service(ctx)
    router = int_to_ipv4(iface.router)

    lines = [
        "# dnsmasq of the service %s (%s), written at build time;" % (service, ctx.label),
        "# run as: dnsmasq -k --log-facility=- --conf-file=%s/%s.conf" % (_CONF_DIR, service),
        "interface=" + iface.ifname,
        "bind-dynamic",
        "user=nobody",
        "pid-file=",
        "no-hosts",
        "domain-needed",
        "bogus-priv",
        "domain=" + domain,
        "local=/%s/" % domain,
        "expand-hosts",
    ]
    if upstream:
        lines.append("resolv-file=%s/%s/resolv.conf" % (_OUTPUTS_DIR, upstream))
    else:
        lines.append("no-resolv")
    lines += ["server=" + u for u in upstreams]
    lines += [
        "dhcp-authoritative",
        "dhcp-leasefile=%s/%s.leases" % (_LEASES_DIR, service),
    ]
    lines += ["dhcp-range=%s,%s,%s,%s" % (int_to_ipv4(s), int_to_ipv4(e), iface.netmask, lease) for s, e in ranges]
    lines += [
        "dhcp-option=option:router," + router,
        "dhcp-option=option:dns-server," + router,
    ]
    for h in hosts:
        if h.mac:
            lines.append("dhcp-host=" + ",".join([x for x in (h.mac, h.v4, h.name) if x]))
    for h in hosts:
        if h.v4 or h.v6:
            lines.append("host-record=" + ",".join([x for x in ("%s.%s" % (h.name, domain), h.name, h.v4, h.v6) if x]))
    if ctx.attr.router_advertisements:
        lines += [
            "enable-ra",
            "dhcp-range=::,constructor:%s,ra-stateless,ra-names" % iface.ifname,
        ]
    if ctx.attr.dhcpv6_range:
        start, _, end = ctx.attr.dhcpv6_range.partition("-")
        lines.append("dhcp-range=%s,%s,constructor:%s,%s" % (start, end, iface.ifname, lease))

    path = "%s/%s.conf" % (_CONF_DIR, service)
    conf = ctx.actions.declare_file("%s%s" % (ctx.label.name, path))
    ctx.actions.write(conf, "\n".join(lines) + "\n")
    return [
        DefaultInfo(files = depset([conf])),
        write_fs_fragment(ctx, [fs_entry(path, "file", 0o644, str(ctx.label), source = conf.path)], [conf]),
        DnsmasqConfigInfo(path = path, file = conf),
    ]

_dnsmasq_config = rule(
    implementation = _config_impl,
    doc = "dnsmasq's configuration file, checked and written at build time (made by the dnsmasq macro).",
    attrs = {
        "service": attr.string(mandatory = True, doc = "The service's target name (its name on the device, unless service_name)."),
        "service_name": attr.string(),
        "interface": attr.label(mandatory = True, providers = [ServiceInfo]),
        "dhcp_ranges": attr.string_list(),
        "lease_time": attr.string(),
        "static_hosts": attr.string_list_dict(),
        "domain": attr.string(),
        "upstreams": attr.string_list(),
        "upstream_service": attr.label(providers = [ServiceInfo]),
        "router_advertisements": attr.bool(),
        "delegated_prefix": attr.bool(doc = "The interface's /64 is delegated at run time: no static IPv6 address needed."),
        "dhcpv6_range": attr.string(),
    },
)

def _service_impl(ctx):
    conf = ctx.attr.config[DnsmasqConfigInfo]

    # The leases' directory: dnsmasq opens the file as root, then drops to nobody.
    run = "mkdir -p %s\nexec dnsmasq -k --log-facility=- --conf-file=%s\n" % (shell_quote(_LEASES_DIR), shell_quote(conf.path))

    # Not upstream_service: the LAN must not wait for the WAN (a PPPoE link
    # is ready only once it has an address, which may be never); dnsmasq
    # reads its resolv.conf whenever it appears or changes.
    deps = ctx.attr.deps + [ctx.attr.interface]
    return write_service(
        ctx,
        "longrun",
        {"run": run},
        deps,
        packages = ctx.attr.packages + [ctx.attr.config],
    ) + [OutputGroupInfo(config = depset([conf.file]))]

_SERVICE_ATTRS = dict(SERVICE_ATTRS)
_SERVICE_ATTRS.update({
    "packages": attr.label_list(default = ["//userland/dnsmasq"], doc = "Packages the service needs in the image (default: dnsmasq); its configuration is added."),
    "config": attr.label(mandatory = True, providers = [DnsmasqConfigInfo, FsInfo]),
    "interface": attr.label(mandatory = True, providers = [ServiceInfo]),
    "upstream_service": attr.label(providers = [ServiceInfo]),
})

_dnsmasq_service = rule(
    implementation = _service_impl,
    doc = "The dnsmasq longrun (made by the dnsmasq macro); `bazel build --output_groups=config` gives its configuration.",
    attrs = _SERVICE_ATTRS,
)

def dnsmasq(
        name,
        interface,
        dhcp_ranges,
        lease_time = "12h",
        static_hosts = {},
        domain = "lan",
        upstreams = [],
        upstream_service = None,
        router_advertisements = False,
        delegated_prefix = False,
        dhcpv6_range = "",
        service_name = "",
        **kwargs):
    """DNS, DHCP and router advertisements on the LAN (see the file's doc).

    Args:
      name: the service's target (and its name on the device, unless
        service_name); NAME_config is its configuration's.
      interface: the LAN's service: InterfaceInfo with a static IPv4
        address (e.g. an interface_address).
      dhcp_ranges: IPv4 ranges "START-END" in the interface's subnet.
      lease_time: N (seconds), Ns, Nm, Nh, Nd or "infinite"; at least 2m.
      static_hosts: {name: [MAC, IPv4, IPv6]}, each optional, at least one.
      domain: the LAN's DNS domain.
      upstreams: IP addresses of upstream DNS servers.
      upstream_service: a service with InterfaceInfo whose outputs publish
        resolv.conf at run time (e.g. the WAN's dhcp_client).
      router_advertisements: RA (SLAAC) and stateless DHCPv6 on the
        interface's IPv6 /64 prefix, which it must have (a static one,
        unless delegated_prefix).
      delegated_prefix: the interface's /64 comes at run time, from a
        delegated prefix (dhcp6_client): advertise whatever it gets.
      dhcpv6_range: stateful DHCPv6 addresses "::START-::END" on that prefix.
      service_name: the name on the device, if not `name`.
      **kwargs: the service's other attributes (deps, after, packages,
        kernel_fragments, visibility, tags, testonly...).
    """
    common = {k: kwargs[k] for k in ("tags", "testonly", "visibility", "compatible_with", "target_compatible_with") if k in kwargs}
    _dnsmasq_config(
        name = name + "_config",
        service = name,
        service_name = service_name,
        interface = interface,
        dhcp_ranges = dhcp_ranges,
        lease_time = lease_time,
        static_hosts = static_hosts,
        domain = domain,
        upstreams = upstreams,
        upstream_service = upstream_service,
        router_advertisements = router_advertisements,
        delegated_prefix = delegated_prefix,
        dhcpv6_range = dhcpv6_range,
        **common
    )
    _dnsmasq_service(
        name = name,
        config = ":" + name + "_config",
        interface = interface,
        upstream_service = upstream_service,
        service_name = service_name,
        **kwargs
    )
