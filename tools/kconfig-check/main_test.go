package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	config := write(t, dir, ".config", "CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=m\n")
	good := write(t, dir, "good.config", "CONFIG_A=y\n# CONFIG_B is not set\n")
	bad := write(t, dir, "bad.config", "# the base\nCONFIG_A=y\nCONFIG_B=y\n")
	typo := write(t, dir, "typo.config", "CONFIG_A y\n")

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  []string // substrings of stderr
		wantOut  string
	}{
		{name: "good", args: []string{"-config", config, good}, wantCode: 0},
		{
			name:     "lost option",
			args:     []string{"-config", config, good, bad},
			wantCode: 1,
			wantErr:  []string{bad + ":3: CONFIG_B: requested y, but .config has n", "1 requested option(s) not in " + config},
		},
		{name: "malformed fragment", args: []string{"-config", config, typo}, wantCode: 1, wantErr: []string{typo + ":1: want CONFIG_NAME=value"}},
		{name: "missing fragment", args: []string{"-config", config, filepath.Join(dir, "nope")}, wantCode: 1, wantErr: []string{"nope: no such file"}},
		{name: "no config", args: []string{good}, wantCode: 2},
		{name: "diff", args: []string{"-diff", good, config}, wantCode: 0, wantOut: "CONFIG_C=m\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.wantCode {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr.String())
				}
			}
			if stdout.String() != tt.wantOut {
				t.Errorf("stdout = %q, want %q", stdout.String(), tt.wantOut)
			}
		})
	}
}
