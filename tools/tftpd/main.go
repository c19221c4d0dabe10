// Command tftpd serves a directory read-only over TFTP, typically a Bazel
// output tree to network-booting devices.
//
// Usage:
//
//	bazel run //tools:tftpd -- [-listen HOST:PORT] [-a CLIENT]... [-follow DIR]...
//	    [-max-transfers N] [-max-per-client N] DIR
//
// A relative DIR is taken relative to the directory bazel run was invoked
// from (BUILD_WORKING_DIRECTORY), or else to the current directory.
// Without -a any client may read; with -a only the listed IP addresses or
// CIDR prefixes may, and others get no answer. Symbolic links are followed
// only to targets under DIR, under a -follow directory or, under bazel
// run, under the workspace's Bazel output tree (the real path of
// BUILD_WORKSPACE_DIRECTORY/bazel-out). See docs/tftpd.md.
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
	"bazwrt/tools/workdir"
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
	var follow stringsFlag
	flags.Var(&follow, "follow", "also follow symbolic links whose target lies under `DIR`; repeatable")
	maxTransfers := flags.Int("max-transfers", tftp.DefaultMaxTransfers, "refuse requests beyond `N` transfers running at once")
	maxPerClient := flags.Int("max-per-client", tftp.DefaultMaxPerClient, "refuse requests beyond `N` transfers running at once for one client address (IPv6: one /64)")
	flags.Usage = func() {
		fmt.Fprintln(stderr, "usage: tftpd [-listen HOST:PORT] [-a CLIENT]... [-follow DIR]... [-max-transfers N] [-max-per-client N] DIR")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if flags.NArg() != 1 {
		flags.Usage()
		return 2
	}
	if *maxTransfers < 1 || *maxPerClient < 1 {
		fmt.Fprintln(stderr, "tftpd: -max-transfers and -max-per-client must be at least 1")
		return 2
	}
	root, err := rootDir(flags.Arg(0), getenv)
	if err != nil {
		fmt.Fprintf(stderr, "tftpd: %v\n", err)
		return 1
	}
	var followDirs []string
	for _, f := range follow {
		dir, err := absDir(f, getenv, "-follow directory")
		if err != nil {
			fmt.Fprintf(stderr, "tftpd: %v\n", err)
			return 1
		}
		followDirs = append(followDirs, dir)
	}
	if out := bazelOutputTree(getenv); out != "" {
		followDirs = append(followDirs, out)
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
	// Links are checked by real paths; say which.
	under := append([]string{root}, followDirs...)
	for i, d := range under {
		if real, err := filepath.EvalSymlinks(d); err == nil {
			under[i] = real
		}
	}
	fmt.Fprintf(stderr, "tftpd: symbolic links are followed only to targets under %s\n", strings.Join(under, ", "))
	fmt.Fprintf(stderr, "tftpd: at most %d transfers at once, %d per client\n", *maxTransfers, *maxPerClient)
	srv := &tftp.Server{
		Root:         root,
		Follow:       followDirs,
		Allow:        allow,
		Logger:       slog.New(slog.NewTextHandler(stderr, nil)),
		MaxTransfers: *maxTransfers,
		MaxPerClient: *maxPerClient,
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
	return absDir(dir, getenv, "directory to serve")
}

// absDir is rootDir for any directory argument; what names it in errors.
func absDir(dir string, getenv func(string) string, what string) (string, error) {
	dir, err := workdir.Abs(dir, getenv)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%s: %s is not a directory", what, dir)
	}
	return filepath.Clean(dir), nil
}

// bazelOutputTree returns the real path of the workspace's Bazel output
// tree when run by bazel run, or "" otherwise. BUILD_WORKSPACE_DIRECTORY
// names the workspace, whose bazel-out link leads to
// <output base>/execroot/<workspace name>/bazel-out: every output of every
// configuration is a real file below it, and the links of bazel-bin,
// runfiles trees and a user's own directory of links to outputs resolve
// there. The rest of the output base (Bazel's server files, external
// repositories, sandboxes) and the source tree are not included; -follow
// adds them if wanted.
func bazelOutputTree(getenv func(string) string) string {
	ws := getenv("BUILD_WORKSPACE_DIRECTORY")
	if ws == "" {
		return ""
	}
	out, err := filepath.EvalSymlinks(filepath.Join(ws, "bazel-out"))
	if err != nil {
		return ""
	}
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		return ""
	}
	return out
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

// stringsFlag collects the values of a repeatable flag.
type stringsFlag []string

func (s *stringsFlag) String() string { return strings.Join(*s, ", ") }

func (s *stringsFlag) Set(v string) error {
	*s = append(*s, v)
	return nil
}
