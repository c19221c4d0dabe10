package tftp

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePacket(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Packet
	}{
		{"rrq", "\x00\x01file.bin\x00octet\x00",
			&Request{Op: OpRRQ, Filename: "file.bin", Mode: "octet"}},
		{"rrq mode case kept", "\x00\x01a/b\x00NetASCII\x00",
			&Request{Op: OpRRQ, Filename: "a/b", Mode: "NetASCII"}},
		{"rrq options", "\x00\x01f\x00octet\x00blksize\x001468\x00tsize\x000\x00",
			&Request{Op: OpRRQ, Filename: "f", Mode: "octet", Options: []Option{{"blksize", "1468"}, {"tsize", "0"}}}},
		{"rrq empty strings", "\x00\x01\x00\x00",
			&Request{Op: OpRRQ}},
		{"rrq repeated option", "\x00\x01f\x00octet\x00a\x001\x00A\x002\x00",
			&Request{Op: OpRRQ, Filename: "f", Mode: "octet", Options: []Option{{"a", "1"}, {"A", "2"}}}},
		{"wrq", "\x00\x02up\x00octet\x00",
			&Request{Op: OpWRQ, Filename: "up", Mode: "octet"}},
		{"data", "\x00\x03\x00\x07hello",
			&Data{Block: 7, Payload: []byte("hello")}},
		{"data empty", "\x00\x03\xff\xff",
			&Data{Block: 65535, Payload: []byte{}}},
		{"ack", "\x00\x04\x01\x02", &Ack{Block: 0x0102}},
		{"ack padded", "\x00\x04\x00\x01\x00\x00", &Ack{Block: 1}},
		{"error", "\x00\x05\x00\x01file not found\x00",
			&Error{Code: ErrNotFound, Message: "file not found"}},
		{"error without NUL", "\x00\x05\x00\x02denied",
			&Error{Code: ErrAccess, Message: "denied"}},
		{"error empty", "\x00\x05\x00\x00", &Error{}},
		{"error trailing bytes", "\x00\x05\x00\x00a\x00b", &Error{Message: "a"}},
		{"oack", "\x00\x06blksize\x00512\x00",
			&OACK{Options: []Option{{"blksize", "512"}}}},
		{"oack empty", "\x00\x06", &OACK{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePacket([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParsePacket(%q): %v", tt.in, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParsePacket(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestParsePacketMalformed(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // substring of the error
	}{
		{"empty", "", "too short"},
		{"one byte", "\x00", "too short"},
		{"opcode 0", "\x00\x00", "unknown opcode 0"},
		{"opcode 7", "\x00\x07x\x00", "unknown opcode 7"},
		{"opcode 256", "\x01\x00", "unknown opcode 256"},
		{"rrq no body", "\x00\x01", "without mode"},
		{"rrq filename only", "\x00\x01file\x00", "without mode"},
		{"rrq missing NUL", "\x00\x01file", "missing NUL"},
		{"rrq mode missing NUL", "\x00\x01file\x00octet", "missing NUL"},
		{"rrq odd options", "\x00\x01f\x00octet\x00blksize\x00", "without value"},
		{"rrq option missing NUL", "\x00\x01f\x00octet\x00blksize\x00512", "missing NUL"},
		{"wrq truncated", "\x00\x02f", "missing NUL"},
		{"data truncated", "\x00\x03\x00", "too short"},
		{"ack truncated", "\x00\x04\x00", "too short"},
		{"error truncated", "\x00\x05\x00", "too short"},
		{"oack odd", "\x00\x06blksize\x00", "without value"},
		{"oack missing NUL", "\x00\x06blksize\x00512", "missing NUL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParsePacket([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParsePacket(%q) = %#v, want error", tt.in, p)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("ParsePacket(%q) error %v does not wrap ErrMalformed", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePacket(%q) error %q, want it to mention %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestAppendBinary(t *testing.T) {
	tests := []struct {
		name string
		p    Packet
		want string
	}{
		{"rrq", &Request{Op: OpRRQ, Filename: "f", Mode: "octet", Options: []Option{{"blksize", "8"}}},
			"\x00\x01f\x00octet\x00blksize\x008\x00"},
		{"wrq", &Request{Op: OpWRQ, Filename: "f", Mode: "netascii"}, "\x00\x02f\x00netascii\x00"},
		{"data", &Data{Block: 258, Payload: []byte("xy")}, "\x00\x03\x01\x02xy"},
		{"data empty", &Data{Block: 1}, "\x00\x03\x00\x01"},
		{"ack", &Ack{Block: 65535}, "\x00\x04\xff\xff"},
		{"error", &Error{Code: ErrUnknownTID, Message: "unknown transfer ID"}, "\x00\x05\x00\x05unknown transfer ID\x00"},
		{"oack", &OACK{Options: []Option{{"tsize", "42"}, {"windowsize", "8"}}}, "\x00\x06tsize\x0042\x00windowsize\x008\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.p.AppendBinary([]byte("prefix"))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff("prefix"+tt.want, string(got)); diff != "" {
				t.Errorf("AppendBinary mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendBinaryRejectsUnencodable(t *testing.T) {
	for _, p := range []Packet{
		&Request{Op: OpRRQ, Filename: "a\x00b", Mode: "octet"},
		&Request{Op: OpRRQ, Filename: "a", Mode: "octet", Options: []Option{{"x\x00", "1"}}},
		&Request{Op: OpDATA, Filename: "a", Mode: "octet"},
		&Error{Message: "\x00"},
		&OACK{Options: []Option{{"blksize", "5\x00"}}},
	} {
		if b, err := p.AppendBinary(nil); err == nil {
			t.Errorf("AppendBinary(%#v) = %q, want error", p, b)
		}
	}
}

func TestOpcodeString(t *testing.T) {
	if got := OpOACK.String(); got != "OACK" {
		t.Errorf("OpOACK.String() = %q", got)
	}
	if got := Opcode(9).String(); got != "Opcode(9)" {
		t.Errorf("Opcode(9).String() = %q", got)
	}
}
