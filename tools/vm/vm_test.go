package vm_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"bazwrt/tools/vm"
	"bazwrt/tools/vm/vmtest"
)

// syncBuffer is a bytes.Buffer that Attach writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStartMalta(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-mips"); err != nil {
		t.Fatalf("%v: install the Debian package qemu-system-mips", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := vmtest.PortBase(t)
	v, err := vm.Start(ctx, vm.Config{
		Kernel:   vmtest.WriteFile(t, "kernel", vmtest.MaltaEchoKernel()),
		Rootfs:   vmtest.WriteFile(t, "rootfs", bytes.Repeat([]byte("rootfs"), 50000)),
		Dir:      t.TempDir(),
		PortBase: base,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer v.Kill()

	out, err := v.Monitor("info status")
	if err != nil || out != "VM status: running\n" {
		t.Errorf("info status = %q, %v", out, err)
	}
	out, err = v.Monitor("info network")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"macaddr=52:54:00:00:00:01", fmt.Sprintf("access: index=0,type=socket,socket: mcast=230.0.0.1:%d", base),
		"macaddr=52:54:00:00:00:02", fmt.Sprintf("lan: index=0,type=socket,socket: mcast=230.0.0.1:%d", base+1),
	} {
		if !strings.Contains(out, want) {
			t.Errorf("info network lacks %q:\n%s", want, out)
		}
	}
	out, err = v.Monitor("info roms")
	if err != nil || !strings.Contains(out, "addr=000000000ffb0000 size=0x0493e0") {
		t.Errorf("info roms has no rootfs at the top of RAM: %q, %v", out, err)
	}

	// The echo kernel answers on the console; ^O detaches.
	conn, err := v.Console()
	if err != nil {
		t.Fatal(err)
	}
	in, inw := io.Pipe()
	defer inw.Close()
	var got syncBuffer
	attached := make(chan error)
	go func() { attached <- vm.Attach(conn, in, &got) }()
	inw.Write([]byte("ping\n"))
	waitFor(t, "the echo", 30*time.Second, func() bool { return got.String() == "ping\n" })
	inw.Write([]byte{'x', vm.DetachKey, 'y'})
	select {
	case err := <-attached:
		if err != nil {
			t.Errorf("Attach: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("^O did not detach")
	}

	if _, err := v.Monitor("quit"); err != nil {
		t.Errorf("quit: %v", err)
	}
	if err := v.Wait(); err != nil {
		t.Errorf("Wait after quit: %v", err)
	}
}

// TestStartVirt checks that QEMU takes the arm and aarch64 command lines, and
// loads the rootfs where the kernel command line says, clear of the device
// tree. The kernel is zeros: nothing boots, and nothing needs to.
func TestStartVirt(t *testing.T) {
	for _, tt := range []struct {
		arch     vm.Arch
		qemu     string
		wantROMs []string
	}{
		{vm.ARM, "qemu-system-arm", []string{
			`addr=0000000048000000 size=0x100000 mem=ram name="dtb"`,
			`addr=000000004f800000 size=0x800000 mem=ram name="`}},
		{vm.AArch64, "qemu-system-aarch64", []string{
			`addr=0000000048000000 size=0x100000 mem=ram name="dtb"`,
			`addr=000000004f800000 size=0x800000 mem=ram name="`}},
	} {
		t.Run(string(tt.arch), func(t *testing.T) {
			if _, err := exec.LookPath(tt.qemu); err != nil {
				t.Fatalf("%v: install the Debian package qemu-system-arm", err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			v, err := vm.Start(ctx, vm.Config{
				Arch:     tt.arch,
				Kernel:   vmtest.WriteFile(t, "kernel", make([]byte, 4096)),
				Rootfs:   vmtest.WriteFile(t, "rootfs", make([]byte, 8<<20)),
				Dir:      t.TempDir(),
				PortBase: vmtest.PortBase(t),
			})
			if err != nil {
				t.Fatal(err)
			}
			defer v.Kill()
			out, err := v.Monitor("info roms")
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tt.wantROMs {
				if !strings.Contains(out, want) {
					t.Errorf("info roms lacks %q:\n%s", want, out)
				}
			}
			if _, err := v.Monitor("quit"); err != nil {
				t.Errorf("quit: %v", err)
			}
			if err := v.Wait(); err != nil {
				t.Errorf("Wait after quit: %v", err)
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	k := vmtest.WriteFile(t, "kernel", []byte("not an ELF"))
	r := vmtest.WriteFile(t, "rootfs", []byte("x"))
	for _, tt := range []struct {
		name    string
		c       vm.Config
		wantErr string
	}{
		{"no dir", vm.Config{Kernel: k, Rootfs: r}, "needs a directory"},
		{"missing kernel", vm.Config{Kernel: filepath.Join(dir, "nope"), Rootfs: r, Dir: dir}, "KERNEL: stat"},
		{"missing rootfs", vm.Config{Kernel: k, Rootfs: filepath.Join(dir, "nope"), Dir: dir}, "ROOTFS: stat"},
		{"dir is a file", vm.Config{Kernel: k, Rootfs: r, Dir: k}, "not a directory"},
		{"unknown arch", vm.Config{Arch: "riscv", Kernel: k, Rootfs: r, Dir: dir}, `arch "riscv": unknown`},
		// QEMU's own complaint, which needs qemu-system-mips.
		{"not an ELF", vm.Config{Kernel: k, Rootfs: r, Dir: dir, PortBase: vmtest.PortBase(t)}, "could not load kernel"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			v, err := vm.Start(ctx, tt.c)
			if err == nil {
				v.Kill()
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start = %v; want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDialUnixLongPath(t *testing.T) {
	dir := t.TempDir()
	for len(dir) < 120 {
		dir = filepath.Join(dir, "a-long-directory-name")
	}
	if err := mkdirAll(dir); err != nil {
		t.Fatal(err)
	}
	// Listen through a relative name, as QEMU does with its working
	// directory in dir.
	l, err := listenIn(dir, "sock")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		if c, err := l.Accept(); err == nil {
			c.Write([]byte("hi"))
			c.Close()
		}
	}()
	c, err := vm.DialUnix(filepath.Join(dir, "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err != nil || string(b) != "hi" {
		t.Errorf("read %q, %v", b, err)
	}
}
