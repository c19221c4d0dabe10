package kconfig

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Request
		wantErr string
	}{
		{
			name: "values and comments",
			in:   "# a comment\n\nCONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=\"x y\"\nCONFIG_D=0x10\n#CONFIG_E is not set\n",
			want: []Request{
				{Option: "CONFIG_A", Value: "y", File: "f", Line: 3},
				{Option: "CONFIG_B", Value: "n", File: "f", Line: 4},
				{Option: "CONFIG_C", Value: `"x y"`, File: "f", Line: 5},
				{Option: "CONFIG_D", Value: "0x10", File: "f", Line: 6},
				{Option: "CONFIG_E", Value: "n", File: "f", Line: 7},
			},
		},
		{name: "no prefix", in: "A=y\n", wantErr: `f:1: want CONFIG_NAME=value`},
		{name: "no value", in: "CONFIG_A=y\nCONFIG_B=\n", wantErr: `f:2: CONFIG_B has no value`},
		{name: "not an assignment", in: "CONFIG_A y\n", wantErr: `f:1: want CONFIG_NAME=value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in), "f")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func parse(t *testing.T, in, file string) []Request {
	t.Helper()
	r, err := Parse(strings.NewReader(in), file)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCheck(t *testing.T) {
	config := `CONFIG_A=y
CONFIG_M=m
# CONFIG_OFF is not set
CONFIG_S="ttyS0"
CONFIG_N=5
`
	tests := []struct {
		name  string
		frags []string // each fragment is named f0, f1, ...
		want  []string
	}{
		{name: "all kept", frags: []string{"CONFIG_A=y\nCONFIG_M=m\n# CONFIG_OFF is not set\n# CONFIG_ABSENT is not set\nCONFIG_S=\"ttyS0\"\nCONFIG_N=5\n"}},
		{
			name:  "dropped option",
			frags: []string{"CONFIG_A=y\nCONFIG_LOST=y\n"},
			want:  []string{"f0:2: CONFIG_LOST: requested y, but .config has n (not set: Kconfig dropped it, check its dependencies)"},
		},
		{
			name:  "different values",
			frags: []string{"CONFIG_M=y\nCONFIG_S=\"ttyS1\"\nCONFIG_N=6\n# CONFIG_A is not set\n"},
			want: []string{
				"f0:1: CONFIG_M: requested y, but .config has m",
				`f0:2: CONFIG_S: requested "ttyS1", but .config has "ttyS0"`,
				"f0:3: CONFIG_N: requested 6, but .config has 5",
				"f0:4: CONFIG_A: requested n, but .config has y",
			},
		},
		{
			name:  "later fragment wins",
			frags: []string{"CONFIG_A=m\nCONFIG_N=1\n", "CONFIG_A=y\n", "CONFIG_N=7\n"},
			want:  []string{"f2:1: CONFIG_N: requested 7, but .config has 5"},
		},
	}
	cfg := NewConfig(parse(t, config, ".config"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var frags [][]Request
			for i, f := range tt.frags {
				frags = append(frags, parse(t, f, "f"+string(rune('0'+i))))
			}
			var got []string
			for _, m := range Check(cfg, Merge(frags...)) {
				got = append(got, m.String())
			}
			// Merge sorts by option; compare as sets.
			less := func(a, b string) bool { return a < b }
			if diff := cmp.Diff(tt.want, got, cmpSort(less)); diff != "" {
				t.Errorf("Check (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	before := NewConfig(parse(t, "CONFIG_A=y\nCONFIG_B=y\nCONFIG_S=\"x\"\n# CONFIG_C is not set\n", "a"))
	after := NewConfig(parse(t, "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_S=\"y\"\nCONFIG_C=m\nCONFIG_D=y\n", "b"))
	want := []string{"# CONFIG_B is not set", "CONFIG_C=m", "CONFIG_D=y", `CONFIG_S="y"`}
	if diff := cmp.Diff(want, Diff(before, after)); diff != "" {
		t.Errorf("Diff (-want +got):\n%s", diff)
	}
}
