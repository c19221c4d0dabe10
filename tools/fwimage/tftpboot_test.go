package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/tests/ubootscript"
	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
)

// kernelBin looks like a kernel to lzma: compressible, not trivially.
func kernelBin() []byte {
	return append(bytes.Repeat([]byte("\x3c\x1a\x80\x06 kernel text "), 8000), noise(3, 20000)...)
}

// mipsELF is a minimal big-endian MIPS ELF32 with one PT_LOAD segment of
// memsz bytes at vaddr: what elfSpan reads of a vmlinux.
func mipsELF(vaddr, memsz uint32) []byte {
	return elf32(8, segment{vaddr, vaddr, memsz})
}

// segment is a PT_LOAD program header: where it runs, where it is loaded.
type segment struct{ vaddr, paddr, memsz uint32 }

// elf32 is a minimal big-endian ELF32 executable for machine with the
// program headers segs.
func elf32(machine uint16, segs ...segment) []byte {
	var b bytes.Buffer
	b.Write([]byte{0x7f, 'E', 'L', 'F', 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	be := binary.BigEndian
	binary.Write(&b, be, struct {
		Type, Machine                                        uint16
		Version, Entry, Phoff, Shoff, Flags                  uint32
		Ehsize, Phentsize, Phnum, Shentsize, Shnum, Shstrndx uint16
	}{2, machine, 1, segs[0].vaddr, 52, 0, 0, 52, 32, uint16(len(segs)), 40, 0, 0})
	for _, sg := range segs {
		binary.Write(&b, be, [8]uint32{1, 0, sg.vaddr, sg.paddr, 0, sg.memsz, 7, 0x1000})
	}
	return b.Bytes()
}

// TestElfSpan: the RAM a vmlinux takes is that of its load addresses. An
// ARM vmlinux runs its vectors at 0xffff0000 but loads them with the rest
// (readelf -l of the qemu-armv7l kernel).
func TestElfSpan(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name string
		elf  []byte
		want uint64
	}{
		{"mips", mipsELF(0x80060000, 0x701000), 0x701000},
		{"arm vectors", elf32(40,
			segment{0xc0008000, 0xc0008000, 0x1e0},
			segment{0xc0100000, 0xc0100000, 0x20ac18},
			segment{0xffff0000, 0xc0500000, 0x20},
			segment{0xffff1000, 0xc0500060, 0x350},
			segment{0xc0600000, 0xc0600000, 0xad600}), 0xc06ad600 - 0xc0008000},
	} {
		got, err := elfSpan(write(t, dir, tt.name, tt.elf))
		if err != nil || got != tt.want {
			t.Errorf("%s: elfSpan = %#x, %v; want %#x", tt.name, got, err, tt.want)
		}
	}
}

// mipsBoard is the gl-ar750's RAM as the script checks see it.
var mipsBoard = ubootscript.Board{RAMStart: 0, RAMSize: 0x8000000, KSEG0: true, BootloaderReserve: 1 << 20}

// tftpbootArgs are the arguments for the gl-ar750's facts.
func tftpbootArgs(kernel, dtb, rootfs, out string, extra ...string) []string {
	return append([]string{"tftpboot", "-kernel-bin", kernel, "-dtb", dtb, "-rootfs", rootfs, "-arch", "mips",
		"-load", "0x80060000", "-entry", "0x80060000", "-ram-start", "0x0", "-ram-size", "0x8000000",
		"-erase-block", "0x10000", "-console", "ttyS0,115200", "-append-dtb", "-served-as", "bazel-bin/x/ram", "-o", out}, extra...)
}

func TestTftpboot(t *testing.T) {
	dir := t.TempDir()
	kernel, rootfs := kernelBin(), fakeSquashfs(300000)
	kpath, rpath := write(t, dir, "vmlinux.bin", kernel), write(t, dir, "rootfs.squashfs", rootfs)
	elfPath := write(t, dir, "vmlinux", mipsELF(0x80060000, 0x701000))
	dtbPath := boardDTB(t, dir)
	out := filepath.Join(dir, "ram")
	runOK(t, tftpbootArgs(kpath, dtbPath, rpath, out, "-vmlinux", elfPath)...)

	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"README.txt", "board.dtb", "boot.scr", "rootfs.squashfs", "uImage"}, names); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	// 300000 bytes take 0x50000 in 64 KiB blocks, placed below the
	// top 1 MiB of the 128 MiB that U-Boot keeps: 0x7f00000 - 0x50000.
	const addr, size = 0x7eb0000, 0x50000
	bootargs := fmt.Sprintf("console=ttyS0,115200 phram.phram=phram0,%#x,%#x,0x10000 mtdparts=phram0:%#x(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs", addr, size, size)

	dtb := read(t, filepath.Join(out, "board.dtb"))
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
	reg, _ := ph.Reg(rm)
	chosen, _ := tree.Find("/chosen")
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"#address-cells", must(rm.U32("#address-cells")), uint32(1)},
		{"#size-cells", must(rm.U32("#size-cells")), uint32(1)},
		{"ranges", must(rm.Prop("ranges")), []byte(nil)},
		{"no-map", must(ph.Prop("no-map")), []byte(nil)},
		{"reg", reg, []fdt.Region{{Address: addr, Size: size}}},
		{"bootargs", must(chosen.StringValue("bootargs")), bootargs},
	} {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
	tool(t, "dtc", "device-tree-compiler")
	dts := string(command(t, "dtc", "-q", "-I", "dtb", "-O", "dts", filepath.Join(out, "board.dtb")))
	contains(t, "dtc -O dts of board.dtb", dts,
		"reserved-memory {\n\t\t#address-cells = <0x01>;\n\t\t#size-cells = <0x01>;\n\t\tranges;\n",
		fmt.Sprintf("phram-rootfs@%x {\n\t\t\treg = <%#x %#x>;\n\t\t\tno-map;\n", addr, addr, size),
		fmt.Sprintf("bootargs = %q;", bootargs),
		"label = \"rootfs\";") // the rest of the tree is still there

	img := read(t, filepath.Join(out, "uImage"))
	h, payload, err := legacy.Decode(img)
	if err != nil {
		t.Fatal(err)
	}
	if h.Load != 0x80060000 || h.Entry != 0x80060000 || h.Type != legacy.TypeKernel || h.Comp != legacy.CompLZMA || h.Arch != legacy.ArchMIPS || h.Time != 0 {
		t.Errorf("uImage header %+v", h)
	}
	plain, err := legacy.DecompressLZMA(payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(plain, append(append([]byte(nil), kernel...), dtb...)) {
		t.Errorf("uImage payload is %d bytes, want vmlinux.bin with the patched DTB appended (%d+%d)", len(plain), len(kernel), len(dtb))
	}
	if !bytes.Equal(read(t, filepath.Join(out, "rootfs.squashfs")), rootfs) {
		t.Error("rootfs.squashfs differs from -rootfs")
	}

	// No test runs boot.scr in a U-Boot: check what makes it work (the
	// kernel's extent is the ELF's segment) instead of its text.
	if err := ubootscript.CheckBoot(mipsBoard, out, dumpScript(t, filepath.Join(out, "boot.scr")),
		ubootscript.Range{Name: "the kernel (vmlinux)", Start: 0x60000, End: 0x60000 + 0x701000}); err != nil {
		t.Error(err)
	}
	contains(t, "README.txt", string(read(t, filepath.Join(out, "README.txt"))),
		"bazel run //tools:tftpd -- -listen :69 -a DEVICE_IP bazel-bin/x/ram\n",
		"  0x00060000-0x00761000  the kernel (decompressed)\n",
		"  0x07eb0000-0x07f00000  rootfs.squashfs\n",
		"  0x07f00000-0x08000000  boot loader\n",
		bootargs)

	// Deterministic: a second run writes the same bytes.
	again := filepath.Join(dir, "again")
	runOK(t, tftpbootArgs(kpath, dtbPath, rpath, again, "-vmlinux", elfPath)...)
	for _, n := range names {
		if !bytes.Equal(read(t, filepath.Join(out, n)), read(t, filepath.Join(again, n))) {
			t.Errorf("%s differs between two runs", n)
		}
	}
}

// TestTftpbootSeparateDTB boots an ARM board whose U-Boot passes the DTB:
// physical U-Boot addresses, the DTB loaded after the uImage and given to
// bootm.
func TestTftpbootSeparateDTB(t *testing.T) {
	dir := t.TempDir()
	kernel := kernelBin()
	kpath, rpath := write(t, dir, "zImage", kernel), write(t, dir, "rootfs.squashfs", fakeSquashfs(0x10000))
	tree, err := fdt.Decode(read(t, boardDTB(t, dir)))
	if err != nil {
		t.Fatal(err)
	}
	mem, _ := tree.Find("/memory")
	mem.SetU32s("reg", 0x40000000, 0x10000000)
	dtbPath := write(t, dir, "arm.dtb", tree.Encode())
	out := filepath.Join(dir, "ram")
	runOK(t, "tftpboot", "-kernel-bin", kpath, "-dtb", dtbPath, "-rootfs", rpath, "-arch", "arm",
		"-load", "0x40008000", "-entry", "0x40008000", "-ram-start", "0x40000000", "-ram-size", "0x10000000",
		"-erase-block", "0x10000", "-console", "ttyAMA0", "-o", out)

	_, payload, err := legacy.Decode(read(t, filepath.Join(out, "uImage")))
	if err != nil {
		t.Fatal(err)
	}
	if plain, _ := legacy.DecompressLZMA(payload); !bytes.Equal(plain, kernel) {
		t.Error("without -append-dtb the uImage payload is not the kernel alone")
	}
	// Without -vmlinux, 2 MiB past the kernel is what it may take.
	text := dumpScriptAnyArch(t, filepath.Join(out, "boot.scr"))
	arm := ubootscript.Board{RAMStart: 0x40000000, RAMSize: 0x10000000, BootloaderReserve: 1 << 20}
	kernelRange := ubootscript.Range{Name: "the kernel", Start: 0x40008000, End: 0x40008000 + uint64(len(kernel)) + 2<<20}
	if err := ubootscript.CheckBoot(arm, out, text, kernelRange); err != nil {
		t.Error(err)
	}
	// The kernel has no DTB appended: bootm must pass the one it downloaded.
	cmds, err := ubootscript.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if last := cmds[len(cmds)-1]; last.Name != "bootm" || len(last.Args) != 3 {
		t.Errorf("boot.scr: %v; want bootm UIMAGE - DTB", last)
	}
}

// TestTftpbootBoardFDT boots a board whose device tree U-Boot has from
// the board (QEMU's virt): no .dtb to patch, bootm passes U-Boot's tree,
// and mem= keeps the kernel below the rootfs instead of /reserved-memory.
func TestTftpbootBoardFDT(t *testing.T) {
	dir := t.TempDir()
	kernel := kernelBin()
	kpath, rpath := write(t, dir, "zImage", kernel), write(t, dir, "rootfs.squashfs", fakeSquashfs(0x30000))
	out := filepath.Join(dir, "ram")
	runOK(t, "tftpboot", "-kernel-bin", kpath, "-board-fdt", "-rootfs", rpath, "-arch", "arm",
		"-load", "0x40008000", "-entry", "0x40008000", "-ram-start", "0x40000000", "-ram-size", "0x10000000",
		"-erase-block", "0x10000", "-console", "ttyAMA0", "-compression", "none", "-o", out)

	// -compression none: the zImage as it is.
	if h, payload, err := legacy.Decode(read(t, filepath.Join(out, "uImage"))); err != nil || h.Comp != legacy.CompNone || !bytes.Equal(payload, kernel) {
		t.Errorf("uImage: %+v, %v; want the kernel uncompressed", h, err)
	}
	if dtbs, _ := filepath.Glob(filepath.Join(out, "*.dtb")); len(dtbs) != 0 {
		t.Errorf("-board-fdt wrote %v", dtbs)
	}
	text := dumpScriptAnyArch(t, filepath.Join(out, "boot.scr"))
	arm := ubootscript.Board{RAMStart: 0x40000000, RAMSize: 0x10000000, BootloaderReserve: 1 << 20}
	kernelRange := ubootscript.Range{Name: "the kernel", Start: 0x40008000, End: 0x40008000 + uint64(len(kernel)) + 2<<20}
	if err := ubootscript.CheckBoot(arm, out, text, kernelRange); err != nil {
		t.Error(err)
	}
	cmds, err := ubootscript.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if last := cmds[len(cmds)-1]; last.Name != "bootm" || len(last.Args) != 3 || last.Args[2] != ubootscript.BoardFDT {
		t.Errorf("boot.scr: %v; want bootm UIMAGE - %s", last, ubootscript.BoardFDT)
	}
	// The rootfs (3 erase blocks) at the top of RAM below U-Boot's
	// megabyte; the kernel gets everything below it.
	// RAM ends at 0x50000000, U-Boot keeps 1 MiB: the rootfs at 0x4fed0000.
	if !regexp.MustCompile(`\bmem=0xfed0000\b`).MatchString(text) {
		t.Errorf("boot.scr has no mem=0xfed0000 (the kernel's RAM up to the rootfs at 0x4fed0000):\n%s", text)
	}
	readme := string(read(t, filepath.Join(out, "README.txt")))
	if !strings.Contains(readme, "${fdtcontroladdr}") || strings.Contains(readme, ".dtb") {
		t.Errorf("README.txt does not say the board's device tree is used:\n%s", readme)
	}
}

func TestTftpbootErrors(t *testing.T) {
	dir := t.TempDir()
	kpath := write(t, dir, "vmlinux.bin", kernelBin())
	rpath := write(t, dir, "rootfs.squashfs", fakeSquashfs(300000))
	big := write(t, dir, "big.squashfs", fakeSquashfs(9<<20))
	huge := write(t, dir, "vmlinux", mipsELF(0x80060000, 16<<20))
	dtb := boardDTB(t, dir)
	notDTB := write(t, dir, "x.dtb", []byte("not a device tree, but longer than the header of one"))
	out := filepath.Join(dir, "ram")
	set := func(args []string, flag, value string) []string {
		args = append([]string(nil), args...)
		for i := range args {
			if args[i] == flag {
				args[i+1] = value
			}
		}
		return args
	}
	std := tftpbootArgs(kpath, dtb, rpath, out)
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"rootfs over the script", set(tftpbootArgs(kpath, dtb, big, out), "-ram-size", "0x1800000"),
			"boot.scr [0x1000000, 0x1100000) (U-Boot 0x81000000) overlaps rootfs.squashfs [0xe00000, 0x1700000) (U-Boot 0x80e00000)"},
		{"kernel over the script", append(std, "-vmlinux", huge),
			"the kernel (decompressed) [0x60000, 0x1060000) (U-Boot 0x80060000) overlaps boot.scr [0x1000000, 0x1100000)"},
		{"rootfs does not fit", set(tftpbootArgs(kpath, dtb, big, out), "-ram-size", "0x800000"),
			"-rootfs " + big + ": 9437184 bytes do not fit below 0x700000 in RAM [0x0, 0x800000)"},
		{"DTB memory", set(std, "-ram-size", "0x10000000"),
			"-dtb " + dtb + ": the memory nodes [{0x0 0x8000000}] do not cover RAM [0x0, 0x10000000) of -ram-start 0x0 -ram-size 0x10000000"},
		{"load not KSEG0", set(std, "-load", "0x60000"), "-load 0x60000 is not a KSEG0 address"},
		{"erase block", set(std, "-erase-block", "0x8000"), "-erase-block 0x8000: want a multiple of 0x10000"},
		{"console", set(std, "-console", "ttyS0 quiet"), `-console "ttyS0 quiet": want one kernel argument value`},
		{"not squashfs", tftpbootArgs(kpath, dtb, kpath, out), "-rootfs " + kpath + ": not a squashfs image"},
		{"not a DTB", tftpbootArgs(kpath, notDTB, rpath, out), "-dtb " + notDTB + ": dtb: bad magic"},
		{"not an ELF", append(std, "-vmlinux", kpath), "-vmlinux: bad magic number"},
		{"compression", append(std, "-compression", "gzip"), `-compression "gzip": want lzma or none`},
		{"both device trees", append(std, "-board-fdt"), "want exactly one: the device tree to patch, or the board's"},
		{"no device tree", set(std, "-dtb", ""), "want exactly one: the device tree to patch, or the board's"},
		{"append the board's", append(set(std, "-dtb", ""), "-board-fdt"), "-append-dtb with -board-fdt: there is no device tree to append"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			contains(t, "error", runFail(t, 1, tt.args...), tt.want)
		})
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed run left the output directory behind")
	}
}

