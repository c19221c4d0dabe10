package supervise

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: time.Second, Max: 30 * time.Second}
	var got []time.Duration
	for n := 1; n <= 8; n++ {
		got = append(got, b.Delay(n))
	}
	want := []time.Duration{1, 2, 4, 8, 16, 30, 30, 30}
	for i := range want {
		want[i] *= time.Second
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
}

func TestScriptCommand(t *testing.T) {
	env := []string{"PATH=/bin"}
	tests := []struct {
		content string
		args    []string
		want    []string
	}{
		{"#!/bin/sh\necho hi\n", nil, []string{"/svc/x/run"}},
		{"\x7fELF\x01", []string{"1", "2"}, []string{"/svc/x/run", "1", "2"}},
		{"echo hi", []string{"0", "9"}, []string{"/bin/sh", "-c", "echo hi", "run", "0", "9"}},
	}
	for _, tc := range tests {
		got := ScriptCommand("/bin/sh", "/svc/x", "run", []byte(tc.content), env, tc.args...)
		want := Command{Argv: tc.want, Dir: "/svc/x", Env: env}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("ScriptCommand(%q) (-want +got):\n%s", tc.content, diff)
		}
	}
}

func TestRunOneshot(t *testing.T) {
	sh := func(s string) Command {
		return Command{Argv: []string{"/bin/sh", "-c", s}, Env: []string{"PATH=/usr/bin:/bin"}}
	}
	if err := RunOneshot(context.Background(), Oneshot{Cmd: sh("exit 0")}); err != nil {
		t.Errorf("exit 0: %v", err)
	}
	if err := RunOneshot(context.Background(), Oneshot{Cmd: sh("exit 4")}); err == nil || err.Error() != "exit 4" {
		t.Errorf("exit 4: %v", err)
	}
	if err := RunOneshot(context.Background(), Oneshot{Cmd: sh("kill -9 $$")}); err == nil || err.Error() != "signal 9 (killed)" {
		t.Errorf("kill: %v", err)
	}
	start := time.Now()
	err := RunOneshot(context.Background(), Oneshot{Cmd: sh("trap '' TERM; sleep 30; sleep 30"), Timeout: 100 * time.Millisecond, KillGrace: 100 * time.Millisecond})
	if !errors.Is(err, ErrTimeout) || time.Since(start) > 3*time.Second {
		t.Errorf("timeout: %v after %v", err, time.Since(start))
	}
	if err := RunOneshot(context.Background(), Oneshot{Cmd: Command{Argv: []string{"/nonexistent/x"}}}); err == nil {
		t.Error("exec of a missing file succeeded")
	}
}

type recorder struct {
	mu sync.Mutex
	ev []Event
	ch chan Event
}

func newRecorder() *recorder { return &recorder{ch: make(chan Event, 100)} }

func (r *recorder) add(e Event) {
	r.mu.Lock()
	r.ev = append(r.ev, e)
	r.mu.Unlock()
	r.ch <- e
}

func (r *recorder) next(t *testing.T, kind EventKind) Event {
	t.Helper()
	timeout := time.After(3 * time.Second)
	for {
		select {
		case e := <-r.ch:
			if e.Kind == kind {
				return e
			}
		case <-timeout:
			t.Fatalf("no %v event", kind)
		}
	}
}

func TestLongrunStopEscalatesToKill(t *testing.T) {
	dir := t.TempDir()
	r := newRecorder()
	l := StartLongrun(LongrunConfig{
		Run:         Command{Argv: []string{"/bin/sh", "-c", "trap '' TERM; echo >&4; while :; do sleep 0.05; done"}},
		NotifyFD:    4,
		TimeoutKill: 200 * time.Millisecond,
		Events:      r.add,
	})
	r.next(t, Ready)
	start := time.Now()
	l.Stop()
	if d := time.Since(start); d < 150*time.Millisecond || d > 3*time.Second {
		t.Errorf("stop took %v, want about timeout-kill", d)
	}
	died := r.next(t, Died)
	if !died.Status.Signaled() || died.Status.Signal() != syscall.SIGKILL {
		t.Errorf("died with %v, want SIGKILL", died.Status)
	}
	_ = dir
}

func TestLongrunFinish125GivesUp(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "runs")
	r := newRecorder()
	l := StartLongrun(LongrunConfig{
		Run:     Command{Argv: []string{"/bin/sh", "-c", "echo x >> " + marker + "; exit 1"}},
		Finish:  &Command{Argv: []string{"/bin/sh", "-c", "exit 125", "finish"}},
		Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 10 * time.Millisecond, ResetAfter: time.Second},
		Events:  r.add,
	})
	defer l.Stop()
	r.next(t, GaveUp)
	b, _ := os.ReadFile(marker)
	if string(b) != "x\n" {
		t.Errorf("ran %q, want once", b)
	}
	// Restart revives it.
	l.Restart()
	r.next(t, Spawned)
}

func TestLongrunSpawnFailureRetries(t *testing.T) {
	r := newRecorder()
	l := StartLongrun(LongrunConfig{
		Run:     Command{Argv: []string{"/nonexistent/daemon"}},
		Backoff: Backoff{Initial: 10 * time.Millisecond, Max: 20 * time.Millisecond, ResetAfter: time.Second},
		Events:  r.add,
	})
	r.next(t, SpawnFailed)
	r.next(t, SpawnFailed)
	l.Stop()
	r.next(t, Stopped)
}
