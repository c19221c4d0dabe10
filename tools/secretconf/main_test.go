package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "correct horse", want: "correct horse"},
		{in: "correct horse\n", want: "correct horse"},
		{in: "correct horse\r\n", want: "correct horse"},
		{in: " 8 chars ", want: " 8 chars "},
		{in: `a "quoted" #pass\`, want: `a "quoted" #pass\`},
		{in: strings.Repeat("x", 63), want: strings.Repeat("x", 63)},
		{in: "", wantErr: "is empty"},
		{in: "\n", wantErr: "is empty"},
		{in: "short", wantErr: "is 5 characters: want 8 to 63"},
		{in: strings.Repeat("x", 64), wantErr: "is 64 characters: want 8 to 63"},
		{in: "correct horse\n\n", wantErr: "more than one line (a newline at byte 13)"},
		{in: "first line\nsecond line\n", wantErr: "more than one line (a newline at byte 10)"},
		{in: "tab\there!", wantErr: "has byte 0x09 at byte 3: want printable ASCII"},
		{in: "caf\xc3\xa9 au lait", wantErr: "has byte 0xc3 at byte 3"},
		{in: "nul\x00inside", wantErr: "has byte 0x00 at byte 3"},
	} {
		got, err := Parse([]byte(tc.in), 8, 63)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Parse(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestParseNoMax(t *testing.T) {
	long := strings.Repeat("y", 200)
	if got, err := Parse([]byte(long), 1, 0); err != nil || got != long {
		t.Errorf("Parse(200 chars, max 0) = %q, %v", got, err)
	}
	if _, err := Parse([]byte("ab"), 3, 0); err == nil || !strings.Contains(err.Error(), "want at least 3") {
		t.Errorf("Parse(2 chars, min 3) error = %v", err)
	}
}

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
	conf := write(t, dir, "ap.conf", "interface=wlan0\nssid=home\n")
	secret := write(t, dir, "pass", "correct horse battery\n")
	out := filepath.Join(dir, "out.conf")
	var stderr bytes.Buffer
	if code := run([]string{"-template", conf, "-secret", secret, "-key", "wpa_passphrase=", "-min", "8", "-max", "63", "-out", out}, &stderr); code != 0 {
		t.Fatalf("run = %d, stderr: %s", code, &stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want := "interface=wlan0\nssid=home\nwpa_passphrase=correct horse battery\n"
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("output mode %v, want 0600 (it holds a secret)", fi.Mode().Perm())
	}
}

// A bad secret: the error names the file as the user knows it and what was
// expected, never the secret, and nothing is written.
func TestRunBadSecret(t *testing.T) {
	dir := t.TempDir()
	conf := write(t, dir, "ap.conf", "ssid=home")
	secret := write(t, dir, "pass", "hunter2\n")
	out := filepath.Join(dir, "out.conf")
	var stderr bytes.Buffer
	code := run([]string{"-template", conf, "-secret", secret, "-name", "wifi-passphrase (//:wifi_passphrase)", "-key", "wpa_passphrase=", "-min", "8", "-max", "63", "-what", "WPA passphrase", "-out", out}, &stderr)
	if code != 1 {
		t.Fatalf("run = %d, want 1", code)
	}
	want := "secretconf: wifi-passphrase (//:wifi_passphrase): the WPA passphrase is 7 characters: want 8 to 63\n"
	if diff := cmp.Diff(want, stderr.String()); diff != "" {
		t.Errorf("stderr (-want +got):\n%s", diff)
	}
	if strings.Contains(stderr.String(), "hunter2") {
		t.Errorf("the error shows the secret: %s", &stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("output written for a bad secret (stat: %v)", err)
	}
}

func TestRunMissingSecret(t *testing.T) {
	dir := t.TempDir()
	conf := write(t, dir, "ap.conf", "ssid=home\n")
	var stderr bytes.Buffer
	code := run([]string{"-template", conf, "-secret", filepath.Join(dir, "nope"), "-key", "k=", "-what", "WPA passphrase", "-out", filepath.Join(dir, "o")}, &stderr)
	if code != 1 || !strings.Contains(stderr.String(), "the WPA passphrase: open ") {
		t.Errorf("run = %d, stderr %q; want 1 and the open error", code, &stderr)
	}
}
