// Package fdt reads and writes flattened device trees (DTB), version 17 of
// the format in the Devicetree Specification, chapter 5: a header, the
// memory reservation block, the structure block and the strings block.
//
// A tree is decoded into nodes with ordered properties whose values are
// kept as raw bytes: the format has no types, and a tool that patches one
// property must give back every other one unchanged. Encode writes the
// blocks in dtc's order and deduplicates the strings as dtc does, so
// decoding and encoding a DTB that dtc wrote gives the same bytes.
package fdt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Magic is the first word of every DTB.
const Magic = 0xd00dfeed

// Version is the format version Encode writes; LastCompVersion the oldest
// version a reader of it must understand (both as dtc writes them).
const (
	Version         = 17
	LastCompVersion = 16
)

// headerSize is the size of a version 17 header.
const headerSize = 40

// Structure block tokens.
const (
	tokenBeginNode = 1
	tokenEndNode   = 2
	tokenProp      = 3
	tokenNop       = 4
	tokenEnd       = 9
)

// Reservation is an entry of the memory reservation block: physical memory
// the operating system must not use (dts: /memreserve/ ADDRESS SIZE;).
type Reservation struct {
	Address, Size uint64
}

// Tree is a decoded device tree.
type Tree struct {
	// BootCPUID is the header's boot_cpuid_phys.
	BootCPUID    uint32
	Reservations []Reservation
	// Root is the node "/", whose Name is empty.
	Root *Node
}

// Node is a device tree node.
type Node struct {
	// Name is the node name with its unit address, as in the DTB:
	// "partition@60000", "chosen".
	Name     string
	Props    []Property
	Children []*Node
}

// Property is a named value; an empty Value is a boolean property such as
// "ranges;" or "no-map;".
type Property struct {
	Name  string
	Value []byte
}

// Decode parses a DTB of version 16 or 17. Data after totalsize is ignored,
// so a DTB read from a padded partition decodes.
func Decode(b []byte) (*Tree, error) {
	if len(b) < headerSize {
		return nil, fmt.Errorf("dtb: %d bytes, shorter than the %d-byte header", len(b), headerSize)
	}
	be := binary.BigEndian
	word := func(i int) uint32 { return be.Uint32(b[4*i:]) }
	if m := word(0); m != Magic {
		return nil, fmt.Errorf("dtb: bad magic %#08x, want %#08x", m, uint32(Magic))
	}
	total, offStruct, offStrings, offRsv := word(1), word(2), word(3), word(4)
	version, lastComp, bootCPU, sizeStrings, sizeStruct := word(5), word(6), word(7), word(8), word(9)
	if version < 16 || lastComp > Version {
		return nil, fmt.Errorf("dtb: version %d (last compatible %d), want 16 or 17", version, lastComp)
	}
	if uint64(total) > uint64(len(b)) {
		return nil, fmt.Errorf("dtb: header says %d bytes, have %d", total, len(b))
	}
	b = b[:total]
	within := func(what string, off, size uint32) error {
		if uint64(off)+uint64(size) > uint64(total) {
			return fmt.Errorf("dtb: %s at %d, %d bytes, ends past totalsize %d", what, off, size, total)
		}
		return nil
	}
	if version < 17 {
		// Version 16 has no size_dt_struct: the block runs to FDT_END.
		sizeStruct = total - offStruct
	}
	if err := within("structure block", offStruct, sizeStruct); err != nil {
		return nil, err
	}
	if err := within("strings block", offStrings, sizeStrings); err != nil {
		return nil, err
	}
	if err := within("memory reservation block", offRsv, 0); err != nil {
		return nil, err
	}
	t := &Tree{BootCPUID: bootCPU}
	for off := int(offRsv); ; off += 16 {
		if off+16 > len(b) {
			return nil, fmt.Errorf("dtb: memory reservation block at %d has no terminating entry", offRsv)
		}
		r := Reservation{be.Uint64(b[off:]), be.Uint64(b[off+8:])}
		if r == (Reservation{}) {
			break
		}
		t.Reservations = append(t.Reservations, r)
	}
	d := decoder{
		s:       b[offStruct : offStruct+sizeStruct],
		base:    int(offStruct),
		strings: b[offStrings : offStrings+sizeStrings],
	}
	root, err := d.tree()
	if err != nil {
		return nil, err
	}
	t.Root = root
	return t, nil
}

// decoder walks the structure block; offsets in errors are from the start
// of the DTB.
type decoder struct {
	s       []byte
	off     int
	base    int
	strings []byte
}

func (d *decoder) errorf(format string, a ...any) error {
	return fmt.Errorf("dtb: structure block offset %d: %s", d.base+d.off, fmt.Sprintf(format, a...))
}

