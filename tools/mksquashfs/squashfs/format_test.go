package squashfs

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSuperblockSize(t *testing.T) {
	if n := len(new(superblock).encode()); n != superSize {
		t.Errorf("superblock is %d bytes, want %d", n, superSize)
	}
}

func TestDevInode(t *testing.T) {
	for _, tc := range []struct {
		major, minor uint32
		want         uint32
	}{
		{5, 1, 0x0501},
		{31, 3, 0x1f03},
		// new_encode_dev: minor's high bits go above the major.
		{259, 70000, 0x11110370},
	} {
		b := devInode(nil, inodeHeader{}, typeCharDev, tc.major, tc.minor)
		if got := binary.LittleEndian.Uint32(b[20:]); got != tc.want {
			t.Errorf("%d,%d: rdev %#x, want %#x", tc.major, tc.minor, got, tc.want)
		}
	}
}

func TestDirInode(t *testing.T) {
	for _, tc := range []struct {
		size     int
		typ      uint16
		inodeLen int
	}{
		{0, typeDir, 32},
		{0xffff - 3, typeDir, 32},
		{0xffff - 2, typeLDir, 40}, // the size does not fit 16 bits
	} {
		b := dirInode(nil, inodeHeader{}, 1, 2, tc.size, 2, 7)
		if typ := binary.LittleEndian.Uint16(b); typ != tc.typ || len(b) != tc.inodeLen {
			t.Errorf("listing of %d bytes: type %d, %d bytes; want %d, %d", tc.size, typ, len(b), tc.typ, tc.inodeLen)
		}
	}
}

func TestRegInode(t *testing.T) {
	basic := &layout{size: 100, start: 96, blocks: []uint32{60}, frag: 3, fragOffset: 9}
	b := regInode(nil, inodeHeader{}, basic)
	if typ := binary.LittleEndian.Uint16(b); typ != typeReg || len(b) != 32+4 {
		t.Errorf("basic: type %d, %d bytes", typ, len(b))
	}
	for _, l := range []*layout{
		{size: 1 << 32, frag: noFragment},
		{size: 10, start: 1 << 32, frag: noFragment},
		{size: 4096, sparse: 4096, blocks: []uint32{0}, frag: noFragment},
	} {
		b := regInode(nil, inodeHeader{}, l)
		if typ := binary.LittleEndian.Uint16(b); typ != typeLReg || len(b) != 56+4*len(l.blocks) {
			t.Errorf("%+v: type %d, %d bytes; want extended", l, typ, len(b))
		}
	}
}

// header is a decoded directory header.
type header struct{ Count, Block, Base uint32 }

func headers(b []byte) []header {
	var hs []header
	le := binary.LittleEndian
	for len(b) > 0 {
		h := header{le.Uint32(b) + 1, le.Uint32(b[4:]), le.Uint32(b[8:])}
		hs = append(hs, h)
		b = b[12:]
		for range h.Count {
			b = b[8+int(le.Uint16(b[6:]))+1:]
		}
	}
	return hs
}

func TestListingHeaders(t *testing.T) {
	entries := func(n int, f func(i int) (block, number uint32)) []dirEntry {
		var es []dirEntry
		for i := range n {
			block, number := f(i)
			es = append(es, dirEntry{name: fmt.Sprint(i), ref: uint64(block)<<16 | uint64(i%100), number: number, typ: typeReg})
		}
		return es
	}
	for _, tc := range []struct {
		name    string
		entries []dirEntry
		want    []header
	}{
		{"one", entries(1, func(i int) (uint32, uint32) { return 0, 5 }), []header{{1, 0, 5}}},
		{"256 per header", entries(600, func(i int) (uint32, uint32) { return 0, uint32(i + 1) }),
			[]header{{256, 0, 1}, {256, 0, 257}, {88, 0, 513}}},
		{"new inode block", entries(4, func(i int) (uint32, uint32) { return uint32(i/2) * 8000, uint32(i + 1) }),
			[]header{{2, 0, 1}, {2, 8000, 3}}},
		{"number out of int16", entries(3, func(i int) (uint32, uint32) { return 0, []uint32{10, 40000, 40001}[i] }),
			[]header{{1, 0, 10}, {2, 0, 40000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, headers(appendListing(nil, tc.entries))); diff != "" {
				t.Errorf("headers (-want +got):\n%s", diff)
			}
		})
	}
}

type identity struct{}

func (identity) compress(p []byte) ([]byte, error) { return p, nil }

type halve struct{}

func (halve) compress(p []byte) ([]byte, error) { return p[:len(p)/2], nil }

func TestMetaWriter(t *testing.T) {
	// Incompressible: stored, with the flag; 8 KiB blocks.
	m := &metaWriter{comp: identity{}}
	m.write(bytes.Repeat([]byte{1}, 5000))
	if got := m.ref(); got != 5000 {
		t.Errorf("ref after 5000 bytes = %#x, want 5000", got)
	}
	m.write(bytes.Repeat([]byte{2}, 5000))
	if got, want := m.ref(), uint64(2+8192)<<16|(10000-8192); got != want {
		t.Errorf("ref after 10000 bytes = %#x, want %#x", got, want)
	}
	out, err := m.finish()
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2+8192+2+1808 || binary.LittleEndian.Uint16(out) != 8192|metaUncompressed ||
		binary.LittleEndian.Uint16(out[2+8192:]) != 1808|metaUncompressed {
		t.Errorf("stored blocks: %d bytes, headers %#x %#x", len(out), binary.LittleEndian.Uint16(out), binary.LittleEndian.Uint16(out[2+8192:]))
	}
	if diff := cmp.Diff([]int{0, 2 + 8192}, m.starts); diff != "" {
		t.Errorf("block starts (-want +got):\n%s", diff)
	}

	// Compressible: the header holds the compressed length.
	m = &metaWriter{comp: halve{}}
	m.write(make([]byte, 9000))
	out, _ = m.finish()
	if got := binary.LittleEndian.Uint16(out); got != 4096 || len(out) != 2+4096+2+404 {
		t.Errorf("compressed blocks: header %#x, %d bytes", got, len(out))
	}
}
