// Package proc starts child processes and reaps them.
//
// All children of the process are started through Start and reaped by one
// process-wide reaper driven by SIGCHLD, which hands each exit status to the
// Proc that owns the pid. In "reap all" mode (PID 1, or a child subreaper)
// the reaper calls wait4(-1) and also collects orphans it did not start;
// otherwise it only waits for the pids it started, so it can share a process
// with other code that uses os/exec (tests do).
//
// Processes are always started in a new session (setsid), so they can be
// signalled as a process group, and the whole group is what Signal targets.
package proc

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"sync"
	"syscall"
	"time"
)

// Attr describes a process to start.
type Attr struct {
	Argv []string
	Dir  string
	Env  []string
	// Files become the child's descriptors 0, 1, 2, ...; a nil entry
	// is closed in the child. Entries are used only during Start.
	Files []*os.File
	// Ctty makes Files[0] the controlling terminal (console shell).
	Ctty bool
}

// Proc is a started child.
type Proc struct {
	Pid    int
	done   chan struct{}
	status syscall.WaitStatus
}

// Done is closed once the process has exited and been reaped.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Status returns the wait status; valid once Done is closed.
func (p *Proc) Status() syscall.WaitStatus { <-p.done; return p.status }

// Wait blocks until the process exits and returns its status.
func (p *Proc) Wait() syscall.WaitStatus { return p.Status() }

// Signal sends sig to the process group of p (it is a session leader).
// Signalling an already reaped process is a no-op.
func (p *Proc) Signal(sig syscall.Signal) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	err := syscall.Kill(-p.Pid, sig)
	if err == syscall.ESRCH {
		// Not a group leader (yet): signal the process itself.
		err = syscall.Kill(p.Pid, sig)
	}
	if err == syscall.ESRCH {
		return nil
	}
	return err
}

var (
	mu      sync.Mutex
	procs   = map[int]*Proc{}
	reapAll bool
	once    sync.Once
	kick    = make(chan os.Signal, 1)
	// Orphans counts processes reaped that were not started by Start
	// (only in reap-all mode); exported for tests and status.
	orphans int
)

// SetReapAll switches the reaper to wait4(-1): use it when running as PID 1
// or as a child subreaper.
func SetReapAll(on bool) {
	mu.Lock()
	reapAll = on
	mu.Unlock()
	ensure()
	kickReaper()
}

// Orphans returns how many unknown children the reaper collected.
func Orphans() int {
	mu.Lock()
	defer mu.Unlock()
	return orphans
}

func kickReaper() {
	select {
	case kick <- syscall.SIGCHLD:
	default:
	}
}

func ensure() {
	once.Do(func() {
		signal.Notify(kick, syscall.SIGCHLD)
		go reaper()
	})
}

func reaper() {
	// The ticker is a safety net only; SIGCHLD drives reaping.
	t := time.NewTicker(time.Second)
	for {
		select {
		case <-kick:
		case <-t.C:
		}
		safeReap()
	}
}

var (
	panicOutput = func(report string) { os.Stderr.WriteString(report) }
	testPanic   bool // the next reap panics (tests)
)

// SetPanicOutput sets what receives the report of a panic in the reaper,
// which then goes on reaping (in PID 1 a panic must not end the process).
// The default writes to standard error.
func SetPanicOutput(f func(report string)) {
	mu.Lock()
	panicOutput = f
	mu.Unlock()
}

func safeReap() {
	defer func() {
		if v := recover(); v != nil {
			mu.Lock()
			out := panicOutput
			mu.Unlock()
			out(fmt.Sprintf("proc: panic in the reaper (recovered, still reaping): %v\n%s", v, debug.Stack()))
		}
	}()
	mu.Lock()
	p := testPanic
	testPanic = false
	mu.Unlock()
	if p {
		panic("test panic")
	}
	reap()
}

func reap() {
	mu.Lock()
	defer mu.Unlock()
	if reapAll {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if pid <= 0 || err != nil {
				return
			}
			if p := procs[pid]; p != nil {
				finish(p, ws)
			} else {
				orphans++
			}
		}
	}
	for pid, p := range procs {
		var ws syscall.WaitStatus
		for {
			wpid, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if wpid == pid {
				finish(p, ws)
			} else if err == syscall.ECHILD {
				// Someone else reaped it; report it as killed.
				finish(p, syscall.WaitStatus(syscall.SIGKILL))
			}
			break
		}
	}
}

func finish(p *Proc, ws syscall.WaitStatus) {
	delete(procs, p.Pid)
	p.status = ws
	close(p.done)
}

// ErrNoArgv is returned when Attr.Argv is empty.
var ErrNoArgv = errors.New("proc: empty argv")

// Start starts a process described by a.
func Start(a *Attr) (*Proc, error) {
	if len(a.Argv) == 0 {
		return nil, ErrNoArgv
	}
	ensure()
	fds := make([]uintptr, len(a.Files))
	for i, f := range a.Files {
		if f == nil {
			fds[i] = ^uintptr(0) // closed in the child
		} else {
			fds[i] = f.Fd()
		}
	}
	sys := &syscall.SysProcAttr{Setsid: true}
	if a.Ctty {
		sys.Setctty = true
		sys.Ctty = 0
	}
	attr := &syscall.ProcAttr{Dir: a.Dir, Env: a.Env, Files: fds, Sys: sys}
	mu.Lock()
	pid, err := syscall.ForkExec(a.Argv[0], a.Argv, attr)
	if err != nil {
		mu.Unlock()
		return nil, &os.PathError{Op: "exec", Path: a.Argv[0], Err: err}
	}
	p := &Proc{Pid: pid, done: make(chan struct{})}
	procs[pid] = p
	mu.Unlock()
	runtime.KeepAlive(a.Files)
	return p, nil
}

// SignalAll sends sig to the process groups of every live process started
// by Start and returns how many there were.
func SignalAll(sig syscall.Signal) int {
	mu.Lock()
	list := make([]*Proc, 0, len(procs))
	for _, p := range procs {
		list = append(list, p)
	}
	mu.Unlock()
	for _, p := range list {
		p.Signal(sig)
	}
	return len(list)
}

// Known reports whether pid is a live process started by Start.
func Known(pid int) bool {
	mu.Lock()
	defer mu.Unlock()
	return procs[pid] != nil
}

// Running returns the number of live processes started by Start.
func Running() int {
	mu.Lock()
	defer mu.Unlock()
	return len(procs)
}

// DescribeStatus renders a wait status as "exit 3" or "signal 9".
func DescribeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return "exit " + itoa(ws.ExitStatus())
	case ws.Signaled():
		return "signal " + itoa(int(ws.Signal())) + " (" + ws.Signal().String() + ")"
	}
	return "status " + itoa(int(ws))
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b [20]byte
	n := len(b)
	for i > 0 {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
	}
	if neg {
		n--
		b[n] = '-'
	}
	return string(b[n:])
}
