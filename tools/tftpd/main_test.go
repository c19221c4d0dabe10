package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRootDir(t *testing.T) {
	base := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(base, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "BUILD_WORKING_DIRECTORY" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		dir     string
		bwd     string
		want    string
		wantErr string
	}{
		{dir: "out", bwd: base, want: filepath.Join(base, "out")},
		{dir: "./out/", bwd: base, want: filepath.Join(base, "out")},
		{dir: filepath.Join(base, "out"), bwd: "/nonexistent", want: filepath.Join(base, "out")},
		{dir: ".", bwd: "", want: wd},
		{dir: "missing", bwd: base, wantErr: "no such file or directory"},
		{dir: "file", bwd: base, wantErr: "is not a directory"},
	}
	for _, tt := range tests {
		got, err := rootDir(tt.dir, env(tt.bwd))
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("rootDir(%q) with BUILD_WORKING_DIRECTORY=%q = %q, %v; want error %q", tt.dir, tt.bwd, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("rootDir(%q) with BUILD_WORKING_DIRECTORY=%q = %q, %v; want %q", tt.dir, tt.bwd, got, err, tt.want)
		}
	}
}

func TestAllowFlag(t *testing.T) {
	var a allowFlag
	for _, s := range []string{"192.0.2.1", "198.51.100.0/24", "2001:db8::1"} {
		if err := a.Set(s); err != nil {
			t.Fatalf("Set(%q): %v", s, err)
		}
	}
	if got, want := a.String(), "192.0.2.1, 198.51.100.0/24, 2001:db8::1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if err := a.Set("tftp.example"); err == nil {
		t.Errorf("Set accepted a host name")
	}
}

func TestPrivilegeHint(t *testing.T) {
	got := privilegeHint(":69")
	for _, want := range []string{":69", "-listen :6969", "sudo setcap cap_net_bind_service=+ep "} {
		if !strings.Contains(got, want) {
			t.Errorf("privilegeHint(\":69\") = %q, want it to contain %q", got, want)
		}
	}
	if strings.Contains(got, "\n") {
		t.Errorf("privilegeHint is not one line: %q", got)
	}
}

func TestRunUsage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: tftpd"},
		{[]string{dir, "extra"}, 2, "usage: tftpd"},
		{[]string{"-a", "nonsense", dir}, 2, "bad client address"},
		{[]string{"-listen", "127.0.0.1:0", filepath.Join(dir, "missing")}, 1, "directory to serve"},
		{[]string{"-listen", "256.0.0.1:0", dir}, 1, "tftpd: listen udp"},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		code := run(context.Background(), tt.args, func(string) string { return "" }, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("run(%q) = %d, output %q; want %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
	}
}

// TestRunServes starts the command and stops it as a signal would.
func TestRunServes(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-listen", "127.0.0.1:0", dir}, "WARNING: no -a given"},
		{[]string{"-listen", "127.0.0.1:0", "-a", "127.0.0.1", "-a", "10.0.0.0/8", dir}, "allowed clients: 127.0.0.1, 10.0.0.0/8"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		var stderr bytes.Buffer
		code := run(ctx, tt.args, func(string) string { return "" }, &stderr)
		cancel()
		out := stderr.String()
		if code != 0 {
			t.Errorf("run(%q) = %d, want 0; output:\n%s", tt.args, code, out)
		}
		for _, want := range []string{"serving " + dir + " read-only on 127.0.0.1:", tt.want, "shut down"} {
			if !strings.Contains(out, want) {
				t.Errorf("run(%q) output lacks %q:\n%s", tt.args, want, out)
			}
		}
	}
}
