// Package squashfs writes squashfs 4.0 images from an fsspec description,
// without privileges and deterministically: the same entries, file contents
// and options give the same bytes, whatever the host's files, owners,
// clocks, directory or number of CPUs.
//
// The image is laid out as mksquashfs lays it out: superblock, data and
// fragment blocks in path order, inode table, directory table, fragment
// table, id table; no export table, no xattrs. Inodes are numbered in the
// order they are written, children before their directory, so the root has
// the highest number. Every mtime, and the superblock's, is Options.MkfsTime.
package squashfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path"
	"runtime"
	"slices"
	"sync"

	"bazwrt/tools/fsspec"
)

// Options control the image.
type Options struct {
	Compression Compression // Gzip or XZ; zero means XZ
	// BlockSize is the data block size, a power of two from 4 KiB to
	// 1 MiB; zero means 128 KiB.
	BlockSize int
	MkfsTime  uint32
	// NoDedup stores identical files separately.
	NoDedup bool
	// Workers is the number of goroutines compressing data blocks; zero
	// means GOMAXPROCS. It does not change the output.
	Workers int
}

// node is an entry in the tree being written.
type node struct {
	fsspec.Entry
	name     string
	children []*node
	number   uint32
	layout   *layout // files
}

// layout is where a file's data is; identical files share one.
type layout struct {
	size       uint64
	start      uint64   // position of the first stored block
	blocks     []uint32 // stored size of each full block (| dataUncompressed), 0 if sparse
	sparse     uint64   // bytes in sparse blocks
	frag       uint32   // fragment index, or noFragment
	fragOffset uint32
	started    bool
}

// Write writes an image of entries, which must be as fsspec.Complete
// returns them, to w from offset 0, and returns its size (padded to 4 KiB,
// as mksquashfs pads).
func Write(w io.WriterAt, entries []fsspec.Entry, opts Options) (int64, error) {
	if opts.Compression == 0 {
		opts.Compression = XZ
	}
	if opts.BlockSize == 0 {
		opts.BlockSize = 128 << 10
	}
	bs := opts.BlockSize
	if bs < 4<<10 || bs > 1<<20 || bs&(bs-1) != 0 {
		return 0, fmt.Errorf("block size %d: want a power of two from 4096 to 1048576", bs)
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	root, err := buildTree(entries)
	if err != nil {
		return 0, err
	}
	wr := &imageWriter{w: w, opts: opts, pos: superSize}

	// Data: every file's blocks and the fragment blocks, compressed in
	// parallel and written in order.
	var files []*node
	walk(root, func(n *node) {
		if n.Type == fsspec.File {
			files = append(files, n)
		}
	})
	if err := wr.writeData(files); err != nil {
		return 0, err
	}

	// Ids: sorted, so that the table does not depend on the tree's order.
	var ids []uint32
	walk(root, func(n *node) { ids = append(ids, n.UID, n.GID) })
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) > 1<<16 {
		return 0, fmt.Errorf("%d distinct uids and gids, squashfs holds at most 65536", len(ids))
	}
	idIndex := make(map[uint32]uint16, len(ids))
	for i, id := range ids {
		idIndex[id] = uint16(i)
	}

	// Inode numbers first: a directory inode holds its parent's number,
	// and is written before its parent.
	var count uint32
	var number func(n *node)
	number = func(n *node) {
		for _, c := range n.children {
			if c.Type == fsspec.Dir {
				number(c)
			} else {
				count++
				c.number = count
			}
		}
		count++
		n.number = count
	}
	number(root)

	comp, err := newCompressor(opts.Compression, bs)
	if err != nil {
		return 0, err
	}
	inodes := &metaWriter{comp: comp}
	dirs := &metaWriter{comp: comp}
	header := func(n *node) inodeHeader {
		return inodeHeader{
			mode:   uint16(n.Mode),
			uid:    idIndex[n.UID],
			gid:    idIndex[n.GID],
			mtime:  opts.MkfsTime,
			number: n.number,
		}
	}
	var scratch []byte
	var writeDir func(n *node, parent uint32) uint64
	writeDir = func(n *node, parent uint32) uint64 {
		listing := make([]dirEntry, 0, len(n.children))
		subdirs := uint32(0)
		for _, c := range n.children {
			e := dirEntry{name: c.name, number: c.number}
			switch c.Type {
			case fsspec.Dir:
				subdirs++
				e.typ = typeDir
				e.ref = writeDir(c, n.number)
				listing = append(listing, e)
				continue
			case fsspec.File:
				e.typ = typeReg
				scratch = regInode(scratch[:0], header(c), c.layout)
			case fsspec.Symlink:
				e.typ = typeSymlink
				scratch = symlinkInode(scratch[:0], header(c), c.Target)
			case fsspec.CharDev:
				e.typ = typeCharDev
				scratch = devInode(scratch[:0], header(c), typeCharDev, c.Major, c.Minor)
			case fsspec.BlockDev:
				e.typ = typeBlockDev
				scratch = devInode(scratch[:0], header(c), typeBlockDev, c.Major, c.Minor)
			case fsspec.FIFO:
				e.typ = typeFIFO
				scratch = ipcInode(scratch[:0], header(c), typeFIFO)
			}
			e.ref = inodes.ref()
			inodes.write(scratch)
			listing = append(listing, e)
		}
		dref := dirs.ref()
		scratch = appendListing(scratch[:0], listing)
		dirs.write(scratch)
		size := len(scratch)
		scratch = dirInode(scratch[:0], header(n), uint32(dref>>16), uint16(dref), size, 2+subdirs, parent)
		ref := inodes.ref()
		inodes.write(scratch)
		return ref
	}
	// The root's parent is one past the last inode, as mksquashfs has it.
	rootRef := writeDir(root, count+1)

	sb := superblock{
		inodes:      count,
		mkfsTime:    opts.MkfsTime,
		blockSize:   uint32(bs),
		fragments:   uint32(len(wr.frags)),
		compression: uint16(opts.Compression),
		blockLog:    uint16(bits.TrailingZeros(uint(bs))),
		flags:       flagNoXattrs,
		ids:         uint16(len(ids)),
		rootInode:   rootRef,
	}
	if !opts.NoDedup {
		sb.flags |= flagDuplicates
	}
	it, err := inodes.finish()
	if err != nil {
		return 0, err
	}
	dt, err := dirs.finish()
	if err != nil {
		return 0, err
	}
	sb.inodeTableStart = wr.pos
	wr.write(it)
	sb.directoryTableStart = wr.pos
	wr.write(dt)

	var frags []byte
	for _, f := range wr.frags {
		frags = binary.LittleEndian.AppendUint64(frags, f.start)
		frags = binary.LittleEndian.AppendUint32(frags, f.size)
		frags = binary.LittleEndian.AppendUint32(frags, 0)
	}
	sb.fragmentTableStart = wr.writeTable(comp, frags)
	var idb []byte
	for _, id := range ids {
		idb = binary.LittleEndian.AppendUint32(idb, id)
	}
	sb.idTableStart = wr.writeTable(comp, idb)
	sb.bytesUsed = wr.pos
	if wr.err != nil {
		return 0, wr.err
	}
	if _, err := w.WriteAt(sb.encode(), 0); err != nil {
		return 0, err
	}
	// Pad to 4 KiB, which loop devices and mksquashfs expect.
	if pad := -wr.pos & 4095; pad > 0 {
		wr.write(make([]byte, pad))
	}
	return int64(wr.pos), wr.err
}

