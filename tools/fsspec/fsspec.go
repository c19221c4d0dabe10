// Package fsspec describes a file system tree to be written into an image,
// independently of the files on the build machine: the owner, mode and
// type of every entry come from the description, never from the host. The
// root-filesystem rules write it and tools/mksquashfs reads it. It is
// modelled on Monogon's fsspec and bazel-lib's mtree.
//
// A manifest is a JSON array of entries:
//
//	[
//	  {"path": "/bin", "type": "dir", "mode": 493},
//	  {"path": "/bin/busybox", "type": "file", "mode": 3565, "source": "bazel-out/.../busybox"},
//	  {"path": "/bin/sh", "type": "symlink", "mode": 511, "target": "busybox"},
//	  {"path": "/dev/console", "type": "chardev", "mode": 384, "major": 5, "minor": 1},
//	  {"path": "/run/initctl", "type": "fifo", "mode": 384, "uid": 0, "gid": 0}
//	]
//
// JSON has no octal numbers: "mode" is the decimal value of the permission
// bits, 0o4755 (setuid, rwxr-xr-x) being 2541. The type bits are not part of
// it. Directories implied by a path (/bin for /bin/busybox) get mode 0o755,
// owner 0:0, unless listed themselves. Sources are read from the path given,
// relative paths relative to the directory the tool runs in (the execroot,
// in a Bazel action). Symlink targets are stored verbatim and never
// resolved.
package fsspec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
)

// Type is the kind of an entry.
type Type string

// The entry types.
const (
	File     Type = "file"
	Dir      Type = "dir"
	Symlink  Type = "symlink"
	CharDev  Type = "chardev"
	BlockDev Type = "blockdev"
	FIFO     Type = "fifo"
)

// Entry is one file, directory, symlink, device node or FIFO.
type Entry struct {
	// Path is absolute and clean: "/", "/bin/busybox".
	Path string `json:"path"`
	Type Type   `json:"type"`
	// Mode holds the permission bits including setuid (0o4000), setgid
	// (0o2000) and sticky (0o1000); nothing above 0o7777.
	Mode uint32 `json:"mode"`
	UID  uint32 `json:"uid"`
	GID  uint32 `json:"gid"`
	// Source is the file with the content of a File.
	Source string `json:"source,omitempty"`
	// Target is the target of a Symlink, absolute or relative.
	Target string `json:"target,omitempty"`
	// Major and Minor are the numbers of a CharDev or BlockDev.
	Major uint32 `json:"major,omitempty"`
	Minor uint32 `json:"minor,omitempty"`
	// Size is the size of a File's content in bytes, as recorded by the
	// tool that wrote the manifest (the root filesystem's manifest has
	// it; writers of images read Source and do not trust it).
	Size int64 `json:"size,omitempty"`
	// Origin names what put the entry into the tree (a Bazel label such
	// as //userland/busybox), for size reports and for errors when two
	// fragments disagree about a path.
	Origin string `json:"origin,omitempty"`

	// index is the position in the manifest (from 0), for error messages;
	// -1 for implied directories.
	index int
}

// String names the entry in error messages: its position in the manifest
// (counting from 1) and its path.
func (e Entry) String() string {
	if e.index < 0 {
		return fmt.Sprintf("implied directory %s", e.Path)
	}
	return fmt.Sprintf("manifest entry %d (%s)", e.index+1, e.Path)
}

// LsMode renders the entry's type and mode as ls -l (and unsquashfs -ll)
// does: drwxr-xr-x, -rwsr-xr-x, drwxrwxrwt. Tests compare listings of
// written images with it.
func (e Entry) LsMode() string {
	b := []byte{lsType[e.Type]}
	for i := 0; i < 9; i++ {
		if e.Mode&(1<<(8-i)) != 0 {
			b = append(b, "rwxrwxrwx"[i])
		} else {
			b = append(b, '-')
		}
	}
	for _, s := range []struct {
		bit        uint32
		pos        int
		set, unset byte
	}{{0o4000, 3, 's', 'S'}, {0o2000, 6, 's', 'S'}, {0o1000, 9, 't', 'T'}} {
		if e.Mode&s.bit != 0 {
			if b[s.pos] == '-' {
				b[s.pos] = s.unset
			} else {
				b[s.pos] = s.set
			}
		}
	}
	return string(b)
}

var lsType = map[Type]byte{File: '-', Dir: 'd', Symlink: 'l', CharDev: 'c', BlockDev: 'b', FIFO: 'p'}

// MaxNameLen is the longest file name: Linux's NAME_MAX. Squashfs could
// store 256 bytes, but no other Linux file system could take such a name
// (unsquashfs fails to extract it).
const MaxNameLen = 255

// Decode reads a manifest and returns its entries, checked and completed
// as Complete does.
func Decode(r io.Reader) ([]Entry, error) {
	dec := json.NewDecoder(r)
	// A misspelt field ("modes") would otherwise silently give mode 0.
	dec.DisallowUnknownFields()
	var entries []Entry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("manifest: data after the array")
	}
	return Complete(entries)
}

