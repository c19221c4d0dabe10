// Command firewall-compile compiles a firewall's options (the JSON written
// by the firewall rule of //userland/firewall:services.bzl) into its
// ruleset, in nft syntax, as the device loads it (see
// bazwrt/userland/firewall/compile for the defaults, and
// bazwrt/userland/firewall/ruleset for the language).
//
//	firewall-compile [-o OUT] CONFIG.json
//
// Without -o the ruleset goes to stdout. Errors name the configuration
// file, the field, the bad value and what was wanted.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"bazwrt/tools/atomicfile"
	"bazwrt/tools/workdir"
	"bazwrt/userland/firewall/compile"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "firewall-compile: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("firewall-compile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the ruleset to `FILE` (default: stdout)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: firewall-compile [-o OUT] CONFIG.json\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	data, err := os.ReadFile(name)
	if err != nil {
		fmt.Fprintf(stderr, "firewall-compile: %v\n", err)
		return 1
	}
	c, err := compile.Decode(name, data)
	if err != nil {
		fmt.Fprintf(stderr, "firewall-compile: %v\n", err)
		return 1
	}
	rs, err := compile.Compile(name, c)
	if err != nil {
		fmt.Fprintf(stderr, "firewall-compile: %v\n", err)
		return 1
	}
	text := rs.Format()
	if *out == "" {
		stdout.Write(text)
		return 0
	}
	if err := atomicfile.Write(*out, text, 0o644); err != nil {
		fmt.Fprintf(stderr, "firewall-compile: %v\n", err)
		return 1
	}
	return 0
}
