// Command tftpd serves a directory read-only over TFTP, typically a Bazel
// output tree to network-booting devices.
//
// Usage:
//
//	bazel run //tools:tftpd -- [-listen HOST:PORT] [-a CLIENT]... DIR
//
// A relative DIR is taken relative to the directory bazel run was invoked
// from (BUILD_WORKING_DIRECTORY), or else to the current directory.
// Without -a any client may read; with -a only the listed IP addresses or
// CIDR prefixes may. See docs/tftpd.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"bazwrt/tools/tftpd/tftp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr))
}

// run is the whole command, apart from process plumbing. It returns the
// exit code: 0 after a shutdown by ctx, 2 for usage errors, 1 otherwise.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) int {
	flags := flag.NewFlagSet("tftpd", flag.ContinueOnError)
	flags.SetOutput(stderr)
	listen := flags.String("listen", ":69", "UDP `HOST:PORT` to listen on")
	var allow allowFlag
	flags.Var(&allow, "a", "allow only `CLIENT`, an IP address or CIDR prefix; repeatable (default: any client)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: tftpd [-listen HOST:PORT] [-a CLIENT]... DIR")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return 2
	}
	root, err := rootDir(flags.Arg(0), getenv)
	if err != nil {
		fmt.Fprintf(stderr, "tftpd: %v\n", err)
		return 1
	}

	conn, err := net.ListenPacket("udp", *listen)
	if err != nil {
		if errors.Is(err, os.ErrPermission) {
			fmt.Fprintln(stderr, privilegeHint(*listen))
		} else {
			fmt.Fprintf(stderr, "tftpd: %v\n", err)
		}
		return 1
	}
	defer conn.Close()

	fmt.Fprintf(stderr, "tftpd: serving %s read-only on %s\n", root, conn.LocalAddr())
	if len(allow) == 0 {
		fmt.Fprintf(stderr, "WARNING: no -a given: ANY client that can reach %s may read every file under %s\n", conn.LocalAddr(), root)
	} else {
		fmt.Fprintf(stderr, "tftpd: allowed clients: %s\n", allow.String())
	}
	srv := &tftp.Server{
		Root:   root,
		Allow:  allow,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	}
	if err := srv.Serve(ctx, conn); err != nil {
		fmt.Fprintf(stderr, "tftpd: %v\n", err)
		return 1
	}
	fmt.Fprintln(stderr, "tftpd: shut down")
	return 0
}

// rootDir makes dir absolute and checks that it is a directory. Under
// bazel run the process runs in the runfiles tree, so a relative dir is
// taken relative to BUILD_WORKING_DIRECTORY, where the user typed the
// command.
func rootDir(dir string, getenv func(string) string) (string, error) {
	if !filepath.IsAbs(dir) {
		base := getenv("BUILD_WORKING_DIRECTORY")
		if base == "" {
			var err error
			if base, err = os.Getwd(); err != nil {
				return "", err
			}
		}
		dir = filepath.Join(base, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("directory to serve: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("directory to serve: %s is not a directory", dir)
	}
	return filepath.Clean(dir), nil
}

// privilegeHint is the one-line message for a refused bind, which on
// Linux means a port below 1024 without CAP_NET_BIND_SERVICE.
func privilegeHint(addr string) string {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		exe = "<tftpd binary>"
	}
	return fmt.Sprintf("tftpd: cannot listen on %s: permission denied (ports below 1024 need privileges): "+
		"use a higher port, e.g. -listen :6969, or grant the capability: sudo setcap cap_net_bind_service=+ep %s", addr, exe)
}

// allowFlag collects the -a flags.
type allowFlag []netip.Prefix

func (a *allowFlag) String() string {
	var s []string
	for _, p := range *a {
		if p.IsSingleIP() {
			s = append(s, p.Addr().String())
		} else {
			s = append(s, p.String())
		}
	}
	return strings.Join(s, ", ")
}

func (a *allowFlag) Set(s string) error {
	p, err := tftp.ParseAllow(s)
	if err != nil {
		return err
	}
	*a = append(*a, p)
	return nil
}
