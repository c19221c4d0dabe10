package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/fsspec"
)

var mksquashfsBin = flag.String("mksquashfs", "", "the //tools:mksquashfs binary, whose images the tests' must equal")

// TestShippedEncoder checks that these tests write the images the shipped
// binary writes, byte for byte, so that the round trips below cover its xz
// encoder (liblzma, by build tag) and not only the pure Go one.
func TestShippedEncoder(t *testing.T) {
	if *mksquashfsBin == "" {
		t.Fatal("-mksquashfs: the path of the //tools:mksquashfs binary (bazel test passes it)")
	}
	bin := runfiles.Path(t, *mksquashfsBin)
	tr := basicTree()
	dir := t.TempDir()
	manifest := tr.materialize(t, dir)
	for _, comp := range []string{"xz", "gzip"} {
		args := []string{"-comp", comp, "-mkfs-time", "1700000000"}
		ours := filepath.Join(dir, "ours-"+comp)
		mkfs(t, manifest, ours, args...)
		shipped := filepath.Join(dir, "shipped-"+comp)
		cmd := exec.Command(bin, append([]string{"-manifest", manifest, "-o", shipped}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", bin, err, out)
		}
		a, err := os.ReadFile(ours)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(shipped)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("-comp %s: the test's image (%d bytes) differs from the shipped binary's (%d bytes): the tests do not run its encoder", comp, len(a), len(b))
		}
	}
}

// unsquashfs returns the path of Debian's unsquashfs. The round trips are
// the tests that matter, so its absence fails rather than skips.
func unsquashfs(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"unsquashfs", "/usr/bin/unsquashfs", "/usr/sbin/unsquashfs"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	t.Fatal("bazwrt/tools/mksquashfs: the tests need unsquashfs (Debian package squashfs-tools: apt-get install squashfs-tools)")
	return ""
}

// tree is a test tree: entries with file contents; sources are filled in by
// materialize.
type tree struct {
	entries  []fsspec.Entry
	contents map[string][]byte // by entry path
}

func (tr *tree) file(p string, mode uint32, uid, gid uint32, content []byte) {
	if tr.contents == nil {
		tr.contents = map[string][]byte{}
	}
	tr.entries = append(tr.entries, fsspec.Entry{Path: p, Type: fsspec.File, Mode: mode, UID: uid, GID: gid})
	tr.contents[p] = content
}

func (tr *tree) add(e fsspec.Entry) { tr.entries = append(tr.entries, e) }

