package fsspec

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecode(t *testing.T) {
	in := `[
	  {"path": "/usr/bin/env", "type": "symlink", "mode": 511, "target": "/bin/busybox"},
	  {"path": "/bin/busybox", "type": "file", "mode": 2541, "source": "out/busybox"},
	  {"path": "/bin", "type": "dir", "mode": 493, "uid": 1, "gid": 2},
	  {"path": "/bin/busybox", "type": "file", "mode": 2541, "source": "out/busybox", "size": 9, "origin": "//b"}
	]`
	got, err := Decode(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Path: "/", Type: Dir, Mode: 0o755, index: -1},
		{Path: "/bin", Type: Dir, Mode: 0o755, UID: 1, GID: 2, index: 2},
		{Path: "/bin/busybox", Type: File, Mode: 0o4755, Source: "out/busybox", index: 1},
		{Path: "/usr", Type: Dir, Mode: 0o755, index: -1},
		{Path: "/usr/bin", Type: Dir, Mode: 0o755, index: -1},
		{Path: "/usr/bin/env", Type: Symlink, Mode: 0o777, Target: "/bin/busybox", index: 0},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(Entry{})); diff != "" {
		t.Errorf("Decode (-want +got):\n%s", diff)
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{`{}`, "cannot unmarshal object"},
		{`[] []`, "data after the array"},
		{`[{"path": "/a", "type": "dir", "mode": 493, "owner": 0}]`, `unknown field "owner"`},
		{`[{"path": "/a", "type": "file", "mode": 420}]`, "manifest entry 1 (/a): file without source"},
		{`[{"path": "/a", "type": "dir", "mode": 420, "source": "x"}]`, "manifest entry 1 (/a): source is only for files"},
		{`[{"path": "/a", "type": "fifo", "mode": 420, "major": 1}]`, "manifest entry 1 (/a): major/minor are only for devices"},
		{`[{"path": "/a", "type": "chardev", "mode": 420, "major": 4096}]`, "manifest entry 1 (/a): device 4096,0 out of range"},
		{`[{"path": "/a", "type": "file", "mode": 420, "source": "s", "target": "t"}]`, "manifest entry 1 (/a): target is only for symlinks"},
		{`[{"path": "/", "type": "file", "mode": 420, "source": "s"}]`, "manifest entry 1 (/): / must be a dir"},
		{`[{"path": "/a/", "type": "dir", "mode": 493}]`, `manifest entry 1 (/a/): path is not clean (want "/a")`},
		{`[{"path": "/a/../b", "type": "dir", "mode": 493}]`, "path is not clean"},
		{`[{"path": "/` + strings.Repeat("x", 256) + `", "type": "dir", "mode": 493}]`, "name longer than 255 bytes"},
		{`[{"path": "/a", "type": "dir", "mode": 16877}]`, "mode 040755 has bits outside 07777"},
		{`[{"path": "/a", "type": "dir", "mode": 493}, {"path": "/a", "type": "file", "mode": 493, "source": "x"}]`,
			"manifest entry 1 (/a) and manifest entry 2 (/a) disagree"},
		{`[{"path": "/e", "type": "file", "mode": 420, "source": "x", "origin": "//p:a"}, {"path": "/e", "type": "file", "mode": 420, "source": "y", "origin": "//p:b"}]`,
			"manifest entry 1 (/e) from //p:a and manifest entry 2 (/e) from //p:b disagree"},
		{`[{"path": "/a", "type": "file", "mode": 420, "source": "x", "size": -1}]`, "negative size"},
		{`[{"path": "/a", "type": "symlink", "mode": 511, "target": "b"}, {"path": "/a/c", "type": "fifo", "mode": 420}]`,
			"manifest entry 2 (/a/c): parent manifest entry 1 (/a) is a symlink, not a dir"},
	} {
		_, err := Decode(strings.NewReader(tc.in))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Decode(%.60s): error %v, want %q", tc.in, err, tc.want)
		}
	}
}

func TestLsMode(t *testing.T) {
	for _, tc := range []struct {
		typ  Type
		mode uint32
		want string
	}{
		{Dir, 0o755, "drwxr-xr-x"},
		{Dir, 0o1777, "drwxrwxrwt"},
		{File, 0o4755, "-rwsr-xr-x"},
		{File, 0o2644, "-rw-r-Sr--"},
		{CharDev, 0o600, "crw-------"},
	} {
		if got := (Entry{Type: tc.typ, Mode: tc.mode}).LsMode(); got != tc.want {
			t.Errorf("LsMode of %s %#o = %s, want %s", tc.typ, tc.mode, got, tc.want)
		}
	}
}
