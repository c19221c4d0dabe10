package tftp

import (
	"net/netip"
	"testing"
)

func TestParseAllow(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means error
	}{
		{"192.0.2.7", "192.0.2.7/32"},
		{"2001:db8::1", "2001:db8::1/128"},
		{"::ffff:192.0.2.7", "192.0.2.7/32"},
		{"192.0.2.0/24", "192.0.2.0/24"},
		{"192.0.2.9/24", "192.0.2.0/24"},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24"},
		{"2001:db8::/32", "2001:db8::/32"},
		{"", ""},
		{"host.example", ""},
		{"192.0.2.300", ""},
		{"192.0.2.0/33", ""},
		{"fe80::1%eth0", ""},
	}
	for _, tt := range tests {
		got, err := ParseAllow(tt.in)
		if tt.want == "" {
			if err == nil {
				t.Errorf("ParseAllow(%q) = %v, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseAllow(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestAllowed(t *testing.T) {
	list := []netip.Prefix{
		netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("2001:db8::/32"),
	}
	tests := []struct {
		list   []netip.Prefix
		client string
		want   bool
	}{
		{nil, "203.0.113.1", true},
		{list, "192.0.2.7", true},
		{list, "::ffff:192.0.2.7", true},
		{list, "192.0.2.8", false},
		{list, "198.51.100.200", true},
		{list, "198.51.101.1", false},
		{list, "2001:db8::5", true},
		{list, "2001:db9::5", false},
		{list, "127.0.0.1", false},
	}
	for _, tt := range tests {
		if got := allowed(tt.list, netip.MustParseAddr(tt.client)); got != tt.want {
			t.Errorf("allowed(%v, %s) = %v, want %v", tt.list, tt.client, got, tt.want)
		}
	}
}
