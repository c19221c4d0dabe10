package main

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
	"bazwrt/tools/vm"
)

// bssGuess is the room assumed past vmlinux.bin for the kernel's .bss (and,
// on MIPS, the 1 MiB it keeps for an appended DTB) when -vmlinux does not
// give the real end; the gl-ar750 kernel needs 1.2 MiB.
const bssGuess = 2 << 20

// tftpboot is the RAM-boot directory being made.
type tftpboot struct {
	ram    ram
	kernel region // the decompressed kernel
	rootfs region // reserved for the squashfs: its size rounded up to the erase block
	phram  vm.Phram
	uimage region
	dtb    region // the separate DTB; size 0 when it is appended or the board's
	// boardFDT: the kernel gets U-Boot's own device tree, which the board
	// gave it (QEMU's virt), and mem= instead of /reserved-memory.
	boardFDT bool
}

func tftpbootCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tftpboot", stderr)
	kernelBin := fs.String("kernel-bin", "", "the raw kernel image `file` (vmlinux.bin)")
	vmlinux := fs.String("vmlinux", "", "the kernel's ELF `file`, for where its .bss ends (default: assume 2 MiB past vmlinux.bin)")
	dtbPath := fs.String("dtb", "", "the device tree `file` to patch")
	boardFDT := fs.Bool("board-fdt", false, "instead of -dtb: boot with U-Boot's own device tree (${fdtcontroladdr}), which the board gives it (QEMU's virt machine), and keep the kernel off the rootfs with mem=")
	rootfsPath := fs.String("rootfs", "", "the root filesystem, a squashfs `file`")
	arch := fs.String("arch", "", "U-Boot architecture: "+archNames())
	load := numFlag(fs, "load", 0, "kernel load address, as U-Boot and the uImage header give it")
	entry := numFlag(fs, "entry", 0, "kernel entry point")
	ramStart := numFlag(fs, "ram-start", 0, "physical address of the start of RAM")
	ramSize := numFlag(fs, "ram-size", 0, "size of RAM in bytes")
	erase := numFlag(fs, "erase-block", 0, "erase block of the phram device holding the rootfs: the device's flash erase block, a multiple of 64 KiB")
	console := fs.String("console", "", "kernel console argument, such as ttyS0,115200")
	compression := fs.String("compression", "lzma", "the uImage's compression: lzma, or none (a zImage decompresses itself; some U-Boots have no lzma)")
	appendDTB := fs.Bool("append-dtb", false, "append the DTB to the kernel in the uImage (a U-Boot that cannot pass one); otherwise boot.scr loads it and passes it to bootm")
	reserve := numFlag(fs, "bootloader-reserve", defaultBootloaderReserve, "bytes at the top of RAM that U-Boot uses and downloads must not touch")
	name := fs.String("name", "bazwrt ram boot", "uImage name, at most 31 bytes")
	servedAs := fs.String("served-as", "", "how README.txt names the directory to serve (default: -o as given)")
	out := fs.String("o", "", "write the files into `directory` (made if missing)")
	if err := parse(fs, args, 0, "kernel-bin", "rootfs", "arch", "load", "entry", "ram-size", "erase-block", "console", "o"); err != nil {
		return err
	}
	if (*dtbPath == "") == !*boardFDT {
		return fmt.Errorf("-dtb %q -board-fdt=%v: want exactly one: the device tree to patch, or the board's", *dtbPath, *boardFDT)
	}
	if *compression != "lzma" && *compression != "none" {
		return fmt.Errorf("-compression %q: want lzma or none", *compression)
	}
	if *boardFDT && *appendDTB {
		return fmt.Errorf("-append-dtb with -board-fdt: there is no device tree to append")
	}
	if strings.ContainsAny(*console, " '\"") {
		return fmt.Errorf("-console %q: want one kernel argument value such as ttyS0,115200, without spaces or quotes", *console)
	}
	if *erase == 0 || *erase%vm.EraseSize != 0 {
		return fmt.Errorf("-erase-block %#x: want a multiple of %#x, the erase size of the phram device (bazwrt/tools/vm)", *erase, vm.EraseSize)
	}
	kernel, err := readInput("kernel-bin", *kernelBin)
	if err != nil {
		return err
	}
	var tree *fdt.Tree
	if !*boardFDT {
		dtbIn, err := readInput("dtb", *dtbPath)
		if err != nil {
			return err
		}
		if tree, err = fdt.Decode(dtbIn); err != nil {
			return fmt.Errorf("-dtb %s: %w", *dtbPath, err)
		}
	}
	rootfs, err := readInput("rootfs", *rootfsPath)
	if err != nil {
		return err
	}
	if err := checkSquashfs("rootfs", *rootfsPath, rootfs); err != nil {
		return err
	}
	m, err := newRAM(*arch, *ramStart, *ramSize, *reserve)
	if err != nil {
		return err
	}
	t := tftpboot{ram: m, boardFDT: *boardFDT}

	// The rootfs at the top of RAM, below the boot loader, aligned down to
	// the erase block: as far from the kernel as it can be.
	size := alignUp(uint64(len(rootfs)), *erase)
	top := alignDown(m.end()-m.reserve, *erase)
	if top < m.start+size {
		return fmt.Errorf("-rootfs %s: %d bytes do not fit below %#x in RAM [%#x, %#x)", *rootfsPath, len(rootfs), top, m.start, m.end())
	}
	t.rootfs = region{"rootfs.squashfs", top - size, size}
	if t.phram, err = vm.NewPhram(t.rootfs.start, int64(len(rootfs))); err != nil {
		return fmt.Errorf("-rootfs %s: %w", *rootfsPath, err)
	}
	bootargs := strings.Join(append([]string{"console=" + *console}, t.phram.KernelArgs()...), " ")
	var dtb []byte
	dtbName := ""
	if *boardFDT {
		// No tree of ours to reserve the rootfs in: the kernel takes the
		// RAM below it only, as under run-vm.
		bootargs += " " + vm.MemArg(m.start, t.phram)
	} else {
		if err := patchDTB(tree, m, t.rootfs, bootargs); err != nil {
			return fmt.Errorf("-dtb %s: %w", *dtbPath, err)
		}
		dtb = tree.Encode()
		dtbName = filepath.Base(*dtbPath)
	}

	// The kernel: lzma(vmlinux.bin [+ DTB]) in a uImage.
	if *load > 0xffffffff || *entry > 0xffffffff {
		return fmt.Errorf("-load %#x -entry %#x: a uImage header holds 32-bit addresses", *load, *entry)
	}
	kphys, err := m.phys("load", *load)
	if err != nil {
		return err
	}
	if _, err := m.phys("entry", *entry); err != nil {
		return err
	}
	payload := kernel
	if *appendDTB {
		payload = append(append([]byte(nil), kernel...), dtb...)
	}
	extent := uint64(len(payload))
	if *vmlinux != "" {
		span, err := elfSpan(*vmlinux)
		if err != nil {
			return err
		}
		extent = max(extent, span)
	} else {
		extent = max(extent, uint64(len(kernel))+bssGuess)
	}
	t.kernel = region{"the kernel (decompressed)", kphys, extent}
	data, comp := payload, uint8(legacy.CompNone)
	if *compression == "lzma" {
		if data, err = legacy.CompressLZMA(payload); err != nil {
			return fmt.Errorf("-kernel-bin %s: lzma: %w", *kernelBin, err)
		}
		comp = legacy.CompLZMA
	}
	h := legacy.Header{Load: uint32(*load), Entry: uint32(*entry), OS: legacy.OSLinux, Arch: legacy.Arches[*arch], Type: legacy.TypeKernel, Comp: comp}
	if err := h.SetName(*name); err != nil {
		return fmt.Errorf("-name: %w", err)
	}
	uimage := legacy.Encode(h, data)
	t.uimage = region{"uImage", m.dataPhys(), uint64(len(uimage))}
	if !*appendDTB && !*boardFDT {
		t.dtb = region{dtbName, alignUp(t.uimage.end(), 64<<10), uint64(len(dtb))}
	}

	script := t.bootScript(bootargs, dtbName)
	scr, err := scriptImage(*arch, "bazwrt boot", []byte(script))
	if err != nil {
		return err
	}
	regions := []region{t.kernel, {"boot.scr", m.scriptPhys(), scriptSlot}, t.uimage, t.rootfs}
	if t.dtb.size > 0 {
		regions = append(regions, t.dtb)
	}
	if err := m.check(regions); err != nil {
		return err
	}

	dir := *out
	if *servedAs == "" {
		*servedAs = dir
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	type file struct {
		name string
		data []byte
	}
	files := []file{
		{"uImage", uimage},
		{"rootfs.squashfs", rootfs},
		{"boot.scr", scr},
		{"README.txt", []byte(t.readme(*servedAs, bootargs, dtbName, *appendDTB))},
	}
	if dtb != nil {
		files = append(files, file{dtbName, dtb})
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			return fmt.Errorf("-o: %w", err)
		}
	}
	return nil
}

