// Package svcdb is the compiled service database: the compiler that turns
// parsed source directories into a DB (bundles flattened, dependencies
// checked, reverse dependencies computed) and the deterministic binary
// encoding shared by the host compiler and the device.
package svcdb

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"bazwrt/userland/init/svcsrc"
)

// DefaultBundle is the service brought up at boot. The device refuses a
// database without it (see Check); the compiler only insists when asked
// (Options.RequireDefault), as s6-rc-compile never does.
const DefaultBundle = "default"

// Service is one compiled service. Bundles only carry Contents.
type Service struct {
	Name string
	Type svcsrc.Type

	// Deps are the direct dependencies, bundles flattened to atomic
	// services (for producers this includes their consumer). RevDeps are
	// the atomic services whose Deps contain this one. Both sorted.
	Deps    []string
	RevDeps []string

	// Contents of a bundle: atomic services, flattened, sorted.
	Contents []string

	Up, Down    []byte // oneshot scripts (nil = absent)
	Run, Finish []byte // longrun scripts (nil = absent)

	NotificationFD int // -1 = none
	TimeoutUp      int64
	TimeoutDown    int64
	TimeoutKill    int64
	TimeoutFinish  int64
	// Essential and Recommended are set on atomic services only: a
	// flag on a bundle is given to every service it contains.
	Essential     bool
	Recommended   bool
	DownSignal    string
	MaxDeathTally int

	ProducerFor  string
	ConsumerFor  []string
	PipelineName string

	// Env (longruns) is the env/ directory as s6-envdir applies it,
	// sorted by name: "NAME=value" sets, a bare "NAME" removes.
	Env []string
	// Data (longruns) is the data/ directory, sorted by path, written to
	// the live service directory by the supervisor.
	Data []svcsrc.DataFile
}

// Atomic reports whether s is a oneshot or a longrun.
func (s *Service) Atomic() bool { return s.Type != svcsrc.Bundle }

// DB is a compiled database: all services, atomic and bundles, sorted by
// name.
type DB struct {
	Services []*Service
	byName   map[string]*Service
}

// Lookup returns the named service or nil.
func (db *DB) Lookup(name string) *Service {
	if db.byName == nil {
		db.index()
	}
	return db.byName[name]
}

func (db *DB) index() {
	db.byName = make(map[string]*Service, len(db.Services))
	for _, s := range db.Services {
		db.byName[s.Name] = s
	}
}

