package tftp

import (
	"fmt"
	"net/netip"
	"strings"
)

// ParseAllow parses one allow-list entry: an IP address ("192.0.2.7",
// "2001:db8::1") or a CIDR prefix ("192.0.2.0/24"). A plain address is
// returned as a single-address prefix.
func ParseAllow(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("bad client prefix %q: %v", s, err)
		}
		return unmapPrefix(p).Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("bad client address %q: want an IP address or CIDR prefix", s)
	}
	if a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("bad client address %q: zones are not supported", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// allowed reports whether a client may use the server. An empty list
// allows everyone.
func allowed(list []netip.Prefix, client netip.Addr) bool {
	if len(list) == 0 {
		return true
	}
	client = client.Unmap().WithZone("")
	for _, p := range list {
		if unmapPrefix(p).Contains(client) {
			return true
		}
	}
	return false
}

// unmapPrefix turns ::ffff:192.0.2.0/120 into 192.0.2.0/24, so that IPv4
// clients seen through a dual-stack socket match IPv4 entries and vice versa.
func unmapPrefix(p netip.Prefix) netip.Prefix {
	if !p.Addr().Is4In6() || p.Bits() < 96 {
		return p
	}
	return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
}
