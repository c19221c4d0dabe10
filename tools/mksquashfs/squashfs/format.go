package squashfs

import "encoding/binary"

// The on-disk layout of squashfs 4.0, as in the kernel's
// fs/squashfs/squashfs_fs.h. Everything is little-endian.

const (
	magic        = 0x73717368
	superSize    = 96
	metadataSize = 8192 // uncompressed size of a metadata block

	// The bit of a metadata block header, and of a data block size, that
	// says the block is stored uncompressed.
	metaUncompressed = 1 << 15
	dataUncompressed = 1 << 24

	noFragment = 0xffffffff
	noXattr    = 0xffffffff
	noTable    = 0xffffffffffffffff

	// Superblock flags.
	flagDuplicates = 0x40
	flagNoXattrs   = 0x200

	maxDirCount = 256 // entries under one directory header
)

// Inode types. Directory entries carry the basic type even when the inode
// is extended.
const (
	typeDir      = 1
	typeReg      = 2
	typeSymlink  = 3
	typeBlockDev = 4
	typeCharDev  = 5
	typeFIFO     = 6
	typeSocket   = 7
	typeLDir     = 8
	typeLReg     = 9
)

type superblock struct {
	inodes              uint32
	mkfsTime            uint32
	blockSize           uint32
	fragments           uint32
	compression         uint16
	blockLog            uint16
	flags               uint16
	ids                 uint16
	rootInode           uint64
	bytesUsed           uint64
	idTableStart        uint64
	inodeTableStart     uint64
	directoryTableStart uint64
	fragmentTableStart  uint64
}

func (s *superblock) encode() []byte {
	le := binary.LittleEndian
	b := make([]byte, 0, superSize)
	b = le.AppendUint32(b, magic)
	b = le.AppendUint32(b, s.inodes)
	b = le.AppendUint32(b, s.mkfsTime)
	b = le.AppendUint32(b, s.blockSize)
	b = le.AppendUint32(b, s.fragments)
	b = le.AppendUint16(b, s.compression)
	b = le.AppendUint16(b, s.blockLog)
	b = le.AppendUint16(b, s.flags)
	b = le.AppendUint16(b, s.ids)
	b = le.AppendUint16(b, 4) // major version
	b = le.AppendUint16(b, 0) // minor version
	b = le.AppendUint64(b, s.rootInode)
	b = le.AppendUint64(b, s.bytesUsed)
	b = le.AppendUint64(b, s.idTableStart)
	b = le.AppendUint64(b, noTable) // xattr id table
	b = le.AppendUint64(b, s.inodeTableStart)
	b = le.AppendUint64(b, s.directoryTableStart)
	b = le.AppendUint64(b, s.fragmentTableStart)
	b = le.AppendUint64(b, noTable) // export (lookup) table
	return b
}

// inodeHeader is the part common to all inodes.
type inodeHeader struct {
	typ      uint16
	mode     uint16 // permission bits only, 07777
	uid, gid uint16 // indexes into the id table
	mtime    uint32
	number   uint32
}

func (h inodeHeader) append(b []byte) []byte {
	le := binary.LittleEndian
	b = le.AppendUint16(b, h.typ)
	b = le.AppendUint16(b, h.mode)
	b = le.AppendUint16(b, h.uid)
	b = le.AppendUint16(b, h.gid)
	b = le.AppendUint32(b, h.mtime)
	return le.AppendUint32(b, h.number)
}

// dirInode appends a directory inode. size is the size of the listing in
// the directory table; the inode records it plus 3, for the "." and ".."
// the kernel makes up. A listing over 64 KiB needs the extended inode.
func dirInode(b []byte, h inodeHeader, block uint32, offset uint16, size int, nlink, parent uint32) []byte {
	le := binary.LittleEndian
	if size+3 <= 0xffff {
		h.typ = typeDir
		b = h.append(b)
		b = le.AppendUint32(b, block)
		b = le.AppendUint32(b, nlink)
		b = le.AppendUint16(b, uint16(size+3))
		b = le.AppendUint16(b, offset)
		return le.AppendUint32(b, parent)
	}
	h.typ = typeLDir
	b = h.append(b)
	b = le.AppendUint32(b, nlink)
	b = le.AppendUint32(b, uint32(size+3))
	b = le.AppendUint32(b, block)
	b = le.AppendUint32(b, parent)
	b = le.AppendUint16(b, 0) // no directory index: lookups scan the listing
	b = le.AppendUint16(b, offset)
	return le.AppendUint32(b, noXattr)
}

