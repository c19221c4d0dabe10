// Command svc-compile compiles s6-rc style service source directories into
// the binary service database read by the device init.
//
//	svc-compile -o OUT SRCDIR...   compile (several source dirs are merged)
//	svc-compile -check SRCDIR...   only check, write nothing
//	svc-compile -dump DB           print a compiled database as text
//
// Like s6-rc-compile, it does not insist on a "default" bundle unless given
// -require-default, which image builds pass because init brings that
// bundle up at boot.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"bazwrt/tools/atomicfile"
	"bazwrt/tools/workdir"
	"bazwrt/userland/init/svcdb"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "svc-compile: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("svc-compile", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the compiled database to `FILE`")
	check := fs.Bool("check", false, "check the sources, write nothing")
	dump := fs.String("dump", "", "print the compiled database `FILE` as text and exit")
	requireDefault := fs.Bool("require-default", false, "fail unless a \"default\" service exists (init brings it up at boot)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: svc-compile [-require-default] -o OUT SRCDIR...\n       svc-compile [-require-default] -check SRCDIR...\n       svc-compile -dump DB\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dump != "" {
		db, err := svcdb.Inspect(*dump)
		if err != nil {
			fmt.Fprintf(stderr, "svc-compile: %v\n", err)
			return 1
		}
		io.WriteString(stdout, svcdb.Dump(db))
		return 0
	}
	if fs.NArg() == 0 || (*out == "") == !*check {
		fs.Usage()
		return 2
	}
	db, err := svcdb.CompileDirsOpts(svcdb.Options{RequireDefault: *requireDefault}, fs.Args()...)
	if err != nil {
		fmt.Fprintf(stderr, "svc-compile: errors:\n%v\n", err)
		return 1
	}
	if *check {
		return 0
	}
	if err := atomicfile.Write(*out, svcdb.Encode(db), 0o644); err != nil {
		fmt.Fprintf(stderr, "svc-compile: %v\n", err)
		return 1
	}
	return 0
}
