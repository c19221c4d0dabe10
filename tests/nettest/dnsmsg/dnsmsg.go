// Package dnsmsg encodes and decodes DNS messages (RFC 1035), as much as a
// test's stub resolver and toy server need: the header, questions, and
// resource records with their data left as bytes. It is pure, and
// malformed input makes Parse return an error, never panic.
//
// Names are dotted text without the trailing dot ("www.example.test"), the
// root is ".". A dot or backslash inside a label, and bytes that are not
// printable ASCII, are escaped as in zone files: "\." and "\\", "\DDD".
package dnsmsg

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Type is a resource record type.
type Type uint16

// The types a test meets.
const (
	TypeA     Type = 1
	TypeNS    Type = 2
	TypeCNAME Type = 5
	TypeSOA   Type = 6
	TypePTR   Type = 12
	TypeMX    Type = 15
	TypeTXT   Type = 16
	TypeAAAA  Type = 28
	TypeSRV   Type = 33
	TypeOPT   Type = 41
	TypeHTTPS Type = 65
	TypeANY   Type = 255
)

var typeNames = map[Type]string{
	TypeA: "A", TypeNS: "NS", TypeCNAME: "CNAME", TypeSOA: "SOA", TypePTR: "PTR",
	TypeMX: "MX", TypeTXT: "TXT", TypeAAAA: "AAAA", TypeSRV: "SRV", TypeOPT: "OPT",
	TypeHTTPS: "HTTPS", TypeANY: "ANY",
}

// String returns the type's mnemonic, or TYPEn (RFC 3597) for others.
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "TYPE" + strconv.Itoa(int(t))
}

// Class is a resource record class; only the Internet's is in use.
type Class uint16

// ClassINET is the Internet class, IN.
const ClassINET Class = 1

// RCode is a response code.
type RCode uint8

// The response codes of RFC 1035.
const (
	RCodeSuccess        RCode = 0
	RCodeFormatError    RCode = 1
	RCodeServerFailure  RCode = 2
	RCodeNameError      RCode = 3 // the name does not exist
	RCodeNotImplemented RCode = 4
	RCodeRefused        RCode = 5
)

var rcodeNames = [...]string{"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"}

// String returns the code's mnemonic as dig shows it, such as "NXDOMAIN".
func (r RCode) String() string {
	if int(r) < len(rcodeNames) {
		return rcodeNames[r]
	}
	return "RCODE" + strconv.Itoa(int(r))
}

// Header is a message's header without the section counts, which Marshal
// and Parse derive from the sections.
type Header struct {
	ID                 uint16
	Response           bool
	OpCode             uint8 // 0 for a standard query
	Authoritative      bool
	Truncated          bool
	RecursionDesired   bool
	RecursionAvailable bool
	RCode              RCode // at most 15: extended codes need EDNS
}

// Question is an entry of the question section.
type Question struct {
	Name  string
	Type  Type
	Class Class
}

// Resource is a resource record. Data is the record's data as on the wire:
// for types whose data holds names (CNAME, NS, MX...), those may be
// compression pointers into the message it came from.
type Resource struct {
	Name  string
	Type  Type
	Class Class
	TTL   uint32
	Data  []byte
}

// AddrResource returns an A record for an IPv4 addr, an AAAA record for an
// IPv6 one, in the Internet class.
func AddrResource(name string, ttl uint32, addr netip.Addr) Resource {
	r := Resource{Name: name, Type: TypeAAAA, Class: ClassINET, TTL: ttl, Data: addr.AsSlice()}
	if addr.Is4() {
		r.Type = TypeA
	}
	return r
}

// Addr returns the address of an A or AAAA record, and whether r is one
// with data of the right length.
func (r Resource) Addr() (netip.Addr, bool) {
	switch {
	case r.Type == TypeA && len(r.Data) == 4, r.Type == TypeAAAA && len(r.Data) == 16:
		return netip.AddrFromSlice(r.Data)
	}
	return netip.Addr{}, false
}

// Message is a DNS message.
type Message struct {
	Header
	Questions   []Question
	Answers     []Resource
	Authorities []Resource
	Additionals []Resource
}

// headerLen is the size of the header, counts included.
const headerLen = 12