func (d *decoder) u32() (uint32, error) {
	if d.off+4 > len(d.s) {
		return 0, d.errorf("truncated")
	}
	v := binary.BigEndian.Uint32(d.s[d.off:])
	d.off += 4
	return v, nil
}

// token returns the next token, skipping NOPs.
func (d *decoder) token() (uint32, error) {
	for {
		t, err := d.u32()
		if err != nil || t != tokenNop {
			return t, err
		}
	}
}

func (d *decoder) tree() (*Node, error) {
	t, err := d.token()
	if err != nil {
		return nil, err
	}
	if t != tokenBeginNode {
		return nil, d.errorf("token %d, want FDT_BEGIN_NODE of the root", t)
	}
	root, err := d.node()
	if err != nil {
		return nil, err
	}
	if t, err := d.token(); err != nil || t != tokenEnd {
		if err != nil {
			return nil, err
		}
		return nil, d.errorf("token %d after the root node, want FDT_END", t)
	}
	return root, nil
}

// node reads a node after its FDT_BEGIN_NODE token, up to and including
// its FDT_END_NODE.
func (d *decoder) node() (*Node, error) {
	end := bytes.IndexByte(d.s[d.off:], 0)
	if end < 0 {
		return nil, d.errorf("node name has no NUL")
	}
	n := &Node{Name: string(d.s[d.off : d.off+end])}
	d.off = align4(d.off + end + 1)
	for {
		t, err := d.token()
		if err != nil {
			return nil, err
		}
		switch t {
		case tokenProp:
			if len(n.Children) > 0 {
				return nil, d.errorf("property of %q after its child nodes", n.Name)
			}
			size, err := d.u32()
			if err != nil {
				return nil, err
			}
			nameOff, err := d.u32()
			if err != nil {
				return nil, err
			}
			if uint64(d.off)+uint64(size) > uint64(len(d.s)) {
				return nil, d.errorf("property value of %d bytes runs past the structure block", size)
			}
			name, err := d.str(nameOff)
			if err != nil {
				return nil, err
			}
			v := clone(d.s[d.off : d.off+int(size)])
			n.Props = append(n.Props, Property{Name: name, Value: v})
			d.off = align4(d.off + int(size))
		case tokenBeginNode:
			c, err := d.node()
			if err != nil {
				return nil, err
			}
			n.Children = append(n.Children, c)
		case tokenEndNode:
			return n, nil
		default:
			return nil, d.errorf("token %d inside node %q", t, n.Name)
		}
	}
}

func (d *decoder) str(off uint32) (string, error) {
	if uint64(off) >= uint64(len(d.strings)) {
		return "", d.errorf("property name offset %d outside the %d-byte strings block", off, len(d.strings))
	}
	end := bytes.IndexByte(d.strings[off:], 0)
	if end < 0 {
		return "", d.errorf("property name at strings offset %d has no NUL", off)
	}
	return string(d.strings[off : int(off)+end]), nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// clone copies a value; an empty one is nil, so that decoded and built
// trees compare equal.
func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// Encode returns the DTB: header, memory reservation block, structure block
// and strings block, in that order and without padding, as dtc writes them.
// Property names are stored once; a name that is the tail of one already
// stored ("cells" of "#address-cells") points into it, as dtc does.
func (t *Tree) Encode() []byte {
	var st, strs bytes.Buffer
	e := encoder{st: &st, strs: &strs, offsets: map[string]uint32{}}
	root := t.Root
	if root == nil {
		root = &Node{}
	}
	e.node(root)
	e.u32(tokenEnd)

	var rsv bytes.Buffer
	for _, r := range t.Reservations {
		binary.Write(&rsv, binary.BigEndian, r)
	}
	binary.Write(&rsv, binary.BigEndian, Reservation{})

	offRsv := uint32(headerSize) // already a multiple of 8, as the block must be
	offStruct := offRsv + uint32(rsv.Len())
	offStrings := offStruct + uint32(st.Len())
	total := offStrings + uint32(strs.Len())
	out := make([]byte, 0, total)
	for _, w := range []uint32{Magic, total, offStruct, offStrings, offRsv, Version, LastCompVersion, t.BootCPUID, uint32(strs.Len()), uint32(st.Len())} {
		out = binary.BigEndian.AppendUint32(out, w)
	}
	out = append(out, rsv.Bytes()...)
	out = append(out, st.Bytes()...)
	return append(out, strs.Bytes()...)
}

type encoder struct {
	st, strs *bytes.Buffer
	offsets  map[string]uint32
}

func (e *encoder) u32(v uint32) {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	e.st.Write(b[:])
}

func (e *encoder) pad() {
	for e.st.Len()%4 != 0 {
		e.st.WriteByte(0)
	}
}

func (e *encoder) node(n *Node) {
	e.u32(tokenBeginNode)
	e.st.WriteString(n.Name)
	e.st.WriteByte(0)
	e.pad()
	for _, p := range n.Props {
		e.u32(tokenProp)
		e.u32(uint32(len(p.Value)))
		e.u32(e.nameOffset(p.Name))
		e.st.Write(p.Value)
		e.pad()
	}
	for _, c := range n.Children {
		e.node(c)
	}
	e.u32(tokenEndNode)
}

// nameOffset returns where name is in the strings block, adding it if no
// stored string ends with it.
func (e *encoder) nameOffset(name string) uint32 {
	if off, ok := e.offsets[name]; ok {
		return off
	}
	var off uint32
	if i := bytes.Index(e.strs.Bytes(), append([]byte(name), 0)); i >= 0 {
		off = uint32(i)
	} else {
		off = uint32(e.strs.Len())
		e.strs.WriteString(name)
		e.strs.WriteByte(0)
	}
	e.offsets[name] = off
	return off
}

// Find returns the node at path ("/", "/chosen", "/spi@1f000000/flash@0").
// A component without a unit address ("partitions", "memory") also matches
// a node that has one ("memory@0") when exactly one such child exists.
func (t *Tree) Find(path string) (*Node, error) {
	if !strings.HasPrefix(path, "/") {
		return nil, fmt.Errorf("node path %q is not absolute", path)
	}
	n := t.Root
	if n == nil {
		return nil, errors.New("tree has no root node")
	}
	for _, c := range strings.Split(strings.Trim(path, "/"), "/") {
		if c == "" {
			continue
		}
		next, err := n.lookup(c)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", path, err)
		}
		n = next
	}
	return n, nil
}

