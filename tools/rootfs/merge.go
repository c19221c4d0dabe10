package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"bazwrt/tools/fsspec"
)

func mergeMain(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("rootfs merge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output manifest `file`")
	report := fs.String("report", "", "size report `file` to write")
	top := fs.Int("top", 10, "how many packages and files the report lists")
	var notes stringList
	fs.Var(&notes, "note", "a line for the report's notes (repeatable): what the image's builder should know")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if *out == "" || fs.NArg() == 0 {
		fs.Usage()
		return errUsage
	}
	var frags [][]fsspec.Entry
	for _, name := range fs.Args() {
		entries, err := readFragment(name)
		if err != nil {
			return err
		}
		frags = append(frags, entries)
	}
	entries, err := merge(frags)
	if err != nil {
		return err
	}
	if err := writeManifest(*out, entries); err != nil {
		return err
	}
	if *report != "" {
		var b bytes.Buffer
		writeNotes(&b, notes)
		writeReport(&b, entries, *top)
		return os.WriteFile(*report, b.Bytes(), 0o644)
	}
	return nil
}

// readFragment reads one fragment: a JSON array of entries, as written by
// the pkg verb or by a rule. An entry without origin gets the file's name.
func readFragment(name string) ([]fsspec.Entry, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var entries []fsspec.Entry
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("fragment %s: %w", name, err)
	}
	for i := range entries {
		if entries[i].Origin == "" {
			entries[i].Origin = name
		}
	}
	return entries, nil
}

// merge joins fragments: sizes of files are taken from their sources, two
// entries for one path must agree (apart from their origin), and the result
// is checked and completed by fsspec.Complete.
func merge(frags [][]fsspec.Entry) ([]fsspec.Entry, error) {
	byPath := map[string]fsspec.Entry{}
	var all []fsspec.Entry
	var errs []string
	for _, frag := range frags {
		for _, e := range frag {
			if e.Type == fsspec.File {
				st, err := os.Stat(e.Source)
				if err != nil {
					errs = append(errs, fmt.Sprintf("%s (from %s): %v", e.Path, e.Origin, err))
					continue
				}
				if !st.Mode().IsRegular() {
					errs = append(errs, fmt.Sprintf("%s (from %s): source %s is not a regular file", e.Path, e.Origin, e.Source))
					continue
				}
				e.Size = st.Size()
			}
			if prev, ok := byPath[e.Path]; ok {
				if !sameContent(prev, e) {
					errs = append(errs, fmt.Sprintf("%s is claimed differently by %s (%s) and by %s (%s)",
						e.Path, prev.Origin, describe(prev), e.Origin, describe(e)))
				}
				continue
			}
			byPath[e.Path] = e
			all = append(all, e)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%d conflicts:\n  %s", len(errs), strings.Join(errs, "\n  "))
	}
	return fsspec.Complete(all)
}

// sameContent reports whether two entries put the same thing at a path.
// Two files are the same when their contents are, wherever they come from.
func sameContent(a, b fsspec.Entry) bool {
	if a.Type != b.Type || a.Mode != b.Mode || a.UID != b.UID || a.GID != b.GID ||
		a.Target != b.Target || a.Major != b.Major || a.Minor != b.Minor {
		return false
	}
	if a.Type != fsspec.File || a.Source == b.Source {
		return true
	}
	x, err1 := os.ReadFile(a.Source)
	y, err2 := os.ReadFile(b.Source)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// describe says what an entry puts at its path, for conflict messages.
func describe(e fsspec.Entry) string {
	owner := ""
	if e.UID != 0 || e.GID != 0 {
		owner = fmt.Sprintf(", owner %d:%d", e.UID, e.GID)
	}
	switch e.Type {
	case fsspec.File:
		return fmt.Sprintf("file, mode %#o%s, %d bytes from %s", e.Mode, owner, e.Size, e.Source)
	case fsspec.Symlink:
		return fmt.Sprintf("symlink to %s", e.Target)
	case fsspec.CharDev, fsspec.BlockDev:
		return fmt.Sprintf("%s %d,%d, mode %#o%s", e.Type, e.Major, e.Minor, e.Mode, owner)
	}
	return fmt.Sprintf("%s, mode %#o%s", e.Type, e.Mode, owner)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, "\n") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// writeNotes puts the notes first, where nobody reading the report can miss
// them (e.g. that the image has no SSH server).
func writeNotes(w io.Writer, notes []string) {
	if len(notes) == 0 {
		return
	}
	fmt.Fprintf(w, "Notes:\n")
	for _, n := range notes {
		fmt.Fprintf(w, "  - %s\n", n)
	}
	fmt.Fprintln(w)
}

// writeReport writes the size report: totals, the biggest origins and the
// biggest files, by the size of their content (before compression).
func writeReport(w io.Writer, entries []fsspec.Entry, top int) {
	var total int64
	var files []fsspec.Entry
	byOrigin := map[string]int64{}
	count := map[string]int{}
	for _, e := range entries {
		if e.Type != fsspec.File {
			continue
		}
		files = append(files, e)
		total += e.Size
		byOrigin[e.Origin] += e.Size
		count[e.Origin]++
	}
	fmt.Fprintf(w, "Root filesystem: %d entries, %d files, %s bytes of file content (before compression)\n",
		len(entries), len(files), commas(total))
	origins := make([]string, 0, len(byOrigin))
	for o := range byOrigin {
		origins = append(origins, o)
	}
	sort.Slice(origins, func(i, j int) bool {
		if byOrigin[origins[i]] != byOrigin[origins[j]] {
			return byOrigin[origins[i]] > byOrigin[origins[j]]
		}
		return origins[i] < origins[j]
	})
	fmt.Fprintf(w, "\nLargest packages:\n")
	for i, o := range origins {
		if i == top {
			break
		}
		fmt.Fprintf(w, "  %12s  %5.1f%%  %4d files  %s\n", commas(byOrigin[o]), percent(byOrigin[o], total), count[o], o)
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].Size > files[j].Size })
	fmt.Fprintf(w, "\nLargest files:\n")
	for i, f := range files {
		if i == top {
			break
		}
		fmt.Fprintf(w, "  %12s  %5.1f%%  %s  (%s)\n", commas(f.Size), percent(f.Size, total), f.Path, f.Origin)
	}
}

func percent(n, total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * float64(n) / float64(total)
}

// commas writes n with thousands separators.
func commas(n int64) string {
	s := fmt.Sprint(n)
	if n < 0 {
		return "-" + commas(-n)
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
