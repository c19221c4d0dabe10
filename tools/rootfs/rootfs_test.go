package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/tools/fsspec"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestExcluded(t *testing.T) {
	globs := []string{"include/**", "*.a", "share/man/**", "lib/pkgconfig/*.pc"}
	for _, tc := range []struct {
		rel  string
		want bool
	}{
		{"include", true},
		{"include/stdio.h", true},
		{"includes/x", false},
		{"lib/libc.a", true},
		{"usr/lib/libz.a", true},
		{"lib/libc.so", false},
		{"share/man/man1/ls.1", true},
		{"share/mandoc", false},
		{"lib/pkgconfig/z.pc", true},
		{"bin/busybox", false},
	} {
		if got := excluded(tc.rel, globs); got != tc.want {
			t.Errorf("excluded(%q) = %v, want %v", tc.rel, got, tc.want)
		}
	}
}

func write(t *testing.T, file, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(content), 0o555); err != nil {
		t.Fatal(err)
	}
}

func TestPkgFragment(t *testing.T) {
	dir := t.TempDir()
	staging := filepath.Join(dir, "staging")
	out := filepath.Join(dir, "out")
	write(t, filepath.Join(staging, "bin/busybox"), "\x7fELF fake")
	write(t, filepath.Join(staging, "usr/share/udhcpc/default.script"), "#!/bin/sh\n")
	write(t, filepath.Join(staging, "etc/motd"), "hello\n")
	write(t, filepath.Join(staging, "include/x.h"), "int x;\n")
	write(t, filepath.Join(staging, "share/busybox/busybox.links"), "/bin/sh\n\n/sbin/ip\n/bin/busybox\n")
	if err := os.Symlink("busybox", filepath.Join(staging, "bin/ash")); err != nil {
		t.Fatal(err)
	}
	got, err := pkgFragment(pkgOptions{
		origin:  "//userland/busybox",
		staging: staging,
		out:     out,
		exclude: []string{"include/**", "share/busybox/**"},
		links:   []string{"share/busybox/busybox.links=/bin/busybox"},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := "//userland/busybox"
	want := []fsspec.Entry{
		{Path: "/bin/ash", Type: fsspec.Symlink, Mode: 0o777, Target: "busybox", Origin: o},
		{Path: "/bin/busybox", Type: fsspec.File, Mode: 0o755, Source: filepath.Join(out, "bin/busybox"), Size: 9, Origin: o},
		{Path: "/etc/motd", Type: fsspec.File, Mode: 0o644, Source: filepath.Join(out, "etc/motd"), Size: 6, Origin: o},
		{Path: "/usr/share/udhcpc/default.script", Type: fsspec.File, Mode: 0o755, Source: filepath.Join(out, "usr/share/udhcpc/default.script"), Size: 10, Origin: o},
		{Path: "/bin/sh", Type: fsspec.Symlink, Mode: 0o777, Target: "/bin/busybox", Origin: o},
		{Path: "/sbin/ip", Type: fsspec.Symlink, Mode: 0o777, Target: "/bin/busybox", Origin: o},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreUnexported(fsspec.Entry{})); diff != "" {
		t.Errorf("pkgFragment (-want +got):\n%s", diff)
	}
	if b, err := os.ReadFile(filepath.Join(out, "etc/motd")); err != nil || string(b) != "hello\n" {
		t.Errorf("copied etc/motd = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(out, "include")); !os.IsNotExist(err) {
		t.Errorf("excluded include/ was copied: %v", err)
	}
}

func TestPkgLinkErrors(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "s/links"), "bin/relative\n")
	for _, tc := range []struct{ links, want string }{
		{"links", "want LIST=TARGET"},
		{"links=bin/busybox", "want LIST=TARGET"},
		{"missing=/bin/busybox", "no such file"},
		{"links=/bin/busybox", `links:1: "bin/relative" is not a clean absolute path`},
	} {
		_, err := pkgFragment(pkgOptions{origin: "//p", staging: filepath.Join(dir, "s"), out: filepath.Join(dir, "o"), links: []string{tc.links}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("-links %q: error %v, want %q", tc.links, err, tc.want)
		}
	}
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "c")
	write(t, a, "aaaa")
	write(t, b, "aaaa") // same content as a
	write(t, c, "cc")
	frag1 := []fsspec.Entry{
		{Path: "/etc/hosts", Type: fsspec.File, Mode: 0o644, Source: a, Origin: "//p:etc"},
		{Path: "/bin/sh", Type: fsspec.Symlink, Mode: 0o777, Target: "busybox", Origin: "//p:bb"},
	}
	frag2 := []fsspec.Entry{
		{Path: "/etc/hosts", Type: fsspec.File, Mode: 0o644, Source: b, Origin: "//q:etc"},
		{Path: "/etc/x", Type: fsspec.File, Mode: 0o600, Source: c, Origin: "//q:etc"},
	}
	got, err := merge([][]fsspec.Entry{frag1, frag2})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	var sizes []int64
	for _, e := range got {
		paths = append(paths, e.Path)
		sizes = append(sizes, e.Size)
	}
	if diff := cmp.Diff([]string{"/", "/bin", "/bin/sh", "/etc", "/etc/hosts", "/etc/x"}, paths); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{0, 0, 0, 0, 4, 2}, sizes); diff != "" {
		t.Errorf("sizes (-want +got):\n%s", diff)
	}
	if got[4].Origin != "//p:etc" {
		t.Errorf("/etc/hosts origin %q, want the first fragment's", got[4].Origin)
	}
}

