package nettest

import (
	"fmt"
	"maps"
	"net"
	"net/netip"
	"sync"
	"time"

	"bazwrt/tests/nettest/dhcp4"
)

// ServerConfig is what a DHCP server hands out.
type ServerConfig struct {
	// First and Last bound the pool of addresses, inclusive: IPv4, on the
	// subnet of one of the host's addresses.
	First, Last netip.Addr
	// Prefix is the subnet's prefix length, sent as the subnet mask; by
	// default that of the host's address on the pool's subnet.
	Prefix int
	// Router, if set, is sent as the default router.
	Router netip.Addr
	// DNS are the DNS servers sent, IPv4.
	DNS []netip.Addr
	// Domain, if set, is sent as the domain name.
	Domain string
	// LeaseTime is the leases' duration; by default an hour.
	LeaseTime time.Duration
	// Static gives fixed addresses to MACs (in any form net.ParseMAC
	// takes), on the subnet but not necessarily in the pool; no other
	// client gets them.
	Static map[string]netip.Addr
}

// DHCPServer is a DHCPv4 server (RFC 2131) on a Host, for the clients on
// its network: it answers DISCOVER, REQUEST, DECLINE, RELEASE and INFORM,
// and NAKs a REQUEST for an address that is not the client's to have.
// Clients are told apart by their MAC (chaddr); leases do not expire.
type DHCPServer struct {
	h      *Host
	cfg    ServerConfig
	id     netip.Addr   // the server identifier, the host's address on the subnet
	subnet netip.Prefix // the pool's subnet
	static map[string]netip.Addr
	stop   func()
	once   sync.Once

	mu       sync.Mutex
	offered  map[string]netip.Addr // by MAC, offered and not yet requested
	leases   map[string]netip.Addr // by MAC, ACKed
	declined map[netip.Addr]bool   // in use by someone unknown, says a client
}

// ServeDHCP starts a DHCP server on the host, which needs a static IPv4
// address on the pool's subnet first (AddAddress): the server answers
// from it. The server stops with the host, or with Close.
func (h *Host) ServeDHCP(cfg ServerConfig) (*DHCPServer, error) {
	s, err := h.newDHCPServer(cfg)
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: dhcp server: %w", h.name, err)
	}
	s.stop, err = h.handleUDP(dhcp4.ServerPort, s.handle)
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: dhcp server: %w", h.name, err)
	}
	if err := h.addServer(s); err != nil {
		s.stop()
		return nil, err
	}
	h.log("dhcp server: pool %v-%v on %v", cfg.First, cfg.Last, s.subnet)
	return s, nil
}

func (h *Host) newDHCPServer(cfg ServerConfig) (*DHCPServer, error) {
	if !cfg.First.Is4() || !cfg.Last.Is4() || cfg.Last.Less(cfg.First) {
		return nil, fmt.Errorf("pool %v-%v: want IPv4 addresses, first to last", cfg.First, cfg.Last)
	}
	if cfg.Prefix < 0 || cfg.Prefix > 32 {
		return nil, fmt.Errorf("prefix length %d: out of range", cfg.Prefix)
	}
	s := &DHCPServer{
		h:        h,
		cfg:      cfg,
		static:   map[string]netip.Addr{},
		offered:  map[string]netip.Addr{},
		leases:   map[string]netip.Addr{},
		declined: map[netip.Addr]bool{},
	}
	for _, p := range h.Addrs() {
		bits := p.Bits()
		if cfg.Prefix != 0 {
			bits = cfg.Prefix
		}
		if sub, err := p.Addr().Prefix(bits); err == nil && p.Addr().Is4() && sub.Contains(cfg.First) {
			s.id, s.subnet = p.Addr(), sub
			break
		}
	}
	if !s.id.IsValid() {
		return nil, fmt.Errorf("the host has no IPv4 address on the subnet of %v: AddAddress first", cfg.First)
	}
	if !s.subnet.Contains(cfg.Last) {
		return nil, fmt.Errorf("pool %v-%v: not within %v", cfg.First, cfg.Last, s.subnet)
	}
	if cfg.Router.IsValid() && !cfg.Router.Is4() {
		return nil, fmt.Errorf("router %v: not IPv4", cfg.Router)
	}
	for _, a := range cfg.DNS {
		if !a.Is4() {
			return nil, fmt.Errorf("DNS server %v: not IPv4", a)
		}
	}
	if s.cfg.LeaseTime <= 0 {
		s.cfg.LeaseTime = time.Hour
	}
	for m, a := range cfg.Static {
		mac, err := net.ParseMAC(m)
		if err != nil {
			return nil, fmt.Errorf("static lease: %w", err)
		}
		if !s.subnet.Contains(a) {
			return nil, fmt.Errorf("static lease %v for %v: not within %v", a, mac, s.subnet)
		}
		s.static[mac.String()] = a
	}
	return s, nil
}

