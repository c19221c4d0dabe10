// Command kconfig-check checks that a resolved kernel .config has every
// option the fragments it was made from asked for, with the value asked for.
//
//	kconfig-check -config .config FRAGMENT...   check; exit 1 naming each lost option
//	kconfig-check -diff OLD NEW                 print the options that differ, as a fragment
//
// Fragments are given in the order they were applied: a later one overrides
// an earlier one, and the error names the fragment whose request was lost.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"bazwrt/tools/kconfig-check/kconfig"
	"bazwrt/tools/workdir"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "kconfig-check: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kconfig-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "the resolved `.config` to check")
	diff := fs.Bool("diff", false, "print the options that differ between two configs OLD NEW as a fragment")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: kconfig-check -config .config FRAGMENT...\n       kconfig-check -diff OLD NEW\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *diff {
		if fs.NArg() != 2 {
			fs.Usage()
			return 2
		}
		var cfgs [2]kconfig.Config
		for i, p := range fs.Args() {
			reqs, err := kconfig.ParseFile(p)
			if err != nil {
				fmt.Fprintf(stderr, "kconfig-check: %v\n", err)
				return 1
			}
			cfgs[i] = kconfig.NewConfig(reqs)
		}
		for _, l := range kconfig.Diff(cfgs[0], cfgs[1]) {
			fmt.Fprintln(stdout, l)
		}
		return 0
	}
	if *config == "" {
		fs.Usage()
		return 2
	}
	resolved, err := kconfig.ParseFile(*config)
	if err != nil {
		fmt.Fprintf(stderr, "kconfig-check: %v\n", err)
		return 1
	}
	var frags [][]kconfig.Request
	for _, p := range fs.Args() {
		reqs, err := kconfig.ParseFile(p)
		if err != nil {
			fmt.Fprintf(stderr, "kconfig-check: %v\n", err)
			return 1
		}
		frags = append(frags, reqs)
	}
	bad := kconfig.Check(kconfig.NewConfig(resolved), kconfig.Merge(frags...))
	if len(bad) == 0 {
		return 0
	}
	for _, m := range bad {
		fmt.Fprintf(stderr, "kconfig-check: %s\n", m)
	}
	fmt.Fprintf(stderr, "kconfig-check: %d requested option(s) not in %s: fix the fragment (or add what the option depends on)\n", len(bad), *config)
	return 1
}
