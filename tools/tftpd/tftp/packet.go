// Package tftp implements a read-only TFTP server: RFC 1350 with the option
// extension of RFC 2347 and the blksize (RFC 2348), timeout and tsize
// (RFC 2349) and windowsize (RFC 7440) options.
package tftp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// An Opcode is the first field of every TFTP packet.
type Opcode uint16

// TFTP opcodes (RFC 1350, RFC 2347).
const (
	OpRRQ   Opcode = 1 // read request
	OpWRQ   Opcode = 2 // write request
	OpDATA  Opcode = 3
	OpACK   Opcode = 4
	OpERROR Opcode = 5
	OpOACK  Opcode = 6 // option acknowledgment
)

func (op Opcode) String() string {
	switch op {
	case OpRRQ:
		return "RRQ"
	case OpWRQ:
		return "WRQ"
	case OpDATA:
		return "DATA"
	case OpACK:
		return "ACK"
	case OpERROR:
		return "ERROR"
	case OpOACK:
		return "OACK"
	}
	return fmt.Sprintf("Opcode(%d)", uint16(op))
}

// An ErrorCode is the code carried by an ERROR packet.
type ErrorCode uint16

// TFTP error codes (RFC 1350, RFC 2347).
const (
	ErrUndefined     ErrorCode = 0 // see the message
	ErrNotFound      ErrorCode = 1
	ErrAccess        ErrorCode = 2 // access violation
	ErrDiskFull      ErrorCode = 3
	ErrIllegalOp     ErrorCode = 4
	ErrUnknownTID    ErrorCode = 5
	ErrFileExists    ErrorCode = 6
	ErrNoSuchUser    ErrorCode = 7
	ErrOptionRefused ErrorCode = 8
)

// ErrMalformed is wrapped by every error ParsePacket returns.
var ErrMalformed = errors.New("tftp: malformed packet")

// A Packet is one decoded TFTP packet: *Request, *Data, *Ack, *Error or *OACK.
//
// AppendBinary appends the wire encoding; it fails only for values that
// have no encoding, such as a string field containing a NUL byte.
type Packet interface {
	Opcode() Opcode
	AppendBinary(b []byte) ([]byte, error)
}

// An Option is one name/value pair of an RRQ, WRQ or OACK. The wire format
// is an ordered list that may repeat names, so it is kept as a slice.
type Option struct {
	Name, Value string
}

// A Request is a read (RRQ) or write (WRQ) request.
type Request struct {
	Op       Opcode // OpRRQ or OpWRQ
	Filename string
	Mode     string // as sent; compare case-insensitively
	Options  []Option
}

// Data is a DATA packet. A payload shorter than the block size ends the
// transfer.
type Data struct {
	Block   uint16
	Payload []byte
}

// Ack is an ACK packet.
type Ack struct {
	Block uint16
}

// Error is an ERROR packet. It is also a Go error, so that an ERROR sent by
// a peer can be returned as the reason a transfer ended.
type Error struct {
	Code    ErrorCode
	Message string
}

// OACK is an option acknowledgment (RFC 2347).
type OACK struct {
	Options []Option
}

func (p *Request) Opcode() Opcode { return p.Op }
func (p *Data) Opcode() Opcode    { return OpDATA }
func (p *Ack) Opcode() Opcode     { return OpACK }
func (p *Error) Opcode() Opcode   { return OpERROR }
func (p *OACK) Opcode() Opcode    { return OpOACK }

func (p *Error) Error() string {
	return fmt.Sprintf("tftp error %d: %s", p.Code, p.Message)
}

