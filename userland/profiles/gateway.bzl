"""gateway: a firewalled home router from a few typed arguments (Liminix's profile.gateway).

    load("//userland/busybox:services.bzl", "dhcp_client")
    load("//userland/profiles:gateway.bzl", "gateway")

    dhcp_client(name = "wan", interface = "eth0", after = ["firewall"])

    gateway(
        name = "gateway",
        wan = ":wan",
        lan_interfaces = ["lan1", "lan2"],
    )

    firmware(..., services = [":gateway"])

makes, in the calling package, these services (their names on the device
are the target names) and the bundle `name` with all of them and the WAN:

| target | what |
| --- | --- |
| `firewall` (+ `firewall_ruleset`) | zones lan (the bridge's address) and wan; the router's DNS, DHCP and SSH open to the LAN only; LAN to WAN forwarded and masqueraded; `port_forwards` |
| `lan_bridge`, `lan` | the bridge over `lan_interfaces`, and `lan_address` on it |
| `dnsmasq` | DNS and DHCP (`dhcp_range`, `static_hosts`) on the LAN only; upstream DNS servers from the WAN's lease (IPv6 on the LAN comes with prefix delegation) |
| `forwarding` | IP forwarding, once the firewall is up |
| `ntp` | the clock, from `ntp_servers` through the WAN |
| `ssh` | dropbear on the LAN address, root with the keys of `ssh_authorized_keys` only; with no key, no SSH server (and a note in the size report) |

The WAN service must start after the firewall (`after = ["firewall"]`; a
Bazel dependency would be a cycle, since the firewall reads its zones'
interfaces), so that the WAN interface never comes up before the rules are
loaded; the firewall checks that it owns an interface (InterfaceInfo).
"""

load("//rules/service:defs.bzl", "bundle")
load("//userland/busybox:services.bzl", "bridge", "interface_address", "ip_forwarding", "ntp_client")
load("//userland/dnsmasq:services.bzl", "dnsmasq")
load("//userland/dropbear:services.bzl", "ssh_server")
load("//userland/firewall:services.bzl", "firewall")

def gateway(
        name,
        wan,
        lan_interfaces,
        wan6 = None,
        lan_address = "192.168.8.1/24",
        lan_bridge = "br-lan",
        dhcp_range = "192.168.8.100-192.168.8.250",
        lease_time = "12h",
        static_hosts = {},
        domain = "lan",
        port_forwards = [],
        ntp_servers = ["pool.ntp.org"],
        ssh_authorized_keys = ["//:authorized_keys"],
        extra_services = [],
        extra_zones = {},
        visibility = None):
    """A firewalled gateway: bridge, LAN address, dnsmasq, firewall, forwarding, NTP and SSH.

    Args:
      name: the bundle with every service of the gateway (and the WAN).
      wan: the WAN service (a dhcp_client, later PPPoE...), which must
        start after the firewall: after = ["firewall"].
      lan_interfaces: the LAN ports, bridged into `lan_bridge`.
      wan6: IPv6 from the ISP: a dhcp6_client (//userland/wide-dhcpv6) on
        the WAN whose `lan` is this gateway's ":lan". With it, dnsmasq
        advertises the delegated /64 on the LAN (SLAAC, and stateless
        DHCPv6 for the DNS server) and the firewall lets DHCPv6 in from
        the LAN; LAN to WAN is forwarded for IPv6 too, and not translated.
      lan_address: the router's IPv4 address and prefix on the LAN.
      lan_bridge: the bridge's interface name.
      dhcp_range: "FIRST-LAST" IPv4 addresses leased on the LAN.
      lease_time: DHCP lease time (dnsmasq syntax: 12h, 30m, infinite).
      static_hosts: {name: [MAC, IPv4 and/or IPv6 addresses]}.
      domain: the LAN's DNS domain.
      port_forwards: ["wan PROTO/PORT ADDRESS:PORT"] (see firewall).
      ntp_servers: NTP servers, reached through the WAN.
      ssh_authorized_keys: files of public keys (one per line). The
        default, //:authorized_keys, is the file `authorized_keys` at the
        workspace root if it exists (git ignores it); with no key at all the
        image has no SSH server.
      extra_services: more services for the bundle.
      extra_zones: {service: zone}: more interfaces in the firewall's zones
        ("lan" or "wan"), e.g. a guest bridge started later.
      visibility: of every target.
    """
    bridge(
        name = "lan_bridge",
        interface = lan_bridge,
        members = lan_interfaces,
        after = ["firewall"],
        visibility = visibility,
    )
    interface_address(
        name = "lan",
        address = lan_address,
        interface = lan_bridge,
        deps = [":lan_bridge"],
        visibility = visibility,
    )
    inbound_lan = ["udp/53", "tcp/53", "udp/67"] + (["udp/547"] if wan6 else [])
    if ssh_authorized_keys:
        inbound_lan.append("tcp/22")
    firewall(
        name = "firewall",
        zones = dict({
            wan: "wan",
            ":lan": "lan",
        }, **extra_zones),
        inbound = {"lan": inbound_lan},
        forward = {"lan": ["wan"]},
        masquerade = ["wan"],
        clamp_mss = ["wan"],
        port_forwards = port_forwards,
        visibility = visibility,
    )
    dnsmasq(
        name = "dnsmasq",
        interface = ":lan",
        dhcp_ranges = [dhcp_range],
        lease_time = lease_time,
        static_hosts = static_hosts,
        domain = domain,
        upstream_service = wan,
        router_advertisements = wan6 != None,
        delegated_prefix = wan6 != None,
        visibility = visibility,
    )
    ip_forwarding(
        name = "forwarding",
        after = ["firewall"],
        visibility = visibility,
    )
    ntp_client(
        name = "ntp",
        servers = ntp_servers,
        deps = [wan],
        visibility = visibility,
    )
    ssh_server(
        name = "ssh",
        authorized_keys_files = ssh_authorized_keys,
        listen = [":lan"],
        visibility = visibility,
    )
    bundle(
        name = name,
        contents = [
            wan,
        ] + ([wan6] if wan6 else []) + [
            ":firewall",
            ":lan",
            ":dnsmasq",
            ":forwarding",
            ":ntp",
            ":ssh",
        ] + extra_services,
        visibility = visibility,
    )
