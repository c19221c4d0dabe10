package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/tests/ubootscript"
	"bazwrt/tools/uimage/legacy"
)

// dumpScript checks a script image with U-Boot's dumpimage and returns the
// script it extracts.
func dumpScript(t *testing.T, img string) string {
	t.Helper()
	tool(t, "dumpimage", "u-boot-tools")
	list := string(command(t, "dumpimage", "-l", img))
	contains(t, "dumpimage -l", list, "Image Type:   MIPS Linux Script (uncompressed)", "Load Address: 00000000", "Image 0: ")
	out := filepath.Join(t.TempDir(), "extracted")
	command(t, "dumpimage", "-T", "script", "-p", "0", "-o", out, img)
	// dumpimage extracts the whole data of a script image: the length
	// table (the script's length, then 0) and the script.
	data := read(t, out)
	if len(data) < 8 {
		t.Fatalf("dumpimage extracted %d bytes", len(data))
	}
	n := binary.BigEndian.Uint32(data)
	if binary.BigEndian.Uint32(data[4:]) != 0 || int(n) != len(data)-8 {
		t.Fatalf("length table %x, then %d bytes", data[:8], len(data)-8)
	}
	return string(data[8:])
}

func TestScript(t *testing.T) {
	dir := t.TempDir()
	script := "setenv bootargs 'console=ttyS0,115200'\ntftpboot 0x81100000 uImage\nbootm 0x81100000\n"
	src := write(t, dir, "script.txt", []byte(script))
	out := filepath.Join(dir, "out.scr")
	runOK(t, "script", "-arch", "mips", "-name", "bazwrt test", "-o", out, src)
	img := read(t, out)

	h, data, err := legacy.Decode(img)
	if err != nil {
		t.Fatal(err)
	}
	want := legacy.Header{Magic: legacy.Magic, HCRC: h.HCRC, Size: uint32(8 + len(script)), DCRC: h.DCRC, OS: legacy.OSLinux, Arch: legacy.ArchMIPS, Type: 6, Comp: legacy.CompNone}
	want.SetName("bazwrt test")
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if got := string(data[8:]); got != script {
		t.Errorf("data after the length table = %q", got)
	}
	if got := dumpScript(t, out); got != script {
		t.Errorf("dumpimage extracted %q, want %q", got, script)
	}

	// The same bytes as U-Boot's mkimage, with its clock at 0.
	tool(t, "mkimage", "u-boot-tools")
	ref := filepath.Join(dir, "ref.scr")
	cmd := exec.Command("mkimage", "-A", "mips", "-O", "linux", "-T", "script", "-C", "none", "-n", "bazwrt test", "-d", src, ref)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mkimage: %v\n%s", err, msg)
	}
	if !bytes.Equal(read(t, ref), img) {
		t.Errorf("fwimage script and mkimage -T script differ")
	}
}

func TestScriptErrors(t *testing.T) {
	dir := t.TempDir()
	src := write(t, dir, "s.txt", []byte("reset\n"))
	empty := write(t, dir, "empty.txt", nil)
	out := filepath.Join(dir, "o.scr")
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"arch", []string{"script", "-arch", "sparc", "-o", out, src}, 1, src + `: -arch "sparc": want one of arm, arm64, mips`},
		{"name", []string{"script", "-arch", "mips", "-name", strings.Repeat("n", 32), "-o", out, src}, 1, "-name: image name"},
		{"empty", []string{"script", "-arch", "mips", "-o", out, empty}, 1, empty + ": the script is empty"},
		{"no file", []string{"script", "-arch", "mips", "-o", out}, 2, "want 1 positional arguments, have 0"},
		{"no -o", []string{"script", "-arch", "mips", src}, 2, "missing -o"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			contains(t, "error", runFail(t, tt.code, tt.args...), tt.want)
		})
	}
}

