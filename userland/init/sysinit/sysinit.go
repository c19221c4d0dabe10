// Package sysinit is the device init. It runs as two processes, in the
// manner of s6-linux-init, which keeps PID 1 tiny:
//
//   - PID 1 (Run) does only what must be done by PID 1 or must outlive
//     everything else: early mounts, host name, reaping every orphan,
//     signals, the console shell, supervising the service manager, and the
//     end of the shutdown sequence (TERM then KILL to every process, sync,
//     reboot(2)).
//   - The service manager (ManagerMain, a child of PID 1 started from the
//     same binary) does everything else: the service database, the live
//     directories, the control socket, the catch-all and service logs and
//     their rotation, the supervisors of longruns.
//
// Why: in Go, a panic in any goroutine ends the whole process, and when
// PID 1 ends the kernel panics. Recovering in every goroutine cannot cover
// runtime fatal errors (concurrent map writes, out of memory) and leaves the
// state a panic interrupted (a lock held, a supervisor gone) in place; a
// separate process confines all of it. When the manager dies, PID 1 logs its
// crash report (console, /dev/kmsg, and the next manager's catch-all log),
// stops every process it left behind (sparing the console shell's session),
// removes its stale control socket and starts a new one after a backoff; it
// gives up after MaxManagerCrashes quick deaths in a row. The console shell
// and poweroff/reboot/halt (by signal to PID 1 when no control socket
// answers) keep working throughout. PID 1's own few goroutines recover from
// panics; a panic in its main loop leaves it in an emergency mode that keeps
// the console shell and still shuts down on request; as PID 1 it never
// returns (see Config.PID1).
//
// Every privileged duty can be switched off so the same code runs
// unprivileged on a build host (init -test -root DIR).
package sysinit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"bazwrt/userland/init/proc"
	"bazwrt/userland/init/rc"
	"bazwrt/userland/init/supervise"

	"golang.org/x/sys/unix"
)

// Config is everything init needs; see Paths for the path defaults.
type Config struct {
	Root        string // prefix of every default path ("/" on the device)
	DB          string // compiled database
	RunDir      string // tmpfs for run-time state
	LiveDir     string // service directories
	OutputsDir  string // per-service outputs
	Socket      string // control socket
	LogDir      string // per-longrun logs
	UncaughtDir string // catch-all log
	Hostname    string // file holding the hostname

	Mount        bool   // mount /proc, /sys, /dev, /dev/pts, /dev/shm, /run, /tmp
	SetHostname  bool   // sethostname from the Hostname file
	Reboot       bool   // call reboot(2) at the end of shutdown
	KillAll      bool   // kill(-1) TERM/KILL at shutdown (PID 1 only)
	ConsoleShell string // command line of the console shell, "" = none
	Console      string // console device

	// PID1 means Run must never return: after a panic of its main loop,
	// after a shutdown without reboot(2) (Reboot false, or reboot(2)
	// failed), it stays with a console shell and calls reboot(2) on the
	// next poweroff, reboot or halt request.
	PID1 bool
	// Kmsg is where crash reports of the service manager and panics of
	// init are also written, one record per line: /dev/kmsg as PID 1,
	// "" (nowhere) otherwise.
	Kmsg string
	// Executable is the program started as the service manager (with
	// ManagerApplet as its first argument); default: this program.
	Executable string
	// Faults lists injected faults for boot tests (INIT_FAULT; see
	// docs/services.md): init-panic, manager-panic, supervisor-panic:NAME.
	Faults string

	ShutdownTimeout time.Duration // for taking services down
	KillGrace       time.Duration // between TERM and KILL of leftovers
	LogSize         int64
	LogCount        int
	Backoff         supervise.Backoff // longruns, and restarts of the service manager

	Stderr io.Writer // init's messages also go here (the console)
}

