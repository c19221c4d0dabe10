package svcsrc

import (
	"os"
	"path/filepath"
	"strings"
)

// MaxEnvValue bounds one env/ value: the file is read whole, and values
// travel in the database and in every exec of the service.
const MaxEnvValue = 64 << 10

// envdir reads a directory the way s6-envdir (without options) does: each
// regular file NAME defines the variable NAME. An empty file removes the
// variable; otherwise the value is the file's first line with trailing
// whitespace removed and NUL bytes turned into newlines. Entries are
// returned sorted by name ("NAME=value", or "NAME" for a removal); nil when
// the directory is absent.
func (p *parser) envdir(dir string) []string {
	path := filepath.Join(p.root, p.name, dir)
	st, err := os.Stat(path)
	if err != nil {
		if !os.IsNotExist(err) {
			p.errorf(dir, "%v", stripPath(err))
		}
		return nil
	}
	if !st.IsDir() {
		p.errorf(dir, "is not a directory; want an envdir (one file per variable)")
		return nil
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		p.errorf(dir, "%v", stripPath(err))
		return nil
	}
	out := []string{}
	for _, e := range ents { // sorted by name
		n := e.Name()
		f := dir + "/" + n
		// s6-envdir skips names starting with a dot; say so instead of
		// dropping a variable the author may believe is set.
		if msg := checkEnvName(n); msg != "" {
			p.errorf(f, "%s", msg)
			continue
		}
		b := p.read(f)
		if b == nil {
			continue // error already recorded
		}
		if len(b) > MaxEnvValue {
			p.errorf(f, "value longer than %d bytes", MaxEnvValue)
			continue
		}
		out = append(out, EnvEntry(n, b))
	}
	return out
}

// checkEnvName reports why an env/ file name cannot name a variable.
func checkEnvName(n string) string {
	switch {
	case strings.HasPrefix(n, "."):
		return "starts with a dot: s6-envdir would skip it; rename or remove it"
	case strings.Contains(n, "="):
		return "variable name contains '='"
	}
	return ""
}

// EnvEntry is the s6-envdir meaning of file NAME with content b: "NAME" (an
// empty file removes the variable) or "NAME=value" where value is the first
// line, trailing whitespace removed, NULs turned into newlines.
func EnvEntry(name string, b []byte) string {
	if len(b) == 0 {
		return name
	}
	v := string(b)
	if i := strings.IndexByte(v, '\n'); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimRight(v, " \t\r\v\f")
	return name + "=" + strings.ReplaceAll(v, "\x00", "\n")
}

// ApplyEnv returns base modified by entries as s6-envdir would: "NAME=v"
// replaces or adds NAME, a bare "NAME" removes it. base is not modified.
func ApplyEnv(base, entries []string) []string {
	out := append([]string(nil), base...)
	for _, e := range entries {
		name, _, set := strings.Cut(e, "=")
		kept := out[:0]
		for _, kv := range out {
			if k, _, _ := strings.Cut(kv, "="); k != name {
				kept = append(kept, kv)
			}
		}
		out = kept
		if set {
			out = append(out, e)
		}
	}
	return out
}
