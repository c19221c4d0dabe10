package legacy

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncodeDecode(t *testing.T) {
	h := Header{Load: 0x80060000, Entry: 0x80060000, OS: OSLinux, Arch: ArchMIPS, Type: TypeKernel, Comp: CompLZMA}
	if err := h.SetName("bazwrt gl-ar750"); err != nil {
		t.Fatal(err)
	}
	payload := []byte("payload bytes")
	img := Encode(h, payload)
	if len(img) != HeaderSize+len(payload) {
		t.Fatalf("image is %d bytes, want %d", len(img), HeaderSize+len(payload))
	}
	// The fields at the offsets of U-Boot's struct legacy_img_hdr.
	be := binary.BigEndian
	for _, f := range []struct {
		name string
		off  int
		want uint32
	}{
		{"magic", 0, Magic},
		{"time", 8, 0},
		{"size", 12, uint32(len(payload))},
		{"load", 16, 0x80060000},
		{"entry", 20, 0x80060000},
		{"dcrc", 24, crc32.ChecksumIEEE(payload)},
	} {
		if got := be.Uint32(img[f.off:]); got != f.want {
			t.Errorf("%s at %d = %#x, want %#x", f.name, f.off, got, f.want)
		}
	}
	if got := img[28:32]; !bytes.Equal(got, []byte{OSLinux, ArchMIPS, TypeKernel, CompLZMA}) {
		t.Errorf("os/arch/type/comp = %v", got)
	}
	if got := string(img[32 : 32+len("bazwrt gl-ar750")]); got != "bazwrt gl-ar750" {
		t.Errorf("name = %q", got)
	}
	hdr := append([]byte(nil), img[:HeaderSize]...)
	copy(hdr[4:8], []byte{0, 0, 0, 0})
	if got, want := be.Uint32(img[4:]), crc32.ChecksumIEEE(hdr); got != want {
		t.Errorf("hcrc = %#x, want %#x", got, want)
	}

	gotH, gotP, err := Decode(append(img, 0xff, 0xff)) // flash padding after the payload
	if err != nil {
		t.Fatal(err)
	}
	h.Magic, h.Size, h.DCRC, h.HCRC = Magic, uint32(len(payload)), crc32.ChecksumIEEE(payload), be.Uint32(img[4:])
	if diff := cmp.Diff(h, gotH); diff != "" {
		t.Errorf("Decode header (-want +got):\n%s", diff)
	}
	if !bytes.Equal(gotP, payload) {
		t.Errorf("Decode payload = %q", gotP)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Encode(Header{Arch: ArchMIPS}, []byte("data"))
	corrupt := func(off int) []byte {
		b := append([]byte(nil), good...)
		b[off] ^= 1
		return b
	}
	tests := []struct {
		name string
		img  []byte
		want string
	}{
		{"short", good[:10], "shorter than the 64-byte header"},
		{"magic", corrupt(0), "bad magic"},
		{"header", corrupt(20), "header CRC"},
		{"data", corrupt(HeaderSize + 1), "data CRC"},
		{"truncated", good[:len(good)-1], "header says 4 payload bytes, image has 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Decode(tt.img)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestName(t *testing.T) {
	var h Header
	if err := h.SetName(strings.Repeat("x", 31)); err != nil {
		t.Errorf("31-byte name: %v", err)
	}
	if err := h.SetName(strings.Repeat("x", 32)); err == nil {
		t.Error("32-byte name accepted: no room for the NUL")
	}
	h.SetName("ab")
	if got := h.NameString(); got != "ab" {
		t.Errorf("NameString = %q after a longer name: stale bytes", got)
	}
}

func TestLZMA(t *testing.T) {
	data := bytes.Repeat([]byte("kernel text \x00\x01\x02"), 10000)
	c, err := CompressLZMA(data)
	if err != nil {
		t.Fatal(err)
	}
	// Classic .lzma header: properties, dictionary size, then the
	// uncompressed size (little-endian), which U-Boot needs.
	if got := binary.LittleEndian.Uint64(c[5:13]); got != uint64(len(data)) {
		t.Errorf("size in lzma header = %d, want %d", got, len(data))
	}
	if c[0] != 0x5d {
		t.Errorf("properties byte = %#x, want 0x5d (lc=3 lp=0 pb=2)", c[0])
	}
	d, err := DecompressLZMA(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(d, data) {
		t.Error("lzma round trip changed the data")
	}
	c2, _ := CompressLZMA(data)
	if !bytes.Equal(c, c2) {
		t.Error("CompressLZMA is not deterministic")
	}
}
