package ruleset

import (
	"math/rand"
	"net/netip"
	"testing"
)

// The parser and formatter agree with net/netip.
func TestAddr(t *testing.T) {
	cases := []string{
		"0.0.0.0", "1.2.3.4", "255.255.255.255", "192.168.8.10",
		"::", "::1", "1::", "fe80::", "fe80::1", "2001:db8::1", "2001:db8:0:0:1:0:0:1", "2001:0:0:1:0:0:0:1",
		"1:2:3:4:5:6:7:8", "0:0:1:0:0:0:1:0", "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4",
		"FE80::ABCD", "0001:0002::", "1:0:0:0:0:0:0:0", "0:0:0:0:0:0:0:1",
		// Not addresses.
		"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "+1.2.3.4", ":", ":::", "1:::2", "1::2::3",
		"12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::8", "::1:", ":1::", "1:2", "g::", "1.2.3.4::", "::1.2.3",
		"1:2:3:4:5:6:7:1.2.3.4", "fe80::1%eth0", "::ffff:1.2.3.4.5",
	}
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		var b [16]byte
		for j := range b {
			if r.Intn(3) > 0 {
				b[j] = byte(r.Intn(256))
			}
		}
		cases = append(cases, netip.AddrFrom16(b).String(), netip.AddrFrom4([4]byte(b[:4])).String())
	}
	for _, s := range cases {
		want, err := netip.ParseAddr(s)
		got, ok := parseAddr(s)
		if err == nil && want.Zone() != "" {
			if ok {
				t.Errorf("parseAddr(%q) accepts a zone", s)
			}
			continue
		}
		if ok != (err == nil) {
			t.Errorf("parseAddr(%q) ok = %v, netip: %v", s, ok, err)
			continue
		}
		if !ok {
			continue
		}
		if string(got) != string(want.AsSlice()) {
			t.Errorf("parseAddr(%q) = % x, want % x", s, got, want.AsSlice())
		}
		if f := formatAddr(got); f != want.String() {
			t.Errorf("formatAddr(% x) = %q, want %q", got, f, want.String())
		}
	}
}
