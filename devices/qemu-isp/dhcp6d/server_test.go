package main

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
)

// routes records the server's route changes.
type routes struct{ log []string }

func (r *routes) route(add bool, p netip.Prefix, ifname string, via netip.Addr) error {
	op := "del"
	if add {
		op = "add"
	}
	r.log = append(r.log, fmt.Sprintf("%s %s via %s dev %s", op, p, via, ifname))
	return nil
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var serverDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}

func newServer(t *testing.T) (*Server, *routes, *clock) {
	t.Helper()
	r := &routes{}
	c := &clock{time.Unix(1e9, 0)}
	s, err := NewServer(Config{
		Prefixes:  netip.MustParsePrefix("2001:db8:1000::/40"),
		PrefixLen: 56,
		Addresses: netip.MustParsePrefix("2001:db8:ffff::/64"),
		DNS:       []netip.Addr{netip.MustParseAddr("2001:db8:ff::53")},
		Preferred: 30 * time.Minute,
		Valid:     time.Hour,
		ServerID:  serverDUID,
		Route:     r.route,
		Now:       c.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, r, c
}

func client(n byte) dhcpv6.DUID {
	return &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x52, 0x54, 0, 0, 1, n}}
}

// msg builds a client message asking for one IA_NA and one IA_PD.
func msg(t *testing.T, typ dhcpv6.MessageType, cid, sid dhcpv6.DUID) *dhcpv6.Message {
	t.Helper()
	m := &dhcpv6.Message{MessageType: typ, TransactionID: dhcpv6.TransactionID{1, 2, 3}}
	m.AddOption(dhcpv6.OptClientID(cid))
	if sid != nil {
		m.AddOption(dhcpv6.OptServerID(sid))
	}
	m.AddOption(&dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}})
	m.AddOption(&dhcpv6.OptIAPD{IaId: [4]byte{0, 0, 0, 2}})
	return m
}

// leased is what a reply gives: the address, the prefix, or the status
// codes of IAs without them.
type leased struct {
	Type    string
	Address string
	Prefix  string
	Status  []string
	DNS     string
}

