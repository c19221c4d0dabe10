// Command checksec reports, for each ELF file it is given (directories are
// walked), the machine, byte order, float ABI, linking and hardening, and
// exits 1 when a file misses what the policy flags require.
//
//	checksec -machine mips -endian big -float soft -require static,pie,relro,now,nx,canary FILE|DIR...
//	checksec -list-fpu OBJ...   # prints the files that contain MIPS FPU instructions
package main

import (
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"bazwrt/tools/checksec/elfcheck"
	"bazwrt/tools/workdir"
)

var machines = map[string]elf.Machine{
	"":        elf.EM_NONE,
	"mips":    elf.EM_MIPS,
	"arm":     elf.EM_ARM,
	"aarch64": elf.EM_AARCH64,
	"x86_64":  elf.EM_X86_64,
}

func main() {
	// Under bazel run, relative paths are where the user ran it.
	if err := workdir.Chdir(os.Getenv); err != nil {
		fmt.Fprintf(os.Stderr, "checksec: BUILD_WORKING_DIRECTORY: %v\n", err)
		os.Exit(1)
	}
	machine := flag.String("machine", "", "required ELF machine: mips, arm, aarch64, x86_64")
	endian := flag.String("endian", "", "required byte order: big or little")
	float := flag.String("float", "", "required float ABI: soft (also: no FPU instruction) or hard")
	require := flag.String("require", "pie,relro,now,nx,canary", "required properties, comma-separated: static, pie, relro, now, nx, canary, fortify")
	listFPU := flag.Bool("list-fpu", false, "print the files that contain MIPS FPU instructions, one a line, and nothing else")
	flag.Parse()

	if *listFPU {
		if err := listFPUFiles(os.Stdout, flag.Args()); err != nil {
			fmt.Fprintln(os.Stderr, "checksec:", err)
			os.Exit(2)
		}
		return
	}
	p, err := policy(*machine, *endian, *float, *require)
	if err != nil {
		fmt.Fprintln(os.Stderr, "checksec:", err)
		os.Exit(2)
	}
	ok, err := run(os.Stdout, p, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "checksec:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

func policy(machine, endian, float, require string) (elfcheck.Policy, error) {
	var p elfcheck.Policy
	m, ok := machines[machine]
	if !ok {
		return p, fmt.Errorf("unknown machine %q", machine)
	}
	p.Machine = m
	switch endian {
	case "":
	case "big":
		p.ByteOrder = binary.BigEndian
	case "little":
		p.ByteOrder = binary.LittleEndian
	default:
		return p, fmt.Errorf("unknown byte order %q", endian)
	}
	switch float {
	case "", elfcheck.FloatSoft, elfcheck.FloatHard:
		p.FloatABI = float
	default:
		return p, fmt.Errorf("unknown float ABI %q", float)
	}
	for _, r := range strings.Split(require, ",") {
		switch r {
		case "":
		case "static":
			p.Static = true
		case "pie":
			p.PIE = true
		case "relro":
			p.RELRO = true
		case "now":
			p.BindNow = true
		case "nx":
			p.NXStack = true
		case "canary":
			p.Canary = true
		case "fortify":
			p.Fortify = true
		default:
			return p, fmt.Errorf("unknown requirement %q", r)
		}
	}
	return p, nil
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func run(w io.Writer, p elfcheck.Policy, paths []string) (bool, error) {
	files, err := elfcheck.Files(paths)
	if err != nil {
		return false, err
	}
	if len(files) == 0 {
		return false, fmt.Errorf("no ELF file in %s", strings.Join(paths, " "))
	}
	ok := true
	fmt.Fprintln(w, "machine\tendian\tfloat\tstatic\tpie\trelro\tnow\tnx\tcanary\tfortified\tfile")
	for _, path := range files {
		f, err := os.Open(path)
		if err != nil {
			return false, err
		}
		r, err := elfcheck.Inspect(f)
		f.Close()
		if err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		fmt.Fprintf(w, "%v\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			r.Machine, elfcheck.Endian(r.ByteOrder), r.FloatABI, yes(r.Static), yes(r.PIE),
			yes(r.RELRO), yes(r.BindNow), yes(r.NXStack), yes(r.Canary), len(r.Fortified), path)
		if miss := p.Check(r); len(miss) > 0 {
			ok = false
			fmt.Fprintf(w, "FAIL %s: %s\n", path, strings.Join(miss, ", "))
		}
	}
	return ok, nil
}

func listFPUFiles(w io.Writer, paths []string) error {
	for _, path := range paths {
		f, err := elf.Open(path)
		if err != nil {
			return err
		}
		n, err := elfcheck.MIPSFPUInstructions(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if n > 0 {
			fmt.Fprintln(w, path)
		}
	}
	return nil
}
