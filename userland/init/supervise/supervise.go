// Package supervise runs service processes: oneshot scripts with a timeout,
// and longruns under a supervision loop (the s6-supervise equivalent) that
// restarts them with exponential backoff, tracks readiness through a
// notification descriptor, and runs the finish script after each death.
package supervise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"bazwrt/userland/init/proc"
)

// Command is a program to run.
type Command struct {
	Argv []string
	Dir  string
	Env  []string
}

// IsDirectExec reports whether a script is run as an executable file (it
// starts with "#!" or is an ELF binary) rather than through the shell.
func IsDirectExec(content []byte) bool {
	return bytes.HasPrefix(content, []byte("#!")) || bytes.HasPrefix(content, []byte("\x7fELF"))
}

// ScriptCommand builds the command running the script called name whose
// content is stored in dir/name. Scripts starting with "#!" (or ELF
// binaries) are executed directly; anything else runs as
// `shell -c CONTENT name ARGS...`, so $0 is the script name and $1... the
// arguments.
func ScriptCommand(shell, dir, name string, content []byte, env []string, args ...string) Command {
	c := Command{Dir: dir, Env: env}
	if IsDirectExec(content) {
		c.Argv = append([]string{filepath.Join(dir, name)}, args...)
	} else {
		c.Argv = append([]string{shell, "-c", string(content), name}, args...)
	}
	return c
}

func devNull() (*os.File, error) { return os.OpenFile(os.DevNull, os.O_RDWR, 0) }

// ErrTimeout is wrapped by RunOneshot when the script was killed for
// exceeding its timeout.
var ErrTimeout = errors.New("timed out")

// Oneshot describes one run of an up or down script.
type Oneshot struct {
	Cmd     Command
	Timeout time.Duration // 0 = none
	// KillGrace is how long to wait after SIGTERM before SIGKILL, when
	// the timeout expires or ctx is cancelled.
	KillGrace time.Duration
	Output    *os.File // stdout and stderr; nil = /dev/null
	// Started, if set, is called with the pid once the script runs.
	Started func(pid int)
}