// elfSpan is how much memory the loadable segments of an ELF kernel cover,
// .bss included.
func elfSpan(path string) (uint64, error) {
	f, err := elf.Open(path)
	if err != nil {
		return 0, fmt.Errorf("-vmlinux: %w", err)
	}
	defer f.Close()
	// By load address: ARM's vectors run at 0xffff0000 but are loaded with
	// the rest of the kernel (their PhysAddr), which is what takes RAM.
	lo, hi := ^uint64(0), uint64(0)
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Memsz > 0 {
			lo, hi = min(lo, p.Paddr), max(hi, p.Paddr+p.Memsz)
		}
	}
	if hi == 0 {
		return 0, fmt.Errorf("-vmlinux %s: no loadable segment, want the kernel's ELF vmlinux", path)
	}
	return hi - lo, nil
}

// patchDTB makes the rootfs region reserved memory the kernel leaves alone
// (no-map: not even in its linear map, as phram maps it itself) and sets
// the kernel command line.
func patchDTB(tree *fdt.Tree, m ram, rootfs region, bootargs string) error {
	root := tree.Root
	if err := checkMemory(tree, m); err != nil {
		return err
	}
	for _, r := range tree.Reservations {
		if rootfs.start < r.Address+r.Size && r.Address < rootfs.end() {
			return fmt.Errorf("/memreserve/ %#x %#x overlaps the rootfs [%#x, %#x)", r.Address, r.Size, rootfs.start, rootfs.end())
		}
	}
	rm := root.Child("reserved-memory")
	if rm == nil {
		var err error
		if rm, err = root.AddChild("reserved-memory"); err != nil {
			return err
		}
		// The binding wants the root's cell sizes and an identity ranges.
		ac, sc, err := root.Cells()
		if err != nil {
			return err
		}
		rm.SetU32s("#address-cells", ac)
		rm.SetU32s("#size-cells", sc)
		rm.SetEmpty("ranges")
	} else if v, ok := rm.Prop("ranges"); !ok || len(v) != 0 {
		return fmt.Errorf("/reserved-memory has no empty ranges property; its children's addresses would not be physical")
	}
	nodeName := fmt.Sprintf("phram-rootfs@%x", rootfs.start)
	for _, c := range rm.Children {
		if c.Name == nodeName {
			continue
		}
		if _, ok := c.Prop("reg"); !ok {
			continue // dynamically placed (size, alloc-ranges): the kernel avoids no-map regions
		}
		regs, err := c.Reg(rm)
		if err != nil {
			return fmt.Errorf("/reserved-memory/%s: %w", c.Name, err)
		}
		for _, r := range regs {
			if rootfs.start < r.Address+r.Size && r.Address < rootfs.end() {
				return fmt.Errorf("/reserved-memory/%s [%#x, %#x) overlaps the rootfs [%#x, %#x)", c.Name, r.Address, r.Address+r.Size, rootfs.start, rootfs.end())
			}
		}
	}
	node := rm.Child(nodeName)
	if node == nil {
		node, _ = rm.AddChild(nodeName)
	}
	if err := node.SetReg(rm, fdt.Region{Address: rootfs.start, Size: rootfs.size}); err != nil {
		return fmt.Errorf("/reserved-memory/%s: %w", nodeName, err)
	}
	node.SetEmpty("no-map")

	chosen := root.Child("chosen")
	if chosen == nil {
		chosen, _ = root.AddChild("chosen")
	}
	chosen.SetString("bootargs", bootargs)
	return nil
}

