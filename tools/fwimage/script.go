package main

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sort"
	"strings"

	"bazwrt/tools/uimage/legacy"
)

// scriptImage wraps a U-Boot script as `mkimage -T script -C none -O linux`
// does: a legacy image whose data is a table of big-endian uint32 lengths
// ended by a 0 (here one entry: the script), then the script. Load and
// entry are 0; U-Boot's source (autoscr before 2008) runs it from
// wherever it was loaded.
func scriptImage(arch, name string, script []byte) ([]byte, error) {
	a, ok := legacy.Arches[arch]
	if !ok {
		return nil, fmt.Errorf("-arch %q: want one of %s", arch, archNames())
	}
	if len(script) == 0 {
		return nil, fmt.Errorf("the script is empty")
	}
	h := legacy.Header{OS: legacy.OSLinux, Arch: a, Type: legacy.TypeScript, Comp: legacy.CompNone}
	if err := h.SetName(name); err != nil {
		return nil, fmt.Errorf("-name: %w", err)
	}
	data := make([]byte, 8, 8+len(script))
	binary.BigEndian.PutUint32(data, uint32(len(script)))
	return legacy.Encode(h, append(data, script...)), nil
}

func archNames() string {
	var names []string
	for n := range legacy.Arches {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func scriptCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("script", stderr)
	arch := fs.String("arch", "", "U-Boot architecture: "+archNames())
	name := fs.String("name", "", "image name, at most 31 bytes")
	out := fs.String("o", "", "write the script image to `file`")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: fwimage script -arch ARCH -name NAME -o OUT.scr SCRIPT.txt")
		fs.PrintDefaults()
	}
	if err := parse(fs, args, 1, "arch", "o"); err != nil {
		return err
	}
	src := fs.Arg(0)
	script, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	img, err := scriptImage(*arch, *name, script)
	if err != nil {
		return fmt.Errorf("%s: %w", src, err)
	}
	if err := os.WriteFile(*out, img, 0o644); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	return nil
}

// flashCheckSize is the RAM the flash script's checks use (see flashScript).
const flashCheckSize = 16

// flashScript is the U-Boot script that writes firmware.bin into the
// firmware partition: download, check, erase, copy, verify, reset.
//
// The download is checked before anything is erased: its size (filesize)
// must be the image's and the CRC32 of that many bytes the image's, both
// known here. A truncated download (a TFTP timeout), a wrong file or a
// corrupted one stops the script with an echo, the flash untouched. Only
// commands of the gl-ar750's stock U-Boot (GL.iNet's 1.1.4 fork, whose
// board953x.h enables the hush parser, cmp, crc32 and mw but neither
// crc32 -v, setexpr nor test; docs/images.md) are used: the numbers are
// compared as memory with cmp, in flashCheckSize bytes of RAM at check:
//
//	check+0  filesize, written with mw.l      check+4  the image's size (mw.l)
//	check+8  crc32 of the download            check+c  the image's CRC32 (mw.b)
//
// crc32 ADDR LEN DEST stores the CRC as a big-endian word (U-Boot 1.1.4
// stores a native 32-bit word, and the gl-ar750 is big-endian; current
// U-Boot stores big-endian bytes), so the expected CRC is written a byte
// at a time in that order. The check words are cleared first: a failed
// download leaves filesize unset (it is cleared before the download), mw.l
// then lacks its value and fails, and the size check sees 0. The CRC is
// over the image's size, not filesize, and only matters once the sizes
// agree; RAM past a short download may still hold an earlier good one,
// which is why the size is checked at all.
//
// The decision is one hush if (hush does not stop a script at a failing
// command; the simple parser does not know if, so the script needs hush,
// which the stock U-Boot has: its own lf command uses if and &&). The
// erase, copy, read-back cmp and reset are chained with && so that each
// runs only if the one before succeeded; the script does not reset after
// a failure, so that its message stays on the console.
//
// It erases the whole partition rather than the image's size: the range
// then comes from the device's facts alone and can never reach past the
// partition (on many boards the radio calibration follows it, and it has
// no backup), and no stale blocks of an earlier, bigger image stay behind
// the squashfs.
func flashScript(file string, size int, crc uint32, load, check, flashAddr, partition uint64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "echo bazwrt: writing %s, %d bytes, CRC32 %08x, to the firmware partition at %#x, %#x bytes\n", file, size, crc, flashAddr, partition)
	fmt.Fprintf(&b, "setenv filesize\n")
	fmt.Fprintf(&b, "tftpboot %#x %s\n", load, file)
	fmt.Fprintf(&b, "mw.l %#x 0 4\n", check)
	fmt.Fprintf(&b, "mw.l %#x ${filesize}\n", check)
	fmt.Fprintf(&b, "mw.l %#x %#x\n", check+4, size)
	fmt.Fprintf(&b, "crc32 %#x %#x %#x\n", load, size, check+8)
	for i := 0; i < 4; i++ {
		fmt.Fprintf(&b, "mw.b %#x %#02x\n", check+12+uint64(i), byte(crc>>(24-8*i)))
	}
	fmt.Fprintf(&b, "if cmp.l %#x %#x 1; then if cmp.b %#x %#x 4; then "+
		"erase %#x +%#x && cp.b %#x %#x %#x && cmp.b %#x %#x %#x && reset; "+
		"else echo bazwrt: %s has the wrong CRC32, want %08x: nothing was erased; fi; "+
		"else echo bazwrt: %s was not downloaded whole, want %d bytes: nothing was erased; fi\n",
		check, check+4, check+8, check+12,
		flashAddr, partition, load, flashAddr, size, load, flashAddr, size,
		file, crc, file, size)
	return b.String()
}

func flashScriptCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("flash-script", stderr)
	arch := fs.String("arch", "", "U-Boot architecture: "+archNames())
	ramStart := numFlag(fs, "ram-start", 0, "physical address of the start of RAM")
	ramSize := numFlag(fs, "ram-size", 0, "size of RAM in bytes")
	flashAddr := numFlag(fs, "flash-address", 0, "U-Boot's address of the firmware partition in the flash window")
	partition := numFlag(fs, "partition-size", 0, "size of the firmware partition in bytes")
	imagePath := fs.String("image", "", "the image `file` (firmware.bin): the script checks the download against its size and CRC32")
	file := fs.String("file", "firmware.bin", "name of the image on the TFTP server")
	load := numFlag(fs, "load", 0, "U-Boot address to download the image to (default: RAM start + 17 MiB, after the script)")
	reserve := numFlag(fs, "bootloader-reserve", defaultBootloaderReserve, "bytes at the top of RAM that U-Boot uses and downloads must not touch")
	name := fs.String("name", "bazwrt flash", "image name, at most 31 bytes")
	out := fs.String("o", "", "write the script image to `file`")
	if err := parse(fs, args, 0, "arch", "ram-size", "flash-address", "partition-size", "image", "o"); err != nil {
		return err
	}
	image, err := readInput("image", *imagePath)
	if err != nil {
		return err
	}
	if uint64(len(image)) > *partition {
		return fmt.Errorf("-image %s is %d bytes, more than the -partition-size %#x", *imagePath, len(image), *partition)
	}
	m, err := newRAM(*arch, *ramStart, *ramSize, *reserve)
	if err != nil {
		return err
	}
	loadPhys := m.dataPhys()
	if isSet(fs, "load") {
		if loadPhys, err = m.phys("load", *load); err != nil {
			return err
		}
	}
	if err := m.check([]region{
		{"flash.scr (source address)", m.scriptPhys(), scriptSlot},
		{"-file " + *file, loadPhys, *partition},
		{"the checks of the download", loadPhys + *partition, flashCheckSize},
	}); err != nil {
		return err
	}
	script := flashScript(*file, len(image), crc32.ChecksumIEEE(image), m.uboot(loadPhys), m.uboot(loadPhys+*partition), *flashAddr, *partition)
	img, err := scriptImage(*arch, *name, []byte(script))
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, img, 0o644); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	return nil
}