// RunOneshot runs the script and waits for it. It returns nil when the
// script exits 0; otherwise an error describing the exit status, the
// timeout or the cancellation.
func RunOneshot(ctx context.Context, o Oneshot) error {
	null, err := devNull()
	if err != nil {
		return err
	}
	defer null.Close()
	out := o.Output
	if out == nil {
		out = null
	}
	p, err := proc.Start(&proc.Attr{Argv: o.Cmd.Argv, Dir: o.Cmd.Dir, Env: o.Cmd.Env,
		Files: []*os.File{null, out, out}})
	if err != nil {
		return err
	}
	if o.Started != nil {
		o.Started(p.Pid)
	}
	var timeout <-chan time.Time
	if o.Timeout > 0 {
		t := time.NewTimer(o.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	var why error
	select {
	case <-p.Done():
	case <-timeout:
		why = fmt.Errorf("%w after %v", ErrTimeout, o.Timeout)
	case <-ctx.Done():
		why = fmt.Errorf("cancelled: %w", ctx.Err())
	}
	if why != nil {
		kill(p, syscall.SIGTERM, o.KillGrace)
		return why
	}
	ws := p.Status()
	if ws.Exited() && ws.ExitStatus() == 0 {
		return nil
	}
	return errors.New(proc.DescribeStatus(ws))
}

// kill sends sig (and SIGCONT) to p's group, then SIGKILL after grace, and
// waits for it to die.
func kill(p *proc.Proc, sig syscall.Signal, grace time.Duration) {
	p.Signal(sig)
	if sig != syscall.SIGKILL {
		p.Signal(syscall.SIGCONT)
	}
	if grace <= 0 {
		grace = time.Second
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.Done():
	case <-t.C:
		p.Signal(syscall.SIGKILL)
		<-p.Done()
	}
}

// Backoff controls restart delays: the n-th consecutive quick death waits
// Initial × 2^(n-1), at most Max; a run that lasted ResetAfter resets n.
type Backoff struct {
	Initial, Max, ResetAfter time.Duration
}

// DefaultBackoff is 1 s doubling to 30 s, reset after 10 s of uptime.
var DefaultBackoff = Backoff{Initial: time.Second, Max: 30 * time.Second, ResetAfter: 10 * time.Second}

// Delay returns the wait before restart number n (n >= 1) of a crash loop.
func (b Backoff) Delay(n int) time.Duration {
	d := b.Initial
	for i := 1; i < n && d < b.Max; i++ {
		d *= 2
	}
	if d > b.Max {
		d = b.Max
	}
	return d
}

// EventKind tells what happened to a longrun.
type EventKind int

// Longrun events.
const (
	Spawned     EventKind = iota // process started (Pid)
	Ready                        // readiness reached
	Died                         // process exited (Status)
	SpawnFailed                  // could not start (Err)
	Waiting                      // waiting Delay before restarting
	GaveUp                       // finish exited 125: stay down (Err)
	Stopped                      // supervision ended after Stop
)

func (k EventKind) String() string {
	return [...]string{"spawned", "ready", "died", "spawn-failed", "waiting", "gave-up", "stopped"}[k]
}

// Event is reported to LongrunConfig.Events from the supervision goroutine.
type Event struct {
	Kind   EventKind
	Pid    int
	Status syscall.WaitStatus
	Uptime time.Duration
	Delay  time.Duration
	Err    error
}

// LongrunConfig describes a supervised service.
type LongrunConfig struct {
	Name   string
	Run    Command
	Finish *Command // nil: no finish script; exit code and signal are appended to Argv
	// NotifyFD is the descriptor the service writes a newline to when
	// ready; -1 means ready as soon as it is started.
	NotifyFD      int
	DownSignal    syscall.Signal
	TimeoutKill   time.Duration // after the down signal, SIGKILL; 0 = never
	TimeoutFinish time.Duration // finish is killed after this; 0 = never
	Stdin         *os.File      // nil = /dev/null
	Stdout        *os.File      // nil = /dev/null
	Stderr        *os.File      // nil = Stdout
	Backoff       Backoff
	// Events is called synchronously from the supervision goroutine; it
	// must not call back into the Longrun.
	Events func(Event)
}

type ctl int

const (
	ctlStop ctl = iota
	ctlRestart
)

// Longrun is a running supervision loop.
type Longrun struct {
	c    LongrunConfig
	ctl  chan ctl
	done chan struct{}
	mu   sync.Mutex
	pid  int
}

// StartLongrun starts supervising: the run script is spawned at once and
// respawned whenever it dies, until Stop.
func StartLongrun(c LongrunConfig) *Longrun {
	if c.DownSignal == 0 {
		c.DownSignal = syscall.SIGTERM
	}
	if c.Backoff.Initial <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.Events == nil {
		c.Events = func(Event) {}
	}
	l := &Longrun{c: c, ctl: make(chan ctl), done: make(chan struct{})}
	go l.loop()
	return l
}

// Stop asks the service to go down (down signal, then SIGKILL after
// TimeoutKill), waits for it and for its finish script, and ends the loop.
func (l *Longrun) Stop() {
	select {
	case l.ctl <- ctlStop:
	case <-l.done:
	}
	<-l.done
}

// Restart kills the current process (down signal) and starts a new one at
// once, skipping any backoff delay.
func (l *Longrun) Restart() { l.RestartContext(context.Background()) }

// ErrStopped is returned for a request to a Longrun whose loop has ended.
var ErrStopped = errors.New("supervision has stopped")

// RestartContext is Restart giving up when ctx ends first: the loop only
// takes requests between its steps (not while a finish script runs).
func (l *Longrun) RestartContext(ctx context.Context) error {
	select {
	case l.ctl <- ctlRestart:
		return nil
	case <-l.done:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Done is closed when the supervision loop has ended.
func (l *Longrun) Done() <-chan struct{} { return l.done }

// Pid returns the current pid or 0.
func (l *Longrun) Pid() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pid
}

func (l *Longrun) setPid(pid int) {
	l.mu.Lock()
	l.pid = pid
	l.mu.Unlock()
}

func (l *Longrun) loop() {
	defer close(l.done)
	defer l.c.Events(Event{Kind: Stopped})
	null, err := devNull()
	if err != nil {
		l.c.Events(Event{Kind: SpawnFailed, Err: err})
	} else {
		defer null.Close()
	}
	quick := 0 // consecutive deaths without a stable run
	var delay time.Duration
	for {
		if delay > 0 {
			l.c.Events(Event{Kind: Waiting, Delay: delay})
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case m := <-l.ctl:
				t.Stop()
				if m == ctlStop {
					return
				}
			}
		} else {
			select {
			case m := <-l.ctl:
				if m == ctlStop {
					return
				}
			default:
			}
		}
		p, ready, err := l.spawn(null)
		if err != nil {
			l.c.Events(Event{Kind: SpawnFailed, Err: err})
			quick++
			delay = l.c.Backoff.Delay(quick)
			continue
		}
		started := time.Now()
		l.setPid(p.Pid)
		l.c.Events(Event{Kind: Spawned, Pid: p.Pid})
		if ready == nil {
			l.c.Events(Event{Kind: Ready, Pid: p.Pid})
		}
		stopping, restarting := false, false
		var killTimer <-chan time.Time
	wait:
		for {
			select {
			case <-ready:
				ready = nil
				l.c.Events(Event{Kind: Ready, Pid: p.Pid})
			case <-p.Done():
				break wait
			case m := <-l.ctl:
				if m == ctlStop {
					stopping = true
				} else {
					restarting = true
				}
				p.Signal(l.c.DownSignal)
				p.Signal(syscall.SIGCONT)
				if l.c.TimeoutKill > 0 && killTimer == nil {
					killTimer = time.After(l.c.TimeoutKill)
				}
			case <-killTimer:
				p.Signal(syscall.SIGKILL)
			}
		}
		ws := p.Status()
		uptime := time.Since(started)
		l.setPid(0)
		l.c.Events(Event{Kind: Died, Pid: p.Pid, Status: ws, Uptime: uptime})
		code := l.finish(null, ws)
		if stopping {
			return
		}
		if code == 125 {
			// Permanent failure: wait for Stop, or Restart to retry.
			l.c.Events(Event{Kind: GaveUp, Err: errors.New("finish exited 125: service stays down")})
			if m := <-l.ctl; m == ctlStop {
				return
			}
			restarting = true
		}
		switch {
		case restarting:
			quick, delay = 0, 0
		case uptime >= l.c.Backoff.ResetAfter:
			quick = 1
			delay = l.c.Backoff.Delay(quick)
		default:
			quick++
			delay = l.c.Backoff.Delay(quick)
		}
	}
}

// spawn starts the run script. ready is nil when the service has no
// notification descriptor; otherwise it is closed when a newline arrives.
func (l *Longrun) spawn(null *os.File) (*proc.Proc, chan struct{}, error) {
	if null == nil {
		return nil, nil, errors.New("no /dev/null")
	}
	stdin, stdout, stderr := l.c.Stdin, l.c.Stdout, l.c.Stderr
	if stdin == nil {
		stdin = null
	}
	if stdout == nil {
		stdout = null
	}
	if stderr == nil {
		stderr = stdout
	}
	files := []*os.File{stdin, stdout, stderr}
	var r, w *os.File
	if l.c.NotifyFD >= 3 {
		var err error
		r, w, err = os.Pipe()
		if err != nil {
			return nil, nil, err
		}
		for len(files) < l.c.NotifyFD {
			files = append(files, nil)
		}
		files = append(files, w)
	}
	p, err := proc.Start(&proc.Attr{Argv: l.c.Run.Argv, Dir: l.c.Run.Dir, Env: l.c.Run.Env, Files: files})
	if w != nil {
		w.Close()
	}
	if err != nil {
		if r != nil {
			r.Close()
		}
		return nil, nil, err
	}
	if r == nil {
		return p, nil, nil
	}
	ready := make(chan struct{})
	go func() {
		defer r.Close()
		buf := make([]byte, 512)
		for {
			n, err := r.Read(buf)
			if bytes.IndexByte(buf[:n], '\n') >= 0 {
				close(ready)
				return // like s6: the pipe is closed once ready
			}
			if err != nil {
				return
			}
		}
	}()
	return p, ready, nil
}

// finish runs the finish script (if any) with the s6 arguments: the exit
// code (256 if killed by a signal) and the signal number (0 if none). It
// returns the finish script's exit code, or -1.
func (l *Longrun) finish(null *os.File, ws syscall.WaitStatus) int {
	if l.c.Finish == nil {
		return -1
	}
	code, sig := 0, 0
	if ws.Signaled() {
		code, sig = 256, int(ws.Signal())
	} else {
		code = ws.ExitStatus()
	}
	stdout := l.c.Stdout
	if stdout == nil {
		stdout = null
	}
	stderr := l.c.Stderr
	if stderr == nil {
		stderr = stdout
	}
	argv := append(append([]string(nil), l.c.Finish.Argv...), strconv.Itoa(code), strconv.Itoa(sig))
	p, err := proc.Start(&proc.Attr{Argv: argv, Dir: l.c.Finish.Dir, Env: l.c.Finish.Env,
		Files: []*os.File{null, stdout, stderr}})
	if err != nil {
		return -1
	}
	if l.c.TimeoutFinish > 0 {
		t := time.NewTimer(l.c.TimeoutFinish)
		defer t.Stop()
		select {
		case <-p.Done():
		case <-t.C:
			kill(p, syscall.SIGKILL, 0)
			return -1
		}
	}
	fws := p.Status()
	if fws.Exited() {
		return fws.ExitStatus()
	}
	return -1
}