func lease(t *testing.T, m *dhcpv6.Message) *leased {
	t.Helper()
	if m == nil {
		return nil
	}
	// Through the wire format: what a client would read.
	b, err := dhcpv6.MessageFromBytes(m.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	l := &leased{Type: b.Type().String()}
	if sid := b.Options.ServerID(); sid == nil || !sid.Equal(serverDUID) {
		t.Errorf("%s: server ID %v, want %v", l.Type, sid, serverDUID)
	}
	for _, d := range b.Options.DNS() {
		l.DNS = d.String()
	}
	if st := b.Options.Status(); st != nil {
		l.Status = append(l.Status, st.StatusCode.String())
	}
	for _, ia := range b.Options.IANA() {
		if a := ia.Options.OneAddress(); a != nil {
			l.Address = a.IPv6Addr.String()
		}
		if st := ia.Options.Status(); st != nil {
			l.Status = append(l.Status, "na:"+st.StatusCode.String())
		}
	}
	for _, ia := range b.Options.IAPD() {
		if ps := ia.Options.Prefixes(); len(ps) > 0 {
			l.Prefix = ps[0].Prefix.String()
			if ia.T1 != 15*time.Minute || ia.T2 != 24*time.Minute || ps[0].ValidLifetime != time.Hour {
				t.Errorf("IA_PD T1 %v T2 %v valid %v, want 15m, 24m, 1h", ia.T1, ia.T2, ps[0].ValidLifetime)
			}
		}
		if st := ia.Options.Status(); st != nil {
			l.Status = append(l.Status, "pd:"+st.StatusCode.String())
		}
	}
	return l
}

var (
	peer1 = netip.MustParseAddr("fe80::5054:ff:fe00:101")
	peer2 = netip.MustParseAddr("fe80::5054:ff:fe00:102")
)

func TestExchange(t *testing.T) {
	s, r, c := newServer(t)
	handle := func(m *dhcpv6.Message, ifname string, peer netip.Addr) *leased {
		t.Helper()
		reply, err := s.Handle(m, ifname, peer)
		if err != nil {
			t.Fatal(err)
		}
		return lease(t, reply)
	}
	first := &leased{Address: "2001:db8:ffff::100", Prefix: "2001:db8:1000::/56", DNS: "2001:db8:ff::53"}
	with := func(l *leased, typ string) *leased { c := *l; c.Type = typ; return &c }

	// Solicit, Advertise: nothing routed yet.
	if diff := cmp.Diff(with(first, "ADVERTISE"), handle(msg(t, dhcpv6.MessageTypeSolicit, client(1), nil), "ppp0", peer1)); diff != "" {
		t.Errorf("advertise (-want +got):\n%s", diff)
	}
	if len(r.log) != 0 || len(s.Bindings()) != 0 {
		t.Errorf("after an advertise: routes %q, bindings %v; want none", r.log, s.Bindings())
	}
	// A second client is advertised the next prefix and address.
	second := handle(msg(t, dhcpv6.MessageTypeSolicit, client(2), nil), "ppp1", peer2)
	if second.Prefix != "2001:db8:1000:100::/56" || second.Address != "2001:db8:ffff::101" {
		t.Errorf("second client advertised %+v, want the pools' next prefix and address", second)
	}
	// Request: the same, routed to the client.
	if diff := cmp.Diff(with(first, "REPLY"), handle(msg(t, dhcpv6.MessageTypeRequest, client(1), serverDUID), "ppp0", peer1)); diff != "" {
		t.Errorf("reply to request (-want +got):\n%s", diff)
	}
	wantRoutes := []string{
		"add 2001:db8:ffff::100/128 via fe80::5054:ff:fe00:101 dev ppp0",
		"add 2001:db8:1000::/56 via fe80::5054:ff:fe00:101 dev ppp0",
	}
	if diff := cmp.Diff(wantRoutes, r.log); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	// A request to another server: no answer.
	if got := handle(msg(t, dhcpv6.MessageTypeRequest, client(1), client(9)), "ppp0", peer1); got != nil {
		t.Errorf("request for another server answered: %+v", got)
	}
	// The session drops, the subscriber redials on ppp3: Rebind gets the
	// same prefix, routed to the new link.
	c.t = c.t.Add(40 * time.Minute)
	if diff := cmp.Diff(with(first, "REPLY"), handle(msg(t, dhcpv6.MessageTypeRebind, client(1), nil), "ppp3", peer1)); diff != "" {
		t.Errorf("reply to rebind (-want +got):\n%s", diff)
	}
	wantRoutes = append(wantRoutes,
		"add 2001:db8:ffff::100/128 via fe80::5054:ff:fe00:101 dev ppp3",
		"add 2001:db8:1000::/56 via fe80::5054:ff:fe00:101 dev ppp3")
	if diff := cmp.Diff(wantRoutes, r.log); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	// Renew extends the binding past its first valid lifetime.
	c.t = c.t.Add(40 * time.Minute)
	if got := handle(msg(t, dhcpv6.MessageTypeRenew, client(1), serverDUID), "ppp3", peer1); got.Prefix != first.Prefix {
		t.Errorf("renew: %+v, want the prefix %s", got, first.Prefix)
	}
	if diff := cmp.Diff("[2001:db8:1000::/56 2001:db8:ffff::100/128]", fmt.Sprint(s.Bindings())); diff != "" {
		t.Errorf("bindings after renew (-want +got):\n%s", diff)
	}
	// Release: the routes go.
	if got := handle(msg(t, dhcpv6.MessageTypeRelease, client(1), serverDUID), "ppp3", peer1); got == nil || len(got.Status) != 1 || got.Status[0] != "Success" {
		t.Errorf("release: %+v, want a reply with status Success", got)
	}
	wantRoutes = append(wantRoutes,
		"del 2001:db8:ffff::100/128 via fe80::5054:ff:fe00:101 dev ppp3",
		"del 2001:db8:1000::/56 via fe80::5054:ff:fe00:101 dev ppp3")
	if diff := cmp.Diff(wantRoutes, r.log); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	if b := s.Bindings(); len(b) != 0 {
		t.Errorf("bindings after release: %v", b)
	}
	// Renew of a released binding: NoBinding for each IA.
	got := handle(msg(t, dhcpv6.MessageTypeRenew, client(1), serverDUID), "ppp3", peer1)
	if diff := cmp.Diff([]string{"na:NoBinding", "pd:NoBinding"}, got.Status); diff != "" {
		t.Errorf("renew after release: statuses (-want +got):\n%s", diff)
	}
	// Rebind of a binding the server does not have: no reply (RFC 8415, 18.3.5).
	if got := handle(msg(t, dhcpv6.MessageTypeRebind, client(1), nil), "ppp3", peer1); got != nil {
		t.Errorf("rebind without a binding answered: %+v", got)
	}
}

func TestExpiry(t *testing.T) {
	s, r, c := newServer(t)
	if _, err := s.Handle(msg(t, dhcpv6.MessageTypeSolicit, client(1), nil), "ppp0", peer1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Handle(msg(t, dhcpv6.MessageTypeRequest, client(1), serverDUID), "ppp0", peer1); err != nil {
		t.Fatal(err)
	}
	// An advertised prefix is held a minute, then offered to others.
	if _, err := s.Handle(msg(t, dhcpv6.MessageTypeSolicit, client(2), nil), "ppp1", peer2); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(61 * time.Minute)
	reply, err := s.Handle(msg(t, dhcpv6.MessageTypeSolicit, client(3), nil), "ppp2", peer2)
	if err != nil {
		t.Fatal(err)
	}
	if got := lease(t, reply); got.Prefix != "2001:db8:1000::/56" {
		t.Errorf("after both expired, a new client got %s, want the pool's first prefix", got.Prefix)
	}
	if n := len(r.log); n != 4 || r.log[2][:3] != "del" || r.log[3][:3] != "del" {
		t.Errorf("routes %q: want the two expired ones removed", r.log)
	}
}

func TestPoolExhausted(t *testing.T) {
	r := &routes{}
	s, err := NewServer(Config{
		Prefixes:  netip.MustParsePrefix("2001:db8:1000::/55"),
		PrefixLen: 56,
		Addresses: netip.MustParsePrefix("2001:db8:ffff::/64"),
		Preferred: 30 * time.Minute, Valid: time.Hour,
		ServerID: serverDUID, Route: r.route,
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for n := byte(1); n <= 3; n++ {
		reply, err := s.Handle(msg(t, dhcpv6.MessageTypeSolicit, client(n), nil), "ppp0", peer1)
		if err != nil {
			t.Fatal(err)
		}
		l := lease(t, reply)
		got = append(got, l.Prefix+fmt.Sprint(l.Status))
	}
	want := []string{"2001:db8:1000::/56[]", "2001:db8:1000:100::/56[]", "[pd:NoPrefixAvail]"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestBadConfig(t *testing.T) {
	good := Config{
		Prefixes:  netip.MustParsePrefix("2001:db8:1000::/40"),
		PrefixLen: 56,
		Addresses: netip.MustParsePrefix("2001:db8:ffff::/64"),
		Preferred: time.Minute, Valid: time.Hour, ServerID: serverDUID,
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"prefix shorter than pool", func(c *Config) { c.PrefixLen = 32 }},
		{"prefix longer than 64", func(c *Config) { c.PrefixLen = 65 }},
		{"IPv4 pool", func(c *Config) { c.Prefixes = netip.MustParsePrefix("10.0.0.0/8") }},
		{"valid < preferred", func(c *Config) { c.Valid = time.Second }},
		{"no server ID", func(c *Config) { c.ServerID = nil }},
	} {
		c := good
		tc.mod(&c)
		if _, err := NewServer(c); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	if _, err := NewServer(good); err != nil {
		t.Errorf("good config: %v", err)
	}
}

// The advertisement as RFC 4861, 4.2 lays it out.
func TestRouterAdvert(t *testing.T) {
	got := routerAdvert(30*time.Second, net.HardwareAddr{0x52, 0x54, 0, 0, 2, 1})
	want := []byte{
		134, 0, 0, 0, // type, code, checksum (the kernel's)
		64, 0, 0, 30, // hop limit, flags, router lifetime
		0, 0, 0, 0, 0, 0, 0, 0, // reachable time, retrans timer
		1, 1, 0x52, 0x54, 0, 0, 2, 1, // source link-layer address
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestInGroup(t *testing.T) {
	const igmp6 = `1    lo              ff020000000000000000000000000001     1 0000000C 0
9    ppp0            ff020000000000000000000000000001     1 0000000C 0
9    ppp0            ff020000000000000000000000010002     1 00000004 0
10   eth0            ff020000000000000000000000000001     1 0000000C 0
`
	tests := []struct {
		ifname string
		want   bool
	}{
		{"ppp0", true},
		{"eth0", false}, // only all-nodes
		{"ppp1", false},
		{"ppp", false},
	}
	for _, tc := range tests {
		if got := inGroup([]byte(igmp6), tc.ifname, allServersHex); got != tc.want {
			t.Errorf("inGroup(%q) = %v, want %v", tc.ifname, got, tc.want)
		}
	}
}