// Paths fills unset paths from Root.
func (c *Config) Paths() {
	if c.Root == "" {
		c.Root = "/"
	}
	set := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	set(&c.DB, filepath.Join(c.Root, "etc/svc/db"))
	set(&c.RunDir, filepath.Join(c.Root, "run"))
	set(&c.LiveDir, filepath.Join(c.RunDir, "services/live"))
	set(&c.OutputsDir, filepath.Join(c.RunDir, "services/outputs"))
	set(&c.Socket, filepath.Join(c.RunDir, "services/control"))
	set(&c.LogDir, filepath.Join(c.RunDir, "log"))
	set(&c.UncaughtDir, filepath.Join(c.RunDir, "uncaught-logs"))
	set(&c.Hostname, filepath.Join(c.Root, "etc/hostname"))
	set(&c.Console, "/dev/console")
	if c.Executable == "" {
		c.Executable = "/proc/self/exe"
		if exe, err := os.Executable(); err == nil {
			c.Executable = exe
		}
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.KillGrace <= 0 {
		c.KillGrace = 3 * time.Second
	}
	if c.Backoff.Initial <= 0 {
		c.Backoff = supervise.DefaultBackoff
	}
	if c.Stderr == nil {
		c.Stderr = os.Stderr
	}
}

// Shutdown kinds, as accepted by the control socket and the commands.
const (
	Poweroff = "poweroff"
	Reboot   = "reboot"
	Halt     = "halt"
)

// SignalFor maps a shutdown kind to the signal that requests it from
// init (busybox convention): halt SIGUSR1, poweroff SIGUSR2, reboot SIGTERM.
func SignalFor(kind string) (syscall.Signal, bool) {
	switch kind {
	case Halt:
		return syscall.SIGUSR1, true
	case Poweroff:
		return syscall.SIGUSR2, true
	case Reboot:
		return syscall.SIGTERM, true
	}
	return 0, false
}

func kindForSignal(s os.Signal) string {
	switch s {
	case syscall.SIGUSR1:
		return Halt
	case syscall.SIGUSR2, syscall.SIGPWR:
		return Poweroff
	}
	return Reboot // SIGTERM, SIGINT (ctrl-alt-del)
}

// fault reports whether the fault name is in the comma-separated list, and
// its argument (after "name:").
func fault(list, name string) (string, bool) {
	for _, f := range strings.Split(list, ",") {
		n, arg, _ := strings.Cut(strings.TrimSpace(f), ":")
		if n == name {
			return arg, true
		}
	}
	return "", false
}

// initd is PID 1.
type initd struct {
	cfg  Config
	sigs chan os.Signal
	mgr  *managerProc

	mu        sync.Mutex // messages to the manager, backlog, shell state
	backlog   []string   // messages waiting for a manager's catch-all log
	shellStop chan struct{}
	shellDone chan struct{}
	shellSid  atomic.Int64 // session of the running console shell
	emergency int          // times emergency mode was entered
}

// maxBacklog bounds the messages kept while no manager runs.
const maxBacklog = 200

func (d *initd) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(d.cfg.Stderr, "init: %s\n", msg)
	d.toCatchAll(strings.Split(msg, "\n"), "init: ")
}

// toCatchAll hands lines to the service manager's catch-all log, or keeps
// them (the last maxBacklog) for the next manager.
func (d *initd) toCatchAll(lines []string, prefix string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, l := range lines {
		d.backlog = append(d.backlog, prefix+l)
	}
	if n := len(d.backlog) - maxBacklog; n > 0 {
		d.backlog = append(d.backlog[:0], d.backlog[n:]...)
	}
	if d.mgr != nil && d.mgr.send(d.backlog) {
		d.backlog = d.backlog[:0]
	}
}

// kmsg writes lines to the kernel log (one record each), if configured.
func (d *initd) kmsg(lines []string) {
	if d.cfg.Kmsg == "" {
		return
	}
	f, err := os.OpenFile(d.cfg.Kmsg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		fmt.Fprintf(d.cfg.Stderr, "init: %v\n", err)
		return
	}
	defer f.Close()
	for _, l := range lines {
		if len(l) > 900 {
			l = l[:900] // a record holds about 1 KiB
		}
		f.WriteString("<3>init: " + strings.ReplaceAll(l, "\t", "    ") + "\n") // <3>: KERN_ERR
	}
}

