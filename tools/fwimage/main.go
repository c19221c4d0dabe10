// Command fwimage writes what goes onto a router or into its RAM: the flash
// image, U-Boot scripts, and the directory for a RAM-only TFTP boot. One
// verb per pipeline step; docs/images.md has the layouts and the reasons.
//
//	fwimage flash -kernel uImage -rootfs rootfs.squashfs -erase-block 0x10000 \
//	    -partition-size 0xfa0000 [-kernel-size 0x300000] [-manifest M.json] \
//	    [-dtb device.dtb -flash-offset 0x60000] -o firmware.bin [-report size.txt]
//	fwimage script -arch mips -name NAME -o out.scr script.txt
//	fwimage flash-script -arch mips -ram-start 0x0 -ram-size 0x8000000 \
//	    -flash-address 0x9f060000 -partition-size 0xfa0000 -image firmware.bin \
//	    [-file firmware.bin] \
//	    [-load ADDR] [-name NAME] -o flash.scr
//	fwimage tftpboot -kernel-bin vmlinux.bin [-vmlinux vmlinux] -dtb device.dtb \
//	    -rootfs rootfs.squashfs -arch mips -load 0x80060000 -entry 0x80060000 \
//	    -ram-start 0x0 -ram-size 0x8000000 -erase-block 0x10000 \
//	    -console ttyS0,115200 [-append-dtb] [-bootloader-reserve 0x100000] \
//	    [-name NAME] [-served-as PATH] -o DIR
//
// Numbers are hex with 0x or decimal. Outputs are deterministic: uImage
// headers have time 0.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"

	"bazwrt/tools/workdir"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "fwimage: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// verbs maps a verb to its function, which parses its own flags.
var verbs = map[string]func(args []string, stdout, stderr io.Writer) error{
	"flash":        flashCmd,
	"script":       scriptCmd,
	"flash-script": flashScriptCmd,
	"tftpboot":     tftpbootCmd,
}

// errUsage is returned by a verb whose flags were wrong; the flag package
// has printed the message and the usage.
var errUsage = errors.New("usage")

func run(args []string, stdout, stderr io.Writer) int {
	var names []string
	for v := range verbs {
		names = append(names, v)
	}
	sort.Strings(names)
	if len(args) == 0 || verbs[args[0]] == nil {
		fmt.Fprintf(stderr, "usage: fwimage VERB [flags]; verbs: %s (fwimage VERB -h for its flags)\n", strings.Join(names, ", "))
		return 2
	}
	err := verbs[args[0]](args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUsage):
		return 2
	}
	fmt.Fprintf(stderr, "fwimage %s: %v\n", args[0], err)
	return 1
}

// newFlags returns a flag set for verb whose errors go to stderr.
func newFlags(verb string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fwimage "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args and checks that the flags in required were given and
// that no positional arguments other than nargs remain.
func parse(fs *flag.FlagSet, args []string, nargs int, required ...string) error {
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range required {
		if !set[name] {
			fmt.Fprintf(fs.Output(), "%s: missing -%s (%s)\n", fs.Name(), name, fs.Lookup(name).Usage)
			fs.Usage()
			return errUsage
		}
	}
	if fs.NArg() != nargs {
		fmt.Fprintf(fs.Output(), "%s: want %d positional arguments, have %d: %q\n", fs.Name(), nargs, fs.NArg(), fs.Args())
		fs.Usage()
		return errUsage
	}
	return nil
}

// num is a flag holding an address or size: hex with 0x, or decimal.
type num struct{ v uint64 }

func (n *num) String() string { return fmt.Sprintf("%#x", n.v) }

func (n *num) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 64)
	if err != nil {
		return fmt.Errorf("want a number such as 0x10000 (hex) or 65536")
	}
	n.v = v
	return nil
}

func numFlag(fs *flag.FlagSet, name string, def uint64, usage string) *uint64 {
	n := &num{def}
	fs.Var(n, name, usage)
	return &n.v
}

// readInput reads the file given as -opt; errors name both.
func readInput(opt, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("-%s: %w", opt, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("-%s %s: file is empty", opt, path)
	}
	return b, nil
}

// squashfsMagic starts every squashfs image ("hsqs", little-endian
// 0x73717368).
const squashfsMagic = "hsqs"

func checkSquashfs(opt, path string, b []byte) error {
	if len(b) < 4 || string(b[:4]) != squashfsMagic {
		return fmt.Errorf("-%s %s: not a squashfs image (want the magic %q at offset 0, have %q)", opt, path, squashfsMagic, b[:min(4, len(b))])
	}
	return nil
}

func alignUp(n, a uint64) uint64   { return (n + a - 1) / a * a }
func alignDown(n, a uint64) uint64 { return n / a * a }
