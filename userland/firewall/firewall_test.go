package firewall

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestZoneFlags(t *testing.T) {
	z := zoneFlags{}
	for _, v := range []string{"lan=lan", "lan=guest", "wan=wan"} {
		if err := z.Set(v); err != nil {
			t.Fatalf("Set(%q): %v", v, err)
		}
	}
	if diff := cmp.Diff(zoneFlags{"lan": {"lan", "guest"}, "wan": {"wan"}}, z); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for v, want := range map[string]string{
		"wan=guest": "service guest is in zone lan already",
		"lan":       "want ZONE=SERVICE",
		"=lan":      "want ZONE=SERVICE",
		"lan=a/b":   "want ZONE=SERVICE",
	} {
		if err := z.Set(v); err == nil || err.Error() != want {
			t.Errorf("Set(%q) = %v, want %q", v, err, want)
		}
	}
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "fw.nft")
	os.WriteFile(f, []byte("table inet t {\n\tset zone_lan {\n\t\ttype ifname\n\t}\n\n\tchain c {\n\t\tiifname @zone_wan accept\n\t}\n}\n"), 0o644)
	var out, errb bytes.Buffer
	if code := Main([]string{"check", f}, &out, &errb); code != 1 || errb.String() != "firewall: "+f+":7: unknown set zone_wan: want one of zone_lan\n" {
		t.Errorf("check = %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"check", filepath.Join(dir, "none.nft")}, &out, &errb); code != 1 || !strings.Contains(errb.String(), "no such file") {
		t.Errorf("check of a missing file = %d, %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"check"}, &out, &errb); code != 2 || errb.String() != "usage: firewall check FILE\n" {
		t.Errorf("check without a file = %d, %q", code, errb.String())
	}
	for _, cmd := range []string{"dump", "zones"} {
		errb.Reset()
		if code := Main([]string{cmd, "extra"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "usage: firewall "+cmd+" [-table NAME]") {
			t.Errorf("%s extra = %d, %q", cmd, code, errb.String())
		}
	}
	out.Reset()
	if code := Main([]string{"help"}, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "usage: firewall COMMAND") {
		t.Errorf("help = %d, %q", code, out.String())
	}
}
