package squashfs

import (
	"bytes"
	"compress/zlib"
	"fmt"

	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"
)

// Compression is a squashfs compressor id.
type Compression uint16

// The compressors this writer supports.
const (
	Gzip Compression = 1 // zlib streams, as mksquashfs's "gzip"
	XZ   Compression = 4
)

func (c Compression) String() string {
	switch c {
	case Gzip:
		return "gzip"
	case XZ:
		return "xz"
	}
	return fmt.Sprintf("compression(%d)", uint16(c))
}

// ParseCompression parses "gzip" or "xz".
func ParseCompression(s string) (Compression, error) {
	switch s {
	case "gzip":
		return Gzip, nil
	case "xz":
		return XZ, nil
	}
	return 0, fmt.Errorf("unknown compression %q (want xz or gzip)", s)
}

// A compressor is used by one goroutine at a time.
type compressor interface {
	compress(p []byte) ([]byte, error)
}

func newCompressor(c Compression, blockSize int) (compressor, error) {
	switch c {
	case Gzip:
		return &zlibCompressor{}, nil
	case XZ:
		return newXZCompressor(blockSize), nil
	}
	return nil, fmt.Errorf("unsupported compression %v", c)
}

type zlibCompressor struct {
	buf bytes.Buffer
	w   *zlib.Writer
}

func (z *zlibCompressor) compress(p []byte) ([]byte, error) {
	z.buf.Reset()
	if z.w == nil {
		// Level 9, as mksquashfs's gzip default.
		w, err := zlib.NewWriterLevel(&z.buf, zlib.BestCompression)
		if err != nil {
			return nil, err
		}
		z.w = w
	} else {
		z.w.Reset(&z.buf)
	}
	if _, err := z.w.Write(p); err != nil {
		return nil, err
	}
	if err := z.w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(z.buf.Bytes()), nil
}

// newXZCompressor is the pure Go encoder, or liblzma's in a build with
// the liblzma tag (xz_liblzma.go).
var newXZCompressor = func(blockSize int) compressor {
	return &xzCompressor{cfg: xz.WriterConfig{
		// The kernel's decoder (lib/xz, XZ_PREALLOC) has a dictionary of
		// the block size and accepts only CRC32 or no check; the library's
		// defaults (8 MiB, CRC64) give images that unsquashfs reads and
		// Linux does not mount.
		DictCap:  blockSize,
		CheckSum: xz.CRC32,
		// BinaryTree compresses worse here, and 300 times slower.
		Matcher: lzma.HashTable4,
		// Larger than the default 4 KiB: same output, twice as fast.
		BufSize: 64 << 10,
	}}
}

type xzCompressor struct {
	cfg xz.WriterConfig
	buf bytes.Buffer
}

func (x *xzCompressor) compress(p []byte) ([]byte, error) {
	x.buf.Reset()
	w, err := x.cfg.NewWriter(&x.buf)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(p); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return bytes.Clone(x.buf.Bytes()), nil
}
