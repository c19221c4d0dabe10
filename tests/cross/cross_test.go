// Package cross_test checks Go binaries cross-compiled for the device
// platforms: the ELF machine, byte order and class are right, they are
// static, soft-float mips builds contain no FPU instruction, and each runs
// under qemu-user on the CPU the device has and prints what the host build
// prints.
package cross_test

import (
	"debug/elf"
	"encoding/binary"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"

	"bazwrt/tests/cross/floatprog/calc"
	"bazwrt/tests/runfiles"
	"bazwrt/tools/checksec/elfcheck"
)

var (
	mipsBin          = flag.String("mips", "", "floatprog for //toolchains:mips_24kc")
	mipselBin        = flag.String("mipsel", "", "floatprog for //toolchains:mipsel_24kec")
	armv7Bin         = flag.String("armv7", "", "floatprog for //toolchains:armv7")
	aarch64Bin       = flag.String("aarch64", "", "floatprog for //toolchains:aarch64")
	mipsHardfloatBin = flag.String("mips_hardfloat", "", "floatprog for mips with an FPU (the control)")
)

// args are the inputs floatprog computes with.
var (
	x    = 2.5
	n    = 1000
	args = []string{"2.5", "1000"}
)

type target struct {
	name      string
	bin       *string
	machine   elf.Machine
	class     elf.Class
	order     binary.ByteOrder
	softFloat bool     // must not contain FPU instructions
	qemu      []string // qemu-user command and CPU of the device
}

var targets = []target{
	{"mips_24kc", mipsBin, elf.EM_MIPS, elf.ELFCLASS32, binary.BigEndian, true, []string{"qemu-mips-static", "-cpu", "24Kc"}},
	{"mipsel_24kec", mipselBin, elf.EM_MIPS, elf.ELFCLASS32, binary.LittleEndian, true, []string{"qemu-mipsel-static", "-cpu", "24KEc"}},
	{"armv7", armv7Bin, elf.EM_ARM, elf.ELFCLASS32, binary.LittleEndian, false, []string{"qemu-arm-static", "-cpu", "cortex-a7"}},
	{"aarch64", aarch64Bin, elf.EM_AARCH64, elf.ELFCLASS64, binary.LittleEndian, false, []string{"qemu-aarch64-static", "-cpu", "cortex-a53"}},
}

// mipsFPUInstructions counts the MIPS FPU instructions of f with the
// scanner //tools:checksec uses.
func mipsFPUInstructions(t *testing.T, f *elf.File) int {
	t.Helper()
	n, err := elfcheck.MIPSFPUInstructions(f)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func isStatic(f *elf.File) bool {
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			return false
		}
	}
	return true
}

func qemu(t *testing.T, cmd []string) string {
	t.Helper()
	path, err := exec.LookPath(cmd[0])
	if err != nil {
		path = "/usr/bin/" + cmd[0]
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s not found: install Debian's qemu-user-static (./bazelw does)", cmd[0])
		}
	}
	return path
}

func TestELF(t *testing.T) {
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			f, err := elf.Open(runfiles.Path(t, *tc.bin))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Machine != tc.machine || f.Class != tc.class || f.ByteOrder != tc.order {
				t.Errorf("ELF is %v %v %v, want %v %v %v", f.Machine, f.Class, f.ByteOrder, tc.machine, tc.class, tc.order)
			}
			if f.Type != elf.ET_EXEC {
				t.Errorf("ELF type %v, want a static executable (ET_EXEC)", f.Type)
			}
			if !isStatic(f) {
				t.Error("binary is dynamically linked (has PT_INTERP or PT_DYNAMIC)")
			}
			if tc.softFloat {
				if n := mipsFPUInstructions(t, f); n != 0 {
					t.Errorf("soft-float binary contains %d FPU instructions", n)
				}
			}
		})
	}
}

// TestHardFloatControl proves that the FPU check and the 24Kc run can fail:
// the same program built for a mips with an FPU has FPU instructions and
// does not run on a 24Kc.
func TestHardFloatControl(t *testing.T) {
	bin := runfiles.Path(t, *mipsHardfloatBin)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n := mipsFPUInstructions(t, f); n == 0 {
		t.Error("hard-float control contains no FPU instruction: the soft-float check proves nothing")
	}
	cmd := append([]string{}, targets[0].qemu...)
	cmd[0] = qemu(t, cmd)
	out, err := exec.Command(cmd[0], append(append(cmd[1:], bin), args...)...).CombinedOutput()
	if err == nil {
		t.Errorf("hard-float control ran on a 24Kc without an FPU:\n%s", out)
	}
}

func TestRunsUnderQEMU(t *testing.T) {
	want := calc.Report(x, n)
	if !strings.Contains(want, "sqrt(2.5) = 1.581138830084190") {
		t.Fatalf("the native computation gave an unexpected result:\n%s", want)
	}
	for _, tc := range targets {
		t.Run(tc.name, func(t *testing.T) {
			cmd := append([]string{}, tc.qemu...)
			cmd[0] = qemu(t, cmd)
			got, err := exec.Command(cmd[0], append(append(cmd[1:], runfiles.Path(t, *tc.bin)), args...)...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(tc.qemu, " "), err, got)
			}
			if string(got) != want {
				t.Errorf("under %s the output differs from the host's:\ngot:\n%s\nwant:\n%s", strings.Join(tc.qemu, " "), got, want)
			}
		})
	}
}
