package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	"bazwrt/tools/fsspec"
)

var errUsage = errors.New("usage")

// listFlag collects a repeated flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// pkgOptions are the inputs of the pkg verb.
type pkgOptions struct {
	origin  string   // label of the package, recorded in every entry
	staging string   // the package's staging tree (install root)
	out     string   // where the selected, stripped files are copied
	strip   string   // the cross strip, "" to keep symbols
	exclude []string // globs of staging paths left out of the image
	links   []string // LIST=TARGET: every path listed in LIST becomes a symlink to TARGET
}

func pkgMain(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("rootfs pkg", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o pkgOptions
	var exclude, links listFlag
	fs.StringVar(&o.origin, "origin", "", "label recorded as every entry's origin")
	fs.StringVar(&o.staging, "staging", "", "the package's staging `dir`")
	fs.StringVar(&o.out, "out", "", "`dir` to copy the image's files to")
	fs.StringVar(&o.strip, "strip", "", "strip `program` for ELF files (none: keep symbols)")
	fs.Var(&exclude, "exclude", "`glob` of staging paths to leave out (repeatable): a/** is a directory, a pattern without / matches base names")
	fs.Var(&links, "links", "`LIST=TARGET`: each absolute path listed (one a line) in the staging file LIST becomes a symlink to TARGET (repeatable)")
	frag := fs.String("o", "", "output fragment `file`")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if o.origin == "" || o.staging == "" || o.out == "" || *frag == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	o.exclude, o.links = exclude, links
	entries, err := pkgFragment(o)
	if err != nil {
		return err
	}
	return writeManifest(*frag, entries)
}

// excluded reports whether the staging path rel matches one of globs.
func excluded(rel string, globs []string) bool {
	for _, g := range globs {
		if dir, ok := strings.CutSuffix(g, "/**"); ok {
			if rel == dir || strings.HasPrefix(rel, dir+"/") {
				return true
			}
			continue
		}
		name := rel
		if !strings.Contains(g, "/") {
			name = path.Base(rel)
		}
		if ok, _ := path.Match(g, name); ok {
			return true
		}
	}
	return false
}

// fileMode is the mode a file gets on the device: programs (ELF files and
// scripts) are executable, the rest is not. The staging tree's own modes
// are not used: Bazel makes every output executable and read-only.
func fileMode(head []byte) uint32 {
	if bytes.HasPrefix(head, []byte("\x7fELF")) || bytes.HasPrefix(head, []byte("#!")) {
		return 0o755
	}
	return 0o644
}

func pkgFragment(o pkgOptions) ([]fsspec.Entry, error) {
	for _, g := range o.exclude {
		if _, err := path.Match(strings.TrimSuffix(g, "/**"), ""); err != nil {
			return nil, fmt.Errorf("-exclude %q: %v", g, err)
		}
	}
	var entries []fsspec.Entry
	err := filepath.WalkDir(o.staging, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(o.staging, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if excluded(rel, o.exclude) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		e := fsspec.Entry{Path: "/" + rel, Origin: o.origin}
		typ := d.Type()
		if typ&fs.ModeSymlink != 0 {
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			if !sandboxLink(t, p) {
				e.Type, e.Mode, e.Target = fsspec.Symlink, 0o777, t
				entries = append(entries, e)
				return nil
			}
			// An input of a sandboxed action: the file it stands for.
			st, err := os.Stat(p)
			if err != nil {
				return err
			}
			typ = st.Mode().Type()
		}
		switch {
		case d.IsDir():
			return nil // implied by the files in it; empty ones are left out
		case typ.IsRegular():
			dst := filepath.Join(o.out, filepath.FromSlash(rel))
			mode, size, err := install(p, dst, o.strip)
			if err != nil {
				return fmt.Errorf("%s: %w", rel, err)
			}
			e.Type, e.Mode, e.Source, e.Size = fsspec.File, mode, dst, size
		default:
			return fmt.Errorf("%s: %v is not a file, directory or symlink", rel, d.Type())
		}
		entries = append(entries, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("staging %s: %w", o.staging, err)
	}
	for _, l := range o.links {
		list, target, ok := strings.Cut(l, "=")
		if !ok || list == "" || !strings.HasPrefix(target, "/") {
			return nil, fmt.Errorf("-links %q: want LIST=TARGET, LIST a staging path, TARGET an absolute path", l)
		}
		paths, err := readLinkList(filepath.Join(o.staging, filepath.FromSlash(list)))
		if err != nil {
			return nil, fmt.Errorf("-links %q: %w", l, err)
		}
		for _, p := range paths {
			if p == target {
				continue
			}
			entries = append(entries, fsspec.Entry{Path: p, Type: fsspec.Symlink, Mode: 0o777, Target: target, Origin: o.origin})
		}
	}
	return entries, nil
}

// sandboxLink reports whether the symlink at p with target t is how
// Bazel's sandbox presents an input file (an absolute link to the same path
// in the exec root) rather than a symlink the package installed.
func sandboxLink(t, p string) bool {
	return filepath.IsAbs(t) && !filepath.IsAbs(p) && strings.HasSuffix(t, string(filepath.Separator)+p)
}

// readLinkList reads absolute paths, one a line (busybox.links).
func readLinkList(file string) ([]string, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var paths []string
	s := bufio.NewScanner(f)
	for n := 1; s.Scan(); n++ {
		p := strings.TrimSpace(s.Text())
		if p == "" {
			continue
		}
		if !strings.HasPrefix(p, "/") || path.Clean(p) != p {
			return nil, fmt.Errorf("%s:%d: %q is not a clean absolute path", file, n, p)
		}
		paths = append(paths, p)
	}
	return paths, s.Err()
}

// install copies src to dst, through strip for ELF files, and returns the
// file's mode on the device and its size.
func install(src, dst, strip string) (uint32, int64, error) {
	head := make([]byte, 4)
	f, err := os.Open(src)
	if err != nil {
		return 0, 0, err
	}
	n, _ := io.ReadFull(f, head)
	f.Close()
	head = head[:n]
	mode := fileMode(head)
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, 0, err
	}
	if strip != "" && bytes.HasPrefix(head, []byte("\x7fELF")) {
		cmd := exec.Command(strip, "--strip-all", "-o", dst, src)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, 0, fmt.Errorf("%s: %v\n%s", strip, err, out)
		}
	} else if err := copyFile(src, dst); err != nil {
		return 0, 0, err
	}
	st, err := os.Stat(dst)
	if err != nil {
		return 0, 0, err
	}
	return mode, st.Size(), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeManifest(file string, entries []fsspec.Entry) error {
	var b bytes.Buffer
	if err := fsspec.Encode(&b, entries); err != nil {
		return err
	}
	return os.WriteFile(file, b.Bytes(), 0o644)
}
