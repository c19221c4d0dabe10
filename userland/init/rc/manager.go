// Package rc is the service manager: it keeps the state of every service of
// a compiled database, runs state changes (bring services up with their
// dependencies first, or down with their dependents first, independent
// services in parallel), supervises longruns through package supervise, and
// serves the control socket used by the `rc` command.
package rc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"bazwrt/userland/init/proc"
	"bazwrt/userland/init/supervise"
	"bazwrt/userland/init/svcdb"
	"bazwrt/userland/init/svclog"
	"bazwrt/userland/init/svcsrc"
)

// Config configures a Manager. Zero values get the documented defaults.
type Config struct {
	DB         *svcdb.DB
	LiveDir    string // service directories (cwd of scripts), e.g. /run/services/live
	OutputsDir string // e.g. /run/services/outputs
	LogDir     string // per-longrun logs, e.g. /run/log
	Shell      string // runs longruns' run and finish without "#!", default /bin/sh
	// Execlineb runs oneshots' up and down, which are execline scripts
	// (s6-rc runs them with execlineb -P): the command is Execlineb, then
	// -P and the script's file in the live directory. Default: the
	// execlineb applet of this very binary, ["/proc/self/exe",
	// "execlineb"] (it dispatches on its first argument).
	Execlineb []string
	Path      string // PATH given to services
	// Log is the catch-all log: the manager's own messages and the output
	// of oneshot scripts (prefixed by "NAME: up: "). Required.
	Log       *svclog.Logger
	LogSize   int64 // per-file size of service logs
	LogCount  int   // files kept per service log
	Backoff   supervise.Backoff
	KillGrace time.Duration // oneshot killed on timeout: SIGTERM, then SIGKILL after this
	// EventHook, if set, sees every event of every longrun, in the
	// longrun's supervision goroutine with the manager locked, after the
	// manager handled it (init's INIT_FAULT fault injection uses it).
	EventHook func(service string, e supervise.Event)
}

// DefaultPath is the PATH of services.
const DefaultPath = "/usr/sbin:/usr/bin:/sbin:/bin"

// State of a service.
type State int

// States. Oneshots go Down → Starting → Up (or Failed) and back through
// Stopping; longruns are Starting until ready, then Ready, and back to
// Starting while being restarted after a crash.
const (
	Down State = iota
	Starting
	Up
	Ready
	Stopping
	Failed
)

func (s State) String() string {
	return [...]string{"down", "starting", "up", "ready", "stopping", "failed"}[s]
}

// Death is one recorded death of a longrun.
type Death struct {
	Time   time.Time
	Status string
}

type svc struct {
	def      *svcdb.Service
	state    State
	since    time.Time
	pid      int
	lastExit string
	lastErr  string
	restarts int
	deaths   []Death
	busy     bool // a transition (script run, stop) owns the service
	changed  chan struct{}
	lr       *supervise.Longrun
	logW     *os.File // write end of the service's log pipe
	log      *svclog.Logger
}

type pipe struct{ r, w *os.File }

// Manager owns the run-time state of all services.
type Manager struct {
	cfg      Config
	db       *svcdb.DB
	mu       sync.Mutex
	svcs     map[string]*svc
	pipes    map[string]*pipe // by consumer name
	shutting bool
}

// New prepares the live directories and returns a Manager with every
// service down.
func New(cfg Config) (*Manager, error) {
	if cfg.DB == nil || cfg.Log == nil {
		return nil, errors.New("rc: Config needs DB and Log")
	}
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	if len(cfg.Execlineb) == 0 {
		cfg.Execlineb = []string{"/proc/self/exe", "execlineb"}
	}
	if cfg.Path == "" {
		cfg.Path = DefaultPath
	}
	if cfg.Backoff.Initial <= 0 {
		cfg.Backoff = supervise.DefaultBackoff
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 2 * time.Second
	}
	if cfg.LogSize <= 0 {
		cfg.LogSize = svclog.DefaultMaxSize
	}
	if cfg.LogCount <= 0 {
		cfg.LogCount = svclog.DefaultCount
	}
	m := &Manager{cfg: cfg, db: cfg.DB, svcs: map[string]*svc{}, pipes: map[string]*pipe{}}
	for _, dir := range []string{cfg.LiveDir, cfg.OutputsDir, cfg.LogDir} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	now := time.Now()
	for _, d := range cfg.DB.Services {
		if !d.Atomic() {
			continue
		}
		if err := m.writeLive(d); err != nil {
			return nil, err
		}
		s := &svc{def: d, since: now, changed: make(chan struct{})}
		if d.Type == svcsrc.Oneshot {
			// Up under a previous manager of this boot: adopted as up.
			if _, err := os.Stat(filepath.Join(cfg.LiveDir, d.Name, upMarker)); err == nil {
				s.state = Up
			}
		}
		m.svcs[d.Name] = s
		if len(d.ConsumerFor) > 0 {
			r, w, err := os.Pipe()
			if err != nil {
				return nil, err
			}
			m.pipes[d.Name] = &pipe{r, w}
		}
	}
	return m, nil
}

