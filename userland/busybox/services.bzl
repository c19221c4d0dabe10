"""Service templates built on busybox applets, with typed options.

    load("//userland/busybox:services.bzl", "bridge", "dhcp_client", "interface_address")

    dhcp_client(name = "wan", interface = "eth0")
    bridge(name = "lan_bridge", interface = "br-lan", members = ["lan1", "lan2"])
    vlan(name = "wan_vlan", link = "eth0", id = 7)      # eth0.7, e.g. for PPPoE
    link(name = "wan_link", interface = "eth0", mtu = 1508, mac = "02:00:00:00:00:01")
    interface_address(name = "lan", interface = "br-lan", address = "192.168.8.1/24", deps = [":lan_bridge"])
    default_route(name = "wan_route", service = ":wan", ipv6 = True)

Each is a rule: a bad option fails when Bazel analyses the target, naming
it and the attribute. The busybox package (and what else the service needs
on the device) is in the default `packages`; the common attributes of every
service (deps, kernel_fragments, service_name) are there too.
"""

load("//rules/rootfs:defs.bzl", "hostname_error")
load("//rules/service:defs.bzl", "InterfaceInfo", "SERVICE_ATTRS", "ServiceInfo", "cidr_error", "ifname_error", "ip_error", "mac_error", "publish_ifname", "shell_quote", "write_service")

def _fail(attr, msg):
    fail("attribute %s: %s" % (attr, msg))

def _attrs(packages, **extra):
    a = dict(SERVICE_ATTRS)
    a["packages"] = attr.label_list(default = packages, doc = "Packages the service needs in the image (default: what it runs).")
    a.update(extra)
    return a

def _check_ifname(ctx):
    err = ifname_error(ctx.attr.interface)
    if err:
        _fail("interface", err)

def _dhcp_client_impl(ctx):
    _check_ifname(ctx)
    i = shell_quote(ctx.attr.interface)

    # The interface joins its firewall zone before the first DISCOVER, so
    # that the zone's rules (udp/68 in) apply to the offers.
    run = [publish_ifname(ctx.attr.interface)]
    if ctx.attr.ipv6_default_route:
        # The router forwards, so Linux ignores router advertisements
        # unless accept_ra is 2.
        run.append("echo 2 >/proc/sys/net/ipv6/conf/%s/accept_ra" % i)
    run += [
        "ip link set %s up" % i,
        # -t 0: DISCOVER every 3 s until a server answers (OpenWrt's
        # netifd does the same), instead of busybox's default of three
        # tries and a 20 s pause: a WAN whose upstream comes up late, or
        # a backup WAN taken over in a failover, gets its lease within
        # seconds of the server's first answer.
        "exec udhcpc -f -S -t 0 -i %s -s /usr/share/udhcpc/default.script" % i,
    ]
    run = "\n".join(run) + "\n"
    return write_service(ctx, "longrun", {"run": run}, ctx.attr.deps, interface = {
        "ifname": ctx.attr.interface,
        "inbound": ["udp/68"],
    })

dhcp_client = rule(
    implementation = _dhcp_client_impl,
    doc = """A DHCP client (busybox udhcpc) that configures an interface, its
default route and /run/resolv.conf. Its outputs: ifname, and once leased
address (ADDRESS/PREFIXLEN), router, dns (one per line), domain and
resolv.conf (the lease's DNS servers, for dnsmasq's upstreams).""",
    attrs = _attrs(
        ["//userland/busybox", "//userland/busybox:udhcpc_script"],
        interface = attr.string(mandatory = True, doc = "The interface, e.g. eth0."),
        ipv6_default_route = attr.bool(doc = "Take the IPv6 default route from the ISP's router advertisements on the interface (accept_ra 2: the router forwards). Addresses and the LAN's prefix come from DHCPv6 (dhcp6_client)."),
    ),
)

def _interface_address_impl(ctx):
    _check_ifname(ctx)
    err = cidr_error(ctx.attr.address)
    if err:
        _fail("address", err)
    i, a = shell_quote(ctx.attr.interface), shell_quote(ctx.attr.address)
    return write_service(ctx, "oneshot", {
        "up": "ip link set %s up && ip addr add %s dev %s && %s\n" % (i, a, i, publish_ifname(ctx.attr.interface)),
        "down": "ip addr del %s dev %s\n" % (a, i),
    }, ctx.attr.deps, interface = {"ifname": ctx.attr.interface, "addresses": [ctx.attr.address]})

