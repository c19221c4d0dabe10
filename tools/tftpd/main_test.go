package main

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"bazwrt/tools/tftpd/tftp"
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
		{[]string{"-max-transfers", "0", dir}, 2, "must be at least 1"},
		{[]string{"-max-per-client", "-1", dir}, 2, "must be at least 1"},
		{[]string{"-listen", "127.0.0.1:0", "-follow", filepath.Join(dir, "missing"), dir}, 1, "tftpd: -follow directory: stat "},
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
		{[]string{"-listen", "127.0.0.1:0", dir}, "symbolic links are followed only to targets under " + dir + "\n"},
		{[]string{"-listen", "127.0.0.1:0", "-follow", "/", dir}, "symbolic links are followed only to targets under " + dir + ", /\n"},
		{[]string{"-listen", "127.0.0.1:0", dir}, "at most 64 transfers at once, 8 per client"},
		{[]string{"-listen", "127.0.0.1:0", "-max-transfers", "5", "-max-per-client", "2", dir}, "at most 5 transfers at once, 2 per client"},
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

// TestBazelOutputTree builds a workspace as Bazel leaves it, with
// bazel-out and bazel-bin links into an output base, and checks which
// directory links may lead into.
func TestBazelOutputTree(t *testing.T) {
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	execroot := filepath.Join(base, "output_base", "execroot", "ws")
	bin := filepath.Join(execroot, "bazel-out", "k8-fastbuild", "bin")
	for _, d := range []string{ws, bin} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for link, target := range map[string]string{
		"bazel-out": filepath.Join(execroot, "bazel-out"),
		"bazel-bin": bin,
	} {
		if err := os.Symlink(target, filepath.Join(ws, link)); err != nil {
			t.Fatal(err)
		}
	}
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "BUILD_WORKSPACE_DIRECTORY" {
				return v
			}
			return ""
		}
	}
	if got, want := bazelOutputTree(env(ws)), filepath.Join(execroot, "bazel-out"); got != want {
		t.Errorf("bazelOutputTree = %q, want %q", got, want)
	}
	if got := bazelOutputTree(env("")); got != "" {
		t.Errorf("bazelOutputTree without bazel run = %q, want none", got)
	}
	if got := bazelOutputTree(env(base)); got != "" {
		t.Errorf("bazelOutputTree of a workspace without bazel-out = %q, want none", got)
	}

	// Under bazel run, the command names it at start.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var stderr bytes.Buffer
	served := t.TempDir()
	if code := run(ctx, []string{"-listen", "127.0.0.1:0", served}, env(ws), &stderr); code != 0 {
		t.Fatalf("run = %d; output:\n%s", code, &stderr)
	}
	if want := "symbolic links are followed only to targets under " + served + ", " + filepath.Join(execroot, "bazel-out") + "\n"; !strings.Contains(stderr.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, &stderr)
	}
}

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serveCommand runs the command until the test ends and returns the
// address it listens on and its output.
func serveCommand(t *testing.T, args []string, getenv func(string) string) (netip.AddrPort, *lockedBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, getenv, stderr) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("run = %d; output:\n%s", code, stderr)
		}
	})
	re := regexp.MustCompile(`read-only on (127\.0\.0\.1:\d+)`)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			return netip.MustParseAddrPort(m[1]), stderr
		}
	}
	t.Fatalf("the command did not start; output:\n%s", stderr)
	return netip.AddrPort{}, nil
}

// fetch reads a small file (less than 512 bytes) over TFTP and returns its
// content, or the ERROR the server sent.
func fetch(t *testing.T, server netip.AddrPort, name string) (string, *tftp.Error) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rrq, _ := (&tftp.Request{Op: tftp.OpRRQ, Filename: name, Mode: "octet"}).AppendBinary(nil)
	if _, err := conn.WriteToUDPAddrPort(rrq, server); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	buf := make([]byte, 1024)
	n, from, err := conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	p, err := tftp.ParsePacket(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	switch p := p.(type) {
	case *tftp.Data:
		ack, _ := (&tftp.Ack{Block: p.Block}).AppendBinary(nil)
		conn.WriteToUDPAddrPort(ack, from)
		return string(p.Payload), nil
	case *tftp.Error:
		return "", p
	}
	t.Fatalf("%s: got %#v", name, p)
	return "", nil
}

// TestRunBazelOutputs serves, as bazel run would, a directory of Bazel's
// output tree through the workspace's bazel-bin link (as docs/tftpd.md
// shows), and a directory of links into it: both are served, while a link
// to / in the same directory is refused.
func TestRunBazelOutputs(t *testing.T) {
	base := t.TempDir()
	ws := filepath.Join(base, "ws")
	execroot := filepath.Join(base, "output_base", "execroot", "ws")
	tftpboot := filepath.Join(execroot, "bazel-out", "k8-fastbuild", "bin", "devices", "board", "tftpboot")
	links := filepath.Join(base, "links")
	for _, d := range []string{ws, tftpboot, links} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(tftpboot, "uImage"), []byte("kernel"), 0o444); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		filepath.Join(ws, "bazel-out"):   filepath.Join(execroot, "bazel-out"),
		filepath.Join(ws, "bazel-bin"):   filepath.Join(execroot, "bazel-out", "k8-fastbuild", "bin"),
		filepath.Join(links, "uImage"):   filepath.Join(ws, "bazel-bin", "devices", "board", "tftpboot", "uImage"),
		filepath.Join(links, "all"):      "/",
		filepath.Join(links, "ws-files"): ws,
	} {
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(ws, "WORKSPACE"), []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		switch k {
		case "BUILD_WORKSPACE_DIRECTORY", "BUILD_WORKING_DIRECTORY":
			return ws
		}
		return ""
	}

	addr, _ := serveCommand(t, []string{"-listen", "127.0.0.1:0", "-a", "127.0.0.1", "bazel-bin/devices/board/tftpboot"}, env)
	if got, e := fetch(t, addr, "uImage"); e != nil || got != "kernel" {
		t.Errorf("bazel-bin/devices/board/tftpboot/uImage: got %q, %v", got, e)
	}

	addr, stderr := serveCommand(t, []string{"-listen", "127.0.0.1:0", "-a", "127.0.0.1", links}, env)
	if got, e := fetch(t, addr, "uImage"); e != nil || got != "kernel" {
		t.Errorf("link to bazel-bin/.../uImage: got %q, %v", got, e)
	}
	for _, name := range []string{"all/etc/passwd", "ws-files/WORKSPACE"} {
		if got, e := fetch(t, addr, name); e == nil || e.Code != tftp.ErrAccess {
			t.Errorf("%s: got %q, %v; want an access violation", name, got, e)
		}
	}
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(stderr.String(), "file=ws-files/WORKSPACE"); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log line for ws-files/WORKSPACE:\n%s", stderr)
		}
	}
	if got := stderr.String(); strings.Count(got, "refused: symbolic link leads outside") != 2 {
		t.Errorf("want one log line per refused link:\n%s", got)
	}
}
