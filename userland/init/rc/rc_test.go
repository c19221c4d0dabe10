package rc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// oneshot returns the files of a oneshot that appends its name to
// @ROOT@/order on up and "-name" on down, in execline.
func oneshot(files map[string]string, name string, deps ...string) {
	files[name+"/type"] = "oneshot"
	files[name+"/up"] = "redirfd -a 1 @ROOT@/order echo " + name
	files[name+"/down"] = "redirfd -a 1 @ROOT@/order\necho -" + name
	for _, d := range deps {
		files[name+"/dependencies.d/"+d] = ""
	}
}

func TestDependencyOrder(t *testing.T) {
	files := map[string]string{}
	oneshot(files, "a")
	oneshot(files, "b", "a")
	oneshot(files, "c", "b")
	oneshot(files, "d", "a")
	oneshot(files, "e") // unrelated, stays down
	h := newHarness(t, files)
	if err := h.up("c", "d"); err != nil {
		t.Fatal(err)
	}
	got := h.lines("order")
	if len(got) != 4 || got[0] != "a" || !before(got, "b", "c") {
		t.Fatalf("up order = %q, want a first and b before c", got)
	}
	wantUp := []string{"a", "b", "c", "d"}
	if l, _ := h.m.List("up"); !cmp.Equal(l, wantUp) {
		t.Errorf("list up = %q, want %q", l, wantUp)
	}
	// Bringing a down takes every dependent down first.
	os.Remove(h.path("order"))
	if err := h.down("a"); err != nil {
		t.Fatal(err)
	}
	got = h.lines("order")
	if len(got) != 4 || got[3] != "-a" || !before(got, "-c", "-b") {
		t.Fatalf("down order = %q, want -c before -b and -a last", got)
	}
	if l, _ := h.m.List("up"); len(l) != 0 {
		t.Errorf("list up after down = %q", l)
	}
}

func TestParallelOneshots(t *testing.T) {
	// Each waits (at most ~3 s) for the other's marker: this only
	// succeeds when both run at the same time.
	wait := func(me, other string) string {
		return "touch @ROOT@/" + me + "\n" +
			"i=0\nwhile [ ! -e @ROOT@/" + other + " ]; do i=$((i+1)); [ $i -gt 300 ] && exit 1; sleep 0.01; done\n"
	}
	files := map[string]string{
		"p1/type": "oneshot", "p1/up": sh(wait("p1", "p2")),
		"p2/type": "oneshot", "p2/up": sh(wait("p2", "p1")),
		"after/type": "oneshot", "after/up": "touch @ROOT@/after",
		"after/dependencies.d/p1": "", "after/dependencies.d/p2": "",
	}
	h := newHarness(t, files)
	start := time.Now()
	if err := h.up("after"); err != nil {
		t.Fatalf("independent oneshots did not run in parallel: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %v", d)
	}
	if _, err := os.Stat(h.path("after")); err != nil {
		t.Error("dependent did not run")
	}
}

