package main

import (
	"fmt"

	"bazwrt/tools/uimage/legacy"
)

// Where U-Boot scripts put things in RAM. The scripts are loaded at RAM
// start + 16 MiB: above any kernel these devices boot (the gl-ar750's
// occupies 0x60000 to about 7.4 MiB once decompressed, with its .bss),
// and low enough for a 32 MiB board. What a script downloads goes 1 MiB
// higher, so that a download never overwrites the script it runs from
// (U-Boot copies it first, but nothing needs to rely on that).
const (
	scriptOffset = 16 << 20
	scriptSlot   = 1 << 20
)

// defaultBootloaderReserve is the top of RAM left to the boot loader.
// U-Boot relocates itself to the end of RAM with its malloc area and stack
// below it (TI's U-Boot notes advise leaving about 1 MiB); a download there
// would overwrite the running U-Boot. How much the gl-ar750's U-Boot 1.1.4
// takes has not been measured: `bdinfo` or its start-up log would say.
const defaultBootloaderReserve = 1 << 20

// kseg0 is where MIPS maps the first 512 MiB of physical memory, cached:
// U-Boot on MIPS takes and prints addresses in KSEG0.
const (
	kseg0     = 0x80000000
	kseg0Size = 512 << 20
)

// ram is a device's RAM and the addresses U-Boot uses for it.
type ram struct {
	arch                 string
	start, size, reserve uint64 // physical
	offset               uint64 // U-Boot address - physical address
}

func newRAM(arch string, start, size, reserve uint64) (ram, error) {
	m := ram{arch: arch, start: start, size: size, reserve: reserve}
	switch _, ok := legacy.Arches[arch]; {
	case !ok:
		return m, fmt.Errorf("-arch %q: want one of %s", arch, archNames())
	case size == 0:
		return m, fmt.Errorf("-ram-size is 0, want the size of RAM such as 0x8000000")
	case reserve >= size:
		return m, fmt.Errorf("-bootloader-reserve %#x leaves nothing of -ram-size %#x", reserve, size)
	}
	if arch == "mips" {
		m.offset = kseg0
		if start+size > kseg0Size {
			return m, fmt.Errorf("-ram-start %#x -ram-size %#x: RAM ends above the %d MiB that KSEG0 maps, and U-Boot on mips addresses RAM through KSEG0", start, size, kseg0Size>>20)
		}
	} else if start+size > 1<<32 {
		return m, fmt.Errorf("-ram-start %#x -ram-size %#x: RAM ends above 4 GiB; uImage addresses are 32-bit", start, size)
	}
	return m, nil
}

func (m ram) end() uint64 { return m.start + m.size }

// uboot is the U-Boot address of a physical address.
func (m ram) uboot(phys uint64) uint64 { return phys + m.offset }

// phys is the physical address of a U-Boot address given as -opt.
func (m ram) phys(opt string, addr uint64) (uint64, error) {
	if m.arch == "mips" && (addr < kseg0 || addr >= kseg0+kseg0Size) {
		return 0, fmt.Errorf("-%s %#x is not a KSEG0 address (%#x + physical), which U-Boot and the kernel use on mips", opt, addr, kseg0)
	}
	return addr - m.offset, nil
}

func (m ram) scriptPhys() uint64 { return m.start + scriptOffset }
func (m ram) dataPhys() uint64   { return m.scriptPhys() + scriptSlot }

// region is a range of physical memory something occupies.
type region struct {
	name        string
	start, size uint64
}

func (r region) end() uint64 { return r.start + r.size }

func (m ram) describe(r region) string {
	return fmt.Sprintf("%s [%#x, %#x) (U-Boot %#x)", r.name, r.start, r.end(), m.uboot(r.start))
}

// check fails if a region lies outside RAM or overlaps another one or the
// boot loader's part of RAM.
func (m ram) check(regions []region) error {
	if m.reserve > 0 {
		regions = append(regions, region{"the boot loader (-bootloader-reserve)", m.end() - m.reserve, m.reserve})
	}
	for i, r := range regions {
		if r.start < m.start || r.end() > m.end() || r.end() < r.start {
			return fmt.Errorf("%s is outside RAM [%#x, %#x) (-ram-start %#x, -ram-size %#x)", m.describe(r), m.start, m.end(), m.start, m.size)
		}
		for _, o := range regions[:i] {
			if r.start < o.end() && o.start < r.end() {
				return fmt.Errorf("%s overlaps %s", m.describe(o), m.describe(r))
			}
		}
	}
	return nil
}
