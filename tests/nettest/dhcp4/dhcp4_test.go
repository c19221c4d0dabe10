package dhcp4

import (
	"bytes"
	"encoding/binary"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var cmpAddr = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

var (
	mac  = net.HardwareAddr{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	zero = netip.IPv4Unspecified()
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// header builds the fixed part and the cookie of a message by hand, to
// check Marshal and Parse against the RFC's layout rather than each other.
func header(op OpCode, xid uint32, flags uint16, yiaddr [4]byte, chaddr []byte) []byte {
	b := make([]byte, 240)
	b[0], b[1], b[2] = byte(op), 1, byte(len(chaddr))
	binary.BigEndian.PutUint32(b[4:], xid)
	binary.BigEndian.PutUint16(b[10:], flags)
	copy(b[16:], yiaddr[:])
	copy(b[28:], chaddr)
	copy(b[236:], []byte{99, 130, 83, 99})
	return b
}

func pad(b []byte) []byte {
	for len(b) < 300 {
		b = append(b, 0)
	}
	return b
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want []byte
	}{{
		name: "discover",
		msg: Message{
			Op: BootRequest, XID: 0x01020304, Broadcast: true, HardwareAddr: mac,
			Options: Options{
				OptionParameterRequestList: {1, 3, 6},
				OptionMessageType:          {byte(Discover)},
				OptionClientID:             append([]byte{1}, mac...),
			},
		},
		want: pad(append(header(BootRequest, 0x01020304, 0x8000, [4]byte{}, mac),
			53, 1, 1, // the type first
			55, 3, 1, 3, 6,
			61, 7, 1, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
			255)),
	}, {
		name: "offer",
		msg: Message{
			Op: BootReply, XID: 7, YourAddr: addr("10.0.0.100"), HardwareAddr: mac,
			Options: func() Options {
				o := Options{OptionMessageType: {byte(Offer)}}
				o.SetAddrs(OptionDNS, addr("10.0.0.1"), addr("10.0.0.2"))
				o.SetUint32(OptionLeaseTime, 3600)
				return o
			}(),
		},
		want: pad(append(header(BootReply, 7, 0, [4]byte{10, 0, 0, 100}, mac),
			53, 1, 2,
			6, 8, 10, 0, 0, 1, 10, 0, 0, 2,
			51, 4, 0, 0, 0x0e, 0x10,
			255)),
	}, {
		name: "long option split",
		msg: Message{
			Op: BootReply, HardwareAddr: mac,
			Options: Options{OptionDomainName: bytes.Repeat([]byte{'a'}, 300)},
		},
		want: append(append(append(append(header(BootReply, 0, 0, [4]byte{}, mac),
			15, 255), bytes.Repeat([]byte{'a'}, 255)...),
			15, 45), append(bytes.Repeat([]byte{'a'}, 45), 255)...),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.msg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Marshal: (-want +got):\n%s", diff)
			}
			back, err := Parse(got)
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v", err)
			}
			want := tt.msg
			for _, a := range []*netip.Addr{&want.ClientAddr, &want.YourAddr, &want.ServerAddr, &want.RelayAddr} {
				if !a.IsValid() {
					*a = zero
				}
			}
			if diff := cmp.Diff(&want, back, cmpAddr); diff != "" {
				t.Errorf("Parse(Marshal()): (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"long chaddr", Message{HardwareAddr: make([]byte, 17)}, "longer than 16"},
		{"long sname", Message{ServerName: strings.Repeat("s", 65)}, "longer than 64"},
		{"long file", Message{BootFile: strings.Repeat("f", 129)}, "longer than 128"},
		{"IPv6 yiaddr", Message{YourAddr: addr("::1")}, "not IPv4"},
		{"pad with a value", Message{Options: Options{OptionPad: {1}}}, "cannot have a value"},
		{"end with a value", Message{Options: Options{OptionEnd: {}}}, "cannot have a value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.msg.Marshal()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	sname := func(b []byte, s string) []byte { copy(b[44:], s); return b }
	file := func(b []byte, s string) []byte { copy(b[108:], s); return b }
	tests := []struct {
		name string
		in   []byte
		want *Message
	}{{
		name: "no end option, no padding",
		in:   append(header(BootReply, 1, 0, [4]byte{}, mac), 53, 1, 5),
		want: &Message{Op: BootReply, XID: 1, HardwareAddr: mac, Options: Options{OptionMessageType: {5}}},
	}, {
		name: "pads and a repeated option concatenated",
		in:   append(header(BootReply, 1, 0, [4]byte{}, mac), 0, 0, 6, 4, 1, 2, 3, 4, 0, 6, 4, 5, 6, 7, 8, 255, 99, 99),
		want: &Message{Op: BootReply, XID: 1, HardwareAddr: mac, Options: Options{OptionDNS: {1, 2, 3, 4, 5, 6, 7, 8}}},
	}, {
		name: "empty option",
		in:   append(header(BootRequest, 1, 0, [4]byte{}, mac), 80, 0, 255),
		want: &Message{Op: BootRequest, XID: 1, HardwareAddr: mac, Options: Options{80: {}}},
	}, {
		name: "sname and file",
		in:   file(sname(append(header(BootReply, 1, 0, [4]byte{}, mac), 255), "server"), "pxelinux.0"),
		want: &Message{Op: BootReply, XID: 1, HardwareAddr: mac, ServerName: "server", BootFile: "pxelinux.0", Options: Options{}},
	}, {
		name: "options overloaded into file and sname",
		in: func() []byte {
			b := append(header(BootReply, 1, 0, [4]byte{}, mac), 52, 1, 3, 255)
			copy(b[108:], []byte{15, 3, 'a', 'b', 'c', 255})
			copy(b[44:], []byte{15, 2, 'd', 'e', 255})
			return b
		}(),
		want: &Message{Op: BootReply, XID: 1, HardwareAddr: mac, Options: Options{OptionOverload: {3}, OptionDomainName: []byte("abcde")}},
	}, {
		name: "no hardware address",
		in:   append(header(BootRequest, 1, 0, [4]byte{}, nil), 255),
		want: &Message{Op: BootRequest, XID: 1, HardwareAddr: net.HardwareAddr{}, Options: Options{}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range []*netip.Addr{&tt.want.ClientAddr, &tt.want.YourAddr, &tt.want.ServerAddr, &tt.want.RelayAddr} {
				if !a.IsValid() {
					*a = zero
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpAddr); diff != "" {
				t.Errorf("Parse: (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	ok := append(header(BootRequest, 1, 0, [4]byte{}, mac), 53, 1, 1, 255)
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(ok)) }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "shorter than"},
		{"no cookie", ok[:236], "shorter than"},
		{"bad cookie", with(func(b []byte) []byte { b[239] = 0; return b }), "magic cookie"},
		{"hlen 17", with(func(b []byte) []byte { b[2] = 17; return b }), "longer than 16"},
		{"option without length", append(header(BootRequest, 1, 0, [4]byte{}, mac), 53), "truncated"},
		{"option past the end", append(header(BootRequest, 1, 0, [4]byte{}, mac), 53, 4, 1), "truncated"},
		{"truncated option in file", with(func(b []byte) []byte {
			b = append(b[:240], 52, 1, 1, 255)
			b[108], b[109] = 15, 200
			return b
		}), "in the file field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %+v, %v; want an error containing %q", m, err, tt.want)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	o := Options{}
	o.SetAddrs(OptionRouter, addr("192.0.2.1"))
	o.SetAddrs(OptionDNS, addr("192.0.2.1"), addr("192.0.2.2"))
	o.SetUint32(OptionLeaseTime, 86400)
	o[OptionSubnetMask] = []byte{255, 255, 255}

	if a, ok := o.Addr(OptionRouter); !ok || a != addr("192.0.2.1") {
		t.Errorf("Addr(router) = %v, %v; want 192.0.2.1, true", a, ok)
	}
	if a, ok := o.Addr(OptionDNS); ok {
		t.Errorf("Addr(dns) of two addresses = %v, true; want false", a)
	}
	if a, ok := o.Addr(OptionSubnetMask); ok {
		t.Errorf("Addr of 3 bytes = %v, true; want false", a)
	}
	if diff := cmp.Diff([]netip.Addr{addr("192.0.2.1"), addr("192.0.2.2")}, o.Addrs(OptionDNS), cmpAddr); diff != "" {
		t.Errorf("Addrs(dns): (-want +got):\n%s", diff)
	}
	if got := o.Addrs(OptionSubnetMask); got != nil {
		t.Errorf("Addrs of 3 bytes = %v, want nil", got)
	}
	if v, ok := o.Uint32(OptionLeaseTime); !ok || v != 86400 {
		t.Errorf("Uint32(lease time) = %v, %v; want 86400, true", v, ok)
	}
	if v, ok := o.Uint32(OptionRenewalTime); ok {
		t.Errorf("Uint32 of an absent option = %v, true; want false", v)
	}
	m := Message{Options: Options{OptionMessageType: {byte(Nak)}}}
	if got := m.Type(); got != Nak || got.String() != "NAK" {
		t.Errorf("Type() = %v, want NAK", got)
	}
	if got := MessageType(42).String(); got != "TYPE42" {
		t.Errorf("MessageType(42) = %q, want TYPE42", got)
	}
}

func FuzzParse(f *testing.F) {
	m := Message{Op: BootRequest, HardwareAddr: mac, Options: Options{OptionMessageType: {1}, OptionOverload: {3}}}
	b, _ := m.Marshal()
	f.Add(b)
	f.Add(append(header(BootReply, 1, 0, [4]byte{}, mac), 52, 1, 3, 255))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		if _, err := m.Marshal(); err != nil {
			t.Errorf("Marshal of a parsed message: %v", err)
		}
	})
}