// Marshal returns m as it goes on the wire, over UDP; over TCP it takes a
// two-byte length before it. Names are not compressed.
func (m *Message) Marshal() ([]byte, error) {
	if m.OpCode > 15 {
		return nil, fmt.Errorf("dnsmsg: opcode %d does not fit in 4 bits", m.OpCode)
	}
	if m.RCode > 15 {
		return nil, fmt.Errorf("dnsmsg: rcode %d does not fit in 4 bits", m.RCode)
	}
	b := make([]byte, headerLen, 512)
	binary.BigEndian.PutUint16(b[0:], m.ID)
	flags := uint16(m.OpCode)<<11 | uint16(m.RCode)
	for _, f := range []struct {
		set bool
		bit uint16
	}{
		{m.Response, 1 << 15},
		{m.Authoritative, 1 << 10},
		{m.Truncated, 1 << 9},
		{m.RecursionDesired, 1 << 8},
		{m.RecursionAvailable, 1 << 7},
	} {
		if f.set {
			flags |= f.bit
		}
	}
	binary.BigEndian.PutUint16(b[2:], flags)
	for i, n := range []int{len(m.Questions), len(m.Answers), len(m.Authorities), len(m.Additionals)} {
		if n > 0xffff {
			return nil, fmt.Errorf("dnsmsg: %d records in a section, more than 65535", n)
		}
		binary.BigEndian.PutUint16(b[4+2*i:], uint16(n))
	}
	var err error
	for _, q := range m.Questions {
		if b, err = appendName(b, q.Name); err != nil {
			return nil, err
		}
		b = binary.BigEndian.AppendUint16(b, uint16(q.Type))
		b = binary.BigEndian.AppendUint16(b, uint16(q.Class))
	}
	for _, section := range [][]Resource{m.Answers, m.Authorities, m.Additionals} {
		for _, r := range section {
			if b, err = appendName(b, r.Name); err != nil {
				return nil, err
			}
			if len(r.Data) > 0xffff {
				return nil, fmt.Errorf("dnsmsg: %s record of %s: %d bytes of data, more than 65535", r.Type, r.Name, len(r.Data))
			}
			b = binary.BigEndian.AppendUint16(b, uint16(r.Type))
			b = binary.BigEndian.AppendUint16(b, uint16(r.Class))
			b = binary.BigEndian.AppendUint32(b, r.TTL)
			b = binary.BigEndian.AppendUint16(b, uint16(len(r.Data)))
			b = append(b, r.Data...)
		}
	}
	if len(b) > 0xffff {
		return nil, fmt.Errorf("dnsmsg: message of %d bytes, more than 65535", len(b))
	}
	return b, nil
}

// appendName appends name in wire format, uncompressed.
func appendName(b []byte, name string) ([]byte, error) {
	start := len(b)
	if n := len(name); n > 0 && name[n-1] == '.' {
		// The trailing dot, unless escaped: an odd number of backslashes.
		bs := n - 1 - len(strings.TrimRight(name[:n-1], "\\"))
		if bs%2 == 0 {
			name = name[:n-1]
		}
	}
	if name == "" {
		return append(b, 0), nil
	}
	var label []byte
	flush := func() error {
		if len(label) == 0 {
			return fmt.Errorf("dnsmsg: name %q has an empty label", name)
		}
		if len(label) > 63 {
			return fmt.Errorf("dnsmsg: name %q has a label longer than 63 bytes", name)
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
		label = label[:0]
		return nil
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '.':
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		case '\\':
			i++
			if i == len(name) {
				return nil, fmt.Errorf("dnsmsg: name %q ends in a backslash", name)
			}
			c = name[i]
			if '0' <= c && c <= '9' {
				if i+3 > len(name) {
					return nil, fmt.Errorf("dnsmsg: name %q: short \\DDD escape", name)
				}
				n, err := strconv.ParseUint(name[i:i+3], 10, 8)
				if err != nil {
					return nil, fmt.Errorf("dnsmsg: name %q: bad \\DDD escape", name)
				}
				c = byte(n)
				i += 2
			}
		}
		label = append(label, c)
	}
	if err := flush(); err != nil {
		return nil, err
	}
	b = append(b, 0)
	if len(b)-start > 255 {
		return nil, fmt.Errorf("dnsmsg: name %q longer than 255 bytes on the wire", name)
	}
	return b, nil
}

var errShort = errors.New("dnsmsg: message truncated")

