package vm

import (
	"fmt"
)

// EraseSize is the erase block of the phram device that holds the root
// filesystem. phram rejects a size that is not a multiple of it, so the
// rootfs is padded to it; 64 KiB is the erase block of the NOR flash the
// real devices have, so the same squashfs works in both.
const EraseSize = 64 << 10

// Phram is where the root filesystem lies in physical memory.
type Phram struct {
	Addr uint64 // physical address, a multiple of EraseSize
	Size uint64 // the file's size rounded up to EraseSize
}

// NewPhram describes a root filesystem of fileSize bytes loaded at addr.
func NewPhram(addr uint64, fileSize int64) (Phram, error) {
	if fileSize <= 0 {
		return Phram{}, fmt.Errorf("root filesystem is empty")
	}
	if addr%EraseSize != 0 {
		return Phram{}, fmt.Errorf("phram address %#x is not a multiple of the erase size %#x", addr, EraseSize)
	}
	return Phram{Addr: addr, Size: alignUp(uint64(fileSize), EraseSize)}, nil
}

// KernelArgs are the kernel command-line arguments that make the root
// filesystem at p the root device. This is the one place the convention is
// spelled out (docs/vm.md); the VM, the tftpboot output and U-Boot scripts
// all use it, with hexadecimal numbers because U-Boot's $filesize is hex:
//
//	phram.phram=phram0,ADDR,SIZE,ERASE mtdparts=phram0:SIZE(rootfs)
//	root=/dev/mtdblock0 ro rootfstype=squashfs
//
// phram0 is the whole region, its one partition "rootfs" becomes mtd0.
func (p Phram) KernelArgs() []string {
	return []string{
		fmt.Sprintf("phram.phram=phram0,%#x,%#x,%#x", p.Addr, p.Size, EraseSize),
		fmt.Sprintf("mtdparts=phram0:%#x(rootfs)", p.Size),
		"root=/dev/mtdblock0",
		"ro",
		"rootfstype=squashfs",
	}
}

// PlaceRootfs puts a root filesystem of fileSize bytes at the top of the RAM
// window [low, ramBase+ramSize), as far from the kernel (loaded near the
// bottom of RAM) as possible. RAM below low is the kernel's (see MemArg),
// and holds what QEMU loads besides, such as a device tree.
func PlaceRootfs(ramBase, ramSize, low uint64, fileSize int64) (Phram, error) {
	if fileSize <= 0 {
		return Phram{}, fmt.Errorf("root filesystem is empty")
	}
	size := alignUp(uint64(fileSize), EraseSize)
	top := alignDown(ramBase+ramSize, EraseSize)
	if low < ramBase || top < low || size > top-low {
		return Phram{}, fmt.Errorf("root filesystem of %d bytes does not fit between %#x and the end of %d MiB of RAM at %#x; raise --memory", fileSize, low, ramSize>>20, top)
	}
	return NewPhram(top-size, fileSize)
}

// MemArg limits the kernel to the RAM below the root filesystem, so that it
// does not hand out the pages phram reads from. A QEMU machine has no device
// tree we could add a /reserved-memory node to (as tftpboot does), and mem=
// works the same on mips, arm and arm64: the first SIZE bytes from ramBase.
func MemArg(ramBase uint64, p Phram) string {
	return fmt.Sprintf("mem=%#x", p.Addr-ramBase)
}

func alignUp(n, a uint64) uint64   { return (n + a - 1) / a * a }
func alignDown(n, a uint64) uint64 { return n / a * a }
