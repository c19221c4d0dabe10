// Package tests_test checks what flash_image and tftpboot_image make of the
// gl-ar750's kernel and root filesystem (//devices/gl-ar750), against the
// device's facts: the layout of firmware.bin, the flash script, the size
// report, and the RAM-boot directory (patched DTB, uImage, boot.scr).
package tests_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/tests/runfiles"
	"bazwrt/tests/ubootscript"
	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
)

var (
	deviceFile   = flag.String("device", "", "device.json of //devices/gl-ar750:device")
	uimageFile   = flag.String("uimage", "", "//devices/gl-ar750:uimage")
	imageFile    = flag.String("image", "", "vmlinux.bin of //devices/gl-ar750:kernel")
	dtbFile      = flag.String("dtb", "", "gl-ar750.dtb of //devices/gl-ar750:kernel")
	rootfsFile   = flag.String("rootfs", "", "the root filesystem (squashfs)")
	manifestFile = flag.String("manifest", "", "its manifest")
	firmwareFile = flag.String("firmware", "", "firmware.bin of :flash (the other outputs are next to it)")
	tftpbootDir  = flag.String("tftpboot", "", "the :tftpboot directory")
	fwimage      = flag.String("fwimage", "", "//tools:fwimage")
)

// device is the part of device.json the images depend on.
type device struct {
	Name                string `json:"name"`
	UImageArch          string `json:"uimage_arch"`
	LoadAddress         uint32 `json:"load_address"`
	EntryAddress        uint32 `json:"entry_address"`
	FlashAddress        uint64 `json:"flash_address"`
	FlashSize           int    `json:"flash_size"`
	EraseBlock          int    `json:"erase_block"`
	KernelPartitionSize int    `json:"kernel_partition_size"`
	RAMStart            uint64 `json:"ram_start"`
	RAMSize             uint64 `json:"ram_size"`
	Console             string `json:"console"`
	AppendDTB           bool   `json:"append_dtb"`
}

func facts(t *testing.T) device {
	t.Helper()
	var d device
	if err := json.Unmarshal(runfiles.Read(t, *deviceFile), &d); err != nil {
		t.Fatalf("%s: %v", *deviceFile, err)
	}
	if d.UImageArch != "mips" {
		t.Fatalf("%s: uimage_arch %q; this test knows the U-Boot addresses of mips (KSEG0)", *deviceFile, d.UImageArch)
	}
	if d.KernelPartitionSize == 0 || d.RAMSize == 0 {
		t.Fatalf("%s lacks kernel_partition_size or ram_size: %+v", *deviceFile, d)
	}
	return d
}

// board is what the U-Boot script checks need of the facts; U-Boot keeps
// the top megabyte (fwimage's -bootloader-reserve default).
func board(d device) ubootscript.Board {
	return ubootscript.Board{RAMStart: d.RAMStart, RAMSize: d.RAMSize, KSEG0: true, BootloaderReserve: 1 << 20}
}

func alignUp(n, a int) int { return (n + a - 1) / a * a }

func isErased(b []byte) bool { return bytes.Count(b, []byte{0xff}) == len(b) }

// script returns the text of a U-Boot script image, after checking it with
// Go and with U-Boot's dumpimage.
func script(t *testing.T, path string) string {
	t.Helper()
	img, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h, data, err := legacy.Decode(img)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if h.Type != 6 || h.Comp != legacy.CompNone || h.Arch != legacy.ArchMIPS || h.Time != 0 {
		t.Errorf("%s: header %+v, want a mips script image (type 6), uncompressed, time 0", path, h)
	}
	if _, err := exec.LookPath("dumpimage"); err != nil {
		t.Fatal("dumpimage not found: install Debian's u-boot-tools")
	}
	out, err := exec.Command("dumpimage", "-l", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Image Type:   MIPS Linux Script (uncompressed)") {
		t.Errorf("dumpimage -l %s: %v\n%s", path, err, out)
	}
	if n := binary.BigEndian.Uint32(data); int(n) != len(data)-8 || binary.BigEndian.Uint32(data[4:]) != 0 {
		t.Fatalf("%s: length table % x for %d bytes", path, data[:8], len(data)-8)
	}
	return string(data[8:])
}

func dts(t *testing.T, dtb string) string {
	t.Helper()
	if _, err := exec.LookPath("dtc"); err != nil {
		t.Fatal("dtc not found: install Debian's device-tree-compiler")
	}
	out, err := exec.Command("dtc", "-q", "-I", "dtb", "-O", "dts", dtb).Output()
	if err != nil {
		t.Fatalf("dtc %s: %v", dtb, err)
	}
	return string(out)
}