// writeLive materializes a service directory: its scripts, mode 0755.
func (m *Manager) writeLive(d *svcdb.Service) error {
	dir := filepath.Join(m.cfg.LiveDir, d.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		b    []byte
	}{{"up", d.Up}, {"down", d.Down}, {"run", d.Run}, {"finish", d.Finish}} {
		if f.b == nil {
			continue
		}
		p := filepath.Join(dir, f.name)
		if err := os.WriteFile(p, f.b, 0o755); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o755); err != nil {
			return err
		}
	}
	// data/ is copied as s6-rc copies it into the service directory, so
	// run scripts find it by relative path. Start from scratch so that
	// files of an older database do not linger.
	data := filepath.Join(dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return err
	}
	if len(d.Data) == 0 {
		return nil
	}
	if err := os.Mkdir(data, 0o755); err != nil {
		return err
	}
	for _, f := range d.Data {
		p := filepath.Join(data, filepath.FromSlash(f.Path))
		if strings.HasSuffix(f.Path, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		} else {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, f.Content, 0o600); err != nil {
				return err
			}
		}
	}
	// Modes last, deepest first: the umask and MkdirAll must not decide
	// them, and a read-only directory must not stop its files' writes.
	for i := len(d.Data) - 1; i >= 0; i-- {
		f := d.Data[i]
		if err := os.Chmod(filepath.Join(data, filepath.FromSlash(f.Path)), f.Mode); err != nil {
			return err
		}
	}
	return nil
}

func (m *Manager) logf(format string, args ...any) { m.cfg.Log.Printf(format, args...) }

// set changes the state and wakes waiters; m.mu must be held.
func (m *Manager) set(s *svc, st State) {
	if s.state != st {
		s.state = st
		s.since = time.Now()
		if s.def.Type == svcsrc.Oneshot {
			m.markOneshot(s, st)
		}
	}
	m.bump(s)
}

// upMarker is the file in a oneshot's live directory that says its up
// script ran and its down script has not: what a service manager started
// again after a crash (see sysinit) adopts instead of running up twice (a
// bridge or an address that already exists would fail it).
const upMarker = ".up"

func (m *Manager) markOneshot(s *svc, st State) {
	p := filepath.Join(m.liveDir(s), upMarker)
	switch st {
	case Up:
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			m.logf("%s: %v", s.def.Name, err)
		}
	case Down, Failed:
		os.Remove(p)
	}
}

func (m *Manager) bump(s *svc) {
	close(s.changed)
	s.changed = make(chan struct{})
}

var errTimeout = errors.New("timeout")

// wait releases m.mu until s changes, ctx ends or timeout fires.
func (m *Manager) wait(ctx context.Context, s *svc, timeout <-chan time.Time) error {
	ch := s.changed
	m.mu.Unlock()
	defer m.mu.Lock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
		return errTimeout
	}
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }

func (m *Manager) outputs(s *svc) string { return filepath.Join(m.cfg.OutputsDir, s.def.Name) }

func (m *Manager) prepareOutputs(s *svc) {
	d := m.outputs(s)
	os.RemoveAll(d)
	if err := os.MkdirAll(d, 0o755); err != nil {
		m.logf("%s: outputs: %v", s.def.Name, err)
	}
}

func (m *Manager) clearOutputs(s *svc) { os.RemoveAll(m.outputs(s)) }

func (m *Manager) env(s *svc) []string {
	return []string{
		"PATH=" + m.cfg.Path,
		"SERVICE=" + s.def.Name,
		"OUTPUTS=" + m.outputs(s),
		"OUTPUTS_DIR=" + m.cfg.OutputsDir,
	}
}

