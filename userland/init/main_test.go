package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"bazwrt/userland/init/execline"
	"bazwrt/userland/init/rc"
	"bazwrt/userland/init/svcdb"
)

// The test binary doubles as the multi-call binary: with BAZWRT_APPLET set
// it runs dispatch with that applet name as argv[0]. The blocks of execline
// scripts re-execute it with the hidden applet's name as argv[0] (and
// BAZWRT_APPLET inherited): that name comes first.
func TestMain(m *testing.M) {
	if filepath.Base(os.Args[0]) == execline.RunApplet {
		os.Exit(dispatch(os.Args, os.Stdout, os.Stderr))
	}
	// The service manager runs oneshots' up and down as `/proc/self/exe
	// execlineb -P FILE`, in the services' clean environment.
	if len(os.Args) > 1 && os.Args[1] == "execlineb" {
		os.Exit(dispatch(append([]string{"/sbin/init"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	if applet := os.Getenv("BAZWRT_APPLET"); applet != "" {
		os.Exit(dispatch(append([]string{"/sbin/" + applet}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func self(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// command runs an applet of this binary.
func command(t *testing.T, applet string, args ...string) *exec.Cmd {
	cmd := exec.Command(self(t), args...)
	cmd.Env = append(os.Environ(), "BAZWRT_APPLET="+applet)
	return cmd
}

func runApplet(t *testing.T, applet string, args ...string) (int, string, string) {
	t.Helper()
	cmd := command(t, applet, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

func TestDispatch(t *testing.T) {
	var out, errb bytes.Buffer
	missing := filepath.Join(t.TempDir(), "no-socket")
	for _, argv := range [][]string{
		{"/sbin/rc", "-s", missing, "status"},
		{"/sbin/init", "rc", "-s", missing, "status"},
		{"bazwrt-init", "rc", "-s", missing, "status"},
		{"/sbin/poweroff", "-s", missing},
		{"init", "reboot", "-s", missing},
	} {
		errb.Reset()
		if code := dispatch(argv, &out, &errb); code != 111 || !strings.Contains(errb.String(), "cannot reach the supervisor") {
			t.Errorf("dispatch(%q) = %d, stderr %q; want 111", argv, code, errb.String())
		}
	}
	errb.Reset()
	if code := dispatch([]string{"rc"}, &out, &errb); code != 100 || !strings.Contains(errb.String(), "usage: rc") {
		t.Errorf("rc without command = %d %q", code, errb.String())
	}
}

// execlineb answers as /bin/execlineb and as `init execlineb`, and the
// blocks of its scripts, which re-execute the binary as the hidden applet,
// run builtins too.
func TestExeclinebApplet(t *testing.T) {
	for _, tc := range []struct {
		argv []string
		name string
		args []string
	}{
		{[]string{"/bin/execlineb", "-P", "script"}, "execlineb", []string{"-P", "script"}},
		{[]string{"/sbin/init", "execlineb", "-Pc", "true"}, "execlineb", []string{"-Pc", "true"}},
		{[]string{execline.RunApplet, "up", "-", "echo"}, execline.RunApplet, []string{"up", "-", "echo"}},
		{[]string{"/proc/self/exe", execline.RunApplet, "up", "-"}, execline.RunApplet, []string{"up", "-"}},
	} {
		name, args, _ := selectApplet(tc.argv, false)
		if name != tc.name || !cmp.Equal(args, tc.args) {
			t.Errorf("selectApplet(%q) = %s %q, want %s %q", tc.argv, name, args, tc.name, tc.args)
		}
	}
	code, out, errs := runApplet(t, "execlineb", "-Pc", "foreground { if { true } echo inner } backtick -E X { echo got } echo outer $X")
	if code != 0 || out != "inner\nouter got\n" || errs != "" {
		t.Errorf("execlineb = %d %q %q", code, out, errs)
	}
	script := filepath.Join(t.TempDir(), "up")
	os.WriteFile(script, []byte("#!/bin/execlineb -P\nif { test -d / }\nforeground { nonexistent-program-x }\n"), 0o755)
	code, _, errs = runApplet(t, "execlineb", "-P", script)
	if code != 111 || errs != "execlineb: "+script+": foreground: cannot spawn nonexistent-program-x: not found in PATH \""+os.Getenv("PATH")+"\"\n" {
		t.Errorf("execlineb %s = %d %q", script, code, errs)
	}
	var errb bytes.Buffer
	if code := dispatch([]string{"/bin/execlineb", "-Pc", "}"}, io.Discard, &errb); code != 100 || errb.String() != "execlineb: -c: line 1: unmatched }: no block is open\n" {
		t.Errorf("syntax error = %d %q", code, errb.String())
	}
	errb.Reset()
	if code := dispatch([]string{execline.RunApplet}, io.Discard, &errb); code != 100 || !strings.Contains(errb.String(), "not for people") {
		t.Errorf("%s without arguments = %d %q", execline.RunApplet, code, errb.String())
	}
}

// The firewall applet answers as /sbin/firewall and as `init firewall`
// (its commands that need no kernel: check, usage).
func TestFirewallApplet(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.nft")
	bad := filepath.Join(dir, "bad.nft")
	os.WriteFile(good, []byte("table inet t {\n\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n\t\ttcp dport 22 accept\n\t}\n}\n"), 0o644)
	os.WriteFile(bad, []byte("table inet t {\n\tchain input {\n\t\ttcp dport 70000 accept\n\t}\n}\n"), 0o644)
	for _, tc := range []struct {
		argv []string
		code int
		err  string
	}{
		{[]string{"/sbin/firewall", "check", good}, 0, ""},
		{[]string{"/sbin/init", "firewall", "check", good}, 0, ""},
		{[]string{"firewall", "check", bad}, 1, "firewall: " + bad + `:3: want a port from 1 to 65535, got "70000"` + "\n"},
		{[]string{"init", "firewall", "check", bad}, 1, "firewall: " + bad + ":3: "},
		{[]string{"/sbin/firewall"}, 2, "usage: firewall COMMAND"},
		{[]string{"/sbin/firewall", "reload"}, 2, `firewall: unknown command "reload"`},
		{[]string{"/sbin/firewall", "run"}, 2, "usage: firewall run -ruleset FILE"},
		{[]string{"/sbin/firewall", "run", "-ruleset", bad}, 1, "firewall: " + bad + ":3: "},
		{[]string{"/sbin/firewall", "run", "-ruleset", good, "-zone", "lan=lan"}, 2, "firewall run: -zone lan=lan: " + good + " has no set zone_lan"},
		{[]string{"/sbin/firewall", "run", "-ruleset", good, "-zone", "lan"}, 2, `invalid value "lan" for flag -zone: want ZONE=SERVICE`},
	} {
		var out, errb bytes.Buffer
		code := dispatch(tc.argv, &out, &errb)
		if code != tc.code || !strings.HasPrefix(errb.String(), tc.err) || tc.err == "" && errb.Len() > 0 {
			t.Errorf("dispatch(%q) = %d, stderr %q; want %d, %q", tc.argv, code, errb.String(), tc.code, tc.err)
		}
	}
}

// writeSystem creates ROOT/etc/svc/db from a small service tree whose
// scripts log to ROOT/order.
func writeSystem(t *testing.T, root string) {
	t.Helper()
	files := map[string]string{
		"default/type":     "bundle",
		"default/contents": "web\n",
		"net/type":         "oneshot",
		// up and down are execline, run by this binary's execlineb.
		"net/up":                    "foreground { redirfd -a 1 @ROOT@/order echo net }\nimportas -i O OUTPUTS\nredirfd -w 1 ${O}/addr echo 192.0.2.1\n",
		"net/down":                  "redirfd -a 1 @ROOT@/order echo -net",
		"daemon/type":               "longrun",
		"daemon/notification-fd":    "3",
		"daemon/run":                "#!/bin/sh\necho daemon >> @ROOT@/order\necho starting; echo >&3\nexec sleep 1000\n",
		"daemon/finish":             "#!/bin/sh\necho -daemon >> @ROOT@/order\n",
		"daemon/dependencies.d/net": "",
		"web/type":                  "longrun",
		"web/run":                   "echo web >> @ROOT@/order; exec sleep 1000",
		"web/finish":                "echo -web >> @ROOT@/order",
		"web/dependencies.d/daemon": "",
		"ctl/type":                  "longrun",
		"ctl/run":                   "exec sleep 1000",
		"ctl/dependencies.d/net":    "",
	}
	src := filepath.Join(root, "src")
	for p, c := range files {
		full := filepath.Join(src, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(strings.ReplaceAll(c, "@ROOT@", root)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	db, err := svcdb.CompileDirs(src)
	if err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(root, "etc", "svc"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "etc", "svc", "db"), svcdb.Encode(db), 0o644); err != nil {
		t.Fatal(err)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startInit runs `init -test -root ROOT` and waits until default is up.
func startInit(t *testing.T, root string) (*exec.Cmd, *syncBuf, chan error) {
	t.Helper()
	cmd := command(t, "init", "-test", "-root", root, "-kill-grace", "500ms")
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		done <- cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("init output:\n%s", logs)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		// Poll in-process (exec'ing the test binary is slow under -race).
		var out bytes.Buffer
		code := rc.Call(filepath.Join(root, "run/services/control"), []string{"list", "up"}, &out, io.Discard)
		if code == 0 && out.String() == "daemon\nnet\nweb\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("default not up: rc list up = %d %q", code, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cmd, logs, done
}

func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}

func TestInitEndToEnd(t *testing.T) {
	root := t.TempDir()
	writeSystem(t, root)
	_, logs, done := startInit(t, root)

	// web has no readiness notification: it is "ready" once spawned, so
	// its script may not have run yet.
	deadline := time.Now().Add(5 * time.Second)
	for len(readLines(filepath.Join(root, "order"))) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := readLines(filepath.Join(root, "order")); !cmp.Equal(got, []string{"net", "daemon", "web"}) {
		t.Errorf("boot order = %q", got)
	}
	// Controlled service: down at boot, started on request.
	if code, out, errs := runApplet(t, "rc", "-root", root, "change", "-u", "ctl"); code != 0 {
		t.Fatalf("rc change -u ctl = %d %q %q", code, out, errs)
	}
	code, out, _ := runApplet(t, "rc", "-root", root, "status", "ctl", "net")
	if code != 0 || !strings.Contains(out, "ctl type=longrun state=ready pid=") || !strings.Contains(out, "net type=oneshot state=up") {
		t.Errorf("status = %d %q", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(root, "run/services/outputs/net/addr")); err != nil || string(b) != "192.0.2.1\n" {
		t.Errorf("net outputs: %q %v", b, err)
	}
	// The daemon's stdout is in its own log.
	b, _ := os.ReadFile(filepath.Join(root, "run/log/daemon/current"))
	if !strings.Contains(string(b), " starting\n") {
		t.Errorf("daemon log: %q", b)
	}
	os.Remove(filepath.Join(root, "order"))
	if code, out, errs := runApplet(t, "poweroff", "-root", root); code != 0 {
		t.Fatalf("poweroff = %d %q %q", code, out, errs)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("init exited with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("init did not exit after poweroff")
	}
	if !strings.Contains(logs.String(), "init: test mode: would now poweroff") {
		t.Errorf("init output lacks the final message")
	}
	// Reverse dependency order: web, then daemon (ctl any time before net), net last.
	got := readLines(filepath.Join(root, "order"))
	if diff := cmp.Diff([]string{"-web", "-daemon", "-net"}, got); diff != "" {
		t.Errorf("shutdown order (-want +got):\n%s", diff)
	}
	if _, err := os.Stat(filepath.Join(root, "run/services/outputs/net")); !os.IsNotExist(err) {
		t.Errorf("outputs not cleared at shutdown: %v", err)
	}
	uncaught, _ := os.ReadFile(filepath.Join(root, "run/uncaught-logs/current"))
	if !strings.Contains(string(uncaught), "init: shutting down for poweroff") {
		t.Errorf("catch-all log lacks init's messages:\n%s", uncaught)
	}
}

func TestInitSignals(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		kind string
	}{{syscall.SIGUSR1, "halt"}, {syscall.SIGTERM, "reboot"}} {
		t.Run(tc.kind, func(t *testing.T) {
			root := t.TempDir()
			writeSystem(t, root)
			cmd, logs, done := startInit(t, root)
			cmd.Process.Signal(tc.sig)
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("init exited with %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("init did not exit")
			}
			if !strings.Contains(logs.String(), "would now "+tc.kind) {
				t.Errorf("output lacks %q", "would now "+tc.kind)
			}
		})
	}
}

func TestInitWithoutDatabase(t *testing.T) {
	root := t.TempDir()
	cmd := command(t, "init", "-test", "-root", root)
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "cannot load the service database") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no error about the database:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGUSR2)
	select {
	case err := <-done:
		if err != nil || !strings.Contains(logs.String(), "would now poweroff") {
			t.Fatalf("exit %v, output:\n%s", err, logs)
		}
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		t.Fatal("init did not exit")
	}
}

// openPty returns the master side of a new pseudo-terminal and the path of
// its slave, or fails the test (a skipped test passes under Bazel).
func openPty(t *testing.T) (*os.File, string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no ptys (/dev/ptmx): %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("ptsname: %v", err)
	}
	return ptmx, fmt.Sprintf("/dev/pts/%d", n)
}

func TestConsoleShellRespawn(t *testing.T) {
	_, pts := openPty(t)
	root := t.TempDir()
	writeSystem(t, root)
	marker := filepath.Join(root, "shell.runs")
	shell := filepath.Join(root, "shell.sh")
	// The shell records that it has a controlling terminal, then exits.
	os.WriteFile(shell, []byte("#!/bin/sh\n[ -t 0 ] && tty >> "+marker+"\n"), 0o755)
	cmd := command(t, "init", "-test", "-root", root, "-console", pts, "-console-shell", shell)
	logs := &syncBuf{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGUSR2)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("init did not exit")
		}
		if t.Failed() {
			t.Logf("init output:\n%s", logs)
		}
	}()
	deadline := time.Now().Add(8 * time.Second)
	for len(readLines(marker)) < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("console shell ran %d times, want it respawned", len(readLines(marker)))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := readLines(marker); got[0] != pts {
		t.Errorf("shell tty = %q, want %q", got[0], pts)
	}
}
