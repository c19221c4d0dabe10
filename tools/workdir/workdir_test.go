package workdir

import (
	"os"
	"path/filepath"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestAbs(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path, bwd, want string
	}{
		{"images/kernel", "/ws", "/ws/images/kernel"},
		{"../x", "/ws/sub", "/ws/x"},
		{"/abs/./file", "/ws", "/abs/file"},
		{"images/kernel", "", filepath.Join(wd, "images/kernel")},
		{".", "", wd},
	} {
		got, err := Abs(tt.path, env(map[string]string{Env: tt.bwd}))
		if err != nil || got != tt.want {
			t.Errorf("Abs(%q) with %s=%q = %q, %v; want %q", tt.path, Env, tt.bwd, got, err, tt.want)
		}
	}
}

func TestChdir(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	if err := Chdir(env(nil)); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.Getwd(); got != wd {
		t.Errorf("Chdir without %s moved to %q, want to stay in %q", Env, got, wd)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Chdir(env(map[string]string{Env: dir})); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("in.txt"); err != nil {
		t.Errorf("after Chdir to %s=%s a relative path does not resolve there: %v", Env, dir, err)
	}
	if err := Chdir(env(map[string]string{Env: filepath.Join(dir, "missing")})); err == nil {
		t.Errorf("Chdir to a missing directory: no error")
	}
}