interface_address = rule(
    implementation = _interface_address_impl,
    doc = "A static address on an interface, which is brought up.",
    attrs = _attrs(
        ["//userland/busybox"],
        interface = attr.string(mandatory = True, doc = "The interface, e.g. eth1."),
        address = attr.string(mandatory = True, doc = "The address and prefix, e.g. 192.168.8.1/24."),
    ),
)

def _bridge_impl(ctx):
    _check_ifname(ctx)
    members = ctx.attr.members
    for m in members:
        err = ifname_error(m)
        if err:
            _fail("members", err)
        if m == ctx.attr.interface:
            _fail("members", "%r is the bridge itself" % m)
    for i, m in enumerate(members):
        if m in members[:i]:
            _fail("members", "%r is listed twice" % m)
    b = shell_quote(ctx.attr.interface)
    q = [shell_quote(m) for m in members]
    up = ["ip link add name %s type bridge" % b]

    # A port has no IPv6 of its own: with it, its link-local address (the
    # same MAC) would make the bridge's fail duplicate address detection,
    # and router advertisements sent from the bridge would go unheard.
    up += ["{ [ ! -d /proc/sys/net/ipv6/conf/%s ] || echo 1 >/proc/sys/net/ipv6/conf/%s/disable_ipv6; }" % (m, m) for m in q]
    up += ["ip link set %s master %s" % (m, b) for m in q]
    up += ["ip link set %s up" % x for x in q + [b]]
    up.append(publish_ifname(ctx.attr.interface))
    down = ["ip link del %s" % b]
    down += ["{ [ ! -d /proc/sys/net/ipv6/conf/%s ] || echo 0 >/proc/sys/net/ipv6/conf/%s/disable_ipv6; }" % (m, m) for m in q]
    return write_service(ctx, "oneshot", {
        "up": " && ".join(up) + "\n",
        "down": "; ".join(down) + "\n",
    }, ctx.attr.deps, interface = {"ifname": ctx.attr.interface})

bridge = rule(
    implementation = _bridge_impl,
    doc = """A Linux bridge over member interfaces (e.g. a router's LAN ports, which
DSA switch drivers expose as lan1, lan2, ...), brought up with them. Put the
LAN address on the bridge with interface_address(deps = [the bridge]).""",
    attrs = _attrs(
        ["//userland/busybox"],
        interface = attr.string(mandatory = True, doc = "The bridge's name, e.g. br-lan."),
        members = attr.string_list(doc = "The interfaces the bridge joins, e.g. [\"lan1\", \"lan2\"]; none for a bridge that members join later (a wifi AP's)."),
        kernel_fragments = attr.label_list(
            allow_files = True,
            default = ["//kernel:features/bridge.config"],
            doc = "Kernel config fragments the service needs (default: the bridge).",
        ),
    ),
)

def _ip_forwarding_impl(ctx):
    keys = ["net.ipv4.ip_forward"] + (["net.ipv6.conf.all.forwarding"] if ctx.attr.ipv6 else [])
    return write_service(ctx, "oneshot", {
        "up": " && ".join(["sysctl -w %s=1" % k for k in keys]) + "\n",
        "down": " && ".join(["sysctl -w %s=0" % k for k in keys]) + "\n",
    }, ctx.attr.deps)

ip_forwarding = rule(
    implementation = _ip_forwarding_impl,
    doc = "Routes packets between interfaces (IPv4, and IPv6 unless ipv6 = False).",
    attrs = _attrs(
        ["//userland/busybox"],
        ipv6 = attr.bool(default = True, doc = "Forward IPv6 too."),
    ),
)

def _ntp_client_impl(ctx):
    if not ctx.attr.servers:
        _fail("servers", "want at least one NTP server")
    for s in ctx.attr.servers:
        if ip_error(s) and hostname_error(s):
            _fail("servers", "want host names or IP addresses, got %r" % s)
    run = "exec ntpd -n %s\n" % " ".join(["-p " + shell_quote(s) for s in ctx.attr.servers])
    return write_service(ctx, "longrun", {"run": run}, ctx.attr.deps)

