package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"a", "b"}, {"-h"}} {
		var stderr bytes.Buffer
		if code := run(args, os.Getenv, strings.NewReader(""), io.Discard, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: connect-vm SOCKET") {
			t.Errorf("run(%q) = %d, %q", args, code, stderr.String())
		}
	}
}

func TestMissingSocket(t *testing.T) {
	dir := t.TempDir()
	var stderr bytes.Buffer
	code := run([]string{"console"}, func(k string) string {
		if k == "BUILD_WORKING_DIRECTORY" {
			return dir
		}
		return ""
	}, strings.NewReader(""), io.Discard, &stderr)
	want := "connect-vm: SOCKET: dial unix " + filepath.Join(dir, "console")
	if code != 1 || !strings.Contains(stderr.String(), want) {
		t.Errorf("run = %d, %q; want 1, %q", code, stderr.String(), want)
	}
}

// TestDetach talks to a console that echoes, with stdin not a terminal:
// what comes before ^O is sent, what comes after is not, and the echo is
// copied out.
func TestDetach(t *testing.T) {
	dir := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(dir, "console"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	received := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			received <- err.Error()
			return
		}
		defer c.Close()
		var got []byte
		buf := make([]byte, 100)
		for {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			c.Write(buf[:n])
			if err != nil {
				received <- string(got)
				return
			}
		}
	}()

	// The input never ends: only ^O can end the session.
	in, inw := io.Pipe()
	defer inw.Close()
	go inw.Write([]byte("echo hi\n\x0fnot sent"))
	var stdout, stderr bytes.Buffer
	done := make(chan int)
	go func() { done <- run([]string{filepath.Join(dir, "console")}, os.Getenv, in, &stdout, &stderr) }()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("run = %d: %s", code, stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("^O did not detach")
	}
	select {
	case got := <-received:
		if got != "echo hi\n" {
			t.Errorf("the console received %q, want %q", got, "echo hi\n")
		}
	case <-time.After(time.Minute):
		t.Fatal("connect-vm did not close the connection")
	}
}
