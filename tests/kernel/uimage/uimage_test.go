// Package uimage_test checks the gl-ar750 uImage against the device's facts:
// header fields and CRCs (in Go and with U-Boot's dumpimage), load = entry =
// the device's address, the payload decompresses to the kernel's
// vmlinux.bin with the DTB appended, it fits the firmware partition with
// room for a rootfs, the DTB has the board's ethernet, flash partitions
// and wifi nodes, and every enabled DTB node has a driver in vmlinux that
// matches its compatible.
package uimage_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
)

var (
	uimageFile = flag.String("uimage", "", "//devices/gl-ar750:uimage")
	imageFile  = flag.String("image", "", "vmlinux.bin of //devices/gl-ar750:kernel")
	dtbFile    = flag.String("dtb", "", "gl-ar750.dtb of //devices/gl-ar750:kernel")
	vmlinux    = flag.String("vmlinux", "", "vmlinux of //devices/gl-ar750:kernel")
	deviceFile = flag.String("device", "", "device.json of //devices/gl-ar750:device")
)

// minRootfs is the room the firmware partition must keep for the squashfs
// root after the uImage.
const minRootfs = 8 << 20

type device struct {
	Name         string `json:"name"`
	LoadAddress  uint32 `json:"load_address"`
	EntryAddress uint32 `json:"entry_address"`
	FlashSize    int    `json:"flash_size"`
	EraseBlock   int    `json:"erase_block"`
}

func TestUImage(t *testing.T) {
	var dev device
	if err := json.Unmarshal(runfiles.Read(t, *deviceFile), &dev); err != nil {
		t.Fatalf("%s: %v", *deviceFile, err)
	}
	if dev.LoadAddress != 0x80060000 || dev.EntryAddress != 0x80060000 {
		t.Errorf("device facts: load %#x entry %#x, want 0x80060000 (the stock U-Boot's)", dev.LoadAddress, dev.EntryAddress)
	}
	img := runfiles.Read(t, *uimageFile)
	h, payload, err := legacy.Decode(img)
	if err != nil {
		t.Fatalf("%s: %v", *uimageFile, err)
	}
	if h.Load != dev.LoadAddress || h.Entry != dev.EntryAddress {
		t.Errorf("load %#x entry %#x, want %#x %#x", h.Load, h.Entry, dev.LoadAddress, dev.EntryAddress)
	}
	if h.Arch != legacy.ArchMIPS || h.OS != legacy.OSLinux || h.Type != legacy.TypeKernel || h.Comp != legacy.CompLZMA {
		t.Errorf("arch/os/type/comp = %d/%d/%d/%d, want mips/linux/kernel/lzma", h.Arch, h.OS, h.Type, h.Comp)
	}

	kernel, err := legacy.DecompressLZMA(payload)
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	dtb := runfiles.Read(t, *dtbFile)
	want := append(append([]byte(nil), runfiles.Read(t, *imageFile)...), dtb...)
	if !bytes.Equal(kernel, want) {
		t.Errorf("payload decompresses to %d bytes, want vmlinux.bin + gl-ar750.dtb (%d bytes)", len(kernel), len(want))
	}

	padded := (len(img) + dev.EraseBlock - 1) / dev.EraseBlock * dev.EraseBlock
	room := dev.FlashSize - padded
	t.Logf("uImage %d bytes (%d padded to %#x erase blocks), vmlinux.bin+dtb %d bytes; firmware partition %#x leaves %d bytes for the rootfs",
		len(img), padded, dev.EraseBlock, len(kernel), dev.FlashSize, room)
	if room < minRootfs {
		t.Errorf("uImage leaves %d bytes of the %#x firmware partition, want at least %d for the rootfs", room, dev.FlashSize, minRootfs)
	}

	if _, err := exec.LookPath("dumpimage"); err != nil {
		t.Fatal("dumpimage not found: install Debian's u-boot-tools")
	}
	path := runfiles.Path(t, *uimageFile)
	out, err := exec.Command("dumpimage", "-l", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dumpimage -l: %v\n%s", err, out)
	}
	for _, w := range []string{
		"MIPS Linux Kernel Image (lzma compressed)",
		fmt.Sprintf("Load Address: %08x", dev.LoadAddress),
		fmt.Sprintf("Entry Point:  %08x", dev.EntryAddress),
	} {
		if !strings.Contains(string(out), w) {
			t.Errorf("dumpimage -l lacks %q:\n%s", w, out)
		}
	}
}

