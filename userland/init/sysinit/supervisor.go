package sysinit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"bazwrt/userland/init/proc"
)

// MaxManagerCrashes is how many times in a row the service manager may
// die within QuickCrash of its start before PID 1 stops restarting it.
const MaxManagerCrashes = 5

// QuickCrash is the shortest run of the service manager that resets the
// count of crashes.
const QuickCrash = time.Minute

// maxCrashReport bounds the crash output kept (the panic and the stack of
// the goroutine that panicked come first).
const maxCrashReport = 64 << 10

// managerProc is PID 1's side of the service manager process. Its fields
// are used by the main loop, except cmd, which is guarded by d.mu.
type managerProc struct {
	d        *initd
	p        *proc.Proc
	cmd      *os.File // commands to the manager (guarded by d.mu)
	reqs     chan string
	crash    chan []byte
	started  time.Time
	crashes  int // consecutive quick deaths
	retry    <-chan time.Time
	gaveUp   bool
	shutting bool
}

func (mg *managerProc) requests() <-chan string {
	if mg == nil {
		return nil
	}
	return mg.reqs
}

func (mg *managerProc) exited() <-chan struct{} {
	if mg == nil || mg.p == nil {
		return nil
	}
	return mg.p.Done()
}

// send writes lines to the manager as "log" commands; d.mu must be held.
// It reports whether a manager took them. It never blocks for long: a
// manager that does not read loses the lines.
func (mg *managerProc) send(lines []string) bool {
	if mg.cmd == nil {
		return false
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("log " + l + "\n")
	}
	mg.cmd.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, err := mg.cmd.WriteString(b.String())
	return err == nil
}

// start starts a service manager process: this program with
// ManagerApplet, descriptors 3 (commands from init), 4 (shutdown requests
// to init) and 5 (the Go runtime's crash output, see debug.SetCrashOutput).
func (mg *managerProc) start() {
	d := mg.d
	mg.retry = nil
	mg.started = time.Now()
	var mine, theirs []*os.File // our ends; the child's, closed here after the start
	var err error
	pipe := func() (r, w *os.File) {
		if err == nil {
			r, w, err = os.Pipe()
		}
		return r, w
	}
	cmdR, cmdW := pipe()
	reqR, reqW := pipe()
	crashR, crashW := pipe()
	var null *os.File
	if err == nil {
		null, err = os.OpenFile(os.DevNull, os.O_RDWR, 0)
	}
	mine = append(mine, cmdW, reqR, crashR)
	theirs = append(theirs, cmdR, reqW, crashW, null)
	var p *proc.Proc
	if err == nil {
		argv := append([]string{d.cfg.Executable, ManagerApplet}, managerArgs(d.cfg)...)
		p, err = proc.Start(&proc.Attr{Argv: argv, Dir: "/", Env: os.Environ(),
			Files: []*os.File{null, os.Stdout, os.Stderr, cmdR, reqW, crashW}})
	}
	for _, f := range theirs {
		if f != nil {
			f.Close()
		}
	}
	if err != nil {
		for _, f := range mine {
			if f != nil {
				f.Close()
			}
		}
		d.logf("cannot start the service manager: %v", err)
		mg.failed()
		return
	}
	mg.p = p
	mg.reqs = make(chan string, 4)
	mg.crash = make(chan []byte, 1)
	go readRequests(reqR, mg.reqs)
	go readCrash(crashR, mg.crash)
	d.mu.Lock()
	mg.cmd = cmdW
	d.mu.Unlock()
	d.logf("started the service manager, pid %d", p.Pid) // also flushes the backlog to it
}

// readRequests passes the manager's valid shutdown requests on.
func readRequests(r *os.File, ch chan<- string) {
	defer r.Close()
	defer func() { recover() }() // nothing here can panic; PID 1 must not
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		kind, ok := strings.CutPrefix(sc.Text(), "shutdown ")
		if _, valid := SignalFor(kind); ok && valid {
			select {
			case ch <- kind:
			default:
			}
		}
	}
}