// Encode writes entries as a manifest, one entry a line.
func Encode(w io.Writer, entries []Entry) error {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, e := range entries {
		j, err := json.Marshal(e)
		if err != nil {
			return err
		}
		b.Write(j)
		if i < len(entries)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	_, err := w.Write(b.Bytes())
	return err
}

// Complete checks entries and returns them sorted by path (byte order),
// with the implied directories, including "/", added and identical
// duplicates merged. Two entries for one path that disagree are an error
// naming both.
func Complete(entries []Entry) ([]Entry, error) {
	byPath := make(map[string]Entry, len(entries))
	var paths []string
	for i, e := range entries {
		e.index = i
		if err := check(e); err != nil {
			return nil, err
		}
		if prev, ok := byPath[e.Path]; ok {
			if !same(prev, e) {
				return nil, fmt.Errorf("%v%s and %v%s disagree: %+v vs %+v", prev, from(prev), e, from(e), describe(prev), describe(e))
			}
			continue
		}
		byPath[e.Path] = e
		paths = append(paths, e.Path)
	}
	// Add the implied parents.
	for _, p := range paths {
		for d := path.Dir(p); ; d = path.Dir(d) {
			if _, ok := byPath[d]; !ok {
				byPath[d] = Entry{Path: d, Type: Dir, Mode: 0o755, index: -1}
				paths = append(paths, d)
			}
			if d == "/" {
				break
			}
		}
	}
	if _, ok := byPath["/"]; !ok {
		byPath["/"] = Entry{Path: "/", Type: Dir, Mode: 0o755, index: -1}
		paths = append(paths, "/")
	}
	sort.Strings(paths)
	out := make([]Entry, 0, len(paths))
	for _, p := range paths {
		e := byPath[p]
		if p != "/" {
			if parent := byPath[path.Dir(p)]; parent.Type != Dir {
				return nil, fmt.Errorf("%v: parent %v is a %s, not a dir", e, parent, parent.Type)
			}
		}
		out = append(out, e)
	}
	return out, nil
}

func same(a, b Entry) bool {
	a.index, b.index = 0, 0
	a.Origin, b.Origin = "", ""
	a.Size, b.Size = 0, 0
	return a == b
}

// from names an entry's origin for messages.
func from(e Entry) string {
	if e.Origin == "" {
		return ""
	}
	return " from " + e.Origin
}

// describe is an entry without its bookkeeping, for messages.
func describe(e Entry) string {
	e.index = 0
	j, _ := json.Marshal(e)
	return string(j)
}

func check(e Entry) error {
	p := e.Path
	switch {
	case !strings.HasPrefix(p, "/"):
		return fmt.Errorf("%v: path is not absolute", e)
	case path.Clean(p) != p:
		return fmt.Errorf("%v: path is not clean (want %q)", e, path.Clean(p))
	case strings.IndexByte(p, 0) >= 0:
		return fmt.Errorf("%v: path contains NUL", e)
	case len(path.Base(p)) > MaxNameLen:
		return fmt.Errorf("%v: name longer than %d bytes", e, MaxNameLen)
	case e.Size < 0:
		return fmt.Errorf("%v: negative size %d", e, e.Size)
	case e.Mode&^0o7777 != 0:
		return fmt.Errorf("%v: mode %#o has bits outside 07777 (give permission bits only, as a decimal integer)", e, e.Mode)
	}
	if p == "/" && e.Type != Dir {
		return fmt.Errorf("%v: / must be a dir", e)
	}
	noSource := func() error {
		if e.Source != "" {
			return fmt.Errorf("%v: source is only for files", e)
		}
		return nil
	}
	noTarget := func() error {
		if e.Target != "" {
			return fmt.Errorf("%v: target is only for symlinks", e)
		}
		return nil
	}
	noDev := func() error {
		if e.Major != 0 || e.Minor != 0 {
			return fmt.Errorf("%v: major/minor are only for devices", e)
		}
		return nil
	}
	var errs []error
	switch e.Type {
	case File:
		if e.Source == "" {
			return fmt.Errorf("%v: file without source", e)
		}
		errs = append(errs, noTarget(), noDev())
	case Dir, FIFO:
		errs = append(errs, noSource(), noTarget(), noDev())
	case Symlink:
		if e.Target == "" {
			return fmt.Errorf("%v: symlink without target", e)
		}
		if strings.IndexByte(e.Target, 0) >= 0 {
			return fmt.Errorf("%v: target contains NUL", e)
		}
		errs = append(errs, noSource(), noDev())
	case CharDev, BlockDev:
		// Linux's dev_t (new_encode_dev) holds 12 bits of major, 20 of minor.
		if e.Major >= 1<<12 || e.Minor >= 1<<20 {
			return fmt.Errorf("%v: device %d,%d out of range (major < 4096, minor < 1048576)", e, e.Major, e.Minor)
		}
		errs = append(errs, noSource(), noTarget())
	case "":
		return fmt.Errorf("%v: no type", e)
	default:
		return fmt.Errorf("%v: unknown type %q (want file, dir, symlink, chardev, blockdev or fifo)", e, e.Type)
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
