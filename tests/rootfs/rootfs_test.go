// Package rootfs checks the qemu image's root filesystem against its
// manifest: unsquashfs (Debian's squashfs-tools) lists exactly the manifest,
// the expected files are there, and writing the image again from the same
// inputs in other directories gives the same bytes.
package rootfs

import (
	"bytes"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/fsspec"

	"github.com/google/go-cmp/cmp"
)

var (
	image      = flag.String("image", "", "rootpath of the squashfs image")
	manifest   = flag.String("manifest", "", "rootpath of its manifest")
	mksquashfs = flag.String("mksquashfs", "", "rootpath of //tools:mksquashfs")
	glManifest = flag.String("gl_ar750_manifest", "", "rootpath of //devices/gl-ar750:manifest")
	// The arguments are the rootpaths of the files the manifest's sources
	// name.
)

func readManifest(t *testing.T) []fsspec.Entry {
	t.Helper()
	return readManifestFile(t, *manifest)
}

func readManifestFile(t *testing.T, rootpath string) []fsspec.Entry {
	t.Helper()
	f, err := os.Open(runfiles.Path(t, rootpath))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	entries, err := fsspec.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

// listing is one line of `unsquashfs -lln`, or the same made from a
// manifest entry.
type listing struct {
	Path, Perm, Owner, Size, Target string
}

func fromManifest(entries []fsspec.Entry) []listing {
	var out []listing
	for _, e := range entries {
		l := listing{Path: e.Path, Perm: e.LsMode(), Owner: fmt.Sprintf("%d/%d", e.UID, e.GID)}
		switch e.Type {
		case fsspec.File:
			l.Size = fmt.Sprint(e.Size)
		case fsspec.Symlink:
			l.Size, l.Target = fmt.Sprint(len(e.Target)), e.Target
		case fsspec.CharDev, fsspec.BlockDev:
			l.Size = fmt.Sprintf("%d,%d", e.Major, e.Minor)
		}
		out = append(out, l)
	}
	return out
}

var lineRE = regexp.MustCompile(`^(\S{10}) (\d+/\d+) +(\d+|\d+, *\d+) (\d{4}-\d\d-\d\d \d\d:\d\d) squashfs-root(.*?)(?: -> (.*))?$`)

func fromUnsquashfs(t *testing.T, img string) []listing {
	t.Helper()
	out, err := exec.Command("unsquashfs", "-lln", img).Output()
	if err != nil {
		t.Fatalf("unsquashfs -lln %s: %v (install the Debian package squashfs-tools)", img, err)
	}
	var ls []listing
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unsquashfs line not understood: %q", line)
		}
		if m[4] != "2024-01-01 00:00" {
			t.Errorf("%s: time %s, want the fixed SOURCE_DATE_EPOCH time 2024-01-01 00:00", m[5], m[4])
		}
		l := listing{Path: m[5], Perm: m[1], Owner: m[2], Size: strings.ReplaceAll(m[3], " ", ""), Target: m[6]}
		if l.Path == "" {
			l.Path = "/"
		}
		if l.Perm[0] == 'd' {
			l.Size = "" // a squashfs directory's size is its own bookkeeping
		}
		ls = append(ls, l)
	}
	return ls
}

func TestUnsquashfsListsManifest(t *testing.T) {
	want := fromManifest(readManifest(t))
	got := fromUnsquashfs(t, runfiles.Path(t, *image))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("unsquashfs -lln (+) differs from the manifest (-):\n%s", diff)
	}
}

// The files every image must have, with their kind.
func TestManifestHasBaseSystem(t *testing.T) {
	byPath := map[string]fsspec.Entry{}
	for _, e := range readManifest(t) {
		byPath[e.Path] = e
	}
	for _, w := range []struct {
		path   string
		typ    fsspec.Type
		origin string
	}{
		{"/sbin/init", fsspec.File, "//userland/init:rootfs"},
		{"/sbin/rc", fsspec.Symlink, "//userland/init:rootfs"},
		{"/sbin/poweroff", fsspec.Symlink, "//userland/init:rootfs"},
		{"/bin/execlineb", fsspec.Symlink, "//userland/init:rootfs"},
		{"/bin/busybox", fsspec.File, "//userland/busybox:busybox"},
		{"/bin/sh", fsspec.Symlink, "//userland/busybox:busybox"},
		{"/sbin/syslogd", fsspec.Symlink, "//userland/busybox:busybox"},
		{"/etc/svc/db", fsspec.File, "//devices/qemu:services"},
		{"/etc/hosts", fsspec.File, "//devices/qemu:etc"},
		{"/etc/passwd", fsspec.File, "//devices/qemu:etc"},
		{"/etc/group", fsspec.File, "//devices/qemu:etc"},
		{"/etc/hostname", fsspec.File, "//devices/qemu:etc"},
		{"/dev/console", fsspec.CharDev, "//devices/qemu:etc"},
		{"/proc", fsspec.Dir, "//devices/qemu:etc"},
		{"/tmp", fsspec.Dir, "//devices/qemu:etc"},
	} {
		e, ok := byPath[w.path]
		if !ok {
			t.Errorf("%s is not in the manifest", w.path)
			continue
		}
		if e.Type != w.typ || e.Origin != w.origin {
			t.Errorf("%s: %s from %s, want %s from %s", w.path, e.Type, e.Origin, w.typ, w.origin)
		}
	}
	// Nothing a device does not need.
	for p, e := range byPath {
		if strings.HasPrefix(p, "/include/") || strings.HasPrefix(p, "/usr/include/") || strings.HasSuffix(p, ".a") || strings.Contains(p, "/man/") {
			t.Errorf("%s (from %s) is a header, library archive or manual page", p, e.Origin)
		}
	}
}

