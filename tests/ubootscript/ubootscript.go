// Package ubootscript checks the U-Boot scripts fwimage writes (boot.scr
// of a RAM-boot directory, flash.scr) for what makes them work on a board,
// not for their text: every download lies in the board's RAM below the
// boot loader's part and overlaps nothing else in use (the script itself,
// the decompressed kernel, the other downloads); the files they download
// exist next to them and fit; bootm boots what was downloaded; the rootfs
// lands where the kernel's phram argument says; the flash script erases
// exactly the firmware partition and copies the file it downloaded.
//
// No test runs these scripts in a U-Boot, so the tests of their generator
// check these properties instead of comparing with a copy of its output.
package ubootscript

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"bazwrt/tools/fdt"
	"bazwrt/tools/uimage/legacy"
)

// Cmd is one command of a script.
type Cmd struct {
	Line int
	Name string
	Args []string
}

func (c Cmd) String() string {
	return fmt.Sprintf("line %d: %s %s", c.Line, c.Name, strings.Join(c.Args, " "))
}

// Parse splits a script into commands, one a line. It refuses what only
// one of U-Boot's two command parsers understands (;, &&, ||, comments),
// and quotes other than one '...' value of setenv.
func Parse(text string) ([]Cmd, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("the script does not end with a newline")
	}
	var cmds []Cmd
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			return nil, fmt.Errorf("line %d is empty", n)
		}
		if line != strings.TrimSpace(line) {
			return nil, fmt.Errorf("line %d: leading or trailing space: %q", n, line)
		}
		var quoted string
		if i := strings.IndexByte(line, '\''); i >= 0 {
			j := strings.LastIndexByte(line, '\'')
			if !strings.HasPrefix(line, "setenv ") || j != len(line)-1 || j == i {
				return nil, fmt.Errorf("line %d: quotes other than setenv NAME '...': %q", n, line)
			}
			quoted, line = line[i+1:j], strings.TrimSpace(line[:i])
		}
		if strings.ContainsAny(line, ";#|&") || strings.Contains(quoted, "'") {
			return nil, fmt.Errorf("line %d: ;, #, | or & outside quotes, which the parsers read differently: %q", n, line)
		}
		f := strings.Fields(line)
		c := Cmd{Line: n, Name: f[0], Args: f[1:]}
		if quoted != "" {
			c.Args = append(c.Args, quoted)
		}
		cmds = append(cmds, c)
	}
	return cmds, nil
}

// Board is what the checks know of a board.
type Board struct {
	RAMStart, RAMSize uint64 // physical
	// KSEG0: U-Boot addresses RAM through MIPS KSEG0, 0x80000000 +
	// physical; otherwise U-Boot addresses are physical.
	KSEG0 bool
	// BootloaderReserve is the top of RAM U-Boot relocates itself to.
	BootloaderReserve uint64
}

// phys turns a U-Boot address into a physical one.
func (b Board) phys(a uint64) (uint64, error) {
	if b.KSEG0 {
		if a < 0x80000000 || a >= 0xa0000000 {
			return 0, fmt.Errorf("%#x is not a KSEG0 address", a)
		}
		return a - 0x80000000, nil
	}
	return a, nil
}

// Range is a physical address range [Start, End) and what is there.
type Range struct {
	Name       string
	Start, End uint64
}

func (r Range) String() string { return fmt.Sprintf("%s [%#x, %#x)", r.Name, r.Start, r.End) }

// layout checks that every range lies in RAM below the boot loader's part
// and that no two overlap.
func (b Board) layout(rs []Range) []error {
	var errs []error
	top := b.RAMStart + b.RAMSize - b.BootloaderReserve
	for _, r := range rs {
		if r.Start < b.RAMStart || r.End > top || r.End < r.Start {
			errs = append(errs, fmt.Errorf("%v is not in RAM below the boot loader: [%#x, %#x)", r, b.RAMStart, top))
		}
	}
	sorted := append([]Range(nil), rs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].Start < sorted[i-1].End {
			errs = append(errs, fmt.Errorf("%v overlaps %v", sorted[i-1], sorted[i]))
		}
	}
	return errs
}

func num(s string) (uint64, error) {
	return strconv.ParseUint(s, 0, 64)
}

// file returns the size of a downloaded file, which must be a plain name
// in dir.
func file(dir, name string) (int64, error) {
	if name != filepath.Base(name) || name == "." || name == ".." {
		return 0, fmt.Errorf("%q is not a file name next to the script", name)
	}
	fi, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() || fi.Size() == 0 {
		return 0, fmt.Errorf("%s: not a non-empty file", name)
	}
	return fi.Size(), nil
}

