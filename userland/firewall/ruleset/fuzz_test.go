package ruleset

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Whatever Parse accepts formats to text that parses to the same Ruleset
// and formats to the same bytes.
func FuzzParse(f *testing.F) {
	f.Add(canonical)
	f.Add(chain("\t\tiifname != { \"a\", \"b\" } ip6 saddr fe80::/10 tcp dport 1-2 counter reject\n"))
	f.Add("table inet t { chain c { type nat hook prerouting priority -100; meta l4proto tcp dnat ip to 1.2.3.4:5 } }")
	f.Fuzz(func(t *testing.T, text string) {
		rs, err := Parse("fuzz", []byte(text))
		if err != nil {
			return
		}
		out := rs.Format()
		again, err := Parse("formatted", out)
		if err != nil {
			t.Fatalf("Format output does not parse: %v\n%s", err, out)
		}
		if diff := cmp.Diff(rs, again); diff != "" {
			t.Fatalf("Parse(Format(rs)) != rs (-want +got):\n%s", diff)
		}
		if string(again.Format()) != string(out) {
			t.Fatalf("Format is not stable")
		}
	})
}
