package ruleset

import (
	"encoding/binary"
	"strconv"
	"strings"
)

// dtype is how a field's values are written and held.
type dtype uint8

const (
	dtFlags  dtype = iota + 1 // comma-separated flag names, a 32-bit mask
	dtIfname                  // "name", 1 to 15 bytes
	dtSymbol                  // a name or a number, one byte
	dtPort                    // 1 to 65535, two bytes
	dtIPv4                    // address or prefix, four bytes
	dtIPv6                    // address or prefix, sixteen bytes
	dtFib                     // missing or exists
)

// A symbol is a name of a value in nft's syntax.
type symbol struct {
	name  string
	value uint32
}

// fieldInfo describes a field: its name in the syntax, the type of its
// values, their size in bytes and, for symbolic types, the names.
type fieldInfo struct {
	name    string
	dt      dtype
	size    int
	symbols []symbol
}

// Names of ct state bits (linux/netfilter/nf_conntrack_common.h: the
// state bit is 1 << (ctinfo + 1), invalid is 1, untracked 1 << 6).
var ctStates = []symbol{
	{"invalid", 1}, {"established", 2}, {"related", 4}, {"new", 8}, {"untracked", 64},
}

// Names of ct status bits (enum ip_conntrack_status).
var ctStatuses = []symbol{
	{"expected", 1}, {"seen-reply", 2}, {"assured", 4}, {"confirmed", 8},
	{"snat", 0x10}, {"dnat", 0x20}, {"dying", 0x200},
}

// Names of TCP header flags (byte 13 of the header).
var tcpFlags = []symbol{
	{"fin", 1}, {"syn", 2}, {"rst", 4}, {"psh", 8}, {"ack", 0x10}, {"urg", 0x20}, {"ecn", 0x40}, {"cwr", 0x80},
}

var nfProtos = []symbol{{"ipv4", 2}, {"ipv6", 10}}

