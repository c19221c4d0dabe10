package main

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// Config is what the server hands out.
type Config struct {
	// Prefixes is the pool delegated prefixes are cut from.
	Prefixes netip.Prefix
	// PrefixLen is the length of each delegated prefix (e.g. 56).
	PrefixLen int
	// Addresses is the pool of IA_NA addresses (subscribers' WAN addresses).
	Addresses netip.Prefix
	// DNS servers given to every client.
	DNS []netip.Addr
	// Preferred and Valid are the lifetimes of what is leased; T1 and T2
	// are set to 0.5 and 0.8 of Preferred (RFC 8415, 21.4).
	Preferred, Valid time.Duration
	// ServerID is this server's DUID.
	ServerID dhcpv6.DUID
	// Route installs (add) or removes (!add) the route of a leased
	// prefix or address towards the client: via its link-local address
	// on the interface the request came in on.
	Route func(add bool, p netip.Prefix, ifname string, via netip.Addr) error
	// Now is the clock (time.Now if nil).
	Now func() time.Time
	// Logf logs what the server does.
	Logf func(format string, args ...any)
}

// iaKey names an identity association: the client's DUID, the IA's type
// and its IAID.
type iaKey struct {
	duid string
	pd   bool
	iaid [4]byte
}

// binding is what one IA holds.
type binding struct {
	prefix netip.Prefix // the delegated prefix, or the address as a /128
	ifname string       // where the route points
	via    netip.Addr
	routed bool
	// committed: requested, not only advertised. An advertised binding
	// holds its prefix for a minute, a committed one for the valid
	// lifetime from the last request.
	committed bool
	expires   time.Time
}

// Server is a DHCPv6 server for delegated prefixes and addresses
// (RFC 8415): stateful, one binding per IA, stable for a client while
// its binding lives (a subscriber that redials gets its prefix back).
type Server struct {
	cfg      Config
	mu       sync.Mutex
	bindings map[iaKey]*binding
	used     map[netip.Prefix]iaKey
}

// NewServer checks cfg and returns a server.
func NewServer(cfg Config) (*Server, error) {
	if !cfg.Prefixes.IsValid() || !cfg.Prefixes.Addr().Is6() {
		return nil, errors.New("prefix pool: want an IPv6 prefix")
	}
	if cfg.PrefixLen < cfg.Prefixes.Bits() || cfg.PrefixLen > 64 {
		return nil, fmt.Errorf("prefix length %d: want %d..64 (within the pool %s)", cfg.PrefixLen, cfg.Prefixes.Bits(), cfg.Prefixes)
	}
	if !cfg.Addresses.IsValid() || !cfg.Addresses.Addr().Is6() {
		return nil, errors.New("address pool: want an IPv6 prefix")
	}
	if cfg.Preferred <= 0 || cfg.Valid < cfg.Preferred {
		return nil, fmt.Errorf("lifetimes %v/%v: want 0 < preferred <= valid", cfg.Preferred, cfg.Valid)
	}
	if cfg.ServerID == nil {
		return nil, errors.New("no server DUID")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	if cfg.Route == nil {
		cfg.Route = func(bool, netip.Prefix, string, netip.Addr) error { return nil }
	}
	cfg.Prefixes = cfg.Prefixes.Masked()
	cfg.Addresses = cfg.Addresses.Masked()
	return &Server{cfg: cfg, bindings: map[iaKey]*binding{}, used: map[netip.Prefix]iaKey{}}, nil
}

// Handle answers one message that came in on ifname from peer; it
// returns nil when the message gets no answer.
func (s *Server) Handle(m *dhcpv6.Message, ifname string, peer netip.Addr) (*dhcpv6.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire()
	cid := m.Options.ClientID()
	if cid == nil {
		return nil, fmt.Errorf("%s from %s: no client ID", m.Type(), peer)
	}
	s.cfg.Logf("dhcp6d: %s from %s on %s", m.Type(), peer, ifname)
	sid := m.Options.ServerID()
	mine := sid != nil && sid.Equal(s.cfg.ServerID)
	switch m.Type() {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeInformationRequest, dhcpv6.MessageTypeConfirm:
		if sid != nil {
			return nil, nil // RFC 8415, 16: discard those carrying a server ID.
		}
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		if !mine {
			return nil, nil // for another server
		}
	default:
		return nil, nil
	}

	var reply *dhcpv6.Message
	var err error
	switch m.Type() {
	case dhcpv6.MessageTypeSolicit:
		commit := m.GetOneOption(dhcpv6.OptionRapidCommit) != nil
		if commit {
			reply, err = dhcpv6.NewReplyFromMessage(m)
		} else {
			reply, err = dhcpv6.NewAdvertiseFromSolicit(m)
		}
		if err == nil {
			s.lease(m, reply, ifname, peer, commit, false)
		}
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew:
		if reply, err = dhcpv6.NewReplyFromMessage(m); err == nil {
			s.lease(m, reply, ifname, peer, true, m.Type() == dhcpv6.MessageTypeRenew)
		}
	case dhcpv6.MessageTypeRebind:
		if reply, err = dhcpv6.NewReplyFromMessage(m); err == nil {
			if !s.lease(m, reply, ifname, peer, true, true) {
				return nil, nil // RFC 8415, 18.3.5: no binding of ours, no reply
			}
		}
	case dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline:
		if reply, err = dhcpv6.NewReplyFromMessage(m); err == nil {
			s.release(m, cid)
			reply.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})
		}
	case dhcpv6.MessageTypeInformationRequest, dhcpv6.MessageTypeConfirm:
		// Confirm: the pool is on every link this server answers on.
		if reply, err = dhcpv6.NewReplyFromMessage(m); err == nil {
			reply.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})
		}
	}
	if err != nil {
		return nil, err
	}
	reply.AddOption(dhcpv6.OptServerID(s.cfg.ServerID))
	if len(s.cfg.DNS) > 0 {
		dns := make([]net.IP, len(s.cfg.DNS))
		for i, a := range s.cfg.DNS {
			dns[i] = a.AsSlice()
		}
		reply.AddOption(dhcpv6.OptDNS(dns...))
	}
	return reply, nil
}

