package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
)

// flashLayout is where the parts of firmware.bin lie, as offsets from the
// start of the firmware partition. All fields are bytes.
type flashLayout struct {
	EraseBlock uint64
	Partition  uint64 // the firmware partition
	Kernel     uint64 // the uImage
	KernelPart uint64 // the kernel partition: where the rootfs starts
	Rootfs     uint64 // the squashfs
	Image      uint64 // firmware.bin: KernelPart + Rootfs, padded to EraseBlock
}

// Free is the room left in the firmware partition after the image.
func (l flashLayout) Free() int64 { return int64(l.Partition) - int64(l.Image) }

// planFlash lays out a kernel and rootfs of the given sizes. kernelSize is
// the fixed kernel partition (0: none, the rootfs starts at the erase block
// after the uImage). It fails when the numbers cannot describe a flash
// layout or the uImage does not fit its partition; whether the image fits
// the firmware partition is for the caller to check with Free, so that it
// can say what takes the room.
func planFlash(kernel, rootfs, kernelSize, partition, erase uint64) (flashLayout, error) {
	l := flashLayout{EraseBlock: erase, Partition: partition, Kernel: kernel, Rootfs: rootfs}
	switch {
	case erase == 0:
		return l, fmt.Errorf("-erase-block is 0, want the flash erase block size such as 0x10000")
	case partition == 0 || partition%erase != 0:
		return l, fmt.Errorf("-partition-size %#x is not a positive multiple of -erase-block %#x", partition, erase)
	case kernelSize%erase != 0:
		return l, fmt.Errorf("-kernel-size %#x is not a multiple of -erase-block %#x: the rootfs partition must start on an erase block", kernelSize, erase)
	case kernelSize >= partition:
		return l, fmt.Errorf("-kernel-size %#x leaves no room for the rootfs in -partition-size %#x", kernelSize, partition)
	}
	l.KernelPart = kernelSize
	if kernelSize == 0 {
		l.KernelPart = alignUp(kernel, erase)
	} else if kernel > kernelSize {
		return l, fmt.Errorf("the uImage is %d bytes, %d more than the kernel partition (-kernel-size %#x, %d bytes)", kernel, kernel-kernelSize, kernelSize, kernelSize)
	}
	l.Image = alignUp(l.KernelPart+rootfs, erase)
	return l, nil
}

// describe lists the sizes, one a line, for errors and reports.
func (l flashLayout) describe(w io.Writer, kernelPath, rootfsPath string) {
	fmt.Fprintf(w, "  kernel      %10d bytes  %s\n", l.Kernel, kernelPath)
	fmt.Fprintf(w, "  padded to   %10d bytes  (kernel partition; %d bytes free in it)\n", l.KernelPart, l.KernelPart-l.Kernel)
	fmt.Fprintf(w, "  rootfs      %10d bytes  %s (at offset %#x)\n", l.Rootfs, rootfsPath, l.KernelPart)
	fmt.Fprintf(w, "  total       %10d bytes  (padded to %d-byte erase blocks)\n", l.Image, l.EraseBlock)
	fmt.Fprintf(w, "  partition   %10d bytes  (%#x)\n", l.Partition, l.Partition)
	if free := l.Free(); free >= 0 {
		fmt.Fprintf(w, "  free        %10d bytes  (%.1f%% of the partition)\n", free, 100*float64(free)/float64(l.Partition))
	} else {
		fmt.Fprintf(w, "  over        %10d bytes\n", -free)
	}
}

// build returns firmware.bin: the uImage padded with 0xff (erased flash) to
// the kernel partition, then the rootfs, padded to the erase block.
func (l flashLayout) build(kernel, rootfs []byte) []byte {
	img := bytes.Repeat([]byte{0xff}, int(l.Image))
	copy(img, kernel)
	copy(img[l.KernelPart:], rootfs)
	return img
}

func flashCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("flash", stderr)
	kernelPath := fs.String("kernel", "", "the kernel uImage `file`")
	rootfsPath := fs.String("rootfs", "", "the root filesystem, a squashfs `file`")
	erase := numFlag(fs, "erase-block", 0, "flash erase block size in bytes")
	partition := numFlag(fs, "partition-size", 0, "size of the firmware partition in bytes")
	kernelSize := numFlag(fs, "kernel-size", 0, "size of the kernel partition at the start of the firmware partition (0: the rootfs starts at the erase block after the uImage)")
	manifest := fs.String("manifest", "", "the root filesystem's manifest `file`, for the largest packages and files")
	dtbPath := fs.String("dtb", "", "device tree `file` whose partitions \"kernel\" and \"rootfs\" must agree with the layout")
	flashOffset := numFlag(fs, "flash-offset", 0, "offset of the firmware partition in the flash chip (needed with -dtb)")
	out := fs.String("o", "", "write the image to `file`")
	report := fs.String("report", "", "write a size report to `file`")
	if err := parse(fs, args, 0, "kernel", "rootfs", "erase-block", "partition-size", "o"); err != nil {
		return err
	}
	if *dtbPath != "" && !isSet(fs, "flash-offset") {
		return fmt.Errorf("-dtb %s needs -flash-offset: the partitions in a DTB are offsets in the flash chip", *dtbPath)
	}

	kernel, err := readInput("kernel", *kernelPath)
	if err != nil {
		return err
	}
	if _, _, err := legacy.Decode(kernel); err != nil {
		return fmt.Errorf("-kernel %s: not a valid uImage: %v", *kernelPath, err)
	}
	rootfs, err := readInput("rootfs", *rootfsPath)
	if err != nil {
		return err
	}
	if err := checkSquashfs("rootfs", *rootfsPath, rootfs); err != nil {
		return err
	}
	var u *usage
	if *manifest != "" {
		if u, err = readUsage(*manifest); err != nil {
			return err
		}
	}
	if k := uint64(len(kernel)); *kernelSize != 0 && k > *kernelSize {
		return fmt.Errorf("-kernel %s: the uImage is %d bytes, %d more than the kernel partition (-kernel-size %#x, %d bytes)", *kernelPath, k, k-*kernelSize, *kernelSize, *kernelSize)
	}
	l, err := planFlash(uint64(len(kernel)), uint64(len(rootfs)), *kernelSize, *partition, *erase)
	if err != nil {
		return err
	}
	if l.Free() < 0 {
		var b strings.Builder
		fmt.Fprintf(&b, "-o %s: the image would be %d bytes, %d more than the firmware partition (-partition-size %#x):\n", *out, l.Image, -l.Free(), l.Partition)
		l.describe(&b, *kernelPath, *rootfsPath)
		u.write(&b)
		return fmt.Errorf("%s", strings.TrimSuffix(b.String(), "\n"))
	}
	if *dtbPath != "" {
		if err := checkPartitions(*dtbPath, *flashOffset, l); err != nil {
			return err
		}
	}
	if err := os.WriteFile(*out, l.build(kernel, rootfs), 0o644); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	if *report != "" {
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s: %d bytes for a %d-byte firmware partition\n", *out, l.Image, l.Partition)
		l.describe(&b, *kernelPath, *rootfsPath)
		u.write(&b)
		if err := os.WriteFile(*report, b.Bytes(), 0o644); err != nil {
			return fmt.Errorf("-report: %w", err)
		}
	}
	return nil
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// partition is a fixed partition found in a device tree.
type partition struct {
	Path   string
	Region fdt.Region
}

// fixedPartitions returns the partitions of a DTB by label: the children
// with a label of nodes named "partitions" (the fixed-partitions binding).
func fixedPartitions(tree *fdt.Tree) (map[string][]partition, error) {
	parts := map[string][]partition{}
	var walk func(path string, n *fdt.Node) error
	walk = func(path string, n *fdt.Node) error {
		for _, c := range n.Children {
			cpath := strings.TrimSuffix(path, "/") + "/" + c.Name
			if n.Name == "partitions" {
				label, err := c.StringValue("label")
				if err != nil {
					continue // not a partition we look for
				}
				regs, err := c.Reg(n)
				if err != nil {
					return fmt.Errorf("%s: %w", cpath, err)
				}
				if len(regs) != 1 {
					return fmt.Errorf("%s: reg has %d regions, want 1", cpath, len(regs))
				}
				parts[label] = append(parts[label], partition{cpath, regs[0]})
			}
			if err := walk(cpath, c); err != nil {
				return err
			}
		}
		return nil
	}
	return parts, walk("/", tree.Root)
}

// checkPartitions checks that the DTB's partitions "kernel" and "rootfs"
// are where the image puts the uImage and the squashfs: the kernel partition
// at the start of the firmware partition, the rootfs from its end to the
// end of the firmware partition. A kernel that mounts the wrong range
// would not find its root.
func checkPartitions(path string, flashOffset uint64, l flashLayout) error {
	b, err := readInput("dtb", path)
	if err != nil {
		return err
	}
	tree, err := fdt.Decode(b)
	if err != nil {
		return fmt.Errorf("-dtb %s: %w", path, err)
	}
	parts, err := fixedPartitions(tree)
	if err != nil {
		return fmt.Errorf("-dtb %s: %w", path, err)
	}
	for _, want := range []struct {
		label string
		r     fdt.Region
		why   string
	}{
		{"kernel", fdt.Region{Address: flashOffset, Size: l.KernelPart},
			fmt.Sprintf("-flash-offset %#x, kernel partition %#x bytes", flashOffset, l.KernelPart)},
		{"rootfs", fdt.Region{Address: flashOffset + l.KernelPart, Size: l.Partition - l.KernelPart},
			fmt.Sprintf("after the kernel partition, to the end of the -partition-size %#x firmware partition at -flash-offset %#x", l.Partition, flashOffset)},
	} {
		found := parts[want.label]
		switch len(found) {
		case 0:
			return fmt.Errorf("-dtb %s: no partition labelled %q under a \"partitions\" node; the image wants reg = <%#x %#x> (%s)", path, want.label, want.r.Address, want.r.Size, want.why)
		case 1:
		default:
			return fmt.Errorf("-dtb %s: %d partitions labelled %q (%s and %s)", path, len(found), want.label, found[0].Path, found[1].Path)
		}
		if got := found[0].Region; got != want.r {
			return fmt.Errorf("-dtb %s: partition %q (%s) has reg = <%#x %#x>, the image puts the %s at reg = <%#x %#x> (%s)",
				path, want.label, found[0].Path, got.Address, got.Size, want.label, want.r.Address, want.r.Size, want.why)
		}
	}
	return nil
}
