// Package svcsrc parses s6-rc style service source directories.
//
// A source directory contains one subdirectory per service. Each service
// directory holds a "type" file (oneshot, longrun or bundle) and, depending on
// the type, further files: dependencies.d/ (or the legacy "dependencies"
// file), contents.d/ (or "contents"), up, down, run, finish, notification-fd,
// timeout-up, timeout-down, timeout-kill, timeout-finish, flag-essential,
// flag-recommended, producer-for, consumer-for, pipeline-name, down-signal,
// max-death-tally, env/ and data/. Any other file is an error: s6 files this system
// does not implement (lock-fd, nosetsid, instance/, log/) name the
// reason. A oneshot's up and down are execline scripts, as in s6-rc, and
// are checked as such (see CheckExecline).
//
// The parser is shared by the host compiler (tools/svc-compile) and the
// device binary. It never stops at the first problem: every error found in a
// directory is returned, each naming the service and the file.
package svcsrc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Type is the kind of a service.
type Type string

// Service types, as written in the "type" file.
const (
	Oneshot Type = "oneshot"
	Longrun Type = "longrun"
	Bundle  Type = "bundle"
)

// Defaults applied when the corresponding file is absent.
const (
	DefaultTimeoutFinish = 5000 // ms, like s6-supervise
	DefaultMaxDeathTally = 100  // like s6-supervise
	MaxMaxDeathTally     = 4096
	DefaultDownSignal    = "SIGTERM"
	// MinNotificationFD is the lowest accepted notification-fd: 0, 1 and 2
	// are the service's stdin, stdout (the log) and stderr.
	MinNotificationFD = 3
	// MaxNotificationFD bounds the descriptor number so the supervisor
	// never has to build huge descriptor tables.
	MaxNotificationFD = 255
	// MaxNameLen is the longest accepted service name.
	MaxNameLen = 255
	// MaxTimeout bounds every timeout, in milliseconds: about 24 days, so
	// durations never overflow on 32-bit arithmetic paths.
	MaxTimeout = 1<<31 - 1
)

// Service is one parsed service definition, exactly as written in its source
// directory (bundles are not resolved here; see package svcdb).
type Service struct {
	Name string
	Type Type

	// Dependencies as written: names of atomic services or bundles,
	// sorted and de-duplicated. DepsFile is the file they came from
	// ("NAME/dependencies.d" or "NAME/dependencies"), for error messages.
	Dependencies []string
	DepsFile     string

	// Contents of a bundle, sorted and de-duplicated; ContentsFile as above.
	Contents     []string
	ContentsFile string

	// Scripts. A nil slice means the file is absent; an empty file is a
	// non-nil empty slice.
	Up, Down    []byte // oneshot
	Run, Finish []byte // longrun

	NotificationFD int   // -1 when absent
	TimeoutUp      int64 // milliseconds, 0 = infinite
	TimeoutDown    int64
	TimeoutKill    int64
	TimeoutFinish  int64
	// Essential and Recommended are the flag-essential and
	// flag-recommended files. On a bundle they apply to every service
	// it contains (resolved by package svcdb).
	Essential     bool
	Recommended   bool
	DownSignal    string // canonical name, e.g. "SIGTERM"
	MaxDeathTally int

	ProducerFor  string   // longrun: the consumer of our stdout
	ConsumerFor  []string // longrun: producers feeding our stdin, sorted
	PipelineName string   // longrun at the end of a pipeline: bundle name

	// Env is the longrun's env/ directory read as s6-envdir reads it,
	// sorted by name: "NAME=value" sets a variable, a bare "NAME" (an
	// empty file) removes it.
	Env []string

	// Data is the longrun's data/ directory, sorted by path.
	Data []DataFile
}

// Error is a problem found in a service definition.
type Error struct {
	Service string // service name (directory name)
	File    string // path relative to the source directory, may be empty
	Msg     string
}