// Leases returns the addresses ACKed and not released, by MAC (as
// net.HardwareAddr.String writes it).
func (s *DHCPServer) Leases() map[string]netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.leases)
}

// Close stops the server.
func (s *DHCPServer) Close() error {
	s.once.Do(s.stop)
	return nil
}

// handle answers a client's message.
func (s *DHCPServer) handle(d udpDatagram) {
	m, err := dhcp4.Parse(d.Payload)
	if err != nil {
		s.h.log("dhcp server: malformed message from %v: %v", d.SrcMAC, err)
		return
	}
	if m.Op != dhcp4.BootRequest || len(m.HardwareAddr) != 6 {
		return
	}
	mac := m.HardwareAddr.String()
	requested, _ := m.Options.Addr(dhcp4.OptionRequestedAddr)

	s.mu.Lock()
	defer s.mu.Unlock()
	switch m.Type() {
	case dhcp4.Discover:
		a, ok := s.choose(mac, requested)
		if !ok {
			s.h.log("dhcp server: DISCOVER from %s: pool exhausted", mac)
			return
		}
		s.offered[mac] = a
		s.h.log("dhcp server: DISCOVER from %s: OFFER %v", mac, a)
		s.reply(m, dhcp4.Offer, a, "")

	case dhcp4.Request:
		if id, ok := m.Options.Addr(dhcp4.OptionServerID); ok && id != s.id {
			// The client took another server's offer.
			s.h.log("dhcp server: REQUEST from %s to server %v, not us", mac, id)
			delete(s.offered, mac)
			return
		}
		want := requested // SELECTING or INIT-REBOOT
		if !want.IsValid() {
			want = m.ClientAddr // RENEWING or REBINDING
		}
		if why := s.refuse(mac, want); why != "" {
			s.h.log("dhcp server: REQUEST %v from %s: NAK: %s", want, mac, why)
			s.reply(m, dhcp4.Nak, netip.Addr{}, why)
			return
		}
		delete(s.offered, mac)
		s.leases[mac] = want
		s.h.log("dhcp server: REQUEST %v from %s: ACK", want, mac)
		s.reply(m, dhcp4.Ack, want, "")

	case dhcp4.Decline:
		s.h.log("dhcp server: DECLINE %v from %s", requested, mac)
		if requested.IsValid() {
			s.declined[requested] = true
		}
		delete(s.offered, mac)
		delete(s.leases, mac)

	case dhcp4.Release:
		if s.leases[mac] == m.ClientAddr {
			delete(s.leases, mac)
		}
		s.h.log("dhcp server: RELEASE %v from %s", m.ClientAddr, mac)

	case dhcp4.Inform:
		s.h.log("dhcp server: INFORM from %s at %v: ACK", mac, m.ClientAddr)
		s.reply(m, dhcp4.Ack, netip.Addr{}, "")

	default:
		s.h.log("dhcp server: ignoring %v from %s", m.Type(), mac)
	}
}