func TestFlashScript(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "flash.scr")
	img := write(t, dir, "firmware.bin", fakeUImage(0x100000))
	runOK(t, "flash-script", "-arch", "mips", "-ram-start", "0x0", "-ram-size", "0x8000000",
		"-flash-address", "0x9f060000", "-partition-size", "0xfa0000", "-image", img, "-o", out)
	// Check what makes it work on the board (it is run from RAM start +
	// 16 MiB) by running it in ubootscript's model of U-Boot against good
	// and bad downloads of firmware.bin; //tests/uboot runs it in U-Boot.
	text := dumpScript(t, out)
	if err := ubootscript.CheckFlash(mipsBoard, dir, text, 0x81000000, 0x9f060000, 0xfa0000); err != nil {
		t.Error(err)
	}
	h, _, _ := legacy.Decode(read(t, out))
	if h.NameString() != "bazwrt flash" {
		t.Errorf("name = %q", h.NameString())
	}
	// The size and CRC32 come from -image.
	contains(t, "mips flash.scr", text, fmt.Sprintf("mw.l 0x820a0004 %#x\n", 0x100000))
	contains(t, "mips flash.scr", text, fmt.Sprintf("CRC32 %08x", crc32.ChecksumIEEE(read(t, img))))

	// The script checks against the image it was made for: another
	// firmware.bin next to it, of the same size, is refused.
	other := fakeUImage(0x100000)
	other[0x80000] ^= 1
	write(t, dir, "firmware.bin", other)
	if err := ubootscript.CheckFlash(mipsBoard, dir, text, 0x81000000, 0x9f060000, 0xfa0000); err == nil || !strings.Contains(err.Error(), "want the firmware partition") {
		t.Errorf("CheckFlash with another image = %v, want the script to refuse it", err)
	}

	// ARM: U-Boot addresses are physical; -load and -file override.
	fw := write(t, dir, "fw.bin", fakeUImage(0x80000))
	runOK(t, "flash-script", "-arch", "arm", "-ram-start", "0x40000000", "-ram-size", "0x4000000",
		"-flash-address", "0x100000", "-partition-size", "0x800000", "-image", fw, "-file", "fw.bin", "-load", "0x42000000", "-o", out)
	arm := ubootscript.Board{RAMStart: 0x40000000, RAMSize: 0x4000000, BootloaderReserve: 1 << 20}
	text = dumpScriptAnyArch(t, out)
	if err := ubootscript.CheckFlash(arm, dir, text, 0x41000000, 0x100000, 0x800000); err != nil {
		t.Error(err)
	}
	contains(t, "arm flash.scr", text, "tftpboot 0x42000000 fw.bin\n") // -load and -file
}

// dumpScriptAnyArch returns the script of an image without dumpimage,
// whose listing names the architecture.
func dumpScriptAnyArch(t *testing.T, path string) string {
	t.Helper()
	_, data, err := legacy.Decode(read(t, path))
	if err != nil {
		t.Fatal(err)
	}
	return string(data[8:])
}

func TestFlashScriptErrors(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flash.scr")
	img := write(t, t.TempDir(), "firmware.bin", fakeUImage(0x10000))
	base := []string{"flash-script", "-arch", "mips", "-ram-start", "0x0", "-flash-address", "0x9f060000", "-image", img, "-o", out}
	for _, tt := range []struct {
		name  string
		extra []string
		want  string
	}{
		{"image outside RAM", []string{"-ram-size", "0x2000000", "-partition-size", "0xfa0000"},
			"-file firmware.bin [0x1100000, 0x20a0000) (U-Boot 0x81100000) is outside RAM [0x0, 0x2000000) (-ram-start 0x0, -ram-size 0x2000000)"},
		{"image over U-Boot", []string{"-ram-size", "0x2100000", "-partition-size", "0xfa0000"},
			"-file firmware.bin [0x1100000, 0x20a0000) (U-Boot 0x81100000) overlaps the boot loader (-bootloader-reserve) [0x2000000, 0x2100000) (U-Boot 0x82000000)"},
		{"load over the script", []string{"-ram-size", "0x8000000", "-partition-size", "0xfa0000", "-load", "0x80800000"},
			"flash.scr (source address) [0x1000000, 0x1100000) (U-Boot 0x81000000) overlaps -file firmware.bin [0x800000, 0x17a0000)"},
		{"load not KSEG0", []string{"-ram-size", "0x8000000", "-partition-size", "0xfa0000", "-load", "0x1000000"},
			"-load 0x1000000 is not a KSEG0 address (0x80000000 + physical)"},
		{"RAM above KSEG0", []string{"-ram-size", "0x40000000", "-partition-size", "0xfa0000"},
			"RAM ends above the 512 MiB that KSEG0 maps"},
		{"image larger than the partition", []string{"-ram-size", "0x8000000", "-partition-size", "0xf000"},
			"-image " + img + " is 65536 bytes, more than the -partition-size 0xf000"},
		{"checks over U-Boot", []string{"-ram-size", "0x20a0008", "-partition-size", "0xfa0000", "-bootloader-reserve", "0x8"},
			"the checks of the download [0x20a0000, 0x20a0010) (U-Boot 0x820a0000) is outside RAM"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			contains(t, "error", runFail(t, 1, append(base, tt.extra...)...), tt.want)
		})
	}
	// Without the image there is nothing to check the download against.
	contains(t, "error", runFail(t, 2, "flash-script", "-arch", "mips", "-ram-size", "0x8000000",
		"-flash-address", "0x9f060000", "-partition-size", "0xfa0000", "-o", out), "missing -image")
}