// readCrash collects the manager's crash output until it exits.
func readCrash(r *os.File, ch chan<- []byte) {
	defer r.Close()
	defer func() { recover() }()
	b, _ := io.ReadAll(io.LimitReader(r, maxCrashReport))
	io.Copy(io.Discard, r)
	ch <- b
}

// died handles an unexpected death of the manager: report, clean up what it
// left, restart it after a backoff (or give up).
func (mg *managerProc) died() {
	d := mg.d
	mg.note()
	os.Remove(d.cfg.Socket) // stale: rc and poweroff must not wait on it
	spare := func(c child) bool {
		sid := d.shellSid.Load()
		return proc.Known(c.pid) || (sid != 0 && int64(c.sid) == sid)
	}
	if n := stopChildren(spare, d.cfg.KillGrace); n > 0 {
		d.logf("stopped %d processes the service manager left behind", n)
	}
	mg.failed()
}

// note reports the manager's death and forgets it.
func (mg *managerProc) note() {
	d := mg.d
	p := mg.p
	ws := p.Status()
	d.mu.Lock()
	if mg.cmd != nil {
		mg.cmd.Close()
		mg.cmd = nil
	}
	d.mu.Unlock()
	mg.p = nil
	var crash []byte
	select {
	case crash = <-mg.crash:
	case <-time.After(time.Second):
	}
	msg := fmt.Sprintf("the service manager (pid %d) died: %s after %v", p.Pid, proc.DescribeStatus(ws),
		time.Since(mg.started).Round(time.Millisecond))
	if mg.shutting {
		msg = fmt.Sprintf("the service manager (pid %d) died during shutdown: %s", p.Pid, proc.DescribeStatus(ws))
	}
	d.logf("%s", msg)
	lines := []string{msg}
	if len(crash) > 0 {
		// On the console already (the manager's stderr); keep it in
		// the kernel log and the next catch-all log too.
		lines = append(lines, "its crash report:")
		lines = append(lines, strings.Split(strings.TrimRight(string(crash), "\n"), "\n")...)
		d.toCatchAll(lines[1:], "init: ")
	}
	d.kmsg(lines)
}

// failed counts a death (or a failed start) and schedules a restart.
func (mg *managerProc) failed() {
	d := mg.d
	if time.Since(mg.started) < QuickCrash {
		mg.crashes++
	} else {
		mg.crashes = 1
	}
	if mg.crashes >= MaxManagerCrashes {
		mg.gaveUp = true
		msg := fmt.Sprintf("the service manager died %d times in a row, each within %v of its start: not restarting it; "+
			"services stay down, the console shell and poweroff/reboot/halt still work", mg.crashes, QuickCrash)
		d.logf("%s", msg)
		d.kmsg([]string{msg})
		return
	}
	delay := d.cfg.Backoff.Delay(mg.crashes)
	d.logf("restarting the service manager in %v", delay)
	mg.retry = time.After(delay)
}

// stop asks the manager to take every service down and waits for it to
// exit, at most timeout; then it is killed.
func (mg *managerProc) stop(kind string, timeout time.Duration) {
	if mg == nil || mg.p == nil {
		return
	}
	d := mg.d
	mg.shutting = true
	mg.retry = nil
	d.mu.Lock()
	sent := false
	if mg.cmd != nil {
		mg.cmd.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, err := mg.cmd.WriteString("shutdown " + kind + "\n")
		sent = err == nil
	}
	d.mu.Unlock()
	t := time.NewTimer(timeout)
	defer t.Stop()
	if !sent {
		d.logf("cannot reach the service manager: killing it")
		mg.p.Signal(syscall.SIGKILL)
	}
	select {
	case <-mg.p.Done():
	case <-t.C:
		d.logf("the service manager did not stop within %v: killing it", timeout)
		mg.p.Signal(syscall.SIGKILL)
		select {
		case <-mg.p.Done():
		case <-time.After(2 * time.Second):
			d.logf("the service manager survives SIGKILL")
			return
		}
	}
	if ws := mg.p.Status(); ws.Exited() && ws.ExitStatus() == 0 {
		d.mu.Lock()
		if mg.cmd != nil {
			mg.cmd.Close()
			mg.cmd = nil
		}
		d.mu.Unlock()
		mg.p = nil
		return
	}
	mg.note()
}
