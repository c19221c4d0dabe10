// Command init is the device's multi-call binary: PID 1 with the service
// supervisor, the rc client, poweroff/reboot/halt, the firewall and
// execlineb. It dispatches on basename(argv[0]) (install it as /sbin/init
// with links /sbin/rc, /sbin/poweroff, /sbin/reboot, /sbin/halt,
// /sbin/firewall, /bin/execlineb) or on the first argument (`init rc
// status`; the service manager runs oneshots' up and down as
// `/proc/self/exe execlineb -P FILE`). See
// docs/services.md and docs/router.md.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"bazwrt/userland/firewall"
	"bazwrt/userland/init/execline"
	"bazwrt/userland/init/rc"
	"bazwrt/userland/init/supervise"
	"bazwrt/userland/init/sysinit"
)

var applets = map[string]func(args []string, stdout, stderr io.Writer) int{
	"init":     initMain,
	"rc":       rcMain,
	"poweroff": func(a []string, o, e io.Writer) int { return shutdownMain(sysinit.Poweroff, a, o, e) },
	"reboot":   func(a []string, o, e io.Writer) int { return shutdownMain(sysinit.Reboot, a, o, e) },
	"halt":     func(a []string, o, e io.Writer) int { return shutdownMain(sysinit.Halt, a, o, e) },
	"firewall": firewall.Main,
	// execline scripts (s6-rc's up and down); see userland/init/execline.
	"execlineb": execline.Main,
	// The blocks of execline scripts that run as processes of their own,
	// started from this program; not for people.
	execline.RunApplet: execline.RunMain,
	// The service manager process PID 1 starts; not for people.
	sysinit.ManagerApplet: func(a []string, o, e io.Writer) int { return sysinit.ManagerMain(a, e) },
}

func main() {
	if os.Getpid() == 1 {
		pid1Main(os.Args)
	}
	os.Exit(dispatch(os.Args, os.Stdout, os.Stderr))
}

// pid1Main is init as PID 1, which must never return nor panic out: the
// kernel would panic. Whatever its name and arguments (the kernel passes
// the words of its command line it does not know), PID 1 is init.
func pid1Main(argv []string) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "init: panic before init started: %v\n%s\ninit: starting with the defaults\n", v, debug.Stack())
			sysinit.Run(pid1Defaults(os.Stderr))
		}
	}()
	c, _, _ := initConfig(argv[1:], os.LookupEnv, true, os.Stderr)
	sysinit.Run(c) // does not return with c.PID1
	fmt.Fprintln(os.Stderr, "init: PID 1 must not exit: staying")
	for {
		time.Sleep(time.Hour)
	}
}

func dispatch(argv []string, stdout, stderr io.Writer) int {
	name, args, help := selectApplet(argv, false)
	if help {
		fmt.Fprintln(stdout, "usage: init [flags] | init rc ... | init poweroff|reboot|halt [-f] | init firewall ... | init execlineb ...\nrun `init -h`, `init rc -h` or `init firewall help` for flags")
		return 0
	}
	return applets[name](args, stdout, stderr)
}

// selectApplet picks the applet from basename(argv[0]) or, for init, from
// the first argument. As PID 1 it is always init.
func selectApplet(argv []string, pid1 bool) (name string, args []string, help bool) {
	name, args = filepath.Base(argv[0]), argv[1:]
	if pid1 {
		return "init", args, false
	}
	if _, ok := applets[name]; !ok {
		name = "init"
	}
	if name == "init" && len(args) > 0 {
		if _, ok := applets[args[0]]; ok && args[0] != "init" {
			return args[0], args[1:], false
		} else if args[0] == "help" || args[0] == "--help" {
			return name, args, true
		}
	}
	return name, args, false
}

func initMain(args []string, stdout, stderr io.Writer) int {
	c, code, run := initConfig(args, os.LookupEnv, os.Getpid() == 1, stderr)
	if !run {
		return code
	}
	return sysinit.Run(c)
}

// env returns the environment variable k, or def.
func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

const defaultConsoleShell = "/bin/sh -l"

// pid1Defaults is the configuration of a normal boot, without flags or
// environment.
func pid1Defaults(stderr io.Writer) sysinit.Config {
	c, _, _ := initConfig(nil, func(string) (string, bool) { return "", false }, true, stderr)
	return c
}

