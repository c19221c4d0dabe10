package main

import (
	"fmt"
	"io"
	"os"
	"sort"

	"bazwrt/tools/fsspec"
)

// topN is how many packages and files size reports and overflow errors
// list.
const topN = 10

// sized is a package (origin) or file with its size in bytes.
type sized struct {
	Name string
	Size int64
}

// usage is what the root filesystem's manifest says takes the room: the
// largest packages (file bytes summed by origin) and the largest files.
type usage struct {
	Manifest string // the -manifest path, for the heading
	Packages []sized
	Files    []sized
}

// noOrigin names the files whose manifest entry has no origin.
const noOrigin = "(no origin)"

// readUsage reads a manifest (bazwrt/tools/fsspec) given as -manifest.
// The sizes are the manifest's, not those of the files on disk: the
// manifest of the root filesystem records them, and the image step may
// not have the sources as inputs.
func readUsage(path string) (*usage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("-manifest: %w", err)
	}
	defer f.Close()
	entries, err := fsspec.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("-manifest %s: %w", path, err)
	}
	byOrigin := map[string]int64{}
	u := &usage{Manifest: path}
	for _, e := range entries {
		if e.Type != fsspec.File {
			continue
		}
		origin := e.Origin
		if origin == "" {
			origin = noOrigin
		}
		byOrigin[origin] += e.Size
		u.Files = append(u.Files, sized{e.Path, e.Size})
	}
	for o, s := range byOrigin {
		u.Packages = append(u.Packages, sized{o, s})
	}
	u.Packages = largest(u.Packages)
	u.Files = largest(u.Files)
	return u, nil
}

// largest sorts by size, largest first, ties by name so that reports are
// stable, and keeps topN.
func largest(s []sized) []sized {
	sort.Slice(s, func(i, j int) bool {
		if s[i].Size != s[j].Size {
			return s[i].Size > s[j].Size
		}
		return s[i].Name < s[j].Name
	})
	if len(s) > topN {
		s = s[:topN]
	}
	return s
}

// write prints the two lists.
func (u *usage) write(w io.Writer) {
	if u == nil {
		fmt.Fprintln(w, "(no -manifest given: no list of the largest packages and files)")
		return
	}
	fmt.Fprintf(w, "largest packages (bytes of their files, from %s):\n", u.Manifest)
	for _, p := range u.Packages {
		fmt.Fprintf(w, "  %10d  %s\n", p.Size, p.Name)
	}
	fmt.Fprintln(w, "largest files:")
	for _, f := range u.Files {
		fmt.Fprintf(w, "  %10d  %s\n", f.Size, f.Name)
	}
}
