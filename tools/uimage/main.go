// Command uimage writes and lists U-Boot legacy images (uImage).
//
//	uimage -o OUT -arch mips -load 0x80060000 -entry 0x80060000 -name NAME [-comp lzma] [-dtb DTB] KERNEL
//	uimage -l IMAGE
//
// With -dtb the device tree is appended to the kernel before compression:
// what the stock U-Boot of ath79 boards expects (the kernel is built with
// CONFIG_MIPS_RAW_APPENDED_DTB and finds it right after its image).
// The header time is 0 so that images are reproducible.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"

	"bazwrt/tools/uimage/legacy"
	"bazwrt/tools/workdir"
)

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "uimage: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

type hexFlag struct {
	v   uint32
	set bool
}

func (h *hexFlag) String() string { return fmt.Sprintf("%#x", h.v) }

func (h *hexFlag) Set(s string) error {
	v, err := strconv.ParseUint(s, 0, 32)
	if err != nil {
		return fmt.Errorf("want a 32-bit address such as 0x80060000")
	}
	h.v, h.set = uint32(v), true
	return nil
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("uimage", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write the image to `FILE`")
	list := fs.String("l", "", "list the header of `IMAGE` and check its CRCs")
	arch := fs.String("arch", "", "architecture: arm, arm64 or mips")
	comp := fs.String("comp", "lzma", "payload compression: lzma or none")
	name := fs.String("name", "", "image name (at most 31 bytes)")
	dtb := fs.String("dtb", "", "append the device tree `FILE` to the kernel")
	var load, entry hexFlag
	fs.Var(&load, "load", "load `address` (0x hex or decimal)")
	fs.Var(&entry, "entry", "entry point `address`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "uimage: "+format+"\n", a...)
		return 1
	}
	if *list != "" {
		img, err := os.ReadFile(*list)
		if err != nil {
			return fail("%v", err)
		}
		h, _, err := legacy.Decode(img)
		if err != nil {
			return fail("%s: %v", *list, err)
		}
		fmt.Fprintf(stdout, "Image Name:   %s\nData Size:    %d Bytes\nLoad Address: %08x\nEntry Point:  %08x\nArch: %d OS: %d Type: %d Comp: %d\n",
			h.NameString(), h.Size, h.Load, h.Entry, h.Arch, h.OS, h.Type, h.Comp)
		return 0
	}
	if *out == "" || fs.NArg() != 1 || *arch == "" || !load.set || !entry.set {
		fmt.Fprintln(stderr, "usage: uimage -o OUT -arch ARCH -load ADDR -entry ADDR [-name NAME] [-comp lzma|none] [-dtb DTB] KERNEL\n       uimage -l IMAGE")
		return 2
	}
	h := legacy.Header{Load: load.v, Entry: entry.v, OS: legacy.OSLinux, Type: legacy.TypeKernel}
	a, ok := legacy.Arches[*arch]
	if !ok {
		return fail("unknown -arch %q: want arm, arm64 or mips", *arch)
	}
	h.Arch = a
	if err := h.SetName(*name); err != nil {
		return fail("%v", err)
	}
	kernel, err := os.ReadFile(fs.Arg(0))
	if err != nil {
		return fail("%v", err)
	}
	if len(kernel) == 0 {
		return fail("%s is empty", fs.Arg(0))
	}
	if *dtb != "" {
		d, err := os.ReadFile(*dtb)
		if err != nil {
			return fail("%v", err)
		}
		// A flattened device tree starts with 0xd00dfeed: catch a wrong file
		// here rather than as a board that does not boot.
		if len(d) < 4 || d[0] != 0xd0 || d[1] != 0x0d || d[2] != 0xfe || d[3] != 0xed {
			return fail("%s is not a DTB (no 0xd00dfeed magic)", *dtb)
		}
		kernel = append(kernel, d...)
	}
	payload := kernel
	switch *comp {
	case "lzma":
		h.Comp = legacy.CompLZMA
		if payload, err = legacy.CompressLZMA(kernel); err != nil {
			return fail("lzma: %v", err)
		}
	case "none":
		h.Comp = legacy.CompNone
	default:
		return fail("unknown -comp %q: want lzma or none", *comp)
	}
	if err := os.WriteFile(*out, legacy.Encode(h, payload), 0o644); err != nil {
		return fail("%v", err)
	}
	return 0
}