// ParsePacket decodes one TFTP packet. It never panics.
//
// Byte slices in the result (Data.Payload) alias b.
//
// Requests and OACKs are strict: every string must end in NUL and options
// must come in name/value pairs. An ERROR message is lenient, because some
// peers omit its final NUL and an ERROR must still end the transfer: the
// message runs to the first NUL or to the end of the packet.
func ParsePacket(b []byte) (Packet, error) {
	if len(b) < 2 {
		return nil, malformed("packet too short")
	}
	op := Opcode(binary.BigEndian.Uint16(b))
	body := b[2:]
	switch op {
	case OpRRQ, OpWRQ:
		s, err := splitStrings(body)
		if err != nil {
			return nil, err
		}
		if len(s) < 2 {
			return nil, malformed("request without mode")
		}
		opts, err := pairs(s[2:])
		if err != nil {
			return nil, err
		}
		return &Request{Op: op, Filename: s[0], Mode: s[1], Options: opts}, nil
	case OpDATA:
		if len(body) < 2 {
			return nil, malformed("DATA too short")
		}
		return &Data{Block: binary.BigEndian.Uint16(body), Payload: body[2:]}, nil
	case OpACK:
		// Trailing bytes are ignored: some clients pad short packets.
		if len(body) < 2 {
			return nil, malformed("ACK too short")
		}
		return &Ack{Block: binary.BigEndian.Uint16(body)}, nil
	case OpERROR:
		if len(body) < 2 {
			return nil, malformed("ERROR too short")
		}
		msg := body[2:]
		if i := bytes.IndexByte(msg, 0); i >= 0 {
			msg = msg[:i]
		}
		return &Error{Code: ErrorCode(binary.BigEndian.Uint16(body)), Message: string(msg)}, nil
	case OpOACK:
		s, err := splitStrings(body)
		if err != nil {
			return nil, err
		}
		opts, err := pairs(s)
		if err != nil {
			return nil, err
		}
		return &OACK{Options: opts}, nil
	}
	return nil, malformed(fmt.Sprintf("unknown opcode %d", uint16(op)))
}

func malformed(reason string) error {
	return fmt.Errorf("%w: %s", ErrMalformed, reason)
}

// splitStrings splits a sequence of NUL-terminated strings.
func splitStrings(b []byte) ([]string, error) {
	var s []string
	for len(b) > 0 {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, malformed("missing NUL terminator")
		}
		s = append(s, string(b[:i]))
		b = b[i+1:]
	}
	return s, nil
}

func pairs(s []string) ([]Option, error) {
	if len(s)%2 != 0 {
		return nil, malformed(fmt.Sprintf("option %q without value", s[len(s)-1]))
	}
	var opts []Option
	for i := 0; i < len(s); i += 2 {
		opts = append(opts, Option{Name: s[i], Value: s[i+1]})
	}
	return opts, nil
}

func (p *Request) AppendBinary(b []byte) ([]byte, error) {
	if p.Op != OpRRQ && p.Op != OpWRQ {
		return b, fmt.Errorf("tftp: request opcode %v", p.Op)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(p.Op))
	b, err := appendStrings(b, p.Filename, p.Mode)
	if err != nil {
		return b, err
	}
	return appendOptions(b, p.Options)
}

func (p *Data) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(OpDATA))
	b = binary.BigEndian.AppendUint16(b, p.Block)
	return append(b, p.Payload...), nil
}

func (p *Ack) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(OpACK))
	return binary.BigEndian.AppendUint16(b, p.Block), nil
}

func (p *Error) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(OpERROR))
	b = binary.BigEndian.AppendUint16(b, uint16(p.Code))
	return appendStrings(b, p.Message)
}

func (p *OACK) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(OpOACK))
	return appendOptions(b, p.Options)
}

func appendOptions(b []byte, opts []Option) ([]byte, error) {
	for _, o := range opts {
		var err error
		if b, err = appendStrings(b, o.Name, o.Value); err != nil {
			return b, err
		}
	}
	return b, nil
}

func appendStrings(b []byte, ss ...string) ([]byte, error) {
	for _, s := range ss {
		if strings.IndexByte(s, 0) >= 0 {
			return b, fmt.Errorf("tftp: string %q contains NUL", s)
		}
		b = append(b, s...)
		b = append(b, 0)
	}
	return b, nil
}

// encode returns the wire form of p. It is for packets built by this
// package, whose fields never contain NUL.
func encode(p Packet) []byte {
	b, err := p.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	return b
}
