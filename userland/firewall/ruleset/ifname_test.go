package ruleset

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// casesFile holds the interface-name cases shared with the Starlark rule
// (ifname_error); relative to this package, in the source tree and in
// Bazel's runfiles alike.
const casesFile = "../../../rules/service/private/ifname_cases.bzl"

var caseRE = regexp.MustCompile(`\[("(?:[^"\\]|\\.)*"), (True|False)\]`)

func TestIfnameCases(t *testing.T) {
	b, err := os.ReadFile(casesFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := caseRE.FindAllStringSubmatch(string(b), -1)
	if len(cases) < 10 {
		t.Fatalf("%s: found %d cases, want the whole list", casesFile, len(cases))
	}
	for _, c := range cases {
		name, err := strconv.Unquote(c[1])
		if err != nil {
			t.Fatalf("%s: case %s: %v", casesFile, c[1], err)
		}
		good := c[2] == "True"
		if msg := IfnameError(name); (msg == "") != good {
			t.Errorf("IfnameError(%q) = %q, want good = %v", name, msg, good)
		}
	}
}
