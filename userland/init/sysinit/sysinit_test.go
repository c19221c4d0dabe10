package sysinit

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"bazwrt/userland/init/supervise"
)

func TestPaths(t *testing.T) {
	c := Config{Root: "/tmp/x", Socket: "/s"}
	c.Paths()
	got := []string{c.DB, c.RunDir, c.LiveDir, c.OutputsDir, c.Socket, c.LogDir, c.UncaughtDir, c.Hostname}
	want := []string{"/tmp/x/etc/svc/db", "/tmp/x/run", "/tmp/x/run/services/live", "/tmp/x/run/services/outputs",
		"/s", "/tmp/x/run/log", "/tmp/x/run/uncaught-logs", "/tmp/x/etc/hostname"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestSignals(t *testing.T) {
	for kind, sig := range map[string]syscall.Signal{Halt: syscall.SIGUSR1, Poweroff: syscall.SIGUSR2, Reboot: syscall.SIGTERM} {
		if s, ok := SignalFor(kind); !ok || s != sig {
			t.Errorf("SignalFor(%s) = %v", kind, s)
		}
		if k := kindForSignal(sig); k != kind {
			t.Errorf("kindForSignal(%v) = %s", sig, k)
		}
	}
	if k := kindForSignal(syscall.SIGINT); k != Reboot {
		t.Errorf("ctrl-alt-del -> %s", k)
	}
	if k := kindForSignal(syscall.SIGPWR); k != Poweroff {
		t.Errorf("SIGPWR -> %s", k)
	}
	if _, ok := SignalFor("suspend"); ok {
		t.Error("unknown kind accepted")
	}
	// Requests from the manager: only valid kinds pass, at most a few
	// are queued.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan string, 4)
	done := make(chan struct{})
	go func() { readRequests(r, ch); close(done) }()
	w.WriteString("shutdown suspend\nhello\nshutdown halt\nshutdown reboot\n")
	w.Close()
	<-done
	close(ch)
	var got []string
	for k := range ch {
		got = append(got, k)
	}
	if diff := cmp.Diff([]string{Halt, Reboot}, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// The manager gets every setting it needs through its flags.
func TestManagerArgs(t *testing.T) {
	c := Config{Root: "/r", Faults: "manager-panic,supervisor-panic:web", ShutdownTimeout: 7 * time.Second,
		KillGrace: 1500 * time.Millisecond, LogSize: 12345, LogCount: 7,
		Backoff: supervise.Backoff{Initial: 20 * time.Millisecond, Max: 600 * time.Millisecond, ResetAfter: 10 * time.Second}}
	c.Paths()
	got, err := parseManagerArgs(managerArgs(c))
	if err != nil {
		t.Fatal(err)
	}
	got.Paths()
	c.Root, c.Hostname, c.Executable, c.Stderr, got.Stderr = "/", "", "", nil, nil
	got.Hostname, got.Executable = "", ""
	if diff := cmp.Diff(c, got, cmpopts.IgnoreFields(Config{}, "Stderr")); diff != "" {
		t.Errorf("manager config (-want +got):\n%s", diff)
	}
	if _, err := parseManagerArgs([]string{"-db=x", "extra"}); err == nil {
		t.Error("extra argument accepted")
	}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		in              string
		state           byte
		ppid, pgrp, sid int
		ok              bool
	}{
		{"42 (sleep) S 1 42 42 0 -1 4194560 ...", 'S', 1, 42, 42, true},
		{"7 (a) b (c)) Z 3 4 5 0", 'Z', 3, 4, 5, true},
		{"7 (x", 0, 0, 0, 0, false},
		{"7 (x) S 1 2", 0, 0, 0, 0, false},
		{"7 (x) S 1 two 3", 0, 0, 0, 0, false},
	} {
		state, ppid, pgrp, sid, ok := parseStat([]byte(tc.in))
		if state != tc.state || ppid != tc.ppid || pgrp != tc.pgrp || sid != tc.sid || ok != tc.ok {
			t.Errorf("parseStat(%q) = %c %d %d %d %v", tc.in, state, ppid, pgrp, sid, ok)
		}
	}
}

func TestFault(t *testing.T) {
	list := "init-panic, supervisor-panic:web"
	if _, ok := fault(list, "init-panic"); !ok {
		t.Error("init-panic not found")
	}
	if arg, ok := fault(list, "supervisor-panic"); !ok || arg != "web" {
		t.Errorf("supervisor-panic = %q %v", arg, ok)
	}
	if _, ok := fault(list, "manager-panic"); ok {
		t.Error("manager-panic found")
	}
	if _, ok := fault("", "init-panic"); ok {
		t.Error("fault in an empty list")
	}
}

// stopChildren stops children (with their process groups) except those
// spared, TERM first, KILL after the grace for those that ignore TERM.
func TestStopChildren(t *testing.T) {
	start := func(script string) *exec.Cmd {
		cmd := exec.Command("/bin/sh", "-c", script)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go cmd.Wait()
		return cmd
	}
	polite := start("exec sleep 100")
	stubborn := start("trap '' TERM; sleep 100 & wait")
	spared := start("exec sleep 100")
	defer spared.Process.Kill()
	deadline := time.Now().Add(5 * time.Second)
	for len(children()) < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	begin := time.Now()
	n := stopChildren(func(c child) bool { return c.pid == spared.Process.Pid }, 300*time.Millisecond)
	if n != 2 {
		t.Errorf("stopChildren signalled %d processes, want 2", n)
	}
	if d := time.Since(begin); d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("took %v, want the grace period for the stubborn one", d)
	}
	var left []int
	for _, c := range children() {
		left = append(left, c.pid)
	}
	if diff := cmp.Diff([]int{spared.Process.Pid}, left); diff != "" {
		t.Errorf("children left (-want +got):\n%s (polite %d, stubborn %d)", diff, polite.Process.Pid, stubborn.Process.Pid)
	}
}
