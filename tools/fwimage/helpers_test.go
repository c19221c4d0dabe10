package main

import (
	"bytes"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/tools/uimage/legacy"
)

// tool fails the test if a Debian tool the test needs is missing: these
// checks must not pass silently on a machine without them.
func tool(t *testing.T, name, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s not found on PATH: install Debian's %s", name, pkg)
	}
}

// command runs a tool and returns its stdout.
func command(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// boardDTB compiles testdata/board.dts with dtc into dir.
func boardDTB(t *testing.T, dir string) string {
	t.Helper()
	tool(t, "dtc", "device-tree-compiler")
	out := filepath.Join(dir, "board.dtb")
	command(t, "dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out, filepath.Join("testdata", "board.dts"))
	return out
}

// noise is deterministic incompressible data.
func noise(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// fakeUImage is a valid uImage of exactly size bytes.
func fakeUImage(size int) []byte {
	h := legacy.Header{Load: 0x80060000, Entry: 0x80060000, OS: legacy.OSLinux, Arch: legacy.ArchMIPS, Type: legacy.TypeKernel, Comp: legacy.CompLZMA}
	h.SetName("test kernel")
	return legacy.Encode(h, noise(1, size-legacy.HeaderSize))
}

// fakeSquashfs starts with the squashfs magic; fwimage looks no further.
func fakeSquashfs(size int) []byte {
	return append([]byte("hsqs"), noise(2, size-4)...)
}

// write writes data to dir/name and returns the path.
func write(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runOK runs fwimage and fails the test unless it exits 0.
func runOK(t *testing.T, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("fwimage %s: exit %d\n%s", strings.Join(args, " "), code, stderr.String())
	}
}

// runFail runs fwimage, wants exit code want and returns stderr.
func runFail(t *testing.T, want int, args ...string) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != want {
		t.Fatalf("fwimage %s: exit %d, want %d\n%s", strings.Join(args, " "), code, want, stderr.String())
	}
	return stderr.String()
}

// contains reports every string of want that s lacks.
func contains(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, s)
		}
	}
}