func (e *Error) Error() string {
	if e.File != "" {
		return fmt.Sprintf("svc %q: file %s: %s", e.Service, e.File, e.Msg)
	}
	return fmt.Sprintf("svc %q: %s", e.Service, e.Msg)
}

// Errors is a list of errors; its message has one error per line.
type Errors []error

func (l Errors) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// Unwrap lets errors.Is and errors.As look at every element.
func (l Errors) Unwrap() []error { return l }

// Err returns nil for an empty list and the list otherwise.
func (l Errors) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// CheckName reports why name is not a valid service name, or "" when it is.
// Names must be non-empty, at most MaxNameLen bytes, must not contain a
// slash, must not start with a dot and must not contain whitespace or control
// characters (names travel on the control socket as space-separated words).
// The same rule as service_name_error in rules/service/private/validate.bzl,
// which checks names at analysis; both are tested on the cases of
// rules/service/private/service_name_cases.bzl.
func CheckName(name string) string {
	switch {
	case name == "":
		return "empty service name"
	case len(name) > MaxNameLen:
		return fmt.Sprintf("service name longer than %d bytes", MaxNameLen)
	case strings.Contains(name, "/"):
		return fmt.Sprintf("invalid service name %q: contains a slash", name)
	case name[0] == '.':
		return fmt.Sprintf("invalid service name %q: starts with a dot", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c == 0x7f {
			return fmt.Sprintf("invalid service name %q: contains whitespace or a control character", name)
		}
	}
	return ""
}

// Signals accepted in down-signal, by canonical name. The device resolves
// names to numbers for its own architecture (numbers differ on mips).
var Signals = []string{
	"SIGABRT", "SIGALRM", "SIGCONT", "SIGHUP", "SIGINT", "SIGKILL",
	"SIGPWR", "SIGQUIT", "SIGSTOP", "SIGTERM", "SIGUSR1", "SIGUSR2",
	"SIGWINCH",
}

// CanonicalSignal maps "HUP", "sighup", "SIGHUP" to "SIGHUP"; ok is false for
// unknown names.
func CanonicalSignal(s string) (string, bool) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if !strings.HasPrefix(s, "SIG") {
		s = "SIG" + s
	}
	for _, n := range Signals {
		if n == s {
			return n, true
		}
	}
	return "", false
}

// file names
const (
	fType          = "type"
	fDeps          = "dependencies"
	fDepsD         = "dependencies.d"
	fContents      = "contents"
	fContentsD     = "contents.d"
	fUp            = "up"
	fDown          = "down"
	fRun           = "run"
	fFinish        = "finish"
	fNotifFD       = "notification-fd"
	fTimeoutUp     = "timeout-up"
	fTimeoutDown   = "timeout-down"
	fTimeoutKill   = "timeout-kill"
	fTimeoutFinish = "timeout-finish"
	fEssential     = "flag-essential"
	fRecommended   = "flag-recommended"
	fEnv           = "env"
	fData          = "data"
	fProducerFor   = "producer-for"
	fConsumerFor   = "consumer-for"
	fPipelineName  = "pipeline-name"
	fDownSignal    = "down-signal"
	fMaxDeathTally = "max-death-tally"
)

// allowed lists, per type, the files a service may contain. Known files
// not allowed for a type are errors, and so is every other file: a file
// the compiler does not understand would otherwise change nothing while
// its author believes it does.
var allowed = map[Type][]string{
	Oneshot: {fType, fDeps, fDepsD, fUp, fDown, fTimeoutUp, fTimeoutDown, fEssential, fRecommended},
	Longrun: {fType, fDeps, fDepsD, fRun, fFinish, fNotifFD, fTimeoutUp, fTimeoutDown,
		fTimeoutKill, fTimeoutFinish, fEssential, fRecommended, fProducerFor, fConsumerFor,
		fPipelineName, fDownSignal, fMaxDeathTally, fEnv, fData},
	Bundle: {fType, fContents, fContentsD, fEssential, fRecommended},
}

