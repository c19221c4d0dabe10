// Package legacy reads and writes U-Boot legacy images ("uImage"): a 64-byte
// big-endian header with CRC32s of itself and of the payload, followed by
// the payload (here a kernel, optionally lzma-compressed).
//
// The layout is U-Boot's include/image.h (struct legacy_img_hdr).
package legacy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/ulikunitz/xz/lzma"
)

// Magic is ih_magic.
const Magic = 0x27051956

// HeaderSize is the size of the header before the payload.
const HeaderSize = 64

// NameSize is the size of ih_name, including its terminating NUL.
const NameSize = 32

// Values of Header.OS, Arch, Type and Comp, from U-Boot's image.h.
const (
	OSLinux = 5

	ArchARM   = 2
	ArchMIPS  = 5
	ArchARM64 = 22

	TypeKernel = 2
	TypeScript = 6 // a U-Boot script (data: lengths, 0, the script)

	CompNone = 0
	CompGzip = 1
	CompLZMA = 3
)

// Arches maps mkimage's -A names to Header.Arch.
var Arches = map[string]uint8{"arm": ArchARM, "mips": ArchMIPS, "arm64": ArchARM64}

// Header is the image header. HCRC and DCRC are computed by Encode.
type Header struct {
	Magic uint32
	HCRC  uint32
	Time  uint32 // seconds since 1970; 0 for reproducible images
	Size  uint32 // payload size
	Load  uint32
	Entry uint32
	DCRC  uint32
	OS    uint8
	Arch  uint8
	Type  uint8
	Comp  uint8
	Name  [NameSize]byte
}

// SetName sets ih_name; it must leave room for the NUL.
func (h *Header) SetName(name string) error {
	if len(name) >= NameSize {
		return fmt.Errorf("image name %q is %d bytes, the header holds %d", name, len(name), NameSize-1)
	}
	h.Name = [NameSize]byte{}
	copy(h.Name[:], name)
	return nil
}

// NameString returns ih_name up to its NUL.
func (h *Header) NameString() string {
	if i := bytes.IndexByte(h.Name[:], 0); i >= 0 {
		return string(h.Name[:i])
	}
	return string(h.Name[:])
}

// Encode returns the image: h with Magic, Size and both CRCs filled in,
// followed by payload.
func Encode(h Header, payload []byte) []byte {
	h.Magic = Magic
	h.Size = uint32(len(payload))
	h.DCRC = crc32.ChecksumIEEE(payload)
	h.HCRC = 0
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, &h) // cannot fail on a bytes.Buffer
	hdr := b.Bytes()
	binary.BigEndian.PutUint32(hdr[4:8], crc32.ChecksumIEEE(hdr))
	return append(hdr, payload...)
}

// Decode parses an image and checks its magic, size and CRCs. Data after the
// payload (flash padding) is ignored.
func Decode(img []byte) (Header, []byte, error) {
	var h Header
	if len(img) < HeaderSize {
		return h, nil, fmt.Errorf("image is %d bytes, shorter than the %d-byte header", len(img), HeaderSize)
	}
	binary.Read(bytes.NewReader(img[:HeaderSize]), binary.BigEndian, &h)
	if h.Magic != Magic {
		return h, nil, fmt.Errorf("bad magic %#08x, want %#08x", h.Magic, Magic)
	}
	hdr := append([]byte(nil), img[:HeaderSize]...)
	binary.BigEndian.PutUint32(hdr[4:8], 0)
	if got := crc32.ChecksumIEEE(hdr); got != h.HCRC {
		return h, nil, fmt.Errorf("header CRC is %#08x, header says %#08x", got, h.HCRC)
	}
	if int(h.Size) > len(img)-HeaderSize {
		return h, nil, fmt.Errorf("header says %d payload bytes, image has %d", h.Size, len(img)-HeaderSize)
	}
	payload := img[HeaderSize : HeaderSize+int(h.Size)]
	if got := crc32.ChecksumIEEE(payload); got != h.DCRC {
		return h, nil, fmt.Errorf("data CRC is %#08x, header says %#08x", got, h.DCRC)
	}
	return h, payload, nil
}

// CompressLZMA compresses data in the classic .lzma ("lzma_alone") format
// with the uncompressed size in the header and no end marker, as U-Boot's
// legacy lzma loader (lzmaBuffToBuffDecompress) wants.
func CompressLZMA(data []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := lzma.WriterConfig{SizeInHeader: true, Size: int64(len(data)), EOSMarker: false}.NewWriter(&b)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(data); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecompressLZMA reverses CompressLZMA, and insists that the header has the
// uncompressed size.
func DecompressLZMA(data []byte) ([]byte, error) {
	if len(data) < 13 {
		return nil, errors.New("lzma data shorter than its 13-byte header")
	}
	if size := int64(binary.LittleEndian.Uint64(data[5:13])); size < 0 {
		return nil, errors.New("lzma header has no uncompressed size (U-Boot needs it)")
	}
	r, err := lzma.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}
