package rc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bazwrt/userland/init/execline"
	"bazwrt/userland/init/supervise"
	"bazwrt/userland/init/svcdb"
	"bazwrt/userland/init/svclog"
)

// TestMain makes the test binary the execlineb applet when the manager
// runs a oneshot's up or down (Config.Execlineb's default runs
// /proc/self/exe execlineb ...), and the hidden applet that runs blocks of
// execline scripts, as the device's binary is.
func TestMain(m *testing.M) {
	switch {
	case filepath.Base(os.Args[0]) == execline.RunApplet:
		os.Exit(execline.RunMain(os.Args[1:], os.Stdout, os.Stderr))
	case len(os.Args) > 1 && os.Args[1] == "execlineb":
		os.Exit(execline.Main(os.Args[2:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// sh is an up or down file (execline) that runs script with /bin/sh, $0
// being "up", as the Starlark rules write them (write_service in
// rules/service/private/service.bzl): `/bin/sh -c "SCRIPT" up` with
// backslashes and double quotes escaped.
func sh(script string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	return `/bin/sh -c "` + r.Replace(script) + `" up` + "\n"
}

// harness runs a Manager on a temporary tree with init duties off.
type harness struct {
	t    testing.TB
	root string
	m    *Manager
	log  *svclog.Logger
}

type harnessOpt func(*Config)

// newHarness writes files (paths relative to the source dir; "@ROOT@" in
// contents is replaced by the test's root directory), compiles them and
// starts a Manager. A "default" bundle is added when missing.
func newHarness(t testing.TB, files map[string]string, opts ...harnessOpt) *harness {
	t.Helper()
	root := t.TempDir()
	src := filepath.Join(root, "src")
	if _, ok := files["default/type"]; !ok {
		files["default/type"] = "bundle"
		files["default/contents.d/"] = ""
	}
	for p, c := range files {
		full := filepath.Join(src, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(strings.ReplaceAll(c, "@ROOT@", root)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	db, err := svcdb.CompileDirs(src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	lg, err := svclog.Open(svclog.Options{Dir: filepath.Join(root, "run", "uncaught-logs")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		DB:         db,
		LiveDir:    filepath.Join(root, "run", "services", "live"),
		OutputsDir: filepath.Join(root, "run", "services", "outputs"),
		LogDir:     filepath.Join(root, "run", "log"),
		Log:        lg,
		Backoff:    supervise.Backoff{Initial: 50 * time.Millisecond, Max: 400 * time.Millisecond, ResetAfter: 2 * time.Second},
		KillGrace:  300 * time.Millisecond,
	}
	for _, o := range opts {
		o(&cfg)
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, root: root, m: m, log: lg}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx, nil); err != nil {
			t.Logf("shutdown: %v", err)
		}
		m.Close()
		lg.Close()
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(root, "run", "uncaught-logs", "current"))
			t.Logf("catch-all log:\n%s", b)
		}
	})
	return h
}

func (h *harness) path(p string) string { return filepath.Join(h.root, p) }

func (h *harness) ctx(d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	h.t.Cleanup(cancel)
	return ctx
}

func (h *harness) up(names ...string) error {
	return h.m.Change(h.ctx(10*time.Second), true, names, ChangeOptions{})
}

func (h *harness) down(names ...string) error {
	return h.m.Change(h.ctx(10*time.Second), false, names, ChangeOptions{})
}

// lines reads a file as lines; a missing file has none.
func (h *harness) lines(p string) []string {
	b, err := os.ReadFile(h.path(p))
	if err != nil {
		return nil
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// before reports whether a appears before b in list.
func before(list []string, a, b string) bool {
	ia, ib := -1, -1
	for i, x := range list {
		if x == a && ia < 0 {
			ia = i
		}
		if x == b && ib < 0 {
			ib = i
		}
	}
	return ia >= 0 && ib >= 0 && ia < ib
}
