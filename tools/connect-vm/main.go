// Command connect-vm attaches the terminal to the console or monitor socket
// of a VM that run-vm --background started.
//
// Usage:
//
//	bazel run //tools:connect-vm -- SOCKET
//
// The terminal is in raw mode while attached; ^O detaches and restores it.
// With stdin not a terminal (a script), input is sent as it is, and
// connect-vm ends a second after stdin does. A relative SOCKET is taken
// relative to BUILD_WORKING_DIRECTORY when set. See docs/vm.md.
package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"bazwrt/tools/vm"
	"golang.org/x/sys/unix"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || len(args[0]) == 0 || args[0][0] == '-' {
		fmt.Fprintln(stderr, "usage: connect-vm SOCKET")
		return 2
	}
	path := args[0]
	if base := getenv("BUILD_WORKING_DIRECTORY"); base != "" && !filepath.IsAbs(path) {
		path = filepath.Join(base, path)
	}
	conn, err := vm.DialUnix(path)
	if err != nil {
		fmt.Fprintf(stderr, "connect-vm: SOCKET: %v\n", err)
		return 1
	}
	tty := false
	if f, ok := stdin.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		tty = err == nil
	}
	if tty {
		fmt.Fprintf(stderr, "connect-vm: attached to %s; ^O detaches\r\n", path)
	}
	if err := vm.Attach(conn, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "\r\nconnect-vm: %v\r\n", err)
		return 1
	}
	if tty {
		fmt.Fprintf(stderr, "\r\nconnect-vm: detached\r\n")
	}
	return 0
}
