// Package elfcheck reads what a target binary is (machine, byte order, float
// ABI, linking) and which hardening it has (PIE, RELRO, BIND_NOW,
// non-executable stack, stack canary, fortified calls), and checks that
// against a policy. It uses only debug/elf, so it works on any host for
// any target.
package elfcheck

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Float ABIs as Report.FloatABI gives them.
const (
	FloatSoft    = "soft"    // floating point in software: no FPU instruction allowed
	FloatHard    = "hard"    // floating point in FPU registers
	FloatNone    = "none"    // the file says it does not use floating point
	FloatUnknown = "unknown" // the file does not say
)

// Report is what Inspect found in one ELF file.
type Report struct {
	Machine   elf.Machine
	Class     elf.Class
	ByteOrder binary.ByteOrder
	FloatABI  string
	Static    bool // no program interpreter and no shared library needed
	PIE       bool // position independent executable (static-pie included)
	RELRO     bool // has a PT_GNU_RELRO segment
	BindNow   bool // all relocations done at start (or none to do: no dynamic section)
	NXStack   bool // PT_GNU_STACK without the execute bit
	Canary    bool // references the stack protector (__stack_chk_fail or __stack_chk_guard)
	Fortified []string
	// FPUInstructions counts the MIPS FPU instructions in the executable
	// sections; always 0 on other machines.
	FPUInstructions int
}

// Endian names a byte order the way the policy flags do.
func Endian(o binary.ByteOrder) string {
	if o == binary.BigEndian {
		return "big"
	}
	return "little"
}