// materialize writes the contents under dir, and the manifest, whose path
// it returns.
func (tr *tree) materialize(t *testing.T, dir string) string {
	t.Helper()
	entries := append([]fsspec.Entry(nil), tr.entries...)
	for i, e := range entries {
		if e.Type != fsspec.File {
			continue
		}
		src := filepath.Join(dir, "src", strconv.Itoa(i))
		if err := os.MkdirAll(filepath.Dir(src), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(src, tr.contents[e.Path], 0o644); err != nil {
			t.Fatal(err)
		}
		entries[i].Source = src
	}
	var b bytes.Buffer
	if err := fsspec.Encode(&b, entries); err != nil {
		t.Fatal(err)
	}
	m := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(m, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return m
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// textBytes is compressible: numbered lines.
func textBytes(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "line %d of a compressible file\n", i)
	}
	return b.Bytes()[:n]
}

func basicTree() *tree {
	tr := &tree{}
	tr.file("/bin/busybox", 0o4755, 0, 0, textBytes(300_000))
	tr.file("/bin/setgid", 0o2711, 0, 50, []byte("#!/bin/sh\n"))
	tr.file("/bin/nox", 0o6644, 0, 0, []byte("S and S\n"))
	tr.file("/etc/passwd", 0o644, 0, 0, []byte("root:x:0:0::/root:/bin/sh\n"))
	tr.file("/etc/empty", 0o600, 1000, 1000, nil)
	tr.file("/lib/random", 0o644, 0, 0, randomBytes(1, 150_000))
	tr.file("/lib/exact", 0o644, 0, 0, textBytes(2*131072)) // whole blocks, no fragment
	tr.file("/lib/copy", 0o644, 0, 0, textBytes(300_000))   // a duplicate of busybox
	tr.file("/lib/sparse", 0o644, 0, 0, append(make([]byte, 3*131072), "end"...))
	tr.add(fsspec.Entry{Path: "/bin/sh", Type: fsspec.Symlink, Mode: 0o777, Target: "busybox"})
	tr.add(fsspec.Entry{Path: "/usr/bin/env", Type: fsspec.Symlink, Mode: 0o777, Target: "/bin/busybox"})
	tr.add(fsspec.Entry{Path: "/lib/dangling", Type: fsspec.Symlink, Mode: 0o777, Target: "../../no/such/file"})
	tr.add(fsspec.Entry{Path: "/dev/console", Type: fsspec.CharDev, Mode: 0o600, Major: 5, Minor: 1})
	tr.add(fsspec.Entry{Path: "/dev/mtdblock3", Type: fsspec.BlockDev, Mode: 0o660, GID: 6, Major: 31, Minor: 3})
	tr.add(fsspec.Entry{Path: "/run/initctl", Type: fsspec.FIFO, Mode: 0o600})
	tr.add(fsspec.Entry{Path: "/tmp", Type: fsspec.Dir, Mode: 0o1777})
	tr.add(fsspec.Entry{Path: "/var/empty", Type: fsspec.Dir, Mode: 0o555, UID: 2, GID: 2})
	tr.add(fsspec.Entry{Path: "/", Type: fsspec.Dir, Mode: 0o755})
	return tr
}

// hardTree has what stresses the format: a directory of more than 256
// entries with long names (a listing over 64 KiB, so an extended directory
// inode, and inode and directory tables of several metadata blocks), a deep
// path, many owners (an id table of several blocks).
func hardTree() *tree {
	tr := &tree{}
	for i := range 300 {
		name := fmt.Sprintf("/many/%03d-%s", i, strings.Repeat("x", 240))
		tr.file(name, 0o644, uint32(i*7), uint32(100_000+i), textBytes(i*37))
	}
	for i := range 2100 {
		tr.add(fsspec.Entry{Path: fmt.Sprintf("/owners/%04d", i), Type: fsspec.FIFO, Mode: 0o600, UID: uint32(i), GID: uint32(1 << 20)})
	}
	deep := ""
	for i := range 40 {
		deep += fmt.Sprintf("/d%d", i)
	}
	tr.file(deep+"/leaf", 0o755, 0, 0, []byte("deep\n"))
	tr.file("/"+strings.Repeat("n", 255), 0o644, 0, 0, []byte("longest name\n"))
	return tr
}

// listing is one line of `unsquashfs -lln`.
type listing struct {
	Mode   string
	Owner  string
	Size   string // bytes, or "major,minor" for devices
	Target string
}

var lineRE = regexp.MustCompile(`^(\S{10}) (\d+/\d+) +(\d+|\d+, *\d+) \d{4}-\d\d-\d\d \d\d:\d\d squashfs-root(.*?)(?: -> (.*))?$`)

// list runs `unsquashfs -lln`, the listing of -lls with numeric owners.
func list(t *testing.T, image string) map[string]listing {
	t.Helper()
	out, err := exec.Command(unsquashfs(t), "-lln", image).CombinedOutput()
	if err != nil {
		t.Fatalf("unsquashfs -lln: %v\n%s", err, out)
	}
	got := map[string]listing{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("unsquashfs -lln: unexpected line %q", line)
		}
		p := m[4]
		if p == "" {
			p = "/"
		}
		size := strings.ReplaceAll(m[3], " ", "")
		if m[1][0] == 'd' {
			size = "" // the listing's size, not in the manifest
		}
		got[p] = listing{Mode: m[1], Owner: m[2], Size: size, Target: m[5]}
	}
	return got
}

func want(t *testing.T, tr *tree) map[string]listing {
	t.Helper()
	entries := append([]fsspec.Entry(nil), tr.entries...)
	for i := range entries {
		if entries[i].Type == fsspec.File {
			entries[i].Source = "unused"
		}
	}
	entries, err := fsspec.Complete(entries)
	if err != nil {
		t.Fatal(err)
	}
	w := map[string]listing{}
	for _, e := range entries {
		l := listing{Mode: e.LsMode(), Owner: fmt.Sprintf("%d/%d", e.UID, e.GID)}
		switch e.Type {
		case fsspec.File:
			l.Size = strconv.Itoa(len(tr.contents[e.Path]))
		case fsspec.Symlink:
			l.Size, l.Target = strconv.Itoa(len(e.Target)), e.Target
		case fsspec.FIFO:
			l.Size = "0"
		case fsspec.CharDev, fsspec.BlockDev:
			// unsquashfs's listing prints the stored number >> 8 and & 0xff,
			// which is major and minor for minor < 256.
			l.Size = fmt.Sprintf("%d,%d", e.Major, e.Minor)
		}
		w[e.Path] = l
	}
	return w
}

