package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bazwrt/userland/init/rc"
)

// runInit starts `init -test -root ROOT ARGS...` with extra environment
// variables, and stops it (SIGKILL) at the end of the test.
func runInit(t *testing.T, root string, env []string, args ...string) (*exec.Cmd, *syncBuf, chan error) {
	t.Helper()
	cmd := command(t, "init", append([]string{"-test", "-root", root, "-kill-grace", "500ms"}, args...)...)
	cmd.Env = append(cmd.Env, env...)
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
	return cmd, logs, done
}

// waitLog waits until init's output matches re, and returns the match.
func waitLog(t *testing.T, logs *syncBuf, re string, timeout time.Duration) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		if m := rx.FindStringSubmatch(logs.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("init's output does not match /%s/ after %v", re, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUp waits until rc list up answers the default services.
func waitUp(t *testing.T, root string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var out bytes.Buffer
		code := rc.Call(filepath.Join(root, "run/services/control"), []string{"list", "up"}, &out, io.Discard)
		if code == 0 && out.String() == "daemon\nnet\nweb\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("default not up: rc list up = %d %q", code, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pidOf returns the pid rc status reports for a service.
// A longrun without readiness counts as up before its supervisor has
// started it: wait a little for the pid.
func pidOf(t *testing.T, root, svc string) int {
	t.Helper()
	re := regexp.MustCompile(` pid=(\d+)`)
	deadline := time.Now().Add(5 * time.Second)
	var out bytes.Buffer
	var m []string
	for m == nil {
		out.Reset()
		rc.Call(filepath.Join(root, "run/services/control"), []string{"status", svc}, &out, io.Discard)
		if m = re.FindStringSubmatch(out.String()); m == nil && time.Now().After(deadline) {
			t.Fatalf("no pid for %s: %q", svc, out.String())
		}
		if m == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	pid, _ := strconv.Atoi(m[1])
	return pid
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

func waitExit(t *testing.T, done chan error, timeout time.Duration) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("init exited with %v", err)
		}
	case <-time.After(timeout):
		t.Fatal("init did not exit")
	}
}

// A panic in a goroutine of the service manager (here the supervisor of a
// longrun, by fault injection) does not take init down: init logs it with
// its stack (console and kernel log), stops what the dead manager left,
// starts a new one which brings the services up again, keeps the console
// shell, and still shuts down on request.
func TestManagerPanicIsContained(t *testing.T) {
	_, pts := openPty(t)
	root := t.TempDir()
	writeSystem(t, root)
	kmsg := filepath.Join(root, "kmsg")
	os.WriteFile(kmsg, nil, 0o644)
	shell := filepath.Join(root, "shell.sh")
	os.WriteFile(shell, []byte("#!/bin/sh\necho $$ >> "+root+"/shell.pids\nexec sleep 1000\n"), 0o755)
	_, logs, done := runInit(t, root, []string{"INIT_FAULT=supervisor-panic:web"},
		"-console", pts, "-console-shell", shell, "-kmsg", kmsg, "-backoff", "100ms")
	waitUp(t, root, 10*time.Second)
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitFor("the console shell", func() bool { return len(readLines(filepath.Join(root, "shell.pids"))) == 1 })
	shellPid, _ := strconv.Atoi(readLines(filepath.Join(root, "shell.pids"))[0])
	daemon, web := pidOf(t, root, "daemon"), pidOf(t, root, "web")
	m := waitLog(t, logs, `init: started the service manager, pid (\d+)`, time.Second)

	syscall.Kill(web, syscall.SIGKILL) // its supervisor panics
	waitLog(t, logs, `(?s)panic: INIT_FAULT=supervisor-panic:web: injected panic in the supervisor of web\n.*\ngoroutine \d+ .*supervise\.\(\*Longrun\)\.loop`, 10*time.Second)
	waitLog(t, logs, `init: the service manager \(pid `+m[1]+`\) died: exit 2 after`, 10*time.Second)
	waitLog(t, logs, `init: stopped \d+ processes the service manager left behind`, 10*time.Second)
	waitLog(t, logs, `init: restarting the service manager in 100ms`, 10*time.Second)
	waitLog(t, logs, `(?s)init: started the service manager, pid \d+\n.*init: started the service manager, pid \d+\n.*init: "default" is up`, 10*time.Second)
	waitUp(t, root, 10*time.Second)
	starts := regexp.MustCompile(`init: started the service manager, pid (\d+)`).FindAllStringSubmatch(logs.String(), -1)
	if len(starts) != 2 || starts[1][1] == m[1] {
		t.Errorf("the manager was not restarted once: %q", starts)
	}
	if alive(daemon) {
		t.Errorf("daemon of the dead manager (pid %d) still runs", daemon)
	}
	if d := pidOf(t, root, "daemon"); d == daemon {
		t.Errorf("daemon not restarted")
	}
	if !alive(shellPid) || len(readLines(filepath.Join(root, "shell.pids"))) != 1 {
		t.Errorf("the console shell (pid %d) did not survive: alive %v, runs %q", shellPid, alive(shellPid), readLines(filepath.Join(root, "shell.pids")))
	}
	b, _ := os.ReadFile(kmsg)
	for _, want := range []string{
		"<3>init: the service manager (pid " + m[1] + ") died: exit 2 after",
		"<3>init: its crash report:\n<3>init: panic: INIT_FAULT=supervisor-panic:web",
		"supervise.(*Longrun).loop",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("kernel log lacks %q:\n%s", want, b)
		}
	}
	uncaught, _ := os.ReadFile(filepath.Join(root, "run/uncaught-logs/current"))
	if !strings.Contains(string(uncaught), " init: panic: INIT_FAULT=supervisor-panic:web") {
		t.Errorf("the new catch-all log lacks the crash report:\n%s", uncaught)
	}
	if code, out, errs := runApplet(t, "poweroff", "-root", root); code != 0 {
		t.Fatalf("poweroff = %d %q %q", code, out, errs)
	}
	waitExit(t, done, 15*time.Second)
	waitLog(t, logs, "init: test mode: would now poweroff", time.Second)
	if alive(shellPid) {
		t.Errorf("console shell still runs after shutdown")
	}
}

// A manager that keeps dying at once is restarted MaxManagerCrashes-1
// times, then left down; init still shuts down on request.
func TestManagerCrashLoopGivesUp(t *testing.T) {
	root := t.TempDir()
	writeSystem(t, root)
	cmd, logs, done := runInit(t, root, []string{"INIT_FAULT=manager-panic"}, "-backoff", "20ms")
	waitLog(t, logs, `init: the service manager died 5 times in a row, each within 1m0s of its start: not restarting it`, 20*time.Second)
	time.Sleep(200 * time.Millisecond)
	if n := strings.Count(logs.String(), "init: started the service manager"); n != 5 {
		t.Errorf("the manager was started %d times, want 5", n)
	}
	if n := strings.Count(logs.String(), "panic: INIT_FAULT=manager-panic"); n != 5 {
		t.Errorf("%d panic reports, want 5", n)
	}
	if _, err := os.Stat(filepath.Join(root, "run/services/control")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale control socket left: %v", err)
	}
	cmd.Process.Signal(syscall.SIGUSR2)
	waitExit(t, done, 10*time.Second)
	waitLog(t, logs, "init: test mode: would now poweroff", time.Second)
}

// A panic in init's own main loop is recovered: init reports it with its
// stack and goes to emergency mode, where the services (still run by the
// manager) can be stopped by the usual shutdown.
func TestInitPanicEmergencyMode(t *testing.T) {
	root := t.TempDir()
	writeSystem(t, root)
	_, logs, done := runInit(t, root, []string{"INIT_FAULT=init-panic"})
	waitLog(t, logs, `(?s)init: panic in init \(recovered: PID 1 goes on\): INIT_FAULT=init-panic: injected panic in init's main loop\n.*sysinit\.\(\*initd\)\.run`, 10*time.Second)
	waitLog(t, logs, `init: emergency mode: the console shell and poweroff/reboot/halt still work`, 10*time.Second)
	waitUp(t, root, 10*time.Second)
	os.Remove(filepath.Join(root, "order"))
	if code, out, errs := runApplet(t, "poweroff", "-root", root); code != 0 {
		t.Fatalf("poweroff = %d %q %q", code, out, errs)
	}
	waitExit(t, done, 15*time.Second)
	waitLog(t, logs, "init: test mode: would now poweroff", time.Second)
	// Only the stops: a service the recovered loop was still starting may
	// log its start after the file was cleared.
	var stops []string
	for _, l := range readLines(filepath.Join(root, "order")) {
		if strings.HasPrefix(l, "-") {
			stops = append(stops, l)
		}
	}
	if strings.Join(stops, " ") != "-web -daemon -net" {
		t.Errorf("shutdown order %q, want -web -daemon -net", stops)
	}
}

// The manager applet refuses to run without the descriptors init gives it.
func TestManagerAppletNeedsInit(t *testing.T) {
	code, _, errs := runApplet(t, "init", "init-manager", "-db=/nonexistent")
	if code != 2 || !strings.Contains(errs, "only init starts the service manager") {
		t.Errorf("init init-manager = %d %q", code, errs)
	}
}