// buildTree links the sorted, complete entries into a tree.
func buildTree(entries []fsspec.Entry) (*node, error) {
	if len(entries) == 0 || entries[0].Path != "/" {
		return nil, errors.New("entries do not start with /: not from fsspec.Complete")
	}
	byPath := make(map[string]*node, len(entries))
	root := &node{Entry: entries[0]}
	byPath["/"] = root
	for _, e := range entries[1:] {
		parent := byPath[path.Dir(e.Path)]
		if parent == nil || parent.Type != fsspec.Dir {
			return nil, fmt.Errorf("%v: no parent directory: entries not from fsspec.Complete", e)
		}
		if byPath[e.Path] != nil {
			return nil, fmt.Errorf("%v: duplicate", e)
		}
		n := &node{Entry: e, name: path.Base(e.Path)}
		byPath[e.Path] = n
		parent.children = append(parent.children, n)
	}
	// Squashfs looks names up by binary search over byte order.
	walk(root, func(n *node) {
		slices.SortFunc(n.children, func(a, b *node) int {
			switch {
			case a.name < b.name:
				return -1
			case a.name > b.name:
				return 1
			}
			return 0
		})
	})
	return root, nil
}

// walk calls f on n and its descendants, depth first, in name order.
func walk(n *node, f func(*node)) {
	f(n)
	for _, c := range n.children {
		walk(c, f)
	}
}

type fragEntry struct {
	start uint64
	size  uint32
}

type imageWriter struct {
	w     io.WriterAt
	opts  Options
	pos   uint64
	err   error
	frags []*fragEntry
}

func (wr *imageWriter) write(p []byte) {
	if wr.err != nil {
		return
	}
	_, wr.err = wr.w.WriteAt(p, int64(wr.pos))
	wr.pos += uint64(len(p))
}