func (m *Manager) liveDir(s *svc) string { return filepath.Join(m.cfg.LiveDir, s.def.Name) }

var errShutdown = errors.New("system is shutting down")

// bringUp brings one service up, assuming its dependencies are up.
func (m *Manager) bringUp(ctx context.Context, s *svc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.def.Type == svcsrc.Longrun {
		return m.upLongrun(ctx, s)
	}
	for {
		if m.shutting {
			return errShutdown
		}
		if s.busy {
			if err := m.wait(ctx, s, nil); err != nil {
				return err
			}
			continue
		}
		if s.state == Up {
			return nil
		}
		s.busy = true
		s.lastErr = ""
		m.set(s, Starting)
		m.prepareOutputs(s)
		m.mu.Unlock()
		err := m.runScript(ctx, s, "up", ms(s.def.TimeoutUp))
		m.mu.Lock()
		s.busy = false
		if err != nil {
			s.lastErr = err.Error()
			m.clearOutputs(s)
			m.set(s, Failed)
			m.logf("%s: failed: %v", s.def.Name, err)
			return err
		}
		m.set(s, Up)
		m.logf("%s: up", s.def.Name)
		return nil
	}
}

func (m *Manager) upLongrun(ctx context.Context, s *svc) error {
	var timeout <-chan time.Time
	if s.def.TimeoutUp > 0 {
		t := time.NewTimer(ms(s.def.TimeoutUp))
		defer t.Stop()
		timeout = t.C
	}
	for {
		if m.shutting {
			return errShutdown
		}
		if s.busy {
			if err := m.wait(ctx, s, timeout); err != nil {
				return m.upFailed(s, err)
			}
			continue
		}
		switch s.state {
		case Ready:
			return nil
		case Failed:
			if s.lr != nil {
				m.stopAsync(s, Down)
				continue
			}
			m.startLongrun(s)
		case Down:
			m.startLongrun(s)
		}
		if err := m.wait(ctx, s, timeout); err != nil {
			return m.upFailed(s, err)
		}
	}
}

func (m *Manager) upFailed(s *svc, err error) error {
	if err == errTimeout {
		err = fmt.Errorf("not ready after timeout-up %v", ms(s.def.TimeoutUp))
		if s.lastExit != "" {
			err = fmt.Errorf("%v (last exit: %s)", err, s.lastExit)
		}
		s.lastErr = err.Error()
		m.logf("%s: %v; stopping it", s.def.Name, err)
		if !s.busy && s.lr != nil {
			m.stopAsync(s, Failed)
		}
	}
	return err
}

// ensureLog opens the service's own log directory and pipe.
func (m *Manager) ensureLog(s *svc) *os.File {
	if s.logW != nil {
		return s.logW
	}
	lg, err := svclog.Open(svclog.Options{Dir: filepath.Join(m.cfg.LogDir, s.def.Name),
		MaxSize: m.cfg.LogSize, Count: m.cfg.LogCount})
	if err != nil {
		m.logf("%s: cannot open log, using the catch-all log: %v", s.def.Name, err)
		w, err := m.cfg.Log.Pipe(s.def.Name+": ", nil)
		if err != nil {
			return nil
		}
		s.logW = w
		return w
	}
	w, err := lg.Pipe("", nil)
	if err != nil {
		lg.Close()
		return nil
	}
	s.log, s.logW = lg, w
	return w
}

// startLongrun starts the supervision loop; m.mu must be held.
func (m *Manager) startLongrun(s *svc) {
	d := s.def
	m.prepareOutputs(s)
	logW := m.ensureLog(s)
	// The service's env/ applies to run and finish, as if each were
	// started through s6-envdir: it may override the base variables.
	env := svcsrc.ApplyEnv(m.env(s), d.Env)
	dir := m.liveDir(s)
	c := supervise.LongrunConfig{
		Name:          d.Name,
		Run:           supervise.ScriptCommand(m.cfg.Shell, dir, "run", d.Run, env),
		NotifyFD:      d.NotificationFD,
		DownSignal:    signalNumber(d.DownSignal),
		TimeoutKill:   ms(d.TimeoutKill),
		TimeoutFinish: ms(d.TimeoutFinish),
		Stdout:        logW,
		Stderr:        logW,
		Backoff:       m.cfg.Backoff,
	}
	if d.Finish != nil {
		f := supervise.ScriptCommand(m.cfg.Shell, dir, "finish", d.Finish, env)
		c.Finish = &f
	}
	if p := m.pipes[d.ProducerFor]; d.ProducerFor != "" && p != nil {
		c.Stdout = p.w
	}
	if p := m.pipes[d.Name]; p != nil {
		c.Stdin = p.r
	}
	var lr *supervise.Longrun
	c.Events = func(e supervise.Event) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if s.lr == lr {
			m.onEvent(s, e)
		}
		if m.cfg.EventHook != nil {
			m.cfg.EventHook(d.Name, e)
		}
	}
	s.lastErr = ""
	lr = supervise.StartLongrun(c)
	s.lr = lr
	m.set(s, Starting)
}

