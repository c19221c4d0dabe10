package tftp

import (
	"fmt"
	"io"
)

// A blockReader supplies the payload of numbered blocks. Block numbers are
// 1-based and never wrap (the 16-bit wire number is derived from them).
// A transfer asks for blocks in increasing order, except that after a
// loss it goes back to a block of its current window; it never asks for a
// block more than one window behind the newest one it has read.
type blockReader interface {
	// readBlock fills p with block n and returns its length, which is
	// less than len(p) only for the last block. All blocks of a transfer
	// are read with the same len(p).
	readBlock(n int64, p []byte) (int, error)
}

// octetReader serves a file unchanged.
type octetReader struct {
	r io.ReaderAt
}

func (o octetReader) readBlock(n int64, p []byte) (int, error) {
	k, err := o.r.ReadAt(p, (n-1)*int64(len(p)))
	if err == io.EOF {
		err = nil
	}
	return k, err
}

// netasciiReader serves a file converted to netascii (RFC 764, as used by
// RFC 1350): LF becomes CR LF and CR becomes CR NUL. The conversion
// changes lengths, so a block does not start at a computable file offset;
// the reader remembers where each block of the current window starts, so
// that a lost block can be read again.
type netasciiReader struct {
	r      io.ReaderAt
	window int
	starts map[int64]netasciiMark // for the blocks of the current window
	raw    []byte
}

// A netasciiMark is the converter's state at the start of a block.
type netasciiMark struct {
	off     int64 // file offset of the next byte to convert
	carry   byte  // second byte of a pair split between two blocks
	carried bool
}

func newNetasciiReader(r io.ReaderAt, window int) *netasciiReader {
	return &netasciiReader{
		r:      r,
		window: window,
		starts: map[int64]netasciiMark{1: {}},
	}
}

func (c *netasciiReader) readBlock(n int64, p []byte) (int, error) {
	m, ok := c.starts[n]
	if !ok {
		return 0, fmt.Errorf("netascii: block %d is outside the window", n)
	}
	k := 0
	if m.carried {
		p[0] = m.carry
		k = 1
		m.carried = false
	}
	if cap(c.raw) < len(p) {
		c.raw = make([]byte, len(p))
	}
	// Each input byte yields at least one output byte, so len(p)-k input
	// bytes are always enough to fill the block.
	raw := c.raw[:len(p)-k]
	nr, err := c.r.ReadAt(raw, m.off)
	if err != nil && err != io.EOF {
		return 0, err
	}
	for _, b := range raw[:nr] {
		if k == len(p) {
			break
		}
		m.off++
		var second byte
		switch b {
		case '\n':
			b, second = '\r', '\n'
		case '\r':
			second = 0
		default:
			p[k] = b
			k++
			continue
		}
		p[k] = b
		k++
		if k < len(p) {
			p[k] = second
			k++
		} else {
			m.carry, m.carried = second, true
		}
	}
	c.starts[n+1] = m
	// Blocks a window or more behind n can no longer be asked for.
	delete(c.starts, n-int64(c.window))
	return k, nil
}