var (
	sourceRE = regexp.MustCompile(`tftpboot (\S+) boot\.scr; source (\S+)`)
	phramRE  = regexp.MustCompile(`(?:^| )phram\.phram=phram0,(\w+),(\w+),(\w+)(?: |$)`)
	mtdRE    = regexp.MustCompile(`(?:^| )mtdparts=phram0:(\w+)\(rootfs\)(?: |$)`)
)

// CheckBoot checks boot.scr (its text) of the RAM-boot directory dir with
// its README.txt; kernel is where the kernel decompresses to (physical).
func CheckBoot(b Board, dir, script string, kernel Range) error {
	cmds, err := Parse(script)
	if err != nil {
		return fmt.Errorf("boot.scr: %w", err)
	}
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf("boot.scr: "+format, a...)) }

	// README.txt: where boot.scr is downloaded to and run from.
	ranges := []Range{kernel}
	readme, err := os.ReadFile(filepath.Join(dir, "README.txt"))
	if err != nil {
		return err
	}
	if m := sourceRE.FindStringSubmatch(string(readme)); m == nil {
		fail("README.txt has no \"tftpboot ADDR boot.scr; source ADDR\"")
	} else if m[1] != m[2] {
		fail("README.txt downloads boot.scr to %s but runs it from %s", m[1], m[2])
	} else if a, err := num(m[1]); err != nil {
		fail("README.txt: %v", err)
	} else if p, err := b.phys(a); err != nil {
		fail("README.txt: boot.scr: %v", err)
	} else if size, err := file(dir, "boot.scr"); err != nil {
		fail("%v", err)
	} else {
		ranges = append(ranges, Range{"boot.scr", p, p + uint64(size)})
	}

	loaded := map[uint64]string{} // U-Boot address -> file
	var bootargs string
	var rootfs *Range
	for i, c := range cmds {
		switch {
		case c.Name == "setenv" && len(c.Args) == 2 && c.Args[0] == "bootargs":
			bootargs = c.Args[1]
		case c.Name == "tftpboot" && len(c.Args) == 2:
			a, err := num(c.Args[0])
			if err != nil {
				fail("%v: %v", c, err)
				continue
			}
			p, err := b.phys(a)
			if err != nil {
				fail("%v: %v", c, err)
				continue
			}
			size, err := file(dir, c.Args[1])
			if err != nil {
				fail("%v: %v", c, err)
				continue
			}
			loaded[a] = c.Args[1]
			r := Range{c.Args[1], p, p + uint64(size)}
			if c.Args[1] == "rootfs.squashfs" {
				rootfs = &r
				continue // checked against its phram region below
			}
			ranges = append(ranges, r)
		case c.Name == "bootm" && (len(c.Args) == 1 || len(c.Args) == 3 && c.Args[1] == "-"):
			if i != len(cmds)-1 {
				fail("%v: bootm is not the last command", c)
			}
			a, err := num(c.Args[0])
			if err != nil || loaded[a] == "" {
				fail("%v: boots %s, where the script downloaded nothing", c, c.Args[0])
			} else if h, _, err := legacy.Decode(mustRead(filepath.Join(dir, loaded[a]))); err != nil || h.Type != legacy.TypeKernel {
				fail("%v: %s is not a kernel uImage (%v)", c, loaded[a], err)
			}
			if len(c.Args) == 3 {
				d, err := num(c.Args[2])
				if err != nil || !strings.HasSuffix(loaded[d], ".dtb") {
					fail("%v: the DTB argument %s is not where a .dtb was downloaded", c, c.Args[2])
				}
			}
		default:
			fail("%v: not a command of a RAM boot", c)
		}
	}
	if len(cmds) == 0 || cmds[len(cmds)-1].Name != "bootm" {
		fail("does not end with bootm")
	}

	// bootargs: the DTB's, and a phram region that holds the rootfs.
	if bootargs == "" {
		fail("sets no bootargs")
	}
	dtbs, _ := filepath.Glob(filepath.Join(dir, "*.dtb"))
	if len(dtbs) != 1 {
		fail("want one .dtb next to it, have %v", dtbs)
	} else if tree, err := fdt.Decode(mustRead(dtbs[0])); err != nil {
		fail("%s: %v", dtbs[0], err)
	} else if chosen, err := tree.Find("/chosen"); err != nil {
		fail("%s: %v", filepath.Base(dtbs[0]), err)
	} else if got, _ := chosen.StringValue("bootargs"); got != bootargs {
		fail("bootargs %q differ from /chosen/bootargs %q of %s", bootargs, got, filepath.Base(dtbs[0]))
	}
	m := phramRE.FindStringSubmatch(bootargs)
	if m == nil {
		fail("bootargs %q have no phram.phram=phram0,ADDR,SIZE,ERASE", bootargs)
	} else if rootfs == nil {
		fail("downloads no rootfs.squashfs")
	} else {
		addr, err1 := num(m[1])
		size, err2 := num(m[2])
		erase, err3 := num(m[3])
		switch {
		case errors.Join(err1, err2, err3) != nil:
			fail("phram: %v", errors.Join(err1, err2, err3))
		case addr != rootfs.Start:
			fail("rootfs.squashfs is downloaded to %#x (physical), phram reads it at %#x", rootfs.Start, addr)
		case rootfs.End-rootfs.Start > size:
			fail("rootfs.squashfs (%d bytes) does not fit the phram region of %#x bytes", rootfs.End-rootfs.Start, size)
		case erase == 0 || size%erase != 0:
			fail("phram size %#x is not a multiple of its erase size %#x", size, erase)
		default:
			ranges = append(ranges, Range{"rootfs.squashfs (phram)", addr, addr + size})
		}
		if mm := mtdRE.FindStringSubmatch(bootargs); mm == nil || mm[1] != m[2] {
			fail("bootargs %q: mtdparts=phram0:SIZE(rootfs) is not the phram size %s", bootargs, m[2])
		}
	}
	for _, err := range b.layout(ranges) {
		fail("%v", err)
	}
	return errors.Join(errs...)
}

