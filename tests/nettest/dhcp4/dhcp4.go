// Package dhcp4 encodes and decodes DHCPv4 messages (RFC 2131) and their
// options (RFC 2132). It is pure: sending and receiving them is the
// caller's business. Malformed input makes Parse return an error, never
// panic, since the messages come from the device under test.
package dhcp4

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
)

// The UDP ports of DHCP.
const (
	ServerPort = 67
	ClientPort = 68
)

// OpCode is a message's op field: whether it goes to a server or comes
// from one.
type OpCode uint8

// The op codes.
const (
	BootRequest OpCode = 1
	BootReply   OpCode = 2
)

// MessageType is the value of option 53, what a DHCP message means.
type MessageType uint8

// The message types of RFC 2132 section 9.6.
const (
	Discover MessageType = 1 + iota
	Offer
	Request
	Decline
	Ack
	Nak
	Release
	Inform
)

var typeNames = [...]string{"", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"}

// String returns the type's name as in RFC 2131 without DHCP, such as
// "DISCOVER".
func (t MessageType) String() string {
	if int(t) < len(typeNames) && t != 0 {
		return typeNames[t]
	}
	return fmt.Sprintf("TYPE%d", uint8(t))
}

// OptionCode names an option.
type OptionCode uint8

// The options this package's users need; any other code works as well.
const (
	OptionPad                  OptionCode = 0
	OptionSubnetMask           OptionCode = 1
	OptionRouter               OptionCode = 3
	OptionDNS                  OptionCode = 6
	OptionHostName             OptionCode = 12
	OptionDomainName           OptionCode = 15
	OptionRequestedAddr        OptionCode = 50
	OptionLeaseTime            OptionCode = 51
	OptionOverload             OptionCode = 52
	OptionMessageType          OptionCode = 53
	OptionServerID             OptionCode = 54
	OptionParameterRequestList OptionCode = 55
	OptionMessage              OptionCode = 56
	OptionMaxMessageSize       OptionCode = 57
	OptionRenewalTime          OptionCode = 58
	OptionRebindingTime        OptionCode = 59
	OptionClientID             OptionCode = 61
	OptionEnd                  OptionCode = 255
)

// Options are a message's options by code, each value as on the wire. An
// option split over several instances (RFC 3396) is one value here.
type Options map[OptionCode][]byte

// Addr returns the option's value as one IPv4 address, and whether it is
// one.
func (o Options) Addr(code OptionCode) (netip.Addr, bool) {
	v, ok := o[code]
	if !ok || len(v) != 4 {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4([4]byte(v)), true
}

// Addrs returns the option's value as a list of IPv4 addresses, or nil if
// it is absent or not such a list.
func (o Options) Addrs(code OptionCode) []netip.Addr {
	v := o[code]
	if len(v) == 0 || len(v)%4 != 0 {
		return nil
	}
	var addrs []netip.Addr
	for i := 0; i < len(v); i += 4 {
		addrs = append(addrs, netip.AddrFrom4([4]byte(v[i:i+4])))
	}
	return addrs
}

// Uint32 returns the option's value as a 32-bit number (lease times), and
// whether it is one.
func (o Options) Uint32(code OptionCode) (uint32, bool) {
	v, ok := o[code]
	if !ok || len(v) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(v), true
}

// SetAddrs sets the option to the IPv4 addresses addrs. It panics if one
// is not IPv4, like netip.Addr.As4.
func (o Options) SetAddrs(code OptionCode, addrs ...netip.Addr) {
	v := make([]byte, 0, 4*len(addrs))
	for _, a := range addrs {
		a4 := a.As4()
		v = append(v, a4[:]...)
	}
	o[code] = v
}

// SetUint32 sets the option to the 32-bit number v.
func (o Options) SetUint32(code OptionCode, v uint32) {
	o[code] = binary.BigEndian.AppendUint32(nil, v)
}

// Message is a DHCP message. Addresses are IPv4; the zero netip.Addr
// stands for 0.0.0.0 when marshalling, and Parse returns 0.0.0.0 as
// netip.IPv4Unspecified().
type Message struct {
	Op   OpCode
	XID  uint32 // the transaction ID, which ties replies to requests
	Secs uint16 // seconds since the client began
	// Broadcast is the flag that asks servers to broadcast their replies,
	// for clients that cannot receive unicast before they have an address.
	Broadcast bool

	ClientAddr netip.Addr // ciaddr: the client's address, when it has one
	YourAddr   netip.Addr // yiaddr: the address the server gives
	ServerAddr netip.Addr // siaddr: the next server, for booting
	RelayAddr  netip.Addr // giaddr: the relay agent

	HardwareAddr net.HardwareAddr // chaddr: the client's MAC, at most 16 bytes
	ServerName   string           // sname, at most 64 bytes
	BootFile     string           // file, at most 128 bytes

	Options Options
}

// Type returns the message's type (option 53), or 0 if it has none.
func (m *Message) Type() MessageType {
	if v := m.Options[OptionMessageType]; len(v) == 1 {
		return MessageType(v[0])
	}
	return 0
}

const (
	fixedLen = 236                // the BOOTP header up to the options
	minLen   = 300                // BOOTP's minimum, which some relays and clients insist on
	magic    = uint32(0x63825363) // the cookie 99.130.83.99 before the options
)

// Marshal returns m as it goes on the wire, padded to BOOTP's minimum of
// 300 bytes. Options go out with the message type first, then by code;
// values longer than 255 bytes are split.
func (m *Message) Marshal() ([]byte, error) {
	if len(m.HardwareAddr) > 16 {
		return nil, fmt.Errorf("dhcp4: hardware address %v longer than 16 bytes", m.HardwareAddr)
	}
	// The fields hold NUL-terminated strings, but a full one without the
	// NUL is what some servers send and Parse accepts.
	if len(m.ServerName) > 64 {
		return nil, fmt.Errorf("dhcp4: server name %q longer than 64 bytes", m.ServerName)
	}
	if len(m.BootFile) > 128 {
		return nil, fmt.Errorf("dhcp4: boot file %q longer than 128 bytes", m.BootFile)
	}
	b := make([]byte, fixedLen, minLen)
	b[0] = byte(m.Op)
	b[1] = 1 // Ethernet
	b[2] = byte(len(m.HardwareAddr))
	binary.BigEndian.PutUint32(b[4:], m.XID)
	binary.BigEndian.PutUint16(b[8:], m.Secs)
	if m.Broadcast {
		b[10] = 0x80
	}
	for i, a := range []netip.Addr{m.ClientAddr, m.YourAddr, m.ServerAddr, m.RelayAddr} {
		if !a.IsValid() {
			continue
		}
		if !a.Is4() {
			return nil, fmt.Errorf("dhcp4: address %v is not IPv4", a)
		}
		a4 := a.As4()
		copy(b[12+4*i:], a4[:])
	}
	copy(b[28:44], m.HardwareAddr)
	copy(b[44:108], m.ServerName)
	copy(b[108:236], m.BootFile)
	b = binary.BigEndian.AppendUint32(b, magic)

	codes := make([]OptionCode, 0, len(m.Options))
	for c := range m.Options {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, func(x, y OptionCode) int {
		// The message type first: some clients look for it there.
		if (x == OptionMessageType) != (y == OptionMessageType) {
			if x == OptionMessageType {
				return -1
			}
			return 1
		}
		return int(x) - int(y)
	})
	for _, c := range codes {
		v := m.Options[c]
		if c == OptionPad || c == OptionEnd {
			return nil, fmt.Errorf("dhcp4: option %d cannot have a value", c)
		}
		for {
			n := min(len(v), 255)
			b = append(b, byte(c), byte(n))
			b = append(b, v[:n]...)
			v = v[n:]
			if len(v) == 0 {
				break
			}
		}
	}
	b = append(b, byte(OptionEnd))
	for len(b) < minLen {
		b = append(b, 0)
	}
	return b, nil
}

// Parse decodes a DHCP message. It accepts options without the End
// option, and reads options overloaded into the sname and file fields
// (option 52).
func Parse(b []byte) (*Message, error) {
	if len(b) < fixedLen+4 {
		return nil, fmt.Errorf("dhcp4: message of %d bytes, shorter than the minimum %d", len(b), fixedLen+4)
	}
	if got := binary.BigEndian.Uint32(b[fixedLen:]); got != magic {
		return nil, fmt.Errorf("dhcp4: magic cookie %#08x, want %#08x", got, magic)
	}
	hlen := int(b[2])
	if hlen > 16 {
		return nil, fmt.Errorf("dhcp4: hardware address length %d, longer than 16", hlen)
	}
	m := &Message{
		Op:           OpCode(b[0]),
		XID:          binary.BigEndian.Uint32(b[4:]),
		Secs:         binary.BigEndian.Uint16(b[8:]),
		Broadcast:    b[10]&0x80 != 0,
		ClientAddr:   netip.AddrFrom4([4]byte(b[12:16])),
		YourAddr:     netip.AddrFrom4([4]byte(b[16:20])),
		ServerAddr:   netip.AddrFrom4([4]byte(b[20:24])),
		RelayAddr:    netip.AddrFrom4([4]byte(b[24:28])),
		HardwareAddr: net.HardwareAddr(slices.Clone(b[28 : 28+hlen])),
		Options:      Options{},
	}
	if err := parseOptions(m.Options, b[fixedLen+4:]); err != nil {
		return nil, err
	}
	sname, file := b[44:108], b[108:236]
	var overload byte
	if v := m.Options[OptionOverload]; len(v) == 1 {
		overload = v[0]
	}
	// RFC 3396: the options field, then file, then sname.
	if overload&1 != 0 {
		if err := parseOptions(m.Options, file); err != nil {
			return nil, fmt.Errorf("%w (in the file field)", err)
		}
	} else {
		m.BootFile = cString(file)
	}
	if overload&2 != 0 {
		if err := parseOptions(m.Options, sname); err != nil {
			return nil, fmt.Errorf("%w (in the sname field)", err)
		}
	} else {
		m.ServerName = cString(sname)
	}
	return m, nil
}

var errTruncated = errors.New("dhcp4: option truncated")

// parseOptions adds the options in b to o, concatenating repeated ones.
func parseOptions(o Options, b []byte) error {
	for len(b) > 0 {
		c := OptionCode(b[0])
		switch c {
		case OptionPad:
			b = b[1:]
			continue
		case OptionEnd:
			return nil
		}
		if len(b) < 2 || len(b) < 2+int(b[1]) {
			return fmt.Errorf("%w: option %d", errTruncated, c)
		}
		n := int(b[1])
		o[c] = append(o[c], b[2:2+n]...)
		if o[c] == nil {
			o[c] = []byte{} // present, if empty
		}
		b = b[2+n:]
	}
	return nil
}

// cString returns b up to its first NUL.
func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
