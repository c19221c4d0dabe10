"""Facts of the emulated ISP (//devices/qemu-isp) that routers and tests dialing it need."""

# The emulated internet's DNS server: a host the tests put on "world".
WORLD_DNS = "203.0.113.53"

# The PPPoE test account: the emulated ISP's, which no router image carries
# but the tests' own.
PPPOE_USER = "subscriber"
PPPOE_PASSWORD = "emulated-isp-test-account"

# IPv6 (documentation space, 2001:db8::/32). The emulated internet's
# network and its DNS server; the pool of prefixes the ISP delegates to
# subscribers (a /56 each, by DHCPv6 on the PPP link) and of the addresses
# it leases to their WAN interfaces.
WORLD6 = "2001:db8:ff::/64"
WORLD_DNS6 = "2001:db8:ff::53"
DELEGATED_POOL = "2001:db8:1000::/40"
DELEGATED_LENGTH = 56
WAN6_POOL = "2001:db8:ffff::/64"