type initFlags struct {
	c        sysinit.Config
	test     bool
	noMount  bool
	noReboot bool
	shell    string
	shellSet bool
	backoff  time.Duration
}

func parseInitFlags(args []string, lookup func(string) (string, bool), stderr io.Writer) (*initFlags, *flag.FlagSet, error) {
	env := func(k, def string) string {
		if v, ok := lookup(k); ok {
			return v
		}
		return def
	}
	v, _ := lookup("INIT_TEST")
	envTest := v == "1" || v == "true" || v == "yes"
	f := &initFlags{}
	c := &f.c
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&f.test, "test", envTest, "test mode: no mounts, hostname, console shell, kill(-1) or reboot(2) (env INIT_TEST=1); refused as PID 1")
	fs.StringVar(&c.Root, "root", env("SVC_ROOT", "/"), "prefix of all default paths (env SVC_ROOT)")
	fs.StringVar(&c.DB, "db", env("SVC_DB", ""), "compiled service database (default ROOT/etc/svc/db; env SVC_DB)")
	fs.StringVar(&c.RunDir, "run", env("SVC_RUN", ""), "run-time directory (default ROOT/run; env SVC_RUN)")
	fs.StringVar(&c.Socket, "socket", env("SVC_SOCKET", ""), "control socket (default RUN/services/control; env SVC_SOCKET)")
	fs.StringVar(&c.LogDir, "log-dir", env("SVC_LOG_DIR", ""), "service logs (default RUN/log; env SVC_LOG_DIR)")
	fs.StringVar(&c.UncaughtDir, "uncaught-dir", "", "catch-all log (default RUN/uncaught-logs)")
	fs.BoolVar(&f.noMount, "no-mount", false, "do not mount /proc, /sys, /dev, /run, /tmp")
	fs.BoolVar(&f.noReboot, "no-reboot", false, "do not call reboot(2) at the end of shutdown: exit (PID 1: stay, with a console shell)")
	fs.Bool("subreaper", false, "ignored: init is always a child subreaper when not PID 1")
	fs.StringVar(&f.shell, "console-shell", env("INIT_CONSOLE_SHELL", defaultConsoleShell), "console shell command, empty for none (env INIT_CONSOLE_SHELL)")
	fs.StringVar(&c.Console, "console", "/dev/console", "console device for the shell")
	fs.StringVar(&c.Kmsg, "kmsg", "", "kernel log device for crash reports (default /dev/kmsg as PID 1, none otherwise)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "time allowed to stop services at shutdown")
	fs.DurationVar(&c.KillGrace, "kill-grace", 3*time.Second, "time between SIGTERM and SIGKILL of leftover processes")
	fs.Int64Var(&c.LogSize, "log-size", 256<<10, "bytes per log file")
	fs.IntVar(&c.LogCount, "log-count", 4, "log files kept per log directory (current included)")
	fs.DurationVar(&f.backoff, "backoff", time.Second, "first restart delay of a crashing longrun or service manager (doubles up to 30x, at most 30s)")
	err := fs.Parse(args)
	fs.Visit(func(fl *flag.Flag) { f.shellSet = f.shellSet || fl.Name == "console-shell" })
	c.Faults = env("INIT_FAULT", "")
	return f, fs, err
}