// regInode appends a regular file inode, extended when the numbers do not
// fit the basic one or the file has sparse blocks (as mksquashfs does, so
// that the kernel's block count is right).
func regInode(b []byte, h inodeHeader, l *layout) []byte {
	le := binary.LittleEndian
	if l.start < 1<<32 && l.size < 1<<32 && l.sparse == 0 {
		h.typ = typeReg
		b = h.append(b)
		b = le.AppendUint32(b, uint32(l.start))
		b = le.AppendUint32(b, l.frag)
		b = le.AppendUint32(b, l.fragOffset)
		b = le.AppendUint32(b, uint32(l.size))
	} else {
		h.typ = typeLReg
		b = h.append(b)
		b = le.AppendUint64(b, l.start)
		b = le.AppendUint64(b, l.size)
		b = le.AppendUint64(b, l.sparse)
		b = le.AppendUint32(b, 1) // nlink
		b = le.AppendUint32(b, l.frag)
		b = le.AppendUint32(b, l.fragOffset)
		b = le.AppendUint32(b, noXattr)
	}
	for _, s := range l.blocks {
		b = le.AppendUint32(b, s)
	}
	return b
}

func symlinkInode(b []byte, h inodeHeader, target string) []byte {
	le := binary.LittleEndian
	h.typ = typeSymlink
	b = h.append(b)
	b = le.AppendUint32(b, 1) // nlink
	b = le.AppendUint32(b, uint32(len(target)))
	return append(b, target...)
}

// devInode appends a block or character device inode; the number is
// encoded as the kernel's new_encode_dev, which squashfs decodes with
// new_decode_dev.
func devInode(b []byte, h inodeHeader, typ uint16, major, minor uint32) []byte {
	le := binary.LittleEndian
	h.typ = typ
	b = h.append(b)
	b = le.AppendUint32(b, 1)
	return le.AppendUint32(b, minor&0xff|major<<8|(minor&^0xff)<<12)
}

func ipcInode(b []byte, h inodeHeader, typ uint16) []byte {
	h.typ = typ
	b = h.append(b)
	return binary.LittleEndian.AppendUint32(b, 1)
}

// dirEntry is one entry of a directory listing.
type dirEntry struct {
	name   string
	ref    uint64 // inode reference: metadata block << 16 | offset
	number uint32 // inode number
	typ    uint16 // basic inode type
}

// appendListing appends the directory table listing of entries, which are
// sorted by name. A header starts a run of at most 256 entries whose inodes
// are in one metadata block and whose inode numbers are within an int16 of
// the header's.
func appendListing(b []byte, entries []dirEntry) []byte {
	le := binary.LittleEndian
	for i := 0; i < len(entries); {
		block := uint32(entries[i].ref >> 16)
		base := entries[i].number
		j := i + 1
		for j < len(entries) && j-i < maxDirCount && uint32(entries[j].ref>>16) == block {
			if d := int64(entries[j].number) - int64(base); d < -0x8000 || d > 0x7fff {
				break
			}
			j++
		}
		b = le.AppendUint32(b, uint32(j-i-1))
		b = le.AppendUint32(b, block)
		b = le.AppendUint32(b, base)
		for _, e := range entries[i:j] {
			b = le.AppendUint16(b, uint16(e.ref))
			b = le.AppendUint16(b, uint16(int16(int64(e.number)-int64(base))))
			b = le.AppendUint16(b, e.typ)
			b = le.AppendUint16(b, uint16(len(e.name)-1))
			b = append(b, e.name...)
		}
		i = j
	}
	return b
}