func TestFlashImage(t *testing.T) {
	d := facts(t)
	img := runfiles.Read(t, *firmwareFile)
	uimage := runfiles.Read(t, *uimageFile)
	rootfs := runfiles.Read(t, *rootfsFile)
	kp := d.KernelPartitionSize

	if want := alignUp(kp+len(rootfs), d.EraseBlock); len(img) != want {
		t.Errorf("firmware.bin is %d bytes, want %d (kernel partition %#x + rootfs, in erase blocks)", len(img), want, kp)
	}
	if _, _, err := legacy.Decode(img); err != nil {
		t.Errorf("firmware.bin does not start with a valid uImage: %v", err)
	}
	if !bytes.Equal(img[:len(uimage)], uimage) || !isErased(img[len(uimage):kp]) {
		t.Errorf("firmware.bin: want the uImage, then 0xff up to %#x", kp)
	}
	if got := string(img[kp : kp+4]); got != "hsqs" {
		t.Errorf("at %#x: %q, want the squashfs magic", kp, got)
	}
	if !bytes.Equal(img[kp:kp+len(rootfs)], rootfs) || !isErased(img[kp+len(rootfs):]) {
		t.Error("firmware.bin: want the rootfs at the kernel partition's end, then 0xff")
	}

	// No test runs flash.scr in a U-Boot: check what makes it work on this
	// board instead of its text. It is run from RAM start + 16 MiB
	// (docs/images.md).
	dir := filepath.Dir(runfiles.Path(t, *firmwareFile))
	if err := ubootscript.CheckFlash(board(d), dir, script(t, filepath.Join(dir, "flash.scr")),
		0x80000000+d.RAMStart+16<<20, d.FlashAddress, uint64(d.FlashSize)); err != nil {
		t.Error(err)
	}

	report, err := os.ReadFile(filepath.Join(dir, "size.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		fmt.Sprintf("kernel      %10d bytes", len(uimage)),
		fmt.Sprintf("rootfs      %10d bytes", len(rootfs)),
		fmt.Sprintf("free        %10d bytes", d.FlashSize-len(img)),
		biggest(t, "origin"),
		biggest(t, "path"),
	} {
		if !strings.Contains(string(report), w) {
			t.Errorf("size.txt lacks %q:\n%s", w, report)
		}
	}
	manifest, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil || !bytes.Equal(manifest, runfiles.Read(t, *manifestFile)) {
		t.Errorf("manifest.json is not the rootfs manifest (%v)", err)
	}
}

// biggest is the largest origin (summed) or file of the manifest, which the
// size report must name.
func biggest(t *testing.T, by string) string {
	var entries []struct {
		Path, Type, Origin string
		Size               int
	}
	if err := json.Unmarshal(runfiles.Read(t, *manifestFile), &entries); err != nil {
		t.Fatal(err)
	}
	sums := map[string]int{}
	for _, e := range entries {
		if e.Type == "file" {
			if by == "origin" {
				sums[e.Origin] += e.Size
			} else {
				sums[e.Path] = e.Size
			}
		}
	}
	best := ""
	for k, v := range sums {
		if best == "" || v > sums[best] || v == sums[best] && k < best {
			best = k
		}
	}
	return fmt.Sprintf("%d  %s", sums[best], best)
}

// An image that does not fit fails, naming the sizes and the biggest
// packages and files: the real kernel and root filesystem against a
// partition one erase block too small.
func TestFlashOverflow(t *testing.T) {
	d := facts(t)
	img := runfiles.Read(t, *firmwareFile)
	small := len(img) - d.EraseBlock
	out, err := exec.Command(runfiles.Path(t, *fwimage), "flash",
		"-kernel", runfiles.Path(t, *uimageFile),
		"-rootfs", runfiles.Path(t, *rootfsFile),
		"-manifest", runfiles.Path(t, *manifestFile),
		"-erase-block", fmt.Sprint(d.EraseBlock),
		"-kernel-size", fmt.Sprint(d.KernelPartitionSize),
		"-partition-size", fmt.Sprint(small),
		"-o", filepath.Join(t.TempDir(), "firmware.bin")).CombinedOutput()
	if err == nil {
		t.Fatalf("fwimage flash into %d bytes succeeded; want an overflow error", small)
	}
	for _, w := range []string{fmt.Sprintf("%d bytes", len(img)), fmt.Sprintf("%#x", small), biggest(t, "origin"), biggest(t, "path")} {
		if !strings.Contains(string(out), w) {
			t.Errorf("overflow error lacks %q:\n%s", w, out)
		}
	}
}

func TestTftpbootImage(t *testing.T) {
	d := facts(t)
	dir := runfiles.Path(t, *tftpbootDir)
	rootfs := runfiles.Read(t, *rootfsFile)
	dtbName := filepath.Base(*dtbFile)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"README.txt", "boot.scr", dtbName, "rootfs.squashfs", "uImage"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	// The rootfs below the top megabyte (U-Boot's), in erase blocks.
	size := uint64(alignUp(len(rootfs), d.EraseBlock))
	top := (d.RAMStart + d.RAMSize - 1<<20) / uint64(d.EraseBlock) * uint64(d.EraseBlock)
	addr := top - size
	bootargs := fmt.Sprintf("console=%s phram.phram=phram0,%#x,%#x,0x10000 mtdparts=phram0:%#x(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs", d.Console, addr, size, size)

	dtbPath := filepath.Join(dir, dtbName)
	dtb, err := os.ReadFile(dtbPath)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := fdt.Decode(dtb)
	if err != nil {
		t.Fatal(err)
	}
	rm, err := tree.Find("/reserved-memory")
	if err != nil {
		t.Fatal(err)
	}
	ph, err := tree.Find(fmt.Sprintf("/reserved-memory/phram-rootfs@%x", addr))
	if err != nil {
		t.Fatal(err)
	}
	if reg, err := ph.Reg(rm); err != nil || len(reg) != 1 || reg[0] != (fdt.Region{Address: addr, Size: size}) {
		t.Errorf("phram-rootfs reg = %v, %v; want <%#x %#x>", reg, err, addr, size)
	}
	if _, ok := ph.Prop("no-map"); !ok {
		t.Error("phram-rootfs has no no-map")
	}
	chosen, _ := tree.Find("/chosen")
	if got, _ := chosen.StringValue("bootargs"); got != bootargs {
		t.Errorf("bootargs = %q, want %q", got, bootargs)
	}
	text := dts(t, dtbPath)
	for _, w := range []string{fmt.Sprintf("bootargs = %q;", bootargs), fmt.Sprintf("reg = <%#x %#x>;\n\t\t\tno-map;", addr, size), "ranges;"} {
		if !strings.Contains(text, w) {
			t.Errorf("dtc -O dts of %s lacks %q", dtbName, w)
		}
	}
	// Nothing else changed: without the reserved-memory node and with the
	// DTS's bootargs, it is the kernel's DTB again, byte for byte.
	orig := runfiles.Read(t, *dtbFile)
	otree, err := fdt.Decode(orig)
	if err != nil {
		t.Fatal(err)
	}
	ochosen, _ := otree.Find("/chosen")
	obootargs, _ := ochosen.Prop("bootargs")
	chosen.SetProp("bootargs", obootargs)
	tree.Root.Children = tree.Root.Children[:len(tree.Root.Children)-1]
	if !bytes.Equal(tree.Encode(), orig) {
		t.Errorf("%s differs from the kernel's in more than /reserved-memory and bootargs", dtbName)
	}

	h, payload, err := legacy.Decode(runfiles.Read(t, filepath.Join(*tftpbootDir, "uImage")))
	if err != nil {
		t.Fatal(err)
	}
	if h.Load != d.LoadAddress || h.Entry != d.EntryAddress || h.Type != legacy.TypeKernel || h.Comp != legacy.CompLZMA || h.Time != 0 {
		t.Errorf("uImage header %+v, want load %#x entry %#x, an lzma kernel, time 0", h, d.LoadAddress, d.EntryAddress)
	}
	plain, err := legacy.DecompressLZMA(payload)
	if err != nil {
		t.Fatal(err)
	}
	want := runfiles.Read(t, *imageFile)
	if d.AppendDTB {
		want = append(want, dtb...)
	}
	if !bytes.Equal(plain, want) {
		t.Errorf("uImage payload is %d bytes, want vmlinux.bin with the patched DTB appended (%d)", len(plain), len(want))
	}
	if !bytes.Equal(runfiles.Read(t, filepath.Join(*tftpbootDir, "rootfs.squashfs")), rootfs) {
		t.Error("rootfs.squashfs differs from the rootfs")
	}

	// No test runs boot.scr in a U-Boot: check what makes it work on this
	// board (addresses in RAM, nothing overlapping the kernel as it
	// decompresses, the rootfs where phram reads it) instead of its text.
	kernel := ubootscript.Range{Name: "the kernel (decompressed)", Start: uint64(d.LoadAddress) - 0x80000000}
	kernel.End = kernel.Start + uint64(len(plain))
	if err := ubootscript.CheckBoot(board(d), dir, script(t, filepath.Join(dir, "boot.scr")), kernel); err != nil {
		t.Error(err)
	}
	readme, err := os.ReadFile(filepath.Join(dir, "README.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"bazel run //tools:tftpd -- -listen :69 -a DEVICE_IP bazel-bin/devices/gl-ar750/tftpboot\n",
	} {
		if !strings.Contains(string(readme), w) {
			t.Errorf("README.txt lacks %q:\n%s", w, readme)
		}
	}
}
