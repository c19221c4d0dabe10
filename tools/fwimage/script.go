package main

import (
	"encoding/binary"
	"fmt"
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

// flashScript is the U-Boot script that writes firmware.bin into the
// firmware partition: download, erase, copy, reset. One command a line,
// no comments and no && so that it runs under both of U-Boot's parsers
// (Atheros' U-Boot 1.1.4 may lack hush); the simple parser's autoscr stops
// at the first failing line.
//
// It erases the whole partition rather than the image's size: the range
// then comes from the device's facts alone and can never reach past the
// partition (on many boards the radio calibration follows it, and it has
// no backup), and no stale blocks of an earlier, bigger image stay behind
// the squashfs. filesize is cleared first so that, if the download fails
// under hush (which does not stop), cp.b has no size and copies nothing.
func flashScript(file string, load, flashAddr, partition uint64) string {
	return fmt.Sprintf(`echo bazwrt: writing %[1]s to the firmware partition at %#[3]x, %#[4]x bytes
setenv filesize
tftpboot %#[2]x %[1]s
erase %#[3]x +%#[4]x
cp.b %#[2]x %#[3]x ${filesize}
reset
`, file, load, flashAddr, partition)
}

func flashScriptCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("flash-script", stderr)
	arch := fs.String("arch", "", "U-Boot architecture: "+archNames())
	ramStart := numFlag(fs, "ram-start", 0, "physical address of the start of RAM")
	ramSize := numFlag(fs, "ram-size", 0, "size of RAM in bytes")
	flashAddr := numFlag(fs, "flash-address", 0, "U-Boot's address of the firmware partition in the flash window")
	partition := numFlag(fs, "partition-size", 0, "size of the firmware partition in bytes")
	file := fs.String("file", "firmware.bin", "name of the image on the TFTP server")
	load := numFlag(fs, "load", 0, "U-Boot address to download the image to (default: RAM start + 17 MiB, after the script)")
	reserve := numFlag(fs, "bootloader-reserve", defaultBootloaderReserve, "bytes at the top of RAM that U-Boot uses and downloads must not touch")
	name := fs.String("name", "bazwrt flash", "image name, at most 31 bytes")
	out := fs.String("o", "", "write the script image to `file`")
	if err := parse(fs, args, 0, "arch", "ram-size", "flash-address", "partition-size", "o"); err != nil {
		return err
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
	}); err != nil {
		return err
	}
	script := flashScript(*file, m.uboot(loadPhys), *flashAddr, *partition)
	img, err := scriptImage(*arch, *name, []byte(script))
	if err != nil {
		return err
	}
	if err := os.WriteFile(*out, img, 0o644); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	return nil
}