// refused are files of the s6-rc or s6 service directory formats that this
// system does not implement, with the reason given in the error. They are
// refused rather than ignored because each changes how the service runs.
var refused = map[string]string{
	"lock-fd": "s6-supervise's lock-fd is not implemented: the supervisor never " +
		"runs two instances of a service, so there is no lock to hand over",
	"nosetsid": "the supervisor always runs the service in its own session and " +
		"signals its whole process group; nosetsid would let it stop only part of the service",
	"instance":  "s6 instanced services (s6-instance-*) are not supported; define one service per instance",
	"instances": "s6 instanced services (s6-instance-*) are not supported; define one service per instance",
	"log": "s6-rc ignores a log/ subdirectory; define the logger as its own longrun " +
		"with consumer-for, and producer-for in this service",
}

var known = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range allowed {
		for _, f := range l {
			m[f] = true
		}
	}
	return m
}()

type parser struct {
	root string
	name string
	errs Errors
}

func (p *parser) rel(file string) string { return p.name + "/" + file }

func (p *parser) errorf(file, format string, args ...any) {
	f := ""
	if file != "" {
		f = p.rel(file)
	}
	p.errs = append(p.errs, &Error{Service: p.name, File: f, Msg: fmt.Sprintf(format, args...)})
}

// read returns the contents of a regular file, or nil if it does not exist.
func (p *parser) read(file string) []byte {
	path := filepath.Join(p.root, p.name, file)
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		p.errorf(file, "%v", stripPath(err))
		return nil
	}
	if st.IsDir() {
		p.errorf(file, "is a directory, want a file")
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		p.errorf(file, "%v", stripPath(err))
		return nil
	}
	if b == nil {
		b = []byte{}
	}
	return b
}

// stripPath drops the (possibly absolute) path from a *fs.PathError so
// messages only carry paths relative to the source directory.
func stripPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func (p *parser) exists(file string) bool {
	_, err := os.Lstat(filepath.Join(p.root, p.name, file))
	return err == nil
}

// names reads a list of service names, either from the directory dfile
// (one empty file per name) or from the legacy file lfile (one per line).
// It returns the sorted, de-duplicated list and the file used.
func (p *parser) names(dfile, lfile string) ([]string, string) {
	var out []string
	used := ""
	dpath := filepath.Join(p.root, p.name, dfile)
	if st, err := os.Stat(dpath); err == nil {
		used = p.rel(dfile)
		if !st.IsDir() {
			p.errorf(dfile, "is not a directory")
		} else {
			ents, err := os.ReadDir(dpath)
			if err != nil {
				p.errorf(dfile, "%v", stripPath(err))
			}
			for _, e := range ents {
				if msg := CheckName(e.Name()); msg != "" {
					p.errorf(dfile, "%s", msg)
					continue
				}
				out = append(out, e.Name())
			}
		}
	}
	if b := p.read(lfile); b != nil {
		if used != "" {
			p.errorf(lfile, "both %s and %s exist; use only one", dfile, lfile)
		}
		used = p.rel(lfile)
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line[0] == '#' {
				continue
			}
			if msg := CheckName(line); msg != "" {
				p.errorf(lfile, "%s", msg)
				continue
			}
			out = append(out, line)
		}
	}
	return sortUniq(out), used
}

func sortUniq(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	slices.Sort(s)
	return slices.Compact(s)
}