func TestMergeConflicts(t *testing.T) {
	dir := t.TempDir()
	a, c := filepath.Join(dir, "a"), filepath.Join(dir, "c")
	write(t, a, "aaaa")
	write(t, c, "cc")
	for _, tc := range []struct {
		name  string
		x, y  fsspec.Entry
		wants []string
	}{
		{
			"content",
			fsspec.Entry{Path: "/etc/hosts", Type: fsspec.File, Mode: 0o644, Source: a, Origin: "//devices/qemu:etc"},
			fsspec.Entry{Path: "/etc/hosts", Type: fsspec.File, Mode: 0o644, Source: c, Origin: "//userland/dnsmasq"},
			[]string{"/etc/hosts is claimed differently by //devices/qemu:etc (file, mode 0644, 4 bytes", "and by //userland/dnsmasq (file, mode 0644, 2 bytes"},
		},
		{
			"type",
			fsspec.Entry{Path: "/sbin/poweroff", Type: fsspec.Symlink, Mode: 0o777, Target: "init", Origin: "//userland/init"},
			fsspec.Entry{Path: "/sbin/poweroff", Type: fsspec.Symlink, Mode: 0o777, Target: "/bin/busybox", Origin: "//userland/busybox"},
			[]string{"/sbin/poweroff is claimed differently by //userland/init (symlink to init) and by //userland/busybox (symlink to /bin/busybox)"},
		},
		{
			"mode",
			fsspec.Entry{Path: "/var", Type: fsspec.Dir, Mode: 0o755, Origin: "//a"},
			fsspec.Entry{Path: "/var", Type: fsspec.Dir, Mode: 0o1777, Origin: "//b"},
			[]string{"/var is claimed differently by //a (dir, mode 0755) and by //b (dir, mode 01777)"},
		},
		{
			"missing source",
			fsspec.Entry{Path: "/x", Type: fsspec.File, Mode: 0o644, Source: filepath.Join(dir, "nope"), Origin: "//a"},
			fsspec.Entry{Path: "/y", Type: fsspec.Dir, Mode: 0o755, Origin: "//b"},
			[]string{"/x (from //a): stat ", "no such file"},
		},
	} {
		_, err := merge([][]fsspec.Entry{{tc.x}, {tc.y}})
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		for _, w := range tc.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error\n%v\nwant it to contain %q", tc.name, err, w)
			}
		}
	}
}

func TestReport(t *testing.T) {
	entries := []fsspec.Entry{
		{Path: "/", Type: fsspec.Dir},
		{Path: "/bin/busybox", Type: fsspec.File, Size: 1200000, Origin: "//userland/busybox"},
		{Path: "/sbin/init", Type: fsspec.File, Size: 2400000, Origin: "//userland/init"},
		{Path: "/etc/hosts", Type: fsspec.File, Size: 400000, Origin: "//devices/qemu:etc"},
		{Path: "/etc/passwd", Type: fsspec.File, Size: 100, Origin: "//devices/qemu:etc"},
	}
	var b bytes.Buffer
	writeReport(&b, entries, 2)
	want := `Root filesystem: 5 entries, 4 files, 4,000,100 bytes of file content (before compression)

Largest packages:
     2,400,000   60.0%     1 files  //userland/init
     1,200,000   30.0%     1 files  //userland/busybox

Largest files:
     2,400,000   60.0%  /sbin/init  (//userland/init)
     1,200,000   30.0%  /bin/busybox  (//userland/busybox)
`
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
}

func TestNotes(t *testing.T) {
	var b bytes.Buffer
	writeNotes(&b, nil)
	if b.Len() != 0 {
		t.Errorf("no notes wrote %q, want nothing", b.String())
	}
	writeNotes(&b, []string{"no SSH server: no keys", "second"})
	want := "Notes:\n  - no SSH server: no keys\n  - second\n\n"
	if diff := cmp.Diff(want, b.String()); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

func TestCommas(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1000: "-1,000"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSandboxLink(t *testing.T) {
	for _, tc := range []struct {
		target, path string
		want         bool
	}{
		{"/x/execroot/ws/bazel-out/k8/bin/p/staging/bin/busybox", "bazel-out/k8/bin/p/staging/bin/busybox", true},
		{"/bin/busybox", "bazel-out/k8/bin/p/staging/bin/sh", false},
		{"busybox", "bazel-out/k8/bin/p/staging/bin/sh", false},
		{"/x/staging/bin/busybox", "/x/staging/bin/busybox", false},
	} {
		if got := sandboxLink(tc.target, tc.path); got != tc.want {
			t.Errorf("sandboxLink(%q, %q) = %v, want %v", tc.target, tc.path, got, tc.want)
		}
	}
}
