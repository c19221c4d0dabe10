package squashfs

import "encoding/binary"

// metaWriter builds a table of metadata blocks: 8 KiB of data each,
// compressed unless that does not make it smaller, behind a 2-byte header
// with the stored length.
type metaWriter struct {
	comp   compressor
	out    []byte // finished blocks, with headers
	buf    []byte // the unfinished block
	starts []int  // offset in out of each block
	err    error
}

// ref returns the position the next byte will have, as squashfs refers to
// it: the offset of its metadata block in the table << 16 | its offset in
// the uncompressed block.
func (m *metaWriter) ref() uint64 {
	return uint64(len(m.out))<<16 | uint64(len(m.buf))
}

func (m *metaWriter) write(p []byte) {
	m.buf = append(m.buf, p...)
	if len(m.buf) < metadataSize {
		return
	}
	n := 0
	for ; len(m.buf)-n >= metadataSize; n += metadataSize {
		m.flushBlock(m.buf[n : n+metadataSize])
	}
	m.buf = append(m.buf[:0], m.buf[n:]...)
}

func (m *metaWriter) flushBlock(p []byte) {
	m.starts = append(m.starts, len(m.out))
	c, err := m.comp.compress(p)
	if err != nil && m.err == nil {
		m.err = err
	}
	if err == nil && len(c) < len(p) {
		m.out = binary.LittleEndian.AppendUint16(m.out, uint16(len(c)))
		m.out = append(m.out, c...)
		return
	}
	m.out = binary.LittleEndian.AppendUint16(m.out, uint16(len(p))|metaUncompressed)
	m.out = append(m.out, p...)
}

// finish flushes the last, short block and returns the table.
func (m *metaWriter) finish() ([]byte, error) {
	if len(m.buf) > 0 {
		m.flushBlock(m.buf)
		m.buf = m.buf[:0]
	}
	return m.out, m.err
}