// Parse decodes a DNS message, following compression pointers in names.
// Bytes after the last record are an error.
func Parse(b []byte) (*Message, error) {
	if len(b) < headerLen {
		return nil, fmt.Errorf("%w: %d bytes, shorter than the header", errShort, len(b))
	}
	flags := binary.BigEndian.Uint16(b[2:])
	m := &Message{Header: Header{
		ID:                 binary.BigEndian.Uint16(b),
		Response:           flags&(1<<15) != 0,
		OpCode:             uint8(flags>>11) & 0xf,
		Authoritative:      flags&(1<<10) != 0,
		Truncated:          flags&(1<<9) != 0,
		RecursionDesired:   flags&(1<<8) != 0,
		RecursionAvailable: flags&(1<<7) != 0,
		RCode:              RCode(flags & 0xf),
	}}
	var counts [4]int
	for i := range counts {
		counts[i] = int(binary.BigEndian.Uint16(b[4+2*i:]))
	}
	off := headerLen
	for i := 0; i < counts[0]; i++ {
		name, n, err := readName(b, off)
		if err != nil {
			return nil, fmt.Errorf("question %d: %w", i, err)
		}
		off = n
		if off+4 > len(b) {
			return nil, fmt.Errorf("question %d: %w", i, errShort)
		}
		m.Questions = append(m.Questions, Question{
			Name:  name,
			Type:  Type(binary.BigEndian.Uint16(b[off:])),
			Class: Class(binary.BigEndian.Uint16(b[off+2:])),
		})
		off += 4
	}
	sections := []*[]Resource{&m.Answers, &m.Authorities, &m.Additionals}
	for s, section := range sections {
		for i := 0; i < counts[s+1]; i++ {
			name, n, err := readName(b, off)
			if err != nil {
				return nil, fmt.Errorf("%s %d: %w", sectionNames[s], i, err)
			}
			off = n
			if off+10 > len(b) {
				return nil, fmt.Errorf("%s %d: %w", sectionNames[s], i, errShort)
			}
			r := Resource{
				Name:  name,
				Type:  Type(binary.BigEndian.Uint16(b[off:])),
				Class: Class(binary.BigEndian.Uint16(b[off+2:])),
				TTL:   binary.BigEndian.Uint32(b[off+4:]),
			}
			dlen := int(binary.BigEndian.Uint16(b[off+8:]))
			off += 10
			if off+dlen > len(b) {
				return nil, fmt.Errorf("%s %d: %w", sectionNames[s], i, errShort)
			}
			r.Data = append([]byte{}, b[off:off+dlen]...)
			off += dlen
			*section = append(*section, r)
		}
	}
	if off != len(b) {
		return nil, fmt.Errorf("dnsmsg: %d bytes after the last record", len(b)-off)
	}
	return m, nil
}

var sectionNames = [...]string{"answer", "authority", "additional"}

// readName reads the name at off in msg and returns it with the offset
// just after it (after the first compression pointer, if any).
func readName(msg []byte, off int) (string, int, error) {
	var (
		sb     strings.Builder
		next   = -1 // where the caller continues, once a pointer was followed
		wire   = 0  // the name's length uncompressed, at most 255
		lowest = off
	)
	for {
		if off >= len(msg) {
			return "", 0, errShort
		}
		c := int(msg[off])
		switch c & 0xc0 {
		case 0x00:
		case 0xc0:
			if off+1 >= len(msg) {
				return "", 0, errShort
			}
			ptr := (c&0x3f)<<8 | int(msg[off+1])
			// Only backwards, to what is not yet part of this name: no loops.
			if ptr >= lowest {
				return "", 0, fmt.Errorf("dnsmsg: compression pointer to %d at %d does not point backwards", ptr, off)
			}
			if next < 0 {
				next = off + 2
			}
			off, lowest = ptr, ptr
			continue
		default:
			return "", 0, fmt.Errorf("dnsmsg: label type %#x at %d not supported", c&0xc0, off)
		}
		wire += 1 + c
		if wire > 255 {
			return "", 0, errors.New("dnsmsg: name longer than 255 bytes")
		}
		if c == 0 {
			off++
			break
		}
		if off+1+c > len(msg) {
			return "", 0, errShort
		}
		if sb.Len() > 0 {
			sb.WriteByte('.')
		}
		for _, ch := range msg[off+1 : off+1+c] {
			switch {
			case ch == '.' || ch == '\\':
				sb.WriteByte('\\')
				sb.WriteByte(ch)
			case ch < '!' || ch > '~':
				fmt.Fprintf(&sb, "\\%03d", ch)
			default:
				sb.WriteByte(ch)
			}
		}
		off += 1 + c
	}
	if next < 0 {
		next = off
	}
	if sb.Len() == 0 {
		return ".", next, nil
	}
	return sb.String(), next, nil
}
