package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/tools/fdt"
	"bazwrt/tools/fsspec"
	"bazwrt/tools/uimage/legacy"
)

func TestPlanFlash(t *testing.T) {
	const erase = 0x10000
	tests := []struct {
		name                                 string
		kernel, rootfs, kernelSize, partSize uint64
		want                                 flashLayout
		wantErr                              string
	}{
		{
			name: "gl-ar750", kernel: 2311953, rootfs: 5000000, kernelSize: 0x300000, partSize: 0xfa0000,
			want: flashLayout{EraseBlock: erase, Partition: 0xfa0000, Kernel: 2311953, KernelPart: 0x300000, Rootfs: 5000000, Image: 0x7d0000},
		},
		{
			name: "no split: rootfs at the next erase block", kernel: 100000, rootfs: 70000, partSize: 0x100000,
			want: flashLayout{EraseBlock: erase, Partition: 0x100000, Kernel: 100000, KernelPart: 0x20000, Rootfs: 70000, Image: 0x40000},
		},
		{
			name: "no split, kernel of whole blocks", kernel: 0x20000, rootfs: 0x10000, partSize: 0x100000,
			want: flashLayout{EraseBlock: erase, Partition: 0x100000, Kernel: 0x20000, KernelPart: 0x20000, Rootfs: 0x10000, Image: 0x30000},
		},
		{
			name: "overflow is the caller's", kernel: 0x1000, rootfs: 0x100000, kernelSize: 0x10000, partSize: 0x100000,
			want: flashLayout{EraseBlock: erase, Partition: 0x100000, Kernel: 0x1000, KernelPart: 0x10000, Rootfs: 0x100000, Image: 0x110000},
		},
		{name: "kernel too big", kernel: 0x300001, rootfs: 1, kernelSize: 0x300000, partSize: 0xfa0000, wantErr: "1 more than the kernel partition (-kernel-size 0x300000"},
		{name: "kernel size not in blocks", kernel: 1, rootfs: 1, kernelSize: 0x308000, partSize: 0xfa0000, wantErr: "-kernel-size 0x308000 is not a multiple of -erase-block 0x10000"},
		{name: "partition not in blocks", kernel: 1, rootfs: 1, partSize: 0xfa8000, wantErr: "-partition-size 0xfa8000 is not a positive multiple"},
		{name: "no room for rootfs", kernel: 1, rootfs: 1, kernelSize: 0x100000, partSize: 0x100000, wantErr: "leaves no room for the rootfs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := planFlash(tt.kernel, tt.rootfs, tt.kernelSize, tt.partSize, erase)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("layout (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := planFlash(1, 1, 0, 0x10000, 0); err == nil || !strings.Contains(err.Error(), "-erase-block is 0") {
		t.Errorf("erase block 0: %v", err)
	}
}

func TestFlash(t *testing.T) {
	for _, tt := range []struct {
		name       string
		kernelSize string
		rootfsAt   int
	}{
		{"kernel partition", "0x10000", 0x10000},
		{"no split", "0", 0xa000},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			kernel, rootfs := fakeUImage(0x9100), fakeSquashfs(0x12345)
			kpath, rpath := write(t, dir, "uImage", kernel), write(t, dir, "rootfs.squashfs", rootfs)
			out, report := filepath.Join(dir, "firmware.bin"), filepath.Join(dir, "size.txt")
			runOK(t, "flash", "-kernel", kpath, "-rootfs", rpath, "-erase-block", "0x1000", "-partition-size", "0x40000",
				"-kernel-size", tt.kernelSize, "-o", out, "-report", report)
			img := read(t, out)

			want := tt.rootfsAt + len(rootfs)
			want = (want + 0xfff) &^ 0xfff
			if len(img) != want {
				t.Errorf("firmware.bin is %#x bytes, want %#x (rootfs end rounded up to the erase block)", len(img), want)
			}
			h, payload, err := legacy.Decode(img)
			if err != nil {
				t.Fatalf("the uImage at offset 0: %v", err)
			}
			if h.Load != 0x80060000 || !bytes.Equal(payload, kernel[legacy.HeaderSize:]) {
				t.Errorf("uImage at offset 0: header %+v, payload changed", h)
			}
			if pad := img[len(kernel):tt.rootfsAt]; !bytes.Equal(pad, bytes.Repeat([]byte{0xff}, len(pad))) {
				t.Error("the kernel is not padded with 0xff")
			}
			if got := string(img[tt.rootfsAt : tt.rootfsAt+4]); got != "hsqs" {
				t.Errorf("at the rootfs offset %#x: %q, want the squashfs magic hsqs", tt.rootfsAt, got)
			}
			if !bytes.Equal(img[tt.rootfsAt:tt.rootfsAt+len(rootfs)], rootfs) {
				t.Error("rootfs bytes changed")
			}
			if pad := img[tt.rootfsAt+len(rootfs):]; !bytes.Equal(pad, bytes.Repeat([]byte{0xff}, len(pad))) {
				t.Error("the image is not padded with 0xff")
			}
			contains(t, "size report", string(read(t, report)),
				fmt.Sprintf("kernel      %10d bytes", len(kernel)),
				fmt.Sprintf("rootfs      %10d bytes", len(rootfs)),
				fmt.Sprintf("total       %10d bytes", len(img)),
				fmt.Sprintf("free        %10d bytes", 0x40000-len(img)),
				"no -manifest given")
		})
	}
}

// manifest writes a manifest with files from 12 packages: package pNN has
// one file /pNN/big of (NN+1)*1000 bytes and one /pNN/small of NN+1 bytes;
// /orphan (500000 bytes) has no origin.
func manifest(t *testing.T, dir string) string {
	t.Helper()
	var entries []fsspec.Entry
	for i := range 12 {
		origin := fmt.Sprintf("//pkg:p%02d", i)
		entries = append(entries,
			fsspec.Entry{Path: fmt.Sprintf("/p%02d/big", i), Type: fsspec.File, Mode: 0o644, Source: "x", Size: int64(i+1) * 1000, Origin: origin},
			fsspec.Entry{Path: fmt.Sprintf("/p%02d/small", i), Type: fsspec.File, Mode: 0o644, Source: "x", Size: int64(i + 1), Origin: origin},
		)
	}
	entries = append(entries,
		fsspec.Entry{Path: "/orphan", Type: fsspec.File, Mode: 0o644, Source: "x", Size: 500000},
		fsspec.Entry{Path: "/bin/sh", Type: fsspec.Symlink, Mode: 0o777, Target: "busybox", Origin: "//pkg:p00"},
	)
	var b bytes.Buffer
	if err := fsspec.Encode(&b, entries); err != nil {
		t.Fatal(err)
	}
	return write(t, dir, "manifest.json", b.Bytes())
}

func TestFlashOverflow(t *testing.T) {
	dir := t.TempDir()
	kpath := write(t, dir, "uImage", fakeUImage(0x9000))
	rpath := write(t, dir, "rootfs.squashfs", fakeSquashfs(0x38000))
	out := filepath.Join(dir, "firmware.bin")
	msg := runFail(t, 1, "flash", "-kernel", kpath, "-rootfs", rpath, "-erase-block", "0x1000", "-partition-size", "0x40000",
		"-kernel-size", "0x10000", "-manifest", manifest(t, dir), "-o", out)
	contains(t, "overflow error", msg,
		"fwimage flash: -o "+out+": the image would be 294912 bytes, 32768 more than the firmware partition (-partition-size 0x40000)",
		"kernel           36864 bytes  "+kpath,
		"padded to        65536 bytes",
		"rootfs          229376 bytes  "+rpath,
		"total           294912 bytes",
		"partition       262144 bytes",
		"over             32768 bytes",
		"largest packages",
		"largest files",
		"    500000  (no origin)",
		"     12012  //pkg:p11",
		"      4004  //pkg:p03",
		"    500000  /orphan",
		"     12000  /p11/big",
		"      4000  /p03/big",
	)
	for _, absent := range []string{"//pkg:p02", "//pkg:p00", "/p02/big", "small"} {
		if strings.Contains(msg, absent) {
			t.Errorf("overflow error lists %q, which is not in the top ten:\n%s", absent, msg)
		}
	}
	// Packages largest first.
	if strings.Index(msg, "//pkg:p11") > strings.Index(msg, "//pkg:p10") {
		t.Errorf("packages are not sorted by size:\n%s", msg)
	}
}

func TestFlashDTB(t *testing.T) {
	dir := t.TempDir()
	dtb := boardDTB(t, dir)
	// The same board without the "kernel" partition.
	tree, err := fdt.Decode(read(t, dtb))
	if err != nil {
		t.Fatal(err)
	}
	parts, _ := tree.Find("/spi/flash@0/partitions")
	parts.Children = parts.Children[:len(parts.Children)-2]
	noKernel := write(t, dir, "nokernel.dtb", tree.Encode())

	kpath := write(t, dir, "uImage", fakeUImage(0x9000))
	rpath := write(t, dir, "rootfs.squashfs", fakeSquashfs(0x1000))
	out := filepath.Join(dir, "firmware.bin")
	args := func(dtb, kernelSize, offset string) []string {
		return []string{"flash", "-kernel", kpath, "-rootfs", rpath, "-erase-block", "0x10000", "-partition-size", "0xfa0000",
			"-kernel-size", kernelSize, "-dtb", dtb, "-flash-offset", offset, "-o", out}
	}
	runOK(t, args(dtb, "0x300000", "0x60000")...)

	const part = "/spi@1f000000/flash@0/partitions/"
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"kernel size", args(dtb, "0x200000", "0x60000"),
			`-dtb ` + dtb + `: partition "kernel" (` + part + `partition@60000) has reg = <0x60000 0x300000>, the image puts the kernel at reg = <0x60000 0x200000> (-flash-offset 0x60000, kernel partition 0x200000 bytes)`},
		{"offset", args(dtb, "0x300000", "0x70000"),
			`partition "kernel" (` + part + `partition@60000) has reg = <0x60000 0x300000>, the image puts the kernel at reg = <0x70000 0x300000>`},
		{"missing", args(noKernel, "0x300000", "0x60000"),
			`-dtb ` + noKernel + `: no partition labelled "kernel" under a "partitions" node; the image wants reg = <0x60000 0x300000>`},
		{"no offset", []string{"flash", "-kernel", kpath, "-rootfs", rpath, "-erase-block", "0x10000", "-partition-size", "0xfa0000", "-dtb", dtb, "-o", out},
			"-dtb " + dtb + " needs -flash-offset"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			contains(t, "error", runFail(t, 1, tt.args...), tt.want)
		})
	}
	// The rootfs partition is checked too.
	rootfs, _ := tree.Find("/spi/flash@0/partitions")
	rootfs.Children = append(rootfs.Children, &fdt.Node{Name: "partition@60000", Props: []fdt.Property{{Name: "label", Value: []byte("kernel\x00")}, {Name: "reg", Value: []byte{0, 6, 0, 0, 0, 0x30, 0, 0}}}},
		&fdt.Node{Name: "partition@360000", Props: []fdt.Property{{Name: "label", Value: []byte("rootfs\x00")}, {Name: "reg", Value: []byte{0, 0x36, 0, 0, 0, 0xc0, 0, 0}}}})
	short := write(t, dir, "short.dtb", tree.Encode())
	contains(t, "error", runFail(t, 1, args(short, "0x300000", "0x60000")...),
		`partition "rootfs" (`+part+`partition@360000) has reg = <0x360000 0xc00000>, the image puts the rootfs at reg = <0x360000 0xca0000> (after the kernel partition, to the end of the -partition-size 0xfa0000 firmware partition at -flash-offset 0x60000)`)
}

