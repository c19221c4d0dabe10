// Package nft moves rulesets (bazwrt/userland/firewall/ruleset) in and
// out of the kernel's nf_tables: Load replaces a table in one transaction,
// Dump reads it back as a Ruleset, Zones and SetZone read and set the
// interface names in its sets.
//
// Rules are translated into nf_tables expressions as nft itself generates
// them (nft --debug=netlink), with one exception: "fib ... oif missing"
// compares the whole 32-bit interface index with 0 instead of using the
// PRESENT flag, whose one-byte result some kernels store at the wrong end
// of the register on big-endian machines.
//
// The expressions (expr.go) and the netlink messages around them
// (netlink.go) are this package's own, for the size of the device's
// binary: google/nftables' expr, with mdlayher/netlink under it, cost
// init's mips binary about 320 KiB, and its Conn would have cost 256 KiB
// more. Tests check the expressions' attributes, byte for byte, against
// expr's. With them the firewall adds 320 KiB to init's mips binary
// (2,818,241 bytes stripped, from 2,490,561), under the 600 KiB target.
//
// Byte order: header fields, ports and addresses are in network order,
// ct state and status masks and the fib result in the host's order (the
// encoder and decoder take it as a parameter, so that the big-endian MIPS
// device is tested on a little-endian host), netlink headers in the
// host's order and nf_tables' numbers big-endian.
package nft

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

// reg is the register every match loads into: NFT_REG_1, 16 bytes, enough
// for an interface name or an IPv6 address.
const reg = 1

// payload returns where a header field is: its header, offset and length.
func payload(f rs.Field) (base, offset uint32, ok bool) {
	switch f {
	case rs.TCPSport, rs.UDPSport, rs.ICMPType, rs.ICMPv6Type:
		return unix.NFT_PAYLOAD_TRANSPORT_HEADER, 0, true
	case rs.TCPDport, rs.UDPDport:
		return unix.NFT_PAYLOAD_TRANSPORT_HEADER, 2, true
	case rs.TCPFlags:
		return unix.NFT_PAYLOAD_TRANSPORT_HEADER, 13, true
	case rs.IPSaddr:
		return unix.NFT_PAYLOAD_NETWORK_HEADER, 12, true
	case rs.IPDaddr:
		return unix.NFT_PAYLOAD_NETWORK_HEADER, 16, true
	case rs.IP6Saddr:
		return unix.NFT_PAYLOAD_NETWORK_HEADER, 8, true
	case rs.IP6Daddr:
		return unix.NFT_PAYLOAD_NETWORK_HEADER, 24, true
	}
	return 0, 0, false
}

// metaKey returns the meta key of a field loaded by meta.
func metaKey(f rs.Field) (uint32, bool) {
	switch f {
	case rs.IifName:
		return unix.NFT_META_IIFNAME, true
	case rs.OifName:
		return unix.NFT_META_OIFNAME, true
	case rs.NfProto:
		return unix.NFT_META_NFPROTO, true
	case rs.L4Proto:
		return unix.NFT_META_L4PROTO, true
	}
	return 0, false
}

// setType returns nft's datatype of the keys of a set of the field's
// values (nftables' include/datatype.h), which the kernel keeps for nft.
func setType(f rs.Field) uint32 {
	switch f {
	case rs.IifName, rs.OifName:
		return 41 // ifname
	case rs.NfProto:
		return 2 // nf_proto
	case rs.L4Proto:
		return 12 // inet_proto
	case rs.ICMPType:
		return 14 // icmp_type
	case rs.ICMPv6Type:
		return 29 // icmpv6_type
	case rs.IPSaddr, rs.IPDaddr:
		return 7 // ipv4_addr
	case rs.IP6Saddr, rs.IP6Daddr:
		return 8 // ipv6_addr
	}
	return 13 // inet_service
}

// limitUnits are the units of a limit's rate, in seconds.
var limitUnits = [...]struct {
	name string
	unit uint64
}{{"second", 1}, {"minute", 60}, {"hour", 60 * 60}, {"day", 24 * 60 * 60}}

var verdicts = [...]struct {
	stmt rs.StmtKind
	code int32
}{{rs.Accept, nfAccept}, {rs.Drop, nfDrop}, {rs.Return, unix.NFT_RETURN}, {rs.Jump, unix.NFT_JUMP}, {rs.Goto, unix.NFT_GOTO}}