// checkMemory fails if the DTB's memory nodes do not cover the RAM the
// facts describe: the kernel would not manage the memory the rootfs is
// placed in, and the two descriptions of the board disagree. A DTB without
// memory nodes (the boot loader fills them in) is not checked.
func checkMemory(tree *fdt.Tree, m ram) error {
	var mem []fdt.Region
	for _, n := range tree.Root.Children {
		if t, err := n.StringValue("device_type"); err != nil || t != "memory" {
			continue
		}
		regs, err := n.Reg(tree.Root)
		if err != nil {
			return fmt.Errorf("/%s: %w", n.Name, err)
		}
		mem = append(mem, regs...)
	}
	if len(mem) == 0 {
		return nil
	}
	for _, r := range mem {
		if r.Address <= m.start && m.end() <= r.Address+r.Size {
			return nil
		}
	}
	return fmt.Errorf("the memory nodes %#x do not cover RAM [%#x, %#x) of -ram-start %#x -ram-size %#x", mem, m.start, m.end(), m.start, m.size)
}

// bootScript is boot.scr's text. bootargs is set for kernels that take the
// command line from the boot loader; those that take it from the DTB find
// the same in /chosen.
func (t tftpboot) bootScript(bootargs, dtbName string) string {
	m := t.ram
	var b strings.Builder
	fmt.Fprintf(&b, "setenv bootargs '%s'\n", bootargs)
	fmt.Fprintf(&b, "tftpboot %#x uImage\n", m.uboot(t.uimage.start))
	fmt.Fprintf(&b, "tftpboot %#x rootfs.squashfs\n", m.uboot(t.rootfs.start))
	switch {
	case t.boardFDT:
		fmt.Fprintf(&b, "bootm %#x - ${fdtcontroladdr}\n", m.uboot(t.uimage.start))
	case t.dtb.size > 0:
		fmt.Fprintf(&b, "tftpboot %#x %s\n", m.uboot(t.dtb.start), dtbName)
		fmt.Fprintf(&b, "bootm %#x - %#x\n", m.uboot(t.uimage.start), m.uboot(t.dtb.start))
	default:
		fmt.Fprintf(&b, "bootm %#x\n", m.uboot(t.uimage.start))
	}
	return b.String()
}