// lease fills reply with the client's IA_NA and IA_PD bindings, making
// them when !renew; commit installs the routes and starts the valid
// lifetime. It reports whether every IA had a binding.
func (s *Server) lease(m, reply *dhcpv6.Message, ifname string, peer netip.Addr, commit, renew bool) bool {
	duid := hex.EncodeToString(m.Options.ClientID().ToBytes())
	t1, t2 := s.cfg.Preferred/2, s.cfg.Preferred*4/5
	all := true
	for _, ia := range m.Options.IANA() {
		out := &dhcpv6.OptIANA{IaId: ia.IaId, T1: t1, T2: t2}
		if b, err := s.bind(iaKey{duid, false, ia.IaId}, ifname, peer, commit, renew); err != nil {
			all = false
			out.Options.Add(status(renew, iana.StatusNoAddrsAvail, err))
		} else {
			out.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: b.prefix.Addr().AsSlice(), PreferredLifetime: s.cfg.Preferred, ValidLifetime: s.cfg.Valid})
		}
		reply.AddOption(out)
	}
	for _, ia := range m.Options.IAPD() {
		out := &dhcpv6.OptIAPD{IaId: ia.IaId, T1: t1, T2: t2}
		if b, err := s.bind(iaKey{duid, true, ia.IaId}, ifname, peer, commit, renew); err != nil {
			all = false
			out.Options.Add(status(renew, iana.StatusNoPrefixAvail, err))
		} else {
			out.Options.Add(&dhcpv6.OptIAPrefix{
				PreferredLifetime: s.cfg.Preferred,
				ValidLifetime:     s.cfg.Valid,
				Prefix:            &net.IPNet{IP: b.prefix.Addr().AsSlice(), Mask: net.CIDRMask(b.prefix.Bits(), 128)},
			})
		}
		reply.AddOption(out)
	}
	return all
}

var errNoBinding = errors.New("no binding")

func status(renew bool, none iana.StatusCode, err error) *dhcpv6.OptStatusCode {
	if renew && errors.Is(err, errNoBinding) {
		return &dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding, StatusMessage: err.Error()}
	}
	return &dhcpv6.OptStatusCode{StatusCode: none, StatusMessage: err.Error()}
}

