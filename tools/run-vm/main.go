// Command run-vm boots a kernel and squashfs root filesystem in QEMU.
//
// Usage:
//
//	bazel run //tools:run-vm -- [--arch mips|arm|aarch64] [--background DIR]
//		[--lan NETDEV] [--wan NETDEV] [--mcast-port-base N] [--memory MIB]
//		[--cpu CPU] [--append KERNELARG]... [--flag QEMUARG]... KERNEL ROOTFS
//
// In the foreground the console is the terminal (QEMU's ^A x quits, ^A c
// switches to the monitor). With --background DIR (made if missing), QEMU
// daemonizes with the console and monitor on the unix sockets DIR/console
// and DIR/monitor (see connect-vm) and its pid in DIR/pid; run-vm returns
// once they exist.
// Relative paths are taken relative to the directory bazel run was invoked
// from (BUILD_WORKING_DIRECTORY), or else the current directory. See
// docs/vm.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"bazwrt/tools/vm"
	"bazwrt/tools/workdir"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr, execQEMU))
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

// run is the whole command, apart from process plumbing; exec replaces the
// process with QEMU in the foreground. It returns the exit code: 2 for
// usage errors, 1 for others.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, exec func(name string, args []string) error) int {
	flags := flag.NewFlagSet("run-vm", flag.ContinueOnError)
	flags.SetOutput(stderr)
	var c vm.Config
	arch := flags.String("arch", string(vm.MIPS), "`ARCH` of the VM: "+strings.Join(vm.Arches(), ", "))
	flags.StringVar(&c.Dir, "background", "", "daemonize, with the console, monitor and pid file in `DIR`")
	flags.StringVar(&c.WAN, "wan", "", "QEMU -netdev spec, without id, of the first NIC (default: the access network)")
	flags.StringVar(&c.LAN, "lan", "", "QEMU -netdev spec, without id, of the second NIC (default: the lan network)")
	flags.StringVar(&c.WANNetwork, "wan-network", "access", "multicast network of the first NIC without --wan: access, lan or world")
	flags.StringVar(&c.LANNetwork, "lan-network", "lan", "multicast network of the second NIC without --lan: access, lan or world")
	flags.StringVar(&c.WANMAC, "wan-mac", vm.AccessMAC, "MAC address of the first NIC")
	flags.StringVar(&c.LANMAC, "lan-mac", vm.LANMAC, "MAC address of the second NIC")
	flags.IntVar(&c.PortBase, "mcast-port-base", vm.DefaultPortBase, "multicast port of the access network; lan and world are the next two")
	flags.IntVar(&c.MemoryMiB, "memory", vm.DefaultMemoryMiB, "RAM in MiB")
	flags.StringVar(&c.CPU, "cpu", "", "QEMU -cpu (default: the machine's: 24Kc, cortex-a15, cortex-a72)")
	flags.Var((*listFlag)(&c.Append), "append", "extra kernel argument; repeatable")
	flags.Var((*listFlag)(&c.Flags), "flag", "extra QEMU argument; repeatable")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: run-vm [--arch mips|arm|aarch64] [--background DIR] [--lan NETDEV] [--wan NETDEV] [--flag QEMUARG]... KERNEL ROOTFS")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 2 {
		flags.Usage()
		return 2
	}
	c.Arch = vm.Arch(*arch)
	c.Kernel, c.Rootfs = flags.Arg(0), flags.Arg(1)

	base, err := workdir.Base(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "run-vm: %v\n", err)
		return 1
	}
	if c.Dir != "" {
		// Like QEMU's own -pidfile, run-vm makes what it needs.
		dir := c.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(base, dir)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintf(stderr, "run-vm: DIR: %v\n", err)
			return 1
		}
	}
	c, err = c.Resolve(base)
	if err != nil {
		fmt.Fprintf(stderr, "run-vm: %v\n", err)
		return 1
	}
	if c.Dir != "" {
		pid, err := vm.Daemonize(ctx, c, stderr)
		if err != nil {
			fmt.Fprintf(stderr, "run-vm: %v\n", err)
			return 1
		}
		fmt.Fprintf(stderr, "run-vm: QEMU pid %d; console: connect-vm %s; monitor: connect-vm %s\n",
			pid, filepath.Join(c.Dir, vm.ConsoleFile), filepath.Join(c.Dir, vm.MonitorFile))
		return 0
	}
	fi, err := os.Stat(c.Rootfs)
	if err != nil {
		fmt.Fprintf(stderr, "run-vm: ROOTFS: %v\n", err)
		return 1
	}
	name, qargs, err := c.Command(fi.Size())
	if err != nil {
		fmt.Fprintf(stderr, "run-vm: %v\n", err)
		return 1
	}
	if err := exec(name, qargs); err != nil {
		fmt.Fprintf(stderr, "run-vm: %v\n", err)
		return 1
	}
	return 0
}

// execQEMU replaces this process with QEMU, so that the terminal and
// signals go straight to it.
func execQEMU(name string, args []string) error {
	path, err := exec.LookPath(name)
	if err != nil {
		return fmt.Errorf("%w (Debian package %s)", err, debianPackage(name))
	}
	return syscall.Exec(path, append([]string{name}, args...), os.Environ())
}

// debianPackage names the package with the QEMU binary name.
func debianPackage(name string) string {
	if name == "qemu-system-aarch64" {
		return "qemu-system-arm"
	}
	return name
}
