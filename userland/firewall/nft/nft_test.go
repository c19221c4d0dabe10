package nft

import (
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	nftexpr "github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

// orders are the byte orders under test: little-endian, that of the x86
// machines nft's documentation was produced on, and big-endian, the
// device's.
var orders = []struct {
	name  string
	order binary.ByteOrder
}{{"little-endian", binary.LittleEndian}, {"big-endian", binary.BigEndian}}

// testSets are the named sets of the rules under test.
var testSets = []string{"zone_lan", "zone_wan"}

func encode(t *testing.T, order binary.ByteOrder, text string) ([]expr, []*set) {
	t.Helper()
	r, err := rs.ParseRule(text)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	e := newEncoder(order)
	for _, s := range testSets {
		e.namedSet(s)
	}
	x, sets, err := e.rule(r)
	if err != nil {
		t.Fatalf("%s: %v", text, err)
	}
	return x, sets
}

// The expressions of rules as nft generates them, written by hand from
// nft's documentation: nftables' tests/py/*/*.t.payload (the inet family)
// and the nftables wiki's "nft --debug=netlink" examples. Data words are
// as nft prints them on x86.
func TestAsNftDocuments(t *testing.T) {
	for _, tc := range []struct {
		rule string
		want []string
	}{
		{
			// tests/py/any/ct.t.payload: ct state established,related.
			"ct state established,related accept",
			[]string{
				"[ ct load state => reg 1 ]",
				"[ bitwise reg 1 = ( reg 1 & 0x00000006 ) ^ 0x00000000 ]",
				"[ cmp neq reg 1 0x00000000 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			"ct state invalid drop",
			[]string{
				"[ ct load state => reg 1 ]",
				"[ bitwise reg 1 = ( reg 1 & 0x00000001 ) ^ 0x00000000 ]",
				"[ cmp neq reg 1 0x00000000 ]",
				"[ immediate reg 0 drop ]",
			},
		},
		{
			// tests/py/any/ct.t.payload: ct status dnat (IPS_DST_NAT, 1 << 5).
			"ct status dnat accept",
			[]string{
				"[ ct load status => reg 1 ]",
				"[ bitwise reg 1 = ( reg 1 & 0x00000020 ) ^ 0x00000000 ]",
				"[ cmp neq reg 1 0x00000000 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			// tests/py/any/meta.t.payload: iifname "dummy0", here "lo":
			// the name padded to IFNAMSIZ.
			`iifname "lo" accept`,
			[]string{
				"[ meta load iifname => reg 1 ]",
				"[ cmp eq reg 1 0x00006f6c 0x00000000 0x00000000 0x00000000 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			// tests/py/inet/tcp.t.payload: tcp dport 22, with the inet
			// family's l4proto dependency.
			"tcp dport 22 accept",
			[]string{
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x00000006 ]",
				"[ payload load 2b @ transport header + 2 => reg 1 ]",
				"[ cmp eq reg 1 0x00001600 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			// tests/py/inet/tcp.t.payload: tcp dport 33-45 (a range expression).
			"tcp dport 1000-2000 accept",
			[]string{
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x00000006 ]",
				"[ payload load 2b @ transport header + 2 => reg 1 ]",
				"[ range eq reg 1 0x0000e803 0x0000d007 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			// tests/py/inet/udp.t.payload: udp dport {...}, an anonymous
			// set looked up.
			"udp dport { 53, 67 } accept",
			[]string{
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x00000011 ]",
				"[ payload load 2b @ transport header + 2 => reg 1 ]",
				"[ lookup reg 1 set __set%d ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			// tests/py/inet/icmp.t.payload and any/limit.t.payload: nft's
			// default burst is 5 packets.
			"icmp type echo-request limit rate 10/second accept",
			[]string{
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x00000001 ]",
				"[ payload load 1b @ transport header + 0 => reg 1 ]",
				"[ cmp eq reg 1 0x00000008 ]",
				"[ limit rate 10/second burst 5 type packets flags 0x0 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			"icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept",
			[]string{
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x0000003a ]",
				"[ payload load 1b @ transport header + 0 => reg 1 ]",
				"[ lookup reg 1 set __set%d ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			// The prefix as nft 0.9.0 writes it (a bitwise mask of the whole
			// address); later nft loads only the bytes the prefix covers,
			// the same match.
			"ip6 saddr fe80::/10 accept",
			[]string{
				"[ meta load nfproto => reg 1 ]",
				"[ cmp eq reg 1 0x0000000a ]",
				"[ payload load 16b @ network header + 8 => reg 1 ]",
				"[ bitwise reg 1 = ( reg 1 & 0x0000c0ff 0x00000000 0x00000000 0x00000000 ) ^ 0x00000000 0x00000000 0x00000000 0x00000000 ]",
				"[ cmp eq reg 1 0x000080fe 0x00000000 0x00000000 0x00000000 ]",
				"[ immediate reg 0 accept ]",
			},
		},
		{
			"ip saddr 10.0.0.0/8 drop",
			[]string{
				"[ meta load nfproto => reg 1 ]",
				"[ cmp eq reg 1 0x00000002 ]",
				"[ payload load 4b @ network header + 12 => reg 1 ]",
				"[ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00000000 ]",
				"[ cmp eq reg 1 0x0000000a ]",
				"[ immediate reg 0 drop ]",
			},
		},
		{
			// tests/py/inet/fib.t.payload has "fib saddr . iif oif missing"
			// as [ fib saddr . iif oif present => reg 1 ] [ cmp eq reg 1
			// 0x00000000 ] with a one-byte register. We leave out PRESENT
			// and compare the whole interface index with 0 (nft's "fib
			// saddr . iif oif 0"): the same test, and right on big-endian
			// kernels, which store PRESENT's byte at the wrong end of the
			// register before "nft_fib: use nft_reg_store8".
			"fib saddr . iif oif missing drop",
			[]string{
				"[ fib saddr . iif oif => reg 1 ]",
				"[ cmp eq reg 1 0x00000000 ]",
				"[ immediate reg 0 drop ]",
			},
		},
		{
			// The wiki's masquerade, with a named set (tests/py/inet/sets.t).
			"oifname @zone_wan meta nfproto ipv4 masquerade",
			[]string{
				"[ meta load oifname => reg 1 ]",
				"[ lookup reg 1 set zone_wan ]",
				"[ meta load nfproto => reg 1 ]",
				"[ cmp eq reg 1 0x00000002 ]",
				"[ masq ]",
			},
		},
		{
			// tests/py/inet/dnat.t.payload: dnat ip to ADDRESS:PORT, the
			// address and port in registers 1 and 2, PROTO_SPECIFIED.
			"iifname @zone_wan meta nfproto ipv4 tcp dport 8080 dnat ip to 192.168.8.10:80",
			[]string{
				"[ meta load iifname => reg 1 ]",
				"[ lookup reg 1 set zone_wan ]",
				"[ meta load nfproto => reg 1 ]",
				"[ cmp eq reg 1 0x00000002 ]",
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x00000006 ]",
				"[ payload load 2b @ transport header + 2 => reg 1 ]",
				"[ cmp eq reg 1 0x0000901f ]",
				"[ immediate reg 1 0x0a08a8c0 ]",
				"[ immediate reg 2 0x00005000 ]",
				"[ nat dnat ip addr_min reg 1 proto_min reg 2 flags 0x2 ]",
			},
		},
		{
			// tests/py/inet/reject.t.payload: reject in inet is icmpx
			// port-unreachable (type NFT_REJECT_ICMPX_UNREACH, code 1).
			"reject",
			[]string{"[ reject type 2 code 1 ]"},
		},
		{
			"meta l4proto tcp reject with tcp reset",
			[]string{
				"[ meta load l4proto => reg 1 ]",
				"[ cmp eq reg 1 0x00000006 ]",
				"[ reject type 1 code 0 ]",
			},
		},
		{
			"iifname != @zone_lan counter jump sub",
			[]string{
				"[ meta load iifname => reg 1 ]",
				"[ lookup reg 1 set zone_lan 0x1 ]",
				"[ counter pkts 0 bytes 0 ]",
				"[ immediate reg 0 jump sub ]",
			},
		},
	} {
		x, _ := encode(t, binary.LittleEndian, tc.rule)
		got := strings.Split(describeAll(x, binary.LittleEndian), " [")
		for i := 1; i < len(got); i++ {
			got[i] = "[" + got[i]
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-nft +ours):\n%s", tc.rule, diff)
		}
	}
}

// kernel passes expressions through netlink as the kernel would give them
// back: marshalled and unmarshalled (the attributes sent and read), then
// what the kernel does to them: anonymous sets get names (__set0...) and
// lookups lose their set IDs; nat reads back its maximum registers equal
// to the minimum ones and a flag for the address; counters count.
func kernel(t *testing.T, x []expr, sets []*set) ([]expr, map[string][][]byte) {
	t.Helper()
	names := map[uint32]string{}
	elems := map[string][][]byte{}
	for i, s := range sets {
		name := fmt.Sprintf("__set%d", i)
		names[s.id] = name
		elems[name] = s.elems
	}
	out, err := unmarshalExprs(marshalExprs(x))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range out {
		switch b := e.(type) {
		case *lookupExpr:
			if n, ok := names[b.SetID]; ok && b.SetName == "__set%d" {
				b.SetName = n
			}
			b.SetID = 0
		case *natExpr:
			b.AddrMax, b.ProtoMax = b.AddrMin, b.ProtoMin
			b.Flags |= unix.NF_NAT_RANGE_MAP_IPS
		case *counterExpr:
			b.Packets, b.Bytes = 3, 180
		}
	}
	return out, elems
}

// roundTripRules have every construct of the ruleset language.
var roundTripRules = []string{
	"ct state established,related accept",
	"ct state invalid drop",
	"ct state != new,untracked counter drop",
	"ct status dnat accept",
	"ct status != snat,dnat,seen-reply return",
	`iifname "lo" accept`,
	`oifname != "eth0.100" drop`,
	`iifname { "br-lan", "eth1", "wg0" } accept`,
	`oifname != { "a", "b" } drop`,
	"iifname @zone_lan accept",
	"oifname != @zone_wan drop",
	"meta nfproto ipv4",
	"meta nfproto != ipv6 drop",
	"meta nfproto { ipv4, ipv6 } accept",
	"meta l4proto tcp accept",
	"meta l4proto { tcp, udp, 200 } accept",
	"meta l4proto != ipv6-icmp drop",
	"tcp dport 22 accept",
	"tcp sport != 1024 drop",
	"udp dport { 53, 67 } accept",
	"udp sport != { 1, 65535 } accept",
	"tcp dport 1000-2000 accept",
	"udp dport != 1-1023 drop",
	"icmp type echo-request limit rate 10/second accept",
	"icmp type { echo-reply, 200 } limit rate over 3/minute burst 9 packets drop",
	"icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept",
	"icmpv6 type != echo-request limit rate 1/day accept",
	"ip saddr 10.0.0.0/8 accept",
	"ip saddr 192.168.1.1 accept",
	"ip daddr != 172.16.0.0/12 drop",
	"ip daddr { 10.0.0.1, 10.0.0.2 } accept",
	"ip6 saddr fe80::/10 icmpv6 type { mld-listener-query, mld2-listener-report } accept",
	"ip6 daddr != 2001:db8::1 drop",
	"ip6 saddr { ::1, 2001:db8::1 } drop",
	"fib saddr . iif oif missing drop",
	"fib daddr oif exists accept",
	"fib saddr oif missing drop",
	"limit rate 5/hour",
	"counter",
	"counter goto sub",
	"meta l4proto tcp reject with tcp reset",
	"reject",
	"reject with icmpx type admin-prohibited",
	"reject with icmpx type no-route",
	"oifname @zone_wan meta nfproto ipv4 masquerade",
	"iifname @zone_wan meta nfproto ipv4 tcp dport 8080 dnat ip to 192.168.8.10:80",
	"meta nfproto ipv4 dnat ip to 192.168.8.11",
	"meta l4proto udp snat ip to 10.0.0.1:4000",
	"meta l4proto tcp tcp dport 22 accept", // an explicit dependency stays
	"tcp flags syn accept",
	"tcp flags != syn,ack drop",
	"tcp flags fin,syn,rst,psh,ack,urg,ecn,cwr accept",
	"oifname @zone_wan tcp flags syn tcp option maxseg size set rt mtu",
	"meta l4proto tcp tcp option maxseg size set rt mtu",
	"meta nfproto ipv4 ip saddr 10.0.0.0/8 tcp dport 22 iifname @zone_lan accept",
}

// Every construct survives AST -> expressions -> kernel -> AST, on both
// byte orders.
func TestRoundTrip(t *testing.T) {
	for _, o := range orders {
		for _, text := range roundTripRules {
			want, err := rs.ParseRule(text)
			if err != nil {
				t.Fatalf("%s: %v", text, err)
			}
			x, sets := encode(t, o.order, text)
			back, elems := kernel(t, x, sets)
			d := &decoder{order: o.order, elems: func(name string) ([][]byte, error) {
				e, ok := elems[name]
				if !ok {
					return nil, fmt.Errorf("no set %s", name)
				}
				return e, nil
			}}
			got, err := d.rule(back)
			if err != nil {
				t.Errorf("%s: %s: decode: %v", o.name, text, err)
				continue
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: %s: round trip (-want +got):\n%s", o.name, text, diff)
			}
			if got.String() != want.String() {
				t.Errorf("%s: %s: read back as %s", o.name, want, got)
			}
		}
	}
}

// The kernel wants ct state and status masks in the host's order: on the
// big-endian device the bytes are the other way round from an x86 host.
// Ports, addresses and interface names are in network order on both.
func TestByteOrder(t *testing.T) {
	for _, tc := range []struct {
		order binary.ByteOrder
		mask  []byte
	}{
		{binary.BigEndian, []byte{0, 0, 0, 6}},
		{binary.LittleEndian, []byte{6, 0, 0, 0}},
	} {
		x, _ := encode(t, tc.order, "ct state established,related accept")
		if got := x[1].(*bitwiseExpr).Mask; !reflect.DeepEqual(got, tc.mask) {
			t.Errorf("ct state mask = % x, want % x", got, tc.mask)
		}
		// The masks agree with google/nftables' constants read in that order.
		if got := tc.order.Uint32(tc.mask); got != nftexpr.CtStateBitESTABLISHED|nftexpr.CtStateBitRELATED {
			t.Errorf("mask reads %#x", got)
		}
		x, sets := encode(t, tc.order, "iifname @zone_wan udp dport { 53, 8080 } ip daddr 192.168.8.10 accept")
		if got := sets[0].elems[1]; !reflect.DeepEqual(got, []byte{0x1f, 0x90}) {
			t.Errorf("port 8080 in a set = % x, want 1f 90", got)
		}
		if got := x[9].(*cmpExpr).Data; !reflect.DeepEqual(got, []byte{192, 168, 8, 10}) {
			t.Errorf("address = % x", got)
		}
		x, _ = encode(t, tc.order, `oifname "eth0" accept`)
		if got := x[1].(*cmpExpr).Data; !reflect.DeepEqual(got, []byte("eth0\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")) {
			t.Errorf("ifname = %q", got)
		}
	}
	// The host's order, as Load uses it, is one of the two.
	got := binary.NativeEndian.AppendUint32(nil, 6)
	if !reflect.DeepEqual(got, []byte{6, 0, 0, 0}) && !reflect.DeepEqual(got, []byte{0, 0, 0, 6}) {
		t.Errorf("NativeEndian.AppendUint32(nil, 6) = % x", got)
	}
}

func TestAnonymousSets(t *testing.T) {
	_, sets := encode(t, binary.LittleEndian, `iifname { "a", "b" } icmpv6 type { 1, 2 } accept`)
	if len(sets) != 2 {
		t.Fatalf("%d anonymous sets, want 2", len(sets))
	}
	for i, want := range []struct{ keyType, keyLen uint32 }{{41, 16}, {29, 1}} {
		s := sets[i]
		if !s.anonymous || s.keyType != want.keyType || s.keyLen != want.keyLen || s.name != "__set%d" || s.id == 0 {
			t.Errorf("set %d: %+v, want an anonymous set of type %d, %d bytes", i, s, want.keyType, want.keyLen)
		}
	}
	if sets[0].id == sets[1].id {
		t.Errorf("both sets have ID %d", sets[0].id)
	}
	if got := sets[0].elems[0]; len(got) != 16 || got[0] != 'a' || got[1] != 0 {
		t.Errorf("ifname element %q, want a padded to 16 bytes", got)
	}
}

// Expressions the decoder does not know are errors naming them.
func TestDecodeUnknown(t *testing.T) {
	d := &decoder{order: binary.LittleEndian, elems: func(string) ([][]byte, error) { return nil, fmt.Errorf("none") }}
	for _, tc := range []struct {
		x    []expr
		want string
	}{
		{
			// nft's iifname "eth*": a shorter comparison.
			[]expr{&metaExpr{Key: unix.NFT_META_IIFNAME, Register: 1}, &cmpExpr{Register: 1, Data: []byte("eth")}},
			"unknown expressions meta{Key:6 Register:1} cmp{Op:0 Register:1 Data:[101 116 104]}",
		},
		{
			// A header field without its protocol.
			[]expr{&payloadExpr{Base: unix.NFT_PAYLOAD_TRANSPORT_HEADER, Offset: 2, Len: 2, Register: 1}, &cmpExpr{Register: 1, Data: []byte{0, 22}}},
			"unknown expressions payload{Register:1 Base:2 Offset:2 Len:2}",
		},
		{
			// A meta set (no destination register), then accept.
			[]expr{&metaExpr{Key: unix.NFT_META_NFPROTO}, &verdictExpr{Code: nfAccept}},
			"unknown expressions meta{Key:15 Register:0}",
		},
		{
			// A verdict map's lookup.
			[]expr{&metaExpr{Key: unix.NFT_META_IIFNAME, Register: 1}, &lookupExpr{Register: 1, SetName: "m", Map: true}},
			"unknown expressions meta{Key:6 Register:1} lookup{Register:1 SetName:m SetID:0 Invert:false Map:true Dest:0}",
		},
		{
			[]expr{&verdictExpr{Code: nfAccept}, &counterExpr{}},
			"unknown expressions counter{Bytes:0 Packets:0}",
		},
		{
			[]expr{&metaExpr{Key: unix.NFT_META_L4PROTO, Register: 1}},
			"meta l4proto loaded but not compared",
		},
		{
			[]expr{&ctExpr{Key: unix.NFT_CT_MARK, Register: 1}, &cmpExpr{Register: 1, Data: []byte{1, 0, 0, 0}}},
			"unknown expressions ct{Key:3 Register:1}",
		},
		{
			[]expr{&fibExpr{Register: 1, Result: unix.NFT_FIB_RESULT_OIF, Flags: unix.NFTA_FIB_F_SADDR | unix.NFTA_FIB_F_IIF | unix.NFTA_FIB_F_PRESENT}, &cmpExpr{Register: 1, Data: []byte{0}}},
			"unknown expressions fib{Register:1 Result:1 Flags:41}",
		},
		{
			[]expr{&fibExpr{Register: 1, Result: unix.NFT_FIB_RESULT_OIFNAME, Flags: unix.NFTA_FIB_F_DADDR}, &cmpExpr{Register: 1, Data: make([]byte, 16)}},
			"unknown expressions fib{Register:1 Result:2 Flags:2}",
		},
		{
			[]expr{&masqExpr{Flags: unix.NF_NAT_RANGE_PROTO_RANDOM}},
			"unknown expressions masq{Flags:4",
		},
		{
			[]expr{&limitExpr{Rate: 1, Unit: 7 * 24 * 60 * 60, Type: unix.NFT_LIMIT_PKTS}},
			"unknown expressions limit{Rate:1 Unit:604800",
		},
		{
			// Port shifting.
			[]expr{&immediateExpr{Register: 1, Data: []byte{10, 0, 0, 1}}, &natExpr{Type: unix.NFT_NAT_SNAT, Family: unix.NFPROTO_IPV4, AddrMin: 1, Flags: unix.NF_NAT_RANGE_PROTO_OFFSET}},
			"unknown expressions immediate{Register:1 Data:[10 0 0 1]} nat{",
		},
	} {
		_, err := d.rule(tc.x)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("decode %s: error %v, want %q", describeAll(tc.x, binary.LittleEndian), err, tc.want)
		}
	}
}