// Inspect reads the report of the ELF file ra.
func Inspect(ra io.ReaderAt) (*Report, error) {
	f, err := elf.NewFile(ra)
	if err != nil {
		return nil, err
	}
	flags, err := headerFlags(ra, f)
	if err != nil {
		return nil, err
	}
	r := &Report{Machine: f.Machine, Class: f.Class, ByteOrder: f.ByteOrder}
	var interp, dynamic, gnuStack bool
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP:
			interp = true
		case elf.PT_DYNAMIC:
			dynamic = true
		case elf.PT_GNU_RELRO:
			r.RELRO = true
		case elf.PT_GNU_STACK:
			gnuStack = true
			r.NXStack = p.Flags&elf.PF_X == 0
		}
	}
	if !gnuStack {
		// Without PT_GNU_STACK the kernel gives an executable stack.
		r.NXStack = false
	}
	var needed []string
	var dtFlags, flags1 uint64
	var bindNowTag bool
	if dynamic {
		var err error
		if needed, err = f.DynString(elf.DT_NEEDED); err != nil {
			return nil, fmt.Errorf("dynamic section: %w", err)
		}
		dtFlags, _ = dynValue(f, elf.DT_FLAGS)
		flags1, _ = dynValue(f, elf.DT_FLAGS_1)
		_, bindNowTag = dynValue(f, elf.DT_BIND_NOW)
	}
	r.Static = !interp && len(needed) == 0
	r.PIE = f.Type == elf.ET_DYN && (interp || flags1&uint64(elf.DF_1_PIE) != 0)
	r.BindNow = !dynamic || bindNowTag || dtFlags&uint64(elf.DF_BIND_NOW) != 0 || flags1&uint64(elf.DF_1_NOW) != 0

	syms, _ := f.Symbols() // a stripped file has none: no canary, nothing fortified seen
	dsyms, _ := f.DynamicSymbols()
	seen := map[string]bool{}
	for _, s := range append(syms, dsyms...) {
		switch {
		case s.Name == "__stack_chk_fail" || s.Name == "__stack_chk_guard":
			r.Canary = true
		case strings.HasPrefix(s.Name, "__") && strings.HasSuffix(s.Name, "_chk") && !seen[s.Name]:
			seen[s.Name] = true
			r.Fortified = append(r.Fortified, s.Name)
		}
	}
	sort.Strings(r.Fortified)

	if r.FloatABI, err = floatABI(f, flags); err != nil {
		return nil, err
	}
	if f.Machine == elf.EM_MIPS {
		if r.FPUInstructions, err = MIPSFPUInstructions(f); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// headerFlags reads e_flags, which debug/elf does not give.
func headerFlags(ra io.ReaderAt, f *elf.File) (uint32, error) {
	off := int64(36) // in Elf32_Ehdr
	if f.Class == elf.ELFCLASS64 {
		off = 48
	}
	b := make([]byte, 4)
	if _, err := ra.ReadAt(b, off); err != nil {
		return 0, fmt.Errorf("reading e_flags: %w", err)
	}
	return f.ByteOrder.Uint32(b), nil
}

// dynValue returns the value of the first dynamic entry with the tag.
func dynValue(f *elf.File, tag elf.DynTag) (uint64, bool) {
	vals, err := f.DynValue(tag)
	if err != nil || len(vals) == 0 {
		return 0, false
	}
	return vals[0], true
}

// floatABI reads the float ABI from where each machine records it.
func floatABI(f *elf.File, flags uint32) (string, error) {
	switch f.Machine {
	case elf.EM_AARCH64:
		return FloatHard, nil // AArch64 has no soft-float ABI
	case elf.EM_ARM:
		switch {
		case flags&0x400 != 0: // EF_ARM_ABI_FLOAT_HARD
			return FloatHard, nil
		case flags&0x200 != 0: // EF_ARM_ABI_FLOAT_SOFT
			return FloatSoft, nil
		}
		return FloatUnknown, nil
	case elf.EM_MIPS:
		return mipsFloatABI(f)
	}
	return FloatUnknown, nil
}

// mipsFloatABI reads fp_abi from .MIPS.abiflags, which the linker keeps in
// every executable (it is a PT_MIPS_ABIFLAGS segment, strip keeps it), or
// else Tag_GNU_MIPS_ABI_FP from .gnu.attributes.
func mipsFloatABI(f *elf.File) (string, error) {
	var fp byte
	if s := f.Section(".MIPS.abiflags"); s != nil {
		b, err := s.Data()
		if err != nil {
			return "", err
		}
		if len(b) < 8 {
			return "", errors.New(".MIPS.abiflags too short")
		}
		fp = b[7]
	} else if s := f.Section(".gnu.attributes"); s != nil {
		b, err := s.Data()
		if err != nil {
			return "", err
		}
		v, ok := gnuAttribute(b, f.ByteOrder, 4) // Tag_GNU_MIPS_ABI_FP
		if !ok {
			return FloatUnknown, nil
		}
		fp = v
	} else {
		return FloatUnknown, nil
	}
	switch fp {
	case 0:
		return FloatNone, nil
	case 3:
		return FloatSoft, nil
	default: // double, single, old 64, xx, 64, 64a: all in FPU registers
		return FloatHard, nil
	}
}

// gnuAttribute finds a small integer tag of the file scope of the "gnu"
// vendor in an ELF attributes section (format 'A').
func gnuAttribute(b []byte, order binary.ByteOrder, tag byte) (byte, bool) {
	if len(b) < 1 || b[0] != 'A' {
		return 0, false
	}
	b = b[1:]
	for len(b) >= 4 {
		n := int(order.Uint32(b))
		if n < 4 || n > len(b) {
			return 0, false
		}
		sub := b[4:n]
		b = b[n:]
		i := strings.IndexByte(string(sub), 0)
		if i < 0 || string(sub[:i]) != "gnu" {
			continue
		}
		sub = sub[i+1:]
		// Sub-subsections: tag byte, uint32 size, attributes.
		for len(sub) >= 5 {
			size := int(order.Uint32(sub[1:]))
			if size < 5 || size > len(sub) {
				return 0, false
			}
			if sub[0] == 1 { // Tag_File
				attrs := sub[5:size]
				for len(attrs) >= 2 {
					// Small tags and values are single-byte ULEB128s.
					if attrs[0] == tag {
						return attrs[1], true
					}
					attrs = attrs[2:]
				}
			}
			sub = sub[size:]
		}
	}
	return 0, false
}

// MIPSFPUInstructions counts the words of f's executable sections whose
// major opcode is a coprocessor-1 (FPU) instruction: COP1, COP1X and the FPU
// loads and stores. The 24Kc has no FPU: any of them traps. It works on
// executables and on relocatable objects (relocations never change the
// major opcode).
func MIPSFPUInstructions(f *elf.File) (int, error) {
	n := 0
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		code, err := s.Data()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", s.Name, err)
		}
		for i := 0; i+4 <= len(code); i += 4 {
			switch f.ByteOrder.Uint32(code[i:]) >> 26 {
			case 0x11, 0x13, 0x31, 0x35, 0x39, 0x3d: // COP1, COP1X, LWC1, LDC1, SWC1, SDC1
				n++
			}
		}
	}
	return n, nil
}