// fibFlags are what a fib match looks the route up by.
var fibFlags = [...]struct {
	fib  rs.FibFlags
	flag uint32
}{{rs.FibSaddr, unix.NFTA_FIB_F_SADDR}, {rs.FibDaddr, unix.NFTA_FIB_F_DADDR}, {rs.FibIif, unix.NFTA_FIB_F_IIF}}

// A set is a set the rules look values up in: a named set of interface
// names, or an anonymous one made for a rule and added before it in the
// same transaction.
type set struct {
	name      string // "__set%d" for anonymous sets: the kernel numbers them
	id        uint32 // names the set within the transaction
	anonymous bool
	keyType   uint32
	keyLen    uint32
	elems     [][]byte
}

// An encoder translates rules into expressions for a machine of the given
// byte order.
type encoder struct {
	order binary.ByteOrder
	named map[string]*set
	// Set IDs name sets within a transaction; the encoder gives them all
	// (named and anonymous) so they are distinct.
	nextID uint32
}

func newEncoder(order binary.ByteOrder) *encoder {
	return &encoder{order: order, named: map[string]*set{}}
}

func (e *encoder) id() uint32 {
	e.nextID++
	return e.nextID
}

// namedSet returns the named set of interface names called name.
func (e *encoder) namedSet(name string) *set {
	if s := e.named[name]; s != nil {
		return s
	}
	s := &set{name: name, id: e.id(), keyType: setType(rs.IifName), keyLen: unix.IFNAMSIZ}
	e.named[name] = s
	return s
}

// ifname pads an interface name to IFNAMSIZ, as the kernel loads it.
func ifname(name []byte) []byte {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return b
}

// key returns a value of the field as the kernel compares it.
func (e *encoder) key(f rs.Field, b []byte) []byte {
	switch f {
	case rs.IifName, rs.OifName:
		return ifname(b)
	case rs.CtState, rs.CtStatus:
		k := make([]byte, 4)
		e.order.PutUint32(k, binary.BigEndian.Uint32(b))
		return k
	}
	return b
}

// cmpOp returns the comparison (or range: the same numbers) of op.
func cmpOp(op rs.Op) uint32 {
	if op == rs.Ne {
		return unix.NFT_CMP_NEQ
	}
	return unix.NFT_CMP_EQ
}

// load returns the expression that loads the field into the register.
func load(m rs.Match) expr {
	if k, ok := metaKey(m.Field); ok {
		return &metaExpr{Key: k, Register: reg}
	}
	switch m.Field {
	case rs.CtState:
		return &ctExpr{Key: unix.NFT_CT_STATE, Register: reg}
	case rs.CtStatus:
		return &ctExpr{Key: unix.NFT_CT_STATUS, Register: reg}
	case rs.Fib:
		f := &fibExpr{Register: reg, Result: unix.NFT_FIB_RESULT_OIF}
		for _, ff := range fibFlags {
			if m.Fib&ff.fib != 0 {
				f.Flags |= ff.flag
			}
		}
		return f
	}
	base, off, _ := payload(m.Field)
	return &payloadExpr{Register: reg, Base: base, Offset: off, Len: uint32(m.Field.Size())}
}

// match translates one match; anonymous sets it needs are appended to sets.
func (e *encoder) match(m rs.Match, sets *[]*set) ([]expr, error) {
	var x []expr
	if dep, v, ok := m.Field.Dependency(); ok {
		k, _ := metaKey(dep)
		x = append(x, &metaExpr{Key: k, Register: reg}, &cmpExpr{Op: unix.NFT_CMP_EQ, Register: reg, Data: []byte{v}})
	}
	x = append(x, load(m))
	size := m.Field.Size()
	op, data := cmpOp(m.Op), m.Data
	var mask []byte
	switch m.Kind {
	case rs.Value:
		data = e.key(m.Field, m.Data)
		if m.Field == rs.Fib {
			// missing: no route, interface index 0.
			op, data = unix.NFT_CMP_EQ, make([]byte, 4)
			if m.Data[0] != 0 {
				op = unix.NFT_CMP_NEQ
			}
		}
	case rs.Flags:
		// Any of the bits: (reg & mask) != 0.
		mask, op, data = e.key(m.Field, m.Data), unix.NFT_CMP_NEQ, make([]byte, size)
		if m.Op == rs.Ne {
			op = unix.NFT_CMP_EQ
		}
	case rs.Prefix:
		mask = prefixMask(size, m.Bits)
	case rs.Range:
		return append(x, &rangeExpr{Op: op, Register: reg, From: m.Data, To: m.End}), nil
	case rs.List, rs.SetRef:
		s := e.named[m.Set]
		if m.Kind == rs.List {
			s = &set{name: "__set%d", id: e.id(), anonymous: true, keyType: setType(m.Field), keyLen: uint32(size)}
			for _, v := range m.Elems {
				s.elems = append(s.elems, e.key(m.Field, v))
			}
			*sets = append(*sets, s)
		}
		if s == nil {
			return nil, fmt.Errorf("unknown set %s", m.Set)
		}
		return append(x, &lookupExpr{Register: reg, SetName: s.name, SetID: s.id, Invert: m.Op == rs.Ne}), nil
	default:
		return nil, fmt.Errorf("%s: unknown kind of value %d", m.Field, m.Kind)
	}
	if mask != nil {
		x = append(x, &bitwiseExpr{SourceRegister: reg, DestRegister: reg, Len: uint32(size), Mask: mask, Xor: make([]byte, size)})
	}
	return append(x, &cmpExpr{Op: op, Register: reg, Data: data}), nil
}