// Child returns the child named name (with its unit address), or nil.
func (n *Node) Child(name string) *Node {
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (n *Node) lookup(name string) (*Node, error) {
	if c := n.Child(name); c != nil {
		return c, nil
	}
	if strings.Contains(name, "@") {
		return nil, fmt.Errorf("no child %q", name)
	}
	var found *Node
	for _, c := range n.Children {
		if base, _, _ := strings.Cut(c.Name, "@"); base == name {
			if found != nil {
				return nil, fmt.Errorf("%q is ambiguous: %s and %s", name, found.Name, c.Name)
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no child %q", name)
	}
	return found, nil
}

// AddChild appends a new child node; it is an error if one of that name
// exists.
func (n *Node) AddChild(name string) (*Node, error) {
	if name == "" || strings.Contains(name, "/") {
		return nil, fmt.Errorf("bad node name %q", name)
	}
	if n.Child(name) != nil {
		return nil, fmt.Errorf("node %q already has a child %q", n.Name, name)
	}
	c := &Node{Name: name}
	n.Children = append(n.Children, c)
	return c, nil
}

// Walk calls fn for n and every node below it, depth first in order, with
// the node's path ("/" for the root).
func (t *Tree) Walk(fn func(path string, n *Node) error) error {
	var walk func(path string, n *Node) error
	walk = func(path string, n *Node) error {
		if err := fn(path, n); err != nil {
			return err
		}
		for _, c := range n.Children {
			p := path + "/" + c.Name
			if path == "/" {
				p = "/" + c.Name
			}
			if err := walk(p, c); err != nil {
				return err
			}
		}
		return nil
	}
	if t.Root == nil {
		return nil
	}
	return walk("/", t.Root)
}

// Prop returns the value of property name and whether it exists.
func (n *Node) Prop(name string) ([]byte, bool) {
	for _, p := range n.Props {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// SetProp sets property name to value, in place if it exists, otherwise
// appended after the others.
func (n *Node) SetProp(name string, value []byte) {
	v := clone(value)
	for i := range n.Props {
		if n.Props[i].Name == name {
			n.Props[i].Value = v
			return
		}
	}
	n.Props = append(n.Props, Property{Name: name, Value: v})
}

// DeleteProp removes property name, if present.
func (n *Node) DeleteProp(name string) {
	for i, p := range n.Props {
		if p.Name == name {
			n.Props = append(n.Props[:i], n.Props[i+1:]...)
			return
		}
	}
}

// StringValue returns a string property (one NUL-terminated string).
func (n *Node) StringValue(name string) (string, error) {
	v, ok := n.Prop(name)
	if !ok {
		return "", fmt.Errorf("node %q has no property %q", n.Name, name)
	}
	if len(v) == 0 || v[len(v)-1] != 0 || bytes.IndexByte(v, 0) != len(v)-1 {
		return "", fmt.Errorf("node %q property %q is not one NUL-terminated string: % x", n.Name, name, v)
	}
	return string(v[:len(v)-1]), nil
}

// StringList returns a string-list property ("compatible").
func (n *Node) StringList(name string) ([]string, error) {
	v, ok := n.Prop(name)
	if !ok {
		return nil, fmt.Errorf("node %q has no property %q", n.Name, name)
	}
	if len(v) == 0 || v[len(v)-1] != 0 {
		return nil, fmt.Errorf("node %q property %q is not a list of NUL-terminated strings", n.Name, name)
	}
	return strings.Split(string(v[:len(v)-1]), "\x00"), nil
}

// SetString sets a string property.
func (n *Node) SetString(name, s string) {
	n.SetProp(name, append([]byte(s), 0))
}

// U32s returns a property of 32-bit big-endian cells.
func (n *Node) U32s(name string) ([]uint32, error) {
	v, ok := n.Prop(name)
	if !ok {
		return nil, fmt.Errorf("node %q has no property %q", n.Name, name)
	}
	if len(v)%4 != 0 {
		return nil, fmt.Errorf("node %q property %q is %d bytes, not a whole number of 32-bit cells", n.Name, name, len(v))
	}
	cells := make([]uint32, len(v)/4)
	for i := range cells {
		cells[i] = binary.BigEndian.Uint32(v[4*i:])
	}
	return cells, nil
}

// U32 returns a property of exactly one cell.
func (n *Node) U32(name string) (uint32, error) {
	c, err := n.U32s(name)
	if err != nil {
		return 0, err
	}
	if len(c) != 1 {
		return 0, fmt.Errorf("node %q property %q has %d cells, want 1", n.Name, name, len(c))
	}
	return c[0], nil
}

// SetU32s sets a property of 32-bit cells.
func (n *Node) SetU32s(name string, cells ...uint32) {
	v := make([]byte, 0, 4*len(cells))
	for _, c := range cells {
		v = binary.BigEndian.AppendUint32(v, c)
	}
	n.SetProp(name, v)
}

// SetEmpty sets a boolean (empty) property such as "ranges" or "no-map".
func (n *Node) SetEmpty(name string) { n.SetProp(name, nil) }

// Cells returns n's #address-cells and #size-cells, the sizes of the
// addresses and sizes in its children's reg properties. Missing values
// default to 2 and 1, as the specification says.
func (n *Node) Cells() (addr, size uint32, err error) {
	addr, size = 2, 1
	if _, ok := n.Prop("#address-cells"); ok {
		if addr, err = n.U32("#address-cells"); err != nil {
			return 0, 0, err
		}
	}
	if _, ok := n.Prop("#size-cells"); ok {
		if size, err = n.U32("#size-cells"); err != nil {
			return 0, 0, err
		}
	}
	if addr < 1 || addr > 2 || size > 2 {
		return 0, 0, fmt.Errorf("node %q: #address-cells %d, #size-cells %d: only 1 or 2 address and 0 to 2 size cells are supported", n.Name, addr, size)
	}
	return addr, size, nil
}

// Region is one (address, size) pair of a reg property.
type Region struct {
	Address, Size uint64
}

// Reg decodes n's reg property with the cell sizes of its parent.
func (n *Node) Reg(parent *Node) ([]Region, error) {
	ac, sc, err := parent.Cells()
	if err != nil {
		return nil, err
	}
	cells, err := n.U32s("reg")
	if err != nil {
		return nil, err
	}
	per := int(ac + sc)
	if len(cells)%per != 0 {
		return nil, fmt.Errorf("node %q reg has %d cells, not a multiple of %d (#address-cells %d + #size-cells %d of %q)", n.Name, len(cells), per, ac, sc, parent.Name)
	}
	var regs []Region
	for i := 0; i < len(cells); i += per {
		regs = append(regs, Region{
			Address: join(cells[i : i+int(ac)]),
			Size:    join(cells[i+int(ac) : i+per]),
		})
	}
	return regs, nil
}

// SetReg sets n's reg property to regions, with the cell sizes of parent;
// it fails if a value does not fit.
func (n *Node) SetReg(parent *Node, regions ...Region) error {
	ac, sc, err := parent.Cells()
	if err != nil {
		return err
	}
	var cells []uint32
	for _, r := range regions {
		a, err := split(r.Address, ac)
		if err != nil {
			return fmt.Errorf("node %q reg address: %w", n.Name, err)
		}
		s, err := split(r.Size, sc)
		if err != nil {
			return fmt.Errorf("node %q reg size: %w", n.Name, err)
		}
		cells = append(append(cells, a...), s...)
	}
	n.SetU32s("reg", cells...)
	return nil
}

func join(cells []uint32) uint64 {
	var v uint64
	for _, c := range cells {
		v = v<<32 | uint64(c)
	}
	return v
}

func split(v uint64, n uint32) ([]uint32, error) {
	switch {
	case n == 2:
		return []uint32{uint32(v >> 32), uint32(v)}, nil
	case n == 1 && v <= 0xffffffff:
		return []uint32{uint32(v)}, nil
	case n == 0 && v == 0:
		return nil, nil
	}
	return nil, fmt.Errorf("%#x does not fit in %d cells", v, n)
}
