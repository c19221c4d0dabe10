package sysinit

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"bazwrt/userland/init/proc"
	"bazwrt/userland/init/rc"
	"bazwrt/userland/init/supervise"
	"bazwrt/userland/init/svcdb"
	"bazwrt/userland/init/svclog"
)

// ManagerApplet is the first argument with which PID 1 starts the service
// manager from its own program (`init init-manager FLAGS`). It is not for
// people: the manager needs the descriptors init sets up.
const ManagerApplet = "init-manager"

// Descriptors of the manager process, set up by PID 1.
const (
	fdCommands = 3 // from init: "log LINE" and "shutdown KIND"
	fdRequests = 4 // to init: "shutdown KIND" (from the control socket)
	fdCrash    = 5 // the Go runtime's crash output, read by init
)

func managerFlags(c *Config) *flag.FlagSet {
	fs := flag.NewFlagSet(ManagerApplet, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.DB, "db", "", "")
	fs.StringVar(&c.RunDir, "run", "", "")
	fs.StringVar(&c.LiveDir, "live", "", "")
	fs.StringVar(&c.OutputsDir, "outputs", "", "")
	fs.StringVar(&c.Socket, "socket", "", "")
	fs.StringVar(&c.LogDir, "log-dir", "", "")
	fs.StringVar(&c.UncaughtDir, "uncaught-dir", "", "")
	fs.StringVar(&c.Faults, "faults", "", "")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 0, "")
	fs.DurationVar(&c.KillGrace, "kill-grace", 0, "")
	fs.Int64Var(&c.LogSize, "log-size", 0, "")
	fs.IntVar(&c.LogCount, "log-count", 0, "")
	fs.DurationVar(&c.Backoff.Initial, "backoff", 0, "")
	fs.DurationVar(&c.Backoff.Max, "backoff-max", 0, "")
	fs.DurationVar(&c.Backoff.ResetAfter, "backoff-reset", 0, "")
	return fs
}

// managerArgs is what the manager needs of c, as flags for
// parseManagerArgs (TestManagerArgs checks that they agree).
func managerArgs(c Config) []string {
	d := func(v time.Duration) string { return v.String() }
	return []string{
		"-db=" + c.DB, "-run=" + c.RunDir, "-live=" + c.LiveDir, "-outputs=" + c.OutputsDir,
		"-socket=" + c.Socket, "-log-dir=" + c.LogDir, "-uncaught-dir=" + c.UncaughtDir, "-faults=" + c.Faults,
		"-shutdown-timeout=" + d(c.ShutdownTimeout), "-kill-grace=" + d(c.KillGrace),
		"-log-size=" + strconv.FormatInt(c.LogSize, 10), "-log-count=" + strconv.Itoa(c.LogCount),
		"-backoff=" + d(c.Backoff.Initial), "-backoff-max=" + d(c.Backoff.Max), "-backoff-reset=" + d(c.Backoff.ResetAfter),
	}
}

func parseManagerArgs(args []string) (Config, error) {
	var c Config
	fs := managerFlags(&c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	c.Root = "/" // every path is given
	return c, nil
}

// ManagerMain is the service manager process (see the package comment).
func ManagerMain(args []string, stderr io.Writer) int {
	c, err := parseManagerArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", ManagerApplet, err)
		return 2
	}
	for _, fd := range []int{fdCommands, fdRequests, fdCrash} {
		var st syscall.Stat_t
		if err := syscall.Fstat(fd, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
			fmt.Fprintf(stderr, "%s: descriptor %d is not a pipe: only init starts the service manager\n", ManagerApplet, fd)
			return 2
		}
		// Never let a service inherit them.
		syscall.CloseOnExec(fd)
	}
	crash := os.NewFile(fdCrash, "crash output")
	if err := debug.SetCrashOutput(crash, debug.CrashOptions{}); err != nil {
		fmt.Fprintf(stderr, "%s: crash output: %v\n", ManagerApplet, err)
	}
	crash.Close()
	c.Stderr = stderr
	return runManager(c, os.NewFile(fdCommands, "init commands"), os.NewFile(fdRequests, "init requests"))
}

type managerd struct {
	cfg Config
	log *svclog.Logger

	mu  sync.Mutex
	req io.Writer
}

func (md *managerd) logf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if md.log != nil {
		md.log.Line("init: " + msg)
	}
	fmt.Fprintf(md.cfg.Stderr, "init: %s\n", msg)
}

// request passes a shutdown request from the control socket to PID 1.
func (md *managerd) request(kind string) error {
	if _, ok := SignalFor(kind); !ok {
		return fmt.Errorf("unknown shutdown kind %q (want poweroff, reboot or halt)", kind)
	}
	md.mu.Lock()
	defer md.mu.Unlock()
	if _, err := io.WriteString(md.req, "shutdown "+kind+"\n"); err != nil {
		return fmt.Errorf("cannot reach init: %v", err)
	}
	return nil
}