var l4Protos = []symbol{
	{"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50},
	{"ah", 51}, {"ipv6-icmp", 58}, {"sctp", 132}, {"udplite", 136},
}

var icmpTypes = []symbol{
	{"echo-reply", 0}, {"destination-unreachable", 3}, {"source-quench", 4},
	{"redirect", 5}, {"echo-request", 8}, {"router-advertisement", 9},
	{"router-solicitation", 10}, {"time-exceeded", 11}, {"parameter-problem", 12},
	{"timestamp-request", 13}, {"timestamp-reply", 14}, {"info-request", 15},
	{"info-reply", 16}, {"address-mask-request", 17}, {"address-mask-reply", 18},
}

var icmpv6Types = []symbol{
	{"destination-unreachable", 1}, {"packet-too-big", 2}, {"time-exceeded", 3},
	{"parameter-problem", 4}, {"echo-request", 128}, {"echo-reply", 129},
	{"mld-listener-query", 130}, {"mld-listener-report", 131},
	{"mld-listener-done", 132}, {"nd-router-solicit", 133}, {"nd-router-advert", 134},
	{"nd-neighbor-solicit", 135}, {"nd-neighbor-advert", 136}, {"nd-redirect", 137},
	{"router-renumbering", 138}, {"ind-neighbor-solicit", 141},
	{"ind-neighbor-advert", 142}, {"mld2-listener-report", 143},
}

var fields = [...]fieldInfo{
	CtState:    {"ct state", dtFlags, 4, ctStates},
	CtStatus:   {"ct status", dtFlags, 4, ctStatuses},
	IifName:    {"iifname", dtIfname, 16, nil},
	OifName:    {"oifname", dtIfname, 16, nil},
	NfProto:    {"meta nfproto", dtSymbol, 1, nfProtos},
	L4Proto:    {"meta l4proto", dtSymbol, 1, l4Protos},
	TCPSport:   {"tcp sport", dtPort, 2, nil},
	TCPDport:   {"tcp dport", dtPort, 2, nil},
	UDPSport:   {"udp sport", dtPort, 2, nil},
	UDPDport:   {"udp dport", dtPort, 2, nil},
	ICMPType:   {"icmp type", dtSymbol, 1, icmpTypes},
	ICMPv6Type: {"icmpv6 type", dtSymbol, 1, icmpv6Types},
	IPSaddr:    {"ip saddr", dtIPv4, 4, nil},
	IPDaddr:    {"ip daddr", dtIPv4, 4, nil},
	IP6Saddr:   {"ip6 saddr", dtIPv6, 16, nil},
	IP6Daddr:   {"ip6 daddr", dtIPv6, 16, nil},
	Fib:        {"fib", dtFib, 4, nil},
	TCPFlags:   {"tcp flags", dtFlags, 1, tcpFlags},
}

// NumFields is one more than the last field.
const NumFields = Field(len(fields))

// info returns what describes the field (zero for an unknown one).
func (f Field) info() fieldInfo {
	if int(f) < len(fields) {
		return fields[f]
	}
	return fieldInfo{}
}

// String returns the field as written in a rule ("tcp dport").
func (f Field) String() string {
	if n := f.info().name; n != "" {
		return n
	}
	return "field(" + strconv.Itoa(int(f)) + ")"
}

// Size is the length in bytes of the field's values as the kernel loads
// them (interface names: 16, IFNAMSIZ).
func (f Field) Size() int { return f.info().size }

// Dependency returns the protocol a transport or network header field
// implies, as nft's dependency: "tcp dport" needs "meta l4proto tcp",
// "ip saddr" needs "meta nfproto ipv4".
func (f Field) Dependency() (Field, byte, bool) {
	switch f {
	case TCPSport, TCPDport, TCPFlags:
		return L4Proto, 6, true
	case UDPSport, UDPDport:
		return L4Proto, 17, true
	case ICMPType:
		return L4Proto, 1, true
	case ICMPv6Type:
		return L4Proto, 58, true
	case IPSaddr, IPDaddr:
		return NfProto, 2, true
	case IP6Saddr, IP6Daddr:
		return NfProto, 10, true
	}
	return 0, 0, false
}

func symbolValue(syms []symbol, name string) (uint32, bool) {
	for _, s := range syms {
		if s.name == name {
			return s.value, true
		}
	}
	return 0, false
}

func symbolName(syms []symbol, v uint32) (string, bool) {
	for _, s := range syms {
		if s.value == v {
			return s.name, true
		}
	}
	return "", false
}

func symbolNames(syms []symbol) string {
	names := make([]string, len(syms))
	for i, s := range syms {
		names[i] = s.name
	}
	return strings.Join(names, ", ")
}

// parseValue parses one value (not a range, prefix or list) of type dt.
func (fi fieldInfo) parseValue(w string) ([]byte, string) {
	switch fi.dt {
	case dtSymbol:
		if v, ok := symbolValue(fi.symbols, w); ok {
			return []byte{byte(v)}, ""
		}
		n, err := strconv.ParseUint(w, 10, 8)
		if err != nil {
			return nil, "want a number from 0 to 255 or one of " + symbolNames(fi.symbols)
		}
		return []byte{byte(n)}, ""
	case dtPort:
		n, err := strconv.ParseUint(w, 10, 16)
		if err != nil || n == 0 {
			return nil, "want a port from 1 to 65535"
		}
		return binary.BigEndian.AppendUint16(nil, uint16(n)), ""
	case dtIPv4, dtIPv6:
		a, ok := parseAddr(w)
		if !ok || len(a) != fi.size {
			if fi.dt == dtIPv4 {
				return nil, "want an IPv4 address"
			}
			return nil, "want an IPv6 address"
		}
		return a, ""
	case dtIfname:
		if msg := IfnameError(w); msg != "" {
			return nil, msg
		}
		return []byte(w), ""
	}
	return nil, "want a value"
}

// IfnameError says what is wrong with an interface name, or "": it must be
// 1 to 15 bytes of letters, digits, '_', '.' and '-', and not "." or "..".
// The same rule as ifname_error in rules/service/private/validate.bzl,
// which checks the names templates splice into shell scripts; both are
// tested on the cases of rules/service/private/ifname_cases.bzl.
func IfnameError(s string) string {
	if s == "" || len(s) > 15 {
		return "want an interface name of 1 to 15 bytes"
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return "want an interface name of letters, digits, '_', '.' and '-'"
		}
	}
	if s == "." || s == ".." {
		return "want an interface name, not " + strconv.Quote(s)
	}
	return ""
}

// formatValue writes one value of the field.
func (fi fieldInfo) formatValue(b []byte) string {
	switch fi.dt {
	case dtSymbol:
		if len(b) == 1 {
			if n, ok := symbolName(fi.symbols, uint32(b[0])); ok {
				return n
			}
			return strconv.Itoa(int(b[0]))
		}
	case dtPort:
		if len(b) == 2 {
			return strconv.Itoa(int(binary.BigEndian.Uint16(b)))
		}
	case dtIPv4, dtIPv6:
		if len(b) == 4 || len(b) == 16 {
			return formatAddr(b)
		}
	case dtIfname:
		return strconv.Quote(string(b))
	case dtFib:
		if len(b) == 1 && b[0] == 0 {
			return "missing"
		}
		return "exists"
	}
	return "0x" + hexString(b)
}

// formatFlags writes a mask as flag names, lowest bit first.
func (fi fieldInfo) formatFlags(b []byte) string {
	var v uint32
	switch {
	case len(b) == 4 && fi.size == 4:
		v = binary.BigEndian.Uint32(b)
	case len(b) == 1 && fi.size == 1:
		v = uint32(b[0])
	default:
		return "0x" + hexString(b)
	}
	var names []string
	for bit := uint32(1); bit != 0; bit <<= 1 {
		if v&bit == 0 {
			continue
		}
		if n, ok := symbolName(fi.symbols, bit); ok {
			names = append(names, n)
		} else {
			names = append(names, "0x"+strconv.FormatUint(uint64(bit), 16))
		}
	}
	return strings.Join(names, ",")
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 2*len(b))
	for _, c := range b {
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}