func (t tftpboot) readme(dir, bootargs, dtbName string, appended bool) string {
	m := t.ram
	var b strings.Builder
	ubootNote := "; U-Boot's are the same"
	if m.offset != 0 {
		ubootNote = fmt.Sprintf("; U-Boot's are %#x higher", m.offset)
	}
	kernel := "uImage           the kernel (lzma)"
	dtbLine := fmt.Sprintf("  %-16s the device tree, patched: /reserved-memory/phram-rootfs, /chosen/bootargs\n", dtbName)
	if t.boardFDT {
		dtbLine = "  (device tree)    the board's, which U-Boot has (${fdtcontroladdr}); mem= keeps the kernel off the rootfs\n"
	}
	if appended {
		kernel += ", " + dtbName + " appended"
	}
	fmt.Fprintf(&b, `RAM boot over TFTP: U-Boot loads the kernel and the root filesystem into
RAM; nothing is written to flash.

  %s
  rootfs.squashfs  the root filesystem, mounted from RAM through phram
%s  boot.scr         the U-Boot script that loads and boots them

1. Serve this directory (U-Boot asks port 69, which needs privileges:
   see docs/tftpd.md):

     bazel run //tools:tftpd -- -listen :69 -a DEVICE_IP %s

2. At the U-Boot prompt (serial console), with DEVICE_IP and SERVER_IP
   filled in:

     setenv ipaddr DEVICE_IP; setenv serverip SERVER_IP; tftpboot %#x boot.scr; source %#x

   (U-Boot before 2009 calls source autoscr.)

Kernel command line:
  %s

Memory (physical addresses%s):
`, kernel, dtbLine, dir, m.uboot(m.scriptPhys()), m.uboot(m.scriptPhys()), bootargs, ubootNote)
	regions := []region{t.kernel, {"boot.scr", m.scriptPhys(), scriptSlot}, t.uimage}
	if t.dtb.size > 0 {
		regions = append(regions, t.dtb)
	}
	regions = append(regions, t.rootfs)
	if m.reserve > 0 {
		regions = append(regions, region{"boot loader", m.end() - m.reserve, m.reserve})
	}
	for _, r := range regions {
		fmt.Fprintf(&b, "  0x%08x-0x%08x  %s\n", r.start, r.end(), r.name)
	}
	return b.String()
}
