package vmtest

import (
	"regexp"
	"testing"
)

func TestWithoutInitLines(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"none", "2001:db8:1000::1/64\n", "2001:db8:1000::1/64\n"},
		{"before", "init: \"default\" is up\n2001:db8:1000::1/64\n", "2001:db8:1000::1/64\n"},
		{"between", "a\ninit: wan6: up\nb\n", "a\nb\n"},
		{"last, no newline", "a\ninit: x", "a\n"},
		{"indented", "a\n  init: x\n", "a\n"},
		{"inside a line is kept", "a init: x\n", "a init: x\n"},
		{"timestamped log line is kept", "2026-12-04T19:09:08Z init: x\n", "2026-12-04T19:09:08Z init: x\n"},
		{"empty", "", ""},
	} {
		if got := withoutInitLines(tc.in); got != tc.want {
			t.Errorf("%s: withoutInitLines(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

// The pattern CheckCommands gives grep -E on the guest; Go's regexp reads
// this subset of POSIX ERE alike.
func TestNotFound(t *testing.T) {
	re := regexp.MustCompile(notFound)
	for _, tc := range []struct {
		line string
		want bool
	}{
		{"2026-12-04T22:02:42.896635Z run: line 15: cmp: not found", true},
		{"2026-12-04T22:02:42.896635Z sh: cmp: not found", true},
		{"/etc/udhcpc.script: line 3: ip: not found", true},
		{"2026-12-04T22:02:42.896635Z dnsmasq: file /etc/hosts not found", false},
		{"2026-12-04T22:02:42.896635Z pppd: peer not found", false},
		{"2026-12-04T22:02:42.896635Z run: line 15: cmp: not found (ignored)", false},
		{"2026-12-04T22:02:42.896635Z ssh: host: not found", false},
	} {
		if got := re.MatchString(tc.line); got != tc.want {
			t.Errorf("%q matches: %v, want %v", tc.line, got, tc.want)
		}
	}
}
