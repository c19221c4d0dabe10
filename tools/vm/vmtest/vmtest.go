// Package vmtest has what tests of the VM tools need to run QEMU without a
// real kernel.
package vmtest

import (
	"encoding/binary"
	"hash/fnv"
	"net"
	"os"
	"testing"
)

// maltaEcho is a MIPS32 big-endian program that echoes every byte received
// on the Malta's first serial port (the 16550 at ISA I/O 0x3f8, KSEG1
// 0xb80003f8) back to it. QEMU's Malta needs an ELF to boot at all, and an
// echo proves the console socket works in both directions.
var maltaEcho = []uint32{
	0x3c08b800, //       lui   t0, 0xb800
	0x350803f8, //       ori   t0, t0, 0x03f8
	0x91090005, // poll: lbu   t1, 5(t0)      # LSR
	0x31290001, //       andi  t1, t1, 1      # data ready
	0x1120fffd, //       beqz  t1, poll
	0x00000000, //       nop
	0x910a0000, //       lbu   t2, 0(t0)      # RBR
	0xa10a0000, //       sb    t2, 0(t0)      # THR
	0x1000fff9, //       b     poll
	0x00000000, //       nop
}

// MaltaEchoKernel returns a MIPS ELF that QEMU's Malta boots with -kernel:
// it echoes the serial console.
func MaltaEchoKernel() []byte {
	const (
		vaddr   = 0x80100000 // where Linux is linked on Malta
		ehsize  = 52
		phsize  = 32
		codeOff = ehsize + phsize
	)
	be := binary.BigEndian
	b := make([]byte, codeOff, codeOff+4*len(maltaEcho))
	copy(b, []byte{0x7f, 'E', 'L', 'F', 1 /* 32-bit */, 2 /* big-endian */, 1 /* version */})
	be.PutUint16(b[16:], 2)      // ET_EXEC
	be.PutUint16(b[18:], 8)      // EM_MIPS
	be.PutUint32(b[20:], 1)      // EV_CURRENT
	be.PutUint32(b[24:], vaddr)  // entry
	be.PutUint32(b[28:], ehsize) // phoff
	be.PutUint32(b[32:], 0)      // shoff
	be.PutUint32(b[36:], 0x1000) // EF_MIPS_ABI_O32
	be.PutUint16(b[40:], ehsize)
	be.PutUint16(b[42:], phsize)
	be.PutUint16(b[44:], 1) // phnum
	be.PutUint16(b[46:], 40)
	ph := b[ehsize:]
	be.PutUint32(ph[0:], 1) // PT_LOAD
	be.PutUint32(ph[4:], codeOff)
	be.PutUint32(ph[8:], vaddr)
	be.PutUint32(ph[12:], vaddr)
	be.PutUint32(ph[16:], uint32(4*len(maltaEcho)))
	be.PutUint32(ph[20:], uint32(4*len(maltaEcho)))
	be.PutUint32(ph[24:], 5) // R+X
	be.PutUint32(ph[28:], 4)
	for _, w := range maltaEcho {
		b = be.AppendUint32(b, w)
	}
	return b
}

// WriteFile writes data to a new file in t's temporary directory and returns
// its path.
func WriteFile(t testing.TB, name string, data []byte) string {
	t.Helper()
	path := t.TempDir() + "/" + name
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// PortBase returns multicast ports for t that no other test uses: derived
// from the test's name and the process, so that tests Bazel runs at the
// same time, in this package or another, do not share a network. The
// range 20000–59999 stays clear of the conventional 1234–1236.
func PortBase(t testing.TB) int {
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	binary.Write(h, binary.BigEndian, int32(os.Getpid()))
	return 20000 + 3*int(h.Sum32()%13333)
}

// FreeUDPPort returns a UDP port of 127.0.0.1 that was free a moment ago,
// for a QEMU NIC's end of a point-to-point link (vm.UnicastNetdev): QEMU
// must be told its port, it cannot pick one and report it.
func FreeUDPPort(t testing.TB) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
