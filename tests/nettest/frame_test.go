package nettest

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

func TestParseUDPv4(t *testing.T) {
	src, dst := netip.MustParseAddrPort("192.0.2.1:1000"), netip.MustParseAddrPort("198.51.100.2:53")
	srcMAC, dstMAC := mac("52:54:00:00:0b:01"), mac("52:54:00:00:0b:02")
	frame := func(payload string) []byte {
		u, err := udpPacket(src, dst, []byte(payload))
		if err != nil {
			t.Fatal(err)
		}
		f, err := ipv4Frame(srcMAC, dstMAC, src.Addr(), dst.Addr(), 17, 7, u)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// with returns f changed, with its IPv4 header checksum made right
	// again, so that only the change is wrong.
	with := func(f []byte, change func(f []byte)) []byte {
		f = bytes.Clone(f)
		change(f)
		h := header.IPv4(f[header.EthernetMinimumSize:])
		h.SetChecksum(0)
		h.SetChecksum(^h.CalculateChecksum())
		return f
	}
	const (
		ip  = 14      // where the IPv4 header starts
		udp = ip + 20 // the UDP header
	)
	f := frame("a payload")
	tests := []struct {
		name    string
		frame   []byte
		payload string // "" for not a UDP datagram
	}{
		{"as made", f, "a payload"},
		{"padded", append(bytes.Clone(f), make([]byte, 20)...), "a payload"},
		{"no UDP checksum", with(f, func(f []byte) { f[udp+6], f[udp+7] = 0, 0 }), "a payload"},
		{"bad UDP checksum", with(f, func(f []byte) { f[udp+7]++ }), ""},
		{"bad IPv4 checksum", func() []byte { f := bytes.Clone(f); f[ip+11]++; return f }(), ""},
		{"not IPv4", with(f, func(f []byte) { f[12], f[13] = 0x86, 0xdd }), ""},
		{"TCP", with(f, func(f []byte) { f[ip+9] = 6 }), ""},
		{"fragment", with(f, func(f []byte) { f[ip+6] |= 0x20 }), ""},
		{"truncated", f[:len(f)-1], ""},
		{"UDP length past the packet", with(f, func(f []byte) { f[udp+5] += 8 }), ""},
		{"runt", f[:10], ""},
	}
	for _, tt := range tests {
		d, ok := parseUDPv4(tt.frame)
		if tt.payload == "" {
			if ok {
				t.Errorf("%s: parsed as %+v, want rejected", tt.name, d)
			}
			continue
		}
		want := udpDatagram{SrcMAC: srcMAC, DstMAC: dstMAC, Src: src, Dst: dst, Payload: []byte(tt.payload)}
		if !ok {
			t.Errorf("%s: rejected", tt.name)
		} else if diff := cmp.Diff(want, d, cmpNetip); diff != "" {
			t.Errorf("%s: (-want +got):\n%s", tt.name, diff)
		}
	}
}