// Resolve maps names of services or bundles to the sorted, de-duplicated
// list of atomic services they denote.
func (db *DB) Resolve(names []string) ([]string, error) {
	var out []string
	var bad []string
	for _, n := range names {
		s := db.Lookup(n)
		switch {
		case s == nil:
			bad = append(bad, n)
		case s.Type == svcsrc.Bundle:
			out = append(out, s.Contents...)
		default:
			out = append(out, n)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("unknown service %s", quoteList(bad))
	}
	return uniq(out), nil
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func uniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// Source is the parsed content of one source directory.
type Source struct {
	Dir      string // as given on the command line; used in messages only
	Services []*svcsrc.Service
}

// Options change what the compiler accepts.
type Options struct {
	// RequireDefault makes a missing DefaultBundle an error. Images need
	// it (init brings it up at boot); s6-rc-compile does not.
	RequireDefault bool
}

// CompileDirs parses and compiles the given source directories. All parse
// and compile errors are returned together.
func CompileDirs(dirs ...string) (*DB, error) { return CompileDirsOpts(Options{}, dirs...) }

// CompileDirsOpts is CompileDirs with options.
func CompileDirsOpts(opts Options, dirs ...string) (*DB, error) {
	var srcs []Source
	var errs svcsrc.Errors
	for _, d := range dirs {
		svcs, el := svcsrc.ParseDir(d)
		for _, e := range el {
			errs = append(errs, fmt.Errorf("%s: %w", d, e))
		}
		srcs = append(srcs, Source{Dir: d, Services: svcs})
	}
	db, err := CompileOpts(opts, srcs...)
	if err != nil {
		if l, ok := err.(svcsrc.Errors); ok {
			errs = append(errs, l...)
		} else {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return db, nil
}

type compiler struct {
	src    map[string]*svcsrc.Service
	errs   svcsrc.Errors
	flat   map[string][]string // bundle name -> atomic contents
	state  map[string]int      // bundle flattening: 1 visiting, 2 done
	impl   map[string][]string // implicit deps (producer -> consumer)
	pipeOf map[string]string   // pipeline bundle name -> defining service
}

func (c *compiler) errorf(svc, file, format string, args ...any) {
	c.errs = append(c.errs, &svcsrc.Error{Service: svc, File: file, Msg: fmt.Sprintf(format, args...)})
}

// Compile merges sources and builds a DB. A service defined in two sources
// is an error naming both directories. The result does not depend on the
// order of the sources.
func Compile(srcs ...Source) (*DB, error) { return CompileOpts(Options{}, srcs...) }

// CompileOpts is Compile with options.
func CompileOpts(opts Options, srcs ...Source) (*DB, error) {
	c := &compiler{src: map[string]*svcsrc.Service{}, flat: map[string][]string{},
		state: map[string]int{}, impl: map[string][]string{}, pipeOf: map[string]string{}}
	from := map[string]string{}
	// Process sources in a canonical order so that duplicate errors read
	// the same whatever the command-line order.
	sorted := append([]Source(nil), srcs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Dir < sorted[j].Dir })
	for _, src := range sorted {
		for _, s := range src.Services {
			if d, dup := from[s.Name]; dup {
				c.errorf(s.Name, "", "defined in both %s and %s", d, src.Dir)
				continue
			}
			from[s.Name] = src.Dir
			c.src[s.Name] = s
		}
	}
	names := make([]string, 0, len(c.src))
	for n := range c.src {
		names = append(names, n)
	}
	sort.Strings(names)

	// Pipelines define bundles named by pipeline-name; synthesize them
	// first so that other services may refer to them.
	c.pipelines(names)
	for pn, def := range c.pipeOf {
		c.src[pn] = &svcsrc.Service{Name: pn, Type: svcsrc.Bundle,
			Contents: c.pipelineMembers(def), ContentsFile: def + "/pipeline-name"}
		names = append(names, pn)
	}
	sort.Strings(names)

	// References must exist.
	for _, n := range names {
		s := c.src[n]
		for _, d := range s.Dependencies {
			if c.src[d] == nil {
				c.errorf(n, s.DepsFile, "unknown dependency %q", d)
			}
		}
		for _, d := range s.Contents {
			if c.src[d] == nil {
				c.errorf(n, s.ContentsFile, "unknown service %q in bundle", d)
			}
		}
	}

	// Flatten bundles (detecting bundle cycles).
	for _, n := range names {
		if c.src[n].Type == svcsrc.Bundle {
			c.flatten(n, nil)
		}
	}

	db := &DB{}
	deps := map[string][]string{}
	for _, n := range names {
		s := c.src[n]
		out := &Service{Name: n, Type: s.Type, NotificationFD: -1}
		if s.Type == svcsrc.Bundle {
			out.Contents = c.flat[n]
			db.Services = append(db.Services, out)
			continue
		}
		var d []string
		for _, dep := range s.Dependencies {
			ds := c.src[dep]
			switch {
			case ds == nil:
			case ds.Type == svcsrc.Bundle:
				for _, a := range c.flat[dep] {
					if a == n {
						c.errorf(n, s.DepsFile, "depends on bundle %q which contains the service itself", dep)
						continue
					}
					d = append(d, a)
				}
			default:
				d = append(d, dep)
			}
		}
		d = append(d, c.impl[n]...)
		out.Deps = uniq(d)
		deps[n] = out.Deps
		out.Up, out.Down, out.Run, out.Finish = s.Up, s.Down, s.Run, s.Finish
		out.NotificationFD = s.NotificationFD
		out.TimeoutUp, out.TimeoutDown, out.TimeoutKill, out.TimeoutFinish = s.TimeoutUp, s.TimeoutDown, s.TimeoutKill, s.TimeoutFinish
		out.Essential = s.Essential
		out.Recommended = s.Recommended
		out.Env = append([]string(nil), s.Env...)
		if len(out.Env) == 0 {
			out.Env = nil
		}
		out.Data = append([]svcsrc.DataFile(nil), s.Data...)
		out.DownSignal = s.DownSignal
		out.MaxDeathTally = s.MaxDeathTally
		out.ProducerFor = s.ProducerFor
		out.ConsumerFor = append([]string(nil), s.ConsumerFor...)
		out.PipelineName = s.PipelineName
		db.Services = append(db.Services, out)
	}

	c.cycles(deps)
	db.index()
	c.flags(db)
	rev := map[string][]string{}
	for _, s := range db.Services {
		for _, d := range s.Deps {
			rev[d] = append(rev[d], s.Name)
		}
	}
	for _, s := range db.Services {
		if s.Atomic() {
			s.RevDeps = uniq(rev[s.Name])
		}
	}
	if opts.RequireDefault && db.Lookup(DefaultBundle) == nil {
		c.errs = append(c.errs, fmt.Errorf("no %q service: the database needs a %q bundle listing what starts at boot", DefaultBundle, DefaultBundle))
	}
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	// The device refuses what fails Check: never hand it such a database.
	if err := db.check(opts.RequireDefault); err != nil {
		return nil, fmt.Errorf("compiled database fails the device's check (a compiler bug): %v", err)
	}
	return db, nil
}

// flags gives every atomic service the flag-essential and flag-recommended
// of the bundles containing it. Contents are already flattened, so a flag
// on an outer bundle reaches the services of the bundles nested in it, as
// s6-rc-compile's flattening does. Pipeline bundles have no flags.
func (c *compiler) flags(db *DB) {
	for _, b := range db.Services {
		src := c.src[b.Name]
		if b.Atomic() || src == nil || !(src.Essential || src.Recommended) {
			continue
		}
		for _, n := range b.Contents {
			s := db.Lookup(n)
			s.Essential = s.Essential || src.Essential
			s.Recommended = s.Recommended || src.Recommended
		}
	}
}

// flatten returns the atomic contents of bundle n; stack holds the bundles
// being flattened, for cycle messages.
func (c *compiler) flatten(n string, stack []string) []string {
	switch c.state[n] {
	case 2:
		return c.flat[n]
	case 1:
		i := indexOf(stack, n)
		cyc := append(append([]string(nil), stack[i:]...), n)
		c.errorf(stack[len(stack)-1], c.src[stack[len(stack)-1]].ContentsFile, "bundle cycle: %s", strings.Join(cyc, " -> "))
		return nil
	}
	c.state[n] = 1
	stack = append(stack, n)
	var out []string
	for _, m := range c.src[n].Contents {
		ms := c.src[m]
		switch {
		case ms == nil:
		case ms.Type == svcsrc.Bundle:
			out = append(out, c.flatten(m, stack)...)
		default:
			out = append(out, m)
		}
	}
	c.state[n] = 2
	c.flat[n] = uniq(out)
	return c.flat[n]
}

func indexOf(l []string, s string) int {
	for i, x := range l {
		if x == s {
			return i
		}
	}
	return -1
}

// pipelines checks producer-for / consumer-for / pipeline-name and records
// the implicit dependency of each producer on its consumer.
func (c *compiler) pipelines(names []string) {
	for _, n := range names {
		s := c.src[n]
		if s.Type != svcsrc.Longrun {
			continue
		}
		if p := s.ProducerFor; p != "" {
			cs := c.src[p]
			f := n + "/producer-for"
			switch {
			case cs == nil:
				c.errorf(n, f, "unknown consumer %q", p)
			case cs.Type != svcsrc.Longrun:
				c.errorf(n, f, "consumer %q is a %s, want a longrun", p, cs.Type)
			case indexOf(cs.ConsumerFor, n) < 0:
				c.errorf(n, f, "producer/consumer mismatch: %q does not list %q in its consumer-for", p, n)
			default:
				c.impl[n] = append(c.impl[n], p)
			}
		}
		for _, p := range s.ConsumerFor {
			ps := c.src[p]
			f := n + "/consumer-for"
			switch {
			case ps == nil:
				c.errorf(n, f, "unknown producer %q", p)
			case ps.Type != svcsrc.Longrun:
				c.errorf(n, f, "producer %q is a %s, want a longrun", p, ps.Type)
			case ps.ProducerFor != n:
				c.errorf(n, f, "producer/consumer mismatch: %q is not producer-for %q", p, n)
			}
		}
		if pn := s.PipelineName; pn != "" {
			f := n + "/pipeline-name"
			if c.src[pn] != nil {
				c.errorf(n, f, "pipeline name %q is already a service", pn)
			} else if d, dup := c.pipeOf[pn]; dup {
				c.errorf(n, f, "pipeline name %q already defined by %q", pn, d)
			} else {
				c.pipeOf[pn] = n
			}
		}
	}
}

// pipelineMembers returns the consumer end plus every producer feeding into
// it, transitively.
func (c *compiler) pipelineMembers(end string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] || c.src[n] == nil {
			return
		}
		seen[n] = true
		for _, p := range c.src[n].ConsumerFor {
			walk(p)
		}
	}
	walk(end)
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	return uniq(out)
}

// cycles reports every dependency cycle among atomic services, naming the
// path, e.g. "dependency cycle: a -> b -> c -> a".
func (c *compiler) cycles(deps map[string][]string) {
	names := make([]string, 0, len(deps))
	for n := range deps {
		names = append(names, n)
	}
	sort.Strings(names)
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	reported := map[string]bool{}
	var stack []string
	var visit func(n string)
	visit = func(n string) {
		color[n] = grey
		stack = append(stack, n)
		for _, d := range deps[n] {
			switch color[d] {
			case white:
				if _, ok := deps[d]; ok {
					visit(d)
				}
			case grey:
				i := indexOf(stack, d)
				cyc := append(append([]string(nil), stack[i:]...), d)
				// Report each cycle once, keyed by its sorted member set.
				key := strings.Join(uniq(append([]string(nil), stack[i:]...)), " ")
				if !reported[key] {
					reported[key] = true
					s := c.src[n]
					c.errorf(n, s.DepsFile, "dependency cycle: %s", strings.Join(cyc, " -> "))
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[n] = black
	}
	for _, n := range names {
		if color[n] == white {
			visit(n)
		}
	}
}