// prefixMask returns the mask of a prefix of bits in an address of size
// bytes.
func prefixMask(size, bits int) []byte {
	b := make([]byte, size)
	for i := 0; i < bits; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	return b
}

// rule translates a rule into its expressions and the anonymous sets they
// look values up in.
func (e *encoder) rule(r rs.Rule) ([]expr, []*set, error) {
	var x []expr
	var sets []*set
	for _, m := range r.Matches {
		mx, err := e.match(m, &sets)
		if err != nil {
			return nil, nil, err
		}
		x = append(x, mx...)
	}
	if l := r.Limit; l != nil {
		lim := &limitExpr{Rate: l.Rate, Burst: l.Burst, Type: unix.NFT_LIMIT_PKTS}
		for _, u := range limitUnits {
			if u.name == l.Unit {
				lim.Unit = u.unit
			}
		}
		if l.Over {
			lim.Flags = unix.NFT_LIMIT_F_INV
		}
		x = append(x, lim)
	}
	if r.Counter {
		x = append(x, &counterExpr{})
	}
	st, err := stmt(r.Stmt)
	return append(x, st...), sets, err
}

// clampMSS is "tcp option maxseg size set rt mtu", as nft writes it: the
// route's MSS, in network order, into the 2 bytes after the kind and
// length of the MSS option (kind 2).
var clampMSS = []expr{
	&rtExpr{Key: unix.NFT_RT_TCPMSS, Register: reg},
	&byteorderExpr{SourceRegister: reg, DestRegister: reg, Op: unix.NFT_BYTEORDER_HTON, Len: 2, Size: 2},
	&exthdrWriteExpr{SourceRegister: reg, Type: 2, Offset: 2, Len: 2, Op: unix.NFT_EXTHDR_OP_TCPOPT},
}

// stmt translates the final statement of a rule.
func stmt(s rs.Stmt) ([]expr, error) {
	switch s.Kind {
	case rs.None:
		return nil, nil
	case rs.Reject:
		if s.TCPReset {
			return []expr{&rejectExpr{Type: unix.NFT_REJECT_TCP_RST}}, nil
		}
		return []expr{&rejectExpr{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: s.Code}}, nil
	case rs.Masquerade:
		return []expr{&masqExpr{}}, nil
	case rs.ClampMSS:
		return clampMSS, nil
	case rs.DNAT, rs.SNAT:
		nat := &natExpr{Type: unix.NFT_NAT_DNAT, Family: unix.NFPROTO_IPV4, AddrMin: reg}
		if s.Kind == rs.SNAT {
			nat.Type = unix.NFT_NAT_SNAT
		}
		x := []expr{&immediateExpr{Register: reg, Data: s.Addr[:]}}
		if s.Port != 0 {
			x = append(x, &immediateExpr{Register: reg + 1, Data: binary.BigEndian.AppendUint16(nil, s.Port)})
			nat.ProtoMin, nat.Flags = reg+1, unix.NF_NAT_RANGE_PROTO_SPECIFIED
		}
		return append(x, nat), nil
	}
	for _, v := range verdicts {
		if v.stmt == s.Kind {
			return []expr{&verdictExpr{Code: v.code, Chain: s.Chain}}, nil
		}
	}
	return nil, fmt.Errorf("unknown statement %d", s.Kind)
}