// Policy is what every binary of a platform must be and have.
type Policy struct {
	Machine   elf.Machine
	ByteOrder binary.ByteOrder
	// FloatABI is soft or hard. Soft also requires no FPU instruction; a
	// file that says it uses no floating point (none) passes both.
	FloatABI string
	Static   bool
	PIE      bool
	RELRO    bool
	BindNow  bool
	NXStack  bool
	Canary   bool
	Fortify  bool
}

// Check returns what r misses of p, empty when nothing.
func (p Policy) Check(r *Report) []string {
	var miss []string
	if p.Machine != elf.EM_NONE && r.Machine != p.Machine {
		miss = append(miss, fmt.Sprintf("machine %v, want %v", r.Machine, p.Machine))
	}
	if p.ByteOrder != nil && r.ByteOrder != p.ByteOrder {
		miss = append(miss, fmt.Sprintf("%s-endian, want %s-endian", Endian(r.ByteOrder), Endian(p.ByteOrder)))
	}
	if p.FloatABI != "" && r.FloatABI != p.FloatABI && r.FloatABI != FloatNone {
		miss = append(miss, fmt.Sprintf("float ABI %s, want %s", r.FloatABI, p.FloatABI))
	}
	if p.FloatABI == FloatSoft && r.FPUInstructions > 0 {
		miss = append(miss, fmt.Sprintf("%d FPU instructions in a soft-float file", r.FPUInstructions))
	}
	for _, c := range []struct {
		want, have bool
		what       string
	}{
		{p.Static, r.Static, "not static"},
		{p.PIE, r.PIE, "not PIE"},
		{p.RELRO, r.RELRO, "no RELRO"},
		{p.BindNow, r.BindNow, "no BIND_NOW"},
		{p.NXStack, r.NXStack, "executable stack"},
		{p.Canary, r.Canary, "no stack canary"},
		{p.Fortify, len(r.Fortified) > 0, "no fortified calls"},
	} {
		if c.want && !c.have {
			miss = append(miss, c.what)
		}
	}
	return miss
}

// Files lists the ELF files among paths, walking directories. Symbolic links
// are followed (Bazel's runfiles are links to the files), but a link whose
// target has another name than the link is left out: busybox's applet links
// would repeat busybox.
func Files(paths []string) ([]string, error) {
	var files []string
	seen := map[string]bool{}
	for _, root := range paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			real, err := filepath.EvalSymlinks(path)
			if err != nil {
				return err
			}
			fi, err := os.Stat(real)
			if err != nil {
				return err
			}
			if fi.IsDir() {
				// A link to a directory (a tree in the runfiles): walk it.
				sub, err := Files([]string{real})
				if err != nil {
					return err
				}
				for _, f := range sub {
					rel, _ := filepath.Rel(real, f)
					files = append(files, filepath.Join(path, rel))
				}
				return nil
			}
			if !fi.Mode().IsRegular() || filepath.Base(real) != filepath.Base(path) || seen[real] {
				return nil
			}
			if isELF, err := hasELFMagic(real); err != nil || !isELF {
				return err
			}
			seen[real] = true
			files = append(files, path)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

func hasELFMagic(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := io.ReadFull(f, magic); err != nil {
		return false, nil // shorter than a magic number: not ELF
	}
	return string(magic) == elf.ELFMAG, nil
}