ntp_client = rule(
    implementation = _ntp_client_impl,
    doc = "Keeps the clock with busybox ntpd.",
    attrs = _attrs(
        ["//userland/busybox"],
        servers = attr.string_list(doc = "NTP servers: host names or IP addresses."),
    ),
)

def _vlan_impl(ctx):
    for a in ("link", "interface"):
        v = getattr(ctx.attr, a)
        if a == "interface" and not v:
            continue
        err = ifname_error(v)
        if err:
            _fail(a, err)
    if ctx.attr.id < 1 or ctx.attr.id > 4094:
        _fail("id", "%d is not a VLAN ID: want 1..4094" % ctx.attr.id)
    name = ctx.attr.interface or "%s.%d" % (ctx.attr.link, ctx.attr.id)
    err = ifname_error(name)
    if err:
        _fail("interface", "the default name %s" % err)
    if name == ctx.attr.link:
        _fail("interface", "%r is the link itself" % name)
    lk, v = shell_quote(ctx.attr.link), shell_quote(name)
    return write_service(ctx, "oneshot", {
        "up": "ip link set %s up && ip link add link %s name %s type vlan id %d && ip link set %s up && %s\n" % (lk, lk, v, ctx.attr.id, v, publish_ifname(name)),
        "down": "ip link del %s\n" % v,
    }, ctx.attr.deps, interface = {"ifname": name})

vlan = rule(
    implementation = _vlan_impl,
    doc = """An 802.1Q VLAN interface on a link (an ISP that tags PPPoE or IPTV,
switch ports as eth0.N): `interface` (default LINK.ID) carries the frames of
VLAN `id` of `link`, which is brought up too. Other services use it as any
interface: pppoe(interface = "eth0.7", deps = [":wan_vlan"]).""",
    attrs = _attrs(
        ["//userland/busybox"],
        link = attr.string(mandatory = True, doc = "The underlying interface, e.g. eth0."),
        id = attr.int(mandatory = True, doc = "The VLAN ID, 1..4094."),
        interface = attr.string(doc = "The VLAN interface's name (default LINK.ID)."),
        kernel_fragments = attr.label_list(
            allow_files = True,
            default = ["//kernel:features/vlan.config"],
            doc = "Kernel config fragments the service needs (default: 802.1Q).",
        ),
    ),
)

def _link_impl(ctx):
    _check_ifname(ctx)
    settings = []
    if ctx.attr.mac:
        err = mac_error(ctx.attr.mac)
        if err:
            _fail("mac", err)
        first = int(ctx.attr.mac[0:2], 16)
        if first % 2 == 1:
            _fail("mac", "%r is a multicast address (the first byte is odd): want a unicast one, e.g. 02:00:00:00:00:01 (locally administered)" % ctx.attr.mac)
        if ctx.attr.mac.replace(":", "").strip("0") == "":
            _fail("mac", "%r is all zeros" % ctx.attr.mac)
        settings.append("address " + shell_quote(ctx.attr.mac.lower()))
    if ctx.attr.mtu:
        if ctx.attr.mtu < 68 or ctx.attr.mtu > 9216:
            _fail("mtu", "%d is out of range: want 68 (IPv4's minimum) to 9216" % ctx.attr.mtu)
        settings.append("mtu %d" % ctx.attr.mtu)
    if not settings:
        _fail("mac", "nothing to set: want mac, mtu or both")
    i = shell_quote(ctx.attr.interface)

    # The address can change only while the link is down.
    up = "ip link set %s down && ip link set dev %s %s && ip link set %s up && %s\n" % (i, i, " ".join(settings), i, publish_ifname(ctx.attr.interface))
    return write_service(ctx, "oneshot", {"up": up}, ctx.attr.deps, interface = {"ifname": ctx.attr.interface})