// bind finds or (unless renew) makes the binding of k, and with commit
// points its route at the client and extends it.
func (s *Server) bind(k iaKey, ifname string, peer netip.Addr, commit, renew bool) (*binding, error) {
	b := s.bindings[k]
	if b == nil {
		if renew {
			return nil, errNoBinding
		}
		p, err := s.allocate(k)
		if err != nil {
			return nil, err
		}
		b = &binding{prefix: p}
		s.bindings[k] = b
		s.used[p] = k
		s.cfg.Logf("dhcp6d: %s for client %s", p, k.duid)
	}
	if !commit {
		if !b.committed {
			b.expires = s.cfg.Now().Add(time.Minute)
		}
		return b, nil
	}
	if !b.routed || b.ifname != ifname || b.via != peer {
		if err := s.cfg.Route(true, b.prefix, ifname, peer); err != nil {
			s.cfg.Logf("dhcp6d: route %s via %s dev %s: %v", b.prefix, peer, ifname, err)
		} else {
			b.routed, b.ifname, b.via = true, ifname, peer
			s.cfg.Logf("dhcp6d: routed %s via %s dev %s", b.prefix, peer, ifname)
		}
	}
	b.committed = true
	b.expires = s.cfg.Now().Add(s.cfg.Valid)
	return b, nil
}

// allocate picks the first free prefix (or address) of the pool.
func (s *Server) allocate(k iaKey) (netip.Prefix, error) {
	pool, bits := s.cfg.Addresses, 128
	first := uint64(0x100) // leave the pool's low addresses to the ISP
	if k.pd {
		pool, bits, first = s.cfg.Prefixes, s.cfg.PrefixLen, 0
	}
	n := uint64(1) << min(bits-pool.Bits(), 32)
	for i := first; i < n; i++ {
		p := nth(pool, bits, i)
		if _, taken := s.used[p]; !taken {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("the pool %s is exhausted", pool)
}

// nth is the i-th prefix of length bits within pool.
func nth(pool netip.Prefix, bits int, i uint64) netip.Prefix {
	a := pool.Addr().As16()
	v := new(big.Int).SetBytes(a[:])
	v.Or(v, new(big.Int).Lsh(new(big.Int).SetUint64(i), uint(128-bits)))
	var b [16]byte
	v.FillBytes(b[:])
	return netip.PrefixFrom(netip.AddrFrom16(b), bits)
}

// release drops the client's bindings named in m.
func (s *Server) release(m *dhcpv6.Message, cid dhcpv6.DUID) {
	duid := hex.EncodeToString(cid.ToBytes())
	var keys []iaKey
	for _, ia := range m.Options.IANA() {
		keys = append(keys, iaKey{duid, false, ia.IaId})
	}
	for _, ia := range m.Options.IAPD() {
		keys = append(keys, iaKey{duid, true, ia.IaId})
	}
	for _, k := range keys {
		if b := s.bindings[k]; b != nil {
			s.drop(k, b, "released")
		}
	}
}

// expire drops the bindings whose valid lifetime has passed.
func (s *Server) expire() {
	now := s.cfg.Now()
	for k, b := range s.bindings {
		if now.After(b.expires) {
			s.drop(k, b, "expired")
		}
	}
}

func (s *Server) drop(k iaKey, b *binding, why string) {
	if b.routed {
		if err := s.cfg.Route(false, b.prefix, b.ifname, b.via); err != nil {
			s.cfg.Logf("dhcp6d: removing the route of %s: %v", b.prefix, err)
		}
	}
	delete(s.bindings, k)
	delete(s.used, b.prefix)
	s.cfg.Logf("dhcp6d: %s of client %s %s", b.prefix, k.duid, why)
}

// Bindings lists the committed bindings, for logs and tests.
func (s *Server) Bindings() []netip.Prefix {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []netip.Prefix
	for _, b := range s.bindings {
		if b.committed {
			out = append(out, b.prefix)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Addr().Less(out[j].Addr()) })
	return out
}
