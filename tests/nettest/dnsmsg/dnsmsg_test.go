package dnsmsg

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// query is a standard query for www.example.test A with RD, ID 0xbeef, as
// dig sends it (without EDNS).
var query = []byte{
	0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
	0, 1, 0, 1,
}

// answer answers query with two A records, the second with a compressed
// name, and an OPT record in the additional section.
var answer = append(append(append([]byte{
	0xbe, 0xef, 0x85, 0x80, 0, 1, 0, 2, 0, 0, 0, 1},
	query[12:]...),
	3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0,
	0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 80,
	0xc0, 12, // www.example.test, the question's
	0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 81),
	0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want *Message
	}{{
		name: "query",
		in:   query,
		want: &Message{
			Header:    Header{ID: 0xbeef, RecursionDesired: true},
			Questions: []Question{{"www.example.test", TypeA, ClassINET}},
		},
	}, {
		name: "answer with compression and EDNS",
		in:   answer,
		want: &Message{
			Header:    Header{ID: 0xbeef, Response: true, Authoritative: true, RecursionDesired: true, RecursionAvailable: true},
			Questions: []Question{{"www.example.test", TypeA, ClassINET}},
			Answers: []Resource{
				{"www.example.test", TypeA, ClassINET, 60, []byte{192, 0, 2, 80}},
				{"www.example.test", TypeA, ClassINET, 60, []byte{192, 0, 2, 81}},
			},
			Additionals: []Resource{{".", TypeOPT, 1232, 0, []byte{}}},
		},
	}, {
		name: "NXDOMAIN",
		in:   []byte{0, 1, 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0},
		want: &Message{Header: Header{ID: 1, Response: true, RecursionDesired: true, RecursionAvailable: true, RCode: RCodeNameError}},
	}, {
		name: "escaped label",
		in: []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
			4, 'a', '.', 'b', '\\', 2, 0, ' ', 0, 0, 12, 0, 1},
		want: &Message{
			Header:    Header{ID: 1},
			Questions: []Question{{`a\.b\\.\000\032`, TypePTR, ClassINET}},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse: (-want +got):\n%s", diff)
			}
			// Back to the wire and again: the same message (compression aside).
			b, err := got.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			again, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse(Marshal()): %v", err)
			}
			if diff := cmp.Diff(tt.want, again); diff != "" {
				t.Errorf("Parse(Marshal()): (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshal(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want []byte
	}{{
		name: "query",
		msg: Message{
			Header:    Header{ID: 0xbeef, RecursionDesired: true},
			Questions: []Question{{"www.example.test.", TypeA, ClassINET}},
		},
		want: query,
	}, {
		name: "case kept, root, AAAA",
		msg: Message{
			Header:    Header{ID: 2, Response: true, OpCode: 0, RCode: RCodeRefused},
			Questions: []Question{{"Ex.", TypeAAAA, ClassINET}},
			Answers:   []Resource{AddrResource(".", 5, netip.MustParseAddr("2001:db8::1"))},
		},
		want: []byte{0, 2, 0x80, 0x05, 0, 1, 0, 1, 0, 0, 0, 0,
			2, 'E', 'x', 0, 0, 28, 0, 1,
			0, 0, 28, 0, 1, 0, 0, 0, 5, 0, 16, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1},
	}, {
		name: "escapes",
		msg: Message{
			Questions: []Question{{`a\.b\\.\000\.`, TypeTXT, ClassINET}},
		},
		want: []byte{0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0,
			4, 'a', '.', 'b', '\\', 2, 0, '.', 0, 0, 16, 0, 1},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.msg.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Marshal: (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		msg  Message
		want string
	}{
		{"empty label", Message{Questions: []Question{{Name: "a..b"}}}, "empty label"},
		{"leading dot", Message{Questions: []Question{{Name: ".a"}}}, "empty label"},
		{"long label", Message{Questions: []Question{{Name: strings.Repeat("x", 64) + ".test"}}}, "longer than 63"},
		{"long name", Message{Questions: []Question{{Name: strings.Repeat("abcdefg.", 32) + "test"}}}, "longer than 255"},
		{"trailing backslash", Message{Questions: []Question{{Name: `a\`}}}, "backslash"},
		{"short escape", Message{Questions: []Question{{Name: `a\1`}}}, "short"},
		{"escape over 255", Message{Questions: []Question{{Name: `a\300`}}}, "bad"},
		{"rcode", Message{Header: Header{RCode: 16}}, "rcode"},
		{"opcode", Message{Header: Header{OpCode: 16}}, "opcode"},
		{"long data", Message{Answers: []Resource{{Name: "a", Data: make([]byte, 65536)}}}, "65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.msg.Marshal()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Marshal: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	hdr := func(qd, an byte) []byte { return []byte{0, 1, 0, 0, 0, qd, 0, an, 0, 0, 0, 0} }
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "shorter than the header"},
		{"short header", query[:11], "shorter than the header"},
		{"question missing", hdr(1, 0), "truncated"},
		{"question without type", query[:len(query)-2], "truncated"},
		{"label past the end", append(hdr(1, 0), 5, 'a'), "truncated"},
		{"pointer to itself", append(hdr(1, 0), 0xc0, 12, 0, 1, 0, 1), "backwards"},
		{"pointer forwards", append(hdr(1, 0), 0xc0, 20, 0, 1, 0, 1, 0, 0), "backwards"},
		{"pointer loop", append(hdr(2, 0), 1, 'a', 0xc0, 18, 0, 1, 0, 1, 0xc0, 12, 0, 1, 0, 1), "backwards"},
		{"half a pointer", append(hdr(1, 0), 0xc0), "truncated"},
		{"label type 01", append(hdr(1, 0), 0x41, 0, 0, 1, 0, 1), "label type"},
		{"long name", append(hdr(1, 0), bytes.Repeat(append([]byte{7}, "abcdefg"...), 33)...), "longer than 255"},
		{"record data past the end", append(append(hdr(0, 1), 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 5), 1, 2), "answer 0"},
		{"record without fixed part", append(hdr(0, 1), 0, 0, 1), "truncated"},
		{"trailing bytes", append(bytes.Clone(query), 0), "after the last record"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse = %+v, %v; want an error containing %q", m, err, tt.want)
			}
		})
	}
}

func TestResourceAddr(t *testing.T) {
	tests := []struct {
		r    Resource
		want netip.Addr
		ok   bool
	}{
		{AddrResource("a", 1, netip.MustParseAddr("192.0.2.1")), netip.MustParseAddr("192.0.2.1"), true},
		{AddrResource("a", 1, netip.MustParseAddr("2001:db8::1")), netip.MustParseAddr("2001:db8::1"), true},
		{Resource{Type: TypeA, Data: make([]byte, 16)}, netip.Addr{}, false},
		{Resource{Type: TypeAAAA, Data: make([]byte, 4)}, netip.Addr{}, false},
		{Resource{Type: TypeTXT, Data: make([]byte, 4)}, netip.Addr{}, false},
	}
	for _, tt := range tests {
		got, ok := tt.r.Addr()
		if got != tt.want || ok != tt.ok {
			t.Errorf("%+v.Addr() = %v, %v; want %v, %v", tt.r, got, ok, tt.want, tt.ok)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{TypeA.String(), "A"},
		{TypeAAAA.String(), "AAAA"},
		{Type(999).String(), "TYPE999"},
		{RCodeNameError.String(), "NXDOMAIN"},
		{RCodeRefused.String(), "REFUSED"},
		{RCode(9).String(), "RCODE9"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(query)
	f.Add(answer)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		// What parses must marshal, and parse back to the same.
		out, err := m.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed message: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal()): %v", err)
		}
		if diff := cmp.Diff(m, again); diff != "" {
			t.Errorf("Parse(Marshal()): (-first +second):\n%s", diff)
		}
	})
}
