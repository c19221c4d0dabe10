package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"bazwrt/tools/vm"
	"bazwrt/tools/vm/vmtest"
	"github.com/google/go-cmp/cmp"
)

func noExec(t *testing.T) func(string, []string) error {
	return func(name string, args []string) error {
		t.Errorf("exec %s %q", name, args)
		return nil
	}
}

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	k := vmtest.WriteFile(t, "kernel", []byte("k"))
	r := vmtest.WriteFile(t, "rootfs", nil)
	if err := os.Truncate(r, 200<<20); err != nil { // sparse: only its size matters
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no arguments", nil, 2, "usage: run-vm"},
		{"one argument", []string{k}, 2, "usage: run-vm"},
		{"unknown flag", []string{"--bogus", k, r}, 2, "flag provided but not defined: -bogus"},
		{"missing kernel", []string{filepath.Join(dir, "vmlinux"), r}, 1, "run-vm: KERNEL: stat " + filepath.Join(dir, "vmlinux") + ": no such file"},
		{"missing rootfs", []string{k, "rootfs.img"}, 1, "run-vm: ROOTFS: stat " + filepath.Join(dir, "rootfs.img") + ": no such file"},
		{"unknown arch", []string{"--arch", "sparc", k, r}, 1, `run-vm: arch "sparc": unknown, want one of aarch64, arm, mips`},
		{"rootfs larger than the RAM window", []string{k, r}, 1, "run-vm: ROOTFS " + r + ": root filesystem of 209715200 bytes does not fit between 0x8000000 and the end of 256 MiB of RAM at 0x10000000; raise --memory"},
		{"background dir a file", []string{"--background", k, k, r}, 1, "run-vm: DIR: mkdir " + k + ": not a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), tt.args, env(map[string]string{"BUILD_WORKING_DIRECTORY": dir}), &stderr, noExec(t))
			if code != tt.wantCode || !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("run = %d, stderr %q; want %d, %q", code, stderr.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

func TestForeground(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Image"), []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rootfs"), make([]byte, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	var name string
	var args []string
	var stderr bytes.Buffer
	code := run(context.Background(), []string{
		"--arch", "aarch64", "--memory", "512", "--mcast-port-base", "5000", "--wan", "user",
		"--append", "quiet", "--flag", "-s", "--flag", "-S", "Image", "rootfs",
	}, env(map[string]string{"BUILD_WORKING_DIRECTORY": dir}), &stderr, func(n string, a []string) error {
		name, args = n, a
		return nil
	})
	if code != 0 {
		t.Fatalf("run = %d: %s", code, stderr.String())
	}
	want := []string{
		"-M", "virt", "-cpu", "cortex-a72", "-m", "512", "-no-reboot",
		"-kernel", filepath.Join(dir, "Image"),
		"-append", "console=ttyAMA0 panic=10 oops=panic " +
			"phram.phram=phram0,0x5ffe0000,0x20000,0x10000 mtdparts=phram0:0x20000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs mem=0x1ffe0000 quiet",
		"-device", "loader,file=" + filepath.Join(dir, "rootfs") + ",addr=0x5ffe0000,force-raw=on",
		"-netdev", "user,id=access",
		"-device", "virtio-net-pci,netdev=access,mac=52:54:00:00:00:01,romfile=",
		"-netdev", "socket,mcast=230.0.0.1:5001,localaddr=127.0.0.1,id=lan",
		"-device", "virtio-net-pci,netdev=lan,mac=52:54:00:00:00:02,romfile=",
		"-nographic", "-s", "-S",
	}
	if name != "qemu-system-aarch64" {
		t.Errorf("exec %s, want qemu-system-aarch64", name)
	}
	if diff := cmp.Diff(want, args); diff != "" {
		t.Errorf("QEMU arguments (-want +got):\n%s", diff)
	}
}

// TestBackground runs the real qemu-system-mips daemonized, with a tiny
// kernel that echoes the console, on multicast ports of its own.
func TestBackground(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-mips"); err != nil {
		t.Fatalf("%v: install the Debian package qemu-system-mips", err)
	}
	dir := filepath.Join(t.TempDir(), "vm") // run-vm makes it
	k := vmtest.WriteFile(t, "kernel", vmtest.MaltaEchoKernel())
	r := vmtest.WriteFile(t, "rootfs", bytes.Repeat([]byte{0x5a}, 1<<20))
	base := vmtest.PortBase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var stderr bytes.Buffer
	code := run(ctx, []string{"--background", dir, "--mcast-port-base", strconv.Itoa(base), k, r}, os.Getenv, &stderr, noExec(t))
	if code != 0 {
		t.Fatalf("run = %d: %s", code, stderr.String())
	}
	// run-vm returns once QEMU has daemonized: no polling needed here.
	pid, err := vm.ReadPid(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !vm.ProcessAlive(pid) {
		t.Fatalf("pid %d from the pid file is not running", pid)
	}
	t.Cleanup(func() {
		if vm.ProcessAlive(pid) {
			if p, err := os.FindProcess(pid); err == nil {
				p.Kill()
			}
		}
	})
	if !strings.Contains(stderr.String(), fmt.Sprintf("QEMU pid %d", pid)) {
		t.Errorf("stderr = %q, want the pid", stderr.String())
	}

	// A second VM in the same directory would take over its sockets.
	var stderr2 bytes.Buffer
	if code := run(ctx, []string{"--background", dir, "--mcast-port-base", strconv.Itoa(base), k, r}, os.Getenv, &stderr2, noExec(t)); code != 1 ||
		!strings.Contains(stderr2.String(), fmt.Sprintf("a VM is running there (pid %d)", pid)) {
		t.Errorf("second run = %d, %q", code, stderr2.String())
	}

	mon, err := vm.DialMonitor(filepath.Join(dir, vm.MonitorFile))
	if err != nil {
		t.Fatal(err)
	}
	defer mon.Close()
	if out, err := mon.Run("info status"); err != nil || out != "VM status: running\n" {
		t.Errorf("info status = %q, %v", out, err)
	}
	out, err := mon.Run("info network")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		fmt.Sprintf("access: index=0,type=socket,socket: mcast=230.0.0.1:%d", base),
		fmt.Sprintf("lan: index=0,type=socket,socket: mcast=230.0.0.1:%d", base+1),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("info network lacks %q:\n%s", want, out)
		}
	}

	// The console, through connect-vm's library, with stdin a file: Attach
	// sends it, and lingers after its end for the echo. The linger is
	// stretched so that a busy machine cannot end it before the echo; the
	// test ends it by closing the connection once the echo is there.
	conn, err := vm.DialUnix(filepath.Join(dir, vm.ConsoleFile))
	if err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(vmtest.WriteFile(t, "stdin", []byte("hello, console\n")))
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	vm.Linger = 30 * time.Second
	defer func() { vm.Linger = time.Second }()
	echoed := &echoWatch{want: "hello, console\n", done: make(chan struct{})}
	attached := make(chan error, 1)
	go func() { attached <- vm.Attach(conn, stdin, echoed) }()
	select {
	case <-echoed.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("no echo from the console; got %q", echoed.got.String())
	}
	conn.Close()
	if err := <-attached; err != nil {
		t.Errorf("Attach: %v", err)
	}

	if _, err := mon.Run("quit"); err != nil {
		t.Errorf("quit: %v", err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for vm.ProcessAlive(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("QEMU pid %d still running 30s after quit", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// echoWatch closes done once what was written equals want.
type echoWatch struct {
	want string
	got  bytes.Buffer
	done chan struct{}
}

func (w *echoWatch) Write(p []byte) (int, error) {
	w.got.Write(p)
	if w.got.String() == w.want {
		close(w.done)
	}
	return len(p), nil
}