func TestReadinessNotification(t *testing.T) {
	files := map[string]string{
		"daemon/type":            "longrun",
		"daemon/notification-fd": "3",
		// Becomes ready only once the test creates the "go" file.
		"daemon/run": "#!/bin/sh\nwhile [ ! -e @ROOT@/go ]; do sleep 0.01; done\n" +
			"touch @ROOT@/ready-marker\necho >&3\nexec sleep 100\n",
		"client/type":                  "oneshot",
		"client/up":                    "if { test -e @ROOT@/ready-marker } touch @ROOT@/client-ok",
		"client/dependencies.d/daemon": "",
	}
	h := newHarness(t, files)
	errc := make(chan error, 1)
	go func() { errc <- h.up("client") }()
	waitFor(t, 3*time.Second, "daemon to be spawned", func() bool {
		st, _ := h.m.Status([]string{"daemon"})
		return st[0].Pid > 0
	})
	if st := h.m.StateOf("daemon"); st != Starting {
		t.Errorf("daemon state before readiness = %v, want starting", st)
	}
	if st := h.m.StateOf("client"); st != Down {
		t.Errorf("client state before daemon readiness = %v, want down", st)
	}
	if err := os.WriteFile(h.path("go"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("change did not finish")
	}
	if _, err := os.Stat(h.path("client-ok")); err != nil {
		t.Error("client started before the daemon was ready")
	}
	if st := h.m.StateOf("daemon"); st != Ready {
		t.Errorf("daemon state = %v, want ready", st)
	}
}

func TestNotReadyTimeout(t *testing.T) {
	files := map[string]string{
		"mute/type": "longrun", "mute/notification-fd": "5", "mute/timeout-up": "200",
		"mute/run": "exec sleep 100",
	}
	h := newHarness(t, files)
	start := time.Now()
	err := h.up("mute")
	if err == nil || !strings.Contains(err.Error(), `svc "mute": failed to start: not ready after timeout-up 200ms`) {
		t.Fatalf("error = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
	waitFor(t, 3*time.Second, "mute to be stopped", func() bool { return h.m.StateOf("mute") == Failed })
}

func TestRestartBackoffAndFinish(t *testing.T) {
	files := map[string]string{
		"crash/type":   "longrun",
		"crash/run":    "#!/bin/sh\ndate +%s%N >> @ROOT@/starts\nexit 3\n",
		"crash/finish": "#!/bin/sh\necho \"$1 $2\" >> @ROOT@/finish.log\n",
	}
	h := newHarness(t, files) // backoff 50ms doubling to 400ms
	if err := h.up("crash"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "6 starts", func() bool { return len(h.lines("starts")) >= 6 })
	var ts []int64
	for _, l := range h.lines("starts")[:6] {
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil {
			t.Fatalf("date +%%s%%N gave %q: the test needs nanosecond timestamps (GNU coreutils' date)", l)
		}
		ts = append(ts, n)
	}
	want := []time.Duration{50, 100, 200, 400, 400} // ms, lower bounds
	var gaps []time.Duration
	for i := 1; i < len(ts); i++ {
		gaps = append(gaps, time.Duration(ts[i]-ts[i-1]))
	}
	for i, g := range gaps {
		if g < want[i]*time.Millisecond*8/10 {
			t.Errorf("gap %d = %v, want at least ~%vms (gaps %v)", i, g, want[i], gaps)
		}
	}
	if gaps[3] < 2*gaps[0] {
		t.Errorf("gaps do not grow: %v", gaps)
	}
	st, _ := h.m.Status([]string{"crash"})
	if st[0].Restarts < 5 || st[0].LastExit != "exit 3" {
		t.Errorf("status = %+v", st[0])
	}
	waitFor(t, 2*time.Second, "finish runs", func() bool { return len(h.lines("finish.log")) >= 5 })
	if l := h.lines("finish.log"); l[0] != "3 0" {
		t.Errorf("finish args = %q, want \"3 0\"", l[0])
	}
}

func TestRestartCommandAndSignalFinish(t *testing.T) {
	files := map[string]string{
		"d/type":   "longrun",
		"d/run":    "#!/bin/sh\necho $$ >> @ROOT@/pids\nexec sleep 100\n",
		"d/finish": "#!/bin/sh\necho \"$1 $2\" >> @ROOT@/finish.log\n",
	}
	h := newHarness(t, files)
	if err := h.up("d"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 2*time.Second, "first pid", func() bool { return len(h.lines("pids")) == 1 })
	if err := h.m.Restart(h.ctx(time.Second), "d"); err != nil {
		t.Fatal(err)
	}
	// No backoff after an explicit restart.
	waitFor(t, 1*time.Second, "second pid", func() bool { return len(h.lines("pids")) == 2 })
	if got := h.lines("finish.log"); len(got) != 1 || got[0] != "256 15" {
		t.Errorf("finish args after SIGTERM = %q, want [\"256 15\"]", got)
	}
	st, _ := h.m.Status([]string{"d"})
	if !strings.HasPrefix(st[0].LastExit, "signal 15") {
		t.Errorf("last exit = %q", st[0].LastExit)
	}
}

func TestShutdownOrder(t *testing.T) {
	files := map[string]string{}
	oneshot(files, "mount")
	oneshot(files, "net", "mount")
	for _, n := range []string{"dns", "web"} {
		files[n+"/type"] = "longrun"
		files[n+"/run"] = "exec sleep 100"
		files[n+"/finish"] = "echo -" + n + " >> @ROOT@/order"
		files[n+"/dependencies.d/net"] = ""
	}
	files["web/dependencies.d/dns"] = ""
	files["default/type"] = "bundle"
	files["default/contents"] = "web\ndns\n"
	h := newHarness(t, files)
	if err := h.up("default"); err != nil {
		t.Fatal(err)
	}
	os.Remove(h.path("order"))
	if err := h.m.Shutdown(h.ctx(5*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	want := []string{"-web", "-dns", "-net", "-mount"}
	if diff := cmp.Diff(want, h.lines("order")); diff != "" {
		t.Errorf("shutdown order (-want +got):\n%s", diff)
	}
	if err := h.up("mount"); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("up after shutdown: %v", err)
	}
}

func TestOneshotTimeout(t *testing.T) {
	files := map[string]string{
		"hang/type": "oneshot", "hang/timeout-up": "200",
		"hang/up":                   sh("echo $$ > @ROOT@/hang.pid\nexec sleep 100"),
		"after/type":                "oneshot",
		"after/up":                  "touch @ROOT@/after",
		"after/dependencies.d/hang": "",
	}
	h := newHarness(t, files)
	start := time.Now()
	err := h.up("after")
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("change took %v", d)
	}
	var ce *ChangeError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a ChangeError", err)
	}
	want := "svc \"hang\": failed to start: up script: timed out after 200ms\n" +
		"svc \"after\": not started: dependency \"hang\" failed"
	if err.Error() != want {
		t.Errorf("error =\n%s\nwant\n%s", err, want)
	}
	if _, err := os.Stat(h.path("after")); err == nil {
		t.Error("dependent ran")
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(strings.Join(h.lines("hang.pid"), "")))
	if pid > 0 && syscall.Kill(pid, 0) == nil {
		t.Errorf("hung up script (pid %d) still alive", pid)
	}
	if st := h.m.StateOf("hang"); st != Failed {
		t.Errorf("state = %v, want failed", st)
	}
}

func TestFailingOneshotReportsOutput(t *testing.T) {
	files := map[string]string{
		"bad/type": "oneshot", "bad/up": sh("echo 'ip: cannot find device br-lan' >&2; exit 3"),
		"good/type": "oneshot", "good/up": "true",
		"x/type": "oneshot", "x/up": "true", "x/dependencies.d/bad": "",
		"y/type": "oneshot", "y/up": "true", "y/dependencies.d/x": "",
	}
	h := newHarness(t, files)
	err := h.up("y", "good")
	want := "svc \"bad\": failed to start: up script: exit 3; last output: \"ip: cannot find device br-lan\"\n" +
		"svc \"x\": not started: dependency \"bad\" failed\n" +
		"svc \"y\": not started: dependency \"bad\" failed"
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
	if st := h.m.StateOf("good"); st != Up {
		t.Errorf("independent service state = %v, want up", st)
	}
	// The output went to the catch-all log with a prefix.
	h.log.Sync(time.Second)
	b, _ := os.ReadFile(h.path("run/uncaught-logs/current"))
	if !bytes.Contains(b, []byte(" bad: up: ip: cannot find device br-lan\n")) {
		t.Errorf("catch-all log lacks the script output:\n%s", b)
	}
}

func TestLogRotationBound(t *testing.T) {
	const size, count = 1024, 3
	files := map[string]string{
		"chatty/type": "longrun",
		"chatty/run":  "i=0; while :; do i=$((i+1)); echo \"line $i: the quick brown fox jumps over the lazy dog\"; done",
	}
	h := newHarness(t, files, func(c *Config) { c.LogSize, c.LogCount = size, count })
	if err := h.up("chatty"); err != nil {
		t.Fatal(err)
	}
	dir := h.path("run/log/chatty")
	rotations := map[string]bool{}
	deadline := time.Now().Add(5 * time.Second)
	for len(rotations) < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d rotations seen", len(rotations))
		}
		ents, _ := os.ReadDir(dir)
		var total int64
		for _, e := range ents {
			if fi, err := e.Info(); err == nil {
				total += fi.Size()
			}
			if strings.HasPrefix(e.Name(), "@") {
				rotations[e.Name()] = true
			}
		}
		if total > size*count {
			t.Fatalf("log dir holds %d bytes, bound is %d", total, size*count)
		}
		if len(ents) > count {
			t.Fatalf("log dir holds %d files, want at most %d", len(ents), count)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "current"))
	if first, _, _ := bytes.Cut(b, []byte("\n")); len(first) > 0 {
		ts, rest, _ := bytes.Cut(first, []byte(" "))
		if _, err := time.Parse("2006-01-02T15:04:05.000000Z", string(ts)); err != nil || !bytes.HasPrefix(rest, []byte("line ")) {
			t.Errorf("bad log line %q", first)
		}
	}
}

