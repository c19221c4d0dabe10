package ubootscript

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
)

// A gl-ar750-like board: 128 MiB at 0, KSEG0, 1 MiB for U-Boot.
var board = Board{RAMStart: 0, RAMSize: 0x8000000, KSEG0: true, BootloaderReserve: 1 << 20}

const bootargs = "console=ttyS0,115200 phram.phram=phram0,0x7eb0000,0x50000,0x10000 mtdparts=phram0:0x50000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs"

const goodBoot = "setenv bootargs '" + bootargs + "'\ntftpboot 0x81100000 uImage\ntftpboot 0x87eb0000 rootfs.squashfs\nbootm 0x81100000\n"

var kernel = Range{"kernel", 0x60000, 0x761000}

// bootDir writes a RAM-boot directory with the given script and README.
func bootDir(t *testing.T, script, readme string, rootfsSize int) string {
	t.Helper()
	dir := t.TempDir()
	tree := &fdt.Tree{Root: &fdt.Node{}}
	chosen, err := tree.Root.AddChild("chosen")
	if err != nil {
		t.Fatal(err)
	}
	chosen.SetString("bootargs", bootargs)
	h := legacy.Header{Type: legacy.TypeKernel, Load: 0x80060000, Entry: 0x80060000}
	for name, b := range map[string][]byte{
		"boot.scr":        []byte(script),
		"README.txt":      []byte(readme),
		"uImage":          legacy.Encode(h, bytes.Repeat([]byte("k"), 2<<20)),
		"rootfs.squashfs": bytes.Repeat([]byte("r"), rootfsSize),
		"board.dtb":       tree.Encode(),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const readme = "setenv ipaddr DEVICE_IP; setenv serverip SERVER_IP; tftpboot 0x81000000 boot.scr; source 0x81000000\n"

func TestCheckBoot(t *testing.T) {
	if err := CheckBoot(board, bootDir(t, goodBoot, readme, 300000), goodBoot, kernel); err != nil {
		t.Fatalf("a working boot.scr: %v", err)
	}
	// Each breaks the boot on a board; the check must say why.
	for _, tc := range []struct {
		name, script, readme string
		rootfs               int
		kernel               Range
		want                 string
	}{
		{"uImage over the kernel", strings.Replace(goodBoot, "0x81100000", "0x80100000", 2), readme, 300000, kernel, "overlaps"},
		{"uImage over the script", strings.Replace(goodBoot, "0x81100000", "0x81000000", 2), readme, 300000, kernel, "overlaps"},
		{"rootfs not where phram reads", strings.Replace(goodBoot, "0x87eb0000", "0x87ea0000", 1), readme, 300000, kernel, "phram reads it at"},
		{"rootfs larger than phram", goodBoot, readme, 0x50001, kernel, "does not fit the phram region"},
		{"rootfs in U-Boot's megabyte", strings.Replace(strings.ReplaceAll(goodBoot, "0x7eb0000", "0x7fb0000"), "0x87eb0000", "0x87fb0000", 1), readme, 300000, kernel, "not in RAM below the boot loader"},
		{"bootm of nothing", strings.Replace(goodBoot, "bootm 0x81100000", "bootm 0x81200000", 1), readme, 300000, kernel, "downloaded nothing"},
		{"bootm of the rootfs", strings.Replace(goodBoot, "bootm 0x81100000", "bootm 0x87eb0000", 1), readme, 300000, kernel, "not a kernel uImage"},
		{"missing file", strings.Replace(goodBoot, " uImage", " vmlinux", 1), readme, 300000, kernel, "vmlinux"},
		{"no bootm", strings.Replace(goodBoot, "bootm 0x81100000\n", "", 1), readme, 300000, kernel, "does not end with bootm"},
		{"hush only", strings.Replace(goodBoot, "bootm 0x81100000", "bootm 0x81100000 && reset", 1), readme, 300000, kernel, "parsers"},
		{"source elsewhere", goodBoot, strings.Replace(readme, "source 0x81000000", "source 0x81100000", 1), 300000, kernel, "runs it from"},
		{"not KSEG0", strings.Replace(goodBoot, "0x87eb0000", "0x7eb0000", 1), readme, 300000, kernel, "not a KSEG0 address"},
		{"bootargs not the DTB's", strings.Replace(goodBoot, "ttyS0", "ttyS1", 1), readme, 300000, kernel, "differ from /chosen/bootargs"},
		{"kernel reaches the uImage", goodBoot, readme, 300000, Range{"kernel", 0x60000, 0x1100001}, "overlaps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckBoot(board, bootDir(t, tc.script, tc.readme, tc.rootfs), tc.script, tc.kernel)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckBoot = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

const goodFlash = `echo bazwrt: writing firmware.bin
setenv filesize
tftpboot 0x81100000 firmware.bin
erase 0x9f060000 +0xfa0000
cp.b 0x81100000 0x9f060000 ${filesize}
reset
`

func flashDir(t *testing.T, script string, firmware int) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"flash.scr": []byte(script), "firmware.bin": bytes.Repeat([]byte{0xff}, firmware)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckFlash(t *testing.T) {
	check := func(script string, firmware int) error {
		return CheckFlash(board, flashDir(t, script, firmware), script, 0x81000000, 0x9f060000, 0xfa0000)
	}
	if err := check(goodFlash, 0x800000); err != nil {
		t.Fatalf("a working flash.scr: %v", err)
	}
	for _, tc := range []struct {
		name, script string
		firmware     int
		want         string
	}{
		{"erases past the partition", strings.Replace(goodFlash, "+0xfa0000", "+0xfb0000", 1), 0x800000, "want the firmware partition"},
		{"erases elsewhere", strings.Replace(goodFlash, "erase 0x9f060000", "erase 0x9f000000", 1), 0x800000, "want the firmware partition"},
		{"copies another address", strings.Replace(goodFlash, "cp.b 0x81100000", "cp.b 0x81200000", 1), 0x800000, "want a copy of the download"},
		{"copies a fixed size", strings.Replace(goodFlash, "${filesize}", "0xfa0000", 1), 0x800000, "want a copy of the download"},
		{"filesize not cleared", strings.Replace(goodFlash, "setenv filesize\n", "", 1), 0x800000, "no clear step"},
		{"erase before the download", strings.Replace(strings.Replace(goodFlash, "tftpboot 0x81100000 firmware.bin\n", "", 1), "cp.b", "tftpboot 0x81100000 firmware.bin\ncp.b", 1), 0x800000, "before"},
		{"download over the script", strings.ReplaceAll(goodFlash, "0x81100000", "0x80f00000"), 0x800000, "overlaps"},
		{"download past RAM", strings.ReplaceAll(goodFlash, "0x81100000", "0x87100000"), 0x800000, "not in RAM below the boot loader"},
		{"image larger than the partition", goodFlash, 0xfa0001, "more than the partition"},
		{"two commands a line", strings.Replace(goodFlash, "reset", "sleep 1; reset", 1), 0x800000, "parsers"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := check(tc.script, tc.firmware); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckFlash = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
