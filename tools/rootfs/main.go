// Command rootfs makes root-filesystem manifests (bazwrt/tools/fsspec) for
// the rootfs rules:
//
//	rootfs pkg -origin LABEL -staging DIR -out DIR -o FRAGMENT.json
//	           [-strip STRIP] [-exclude GLOB]... [-links LIST=TARGET]...
//	rootfs merge -o MANIFEST.json [-report REPORT.txt] [-top N] FRAGMENT.json...
//
// pkg turns a package's staging tree into a fragment: it copies the files
// that belong on the device into DIR (ELF files stripped with STRIP) and
// lists them with modes that depend on the file, never on the build host.
// merge joins fragments into the image's manifest: it records every file's
// size, fails naming both origins when two fragments claim one path
// differently, and writes the size report.
package main

import (
	"fmt"
	"io"
	"os"

	"bazwrt/tools/workdir"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "rootfs: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usage = `usage:
  rootfs pkg -origin LABEL -staging DIR -out DIR -o FRAGMENT.json [-strip STRIP] [-exclude GLOB]... [-links LIST=TARGET]...
  rootfs merge -o MANIFEST.json [-report REPORT.txt] [-top N] FRAGMENT.json...`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "pkg":
		err = pkgMain(args[1:], stderr)
	case "merge":
		err = mergeMain(args[1:], stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "rootfs: unknown verb %q\n%s\n", args[0], usage)
		return 2
	}
	if err == errUsage {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "rootfs %s: %v\n", args[0], err)
		return 1
	}
	return 0
}
