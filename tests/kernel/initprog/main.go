// Command initprog is the whole userland of the kernel boot test: run as
// /init from an initramfs, it mounts /proc and /dev, prints a marker line
// with the kernel's release and the result of syscalls the base fragment
// must provide, then powers the machine off (which makes QEMU exit).
package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

// Marker is what the boot test waits for on the console.
const Marker = "BAZWRT-BOOT-OK"

func main() {
	// The kernel gives /init the console if /dev/console exists in the
	// initramfs; mkcpio puts it there. devtmpfs is mounted for the rest.
	_ = os.Mkdir("/dev", 0o755)
	_ = unix.Mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	_ = os.Mkdir("/proc", 0o555)
	if err := unix.Mount("proc", "/proc", "proc", 0, ""); err != nil {
		fail("mount /proc: %v", err)
	}
	// Syscalls s6-style supervisors use; ENOSYS here means the base fragment
	// lost one (epoll, eventfd, signalfd, timerfd, inotify).
	for name, f := range map[string]func() (int, error){
		"epoll":    func() (int, error) { return unix.EpollCreate1(0) },
		"eventfd":  func() (int, error) { return unix.Eventfd(0, 0) },
		"timerfd":  func() (int, error) { return unix.TimerfdCreate(unix.CLOCK_MONOTONIC, 0) },
		"inotify":  func() (int, error) { return unix.InotifyInit1(0) },
		"signalfd": func() (int, error) { var s unix.Sigset_t; return unix.Signalfd(-1, &s, 0) },
	} {
		if _, err := f(); err != nil {
			fail("%s: %v", name, err)
		}
	}
	v, err := os.ReadFile("/proc/version")
	if err != nil {
		fail("read /proc/version: %v", err)
	}
	fmt.Printf("%s %s\n", Marker, strings.TrimSpace(string(v)))
	poweroff()
}

func fail(format string, args ...any) {
	fmt.Printf("BAZWRT-BOOT-FAIL "+format+"\n", args...)
	poweroff()
}

func poweroff() {
	unix.Sync()
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Printf("BAZWRT-BOOT-FAIL reboot: %v\n", err)
	}
	select {} // init must not exit: the kernel would panic.
}