// decimal parses a non-negative decimal integer (surrounding whitespace
// allowed). ok is false when absent; errors are recorded with what.
func (p *parser) decimal(file, what string, max int64) (int64, bool) {
	b := p.read(file)
	if b == nil {
		return 0, false
	}
	s := strings.TrimSpace(string(b))
	valid := s != "" && len(s) <= 18
	for i := 0; valid && i < len(s); i++ {
		valid = s[i] >= '0' && s[i] <= '9'
	}
	if !valid {
		p.errorf(file, "want %s as a decimal integer, got %q", what, truncate(s))
		return 0, false
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v > max {
		p.errorf(file, "want %s as a decimal integer at most %d, got %q", what, max, truncate(s))
		return 0, false
	}
	return v, true
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// single reads a file holding exactly one service name.
func (p *parser) single(file string) string {
	b := p.read(file)
	if b == nil {
		return ""
	}
	s := strings.TrimSpace(string(b))
	if strings.ContainsAny(s, "\n") {
		p.errorf(file, "want a single service name, got several lines")
		return ""
	}
	if msg := CheckName(s); msg != "" {
		p.errorf(file, "%s", msg)
		return ""
	}
	return s
}

// ParseService parses the service directory root/name. It returns the
// service (possibly partial) and every error found.
func ParseService(root, name string) (*Service, Errors) {
	p := &parser{root: root, name: name}
	if msg := CheckName(name); msg != "" {
		p.errorf("", "%s", msg)
		return nil, p.errs
	}
	st, err := os.Stat(filepath.Join(root, name))
	if err != nil {
		p.errorf("", "%v", stripPath(err))
		return nil, p.errs
	}
	if !st.IsDir() {
		p.errorf("", "not a directory")
		return nil, p.errs
	}
	s := &Service{Name: name, NotificationFD: -1, TimeoutFinish: DefaultTimeoutFinish,
		MaxDeathTally: DefaultMaxDeathTally, DownSignal: DefaultDownSignal}

	tb := p.read(fType)
	if tb == nil {
		if !p.exists(fType) {
			p.errorf(fType, "missing; want one of oneshot, longrun, bundle")
		}
		return nil, p.errs
	}
	s.Type = Type(strings.TrimSpace(string(tb)))
	if _, ok := allowed[s.Type]; !ok {
		p.errorf(fType, "unknown type %q; want one of oneshot, longrun, bundle", truncate(string(s.Type)))
		return nil, p.errs
	}

	// Every file must be one this type understands.
	ok := map[string]bool{}
	for _, f := range allowed[s.Type] {
		ok[f] = true
	}
	ents, err := os.ReadDir(filepath.Join(root, name))
	if err != nil {
		p.errorf("", "%v", stripPath(err))
	}
	for _, e := range ents { // sorted by name
		f := e.Name()
		switch {
		case ok[f]:
		case refused[f] != "":
			p.errorf(f, "not supported: %s", refused[f])
		case known[f]:
			p.errorf(f, "not allowed in a %s", s.Type)
		default:
			p.errorf(f, "unknown file in a %s definition", s.Type)
		}
	}

	switch s.Type {
	case Bundle:
		s.Essential = p.exists(fEssential)
		s.Recommended = p.exists(fRecommended)
		s.Contents, s.ContentsFile = p.names(fContentsD, fContents)
		if s.ContentsFile == "" {
			p.errorf("", "bundle has neither contents.d/ nor contents")
		}
		for _, c := range s.Contents {
			if c == name {
				p.errorf(strings.TrimPrefix(s.ContentsFile, name+"/"), "bundle contains itself")
			}
		}
		return s, p.errs
	case Oneshot:
		s.Up = p.read(fUp)
		s.Down = p.read(fDown)
		if s.Up == nil && !p.exists(fUp) {
			p.errorf(fUp, "missing; a oneshot needs an up script")
		}
		for _, f := range []struct {
			name string
			b    []byte
		}{{fUp, s.Up}, {fDown, s.Down}} {
			if f.b == nil {
				continue
			}
			if msg := CheckExecline(f.b); msg != "" {
				p.errorf(f.name, "%s", msg)
			}
		}
	case Longrun:
		s.Run = p.read(fRun)
		s.Finish = p.read(fFinish)
		if s.Run == nil && !p.exists(fRun) {
			p.errorf(fRun, "missing; a longrun needs a run script")
		} else if s.Run != nil && len(s.Run) == 0 {
			p.errorf(fRun, "empty run script")
		}
		if v, ok := p.decimal(fNotifFD, "a file descriptor number", MaxNotificationFD); ok {
			if v < MinNotificationFD {
				p.errorf(fNotifFD, "descriptor %d is stdin, stdout or stderr; want %d or more", v, MinNotificationFD)
			} else {
				s.NotificationFD = int(v)
			}
		}
		if v, ok := p.decimal(fTimeoutKill, "milliseconds", MaxTimeout); ok {
			s.TimeoutKill = v
		}
		if v, ok := p.decimal(fTimeoutFinish, "milliseconds", MaxTimeout); ok {
			s.TimeoutFinish = v
		}
		if v, ok := p.decimal(fMaxDeathTally, "a count", MaxMaxDeathTally); ok {
			s.MaxDeathTally = int(v)
		}
		if b := p.read(fDownSignal); b != nil {
			if sig, ok := CanonicalSignal(string(b)); ok {
				s.DownSignal = sig
			} else {
				p.errorf(fDownSignal, "unknown signal %q; want one of %s", truncate(strings.TrimSpace(string(b))), strings.Join(Signals, " "))
			}
		}
		s.ProducerFor = p.single(fProducerFor)
		if b := p.read(fConsumerFor); b != nil {
			for _, line := range strings.Split(string(b), "\n") {
				line = strings.TrimSpace(line)
				if line == "" {
					continue
				}
				if msg := CheckName(line); msg != "" {
					p.errorf(fConsumerFor, "%s", msg)
					continue
				}
				s.ConsumerFor = append(s.ConsumerFor, line)
			}
			s.ConsumerFor = sortUniq(s.ConsumerFor)
			if len(s.ConsumerFor) == 0 {
				p.errorf(fConsumerFor, "empty; want producer names, one per line")
			}
		}
		s.PipelineName = p.single(fPipelineName)
		if s.ProducerFor == name {
			p.errorf(fProducerFor, "service cannot be its own consumer")
		}
		for _, c := range s.ConsumerFor {
			if c == name {
				p.errorf(fConsumerFor, "service cannot be its own producer")
			}
		}
		if s.PipelineName != "" && len(s.ConsumerFor) == 0 {
			p.errorf(fPipelineName, "only allowed on the last consumer of a pipeline (needs consumer-for)")
		}
		if s.PipelineName != "" && s.ProducerFor != "" {
			p.errorf(fPipelineName, "only allowed on the last consumer of a pipeline (this service is producer-for %q)", s.ProducerFor)
		}
		s.Env = p.envdir(fEnv)
		s.Data = p.datadir(fData)
	}
	if v, ok := p.decimal(fTimeoutUp, "milliseconds", MaxTimeout); ok {
		s.TimeoutUp = v
	}
	if v, ok := p.decimal(fTimeoutDown, "milliseconds", MaxTimeout); ok {
		s.TimeoutDown = v
	}
	s.Essential = p.exists(fEssential)
	s.Recommended = p.exists(fRecommended)
	s.Dependencies, s.DepsFile = p.names(fDepsD, fDeps)
	for _, d := range s.Dependencies {
		if d == name {
			p.errorf(strings.TrimPrefix(s.DepsFile, name+"/"), "service depends on itself")
		}
	}
	return s, p.errs
}

// ParseDir parses every service of a source directory. Subdirectories are
// services; other entries (README files and the like) are ignored. Services
// are returned sorted by name along with all errors found.
func ParseDir(root string) ([]*Service, Errors) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, Errors{fmt.Errorf("source directory %s: %w", root, stripPath(err))}
	}
	var out []*Service
	var errs Errors
	for _, e := range ents {
		isDir := e.IsDir()
		if e.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(filepath.Join(root, e.Name()))
			isDir = err == nil && st.IsDir()
		}
		if !isDir {
			continue
		}
		s, el := ParseService(root, e.Name())
		errs = append(errs, el...)
		if s != nil {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errs
}