// report records a crash report or a recovered panic everywhere: the
// console (unless it is there already), the kernel log, the catch-all log.
func (d *initd) report(lines []string, console bool) {
	if console {
		for _, l := range lines {
			fmt.Fprintf(d.cfg.Stderr, "init: %s\n", l)
		}
	}
	d.kmsg(lines)
	d.toCatchAll(lines, "init: ")
}

// protect runs f; a panic is reported with its stack and ok is false.
func (d *initd) protect(where string, f func() int) (code int, ok bool) {
	defer func() {
		if v := recover(); v != nil {
			report := fmt.Sprintf("panic in %s (recovered: PID 1 goes on): %v\n%s", where, v, debug.Stack())
			d.report(strings.Split(strings.TrimRight(report, "\n"), "\n"), true)
			ok = false
		}
	}()
	return f(), true
}

// Run is init. It starts the system and, in test mode, returns once it has
// been shut down, with the process exit status. With cfg.PID1 it never
// returns.
func Run(cfg Config) int {
	cfg.Paths()
	d := &initd{cfg: cfg, sigs: make(chan os.Signal, 8)}
	d.mgr = &managerProc{d: d}
	signal.Notify(d.sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR, syscall.SIGHUP)
	proc.SetPanicOutput(func(r string) { d.report(strings.Split(strings.TrimRight(r, "\n"), "\n"), true) })
	code, ok := d.protect("init", d.run)
	for !ok || cfg.PID1 {
		// After a panic of the main loop; as PID 1, also if run ever
		// returned (it does not).
		if code, ok = d.protect("init (emergency mode)", d.emergencyMode); !ok {
			time.Sleep(time.Second)
		}
	}
	return code
}

func (d *initd) run() int {
	cfg := d.cfg
	if cfg.Mount {
		for _, err := range mountAll() {
			d.logf("mount: %v", err)
		}
		ensureStdio(cfg.Console)
	}
	if cfg.SetHostname {
		if err := setHostname(cfg.Hostname); err != nil {
			d.logf("hostname: %v", err)
		}
	}
	if !cfg.PID1 {
		// Orphans of a dead service manager must come to us, as they
		// go to PID 1 on the device.
		if err := setSubreaper(); err != nil {
			d.logf("subreaper: %v", err)
		}
	}
	proc.SetReapAll(true)
	if cfg.PID1 {
		// Ctrl-Alt-Del sends SIGINT to init instead of rebooting.
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_CAD_OFF)
	}
	d.startShell()
	d.mgr.start()
	if _, ok := fault(cfg.Faults, "init-panic"); ok {
		panic("INIT_FAULT=init-panic: injected panic in init's main loop")
	}
	return d.shutdown(d.mainLoop())
}

// mainLoop supervises the service manager until a shutdown request.
func (d *initd) mainLoop() string {
	for {
		mg := d.mgr
		select {
		case s := <-d.sigs:
			if s == syscall.SIGHUP {
				continue // ignored, like s6-svscan as PID 1
			}
			d.logf("got %v", s)
			return kindForSignal(s)
		case k := <-mg.requests():
			return k
		case <-mg.exited():
			mg.died()
		case <-mg.retry:
			mg.start()
		}
	}
}

// nextRequest waits for a shutdown request without supervising the manager
// (emergency and halted states).
func (d *initd) nextRequest() string {
	for {
		select {
		case s := <-d.sigs:
			if s == syscall.SIGHUP {
				continue
			}
			d.logf("got %v", s)
			return kindForSignal(s)
		case k := <-d.mgr.requests():
			return k
		case <-d.mgr.exited():
			d.mgr.note()
		}
	}
}

// emergencyMode follows a panic in init's main loop: the console shell and
// reaping go on, the manager (if any) is left running unsupervised, and a
// shutdown request runs the shutdown sequence (the first time; should that
// panic too, later requests sync and call reboot(2) directly).
func (d *initd) emergencyMode() int {
	d.emergency++
	d.logf("emergency mode: the console shell and poweroff/reboot/halt still work")
	d.startShell()
	kind := d.nextRequest()
	if d.emergency == 1 {
		return d.shutdown(kind)
	}
	syscall.Sync()
	if !d.cfg.Reboot {
		if d.cfg.PID1 {
			return d.halted("not calling reboot(2)")
		}
		fmt.Fprintf(d.cfg.Stderr, "init: test mode: would now %s\n", kind)
		return 0
	}
	d.logf("reboot(2): %v", RebootNow(kind))
	return d.halted("reboot(2) failed")
}