// CheckFlash checks flash.scr (its text), run from the U-Boot address
// scriptAddr, for the firmware partition at flash address part (U-Boot's)
// of partSize bytes; the file it downloads must be in dir.
func CheckFlash(b Board, dir, script string, scriptAddr, part, partSize uint64) error {
	cmds, err := Parse(script)
	if err != nil {
		return fmt.Errorf("flash.scr: %w", err)
	}
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf("flash.scr: "+format, a...)) }
	var ranges []Range
	if p, err := b.phys(scriptAddr); err != nil {
		fail("script address: %v", err)
	} else if size, err := file(dir, "flash.scr"); err != nil {
		fail("%v", err)
	} else {
		ranges = append(ranges, Range{"flash.scr", p, p + uint64(size)})
	}
	// The steps in order; each index is where the step was seen.
	seen := map[string]int{}
	var dl uint64
	for i, c := range cmds {
		switch {
		case c.Name == "echo":
		case c.Name == "setenv" && len(c.Args) == 1 && c.Args[0] == "filesize":
			seen["clear"] = i
		case c.Name == "tftpboot" && len(c.Args) == 2:
			seen["download"] = i
			a, err := num(c.Args[0])
			p, err2 := b.phys(a)
			if err = errors.Join(err, err2); err != nil {
				fail("%v: %v", c, err)
				continue
			}
			dl = a
			size, err := file(dir, c.Args[1])
			if err != nil {
				fail("%v: %v", c, err)
			} else if uint64(size) > partSize {
				fail("%v: %s is %d bytes, more than the partition's %#x", c, c.Args[1], size, partSize)
			}
			// Whatever file is downloaded, at most a partition is copied.
			ranges = append(ranges, Range{c.Args[1] + " (up to the partition size)", p, p + partSize})
		case c.Name == "erase" && len(c.Args) == 2:
			seen["erase"] = i
			if c.Args[0] != fmt.Sprintf("%#x", part) || c.Args[1] != fmt.Sprintf("+%#x", partSize) {
				fail("%v: want the firmware partition, %#x +%#x", c, part, partSize)
			}
		case c.Name == "cp.b" && len(c.Args) == 3:
			seen["copy"] = i
			src, err := num(c.Args[0])
			if err != nil || src != dl || c.Args[1] != fmt.Sprintf("%#x", part) || c.Args[2] != "${filesize}" {
				fail("%v: want a copy of the download (%#x) to the partition (%#x), ${filesize} bytes", c, dl, part)
			}
		case c.Name == "reset":
			seen["reset"] = i
			if i != len(cmds)-1 {
				fail("%v: reset is not the last command", c)
			}
		default:
			fail("%v: not a command of a flash script", c)
		}
	}
	prev, prevIdx := "", -1
	for _, step := range []string{"clear", "download", "erase", "copy", "reset"} {
		i, ok := seen[step]
		if !ok {
			fail("no %s step", step)
			continue
		}
		if i <= prevIdx {
			fail("the %s step comes before the %s step", step, prev)
		}
		prev, prevIdx = step, i
	}
	for _, err := range b.layout(ranges) {
		fail("%v", err)
	}
	return errors.Join(errs...)
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}
