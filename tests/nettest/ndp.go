package nettest

import (
	"net/netip"
	"slices"
	"time"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// ndpDispatcher gives a SLAAC host what router advertisements tell it:
// gVisor makes the addresses itself but leaves routes to its user. Its
// methods must not call into the stack: they hand over to a goroutine.
type ndpDispatcher struct{ h *Host }

var _ ipv6.NDPDispatcher = ndpDispatcher{}

func netipAddr(a tcpip.Address) netip.Addr {
	n, _ := netip.AddrFromSlice(a.AsSlice())
	return n
}

func netipPrefix(s tcpip.Subnet) netip.Prefix {
	return netip.PrefixFrom(netipAddr(s.ID()), s.Prefix())
}

// setRouter makes router (or none, if invalid) the default IPv6 router
// learnt from advertisements.
func (h *Host) setRouter(router netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.raRouter = router
	h.setRoutesLocked()
}

// setOnLink adds or removes an on-link prefix learnt from advertisements.
func (h *Host) setOnLink(p netip.Prefix, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := slices.Index(h.onLink, p)
	switch {
	case on && i < 0:
		h.onLink = append(h.onLink, p)
	case !on && i >= 0:
		h.onLink = slices.Delete(h.onLink, i, i+1)
	default:
		return
	}
	h.setRoutesLocked()
}

func (d ndpDispatcher) OnOffLinkRouteUpdated(_ tcpip.NICID, dest tcpip.Subnet, router tcpip.Address, _ header.NDPRoutePreference) {
	if dest.Prefix() == 0 {
		r := netipAddr(router)
		d.h.log("ndp: default router %v", r)
		go d.h.setRouter(r)
	}
}

func (d ndpDispatcher) OnOffLinkRouteInvalidated(_ tcpip.NICID, dest tcpip.Subnet, router tcpip.Address) {
	if dest.Prefix() == 0 {
		d.h.log("ndp: default router %v gone", netipAddr(router))
		go d.h.setRouter(netip.Addr{})
	}
}

func (d ndpDispatcher) OnOnLinkPrefixDiscovered(_ tcpip.NICID, p tcpip.Subnet) {
	d.h.log("ndp: on-link prefix %v", netipPrefix(p))
	go d.h.setOnLink(netipPrefix(p), true)
}

func (d ndpDispatcher) OnOnLinkPrefixInvalidated(_ tcpip.NICID, p tcpip.Subnet) {
	go d.h.setOnLink(netipPrefix(p), false)
}

func (d ndpDispatcher) OnAutoGenAddress(_ tcpip.NICID, a tcpip.AddressWithPrefix) stack.AddressDispatcher {
	d.h.log("ndp: address %v/%d", netipAddr(a.Address), a.PrefixLen)
	return nil
}

func (ndpDispatcher) OnDuplicateAddressDetectionResult(tcpip.NICID, tcpip.Address, stack.DADResult) {}
func (ndpDispatcher) OnAutoGenAddressDeprecated(tcpip.NICID, tcpip.AddressWithPrefix)               {}
func (ndpDispatcher) OnAutoGenAddressInvalidated(tcpip.NICID, tcpip.AddressWithPrefix)              {}
func (ndpDispatcher) OnRecursiveDNSServerOption(tcpip.NICID, []tcpip.Address, time.Duration)        {}
func (ndpDispatcher) OnDNSSearchListOption(tcpip.NICID, []string, time.Duration)                    {}
func (ndpDispatcher) OnDHCPv6Configuration(tcpip.NICID, ipv6.DHCPv6ConfigurationFromNDPRA)          {}
