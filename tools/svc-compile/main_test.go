package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/userland/init/svcdb"
)

func write(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCompileCLI(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"a/default/type": "bundle", "a/default/contents": "x\n",
		"a/x/type": "oneshot", "a/x/up": "true",
		"b/y/type": "longrun", "b/y/run": "exec sleep 1", "b/y/dependencies": "x\n",
	})
	out := filepath.Join(root, "db")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-o", out, filepath.Join(root, "a"), filepath.Join(root, "b")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	db, err := svcdb.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := db.Lookup("y"); s == nil || len(s.Deps) != 1 || s.Deps[0] != "x" {
		t.Errorf("y = %+v", s)
	}
	stdout.Reset()
	if code := run([]string{"-dump", out}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "y (longrun)\n  deps: x\n") {
		t.Errorf("dump = %d %q", code, stdout.String())
	}
	if code := run([]string{"-check", filepath.Join(root, "a")}, &stdout, &stderr); code != 0 {
		t.Errorf("check = %d %s", code, stderr.String())
	}
}

func TestCompileCLIErrors(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{
		"a/default/type": "bundle", "a/default/contents": "x\n",
		"a/x/type": "oneshot", "a/x/up": "true", "a/x/timeout-up": "abc",
		"b/x/type": "oneshot", "b/x/up": "true",
	})
	out := filepath.Join(root, "db")
	var stdout, stderr bytes.Buffer
	code := run([]string{"-o", out, filepath.Join(root, "a"), filepath.Join(root, "b")}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{
		`a: svc "x": file x/timeout-up: want milliseconds as a decimal integer, got "abc"`,
		`svc "x": defined in both ` + filepath.Join(root, "a") + ` and ` + filepath.Join(root, "b"),
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Error("output written despite errors")
	}
	if code := run(nil, &stdout, &stderr); code != 2 {
		t.Errorf("no args: exit %d", code)
	}
}

// TestRequireDefault: like s6-rc-compile, -check accepts sources without a
// default bundle; image builds pass -require-default and then it is an
// error.
func TestRequireDefault(t *testing.T) {
	root := t.TempDir()
	write(t, root, map[string]string{"s/x/type": "oneshot", "s/x/up": "true"})
	src := filepath.Join(root, "s")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-check", src}, &stdout, &stderr); code != 0 {
		t.Errorf("-check without default: exit %d: %s", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"-require-default", "-check", src}, &stdout, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), `no "default" service`) {
		t.Errorf("-require-default: exit %d, stderr %q; want 1 and a missing default error", code, stderr.String())
	}
}