func TestFlashInputErrors(t *testing.T) {
	dir := t.TempDir()
	kpath := write(t, dir, "uImage", fakeUImage(0x9000))
	rpath := write(t, dir, "rootfs.squashfs", fakeSquashfs(0x1000))
	bad := write(t, dir, "bad", []byte("not an image at all, but longer than a header: ......................................................"))
	big := write(t, dir, "big", fakeUImage(0x20000))
	out := filepath.Join(dir, "firmware.bin")
	flash := func(kernel, rootfs string, extra ...string) []string {
		return append([]string{"flash", "-kernel", kernel, "-rootfs", rootfs, "-erase-block", "0x1000", "-partition-size", "0x40000", "-kernel-size", "0x10000", "-o", out}, extra...)
	}
	for _, tt := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad uImage", flash(bad, rpath), 1, "-kernel " + bad + ": not a valid uImage: bad magic"},
		{"not squashfs", flash(kpath, bad), 1, "-rootfs " + bad + `: not a squashfs image (want the magic "hsqs" at offset 0, have "not ")`},
		{"missing file", flash(kpath, filepath.Join(dir, "nope")), 1, "-rootfs: open " + filepath.Join(dir, "nope")},
		{"kernel too big", flash(big, rpath), 1, "-kernel " + big + ": the uImage is 131072 bytes, 65536 more than the kernel partition (-kernel-size 0x10000, 65536 bytes)"},
		{"bad manifest", flash(kpath, rpath, "-manifest", bad), 1, "-manifest " + bad + ": manifest:"},
		{"bad number", flash(kpath, rpath, "-erase-block", "64k"), 2, `invalid value "64k" for flag -erase-block: want a number such as 0x10000`},
		{"missing flag", []string{"flash", "-kernel", kpath, "-rootfs", rpath, "-o", out}, 2, "missing -erase-block"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			contains(t, "error", runFail(t, tt.code, tt.args...), tt.want)
		})
	}
}