// extract extracts the files and symlinks (device nodes need root) and
// compares them with the tree.
func extract(t *testing.T, image string, tr *tree) {
	t.Helper()
	dir := t.TempDir()
	var names []string
	for _, e := range tr.entries {
		if e.Type == fsspec.File || e.Type == fsspec.Symlink {
			names = append(names, e.Path)
		}
	}
	ef := filepath.Join(dir, "extract")
	if err := os.WriteFile(ef, []byte(strings.Join(names, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	out, err := exec.Command(unsquashfs(t), "-no-xattrs", "-d", root, "-ef", ef, image).CombinedOutput()
	if err != nil && !onlyChownErrors(err, out) {
		t.Fatalf("unsquashfs -d: %v\n%s", err, out)
	}
	for _, e := range tr.entries {
		p := filepath.Join(root, e.Path)
		switch e.Type {
		case fsspec.File:
			got, err := os.ReadFile(p)
			if err != nil {
				t.Error(err)
			} else if !bytes.Equal(got, tr.contents[e.Path]) {
				t.Errorf("%s: extracted %d bytes differ from the %d of the source", e.Path, len(got), len(tr.contents[e.Path]))
			}
		case fsspec.Symlink:
			if got, err := os.Readlink(p); err != nil || got != e.Target {
				t.Errorf("%s: readlink = %q, %v; want %q", e.Path, got, err, e.Target)
			}
		}
	}
}

// onlyChownErrors reports whether unsquashfs failed only to give files
// their owners: as root in a user namespace (Bazel's sandbox) chown to an
// unmapped id fails, and unsquashfs exits with 2 for such non-fatal errors.
// The owners are checked in the listing instead.
func onlyChownErrors(err error, out []byte) bool {
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 {
		return false
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "set_attributes:") && !strings.Contains(line, "failed to change uid and gids") {
			return false
		}
		if strings.Contains(line, "FATAL") {
			return false
		}
	}
	return true
}

func mkfs(t *testing.T, manifest, image string, args ...string) {
	t.Helper()
	var stderr bytes.Buffer
	args = append([]string{"-manifest", manifest, "-o", image}, args...)
	if code := run(args, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("mksquashfs %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
	}
}

func TestRoundTrip(t *testing.T) {
	trees := map[string]*tree{"basic": basicTree(), "hard": hardTree()}
	for _, tc := range []struct {
		tree string
		args []string
	}{
		{"basic", []string{"-comp", "xz"}},
		{"basic", []string{"-comp", "gzip"}},
		{"basic", []string{"-comp", "xz", "-b", "4096", "-no-dedup"}},
		{"basic", []string{"-comp", "gzip", "-b", "1048576"}},
		{"hard", []string{"-comp", "xz"}},
		{"hard", []string{"-comp", "gzip", "-b", "8192"}},
	} {
		t.Run(tc.tree+strings.Join(tc.args, ""), func(t *testing.T) {
			tr := trees[tc.tree]
			dir := t.TempDir()
			image := filepath.Join(dir, "out.squashfs")
			mkfs(t, tr.materialize(t, dir), image, tc.args...)
			if diff := cmp.Diff(want(t, tr), list(t, image)); diff != "" {
				t.Errorf("unsquashfs -lln differs from the manifest (-want +got):\n%s", diff)
			}
			extract(t, image, tr)
		})
	}
}

func TestDeterministic(t *testing.T) {
	tr := basicTree()
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(cwd)
	var images [][]byte
	for range 2 {
		// Different directories, and different working directories.
		dir := t.TempDir()
		if err := os.Chdir(dir); err != nil {
			t.Fatal(err)
		}
		mkfs(t, tr.materialize(t, dir), "out.squashfs", "-mkfs-time", "1700000000")
		b, err := os.ReadFile("out.squashfs")
		if err != nil {
			t.Fatal(err)
		}
		images = append(images, b)
	}
	if !bytes.Equal(images[0], images[1]) {
		t.Error("two runs on the same tree gave different images")
	}
}

func TestMkfsTime(t *testing.T) {
	dir := t.TempDir()
	tr := &tree{}
	tr.file("/f", 0o644, 0, 0, []byte("x"))
	m := tr.materialize(t, dir)
	for _, tc := range []struct {
		env, flag string
		want      uint32
	}{
		{"", "", 0},
		{"1234567890", "", 1234567890},
		{"1234567890", "42", 42},
	} {
		t.Setenv("SOURCE_DATE_EPOCH", tc.env)
		image := filepath.Join(dir, "out.squashfs")
		var args []string
		if tc.flag != "" {
			args = []string{"-mkfs-time", tc.flag}
		}
		mkfs(t, m, image, args...)
		b, err := os.ReadFile(image)
		if err != nil {
			t.Fatal(err)
		}
		// The superblock's mkfs_time is at offset 8.
		if got := uint32(b[8]) | uint32(b[9])<<8 | uint32(b[10])<<16 | uint32(b[11])<<24; got != tc.want {
			t.Errorf("SOURCE_DATE_EPOCH=%q -mkfs-time %q: mkfs_time %d, want %d", tc.env, tc.flag, got, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		manifest any
		args     []string
		want     string
	}{
		{"missing source", []map[string]any{{"path": "/ok", "type": "dir", "mode": 0o755}, {"path": "/bin/x", "type": "file", "mode": 0o755, "source": filepath.Join(dir, "nope")}}, nil, "manifest entry 2 (/bin/x): source"},
		{"source is a dir", []map[string]any{{"path": "/x", "type": "file", "mode": 0o755, "source": dir}}, nil, "manifest entry 1 (/x): source " + dir + " is not a regular file"},
		{"bad mode", []map[string]any{{"path": "/x", "type": "file", "mode": 0o100755, "source": src}}, nil, "manifest entry 1 (/x): mode"},
		{"relative path", []map[string]any{{"path": "x", "type": "dir", "mode": 0o755}}, nil, "manifest entry 1 (x): path is not absolute"},
		{"unclean path", []map[string]any{{"path": "/a//b", "type": "dir", "mode": 0o755}}, nil, "manifest entry 1 (/a//b): path is not clean"},
		{"disagreeing duplicates", []map[string]any{{"path": "/d", "type": "dir", "mode": 0o755}, {"path": "/d", "type": "dir", "mode": 0o700}}, nil, "manifest entry 1 (/d) and manifest entry 2 (/d) disagree"},
		{"unknown field", []map[string]any{{"path": "/d", "type": "dir", "modes": 0o755}}, nil, `unknown field "modes"`},
		{"unknown type", []map[string]any{{"path": "/d", "type": "socket"}}, nil, `manifest entry 1 (/d): unknown type "socket"`},
		{"symlink without target", []map[string]any{{"path": "/l", "type": "symlink", "mode": 0o777}}, nil, "manifest entry 1 (/l): symlink without target"},
		{"file under a file", []map[string]any{{"path": "/f", "type": "file", "mode": 0o644, "source": src}, {"path": "/f/g", "type": "file", "mode": 0o644, "source": src}}, nil, "manifest entry 2 (/f/g): parent manifest entry 1 (/f) is a file"},
		{"bad block size", []map[string]any{}, []string{"-b", "5000"}, "block size 5000"},
		{"bad compression", []map[string]any{}, []string{"-comp", "lzo"}, `unknown compression "lzo"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := json.Marshal(tc.manifest)
			if err != nil {
				t.Fatal(err)
			}
			m := filepath.Join(t.TempDir(), "m.json")
			if err := os.WriteFile(m, j, 0o644); err != nil {
				t.Fatal(err)
			}
			image := filepath.Join(t.TempDir(), "out.squashfs")
			var stderr bytes.Buffer
			args := append([]string{"-manifest", m, "-o", image}, tc.args...)
			if code := run(args, &bytes.Buffer{}, &stderr); code != 1 {
				t.Errorf("exit %d, want 1; stderr: %s", code, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.want)
			}
			if _, err := os.Stat(image); err == nil {
				t.Error("a failed run left an image behind")
			}
		})
	}
}