// writeTable writes a table of fixed-size records (fragments, ids) as
// metadata blocks followed by the positions of the blocks, and returns the
// position of those, which the superblock points to.
func (wr *imageWriter) writeTable(comp compressor, records []byte) uint64 {
	m := &metaWriter{comp: comp}
	m.write(records)
	t, err := m.finish()
	if err != nil && wr.err == nil {
		wr.err = err
	}
	start := wr.pos
	wr.write(t)
	var index []byte
	for _, s := range m.starts {
		index = binary.LittleEndian.AppendUint64(index, start+uint64(s))
	}
	pos := wr.pos
	wr.write(index)
	return pos
}

// A job is one block to compress: a full block of a file, or a fragment
// block of packed file tails.
type job struct {
	data []byte
	done chan struct{}
	out  []byte // what to store
	size uint32 // the size word: len(out), | dataUncompressed if stored as is
	err  error

	file  *layout // for a full block of a file
	block int
	frag  *fragEntry // for a fragment block
}

// writeData reads, packs and compresses the files' data and writes it at
// wr.pos. Reading and fragment packing happen here, in order; compression
// in wr.opts.Workers goroutines; writing in one goroutine, in order.
func (wr *imageWriter) writeData(files []*node) error {
	bs := wr.opts.BlockSize
	work := make(chan *job, wr.opts.Workers)
	order := make(chan *job, 4*wr.opts.Workers)
	var wg sync.WaitGroup
	for range wr.opts.Workers {
		c, err := newCompressor(wr.opts.Compression, bs)
		if err != nil {
			return err
		}
		wg.Go(func() {
			for j := range work {
				out, err := c.compress(j.data)
				switch {
				case err != nil:
					j.err = err
				case len(out) < len(j.data):
					j.out, j.size = out, uint32(len(out))
				default:
					j.out, j.size = j.data, uint32(len(j.data))|dataUncompressed
				}
				close(j.done)
			}
		})
	}
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		for j := range order {
			<-j.done
			if j.err != nil && wr.err == nil {
				wr.err = j.err
			}
			pos := wr.pos
			wr.write(j.out)
			if j.file == nil {
				*j.frag = fragEntry{start: pos, size: j.size}
				continue
			}
			if !j.file.started {
				j.file.start, j.file.started = pos, true
			}
			j.file.blocks[j.block] = j.size
		}
	}()
	submit := func(j *job) {
		j.done = make(chan struct{})
		order <- j
		work <- j
	}

	err := func() error {
		seen := make(map[[sha256.Size]byte]*layout)
		var frag []byte // the fragment block being filled
		flushFrag := func() {
			if len(frag) == 0 {
				return
			}
			// The producer owns wr.frags, the writer goroutine the entry.
			fe := new(fragEntry)
			wr.frags = append(wr.frags, fe)
			submit(&job{data: frag, frag: fe})
			frag = nil
		}
		for _, n := range files {
			data, err := readSource(n.Entry)
			if err != nil {
				return err
			}
			var sum [sha256.Size]byte
			if !wr.opts.NoDedup {
				sum = sha256.Sum256(data)
				if l := seen[sum]; l != nil {
					n.layout = l
					continue
				}
			}
			l := &layout{size: uint64(len(data)), frag: noFragment, blocks: make([]uint32, len(data)/bs)}
			n.layout = l
			if !wr.opts.NoDedup {
				seen[sum] = l
			}
			for i := range l.blocks {
				b := data[i*bs : (i+1)*bs]
				if isZero(b) {
					// A sparse block: size 0, nothing stored.
					l.sparse += uint64(bs)
					continue
				}
				submit(&job{data: b, file: l, block: i})
			}
			if tail := data[len(l.blocks)*bs:]; len(tail) > 0 {
				if len(frag)+len(tail) > bs {
					flushFrag()
				}
				if frag == nil {
					frag = make([]byte, 0, bs)
				}
				// The index is known now, before the block is written.
				l.frag, l.fragOffset = uint32(len(wr.frags)), uint32(len(frag))
				frag = append(frag, tail...)
			}
		}
		flushFrag()
		return nil
	}()
	close(work)
	close(order)
	wg.Wait()
	<-writerDone
	if err != nil {
		return err
	}
	return wr.err
}

func readSource(e fsspec.Entry) ([]byte, error) {
	fi, err := os.Stat(e.Source)
	if err != nil {
		return nil, fmt.Errorf("%v: source: %w", e, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%v: source %s is not a regular file", e, e.Source)
	}
	data, err := os.ReadFile(e.Source)
	if err != nil {
		return nil, fmt.Errorf("%v: source: %w", e, err)
	}
	return data, nil
}

func isZero(b []byte) bool {
	var zero [4096]byte
	for len(b) > 0 {
		n := min(len(b), len(zero))
		if !bytes.Equal(b[:n], zero[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}
