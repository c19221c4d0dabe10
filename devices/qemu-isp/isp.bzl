"""Facts of the emulated ISP (//devices/qemu-isp) that routers and tests dialing it need."""

# The emulated internet's DNS server: a host the tests put on "world".
WORLD_DNS = "203.0.113.53"

# The PPPoE test account: the emulated ISP's, which no router image carries
# but the tests' own.
PPPOE_USER = "subscriber"
PPPOE_PASSWORD = "emulated-isp-test-account"
