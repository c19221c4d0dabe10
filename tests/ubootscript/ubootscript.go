// Package ubootscript checks the U-Boot scripts fwimage writes (boot.scr
// of a RAM-boot directory, flash.scr) for what makes them work on a board,
// not for their text: every download lies in the board's RAM below the
// boot loader's part and overlaps nothing else in use (the script itself,
// the decompressed kernel, the other downloads); the files they download
// exist next to them and fit; bootm boots what was downloaded; the rootfs
// lands where the kernel's phram argument says. flash.scr is run in a
// model of U-Boot's hush parser and memory and flash commands against a
// whole, short, long, corrupted and failed download: only the whole one
// may erase and write the flash, exactly the firmware partition.
//
// The tests of the generator check these properties instead of comparing
// with a copy of its output; //tests/uboot runs flash.scr in a real U-Boot.
package ubootscript

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	memRE    = regexp.MustCompile(`(?:^| )mem=(\w+)(?: |$)`)
)

// BoardFDT is bootm's device tree argument for the tree U-Boot itself
// runs with, which the board gave it (QEMU's virt machine).
const BoardFDT = "${fdtcontroladdr}"

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
	boardFDT := false
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
			if len(c.Args) == 3 && c.Args[2] == BoardFDT {
				boardFDT = true
			} else if len(c.Args) == 3 {
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
	if boardFDT {
		// No tree to reserve the rootfs in: mem= must keep the kernel
		// below it (checked with the phram region below).
		if len(dtbs) != 0 {
			fail("passes the board's device tree, but %v lies next to it", dtbs)
		}
	} else if len(dtbs) != 1 {
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
		if boardFDT {
			if mm := memRE.FindStringSubmatch(bootargs); mm == nil {
				fail("bootargs %q: with the board's device tree, want mem= to keep the kernel off the rootfs", bootargs)
			} else if mem, err := num(mm[1]); err != nil {
				fail("mem=: %v", err)
			} else if b.RAMStart+mem > addr {
				fail("mem=%s gives the kernel RAM up to %#x, over the rootfs at %#x", mm[1], b.RAMStart+mem, addr)
			}
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
// of partSize bytes; the file it downloads must be in dir, and is taken
// for the image the script must write.
//
// The script is run, in a model of U-Boot's hush parser and of the
// commands a flash script may use (see run), against downloads of that
// image: whole, one byte short, one byte long, with a byte flipped, and
// failing. Each run starts as after an earlier whole download: RAM at the
// download address holds the image and filesize its size, so that a check
// of the content alone passes a short download, and one of a filesize not
// cleared before the download passes a failed one. Whole, the script must erase
// exactly the partition, copy the download into it, and reset last;
// otherwise it must neither erase nor write the flash nor reset, and must
// echo why. What the script writes in RAM must lie below the boot loader
// and overlap neither the script nor the download.
func CheckFlash(b Board, dir, script string, scriptAddr, part, partSize uint64) error {
	stmts, err := ParseHush(script)
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

	// The file the script downloads: the first tftpboot's.
	var name string
	var load uint64
	walk(stmts, func(c Cmd) {
		if c.Name == "tftpboot" && len(c.Args) == 2 && name == "" {
			name = c.Args[1]
			load, err = num(c.Args[0])
			if err != nil {
				fail("%v: %v", c, err)
			}
		}
	})
	if name == "" {
		fail("downloads nothing (no tftpboot ADDR FILE)")
		return errors.Join(errs...)
	}
	size, err := file(dir, name)
	if err != nil {
		fail("tftpboot %s: %v", name, err)
		return errors.Join(errs...)
	}
	if uint64(size) > partSize {
		fail("%s is %d bytes, more than the partition's %#x", name, size, partSize)
	}
	image := mustRead(filepath.Join(dir, name))
	if p, err := b.phys(load); err != nil {
		fail("tftpboot %#x: %v", load, err)
	} else {
		// Whatever file is downloaded, at most a partition is copied.
		ranges = append(ranges, Range{name + " (up to the partition size)", p, p + partSize})
	}

	flipped := bytes.Clone(image)
	flipped[len(flipped)/2] ^= 0x01
	written := map[uint64]bool{} // RAM the script writes, U-Boot addresses
	for _, sc := range []struct {
		name     string
		download []byte // nil: the download fails
	}{
		{"a whole download", image},
		{"a download one byte short", image[:len(image)-1]},
		{"a download one byte long", append(bytes.Clone(image), 0)},
		{"a download with a byte flipped", flipped},
		{"a failed download", nil},
	} {
		m := &machine{b: b, env: map[string]string{}, mem: newSparse(), flash: newSparse(),
			download: sc.download, written: written}
		m.mem.write(load, image)
		m.env["filesize"] = strconv.FormatUint(uint64(len(image)), 16)
		m.list(stmts)
		for _, err := range m.errs {
			fail("%v", err)
		}
		if len(m.errs) > 0 {
			break
		}
		good := sc.download != nil && bytes.Equal(sc.download, image)
		switch {
		case good:
			if len(m.erases) != 1 || m.erases[0] != [2]uint64{part, partSize} {
				fail("with %s it erases %s, want the firmware partition, %#x +%#x, once", sc.name, m.describeErases(), part, partSize)
			}
			if len(m.copies) == 0 {
				fail("with %s it writes nothing to the flash", sc.name)
			}
			for _, c := range m.copies {
				if c.src != load || c.dst != part {
					fail("with %s it copies %#x to %#x, want a copy of the download (%#x) to the partition (%#x)", sc.name, c.src, c.dst, load, part)
				}
			}
			want := bytes.Repeat([]byte{0xff}, int(partSize))
			copy(want, image)
			if got, all := m.flash.read(part, partSize); !all || !bytes.Equal(got, want) {
				fail("with %s the partition does not hold %s then erased flash", sc.name, name)
			}
			if a, ok := m.flash.outside(part, part+partSize); ok {
				fail("with %s it writes the flash at %#x, outside the partition", sc.name, a)
			}
			if !m.reset {
				fail("with %s it does not reset", sc.name)
			} else if m.afterReset {
				fail("with %s it runs commands after reset", sc.name)
			}
		default:
			if len(m.erases) > 0 || len(m.copies) > 0 {
				fail("with %s it erases %s and writes %d times to the flash, want nothing erased or written", sc.name, m.describeErases(), len(m.copies))
			}
			if m.reset {
				fail("with %s it resets, and its message scrolls away", sc.name)
			}
			if !m.echoAfterDownload {
				fail("with %s it echoes nothing after the download to say why it stops", sc.name)
			}
		}
	}
	var addrs []uint64
	for a := range written {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	for i := 0; i < len(addrs); {
		j := i + 1
		for j < len(addrs) && addrs[j] == addrs[j-1]+1 {
			j++
		}
		if p, err := b.phys(addrs[i]); err != nil {
			fail("writes RAM at %#x: %v", addrs[i], err)
		} else {
			ranges = append(ranges, Range{fmt.Sprintf("the words it writes at %#x", addrs[i]), p, p + addrs[j-1] - addrs[i] + 1})
		}
		i = j
	}
	for _, err := range b.layout(ranges) {
		fail("%v", err)
	}
	return errors.Join(errs...)
}

// Stmt is a statement of a script in the hush subset ParseHush reads:
// commands joined by && (Cmds), or an if.
type Stmt struct {
	Cmds []Cmd
	If   *If
}

// If is if COND; then THEN; [else ELSE;] fi, COND commands joined by &&.
type If struct {
	Cond       []Cmd
	Then, Else []Stmt
}

// ParseHush splits a script into statements, one or more a line: commands
// joined by &&, and if COND; then ...; else ...; fi (nested, on one line).
// It refuses what it does not model: quotes, ||, |, #, $ other than
// ${filesize}, and anything after fi.
func ParseHush(text string) ([]Stmt, error) {
	if !strings.HasSuffix(text, "\n") {
		return nil, errors.New("the script does not end with a newline")
	}
	var stmts []Stmt
	for i, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		n := i + 1
		if strings.TrimSpace(line) == "" {
			return nil, fmt.Errorf("line %d is empty", n)
		}
		if strings.ContainsAny(line, "'\"#|`\\") {
			return nil, fmt.Errorf("line %d: quotes, #, | or \\, which this check does not model: %q", n, line)
		}
		if strings.Contains(strings.ReplaceAll(line, "${filesize}", ""), "$") {
			return nil, fmt.Errorf("line %d: a variable other than ${filesize}: %q", n, line)
		}
		p := &hushParser{line: n, toks: strings.Fields(strings.ReplaceAll(line, ";", " ; "))}
		list, err := p.list()
		if err != nil {
			return nil, fmt.Errorf("line %d: %w: %q", n, err, line)
		}
		if p.i < len(p.toks) {
			return nil, fmt.Errorf("line %d: unexpected %q: %q", n, p.toks[p.i], line)
		}
		stmts = append(stmts, list...)
	}
	return stmts, nil
}

type hushParser struct {
	line int
	toks []string
	i    int
}

func (p *hushParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *hushParser) expect(tok string) error {
	if p.peek() != tok {
		return fmt.Errorf("want %q, have %q", tok, p.peek())
	}
	p.i++
	return nil
}

// list reads statements separated by ; up to then, else, fi or the end.
func (p *hushParser) list() ([]Stmt, error) {
	var list []Stmt
	for {
		switch p.peek() {
		case "", "then", "else", "fi":
			return list, nil
		case ";":
			return nil, errors.New("an empty command")
		case "if":
			p.i++
			cond, err := p.chain()
			if err != nil {
				return nil, err
			}
			if err := p.expect(";"); err != nil {
				return nil, err
			}
			if err := p.expect("then"); err != nil {
				return nil, err
			}
			st := &If{Cond: cond}
			if st.Then, err = p.list(); err != nil {
				return nil, err
			}
			if p.peek() == "else" {
				p.i++
				if st.Else, err = p.list(); err != nil {
					return nil, err
				}
			}
			if err := p.expect("fi"); err != nil {
				return nil, err
			}
			list = append(list, Stmt{If: st})
		default:
			cmds, err := p.chain()
			if err != nil {
				return nil, err
			}
			list = append(list, Stmt{Cmds: cmds})
		}
		if p.peek() == ";" {
			p.i++
		} else if t := p.peek(); t != "" && t != "then" && t != "else" && t != "fi" {
			return nil, fmt.Errorf("want ; before %q", t)
		}
	}
}

// chain reads commands joined by &&.
func (p *hushParser) chain() ([]Cmd, error) {
	var cmds []Cmd
	for {
		var c Cmd
		for t := p.peek(); t != "" && t != ";" && t != "&&"; t = p.peek() {
			if c.Name == "" {
				if t == "if" || t == "then" || t == "else" || t == "fi" {
					return nil, fmt.Errorf("%q where a command should be", t)
				}
				c = Cmd{Line: p.line, Name: t}
			} else {
				c.Args = append(c.Args, t)
			}
			p.i++
		}
		if c.Name == "" {
			return nil, errors.New("an empty command")
		}
		if strings.Contains(c.Name, "&") || slices.ContainsFunc(c.Args, func(a string) bool { return strings.Contains(a, "&") }) {
			return nil, errors.New("& other than &&")
		}
		cmds = append(cmds, c)
		if p.peek() != "&&" {
			return cmds, nil
		}
		p.i++
	}
}

func walk(stmts []Stmt, f func(Cmd)) {
	for _, s := range stmts {
		for _, c := range s.Cmds {
			f(c)
		}
		if s.If != nil {
			for _, c := range s.If.Cond {
				f(c)
			}
			walk(s.If.Then, f)
			walk(s.If.Else, f)
		}
	}
}

type flashCopy struct{ src, dst, n uint64 }

// machine runs a flash script the way U-Boot's hush does: every statement
// of a list runs, whatever the one before returned; && stops at the first
// failure; reset ends the script.
type machine struct {
	b        Board
	env      map[string]string
	mem      *sparse         // RAM, by U-Boot address; unset bytes read 0
	flash    *sparse         // the flash, by U-Boot address; unset: unknown
	download []byte          // what tftpboot gets; nil: it fails
	written  map[uint64]bool // RAM the script wrote (all runs)

	downloaded, echoAfterDownload, reset, afterReset bool
	erases                                           [][2]uint64 // address, size
	copies                                           []flashCopy
	errs                                             []error
}

func (m *machine) describeErases() string {
	if len(m.erases) == 0 {
		return "nothing"
	}
	var s []string
	for _, e := range m.erases {
		s = append(s, fmt.Sprintf("%#x +%#x", e[0], e[1]))
	}
	return strings.Join(s, ", ")
}

func (m *machine) list(stmts []Stmt) {
	for _, s := range stmts {
		if s.If != nil {
			if m.chain(s.If.Cond) {
				m.list(s.If.Then)
			} else {
				m.list(s.If.Else)
			}
		} else {
			m.chain(s.Cmds)
		}
	}
}

func (m *machine) chain(cmds []Cmd) bool {
	for _, c := range cmds {
		if !m.run(c) {
			return false
		}
	}
	return true
}

// hexArg parses a number as U-Boot's memory commands do: hex, 0x optional.
func hexArg(s string) (uint64, error) {
	return strconv.ParseUint(strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X"), 16, 64)
}

// width is the access size of md/mw/cmp/cp's .b, .w and .l (default .l).
func width(name string) (base string, w uint64) {
	for suffix, w := range map[string]uint64{".b": 1, ".w": 2, ".l": 4} {
		if strings.HasSuffix(name, suffix) {
			return strings.TrimSuffix(name, suffix), w
		}
	}
	return name, 4
}

func (m *machine) inRAM(a uint64) bool {
	p, err := m.b.phys(a)
	return err == nil && p >= m.b.RAMStart && p < m.b.RAMStart+m.b.RAMSize
}

func (m *machine) store(a uint64, c byte) {
	m.mem.set(a, c)
	m.written[a] = true
}

const pageSize = 4096

type page struct {
	data [pageSize]byte
	set  [pageSize]bool
}

// sparse is a byte-addressed memory of which only what was written is
// kept.
type sparse struct{ pages map[uint64]*page }

func newSparse() *sparse { return &sparse{pages: map[uint64]*page{}} }

func (s *sparse) get(a uint64) (byte, bool) {
	p := s.pages[a/pageSize]
	if p == nil || !p.set[a%pageSize] {
		return 0, false
	}
	return p.data[a%pageSize], true
}

func (s *sparse) at(a uint64) byte { c, _ := s.get(a); return c }

func (s *sparse) set(a uint64, c byte) {
	p := s.pages[a/pageSize]
	if p == nil {
		p = &page{}
		s.pages[a/pageSize] = p
	}
	p.data[a%pageSize], p.set[a%pageSize] = c, true
}

func (s *sparse) write(a uint64, b []byte) {
	for len(b) > 0 {
		p := s.pages[a/pageSize]
		if p == nil {
			p = &page{}
			s.pages[a/pageSize] = p
		}
		o := a % pageSize
		n := copy(p.data[o:], b)
		for i := o; i < o+uint64(n); i++ {
			p.set[i] = true
		}
		a, b = a+uint64(n), b[n:]
	}
}

// fill sets n bytes from a to c.
func (s *sparse) fill(a, n uint64, c byte) {
	buf := bytes.Repeat([]byte{c}, pageSize)
	for n > 0 {
		k := min(n, pageSize-a%pageSize)
		s.write(a, buf[:k])
		a, n = a+k, n-k
	}
}

// read returns n bytes from a, unset ones 0, and whether all were set.
func (s *sparse) read(a, n uint64) ([]byte, bool) {
	b := make([]byte, n)
	all := true
	for i := uint64(0); i < n; {
		o := (a + i) % pageSize
		k := min(n-i, pageSize-o)
		if p := s.pages[(a+i)/pageSize]; p != nil {
			copy(b[i:i+k], p.data[o:o+k])
			for _, set := range p.set[o : o+k] {
				all = all && set
			}
		} else {
			all = false
		}
		i += k
	}
	return b, all
}

// outside returns an address set outside [start, end).
func (s *sparse) outside(start, end uint64) (uint64, bool) {
	for n, p := range s.pages {
		if n*pageSize >= start && (n+1)*pageSize <= end {
			continue
		}
		for i, ok := range p.set {
			if a := n*pageSize + uint64(i); ok && (a < start || a >= end) {
				return a, true
			}
		}
	}
	return 0, false
}

// run runs one command and returns whether it succeeded.
func (m *machine) run(c Cmd) bool {
	if m.reset {
		m.afterReset = true
		return false
	}
	// Expand ${filesize}; an unset variable leaves no argument.
	var args []string
	for _, a := range c.Args {
		if a == "${filesize}" {
			if v, ok := m.env["filesize"]; ok {
				args = append(args, v)
			}
			continue
		}
		if strings.Contains(a, "$") {
			m.errs = append(m.errs, fmt.Errorf("%v: ${filesize} must be a whole argument", c))
			return false
		}
		args = append(args, a)
	}
	nums := func(n int) ([]uint64, bool) {
		if len(args) != n {
			return nil, false // U-Boot prints the usage and fails
		}
		v := make([]uint64, n)
		for i, a := range args {
			var err error
			if v[i], err = hexArg(strings.TrimPrefix(a, "+")); err != nil {
				m.errs = append(m.errs, fmt.Errorf("%v: %q is not a number", c, a))
				return nil, false
			}
		}
		return v, true
	}
	name, w := width(c.Name)
	switch name {
	case "echo":
		if m.downloaded {
			m.echoAfterDownload = true
		}
		return true
	case "setenv":
		switch {
		case len(args) == 1:
			delete(m.env, args[0])
		case len(args) > 1:
			m.env[args[0]] = strings.Join(args[1:], " ")
		default:
			return false
		}
		return true
	case "tftpboot":
		if len(args) != 2 {
			return false
		}
		a, err := num(args[0])
		if err != nil {
			return false
		}
		m.downloaded = true
		if m.download == nil {
			return false
		}
		m.mem.write(a, m.download)
		m.env["filesize"] = strconv.FormatUint(uint64(len(m.download)), 16)
		return true
	case "mw":
		v, ok := nums(2)
		if !ok {
			if v, ok = nums(3); !ok {
				return false
			}
		}
		count := uint64(1)
		if len(v) == 3 {
			count = v[2]
		}
		for i := uint64(0); i < count; i++ {
			for j := uint64(0); j < w; j++ {
				shift := 8 * j // little-endian
				if m.b.KSEG0 {
					shift = 8 * (w - 1 - j) // the MIPS boards are big-endian
				}
				m.store(v[0]+i*w+j, byte(v[1]>>shift))
			}
		}
		return true
	case "crc32":
		v, ok := nums(3)
		if !ok {
			return false
		}
		buf, _ := m.mem.read(v[0], v[1])
		sum := crc32.ChecksumIEEE(buf)
		for j := uint64(0); j < 4; j++ {
			m.store(v[2]+j, byte(sum>>(24-8*j))) // big-endian, see fwimage
		}
		return true
	case "cmp":
		v, ok := nums(3)
		if !ok {
			return false
		}
		x, y := m.read(v[0], v[2]*w), m.read(v[1], v[2]*w)
		return bytes.Equal(x, y)
	case "erase":
		if len(c.Args) != 2 || !strings.HasPrefix(c.Args[1], "+") {
			m.errs = append(m.errs, fmt.Errorf("%v: want erase ADDR +SIZE", c))
			return false
		}
		v, ok := nums(2)
		if !ok {
			return false
		}
		if m.inRAM(v[0]) {
			m.errs = append(m.errs, fmt.Errorf("%v: erases RAM, not the flash", c))
			return false
		}
		m.erases = append(m.erases, [2]uint64{v[0], v[1]})
		m.flash.fill(v[0], v[1], 0xff)
		return true
	case "cp":
		v, ok := nums(3)
		if !ok {
			return false
		}
		n := v[2] * w
		if m.inRAM(v[1]) {
			for i := uint64(0); i < n; i++ {
				m.store(v[1]+i, m.mem.at(v[0]+i))
			}
			return true
		}
		m.copies = append(m.copies, flashCopy{v[0], v[1], n})
		// NOR flash only clears bits: unerased flash is refused.
		if old, all := m.flash.read(v[1], n); !all || !bytes.Equal(old, bytes.Repeat([]byte{0xff}, int(n))) {
			m.errs = append(m.errs, fmt.Errorf("%v: writes flash that it has not erased", c))
			return false
		}
		data, _ := m.mem.read(v[0], n)
		m.flash.write(v[1], data)
		return true
	case "reset":
		m.reset = true
		return true
	}
	m.errs = append(m.errs, fmt.Errorf("%v: not a command of a flash script", c))
	return false
}

// read reads n bytes from RAM or, at an address outside RAM, the flash.
func (m *machine) read(a, n uint64) []byte {
	if m.inRAM(a) {
		b, _ := m.mem.read(a, n)
		return b
	}
	b, _ := m.flash.read(a, n)
	return b
}

func mustRead(path string) []byte {
	b, _ := os.ReadFile(path)
	return b
}
