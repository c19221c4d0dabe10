// Package cpio writes cpio archives in the "newc" format the kernel's
// initramfs unpacker reads.
package cpio

import (
	"bytes"
	"fmt"
)

// File type bits of Entry.Mode (as in stat(2)).
const (
	ModeDir  = 0o040000
	ModeFile = 0o100000
	ModeChar = 0o020000
)

// Entry is one archive member, owned by root, with mtime 0.
type Entry struct {
	Name                 string // without a leading slash
	Mode                 uint32 // type and permission bits
	RdevMajor, RdevMinor uint32 // for device nodes
	Data                 []byte // for regular files
}

// Write returns the archive of the entries, in order, with the trailer.
func Write(entries []Entry) []byte {
	var b bytes.Buffer
	ino := uint32(1)
	for _, e := range entries {
		writeEntry(&b, ino, e)
		ino++
	}
	writeEntry(&b, 0, Entry{Name: "TRAILER!!!"})
	return b.Bytes()
}

func writeEntry(b *bytes.Buffer, ino uint32, e Entry) {
	nlink := uint32(1)
	if e.Mode&ModeDir != 0 {
		nlink = 2
	}
	// magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor,
	// devminor, rdevmajor, rdevminor, namesize, check.
	fmt.Fprintf(b, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, e.RdevMajor, e.RdevMinor, len(e.Name)+1, 0)
	b.WriteString(e.Name)
	b.WriteByte(0)
	pad(b)
	b.Write(e.Data)
	pad(b)
}

// pad aligns to 4 bytes, as newc wants after the name and after the data.
func pad(b *bytes.Buffer) {
	for b.Len()%4 != 0 {
		b.WriteByte(0)
	}
}
