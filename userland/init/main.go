// Command init is the device's multi-call binary: PID 1 with the service
// supervisor, the rc client, poweroff/reboot/halt and the firewall. It
// dispatches on basename(argv[0]) (install it as /sbin/init with links
// /sbin/rc, /sbin/poweroff, /sbin/reboot, /sbin/halt, /sbin/firewall) or on
// the first argument (`init rc status`). See docs/services.md and
// docs/router.md.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"bazwrt/userland/firewall"
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
}

func main() { os.Exit(dispatch(os.Args, os.Stdout, os.Stderr)) }

func dispatch(argv []string, stdout, stderr io.Writer) int {
	name := filepath.Base(argv[0])
	args := argv[1:]
	if _, ok := applets[name]; !ok {
		name = "init"
	}
	if name == "init" && len(args) > 0 {
		if _, ok := applets[args[0]]; ok && args[0] != "init" {
			name, args = args[0], args[1:]
		} else if args[0] == "help" || args[0] == "--help" {
			fmt.Fprintln(stdout, "usage: init [flags] | init rc ... | init poweroff|reboot|halt [-f] | init firewall ...\nrun `init -h`, `init rc -h` or `init firewall help` for flags")
			return 0
		}
	}
	return applets[name](args, stdout, stderr)
}

// env returns the environment variable k, or def.
func env(k, def string) string {
	if v, ok := os.LookupEnv(k); ok {
		return v
	}
	return def
}

func envBool(k string) bool {
	v := os.Getenv(k)
	return v == "1" || v == "true" || v == "yes"
}

func initMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c sysinit.Config
	test := fs.Bool("test", envBool("INIT_TEST"), "test mode: no mounts, hostname, console shell, kill(-1) or reboot(2) (env INIT_TEST=1)")
	fs.StringVar(&c.Root, "root", env("SVC_ROOT", "/"), "prefix of all default paths (env SVC_ROOT)")
	fs.StringVar(&c.DB, "db", env("SVC_DB", ""), "compiled service database (default ROOT/etc/svc/db; env SVC_DB)")
	fs.StringVar(&c.RunDir, "run", env("SVC_RUN", ""), "run-time directory (default ROOT/run; env SVC_RUN)")
	fs.StringVar(&c.Socket, "socket", env("SVC_SOCKET", ""), "control socket (default RUN/services/control; env SVC_SOCKET)")
	fs.StringVar(&c.LogDir, "log-dir", env("SVC_LOG_DIR", ""), "service logs (default RUN/log; env SVC_LOG_DIR)")
	fs.StringVar(&c.UncaughtDir, "uncaught-dir", "", "catch-all log (default RUN/uncaught-logs)")
	noMount := fs.Bool("no-mount", false, "do not mount /proc, /sys, /dev, /run, /tmp")
	noReboot := fs.Bool("no-reboot", false, "do not call reboot(2) at the end of shutdown; exit instead")
	fs.BoolVar(&c.Subreaper, "subreaper", false, "become a child subreaper and reap orphans (when not PID 1)")
	shell := fs.String("console-shell", env("INIT_CONSOLE_SHELL", "/bin/sh -l"), "console shell command, empty for none (env INIT_CONSOLE_SHELL)")
	fs.StringVar(&c.Console, "console", "/dev/console", "console device for the shell")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "time allowed to stop services at shutdown")
	fs.DurationVar(&c.KillGrace, "kill-grace", 3*time.Second, "time between SIGTERM and SIGKILL of leftover processes")
	fs.Int64Var(&c.LogSize, "log-size", 256<<10, "bytes per log file")
	fs.IntVar(&c.LogCount, "log-count", 4, "log files kept per log directory (current included)")
	backoff := fs.Duration("backoff", time.Second, "first restart delay of a crashing longrun (doubles up to 30x, at most 30s)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	pid1 := os.Getpid() == 1
	c.Mount = pid1 && !*test && !*noMount
	c.SetHostname = pid1 && !*test
	c.Reboot = pid1 && !*test && !*noReboot
	c.KillAll = pid1 && !*test
	// The console shell is off in test mode unless asked for explicitly.
	shellSet := false
	fs.Visit(func(f *flag.Flag) { shellSet = shellSet || f.Name == "console-shell" })
	if !*test || shellSet {
		c.ConsoleShell = *shell
	}
	b := supervise.DefaultBackoff
	if *backoff > 0 && *backoff != b.Initial {
		b.Initial = *backoff
		b.Max = min(30**backoff, 30*time.Second)
		if b.Max < b.Initial {
			b.Max = b.Initial
		}
	}
	c.Backoff = b
	c.Stderr = stderr
	return sysinit.Run(c)
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
	if _, err := os.Stat(sock); err != nil && *root == "/" && *s == "" {
		// No supervisor socket: signal PID 1 like busybox does.
		sig, _ := sysinit.SignalFor(kind)
		if err := syscall.Kill(1, sig); err != nil {
			fmt.Fprintf(stderr, "%s: cannot signal init: %v\n", kind, err)
			return 1
		}
		return 0
	}
	return rc.Call(sock, []string{"shutdown", kind}, stdout, stderr)
}