func TestDTB(t *testing.T) {
	if _, err := exec.LookPath("dtc"); err != nil {
		t.Fatal("dtc not found: install Debian's device-tree-compiler")
	}
	path := runfiles.Path(t, *dtbFile)
	out, err := exec.Command("dtc", "-I", "dtb", "-O", "dts", "-q", path).CombinedOutput()
	if err != nil {
		t.Fatalf("dtc: %v\n%s", err, out)
	}
	dts := string(out)
	for _, w := range []string{
		`compatible = "glinet,gl-ar750`, // string lists print as "a\0b"
		"ethernet@19000000 {",
		"ethernet@1a000000 {",
		`compatible = "qca,qca9530-eth"`,
		`compatible = "jedec,spi-nor"`,
		`label = "u-boot"`,
		`label = "art"`,
		`label = "firmware"`,
		"reg = <0x60000 0xfa0000>",
		"wmac@18100000 {",
		`compatible = "qcom,ath10k"`,
		// Both radios' calibration, from art (nvmem cells).
		`compatible = "nvmem-cells"`,
		"calibration@1000 {",
		"calibration@5000 {",
		`nvmem-cell-names = "calibration"`,
		`compatible = "qca,qca9530-pll"`,
		`compatible = "ns16550a"`,
	} {
		if !strings.Contains(dts, w) {
			t.Errorf("gl-ar750.dtb lacks %q", w)
		}
	}
}

// boundElsewhere are compatibles of enabled nodes that no OF match table
// names, with the reason they need none.
var boundElsewhere = map[string]string{
	"glinet,gl-ar750": "the board (root node)",
	"qca,qca9531":     "the SoC (root node)",
	"qcom,ath10k":     "a PCI device: ath10k_pci binds it by vendor and device id; the node gives it calibration",
	"mips,mips24Kc":   "a CPU: the arch code reads it, no driver binds it",
	// The CPU interrupt controller takes its write buffer channels from
	// this node's phandle; arch/mips/ath79 maps the registers itself.
	"qca,ar7240-ddr-controller": "referenced by qca,ddr-wb-channels of the CPU interrupt controller",
}

// TestDriversForNodes checks that each enabled node of the DTB has at least
// one compatible string that vmlinux contains as a whole C string, as it
// would when an OF match table (or of_device_is_compatible) names it: a node
// no driver matches is hardware the kernel silently leaves alone (as the
// ath9k WMAC and the PCIe host were, before //kernel/patches/ath79).
func TestDriversForNodes(t *testing.T) {
	tree, err := fdt.Decode(runfiles.Read(t, *dtbFile))
	if err != nil {
		t.Fatalf("%s: %v", *dtbFile, err)
	}
	kernel := runfiles.Read(t, *vmlinux)
	var walk func(n *fdt.Node, path string, off bool)
	walk = func(n *fdt.Node, path string, off bool) {
		if st, err := n.StringValue("status"); err == nil && st != "okay" && st != "ok" {
			off = true
		}
		if v, ok := n.Prop("compatible"); ok && !off {
			compat := strings.Split(strings.TrimRight(string(v), "\x00"), "\x00")
			found := false
			for _, c := range compat {
				if _, ok := boundElsewhere[c]; ok || bytes.Contains(kernel, []byte("\x00"+c+"\x00")) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: no driver in vmlinux matches compatible %q", path, compat)
			}
		}
		for _, c := range n.Children {
			walk(c, path+"/"+c.Name, off)
		}
	}
	walk(tree.Root, "", false)
}