// choose returns the address to offer mac: its static one, the one it
// has or was offered, the one it asks for, or the first free one.
func (s *DHCPServer) choose(mac string, requested netip.Addr) (netip.Addr, bool) {
	if a, ok := s.static[mac]; ok {
		return a, true
	}
	if a, ok := s.leases[mac]; ok {
		return a, true
	}
	if a, ok := s.offered[mac]; ok {
		return a, true
	}
	if s.inPool(requested) && s.free(requested, mac) {
		return requested, true
	}
	for a := s.cfg.First; a.IsValid() && !s.cfg.Last.Less(a); a = a.Next() {
		if s.free(a, mac) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// refuse says why mac may not have a, or "" if it may.
func (s *DHCPServer) refuse(mac string, a netip.Addr) string {
	if !a.IsValid() || a.IsUnspecified() {
		return "no address requested"
	}
	if st, ok := s.static[mac]; ok {
		if a != st {
			return fmt.Sprintf("%s has the static address %v", mac, st)
		}
		return ""
	}
	if s.leases[mac] == a || s.offered[mac] == a {
		return ""
	}
	if !s.inPool(a) {
		return fmt.Sprintf("%v is not in the pool %v-%v", a, s.cfg.First, s.cfg.Last)
	}
	if !s.free(a, mac) {
		return fmt.Sprintf("%v is in use", a)
	}
	return ""
}

func (s *DHCPServer) inPool(a netip.Addr) bool {
	return a.Is4() && !a.Less(s.cfg.First) && !s.cfg.Last.Less(a)
}

// free reports whether a may go to mac: it is no one else's.
func (s *DHCPServer) free(a netip.Addr, mac string) bool {
	if s.declined[a] || s.h.hasAddr(a) {
		return false
	}
	for _, m := range []map[string]netip.Addr{s.static, s.leases, s.offered} {
		for other, b := range m {
			if b == a && other != mac {
				return false
			}
		}
	}
	return true
}

// reply sends the reply of type typ to req, giving yiaddr; msg goes in a
// NAK. Where it goes follows RFC 2131 section 4.1: a NAK is broadcast;
// a client with an address gets it unicast there; one that asked for
// broadcast gets it broadcast; any other gets it unicast to the address
// it is given, at its MAC (which needs no ARP: the frame is made here).
func (s *DHCPServer) reply(req *dhcp4.Message, typ dhcp4.MessageType, yiaddr netip.Addr, msg string) {
	m := &dhcp4.Message{
		Op:           dhcp4.BootReply,
		XID:          req.XID,
		Broadcast:    req.Broadcast,
		YourAddr:     yiaddr,
		RelayAddr:    req.RelayAddr,
		HardwareAddr: req.HardwareAddr,
		Options:      dhcp4.Options{dhcp4.OptionMessageType: {byte(typ)}},
	}
	m.Options.SetAddrs(dhcp4.OptionServerID, s.id)
	if id, ok := req.Options[dhcp4.OptionClientID]; ok {
		m.Options[dhcp4.OptionClientID] = id // RFC 6842
	}
	switch {
	case typ == dhcp4.Nak:
		m.Options[dhcp4.OptionMessage] = []byte(msg)
	default:
		if typ != dhcp4.Offer {
			m.ClientAddr = req.ClientAddr
		}
		if yiaddr.IsValid() { // not for INFORM
			secs := uint32(s.cfg.LeaseTime / time.Second)
			m.Options.SetUint32(dhcp4.OptionLeaseTime, secs)
			m.Options.SetUint32(dhcp4.OptionRenewalTime, secs/2)
			m.Options.SetUint32(dhcp4.OptionRebindingTime, secs/8*7)
		}
		mask := net.CIDRMask(s.subnet.Bits(), 32)
		m.Options[dhcp4.OptionSubnetMask] = mask
		if s.cfg.Router.IsValid() {
			m.Options.SetAddrs(dhcp4.OptionRouter, s.cfg.Router)
		}
		if len(s.cfg.DNS) > 0 {
			m.Options.SetAddrs(dhcp4.OptionDNS, s.cfg.DNS...)
		}
		if s.cfg.Domain != "" {
			m.Options[dhcp4.OptionDomainName] = []byte(s.cfg.Domain)
		}
	}

	dst, dstMAC := limitedBroadcast, broadcastMAC
	switch {
	case typ == dhcp4.Nak, req.RelayAddr.IsValid() && !req.RelayAddr.IsUnspecified():
		// Relays are not supported: broadcast, for want of better.
	case req.ClientAddr.IsValid() && !req.ClientAddr.IsUnspecified():
		dst, dstMAC = req.ClientAddr, req.HardwareAddr
	case !req.Broadcast && yiaddr.IsValid():
		dst, dstMAC = yiaddr, req.HardwareAddr
	}
	b, err := m.Marshal()
	if err == nil {
		err = s.h.SendUDPv4(dstMAC, netip.AddrPortFrom(s.id, dhcp4.ServerPort), netip.AddrPortFrom(dst, dhcp4.ClientPort), b)
	}
	if err != nil {
		s.h.log("dhcp server: sending %v to %v: %v", typ, req.HardwareAddr, err)
	}
}
