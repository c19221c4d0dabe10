package vmtest

import "testing"

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
