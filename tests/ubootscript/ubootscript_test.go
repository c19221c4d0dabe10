package ubootscript

import (
	"bytes"
	"fmt"
	"hash/crc32"
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

// firmwareSize is the firmware.bin of the flash tests: small, so that the
// runs of the model are quick.
const firmwareSize = 0x30000

// firmware is the flash tests' firmware.bin.
func firmware(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7 / 5)
	}
	return b
}

// goodFlash is flash.scr as fwimage writes it for firmware(firmwareSize)
// on the gl-ar750 (checks at the download + the partition size).
var goodFlash = func() string {
	crc := crc32.ChecksumIEEE(firmware(firmwareSize))
	return fmt.Sprintf(`echo bazwrt: writing firmware.bin
setenv filesize
tftpboot 0x81100000 firmware.bin
mw.l 0x820a0000 0 4
mw.l 0x820a0000 ${filesize}
mw.l 0x820a0004 0x30000
crc32 0x81100000 0x30000 0x820a0008
mw.b 0x820a000c %#02x
mw.b 0x820a000d %#02x
mw.b 0x820a000e %#02x
mw.b 0x820a000f %#02x
if cmp.l 0x820a0000 0x820a0004 1; then if cmp.b 0x820a0008 0x820a000c 4; then erase 0x9f060000 +0xfa0000 && cp.b 0x81100000 0x9f060000 0x30000 && cmp.b 0x81100000 0x9f060000 0x30000 && reset; else echo bazwrt: wrong CRC32; fi; else echo bazwrt: wrong size; fi
`, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
}()

// unchecked is the flash.scr before the checks: it erases whatever was
// downloaded.
const unchecked = `echo bazwrt: writing firmware.bin
setenv filesize
tftpboot 0x81100000 firmware.bin
erase 0x9f060000 +0xfa0000
cp.b 0x81100000 0x9f060000 ${filesize}
reset
`

func flashDir(t *testing.T, script string, firmwareSize int) string {
	t.Helper()
	dir := t.TempDir()
	for name, b := range map[string][]byte{"flash.scr": []byte(script), "firmware.bin": firmware(firmwareSize)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestCheckFlash(t *testing.T) {
	check := func(script string, firmwareSize int) error {
		return CheckFlash(board, flashDir(t, script, firmwareSize), script, 0x81000000, 0x9f060000, 0xfa0000)
	}
	if err := check(goodFlash, firmwareSize); err != nil {
		t.Fatalf("a working flash.scr: %v", err)
	}
	const checks = "if cmp.l 0x820a0000 0x820a0004 1; then if cmp.b 0x820a0008 0x820a000c 4; then "
	for _, tc := range []struct {
		name, script string
		firmware     int
		want         string
	}{
		{"no checks", unchecked, firmwareSize, "with a download one byte short it erases 0x9f060000 +0xfa0000"},
		{"no size check", strings.Replace(goodFlash, "if cmp.l 0x820a0000 0x820a0004 1", "if cmp.l 0x820a0000 0x820a0000 1", 1), firmwareSize, "with a download one byte short it erases"},
		{"no CRC check", strings.Replace(goodFlash, "if cmp.b 0x820a0008 0x820a000c 4", "if cmp.b 0x820a0008 0x820a0008 4", 1), firmwareSize, "with a download with a byte flipped it erases"},
		{"CRC of filesize bytes", strings.Replace(goodFlash, "crc32 0x81100000 0x30000", "crc32 0x81100000 ${filesize}", 1), firmwareSize, ""},
		{"erase before the checks", strings.Replace(strings.Replace(goodFlash, "erase 0x9f060000 +0xfa0000 && ", "", 1), "if cmp.l", "erase 0x9f060000 +0xfa0000\nif cmp.l", 1), firmwareSize, "with a download one byte short it erases 0x9f060000 +0xfa0000"},
		{"erase outside the if", strings.Replace(goodFlash, checks+"erase 0x9f060000 +0xfa0000 && ", "erase 0x9f060000 +0xfa0000 ; "+checks, 1), firmwareSize, "with a failed download it erases"},
		{"filesize not cleared", strings.Replace(goodFlash, "setenv filesize\n", "", 1), firmwareSize, "with a failed download it erases"},
		{"erases past the partition", strings.Replace(goodFlash, "+0xfa0000", "+0xfb0000", 1), firmwareSize, "want the firmware partition"},
		{"erases elsewhere", strings.Replace(goodFlash, "erase 0x9f060000", "erase 0x9f000000", 1), firmwareSize, "want the firmware partition"},
		{"copies another address", strings.Replace(goodFlash, "cp.b 0x81100000", "cp.b 0x81200000", 1), firmwareSize, "want a copy of the download"},
		{"copies too little", strings.Replace(goodFlash, "cp.b 0x81100000 0x9f060000 0x30000", "cp.b 0x81100000 0x9f060000 0x2ffff", 1), firmwareSize, "does not hold firmware.bin"},
		{"no reset", strings.Replace(goodFlash, " && reset", "", 1), firmwareSize, "with a whole download it does not reset"},
		{"resets after a bad download", strings.Replace(goodFlash, "wrong size; fi", "wrong size ; reset ; fi", 1), firmwareSize, "with a download one byte short it resets"},
		{"says nothing", strings.Replace(goodFlash, "else echo bazwrt: wrong size; ", "", 1), firmwareSize, "with a download one byte short it echoes nothing"},
		{"checks inside the download", strings.ReplaceAll(goodFlash, "0x820a00", "0x811a00"), firmwareSize, "overlaps"},
		{"download over the script", strings.ReplaceAll(goodFlash, "0x81100000", "0x80f00000"), firmwareSize, "overlaps"},
		{"download past RAM", strings.ReplaceAll(goodFlash, "0x81100000", "0x87100000"), firmwareSize, "not in RAM below the boot loader"},
		{"image larger than the partition", goodFlash, 0xfa0001, "more than the partition"},
		{"another image", goodFlash, firmwareSize - 0x10000, "with a whole download it erases nothing"},
		{"unknown command", strings.Replace(goodFlash, "setenv filesize\n", "sleep 1\nsetenv filesize\n", 1), firmwareSize, "not a command of a flash script"},
		{"or", strings.Replace(goodFlash, " && reset", " || reset", 1), firmwareSize, "quotes, #, |"},
		{"if without fi", strings.Replace(goodFlash, "wrong size; fi", "wrong size", 1), firmwareSize, `want "fi"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := check(tc.script, tc.firmware)
			if tc.want == "" {
				if err != nil {
					t.Errorf("CheckFlash = %v, want no error", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckFlash = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestParseHush(t *testing.T) {
	stmts, err := ParseHush("setenv filesize\nif a 1 && b; then c; if d; then e && f; fi; else g; fi\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	walk(stmts, func(c Cmd) { got = append(got, c.Name) })
	if want := "setenv a b c d e f g"; strings.Join(got, " ") != want {
		t.Errorf("commands %q, want %q", got, want)
	}
	if len(stmts) != 2 || stmts[1].If == nil || len(stmts[1].If.Cond) != 2 || len(stmts[1].If.Then) != 2 || len(stmts[1].If.Else) != 1 {
		t.Errorf("structure: %+v", stmts)
	}
}