func (m *Manager) onEvent(s *svc, e supervise.Event) {
	name := s.def.Name
	switch e.Kind {
	case supervise.Spawned:
		s.pid = e.Pid
		m.logf("%s: started, pid %d", name, e.Pid)
		if s.state == Failed {
			m.set(s, Starting) // revived by rc restart after giving up
		} else {
			m.bump(s)
		}
	case supervise.Ready:
		if s.state == Starting {
			m.logf("%s: ready", name)
			m.set(s, Ready)
		}
	case supervise.Died:
		s.pid = 0
		s.lastExit = proc.DescribeStatus(e.Status)
		if max := s.def.MaxDeathTally; max > 0 {
			s.deaths = append(s.deaths, Death{time.Now(), s.lastExit})
			if len(s.deaths) > max {
				s.deaths = s.deaths[len(s.deaths)-max:]
			}
		}
		if s.state == Stopping {
			m.logf("%s: stopped (%s)", name, s.lastExit)
			m.bump(s)
			return
		}
		s.restarts++
		m.logf("%s: died (%s) after %v", name, s.lastExit, e.Uptime.Round(time.Millisecond))
		if s.state == Ready {
			m.set(s, Starting)
		} else {
			m.bump(s)
		}
	case supervise.SpawnFailed:
		s.lastErr = e.Err.Error()
		m.logf("%s: cannot start: %v", name, e.Err)
		m.bump(s)
	case supervise.Waiting:
		m.logf("%s: restarting in %v", name, e.Delay)
	case supervise.GaveUp:
		if s.state != Stopping {
			s.lastErr = e.Err.Error()
			m.logf("%s: %v", name, e.Err)
			m.set(s, Failed)
		}
	}
}

// stopAsync starts stopping a longrun; when done the state becomes final.
// m.mu must be held; the returned channel is closed once stopped.
func (m *Manager) stopAsync(s *svc, final State) chan struct{} {
	s.busy = true
	m.set(s, Stopping)
	lr := s.lr
	done := make(chan struct{})
	go func() {
		if lr != nil {
			lr.Stop()
		}
		m.mu.Lock()
		s.lr = nil
		s.pid = 0
		s.busy = false
		m.clearOutputs(s)
		m.set(s, final)
		m.mu.Unlock()
		close(done)
	}()
	return done
}

// bringDown brings one service down, assuming its dependents are down.
func (m *Manager) bringDown(ctx context.Context, s *svc) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var timeout <-chan time.Time
	if s.def.TimeoutDown > 0 {
		t := time.NewTimer(ms(s.def.TimeoutDown))
		defer t.Stop()
		timeout = t.C
	}
	for {
		if s.busy {
			if err := m.wait(ctx, s, timeout); err != nil {
				if err == errTimeout {
					err = fmt.Errorf("still %s after timeout-down %v", s.state, ms(s.def.TimeoutDown))
				}
				return err
			}
			continue
		}
		if s.state == Down {
			return nil
		}
		if s.def.Type == svcsrc.Longrun {
			if s.lr == nil {
				m.clearOutputs(s)
				m.set(s, Down)
				return nil
			}
			m.logf("%s: stopping", s.def.Name)
			m.stopAsync(s, Down)
			continue
		}
		if s.state == Failed {
			m.set(s, Down)
			return nil
		}
		s.busy = true
		m.set(s, Stopping)
		var err error
		if s.def.Down != nil {
			m.mu.Unlock()
			err = m.runScript(ctx, s, "down", ms(s.def.TimeoutDown))
			m.mu.Lock()
		}
		s.busy = false
		m.clearOutputs(s)
		if err != nil {
			// The service is considered down anyway, so that shutdown
			// and dependencies can proceed; the failure is reported.
			s.lastErr = err.Error()
			m.logf("%s: %v (marked down anyway)", s.def.Name, err)
		} else {
			m.logf("%s: down", s.def.Name)
		}
		m.set(s, Down)
		return err
	}
}

