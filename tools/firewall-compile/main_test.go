package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "fw.json")
	os.WriteFile(config, []byte(`{"zones": [{"name": "lan", "services": ["lan"]}], "inbound": [{"zone": "lan", "proto": "tcp", "ports": "22"}]}`), 0o644)
	out := filepath.Join(dir, "fw.nft")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-o", out, config}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("table inet bazwrt {\n")) || !bytes.Contains(b, []byte("\t\tiifname @zone_lan tcp dport 22 accept\n")) {
		t.Errorf("ruleset:\n%s", b)
	}
	// Without -o: stdout, the same bytes.
	stdout.Reset()
	if code := run([]string{config}, &stdout, &stderr); code != 0 || !bytes.Equal(stdout.Bytes(), b) {
		t.Errorf("stdout (exit %d) differs from -o:\n%s", code, stdout.String())
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"zones": [{"name": "lan", "services": ["lan"]}], "masquerade": ["wan"]}`), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: firewall-compile"},
		{[]string{"a", "b"}, 2, "usage: firewall-compile"},
		{[]string{filepath.Join(dir, "missing.json")}, 1, "no such file"},
		{[]string{bad}, 1, `firewall-compile: ` + bad + `: masquerade[0]: "wan": want one of the zones: lan`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
	}
}