// initConfig turns init's arguments and environment (lookup) into its
// configuration; run is false when init must exit with code instead.
//
// As PID 1, nothing may make init exit, or the kernel panics: a bad command
// line is reported and the defaults are used, test mode (-test, INIT_TEST,
// which the kernel passes from its command line) is refused, -no-reboot
// leaves PID 1 running with a console shell after the shutdown, and a blank
// console shell command becomes the default one. Outside PID 1 (tests,
// build hosts) those exit or run as asked.
func initConfig(args []string, lookup func(string) (string, bool), pid1 bool, stderr io.Writer) (c sysinit.Config, code int, run bool) {
	f, fs, err := parseInitFlags(args, lookup, stderr)
	if err != nil {
		if !pid1 {
			return c, 2, false
		}
		fmt.Fprintf(stderr, "init: bad command line %q (%v): ignoring it\n", args, err)
		f, fs, _ = parseInitFlags(nil, lookup, io.Discard)
	}
	if pid1 && fs.NArg() > 0 {
		fmt.Fprintf(stderr, "init: ignoring arguments %q\n", fs.Args())
	}
	if pid1 && f.test {
		fmt.Fprintln(stderr, "init: test mode (-test, INIT_TEST) is not for PID 1: booting normally")
		f.test = false
	}
	if pid1 && f.noReboot {
		fmt.Fprintln(stderr, "init: -no-reboot: after a shutdown PID 1 stays, with a console shell")
	}
	c = f.c
	c.PID1 = pid1
	c.Mount = pid1 && !f.test && !f.noMount
	c.SetHostname = pid1 && !f.test
	c.Reboot = pid1 && !f.test && !f.noReboot
	c.KillAll = pid1 && !f.test
	if pid1 && c.Kmsg == "" {
		c.Kmsg = "/dev/kmsg"
	}
	// The console shell is off in test mode unless asked for explicitly.
	if !f.test || f.shellSet {
		c.ConsoleShell = f.shell
	}
	if c.ConsoleShell != "" && strings.TrimSpace(c.ConsoleShell) == "" {
		if pid1 {
			fmt.Fprintf(stderr, "init: blank console shell command: using %q\n", defaultConsoleShell)
			c.ConsoleShell = defaultConsoleShell
		} else {
			fmt.Fprintln(stderr, "init: blank console shell command: no console shell")
			c.ConsoleShell = ""
		}
	}
	b := supervise.DefaultBackoff
	if f.backoff > 0 && f.backoff != b.Initial {
		b.Initial = f.backoff
		b.Max = min(30*f.backoff, 30*time.Second)
		if b.Max < b.Initial {
			b.Max = b.Initial
		}
	}
	c.Backoff = b
	c.Stderr = stderr
	return c, 0, true
}

// clientSocket resolves the control socket for client commands.
func clientSocket(s, root string) string {
	if s != "" {
		return s
	}
	return filepath.Join(root, "run/services/control")
}

const rcUsage = `usage: rc [-s SOCKET | -root DIR] COMMAND
commands:
  change [-u|-d|-D] [-v] [-t MS] SERVICE...   bring up (default) with dependencies,
                                              or down (-d; -D also essential ones) with dependents
  list [up|down|all]                          list services (default: up)
  status [SERVICE...]                         state, pid, since, last exit, restarts
  restart SERVICE...                          restart longruns (oneshots: down then up)
  ping                                        check that the supervisor answers
`

func rcMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, rcUsage) }
	s := fs.String("s", env("SVC_SOCKET", ""), "control socket")
	root := fs.String("root", env("SVC_ROOT", "/"), "root prefix of the default socket path")
	if err := fs.Parse(args); err != nil {
		return rc.ExitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return rc.ExitUsage
	}
	for _, a := range fs.Args() {
		if strings.ContainsAny(a, " \t\n") || a == "" {
			fmt.Fprintf(stderr, "rc: bad argument %q\n", a)
			return rc.ExitUsage
		}
	}
	return rc.Call(clientSocket(*s, *root), fs.Args(), stdout, stderr)
}

func shutdownMain(kind string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	force := fs.Bool("f", false, "do not stop services: sync and "+kind+" at once")
	s := fs.String("s", env("SVC_SOCKET", ""), "control socket")
	root := fs.String("root", env("SVC_ROOT", "/"), "root prefix of the default socket path")
	if err := fs.Parse(args); err != nil {
		return rc.ExitUsage
	}
	if *force {
		syscall.Sync()
		err := sysinit.RebootNow(kind)
		fmt.Fprintf(stderr, "%s: %v\n", kind, err)
		return 1
	}
	sock := clientSocket(*s, *root)
	byDefault := *root == "/" && *s == ""
	if _, err := os.Stat(sock); err != nil && byDefault {
		return signalInit(kind, stderr)
	}
	var errb bytes.Buffer
	code := rc.Call(sock, []string{"shutdown", kind}, stdout, &errb)
	if code == rc.ExitConnect && byDefault {
		// A stale socket: the service manager is gone (it died, or is
		// being restarted). PID 1 still answers signals.
		return signalInit(kind, stderr)
	}
	stderr.Write(errb.Bytes())
	return code
}

// signalInit asks PID 1 for a shutdown by signal, like busybox does.
func signalInit(kind string, stderr io.Writer) int {
	sig, _ := sysinit.SignalFor(kind)
	if err := syscall.Kill(1, sig); err != nil {
		fmt.Fprintf(stderr, "%s: cannot signal init: %v\n", kind, err)
		return 1
	}
	return 0
}