func TestOutputs(t *testing.T) {
	files := map[string]string{
		"addr/type": "oneshot", "addr/up": "importas -i O OUTPUTS redirfd -w 1 ${O}/address echo 192.0.2.1",
		"user/type": "longrun", "user/dependencies.d/addr": "",
		"user/run": "#!/bin/sh\ncat \"$OUTPUTS_DIR/addr/address\" > @ROOT@/seen\necho $SERVICE > \"$OUTPUTS/name\"\nexec sleep 100\n",
	}
	h := newHarness(t, files)
	if err := h.up("user"); err != nil {
		t.Fatal(err)
	}
	out := h.path("run/services/outputs")
	waitFor(t, 2*time.Second, "user to publish its name", func() bool {
		b, _ := os.ReadFile(filepath.Join(out, "user", "name"))
		return string(b) == "user\n"
	})
	if got := h.lines("seen"); len(got) != 1 || got[0] != "192.0.2.1" {
		t.Errorf("user read %q from addr's outputs", got)
	}
	if err := h.down("addr"); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"addr", "user"} {
		if _, err := os.Stat(filepath.Join(out, n)); !os.IsNotExist(err) {
			t.Errorf("outputs of %s not cleared: %v", n, err)
		}
	}
}

func TestPipeline(t *testing.T) {
	files := map[string]string{
		"prod/type": "longrun", "prod/producer-for": "cons",
		"prod/run":  "echo hello-through-the-pipe; exec sleep 100",
		"cons/type": "longrun", "cons/consumer-for": "prod", "cons/pipeline-name": "pipe",
		"cons/run": "exec cat",
	}
	h := newHarness(t, files)
	if err := h.up("pipe"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "line in the consumer's log", func() bool {
		b, _ := os.ReadFile(h.path("run/log/cons/current"))
		return bytes.Contains(b, []byte(" hello-through-the-pipe\n"))
	})
}