link = rule(
    implementation = _link_impl,
    doc = """Sets an interface's MAC address and/or MTU and brings it up (an ISP that
expects a known MAC, a VLAN-tagged PPPoE link that needs 1508 bytes for a
1500-byte PPP MTU). Services on the interface depend on it.""",
    attrs = _attrs(
        ["//userland/busybox"],
        interface = attr.string(mandatory = True, doc = "The interface, e.g. eth0."),
        mac = attr.string(doc = "A unicast MAC address, e.g. 02:00:00:00:00:01."),
        mtu = attr.int(doc = "The MTU, 68..9216."),
    ),
)

def _default_route_impl(ctx):
    t = ctx.attr.service
    if InterfaceInfo not in t:
        _fail("service", "%s does not own a network interface (no InterfaceInfo): want a WAN service, e.g. a dhcp_client or pppoe" % t.label)
    if not (ctx.attr.ipv4 or ctx.attr.ipv6):
        _fail("ipv6", "neither ipv4 nor ipv6: want a route of at least one family")
    if ctx.attr.metric < 0 or ctx.attr.metric > 65535:
        _fail("metric", "%d is out of range: want 0..65535" % ctx.attr.metric)
    svc = t[ServiceInfo].name
    out = shell_quote("/run/services/outputs/" + svc)
    m = str(ctx.attr.metric)
    set_routes = []
    if ctx.attr.ipv4:
        set_routes.append("""		if [ -n "$r" ]; then
			ip route replace default via "$r" dev "$i" metric %s
		else
			ip route replace default dev "$i" metric %s
		fi || ok=0""" % (m, m))
    if ctx.attr.ipv6:
        # A point-to-point link (PPP) needs no router's address; on an
        # Ethernet, the router's IPv6 address comes from its outputs
        # (router6), or the kernel's router advertisements give the route.
        set_routes.append("""		if [ $(( $(cat "/sys/class/net/$i/flags" 2>/dev/null || echo 0) & 16 )) != 0 ]; then
			ip -6 route replace default dev "$i" metric %s || ok=0
		elif [ -n "$r6" ]; then
			ip -6 route replace default via "$r6" dev "$i" metric %s || ok=0
		fi""" % (m, m))

    # Polls the service's outputs: a WAN that comes back (a new PPPoE
    # session, a new lease) publishes its address again, and the route is
    # set again. The kernel removes a route with its interface.
    run = """out={out}
svc={svc}
last=""
ready=0
while :; do
	i=$(cat "$out/ifname" 2>/dev/null)
	a=$(cat "$out/address" 2>/dev/null)
	r=$(head -n 1 "$out/router" 2>/dev/null)
	r6=$(head -n 1 "$out/router6" 2>/dev/null)
	now="$i $a $r $r6"
	if [ -n "$i" ] && [ -n "$a" ] && [ "$now" != "$last" ]; then
		ok=1
{set}
		if [ $ok = 1 ]; then
			echo "default_route: through $i${{r:+ via $r}} ($svc)" >&2
			last=$now
			if [ $ready = 0 ]; then
				echo >&3
				exec 3>&-
				ready=1
			fi
		fi
	fi
	sleep 1
done
""".format(out = out, set = "\n".join(set_routes), svc = shell_quote(svc))
    return write_service(ctx, "longrun", {"run": run, "notification-fd": "3\n"}, ctx.attr.deps + [t])

default_route = rule(
    implementation = _default_route_impl,
    doc = """The default route (IPv4, and IPv6 with ipv6) through a WAN service's
interface, kept in step with its outputs: set when the service publishes
an address (via its `router` if it publishes one, else through the
interface: a point-to-point link), set again when the address changes or
comes back (a PPPoE session that redials, a new lease). IPv6: through a
point-to-point interface, or via the service's `router6`. Ready once the
route is first set. For WAN services that leave the route to it (pppoe
with default_route = False).""",
    attrs = _attrs(
        ["//userland/busybox"],
        service = attr.label(mandatory = True, providers = [ServiceInfo], doc = "The WAN service whose interface the route goes through."),
        ipv4 = attr.bool(default = True, doc = "Set the IPv4 default route."),
        ipv6 = attr.bool(doc = "Set the IPv6 default route."),
        metric = attr.int(doc = "The routes' metric, 0..65535 (lower wins)."),
    ),
)
