package svcsrc

import (
	"os"
	"regexp"
	"strconv"
	"testing"
)

// nameCasesFile holds the service-name cases shared with the Starlark rule
// (service_name_error); relative to this package, in the source tree and
// in Bazel's runfiles alike.
const nameCasesFile = "../../../rules/service/private/service_name_cases.bzl"

var nameCaseRE = regexp.MustCompile(`\[("(?:[^"\\]|\\.)*"), (True|False)\]`)

func TestNameCases(t *testing.T) {
	b, err := os.ReadFile(nameCasesFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := nameCaseRE.FindAllStringSubmatch(string(b), -1)
	if len(cases) < 10 {
		t.Fatalf("%s: found %d cases, want the whole list", nameCasesFile, len(cases))
	}
	for _, c := range cases {
		name, err := strconv.Unquote(c[1])
		if err != nil {
			t.Fatalf("%s: case %s: %v", nameCasesFile, c[1], err)
		}
		good := c[2] == "True"
		if msg := CheckName(name); (msg == "") != good {
			t.Errorf("CheckName(%q) = %q, want good = %v", name, msg, good)
		}
	}
}