// shutdown is the end of the system: the manager stops the services, then
// every remaining process gets TERM and KILL, file systems are synced and
// reboot(2) is called.
func (d *initd) shutdown(kind string) int {
	cfg := d.cfg
	d.logf("shutting down for %s", kind)
	d.stopShell()
	d.mgr.stop(kind, cfg.ShutdownTimeout+cfg.KillGrace+5*time.Second)
	d.waitShell(3 * time.Second)
	d.killLeftovers()
	d.logf("%s: syncing", kind)
	syscall.Sync()
	if !cfg.Reboot {
		if cfg.PID1 {
			return d.halted("not calling reboot(2) (-no-reboot)")
		}
		fmt.Fprintf(cfg.Stderr, "init: test mode: would now %s\n", kind)
		return 0
	}
	if cfg.Mount {
		syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
		syscall.Sync()
	}
	err := RebootNow(kind)
	d.logf("reboot(2): %v", err)
	if cfg.PID1 {
		return d.halted("reboot(2) failed")
	}
	return 1
}

// halted is PID 1 once the system is down but reboot(2) was not called or
// failed: it keeps a console shell, and the next poweroff, reboot or halt
// request syncs and calls reboot(2) at once. It never returns.
func (d *initd) halted(why string) int {
	d.logf("%s; PID 1 stays with a console shell; poweroff, reboot and halt now call reboot(2) at once", why)
	d.startShell()
	for {
		kind := d.nextRequest()
		syscall.Sync()
		d.logf("reboot(2) for %s: %v", kind, RebootNow(kind))
	}
}

// RebootNow calls reboot(2) for a shutdown kind (after the caller synced).
func RebootNow(kind string) error {
	var cmd uint32
	switch kind {
	case Poweroff:
		cmd = syscall.LINUX_REBOOT_CMD_POWER_OFF
	case Reboot:
		cmd = syscall.LINUX_REBOOT_CMD_RESTART
	case Halt:
		cmd = syscall.LINUX_REBOOT_CMD_HALT
	default:
		return fmt.Errorf("unknown shutdown kind %q", kind)
	}
	// The magic numbers do not fit a 32-bit int: pass the bit pattern.
	return syscall.Reboot(int(int32(cmd)))
}

func setSubreaper() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, unix.PR_SET_CHILD_SUBREAPER, 1, 0); e != 0 {
		return e
	}
	return nil
}

// killLeftovers sends TERM (and CONT) to every remaining process, then
// KILL after the grace period: as PID 1 with kill(-1); otherwise to the
// children init has left (orphans re-parented to it, a subreaper).
func (d *initd) killLeftovers() {
	proc.SignalAll(syscall.SIGTERM)
	proc.SignalAll(syscall.SIGCONT)
	if d.cfg.KillAll {
		syscall.Kill(-1, syscall.SIGTERM)
		syscall.Kill(-1, syscall.SIGCONT)
	}
	if n := stopChildren(func(child) bool { return false }, d.cfg.KillGrace); n > 0 {
		d.logf("stopped %d leftover processes", n)
	}
	proc.SignalAll(syscall.SIGKILL)
	if d.cfg.KillAll {
		syscall.Kill(-1, syscall.SIGKILL)
	}
}