// tail keeps the last few lines of a script's output for error messages.
type tail struct {
	mu    sync.Mutex
	lines []string
}

func (t *tail) add(s string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lines = append(t.lines, s)
	if len(t.lines) > 3 {
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == 0 {
		return ""
	}
	return fmt.Sprintf("; last output: %q", strings.Join(t.lines, " | "))
}

// runScript runs a oneshot's up or down script, an execline script, as
// s6-rc does (execlineb -P, from its file in the live directory), logging
// its output to the catch-all log.
func (m *Manager) runScript(ctx context.Context, s *svc, which string, timeout time.Duration) error {
	dir := m.liveDir(s)
	argv := append(slices.Clone(m.cfg.Execlineb), "-P", filepath.Join(dir, which))
	cmd := supervise.Command{Argv: argv, Dir: dir, Env: m.env(s)}
	tl := &tail{}
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: %v", which, err)
	}
	copied := make(chan struct{})
	go func() {
		m.cfg.Log.Copy(r, s.def.Name+": "+which+": ", tl.add)
		close(copied)
	}()
	err = supervise.RunOneshot(ctx, supervise.Oneshot{
		Cmd: cmd, Timeout: timeout, KillGrace: m.cfg.KillGrace, Output: w,
		Started: func(pid int) {
			m.mu.Lock()
			s.pid = pid
			m.bump(s)
			m.mu.Unlock()
		},
	})
	w.Close()
	// Wait briefly for the last output; a daemon forked by the script may
	// keep the pipe open forever, so do not wait for EOF unconditionally.
	select {
	case <-copied:
	case <-time.After(200 * time.Millisecond):
	}
	m.mu.Lock()
	s.pid = 0
	m.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s script: %v%s", which, err, tl)
	}
	return nil
}

var signals = map[string]syscall.Signal{
	"SIGABRT": syscall.SIGABRT, "SIGALRM": syscall.SIGALRM, "SIGCONT": syscall.SIGCONT,
	"SIGHUP": syscall.SIGHUP, "SIGINT": syscall.SIGINT, "SIGKILL": syscall.SIGKILL,
	"SIGPWR": syscall.SIGPWR, "SIGQUIT": syscall.SIGQUIT, "SIGSTOP": syscall.SIGSTOP,
	"SIGTERM": syscall.SIGTERM, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2,
	"SIGWINCH": syscall.SIGWINCH,
}

func signalNumber(name string) syscall.Signal {
	if s, ok := signals[name]; ok {
		return s
	}
	return syscall.SIGTERM
}

// Failure is one service that did not make a transition.
type Failure struct {
	Service string
	// Err is the service's own failure; nil when it was skipped because
	// Blocker (a dependency, or a dependent when going down) failed.
	Err     error
	Blocker string
}

// ChangeError lists the failures of a state change, root causes first.
type ChangeError struct {
	Up       bool
	Failures []Failure
}

func (e *ChangeError) Error() string {
	var lines []string
	for _, f := range e.Failures {
		switch {
		case f.Err != nil && e.Up:
			lines = append(lines, fmt.Sprintf("svc %q: failed to start: %v", f.Service, f.Err))
		case f.Err != nil:
			lines = append(lines, fmt.Sprintf("svc %q: failed to stop: %v", f.Service, f.Err))
		case e.Up:
			lines = append(lines, fmt.Sprintf("svc %q: not started: dependency %q failed", f.Service, f.Blocker))
		default:
			lines = append(lines, fmt.Sprintf("svc %q: not stopped: dependent %q failed to stop", f.Service, f.Blocker))
		}
	}
	return strings.Join(lines, "\n")
}

// ChangeOptions tune Change.
type ChangeOptions struct {
	// Force also brings down essential services (rc change -D).
	Force bool
	// Progress receives one line per completed service transition.
	Progress func(string)
}