func TestPatchDTB(t *testing.T) {
	m, err := newRAM("mips", 0, 0x8000000, 0x100000)
	if err != nil {
		t.Fatal(err)
	}
	rootfs := region{"rootfs.squashfs", 0x7eb0000, 0x50000}
	node := func(name string, props ...fdt.Property) *fdt.Node { return &fdt.Node{Name: name, Props: props} }
	cells := func(name string, v ...uint32) fdt.Property {
		n := &fdt.Node{}
		n.SetU32s(name, v...)
		return n.Props[0]
	}
	tests := []struct {
		name    string
		root    *fdt.Node
		want    string // dtc's rendering of /reserved-memory
		wantErr string
	}{
		{
			name: "created with the root's 2+2 cells",
			root: node("", cells("#address-cells", 2), cells("#size-cells", 2)),
			want: "reserved-memory {\n\t\t#address-cells = <0x02>;\n\t\t#size-cells = <0x02>;\n\t\tranges;\n\n\t\tphram-rootfs@7eb0000 {\n\t\t\treg = <0x00 0x7eb0000 0x00 0x50000>;\n\t\t\tno-map;\n\t\t};\n\t};",
		},
		{
			name: "existing node kept",
			root: &fdt.Node{Props: []fdt.Property{cells("#address-cells", 1), cells("#size-cells", 1)}, Children: []*fdt.Node{{
				Name:     "reserved-memory",
				Props:    []fdt.Property{cells("#address-cells", 1), cells("#size-cells", 1), {Name: "ranges"}},
				Children: []*fdt.Node{node("ramoops@1000000", cells("reg", 0x1000000, 0x10000))},
			}}},
			want: "ramoops@1000000 {\n\t\t\treg = <0x1000000 0x10000>;\n\t\t};\n\n\t\tphram-rootfs@7eb0000 {",
		},
		{
			name: "overlapping reservation",
			root: &fdt.Node{Props: []fdt.Property{cells("#address-cells", 1), cells("#size-cells", 1)}, Children: []*fdt.Node{{
				Name:     "reserved-memory",
				Props:    []fdt.Property{cells("#address-cells", 1), cells("#size-cells", 1), {Name: "ranges"}},
				Children: []*fdt.Node{node("other@7e00000", cells("reg", 0x7e00000, 0x200000))},
			}}},
			wantErr: "/reserved-memory/other@7e00000 [0x7e00000, 0x8000000) overlaps the rootfs [0x7eb0000, 0x7f00000)",
		},
		{
			name:    "translated ranges",
			root:    &fdt.Node{Children: []*fdt.Node{node("reserved-memory", cells("ranges", 0, 0x10000000, 0x1000000))}},
			wantErr: "/reserved-memory has no empty ranges property",
		},
		{
			name:    "cells too small",
			root:    node("", cells("#address-cells", 1), cells("#size-cells", 0)),
			wantErr: "reg size: 0x50000 does not fit in 0 cells",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := &fdt.Tree{Root: tt.root}
			err := patchDTB(tree, m, rootfs, "console=ttyS0")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			once := tree.Encode()
			if err := patchDTB(tree, m, rootfs, "console=ttyS0"); err != nil {
				t.Fatalf("patching twice: %v", err)
			}
			if !bytes.Equal(once, tree.Encode()) {
				t.Error("patching a patched tree changed it")
			}
			tool(t, "dtc", "device-tree-compiler")
			path := write(t, t.TempDir(), "p.dtb", once)
			contains(t, "dtc -O dts", string(command(t, "dtc", "-q", "-I", "dtb", "-O", "dts", path)), tt.want, `bootargs = "console=ttyS0";`)
		})
	}
	// A /memreserve/ entry over the rootfs.
	tree := &fdt.Tree{Root: &fdt.Node{}, Reservations: []fdt.Reservation{{Address: 0x7ef0000, Size: 0x1000}}}
	if err := patchDTB(tree, m, rootfs, ""); err == nil || !strings.Contains(err.Error(), "/memreserve/ 0x7ef0000 0x1000 overlaps the rootfs") {
		t.Errorf("memreserve overlap: %v", err)
	}
}

// must drops the error or ok of a getter whose failure the comparison
// would show anyway.
func must[T any, E any](v T, e E) T {
	switch e := any(e).(type) {
	case error:
		if e != nil {
			panic(e)
		}
	case bool:
		if !e {
			panic("not found")
		}
	}
	return v
}
