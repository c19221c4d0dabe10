package rc

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"bazwrt/userland/init/svcdb"
	"bazwrt/userland/init/svclog"
	"bazwrt/userland/init/svcsrc"
)

// newRawManager runs a Manager on a database built by hand, bypassing the
// decoder's checks: what a bug in them would let through.
func newRawManager(t *testing.T, svcs ...*svcdb.Service) *Manager {
	t.Helper()
	root := t.TempDir()
	lg, err := svclog.Open(svclog.Options{Dir: filepath.Join(root, "uncaught-logs")})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(Config{DB: &svcdb.DB{Services: svcs}, Log: lg, KillGrace: 200 * time.Millisecond,
		LiveDir: filepath.Join(root, "live"), OutputsDir: filepath.Join(root, "outputs"), LogDir: filepath.Join(root, "log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		lg.Close()
	})
	return m
}

func oneshotDef(name string, deps, revdeps []string) *svcdb.Service {
	return &svcdb.Service{Name: name, Type: svcsrc.Oneshot, Up: []byte("true"), Deps: deps, RevDeps: revdeps,
		NotificationFD: -1, DownSignal: "SIGTERM"}
}

// within runs f and fails the test if it does not return in time.
func within(t *testing.T, d time.Duration, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("%s hung (still waiting after %v)", what, d)
		return nil
	}
}

// The waits between services honour the context: a dependency cycle makes
// Change and Shutdown fail when their context ends, instead of hanging boot
// or shutdown.
func TestDependencyCycleDoesNotHang(t *testing.T) {
	m := newRawManager(t,
		oneshotDef("a", []string{"b"}, []string{"b"}),
		oneshotDef("b", []string{"a"}, []string{"a"}),
		&svcdb.Service{Name: "default", Type: svcsrc.Bundle, Contents: []string{"a", "b"}, NotificationFD: -1})
	for _, tc := range []struct {
		what string
		f    func(ctx context.Context) error
	}{
		{"Change up", func(ctx context.Context) error { return m.Change(ctx, true, []string{"default"}, ChangeOptions{}) }},
		{"Change down", func(ctx context.Context) error { return m.Change(ctx, false, []string{"a"}, ChangeOptions{}) }},
		{"Shutdown", func(ctx context.Context) error { return m.Shutdown(ctx, nil) }},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := within(t, 5*time.Second, tc.what, func() error { return tc.f(ctx) })
		cancel()
		if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
			t.Errorf("%s: error = %v, want the context's deadline", tc.what, err)
		}
	}
}

// A dependency on a service that does not exist is an error, not a nil
// pointer dereference in a manager goroutine.
func TestUnknownDependencyIsAnError(t *testing.T) {
	m := newRawManager(t,
		oneshotDef("a", []string{"ghost"}, nil),
		&svcdb.Service{Name: "default", Type: svcsrc.Bundle, Contents: []string{"a"}, NotificationFD: -1})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := within(t, 5*time.Second, "Change", func() error { return m.Change(ctx, true, []string{"a"}, ChangeOptions{}) })
	if err == nil || !strings.Contains(err.Error(), `unknown service "ghost"`) {
		t.Errorf("error = %v, want unknown service \"ghost\"", err)
	}
	err = within(t, 5*time.Second, "Shutdown", func() error { return m.Shutdown(ctx, nil) })
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}

// rc restart gives up when the supervisor does not take the request in
// time (here: busy with a finish script that never ends, timeout-finish 0).
func TestRestartHonoursContext(t *testing.T) {
	h := newHarness(t, map[string]string{
		"svc/type":           "longrun",
		"svc/run":            "echo $$ > @ROOT@/pid; exec sleep 1000",
		"svc/finish":         "echo $$ > @ROOT@/finishing; exec sleep 1000",
		"svc/timeout-finish": "0",
	})
	if err := h.up("svc"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the pid file", func() bool { return len(h.lines("pid")) == 1 })
	h.m.mu.Lock()
	lr := h.m.svcs["svc"].lr
	h.m.mu.Unlock()
	lr.Restart() // the run script dies: the supervisor runs finish
	waitFor(t, 5*time.Second, "finish to start", func() bool { return len(h.lines("finishing")) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := within(t, 5*time.Second, "Restart", func() error { return h.m.Restart(ctx, "svc") })
	if err == nil || !strings.Contains(err.Error(), "context deadline exceeded") {
		t.Errorf("Restart error = %v, want the context's deadline", err)
	}
	// Let the supervisor go on (and the harness stop the service).
	pid, err := strconv.Atoi(h.lines("finishing")[0])
	if err != nil {
		t.Fatal(err)
	}
	syscall.Kill(-pid, syscall.SIGKILL)
}