// closure returns names plus everything reachable through next, sorted.
func (m *Manager) closure(names []string, next func(*svcdb.Service) []string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		if s := m.svcs[n]; s != nil {
			for _, d := range next(s.def) {
				walk(d)
			}
		}
	}
	for _, n := range names {
		walk(n)
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func deps(d *svcdb.Service) []string    { return d.Deps }
func revdeps(d *svcdb.Service) []string { return d.RevDeps }

// Change brings the named services (bundles allowed) up, with all their
// dependencies first, or down, with all their dependents first.
// Independent services change in parallel. A service whose dependency
// (dependent, going down) failed is skipped. The returned *ChangeError
// names every failure.
func (m *Manager) Change(ctx context.Context, up bool, names []string, o ChangeOptions) error {
	atoms, err := m.db.Resolve(names)
	if err != nil {
		return err
	}
	if up {
		return m.transact(ctx, true, m.closure(atoms, deps), deps, false, o.Progress,
			func(ctx context.Context, s *svc) error { return m.bringUp(ctx, s) })
	}
	return m.transact(ctx, false, m.closure(atoms, revdeps), revdeps, false, o.Progress,
		func(ctx context.Context, s *svc) error {
			if s.def.Essential && !o.Force {
				m.mu.Lock()
				st := s.state
				m.mu.Unlock()
				if st != Down {
					return errors.New("essential service; use -D to stop it")
				}
			}
			return m.bringDown(ctx, s)
		})
}

func (m *Manager) transact(ctx context.Context, up bool, set []string, waitFor func(*svcdb.Service) []string,
	ignoreFailures bool, progress func(string), act func(context.Context, *svc) error) error {
	type result struct {
		done    chan struct{}
		err     error
		blocker string
	}
	rs := make(map[string]*result, len(set))
	for _, n := range set {
		rs[n] = &result{done: make(chan struct{})}
	}
	verb := "up"
	if !up {
		verb = "down"
	}
	var wg sync.WaitGroup
	for _, n := range set {
		wg.Add(1)
		go func(n string) {
			defer wg.Done()
			r := rs[n]
			defer close(r.done)
			s := m.svcs[n]
			if s == nil {
				// Only a database that bypassed svcdb.Check can
				// refer to a service that does not exist.
				r.err = fmt.Errorf("unknown service %q", n)
				return
			}
			for _, w := range waitFor(s.def) {
				wr := rs[w]
				if wr == nil {
					continue
				}
				// A dependency cycle (possible only in a database
				// that bypassed svcdb.Check) would wait forever:
				// the context bounds it.
				select {
				case <-wr.done:
				case <-ctx.Done():
					r.err = fmt.Errorf("waiting for %q: %w", w, ctx.Err())
					return
				}
				if !ignoreFailures && (wr.err != nil || wr.blocker != "") {
					r.blocker = w
					return
				}
			}
			r.err = act(ctx, s)
			if progress != nil {
				if r.err != nil {
					progress(fmt.Sprintf("%s: %s failed: %v", n, verb, r.err))
				} else {
					progress(fmt.Sprintf("%s: %s", n, verb))
				}
			}
		}(n)
	}
	wg.Wait()
	ce := &ChangeError{Up: up}
	for _, n := range set {
		if r := rs[n]; r.err != nil {
			ce.Failures = append(ce.Failures, Failure{Service: n, Err: r.err})
		}
	}
	for _, n := range set {
		if r := rs[n]; r.blocker != "" {
			// Name the root cause, not an intermediate skipped service.
			b := r.blocker
			for rs[b].blocker != "" {
				b = rs[b].blocker
			}
			ce.Failures = append(ce.Failures, Failure{Service: n, Blocker: b})
		}
	}
	if len(ce.Failures) > 0 {
		return ce
	}
	return nil
}

// Restart restarts a service: a longrun gets its down signal and is
// respawned at once (no backoff); a oneshot runs down then up (dependents
// are left alone). ctx bounds the wait, also for a supervisor busy running
// a finish script.
func (m *Manager) Restart(ctx context.Context, name string) error {
	m.mu.Lock()
	s := m.svcs[name]
	if s == nil {
		m.mu.Unlock()
		if m.db.Lookup(name) != nil {
			return fmt.Errorf("%q is a bundle; restart its services one by one", name)
		}
		return fmt.Errorf("unknown service %q", name)
	}
	if s.def.Type == svcsrc.Longrun {
		lr, busy, st := s.lr, s.busy, s.state
		m.mu.Unlock()
		if lr == nil || busy {
			return fmt.Errorf("%q is %s, not running", name, st)
		}
		// Not under m.mu: the supervision loop may be waiting for it
		// to report an event.
		m.logf("%s: restart requested", name)
		if err := lr.RestartContext(ctx); err != nil {
			return fmt.Errorf("%q: restart not taken by its supervisor: %w", name, err)
		}
		return nil
	}
	st := s.state
	m.mu.Unlock()
	if st != Up {
		return fmt.Errorf("%q is %s, not up", name, st)
	}
	if err := m.bringDown(ctx, s); err != nil {
		return err
	}
	return m.bringUp(ctx, s)
}

// Shutdown brings every service down in reverse dependency order
// (essential ones too). Failures do not stop the sequence: a dependency is
// stopped once its dependents have been handled, whatever the outcome.
// After Shutdown the Manager refuses to start services.
func (m *Manager) Shutdown(ctx context.Context, progress func(string)) error {
	m.mu.Lock()
	m.shutting = true
	all := make([]string, 0, len(m.svcs))
	for n := range m.svcs {
		all = append(all, n)
	}
	m.mu.Unlock()
	sort.Strings(all)
	return m.transact(ctx, false, all, revdeps, true, progress,
		func(ctx context.Context, s *svc) error { return m.bringDown(ctx, s) })
}

// Close flushes and closes the service logs. Call after Shutdown.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.svcs {
		if s.logW != nil {
			s.logW.Close()
		}
		if s.log != nil {
			s.log.Sync(time.Second)
			s.log.Close()
		}
		s.logW, s.log = nil, nil
	}
}