func TestEssentialNeedsForce(t *testing.T) {
	files := map[string]string{}
	oneshot(files, "base")
	files["base/flag-essential"] = ""
	oneshot(files, "top", "base")
	h := newHarness(t, files)
	if err := h.up("top"); err != nil {
		t.Fatal(err)
	}
	err := h.down("base")
	want := "svc \"base\": failed to stop: essential service; use -D to stop it"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
	if h.m.StateOf("top") != Down || h.m.StateOf("base") != Up {
		t.Errorf("states: top=%v base=%v", h.m.StateOf("top"), h.m.StateOf("base"))
	}
	if err := h.m.Change(h.ctx(5*time.Second), false, []string{"base"}, ChangeOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if h.m.StateOf("base") != Down {
		t.Error("forced down did not stop base")
	}
}

func TestDownFailsWhenDependentStuck(t *testing.T) {
	files := map[string]string{
		"base/type": "oneshot", "base/up": "true", "base/down": "touch @ROOT@/base-down",
		"stuck/type": "longrun", "stuck/dependencies.d/base": "", "stuck/timeout-down": "200",
		"stuck/run":             "trap '' TERM; echo >&3; while :; do sleep 0.05; done",
		"stuck/notification-fd": "3",
		"stuck/timeout-kill":    "1000",
	}
	h := newHarness(t, files)
	if err := h.up("stuck"); err != nil {
		t.Fatal(err)
	}
	err := h.down("base")
	want := "svc \"stuck\": failed to stop: still stopping after timeout-down 200ms\n" +
		"svc \"base\": not stopped: dependent \"stuck\" failed to stop"
	if err == nil || err.Error() != want {
		t.Errorf("error =\n%v\nwant\n%s", err, want)
	}
	if _, err := os.Stat(h.path("base-down")); err == nil {
		t.Error("base went down while its dependent was still up")
	}
	// timeout-kill eventually SIGKILLs it.
	waitFor(t, 3*time.Second, "stuck to be killed", func() bool { return h.m.StateOf("stuck") == Down })
}

func TestUnknownService(t *testing.T) {
	h := newHarness(t, map[string]string{})
	if err := h.up("nope"); err == nil || err.Error() != `unknown service "nope"` {
		t.Errorf("error = %v", err)
	}
}

// TestLongrunEnv checks that env/ reaches the run script as s6-envdir would
// set it: a file sets its first line (trailing blanks dropped), an empty
// file removes the variable, and a base variable may be overridden; and that
// data/ is in the service directory, where run finds it by relative path.
func TestLongrunEnv(t *testing.T) {
	files := map[string]string{
		"d/type":           "longrun",
		"d/env/GREETING":   "hello world  \nsecond line ignored\n",
		"d/env/SERVICE":    "renamed",
		"d/env/OUTPUTS":    "",
		"d/data/conf.d/x":  "from-data",
		"d/run":            `printf '%s|%s|%s|%s\n' "$GREETING" "$SERVICE" "${OUTPUTS-unset}" "$(cat data/conf.d/x)" > @ROOT@/env.out; exec sleep 100`,
		"default/type":     "bundle",
		"default/contents": "",
	}
	h := newHarness(t, files)
	if err := h.up("d"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "env.out", func() bool {
		b, _ := os.ReadFile(h.path("env.out"))
		return len(b) > 0
	})
	b, _ := os.ReadFile(h.path("env.out"))
	if got, want := string(b), "hello world|renamed|unset|from-data\n"; got != want {
		t.Errorf("run saw %q, want %q", got, want)
	}
}