// The gl-ar750's gateway configuration: the packages and files its
// services need are in the image because the services name them.
func TestServicesPullInPackages(t *testing.T) {
	byPath := map[string]fsspec.Entry{}
	for _, e := range readManifestFile(t, *glManifest) {
		byPath[e.Path] = e
	}
	for _, w := range []struct {
		path   string
		typ    fsspec.Type
		mode   uint32
		origin string
	}{
		{"/usr/share/udhcpc/default.script", fsspec.File, 0o755, "//userland/busybox:udhcpc_script"}, // dhcp_client
		{"/etc/resolv.conf", fsspec.Symlink, 0o777, "//userland/busybox:udhcpc_script"},
		{"/sbin/udhcpc", fsspec.Symlink, 0o777, "//userland/busybox:busybox"},
		{"/usr/sbin/ntpd", fsspec.Symlink, 0o777, "//userland/busybox:busybox"}, // ntp_client
	} {
		e, ok := byPath[w.path]
		if !ok {
			t.Errorf("%s is not in the gl-ar750 image", w.path)
			continue
		}
		if e.Type != w.typ || e.Mode != w.mode || e.Origin != w.origin {
			t.Errorf("%s: %s %#o from %s, want %s %#o from %s", w.path, e.Type, e.Mode, e.Origin, w.typ, w.mode, w.origin)
		}
	}
}

// The image written again from the same inputs, copied to two other
// directories, is byte for byte the image Bazel built.
func TestImageReproducible(t *testing.T) {
	entries := readManifest(t)
	built := runfiles.Read(t, *image)
	// The manifest names sources by exec path (bazel-out/CONFIG/bin/P);
	// the runfiles hold them at P.
	byShort := map[string]string{}
	for _, rp := range flag.Args() {
		p := runfiles.Path(t, rp)
		filepath.WalkDir(p, func(f string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				rel, _ := filepath.Rel(p, f)
				byShort[filepath.Join(rp, rel)] = f
			}
			return nil
		})
	}
	execPath := regexp.MustCompile(`^bazel-out/[^/]+/bin/`)
	for _, dir := range []string{t.TempDir(), filepath.Join(t.TempDir(), "another", "place")} {
		var moved []fsspec.Entry
		for _, e := range entries {
			if e.Type == fsspec.File {
				src, ok := byShort[execPath.ReplaceAllString(e.Source, "")]
				if !ok {
					t.Fatalf("%s: source %s is not among the inputs", e.Path, e.Source)
				}
				data, err := os.ReadFile(src)
				if err != nil {
					t.Fatal(err)
				}
				e.Source = filepath.Join(dir, "src", e.Path)
				os.MkdirAll(filepath.Dir(e.Source), 0o755)
				if err := os.WriteFile(e.Source, data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			moved = append(moved, e)
		}
		var b bytes.Buffer
		if err := fsspec.Encode(&b, moved); err != nil {
			t.Fatal(err)
		}
		m := filepath.Join(dir, "manifest.json")
		os.WriteFile(m, b.Bytes(), 0o644)
		out := filepath.Join(dir, "rootfs.squashfs")
		cmd := exec.Command(runfiles.Path(t, *mksquashfs), "-manifest", m, "-o", out, "-mkfs-time", "1704067200")
		cmd.Dir = dir
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mksquashfs in %s: %v\n%s", dir, err, msg)
		}
		again, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, built) {
			t.Errorf("image written in %s (%d bytes) differs from the one Bazel built (%d bytes)", dir, len(again), len(built))
		}
	}
}
