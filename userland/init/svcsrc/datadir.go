package svcsrc

import (
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// MaxData bounds the total size of one service's data/ directory: it is
// embedded in the database, which the device reads whole at boot.
const MaxData = 1 << 20

const maxDataDepth = 32

// DataFile is one entry of a longrun's data/ directory, which s6-rc-compile
// copies verbatim into the service directory and the supervisor writes to
// LIVEDIR/NAME/data at boot.
type DataFile struct {
	// Path is relative to data/, slash-separated; it ends in "/" for a
	// directory (kept so that empty directories survive).
	Path    string
	Mode    fs.FileMode // permission bits only
	Content []byte      // nil for a directory
}

// datadir reads dir recursively. Only directories and regular files are
// accepted: a symbolic link or a device could not be reproduced faithfully
// from the database.
func (p *parser) datadir(dir string) []DataFile {
	root := filepath.Join(p.root, p.name, dir)
	st, err := os.Stat(root)
	if err != nil {
		if !os.IsNotExist(err) {
			p.errorf(dir, "%v", stripPath(err))
		}
		return nil
	}
	if !st.IsDir() {
		p.errorf(dir, "is not a directory")
		return nil
	}
	var out []DataFile
	total := 0
	// Symbolic links are followed, as in every other file of a source
	// directory: build systems (Bazel's sandbox and runfiles) hand sources
	// over as symlinks. depth bounds a directory loop.
	var walk func(rel string, depth int)
	walk = func(rel string, depth int) {
		ents, err := os.ReadDir(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			p.errorf(dir+"/"+rel, "%v", stripPath(err))
			return
		}
		for _, e := range ents {
			r := path.Join(rel, e.Name())
			f := dir + "/" + r
			st, err := os.Stat(filepath.Join(root, filepath.FromSlash(r)))
			switch {
			case err != nil:
				p.errorf(f, "%v", stripPath(err))
			case st.IsDir() && depth >= maxDataDepth:
				p.errorf(f, "nested more than %d directories deep (a symlink loop?)", maxDataDepth)
			case st.IsDir():
				out = append(out, DataFile{Path: r + "/", Mode: st.Mode().Perm()})
				walk(r, depth+1)
			case st.Mode().IsRegular():
				if b := p.read(f); b != nil {
					total += len(b)
					out = append(out, DataFile{Path: r, Mode: st.Mode().Perm(), Content: b})
				}
			default:
				p.errorf(f, "not a regular file or directory (%v); data/ is embedded in the database, which holds only those", st.Mode().Type())
			}
		}
	}
	walk("", 0)
	// Walking gives "a/" before "a-b"; the database wants byte order.
	slices.SortFunc(out, func(a, b DataFile) int { return strings.Compare(a.Path, b.Path) })
	if total > MaxData {
		p.errorf(dir, "%d bytes of files; at most %d are embedded in the database", total, MaxData)
		return nil
	}
	return out
}

// CheckDataPath reports why p cannot be a DataFile path, or "".
func CheckDataPath(p string) string {
	clean := strings.TrimSuffix(p, "/")
	switch {
	case clean == "" || strings.HasPrefix(clean, "/"):
		return "not a relative path"
	case strings.ContainsRune(p, 0):
		return "contains a NUL byte"
	case path.Clean(clean) != clean || clean == ".." || strings.HasPrefix(clean, "../"):
		return "not a clean path inside data/"
	}
	return ""
}
