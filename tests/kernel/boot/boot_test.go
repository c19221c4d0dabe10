// Package boot_test boots the qemu device's kernel under QEMU Malta with an
// initramfs whose /init (tests/kernel/initprog) prints a marker and powers
// off: the kernel reaches userland, has the syscalls the base fragment
// promises, and poweroff ends QEMU.
package boot_test

import (
	"bytes"
	"context"
	"flag"
	"os/exec"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
	"time"
)

var (
	kernel    = flag.String("kernel", "", "vmlinux of //devices/qemu:kernel")
	initramfs = flag.String("initramfs", "", "the test initramfs")
)

// Marker is initprog.Marker (initprog is a main package built for mips).
const marker = "BAZWRT-BOOT-OK"

// QEMU reaches userland in about 7 s on the build machines; the bound leaves
// room for a loaded machine without letting a hung boot run forever.
const bound = 90 * time.Second

func TestBoot(t *testing.T) {
	qemu, err := exec.LookPath("qemu-system-mips")
	if err != nil {
		t.Fatal("qemu-system-mips not found: install Debian's qemu-system-mips")
	}
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, qemu,
		"-M", "malta", "-cpu", "24Kc", "-m", "128",
		"-nographic", "-vga", "none", "-no-reboot",
		// No default pcnet NIC: Debian packs its ROM only with recommended
		// packages, and the boot does not need a network.
		"-nic", "none",
		"-kernel", runfiles.Path(t, *kernel),
		"-initrd", runfiles.Path(t, *initramfs),
		// panic=-1: a panic reboots at once, and -no-reboot turns that into
		// an exit, so a failed boot ends quickly too.
		"-append", "console=ttyS0 rdinit=/init panic=-1",
	)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	start := time.Now()
	err = cmd.Run()
	elapsed := time.Since(start)
	console := out.String()
	if ctx.Err() != nil {
		t.Fatalf("QEMU did not exit within %v (poweroff did not end it?); console:\n%s", bound, console)
	}
	if err != nil {
		t.Fatalf("QEMU failed: %v; console:\n%s", err, console)
	}
	if strings.Contains(console, "BAZWRT-BOOT-FAIL") || !strings.Contains(console, marker) {
		t.Fatalf("the initramfs did not print %s; console:\n%s", marker, console)
	}
	for _, line := range strings.Split(console, "\n") {
		if strings.Contains(line, marker) {
			t.Logf("%s (boot to poweroff: %.1f s)", strings.TrimSpace(line), elapsed.Seconds())
		}
	}
}