// faultHook injects INIT_FAULT=supervisor-panic:NAME: the supervision
// goroutine of longrun NAME panics when NAME dies.
func faultHook(faults string) func(string, supervise.Event) {
	name, ok := fault(faults, "supervisor-panic")
	if !ok {
		return nil
	}
	return func(svc string, e supervise.Event) {
		if svc == name && e.Kind == supervise.Died {
			panic(fmt.Sprintf("INIT_FAULT=supervisor-panic:%s: injected panic in the supervisor of %s", name, name))
		}
	}
}

// runManager loads the database, serves the control socket and brings up
// the default bundle, then follows init's commands until "shutdown" (or
// the end of the pipe: init is gone), when it takes every service down.
func runManager(cfg Config, cmds io.Reader, req io.Writer) int {
	cfg.Paths()
	md := &managerd{cfg: cfg, req: req}
	// Orphans of services come to the manager, which reaps them, as PID
	// 1 did when it ran the services itself.
	if err := setSubreaper(); err != nil {
		md.logf("subreaper: %v", err)
	}
	proc.SetReapAll(true)
	for _, dir := range []string{cfg.RunDir, cfg.LogDir, filepath.Dir(cfg.Socket)} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			md.logf("%v", err)
		}
	}
	lg, err := svclog.Open(svclog.Options{Dir: cfg.UncaughtDir, MaxSize: cfg.LogSize, Count: cfg.LogCount})
	if err != nil {
		md.logf("catch-all log: %v (messages go to the console only)", err)
	} else {
		md.log = lg
	}
	if _, ok := fault(cfg.Faults, "manager-panic"); ok {
		go func() { panic("INIT_FAULT=manager-panic: injected panic in a goroutine of the service manager") }()
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var m *rc.Manager
	var ln *rc.Listener
	db, err := svcdb.Load(cfg.DB)
	if err != nil {
		md.logf("cannot load the service database: %v; no services will run", err)
	} else if md.log == nil {
		md.logf("no catch-all log; no services will run")
	} else {
		m, err = rc.New(rc.Config{DB: db, LiveDir: cfg.LiveDir, OutputsDir: cfg.OutputsDir, LogDir: cfg.LogDir,
			Log: md.log, LogSize: cfg.LogSize, LogCount: cfg.LogCount, Backoff: cfg.Backoff,
			EventHook: faultHook(cfg.Faults)})
		if err != nil {
			md.logf("service manager: %v", err)
			m = nil
		}
	}
	if m != nil {
		ln, err = rc.Listen(cfg.Socket)
		if err != nil {
			md.logf("control socket: %v", err)
		} else {
			go (&rc.Server{M: m, Shutdown: md.request}).Serve(ln)
		}
		go func() {
			md.logf("bringing up %q", svcdb.DefaultBundle)
			if err := m.Change(ctx, true, []string{svcdb.DefaultBundle}, rc.ChangeOptions{}); err != nil {
				md.logf("%q is not fully up:\n%v", svcdb.DefaultBundle, err)
			} else {
				md.logf("%q is up", svcdb.DefaultBundle)
			}
		}()
	}

	if kind := md.follow(cmds); kind == "" {
		md.logf("init closed its command pipe: stopping every service")
	}
	cancel() // the boot-time bring-up, if still going
	if ln != nil {
		ln.Close()
	}
	if m != nil {
		sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		if err := m.Shutdown(sctx, func(s string) { md.logf("%s", s) }); err != nil {
			md.logf("services not stopped cleanly:\n%v", err)
		}
		scancel()
	}
	md.killLeftovers()
	if m != nil {
		m.Close()
	}
	if md.log != nil {
		md.log.Sync(time.Second)
		md.log.Close()
	}
	return 0
}

// follow reads init's commands until "shutdown KIND", whose kind it
// returns, or the end of the pipe ("").
func (md *managerd) follow(cmds io.Reader) string {
	br := bufio.NewReaderSize(cmds, 64<<10)
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimSuffix(line, "\n")
		if l, ok := strings.CutPrefix(line, "log "); ok && md.log != nil {
			md.log.Line(l)
		} else if kind, ok := strings.CutPrefix(line, "shutdown "); ok {
			return kind
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				md.logf("reading init's commands: %v", err)
			}
			return ""
		}
	}
}

// killLeftovers sends TERM (and CONT) to every process group the manager
// started that is still there, then KILL after the grace period.
func (md *managerd) killLeftovers() {
	n := proc.SignalAll(syscall.SIGTERM)
	proc.SignalAll(syscall.SIGCONT)
	if n == 0 {
		return
	}
	md.logf("sent SIGTERM to %d leftover process groups", n)
	deadline := time.Now().Add(md.cfg.KillGrace)
	for time.Now().Before(deadline) && proc.Running() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	if k := proc.SignalAll(syscall.SIGKILL); k > 0 {
		md.logf("sent SIGKILL to %d process groups", k)
	}
	deadline = time.Now().Add(time.Second)
	for time.Now().Before(deadline) && proc.Running() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
}
