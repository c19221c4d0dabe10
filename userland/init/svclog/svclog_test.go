package svclog

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock returns increasing times 1 ms apart.
func fakeClock() func() time.Time {
	var mu sync.Mutex
	t := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

func dirSize(t *testing.T, dir string) (total int64, names []string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
		names = append(names, e.Name())
	}
	return total, names
}

func TestFormatAndOrder(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	l.Line("hello")
	l.Printf("n=%d", 2)
	l.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "current"))
	want := "2024-05-01T12:00:00.001000Z hello\n2024-05-01T12:00:00.002000Z n=2\n"
	if diff := cmp.Diff(want, string(b)); diff != "" {
		t.Errorf("current (-want +got):\n%s", diff)
	}
}

func TestRotationBound(t *testing.T) {
	dir := t.TempDir()
	const size, count = 300, 3
	l, err := Open(Options{Dir: dir, MaxSize: size, Count: count, Now: fakeClock()})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", 1000) // longer than a file: truncated
	for i := 0; i < 200; i++ {
		if i%17 == 0 {
			l.Line(long)
		} else {
			l.Printf("line %d of some chatty service", i)
		}
		if i%10 == 0 {
			l.Sync(time.Second)
			total, names := dirSize(t, dir)
			if total > size*count || len(names) > count {
				t.Fatalf("after %d lines: %d bytes in %v, bound %d bytes / %d files", i, total, names, size*count, count)
			}
		}
	}
	l.Close()
	total, names := dirSize(t, dir)
	if total > size*count || len(names) != count {
		t.Fatalf("%d bytes in %v", total, names)
	}
	// The newest lines are kept, oldest archives dropped.
	b, _ := os.ReadFile(filepath.Join(dir, "current"))
	if !strings.Contains(string(b), "line 199 of") {
		t.Errorf("current lacks the last line:\n%s", b)
	}
	for _, n := range names {
		if n != "current" && !(strings.HasPrefix(n, "@20240501T1200") && strings.HasSuffix(n, ".s")) {
			t.Errorf("unexpected file %q", n)
		}
	}
}

func TestReopenPrunesOldArchives(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"@1.s", "@2.s", "@3.s", "@4.s", "other"} {
		os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644)
	}
	l, err := Open(Options{Dir: dir, Count: 3})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, names := dirSize(t, dir)
	if diff := cmp.Diff([]string{"@3.s", "@4.s", "current", "other"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
}

func TestDiskFullDropsAndRecovers(t *testing.T) {
	dir := t.TempDir()
	var mu sync.Mutex
	full := true
	clock := fakeClock()
	var now time.Time
	l, err := Open(Options{Dir: dir, Now: func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = clock()
		return now
	}, write: func(f *os.File, b []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		if full {
			return 0, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
		}
		return f.Write(b)
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		for i := 0; i < 5000; i++ {
			l.Line("while the disk is full")
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Line blocked while the disk was full")
	}
	l.Sync(time.Second)
	if l.Dropped() == 0 {
		t.Fatal("no lines counted as dropped")
	}
	mu.Lock()
	full = false
	mu.Unlock()
	// The writer retries at most once per (fake) second; the clock
	// advances 1 ms per call, so push enough lines through.
	for i := 0; i < 2000 && l.Dropped() != 0; i++ {
		l.Line("disk has room again")
		l.Sync(time.Second)
	}
	l.Close()
	b, _ := os.ReadFile(filepath.Join(dir, "current"))
	if !strings.Contains(string(b), "svclog: dropped ") || !strings.Contains(string(b), "disk has room again") {
		t.Errorf("log after recovery:\n%.500s", b)
	}
}

func TestPipeAndTee(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var teed []string
	w, err := l.Pipe("svc: ", func(s string) { mu.Lock(); teed = append(teed, s); mu.Unlock() })
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("one\ntwo\npartial")
	w.Close()
	deadline := time.Now().Add(2 * time.Second)
	for {
		mu.Lock()
		n := len(teed)
		mu.Unlock()
		if n == 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.Close()
	if diff := cmp.Diff([]string{"one", "two", "partial"}, teed); diff != "" {
		t.Errorf("tee (-want +got):\n%s", diff)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "current"))
	if !strings.Contains(string(b), " svc: two\n") || !strings.Contains(string(b), " svc: partial\n") {
		t.Errorf("log:\n%s", b)
	}
}

func TestOpenError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	_, err := Open(Options{Dir: filepath.Join(f, "sub")})
	if err == nil || !errors.Is(err, syscall.ENOTDIR) {
		t.Errorf("Open under a file: %v", err)
	}
}
