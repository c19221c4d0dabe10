package tftp

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParsePacket checks that ParsePacket never panics and that whatever
// it accepts survives a round trip: encoding the packet and parsing it
// again gives the same packet, and encoding that gives the same bytes.
//
// The seed corpus is in testdata/fuzz/FuzzParsePacket; plain `go test`
// runs just those seeds.
func FuzzParsePacket(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePacket(b)
		if err != nil {
			if p != nil {
				t.Fatalf("ParsePacket(%q) returned both %#v and %v", b, p, err)
			}
			return
		}
		enc, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("ParsePacket(%q) = %#v, which does not encode: %v", b, p, err)
		}
		p2, err := ParsePacket(enc)
		if err != nil {
			t.Fatalf("re-parsing %q (from %q): %v", enc, b, err)
		}
		if diff := cmp.Diff(p, p2); diff != "" {
			t.Fatalf("round trip of %q changed the packet (-first +second):\n%s", b, diff)
		}
		enc2, err := p2.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable: %q then %q (%v)", enc, enc2, err)
		}
		if p.Opcode() != Opcode(uint16(b[0])<<8|uint16(b[1])) {
			t.Fatalf("Opcode() = %v, packet starts with %q", p.Opcode(), b[:2])
		}
	})
}
