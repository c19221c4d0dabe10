package svcsrc

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// fuzzFiles maps the selector byte of a fuzz entry (modulo its length) to a
// file of the service directory. Entries ending in "/" take their file name
// from the entry's content (a dependencies.d or contents.d member).
var fuzzFiles = []string{
	"type", "up", "down", "run", "finish", "notification-fd", "timeout-up",
	"timeout-down", "timeout-kill", "timeout-finish", "flag-essential",
	"dependencies", "dependencies.d/", "contents", "contents.d/",
	"producer-for", "consumer-for", "pipeline-name", "down-signal",
	"max-death-tally",
}

// buildFuzzService turns fuzz bytes into a service directory root/svc: the
// data is a sequence of entries (selector byte, length byte, content).
func buildFuzzService(t *testing.T, root string, data []byte) {
	dir := filepath.Join(root, "svc")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for len(data) >= 2 {
		f := fuzzFiles[int(data[0])%len(fuzzFiles)]
		n := int(data[1])
		data = data[2:]
		if n > len(data) {
			n = len(data)
		}
		content := data[:n]
		data = data[n:]
		if strings.HasSuffix(f, "/") {
			name := string(content)
			if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
				continue
			}
			if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
				t.Fatal(err)
			}
			// An earlier entry may have made this path a file: then
			// the parser must report it, which is fine.
			_ = os.WriteFile(filepath.Join(dir, f, name), nil, 0o644)
			continue
		}
		_ = os.WriteFile(filepath.Join(dir, f), content, 0o644)
	}
}

func FuzzParseService(f *testing.F) {
	f.Add([]byte("\x00\x07longrun\x03\x09#!/bin/sh\n\x05\x013"))
	f.Add([]byte("\x00\x07oneshot\x01\x04true\x06\x03abc"))
	f.Add([]byte("\x00\x06bundle\x0e\x01a\x0e\x01b"))
	f.Fuzz(func(t *testing.T, data []byte) {
		root := t.TempDir()
		buildFuzzService(t, root, data)
		s, errs := ParseService(root, "svc")
		for _, e := range errs {
			if !strings.HasPrefix(e.Error(), `svc "svc": `) {
				t.Fatalf("error does not name the service: %v", e)
			}
			if strings.Contains(e.Error(), root) {
				t.Fatalf("error leaks the absolute path: %v", e)
			}
		}
		if len(errs) > 0 {
			return
		}
		if s == nil {
			t.Fatal("nil service without errors")
		}
		switch s.Type {
		case Oneshot:
			if s.Up == nil {
				t.Fatal("oneshot without up")
			}
		case Longrun:
			if len(s.Run) == 0 {
				t.Fatal("longrun without run")
			}
		case Bundle:
			if s.Up != nil || s.Run != nil || len(s.Dependencies) > 0 {
				t.Fatal("bundle with scripts or dependencies")
			}
		default:
			t.Fatalf("bad type %q", s.Type)
		}
		if s.NotificationFD != -1 && (s.NotificationFD < MinNotificationFD || s.NotificationFD > MaxNotificationFD) {
			t.Fatalf("notification-fd %d out of range", s.NotificationFD)
		}
		for _, v := range []int64{s.TimeoutUp, s.TimeoutDown, s.TimeoutKill, s.TimeoutFinish} {
			if v < 0 || v > MaxTimeout {
				t.Fatalf("timeout %d out of range", v)
			}
		}
		if _, ok := CanonicalSignal(s.DownSignal); !ok {
			t.Fatalf("bad down-signal %q", s.DownSignal)
		}
		for _, l := range [][]string{s.Dependencies, s.Contents, s.ConsumerFor} {
			if !sort.StringsAreSorted(l) {
				t.Fatalf("list not sorted: %q", l)
			}
			for i, n := range l {
				if msg := CheckName(n); msg != "" {
					t.Fatalf("accepted bad name: %s", msg)
				}
				if i > 0 && l[i-1] == n {
					t.Fatalf("duplicate name %q", n)
				}
				if n == "svc" {
					t.Fatalf("self reference accepted in %q", l)
				}
			}
		}
	})
}
