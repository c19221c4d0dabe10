package nettest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"bazwrt/tests/nettest/dhcp4"
	"bazwrt/tests/nettest/dnsmsg"
	"bazwrt/tests/nettest/qemunet"
	"bazwrt/tools/vm/vmtest"
)

// cmpNetip compares the net/netip types, whose fields are unexported.
var cmpNetip = cmp.Options{
	cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
	cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b }),
}

var (
	addr   = netip.MustParseAddr
	prefix = netip.MustParsePrefix
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// newHost attaches a host to the network on port, with address a if not
// empty, closed when the test ends.
func newHost(t *testing.T, port int, name, hw, a string) *Host {
	t.Helper()
	h, err := New(Config{Port: port, MAC: mac(hw), Name: name, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if a != "" {
		if err := h.AddAddress(prefix(a)); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestDHCP: clients get leases from the server, with what it hands out;
// a static client its fixed address; the last an error when the pool is
// empty.
func TestDHCP(t *testing.T) {
	port := vmtest.PortBase(t)
	isp := newHost(t, port, "isp", "52:54:00:00:01:01", "10.1.0.1/24")
	const static = "52:54:00:00:01:10"
	srv, err := isp.ServeDHCP(ServerConfig{
		First:     addr("10.1.0.100"),
		Last:      addr("10.1.0.101"),
		Router:    addr("10.1.0.254"),
		DNS:       []netip.Addr{addr("10.1.0.53"), addr("10.1.0.54")},
		Domain:    "isp.test",
		LeaseTime: 2 * time.Hour,
		Static:    map[string]netip.Addr{strings.ToUpper(static): addr("10.1.0.10")},
	})
	if err != nil {
		t.Fatal(err)
	}

	wantLeases := map[string]netip.Addr{}
	for _, c := range []struct {
		name, mac string
		want      netip.Prefix
	}{
		{"first", "52:54:00:00:01:20", prefix("10.1.0.100/24")},
		{"static", static, prefix("10.1.0.10/24")},
		{"second", "52:54:00:00:01:21", prefix("10.1.0.101/24")},
	} {
		h := newHost(t, port, c.name, c.mac, "")
		lease, err := h.DHCP(timeout(t, 10*time.Second))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := Lease{
			Addr:      c.want,
			Router:    addr("10.1.0.254"),
			DNS:       []netip.Addr{addr("10.1.0.53"), addr("10.1.0.54")},
			Domain:    "isp.test",
			LeaseTime: 2 * time.Hour,
			Server:    addr("10.1.0.1"),
		}
		if diff := cmp.Diff(want, lease, cmpNetip); diff != "" {
			t.Errorf("%s: lease (-want +got):\n%s", c.name, diff)
		}
		// The host is configured by it.
		if diff := cmp.Diff([]netip.Prefix{c.want}, h.Addrs(), cmpNetip); diff != "" {
			t.Errorf("%s: addresses after DHCP (-want +got):\n%s", c.name, diff)
		}
		if got := h.DNS(); got != addr("10.1.0.53") {
			t.Errorf("%s: DNS server after DHCP = %v, want 10.1.0.53", c.name, got)
		}
		wantLeases[c.mac] = c.want.Addr()
	}
	if diff := cmp.Diff(wantLeases, srv.Leases(), cmpNetip); diff != "" {
		t.Errorf("Leases() (-want +got):\n%s", diff)
	}

	// The pool is exhausted: a fourth client gets no offer.
	late := newHost(t, port, "late", "52:54:00:00:01:22", "")
	_, err = late.DHCP(timeout(t, 1500*time.Millisecond))
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "dhcp: no OFFER (") {
		t.Errorf("DHCP from an exhausted pool: %v, want no OFFER and a deadline", err)
	}
}

// TestDHCPClient: what the client sends, how it retransmits and starts
// over after a NAK, against a scripted server.
func TestDHCPClient(t *testing.T) {
	port := vmtest.PortBase(t)
	client := newHost(t, port, "client", "52:54:00:00:02:01", "")
	raw := join(t, port)
	serverMAC := mac("52:54:00:00:02:fe")
	serverID := addr("10.2.0.1")

	type result struct {
		lease Lease
		err   error
	}
	done := make(chan result, 1)
	ctx := timeout(t, 15*time.Second)
	go func() {
		l, err := client.DHCP(ctx)
		done <- result{l, err}
	}()

	// The server ignores the first DISCOVER, offers .50 and NAKs the
	// REQUEST for it, then offers .51 and ACKs it.
	type seen struct {
		Type      string
		XID       uint32
		Broadcast bool
		Options   map[uint8][]byte
	}
	var got []seen
	discovers := 0
loop:
	for {
		var m dhcpMessage
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("DHCP: %v (messages so far: %+v)", r.err, got)
			}
			want := Lease{Addr: prefix("10.2.0.51/16"), Server: serverID}
			if diff := cmp.Diff(want, r.lease, cmpNetip); diff != "" {
				t.Errorf("lease (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]netip.Prefix{prefix("10.2.0.51/16")}, client.Addrs(), cmpNetip); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			break loop
		case m = <-raw.dhcp:
		}
		if !bytes.Equal(m.srcMAC, client.MAC()) {
			continue
		}
		opts := map[uint8][]byte{}
		for c, v := range m.msg.Options {
			if c != 53 {
				opts[uint8(c)] = v
			}
		}
		got = append(got, seen{m.msg.Type().String(), m.msg.XID, m.msg.Broadcast, opts})
		switch m.msg.Type().String() {
		case "DISCOVER":
			discovers++
			switch discovers {
			case 1:
			case 2:
				raw.reply(t, serverMAC, serverID, m.msg, dhcp4.Offer, addr("10.2.0.50"))
			default:
				raw.reply(t, serverMAC, serverID, m.msg, dhcp4.Offer, addr("10.2.0.51"))
			}
		case "REQUEST":
			if discovers == 2 {
				raw.reply(t, serverMAC, serverID, m.msg, dhcp4.Nak, netip.Addr{})
			} else {
				raw.reply(t, serverMAC, serverID, m.msg, dhcp4.Ack, addr("10.2.0.51"))
			}
		}
	}

	clientID := append([]byte{1}, client.MAC()...)
	params := []byte{1, 3, 6, 15, 51, 54}
	discover := map[uint8][]byte{55: params, 61: clientID}
	request := func(a string) map[uint8][]byte {
		return map[uint8][]byte{50: addr(a).AsSlice(), 54: serverID.AsSlice(), 55: params, 61: clientID}
	}
	if len(got) != 5 {
		t.Fatalf("client sent %d messages, want 5: %+v", len(got), got)
	}
	want := []seen{
		{"DISCOVER", got[0].XID, true, discover},
		{"DISCOVER", got[0].XID, true, discover}, // a second later, the same transaction
		{"REQUEST", got[0].XID, true, request("10.2.0.50")},
		{"DISCOVER", got[3].XID, true, discover}, // after the NAK, a new one
		{"REQUEST", got[3].XID, true, request("10.2.0.51")},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("client's messages (-want +got):\n%s", diff)
	}
	if got[3].XID == got[0].XID {
		t.Errorf("client kept the transaction ID %#x after a NAK", got[0].XID)
	}
}

// TestDHCPServer: the server's replies to hand-made client messages, and
// where it sends them.
func TestDHCPServer(t *testing.T) {
	port := vmtest.PortBase(t)
	isp := newHost(t, port, "isp", "52:54:00:00:03:01", "10.3.0.1/24")
	const (
		static = "52:54:00:00:03:10"
		holder = "52:54:00:00:03:11"
		asker  = "52:54:00:00:03:12"
	)
	srv, err := isp.ServeDHCP(ServerConfig{
		First:  addr("10.3.0.100"),
		Last:   addr("10.3.0.199"),
		Prefix: 16,
		Static: map[string]netip.Addr{static: addr("10.3.0.10")},
	})
	if err != nil {
		t.Fatal(err)
	}
	zero := netip.IPv4Unspecified()

	// holder has 10.3.0.100.
	holderHost := newHost(t, port, "holder", holder, "")
	if _, err := holderHost.DHCP(timeout(t, 10*time.Second)); err != nil {
		t.Fatal(err)
	}
	raw := join(t, port)

	type reply struct {
		Type      string
		YourAddr  netip.Addr
		Dst       netip.AddrPort
		DstMAC    string
		Message   string
		LeaseTime bool
		Mask      string
	}
	tests := []struct {
		name    string
		typ     byte // of the request, a dhcp4.MessageType
		mac     string
		ciaddr  netip.Addr
		opts    map[uint8][]byte
		bcast   bool
		want    *reply // nil: no reply
		wantMap map[string]netip.Addr
	}{{
		name: "DISCOVER asking for a free address",
		typ:  1, mac: asker, ciaddr: zero, bcast: true,
		opts: map[uint8][]byte{50: addr("10.3.0.150").AsSlice()},
		want: &reply{Type: "OFFER", YourAddr: addr("10.3.0.150"), Dst: netip.MustParseAddrPort("255.255.255.255:68"), DstMAC: "ff:ff:ff:ff:ff:ff", LeaseTime: true, Mask: "ffff0000"},
	}, {
		name: "DISCOVER asking for a taken address",
		typ:  1, mac: "52:54:00:00:03:13", ciaddr: zero,
		opts: map[uint8][]byte{50: addr("10.3.0.100").AsSlice()},
		want: &reply{Type: "OFFER", YourAddr: addr("10.3.0.101"), Dst: netip.MustParseAddrPort("10.3.0.101:68"), DstMAC: "52:54:00:00:03:13", LeaseTime: true, Mask: "ffff0000"},
	}, {
		name: "REQUEST for another server",
		typ:  3, mac: asker, ciaddr: zero,
		opts: map[uint8][]byte{50: addr("10.3.0.150").AsSlice(), 54: addr("10.3.0.2").AsSlice()},
	}, {
		name: "REQUEST (INIT-REBOOT) outside the pool",
		typ:  3, mac: asker, ciaddr: zero,
		opts: map[uint8][]byte{50: addr("10.3.0.50").AsSlice()},
		want: &reply{Type: "NAK", YourAddr: zero, Dst: netip.MustParseAddrPort("255.255.255.255:68"), DstMAC: "ff:ff:ff:ff:ff:ff", Message: "10.3.0.50 is not in the pool 10.3.0.100-10.3.0.199"},
	}, {
		name: "REQUEST for another client's address",
		typ:  3, mac: asker, ciaddr: zero,
		opts: map[uint8][]byte{50: addr("10.3.0.100").AsSlice(), 54: addr("10.3.0.1").AsSlice()},
		want: &reply{Type: "NAK", YourAddr: zero, Dst: netip.MustParseAddrPort("255.255.255.255:68"), DstMAC: "ff:ff:ff:ff:ff:ff", Message: "10.3.0.100 is in use"},
	}, {
		name: "REQUEST from a static client for another address",
		typ:  3, mac: static, ciaddr: zero,
		opts: map[uint8][]byte{50: addr("10.3.0.120").AsSlice()},
		want: &reply{Type: "NAK", YourAddr: zero, Dst: netip.MustParseAddrPort("255.255.255.255:68"), DstMAC: "ff:ff:ff:ff:ff:ff", Message: "52:54:00:00:03:10 has the static address 10.3.0.10"},
	}, {
		name: "REQUEST (renewing) from the holder",
		typ:  3, mac: holder, ciaddr: addr("10.3.0.100"),
		want: &reply{Type: "ACK", YourAddr: addr("10.3.0.100"), Dst: netip.MustParseAddrPort("10.3.0.100:68"), DstMAC: holder, LeaseTime: true, Mask: "ffff0000"},
	}, {
		name: "INFORM",
		typ:  8, mac: asker, ciaddr: addr("10.3.0.7"),
		want: &reply{Type: "ACK", YourAddr: zero, Dst: netip.MustParseAddrPort("10.3.0.7:68"), DstMAC: asker, Mask: "ffff0000"},
	}, {
		name: "RELEASE",
		typ:  7, mac: holder, ciaddr: addr("10.3.0.100"),
		wantMap: map[string]netip.Addr{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			xid := raw.request(t, dhcp4.MessageType(tt.typ), mac(tt.mac), tt.ciaddr, tt.bcast, tt.opts)
			if tt.want == nil {
				// No reply to it comes before the reply to a DISCOVER
				// sent after it.
				xid = raw.request(t, dhcp4.Discover, mac("52:54:00:00:03:99"), zero, true, nil)
			}
			m := raw.nextReply(t)
			if m.msg.XID != xid {
				t.Fatalf("got a %v to %v with xid %#x, want a reply to xid %#x", m.msg.Type(), m.msg.HardwareAddr, m.msg.XID, xid)
			}
			if tt.want != nil {
				_, lt := m.msg.Options.Uint32(51)
				got := &reply{
					Type:      m.msg.Type().String(),
					YourAddr:  m.msg.YourAddr,
					Dst:       m.dst,
					DstMAC:    m.dstMAC.String(),
					Message:   string(m.msg.Options[56]),
					LeaseTime: lt,
				}
				if mask := m.msg.Options[1]; mask != nil {
					got.Mask = net.IPMask(mask).String()
				}
				if diff := cmp.Diff(tt.want, got, cmpNetip); diff != "" {
					t.Errorf("reply (-want +got):\n%s", diff)
				}
				if id, _ := m.msg.Options.Addr(54); id != addr("10.3.0.1") {
					t.Errorf("server identifier %v, want 10.3.0.1", id)
				}
			}
			if tt.wantMap != nil {
				if diff := cmp.Diff(tt.wantMap, srv.Leases(), cmpNetip); diff != "" {
					t.Errorf("Leases() (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestResolve: names found and not, over UDP and TCP, servers that refuse
// or do not answer, and what the server saw.
func TestResolve(t *testing.T) {
	port := vmtest.PortBase(t)
	server := newHost(t, port, "dns", "52:54:00:00:04:01", "10.4.0.53/24")
	client := newHost(t, port, "client", "52:54:00:00:04:02", "10.4.0.2/24")
	newHost(t, port, "silent", "52:54:00:00:04:03", "10.4.0.3/24") // no DNS server
	dns, err := server.ServeDNS(map[string][]netip.Addr{
		"www.Example.TEST.": {addr("192.0.2.80"), addr("2001:db8::80"), addr("192.0.2.81")},
		"v4only.test":       {addr("192.0.2.4")},
		"empty.test":        {},
	})
	if err != nil {
		t.Fatal(err)
	}
	client.SetDNS(addr("10.4.0.53"))

	tests := []struct {
		name    string
		via     string // server, if not the host's
		timeout time.Duration
		want    []netip.Addr
		wantErr string
		rcode   dnsmsg.RCode
		// deadline: the error is the context's
		deadline bool
	}{
		{name: "www.example.test", want: []netip.Addr{addr("192.0.2.80"), addr("192.0.2.81"), addr("2001:db8::80")}},
		{name: "WWW.example.Test.", want: []netip.Addr{addr("192.0.2.80"), addr("192.0.2.81"), addr("2001:db8::80")}},
		{name: "v4only.test", want: []netip.Addr{addr("192.0.2.4")}},
		{name: "missing.test", wantErr: "dns: A missing.test via 10.4.0.53:53: NXDOMAIN", rcode: 3},
		{name: "empty.test", wantErr: "dns: A/AAAA empty.test via 10.4.0.53:53: no addresses (NOERROR)"},
		{name: "bad..name", wantErr: "empty label"},
		{name: "www.example.test", via: "10.4.0.3:53", timeout: 5 * time.Second, wantErr: "connection was refused"},
		{name: "www.example.test", via: "10.4.0.99:53", timeout: 1500 * time.Millisecond, wantErr: "dns: A www.example.test via 10.4.0.99:53: no answer to ", deadline: true},
	}
	for _, tt := range tests {
		var (
			got []netip.Addr
			err error
		)
		if tt.via != "" {
			got, err = client.ResolveVia(timeout(t, 10*time.Second), netip.MustParseAddrPort(tt.via), tt.name, tt.timeout)
		} else {
			got, err = client.Resolve(timeout(t, 10*time.Second), tt.name)
		}
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Resolve(%q) via %q = %v, %v; want an error containing %q", tt.name, tt.via, got, err, tt.wantErr)
			}
			if tt.deadline && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Resolve(%q) via %q: %v, want a context.DeadlineExceeded", tt.name, tt.via, err)
			}
			var dnsErr *DNSError
			if tt.rcode != 0 && (!errors.As(err, &dnsErr) || dnsErr.RCode != tt.rcode) {
				t.Errorf("Resolve(%q): %#v, want a *DNSError with RCode %v", tt.name, err, tt.rcode)
			}
			continue
		}
		if err != nil {
			t.Errorf("Resolve(%q): %v", tt.name, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmpNetip); diff != "" {
			t.Errorf("Resolve(%q) (-want +got):\n%s", tt.name, diff)
		}
	}

	// Over TCP.
	c, err := client.DialTCP(timeout(t, 5*time.Second), netip.MustParseAddrPort("10.4.0.53:53"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	for _, name := range []string{"v4only.test", "missing.test"} {
		q := dnsmsg.Message{
			Header:    dnsmsg.Header{ID: 42, RecursionDesired: true},
			Questions: []dnsmsg.Question{{Name: name, Type: dnsmsg.TypeA, Class: dnsmsg.ClassINET}},
		}
		b, _ := q.Marshal()
		if _, err := c.Write(append([]byte{0, byte(len(b))}, b...)); err != nil {
			t.Fatal(err)
		}
		var n [2]byte
		if _, err := io.ReadFull(r, n[:]); err != nil {
			t.Fatal(err)
		}
		resp := make([]byte, int(n[0])<<8|int(n[1]))
		if _, err := io.ReadFull(r, resp); err != nil {
			t.Fatal(err)
		}
		m, err := dnsmsg.Parse(resp)
		if err != nil {
			t.Fatal(err)
		}
		want := &dnsmsg.Message{
			Header:    dnsmsg.Header{ID: 42, Response: true, Authoritative: true, RecursionDesired: true},
			Questions: q.Questions,
		}
		if name == "missing.test" {
			want.RCode = dnsmsg.RCodeNameError
		} else {
			want.Answers = []dnsmsg.Resource{dnsmsg.AddrResource(name, 60, addr("192.0.2.4"))}
		}
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("TCP answer for %s (-want +got):\n%s", name, diff)
		}
	}

	var questions []string
	for _, q := range dns.Queries() {
		if q.Source != addr("10.4.0.2") {
			t.Errorf("query %+v from %v, want from the client 10.4.0.2", q, q.Source)
		}
		questions = append(questions, q.Type.String()+" "+q.Name)
	}
	want := []string{
		"A www.example.test", "AAAA www.example.test",
		"A www.example.test", "AAAA www.example.test",
		"A v4only.test", "AAAA v4only.test",
		"A missing.test", "AAAA missing.test",
		"A empty.test", "AAAA empty.test",
		"A v4only.test", "A missing.test",
	}
	if diff := cmp.Diff(want, questions); diff != "" {
		t.Errorf("Queries() (-want +got):\n%s", diff)
	}
}

// readRemote reads the echo server's greeting.
func readRemote(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading the echo server's greeting: %v (got %q)", err, line)
	}
	return line
}

// TestEcho: the echo server tells clients their address and echoes.
func TestEcho(t *testing.T) {
	port := vmtest.PortBase(t)
	server := newHost(t, port, "server", "52:54:00:00:05:01", "10.5.0.1/24")
	client := newHost(t, port, "client", "52:54:00:00:05:02", "10.5.0.2/24")
	echo, err := server.ServeEcho(7)
	if err != nil {
		t.Fatal(err)
	}
	ctx := timeout(t, 10*time.Second)

	var want []netip.AddrPort
	for i := range 2 {
		c, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.5.0.1:7"))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		local := c.LocalAddr().(*net.TCPAddr).AddrPort()
		want = append(want, local)
		r := bufio.NewReader(c)
		if got, want := readRemote(t, r), "remote="+local.String()+"\n"; got != want {
			t.Errorf("connection %d: greeting %q, want %q", i, got, want)
		}
		msg := strings.Repeat("echo me ", 1000) + "\n" // more than a segment
		if _, err := c.Write([]byte(msg)); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); got != msg || err != nil {
			t.Errorf("connection %d: echoed %d bytes, %v; want the %d written", i, len(got), err, len(msg))
		}
	}
	if diff := cmp.Diff(want, echo.Peers(), cmpNetip); diff != "" {
		t.Errorf("Peers() (-want +got):\n%s", diff)
	}
	if want[0].Addr() != addr("10.5.0.2") {
		t.Errorf("client connected from %v, want its address 10.5.0.2", want[0])
	}
	// Each side saw the other's SYN, with gVisor's MSS for a 1500-byte MTU.
	syns := func(h *Host, ack bool) (n int) {
		for _, s := range h.SYNs() {
			if s.ACK == ack && s.MSS == 1460 {
				n++
			}
		}
		return n
	}
	if n, m := syns(server, false), syns(client, true); n != 2 || m != 2 {
		t.Errorf("the server saw %d SYNs with MSS 1460 and the client %d SYN-ACKs, want 2 each (server %v, client %v)", n, m, server.SYNs(), client.SYNs())
	}

	// IPv6 too, on the same port.
	for _, h := range []struct {
		h *Host
		a string
	}{{server, "2001:db8:5::1/64"}, {client, "2001:db8:5::2/64"}} {
		if err := h.h.AddAddress(prefix(h.a)); err != nil {
			t.Fatal(err)
		}
	}
	c6, err := client.DialTCP(ctx, netip.MustParseAddrPort("[2001:db8:5::1]:7"))
	if err != nil {
		t.Fatalf("IPv6: %v", err)
	}
	c6.SetDeadline(time.Now().Add(5 * time.Second))
	if got, err := ReadGreeting(bufio.NewReader(c6)); err != nil || got.Addr() != addr("2001:db8:5::2") {
		t.Errorf("IPv6 client seen from %v (%v), want 2001:db8:5::2", got, err)
	}
	c6.Close()

	// Closing the server closes its connections.
	c, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.5.0.1:7"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	readRemote(t, r)
	echo.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := r.Read(make([]byte, 1)); err == nil {
		t.Errorf("read %d bytes after the server closed, want an error", n)
	}
	if _, err := client.DialTCP(ctx, netip.MustParseAddrPort("10.5.0.1:7")); err == nil {
		t.Error("connected to the echo server after Close")
	}
}

// TestGateway: off the subnet, packets go to the gateway's MAC; without
// a gateway there is no route.
func TestGateway(t *testing.T) {
	port := vmtest.PortBase(t)
	gw := newHost(t, port, "gateway", "52:54:00:00:0a:01", "10.10.0.1/24")
	h := newHost(t, port, "host", "52:54:00:00:0a:02", "10.10.0.2/24")
	sniffer, err := qemunet.Join(port)
	if err != nil {
		t.Fatal(err)
	}
	defer sniffer.Close()

	far := netip.MustParseAddrPort("198.51.100.1:9")
	if c, err := h.DialUDP(far); err == nil {
		c.Close()
		t.Errorf("DialUDP(%v) without a gateway succeeded", far)
	}
	if err := h.SetGateway(addr("10.10.0.1")); err != nil {
		t.Fatal(err)
	}
	c, err := h.DialUDP(far)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("far away")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, qemunet.MaxFrameLen)
	sniffer.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		n, err := sniffer.ReadFrame(buf)
		if err != nil {
			t.Fatalf("no datagram to %v on the network: %v", far, err)
		}
		d, ok := parseUDPv4(buf[:n])
		if !ok || d.Dst != far {
			continue
		}
		if !bytes.Equal(d.DstMAC, gw.MAC()) || d.Src.Addr() != addr("10.10.0.2") || string(d.Payload) != "far away" {
			t.Errorf("datagram to %v: from %v to MAC %v, %q; want from 10.10.0.2 to the gateway's MAC %v", far, d.Src, d.DstMAC, d.Payload, gw.MAC())
		}
		break
	}
}

// TestSendUDPv4: hand-made datagrams arrive, with the source they claim.
func TestSendUDPv4(t *testing.T) {
	port := vmtest.PortBase(t)
	attacker := newHost(t, port, "attacker", "52:54:00:00:06:01", "10.6.0.1/24")
	victim := newHost(t, port, "victim", "52:54:00:00:06:02", "10.6.0.2/24")
	l, err := victim.ListenUDP(5000)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	dst := netip.MustParseAddrPort("10.6.0.2:5000")
	tests := []struct {
		name    string
		src     string
		payload string
	}{
		{"own address", "10.6.0.1:4000", "genuine"},
		{"forged, off the subnet", "203.0.113.7:4001", "forged"},
		{"forged, a neighbour", "10.6.0.99:53", "neighbour"},
		{"empty payload", "10.6.0.1:4002", ""},
		{"long payload", "10.6.0.1:4003", strings.Repeat("x", 1400)},
	}
	for _, tt := range tests {
		src := netip.MustParseAddrPort(tt.src)
		if err := attacker.SendUDPv4(victim.MAC(), src, dst, []byte(tt.payload)); err != nil {
			t.Fatal(err)
		}
		l.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 2000)
		n, from, err := l.ReadFrom(buf)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := from.(*net.UDPAddr).AddrPort(); got != src || string(buf[:n]) != tt.payload {
			t.Errorf("%s: received %d bytes from %v, want %d from %v", tt.name, n, got, len(tt.payload), src)
		}
	}

	if err := attacker.SendUDPv4(victim.MAC(), netip.MustParseAddrPort("[::1]:1"), dst, nil); err == nil {
		t.Error("SendUDPv4 from an IPv6 address succeeded")
	}
	if err := attacker.SendUDPv4(net.HardwareAddr{1, 2}, netip.MustParseAddrPort("10.6.0.1:1"), dst, nil); err == nil {
		t.Error("SendUDPv4 to a 2-byte MAC succeeded")
	}
}

// TestOwnFrames: a host does not receive what it sends, although the
// network loops it back, nor what is sent to other MACs.
func TestOwnFrames(t *testing.T) {
	port := vmtest.PortBase(t)
	a := newHost(t, port, "a", "52:54:00:00:07:01", "10.7.0.1/24")
	b := newHost(t, port, "b", "52:54:00:00:07:02", "10.7.0.2/24")
	l, err := a.ListenUDP(5000)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dst := netip.MustParseAddrPort("10.7.0.1:5000")
	for _, s := range []struct {
		from *Host
		mac  string
		src  string
		msg  string
	}{
		{a, "52:54:00:00:07:01", "10.7.0.9:1", "own frame"},
		{b, "52:54:00:00:07:03", "10.7.0.2:2", "for another MAC"},
		{b, "52:54:00:00:07:01", "10.7.0.2:3", "from b"},
	} {
		if err := s.from.SendUDPv4(mac(s.mac), netip.MustParseAddrPort(s.src), dst, []byte(s.msg)); err != nil {
			t.Fatal(err)
		}
	}
	l.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 100)
	n, from, err := l.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(buf[:n]); got != "from b" {
		t.Errorf("first datagram received: %q from %v, want only %q from b", got, from, "from b")
	}
}

func TestErrors(t *testing.T) {
	port := vmtest.PortBase(t)
	for _, cfg := range []Config{
		{Port: port, MAC: mac("01:00:5e:00:00:01")},
		{Port: port, MAC: net.HardwareAddr{1, 2, 3}},
		{Port: 0, MAC: mac("52:54:00:00:08:01")},
		{Port: 70000, MAC: mac("52:54:00:00:08:01")},
	} {
		if h, err := New(cfg); err == nil {
			h.Close()
			t.Errorf("New(%+v) succeeded", cfg)
		}
	}

	h := newHost(t, port, "h", "52:54:00:00:08:01", "")
	pool := ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.0.110")}
	if _, err := h.ServeDHCP(pool); err == nil || !strings.Contains(err.Error(), "AddAddress first") {
		t.Errorf("ServeDHCP on a host without an address: %v, want an error saying AddAddress first", err)
	}
	if err := h.AddAddress(prefix("10.8.0.1/24")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		cfg  ServerConfig
		want string
	}{
		{ServerConfig{First: addr("10.8.0.110"), Last: addr("10.8.0.100")}, "first to last"},
		{ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.1.100")}, "not within 10.8.0.0/24"},
		{ServerConfig{First: addr("10.9.0.100"), Last: addr("10.9.0.110")}, "no IPv4 address on the subnet"},
		{ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.0.110"), DNS: []netip.Addr{addr("::1")}}, "not IPv4"},
		{ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.0.110"), DNS: []netip.Addr{{}}}, "not IPv4"},
		{ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.0.110"), Prefix: 33}, "out of range"},
		{ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.0.110"), Static: map[string]netip.Addr{"nonsense": addr("10.8.0.5")}}, "invalid MAC"},
		{ServerConfig{First: addr("10.8.0.100"), Last: addr("10.8.0.110"), Static: map[string]netip.Addr{"52:54:00:00:08:09": addr("10.9.0.5")}}, "not within"},
	} {
		if _, err := h.ServeDHCP(tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ServeDHCP(%+v): %v, want an error containing %q", tt.cfg, err, tt.want)
		}
	}
	if _, err := h.ServeDHCP(pool); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ServeDHCP(pool); err == nil {
		t.Error("a second DHCP server on a host started")
	}
	if _, err := h.ServeDNS(nil); err != nil {
		t.Fatal(err)
	}
	if _, err := h.ServeDNS(nil); err == nil {
		t.Error("a second DNS server on a host started")
	}
	if _, err := h.Resolve(context.Background(), "example.test"); err == nil || !strings.Contains(err.Error(), "no DNS server") {
		t.Errorf("Resolve without a DNS server: %v, want an error saying so", err)
	}
	if _, err := h.DialTCP(context.Background(), netip.AddrPort{}); err == nil {
		t.Error("DialTCP to the zero address succeeded")
	}

	// After Close, nothing works, and Close again is harmless.
	h.Close()
	if err := h.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := h.ServeEcho(7); err == nil {
		t.Error("ServeEcho after Close succeeded")
	}
	if _, err := h.DHCP(timeout(t, time.Second)); err == nil {
		t.Error("DHCP after Close succeeded")
	}
}

// TestClose: closing hosts ends every goroutine they and their servers
// started, with connections open.
func TestClose(t *testing.T) {
	before := runtime.NumGoroutine()
	port := vmtest.PortBase(t)
	for range 2 {
		a, err := New(Config{Port: port, MAC: mac("52:54:00:00:09:01")})
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(Config{Port: port, MAC: mac("52:54:00:00:09:02")})
		if err != nil {
			t.Fatal(err)
		}
		a.AddAddress(prefix("10.9.0.1/24"))
		b.AddAddress(prefix("10.9.0.2/24"))
		if _, err := a.ServeEcho(7); err != nil {
			t.Fatal(err)
		}
		if _, err := a.ServeDNS(map[string][]netip.Addr{"a.test": {addr("10.9.0.1")}}); err != nil {
			t.Fatal(err)
		}
		if _, err := a.ServeDHCP(ServerConfig{First: addr("10.9.0.100"), Last: addr("10.9.0.100")}); err != nil {
			t.Fatal(err)
		}
		ctx := timeout(t, 5*time.Second)
		c, err := b.DialTCP(ctx, netip.MustParseAddrPort("10.9.0.1:7"))
		if err != nil {
			t.Fatal(err)
		}
		readRemote(t, bufio.NewReader(c))
		d, err := b.DialTCP(ctx, netip.MustParseAddrPort("10.9.0.1:53")) // DNS over TCP, idle
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		b.Close()
		c.Close()
		d.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines after closing the hosts, %d before:\n%s", n, before, buf[:runtime.Stack(buf, true)])
	}
}
