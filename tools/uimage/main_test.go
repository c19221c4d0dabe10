package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/tools/uimage/legacy"
)

// fakeDTB starts with the FDT magic; the rest does not matter to uimage.
var fakeDTB = []byte{0xd0, 0x0d, 0xfe, 0xed, 1, 2, 3, 4}

func TestWriteListDumpimage(t *testing.T) {
	dir := t.TempDir()
	kernel := bytes.Repeat([]byte("\x3c\x1a\x80\x06kernel"), 5000)
	kpath := filepath.Join(dir, "vmlinux.bin")
	dpath := filepath.Join(dir, "board.dtb")
	out := filepath.Join(dir, "uImage")
	os.WriteFile(kpath, kernel, 0o644)
	os.WriteFile(dpath, fakeDTB, 0o644)

	var stdout, stderr bytes.Buffer
	args := []string{"-o", out, "-arch", "mips", "-load", "0x80060000", "-entry", "0x80060000", "-name", "bazwrt test", "-dtb", dpath, kpath}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("uimage exit %d: %s", code, stderr.String())
	}
	img, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	h, payload, err := legacy.Decode(img)
	if err != nil {
		t.Fatal(err)
	}
	if h.Load != 0x80060000 || h.Entry != 0x80060000 || h.Arch != legacy.ArchMIPS || h.Comp != legacy.CompLZMA || h.Type != legacy.TypeKernel || h.OS != legacy.OSLinux || h.Time != 0 {
		t.Errorf("header = %+v", h)
	}
	got, err := legacy.DecompressLZMA(payload)
	if err != nil {
		t.Fatal(err)
	}
	if want := append(append([]byte(nil), kernel...), fakeDTB...); !bytes.Equal(got, want) {
		t.Errorf("payload decompresses to %d bytes, want the kernel with the DTB appended (%d bytes)", len(got), len(want))
	}

	// U-Boot's own reader agrees.
	if _, err := exec.LookPath("dumpimage"); err != nil {
		t.Fatal("dumpimage not found: install Debian's u-boot-tools")
	}
	dump, err := exec.Command("dumpimage", "-l", out).CombinedOutput()
	if err != nil {
		t.Fatalf("dumpimage -l: %v\n%s", err, dump)
	}
	for _, want := range []string{
		"Image Name:   bazwrt test",
		"Image Type:   MIPS Linux Kernel Image (lzma compressed)",
		"Load Address: 80060000",
		"Entry Point:  80060000",
	} {
		if !strings.Contains(string(dump), want) {
			t.Errorf("dumpimage -l output lacks %q:\n%s", want, dump)
		}
	}

	stdout.Reset()
	if code := run([]string{"-l", out}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "Load Address: 80060000") {
		t.Errorf("uimage -l: exit %d, output %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	kpath := filepath.Join(dir, "k")
	os.WriteFile(kpath, []byte("kernel"), 0o644)
	notDTB := filepath.Join(dir, "x.dtb")
	os.WriteFile(notDTB, []byte("text"), 0o644)
	out := filepath.Join(dir, "o")
	base := []string{"-o", out, "-load", "0x80060000", "-entry", "0x80060000"}
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad arch", append(base, "-arch", "sparc", kpath), 1, `unknown -arch "sparc"`},
		{"long name", append(base, "-arch", "mips", "-name", strings.Repeat("n", 40), kpath), 1, "the header holds 31"},
		{"not a dtb", append(base, "-arch", "mips", "-dtb", notDTB, kpath), 1, notDTB + " is not a DTB"},
		{"bad address", []string{"-o", out, "-arch", "mips", "-load", "zz", "-entry", "0", kpath}, 2, "32-bit address"},
		{"no load", []string{"-o", out, "-arch", "mips", kpath}, 2, "usage"},
		{"corrupt list", []string{"-l", kpath}, 1, "shorter than the 64-byte header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("exit %d (want %d), stderr %q (want %q)", code, tt.code, stderr.String(), tt.want)
			}
		})
	}
}