// Status is a snapshot of one service.
type Status struct {
	Name     string
	Type     svcsrc.Type
	State    State
	Pid      int
	Since    time.Time
	LastExit string
	Restarts int
	Deaths   int
	Err      string
}

// Status returns snapshots of the named services (all atomic services when
// names is empty; bundles expand to their contents).
func (m *Manager) Status(names []string) ([]Status, error) {
	var atoms []string
	if len(names) == 0 {
		for n := range m.svcs {
			atoms = append(atoms, n)
		}
		sort.Strings(atoms)
	} else {
		var err error
		if atoms, err = m.db.Resolve(names); err != nil {
			return nil, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Status, 0, len(atoms))
	for _, n := range atoms {
		s := m.svcs[n]
		out = append(out, Status{Name: n, Type: s.def.Type, State: s.state, Pid: s.pid, Since: s.since,
			LastExit: s.lastExit, Restarts: s.restarts, Deaths: len(s.deaths), Err: s.lastErr})
	}
	return out, nil
}

// StateOf returns the state of one service (Down for unknown names).
func (m *Manager) StateOf(name string) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.svcs[name]; s != nil {
		return s.state
	}
	return Down
}

// Format renders a status line: NAME key=value....
func (st Status) Format(now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s type=%s state=%s", st.Name, st.Type, st.State)
	if st.Pid > 0 {
		fmt.Fprintf(&b, " pid=%d", st.Pid)
	}
	fmt.Fprintf(&b, " since=%s (%s ago)", st.Since.UTC().Format(time.RFC3339), now.Sub(st.Since).Round(time.Second))
	if st.LastExit != "" {
		fmt.Fprintf(&b, " last=%q", st.LastExit)
	}
	if st.Type == svcsrc.Longrun {
		fmt.Fprintf(&b, " restarts=%d", st.Restarts)
	}
	if st.Err != "" {
		fmt.Fprintf(&b, " error=%q", st.Err)
	}
	return b.String()
}

// List returns service names: "up" (not down or failed), "down" (down or
// failed) or "all" (every service, bundles included).
func (m *Manager) List(which string) ([]string, error) {
	var out []string
	switch which {
	case "all":
		for _, s := range m.db.Services {
			out = append(out, s.Name)
		}
		return out, nil
	case "up", "down":
	default:
		return nil, fmt.Errorf("list: want up, down or all, got %q", which)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for n, s := range m.svcs {
		isDown := s.state == Down || s.state == Failed
		if isDown == (which == "down") {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// KillAll sends sig to every process group the manager (or any other user
// of package proc in this process) started, and returns how many.
func KillAll(sig syscall.Signal) int { return proc.SignalAll(sig) }
