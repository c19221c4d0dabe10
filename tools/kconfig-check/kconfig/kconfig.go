// Package kconfig reads Kconfig fragments and .config files and checks that
// a resolved .config has every value the fragments asked for.
//
// Kconfig silently drops a requested option whose dependencies are not met
// (olddefconfig only warns, if at all), so a typo or a missing dependency in
// a fragment would otherwise give a different kernel than the one asked for.
package kconfig

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Value is an option's value as written in a .config: "y", "m", "n", a
// number, or a quoted string. An option that is absent or "is not set" has
// the value "n".
type Value = string

// Request is one option a fragment asks for.
type Request struct {
	Option string // with the CONFIG_ prefix
	Value  Value
	File   string // the fragment that asked for it
	Line   int
}

// Parse reads a .config or fragment: "CONFIG_X=v" and "# CONFIG_X is not set"
// lines, in order. Other comments and blank lines are ignored; anything else
// is an error naming the file and line, so that a typo in a fragment is not
// taken for a comment.
func Parse(r io.Reader, file string) ([]Request, error) {
	var reqs []Request
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "#"):
			rest := strings.TrimSpace(strings.TrimPrefix(line, "#"))
			opt, ok := strings.CutSuffix(rest, " is not set")
			if !ok || !strings.HasPrefix(opt, "CONFIG_") || strings.ContainsAny(opt, " \t=") {
				continue // a comment
			}
			reqs = append(reqs, Request{Option: opt, Value: "n", File: file, Line: n})
		default:
			opt, val, ok := strings.Cut(line, "=")
			if !ok || !strings.HasPrefix(opt, "CONFIG_") || opt == "CONFIG_" || strings.ContainsAny(opt, " \t") {
				return nil, fmt.Errorf("%s:%d: want CONFIG_NAME=value or \"# CONFIG_NAME is not set\", got %q", file, n, line)
			}
			if val == "" {
				return nil, fmt.Errorf("%s:%d: %s has no value (write \"# %s is not set\" to turn it off)", file, n, opt, opt)
			}
			reqs = append(reqs, Request{Option: opt, Value: val, File: file, Line: n})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	return reqs, nil
}

// ParseFile is Parse on a named file.
func ParseFile(path string) ([]Request, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(f, path)
}

// Config is a resolved .config: option → value. Options that are absent
// have the value "n" (see Get).
type Config map[string]Value

// Get returns an option's value, "n" when it is not set.
func (c Config) Get(opt string) Value {
	if v, ok := c[opt]; ok {
		return v
	}
	return "n"
}

// NewConfig makes a Config from parsed lines; a later line wins, as in
// Kconfig.
func NewConfig(reqs []Request) Config {
	c := make(Config, len(reqs))
	for _, r := range reqs {
		c[r.Option] = r.Value
	}
	return c
}

// Merge resolves the requests of fragments given in order: a later fragment
// overrides an earlier one, as when they are appended to .config. The result
// is sorted by option.
func Merge(fragments ...[]Request) []Request {
	last := map[string]Request{}
	for _, f := range fragments {
		for _, r := range f {
			last[r.Option] = r
		}
	}
	out := make([]Request, 0, len(last))
	for _, r := range last {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Option < out[j].Option })
	return out
}

// Mismatch is a requested option that the resolved .config does not have.
type Mismatch struct {
	Request
	Actual Value
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s:%d: %s: requested %s, but .config has %s", m.File, m.Line, m.Option, m.Value, describe(m.Actual))
}

func describe(v Value) string {
	if v == "n" {
		return "n (not set: Kconfig dropped it, check its dependencies)"
	}
	return v
}

// Check returns the requests the config does not satisfy, in the order of
// reqs.
func Check(cfg Config, reqs []Request) []Mismatch {
	var bad []Mismatch
	for _, r := range reqs {
		if got := cfg.Get(r.Option); got != r.Value {
			bad = append(bad, Mismatch{Request: r, Actual: got})
		}
	}
	return bad
}

// Diff returns, as fragment lines, the options whose value differs between
// two configs, sorted: what a user changed in menuconfig.
func Diff(before, after Config) []string {
	seen := map[string]bool{}
	var lines []string
	for _, c := range []Config{before, after} {
		for opt := range c {
			if seen[opt] {
				continue
			}
			seen[opt] = true
			if before.Get(opt) == after.Get(opt) {
				continue
			}
			if v := after.Get(opt); v == "n" {
				lines = append(lines, "# "+opt+" is not set")
			} else {
				lines = append(lines, opt+"="+v)
			}
		}
	}
	sort.Slice(lines, func(i, j int) bool { return optOf(lines[i]) < optOf(lines[j]) })
	return lines
}

func optOf(line string) string {
	line = strings.TrimPrefix(line, "# ")
	if i := strings.IndexAny(line, "= "); i >= 0 {
		return line[:i]
	}
	return line
}