// startShell starts keeping a shell on the console, unless there is none
// configured or one is kept already.
func (d *initd) startShell() {
	if d.cfg.ConsoleShell == "" {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shellDone != nil {
		select {
		case <-d.shellDone:
		default:
			return
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	d.shellStop, d.shellDone = stop, done
	go func() {
		defer close(done)
		for {
			if _, ok := d.protect("the console shell loop", func() int { d.consoleShell(stop); return 0 }); ok {
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
		}
	}()
}

func (d *initd) stopShell() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.shellStop != nil {
		select {
		case <-d.shellStop:
		default:
			close(d.shellStop)
		}
	}
}

func (d *initd) waitShell(timeout time.Duration) {
	d.mu.Lock()
	done := d.shellDone
	d.mu.Unlock()
	if done != nil {
		select {
		case <-done:
		case <-time.After(timeout):
		}
	}
}

// consoleShell keeps a shell running on the console until stop.
func (d *initd) consoleShell(stop chan struct{}) {
	argv := strings.Fields(d.cfg.ConsoleShell)
	if len(argv) == 0 {
		d.logf("console shell: empty command")
		return
	}
	delay := time.Second
	for {
		tty, err := os.OpenFile(d.cfg.Console, os.O_RDWR, 0)
		var p *proc.Proc
		if err == nil {
			p, err = proc.Start(&proc.Attr{Argv: argv, Dir: "/", Files: []*os.File{tty, tty, tty}, Ctty: true,
				Env: []string{"PATH=" + rc.DefaultPath, "HOME=/root", "TERM=linux", "SHELL=" + argv[0]}})
			tty.Close()
		}
		started := time.Now()
		if err != nil {
			d.logf("console shell: %v", err)
		} else {
			d.shellSid.Store(int64(p.Pid)) // a session leader
			select {
			case <-p.Done():
				d.shellSid.Store(0)
			case <-stop:
				p.Signal(syscall.SIGHUP)
				p.Signal(syscall.SIGTERM)
				select {
				case <-p.Done():
				case <-time.After(time.Second):
					p.Signal(syscall.SIGKILL)
				}
				d.shellSid.Store(0)
				return
			}
		}
		// Respawn after 1 s, doubling up to 30 s while the shell keeps
		// dying quickly.
		if time.Since(started) > 10*time.Second {
			delay = time.Second
		}
		select {
		case <-stop:
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, 30*time.Second)
	}
}

type mount struct {
	src, target, fstype string
	flags               uintptr
	data                string
	mode                os.FileMode
}

var mounts = []mount{
	{"proc", "/proc", "proc", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", 0o555},
	{"sysfs", "/sys", "sysfs", syscall.MS_NOSUID | syscall.MS_NODEV | syscall.MS_NOEXEC, "", 0o555},
	{"devtmpfs", "/dev", "devtmpfs", syscall.MS_NOSUID, "mode=0755", 0o755},
	{"devpts", "/dev/pts", "devpts", syscall.MS_NOSUID | syscall.MS_NOEXEC, "mode=0620,gid=5,ptmxmode=0666", 0o755},
	{"tmpfs", "/dev/shm", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
	{"tmpfs", "/run", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=0755", 0o755},
	{"tmpfs", "/tmp", "tmpfs", syscall.MS_NOSUID | syscall.MS_NODEV, "mode=1777", 0o1777},
}

// mountAll performs the early mounts; "already mounted" is not an error.
func mountAll() []error {
	var errs []error
	for _, mt := range mounts {
		os.MkdirAll(mt.target, mt.mode)
		err := syscall.Mount(mt.src, mt.target, mt.fstype, mt.flags, mt.data)
		if err != nil && !errors.Is(err, syscall.EBUSY) {
			errs = append(errs, fmt.Errorf("%s on %s: %w", mt.fstype, mt.target, err))
		}
	}
	return errs
}

// ensureStdio opens the console (or /dev/null) on any of descriptors 0-2
// the kernel left closed, so pipes never land there.
func ensureStdio(console string) {
	for fd := 0; fd < 3; fd++ {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != syscall.EBADF {
			continue
		}
		nfd, err := syscall.Open(console, syscall.O_RDWR|syscall.O_NOCTTY, 0)
		if err != nil {
			nfd, err = syscall.Open(os.DevNull, syscall.O_RDWR, 0)
		}
		if err != nil {
			return
		}
		if nfd != fd {
			unix.Dup2(nfd, fd)
			syscall.Close(nfd)
		}
	}
}

func setHostname(file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(string(b))
	if name == "" {
		return fmt.Errorf("%s is empty", file)
	}
	return syscall.Sethostname([]byte(name))
}
