// Package sysinit is the PID 1 side of the device init: early mounts,
// hostname, the console shell, signal handling, and the shutdown sequence
// (services down in reverse dependency order, TERM then KILL to the rest,
// sync, reboot(2)). Every privileged duty can be switched off so the same
// code runs unprivileged on a build host (init -test -root DIR).
package sysinit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"bazwrt/userland/init/proc"
	"bazwrt/userland/init/rc"
	"bazwrt/userland/init/supervise"
	"bazwrt/userland/init/svcdb"
	"bazwrt/userland/init/svclog"

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
	Subreaper    bool   // become a child subreaper and reap orphans
	ConsoleShell string // command line of the console shell, "" = none
	Console      string // console device

	ShutdownTimeout time.Duration // for taking services down
	KillGrace       time.Duration // between TERM and KILL of leftovers
	LogSize         int64
	LogCount        int
	Backoff         supervise.Backoff

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
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.KillGrace <= 0 {
		c.KillGrace = 3 * time.Second
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

type initd struct {
	cfg  Config
	log  *svclog.Logger
	mu   sync.Mutex
	stop chan string
}

func (d *initd) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if d.log != nil {
		d.log.Line("init: " + msg)
	}
	fmt.Fprintf(d.cfg.Stderr, "init: %s\n", msg)
}

// request asks for a shutdown; only the first request counts.
func (d *initd) request(kind string) error {
	if _, ok := SignalFor(kind); !ok {
		return fmt.Errorf("unknown shutdown kind %q (want poweroff, reboot or halt)", kind)
	}
	select {
	case d.stop <- kind:
	default:
	}
	return nil
}

// Run starts the system and returns once it has been shut down (it never
// returns when Reboot is set and reboot(2) succeeds). The result is the
// process exit status.
func Run(cfg Config) int {
	cfg.Paths()
	d := &initd{cfg: cfg, stop: make(chan string, 1)}
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
	for _, dir := range []string{cfg.RunDir, cfg.LogDir, filepath.Dir(cfg.Socket)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			d.logf("%v", err)
		}
	}
	lg, err := svclog.Open(svclog.Options{Dir: cfg.UncaughtDir, MaxSize: cfg.LogSize, Count: cfg.LogCount})
	if err != nil {
		d.logf("catch-all log: %v (messages go to the console only)", err)
	} else {
		d.log = lg
	}
	pid1 := os.Getpid() == 1
	if cfg.Subreaper && !pid1 {
		if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 36 /* PR_SET_CHILD_SUBREAPER */, 1, 0); e != 0 {
			d.logf("subreaper: %v", e)
		}
	}
	proc.SetReapAll(pid1 || cfg.Subreaper)
	if pid1 {
		// Ctrl-Alt-Del sends SIGINT to init instead of rebooting.
		syscall.Reboot(syscall.LINUX_REBOOT_CMD_CAD_OFF)
	}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTERM, syscall.SIGINT, syscall.SIGPWR, syscall.SIGHUP)
	go func() {
		for s := range sigs {
			if s == syscall.SIGHUP {
				continue // ignored, like s6-svscan as PID 1
			}
			d.logf("got %v", s)
			d.request(kindForSignal(s))
		}
	}()

	var m *rc.Manager
	var ln *rc.Listener
	db, err := svcdb.Load(cfg.DB)
	if err != nil {
		d.logf("cannot load the service database: %v; no services will run", err)
	} else if d.log == nil {
		d.logf("no catch-all log; no services will run")
	} else {
		m, err = rc.New(rc.Config{DB: db, LiveDir: cfg.LiveDir, OutputsDir: cfg.OutputsDir, LogDir: cfg.LogDir,
			Log: d.log, LogSize: cfg.LogSize, LogCount: cfg.LogCount, Backoff: cfg.Backoff})
		if err != nil {
			d.logf("service manager: %v", err)
			m = nil
		}
	}
	if m != nil {
		ln, err = rc.Listen(cfg.Socket)
		if err != nil {
			d.logf("control socket: %v", err)
		} else {
			go (&rc.Server{M: m, Shutdown: d.request}).Serve(ln)
		}
		go func() {
			d.logf("bringing up %q", svcdb.DefaultBundle)
			if err := m.Change(context.Background(), true, []string{svcdb.DefaultBundle}, rc.ChangeOptions{}); err != nil {
				d.logf("%q is not fully up:\n%v", svcdb.DefaultBundle, err)
			} else {
				d.logf("%q is up", svcdb.DefaultBundle)
			}
		}()
	}
	stopShell := make(chan struct{})
	shellDone := make(chan struct{})
	if cfg.ConsoleShell != "" {
		go d.consoleShell(stopShell, shellDone)
	} else {
		close(shellDone)
	}

	kind := <-d.stop
	d.logf("shutting down for %s", kind)
	close(stopShell)
	if ln != nil {
		ln.Close()
	}
	if m != nil {
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		if err := m.Shutdown(ctx, func(s string) { d.logf("%s", s) }); err != nil {
			d.logf("services not stopped cleanly:\n%v", err)
		}
		cancel()
	}
	<-shellDone
	d.killLeftovers(pid1 && cfg.KillAll)
	if m != nil {
		m.Close()
	}
	d.logf("%s: syncing", kind)
	if d.log != nil {
		d.log.Sync(time.Second)
		d.log.Close()
	}
	syscall.Sync()
	if !cfg.Reboot {
		fmt.Fprintf(cfg.Stderr, "init: test mode: would now %s\n", kind)
		return 0
	}
	if cfg.Mount {
		syscall.Mount("", "/", "", syscall.MS_REMOUNT|syscall.MS_RDONLY, "")
		syscall.Sync()
	}
	err = RebootNow(kind)
	fmt.Fprintf(cfg.Stderr, "init: reboot(2): %v\n", err)
	if pid1 {
		for {
			time.Sleep(time.Hour) // PID 1 must never exit
		}
	}
	return 1
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

// killLeftovers sends TERM (and CONT) to every process group init started,
// and to every process when all is set, then KILL after the grace period.
func (d *initd) killLeftovers(all bool) {
	n := proc.SignalAll(syscall.SIGTERM)
	proc.SignalAll(syscall.SIGCONT)
	if all {
		syscall.Kill(-1, syscall.SIGTERM)
		syscall.Kill(-1, syscall.SIGCONT)
	}
	if n == 0 && !all {
		return
	}
	d.logf("sent SIGTERM to %d leftover process groups", n)
	deadline := time.Now().Add(d.cfg.KillGrace)
	for time.Now().Before(deadline) && proc.Running() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if k := proc.SignalAll(syscall.SIGKILL); k > 0 {
		d.logf("sent SIGKILL to %d process groups", k)
	}
	if all {
		syscall.Kill(-1, syscall.SIGKILL)
	}
	deadline = time.Now().Add(time.Second)
	for time.Now().Before(deadline) && proc.Running() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
}

// consoleShell keeps a shell running on the console until stop.
func (d *initd) consoleShell(stop, done chan struct{}) {
	defer close(done)
	argv := strings.Fields(d.cfg.ConsoleShell)
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
			select {
			case <-p.Done():
			case <-stop:
				p.Signal(syscall.SIGHUP)
				p.Signal(syscall.SIGTERM)
				select {
				case <-p.Done():
				case <-time.After(time.Second):
					p.Signal(syscall.SIGKILL)
				}
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
