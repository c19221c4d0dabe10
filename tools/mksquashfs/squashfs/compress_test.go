package squashfs

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"testing"

	"github.com/ulikunitz/xz"
)

var xzEncoder = flag.String("xz-encoder", "", "the xz encoder the tests must use: liblzma or go (Bazel passes that of //tools:mksquashfs)")

// The other tests cover whichever encoder the build has; under Bazel that
// must be the one //tools:mksquashfs ships.
func TestXZEncoder(t *testing.T) {
	encoders := map[string]string{"liblzma": "squashfs.liblzmaCompressor", "go": "*squashfs.xzCompressor"}
	got := fmt.Sprintf("%T", newXZCompressor(4096))
	if *xzEncoder == "" {
		t.Logf("xz encoder: %s (no -xz-encoder to check it against)", got)
		return
	}
	want, ok := encoders[*xzEncoder]
	if !ok {
		t.Fatalf("-xz-encoder=%q: want liblzma or go", *xzEncoder)
	}
	if got != want {
		t.Errorf("the xz encoder is %s, want %s (-xz-encoder=%s): build the test with the binary's gotags", got, want, *xzEncoder)
	}
}

// lzma2Dict decodes an LZMA2 dictionary size property.
func lzma2Dict(p byte) uint32 {
	if p == 40 {
		return 0xffffffff
	}
	return (2 | uint32(p)&1) << (p/2 + 11)
}

// uvarint reads an xz variable-length integer (the same encoding as Go's).
func uvarint(t *testing.T, b []byte) (uint64, []byte) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		t.Fatalf("bad xz integer in % x", b)
	}
	return v, b[n:]
}

// Linux refuses xz streams with a CRC64 or SHA-256 check, a dictionary
// larger than the block size, or filters other than LZMA2 (go-diskfs's
// images were refused for the first two).
func TestXZStreamForKernel(t *testing.T) {
	for _, bs := range []int{4096, 128 << 10, 1 << 20} {
		data := bytes.Repeat([]byte("squashfs block "), bs/15)
		out, err := newXZCompressor(bs).compress(data)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(out, []byte("\xfd7zXZ\x00")) {
			t.Fatalf("block size %d: not an xz stream: % x", bs, out[:8])
		}
		if check := out[7] & 0x0f; check != 0x01 {
			t.Errorf("block size %d: check type %#x, want 0x01 (CRC32)", bs, check)
		}
		// The first block header follows the 12-byte stream header.
		h := out[12 : 12+(int(out[12])+1)*4]
		flags := h[1]
		if nfilters := flags&3 + 1; nfilters != 1 {
			t.Errorf("block size %d: %d filters, want LZMA2 alone", bs, nfilters)
		}
		rest := h[2:]
		if flags&0x40 != 0 {
			_, rest = uvarint(t, rest)
		}
		if flags&0x80 != 0 {
			_, rest = uvarint(t, rest)
		}
		id, rest := uvarint(t, rest)
		size, rest := uvarint(t, rest)
		if id != 0x21 || size != 1 {
			t.Fatalf("block size %d: filter %#x with %d bytes of properties, want LZMA2 (0x21) with 1", bs, id, size)
		}
		if dict := lzma2Dict(rest[0]); dict > uint32(bs) {
			t.Errorf("block size %d: dictionary %d, want at most the block size", bs, dict)
		}
		r, err := xz.NewReader(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
			t.Errorf("block size %d: round trip: %v", bs, err)
		}
	}
}

func TestZlibRoundTrip(t *testing.T) {
	c, err := newCompressor(Gzip, 4096)
	if err != nil {
		t.Fatal(err)
	}
	for _, data := range [][]byte{[]byte("a"), bytes.Repeat([]byte("ab"), 5000)} {
		out, err := c.compress(data)
		if err != nil {
			t.Fatal(err)
		}
		r, err := zlib.NewReader(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := io.ReadAll(r); err != nil || !bytes.Equal(got, data) {
			t.Errorf("round trip of %d bytes: %v", len(data), err)
		}
	}
}
