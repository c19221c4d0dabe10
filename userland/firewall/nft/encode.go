// Package nft moves rulesets (bazwrt/userland/firewall/ruleset) in and
// out of the kernel's nf_tables: Load replaces a table in one transaction,
// Dump reads it back as a Ruleset, Zones and SetZone read and set the
// interface names in its sets.
//
// Rules are translated into google/nftables' expressions (expr), as nft
// itself generates them (nft --debug=netlink), with one exception: "fib
// ... oif missing" compares the whole 32-bit interface index with 0
// instead of using the PRESENT flag, whose one-byte result some kernels
// store at the wrong end of the register on big-endian machines. The
// netlink messages around them are this package's own (netlink.go):
// google/nftables' Conn, with mdlayher/netlink's connection, would cost the
// device's binary 256 KiB.
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

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

// reg is the register every match loads into: NFT_REG_1, 16 bytes, enough
// for an interface name or an IPv6 address.
const reg = 1

// payload returns where a header field is: its header, offset and length.
func payload(f rs.Field) (expr.PayloadBase, uint32, bool) {
	switch f {
	case rs.TCPSport, rs.UDPSport, rs.ICMPType, rs.ICMPv6Type:
		return expr.PayloadBaseTransportHeader, 0, true
	case rs.TCPDport, rs.UDPDport:
		return expr.PayloadBaseTransportHeader, 2, true
	case rs.IPSaddr:
		return expr.PayloadBaseNetworkHeader, 12, true
	case rs.IPDaddr:
		return expr.PayloadBaseNetworkHeader, 16, true
	case rs.IP6Saddr:
		return expr.PayloadBaseNetworkHeader, 8, true
	case rs.IP6Daddr:
		return expr.PayloadBaseNetworkHeader, 24, true
	}
	return 0, 0, false
}

// metaKey returns the meta key of a field loaded by meta.
func metaKey(f rs.Field) (expr.MetaKey, bool) {
	switch f {
	case rs.IifName:
		return expr.MetaKeyIIFNAME, true
	case rs.OifName:
		return expr.MetaKeyOIFNAME, true
	case rs.NfProto:
		return expr.MetaKeyNFPROTO, true
	case rs.L4Proto:
		return expr.MetaKeyL4PROTO, true
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

var limitUnits = [...]struct {
	name string
	unit expr.LimitTime
}{{"second", expr.LimitTimeSecond}, {"minute", expr.LimitTimeMinute}, {"hour", expr.LimitTimeHour}, {"day", expr.LimitTimeDay}}

var verdicts = [...]struct {
	stmt    rs.StmtKind
	verdict expr.VerdictKind
}{{rs.Accept, expr.VerdictAccept}, {rs.Drop, expr.VerdictDrop}, {rs.Return, expr.VerdictReturn}, {rs.Jump, expr.VerdictJump}, {rs.Goto, expr.VerdictGoto}}

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
	order binaryutil.ByteOrder
	named map[string]*set
	// Set IDs name sets within a transaction; the encoder gives them all
	// (named and anonymous) so they are distinct.
	nextID uint32
}

func newEncoder(order binaryutil.ByteOrder) *encoder {
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
		return e.order.PutUint32(binary.BigEndian.Uint32(b))
	}
	return b
}

func cmpOp(op rs.Op) expr.CmpOp {
	if op == rs.Ne {
		return expr.CmpOpNeq
	}
	return expr.CmpOpEq
}

// load returns the expression that loads the field into the register.
func load(m rs.Match) expr.Any {
	if k, ok := metaKey(m.Field); ok {
		return &expr.Meta{Key: k, Register: reg}
	}
	switch m.Field {
	case rs.CtState:
		return &expr.Ct{Key: expr.CtKeySTATE, Register: reg}
	case rs.CtStatus:
		return &expr.Ct{Key: expr.CtKeySTATUS, Register: reg}
	case rs.Fib:
		return &expr.Fib{
			Register:  reg,
			ResultOIF: true,
			FlagSADDR: m.Fib&rs.FibSaddr != 0,
			FlagDADDR: m.Fib&rs.FibDaddr != 0,
			FlagIIF:   m.Fib&rs.FibIif != 0,
		}
	}
	base, off, _ := payload(m.Field)
	return &expr.Payload{Base: base, Offset: off, Len: uint32(m.Field.Size()), DestRegister: reg}
}

// match translates one match; anonymous sets it needs are appended to sets.
func (e *encoder) match(m rs.Match, sets *[]*set) ([]expr.Any, error) {
	var x []expr.Any
	if dep, v, ok := m.Field.Dependency(); ok {
		k, _ := metaKey(dep)
		x = append(x, &expr.Meta{Key: k, Register: reg}, &expr.Cmp{Op: expr.CmpOpEq, Register: reg, Data: []byte{v}})
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
			op, data = expr.CmpOpEq, make([]byte, 4)
			if m.Data[0] != 0 {
				op = expr.CmpOpNeq
			}
		}
	case rs.Flags:
		// Any of the bits: (reg & mask) != 0.
		mask, op, data = e.key(m.Field, m.Data), expr.CmpOpNeq, make([]byte, size)
		if m.Op == rs.Ne {
			op = expr.CmpOpEq
		}
	case rs.Prefix:
		mask = prefixMask(size, m.Bits)
	case rs.Range:
		return append(x, &expr.Range{Op: op, Register: reg, FromData: m.Data, ToData: m.End}), nil
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
		return append(x, &expr.Lookup{SourceRegister: reg, SetName: s.name, SetID: s.id, Invert: m.Op == rs.Ne}), nil
	default:
		return nil, fmt.Errorf("%s: unknown kind of value %d", m.Field, m.Kind)
	}
	if mask != nil {
		x = append(x, &expr.Bitwise{SourceRegister: reg, DestRegister: reg, Len: uint32(size), Mask: mask, Xor: make([]byte, size)})
	}
	return append(x, &expr.Cmp{Op: op, Register: reg, Data: data}), nil
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
func (e *encoder) rule(r rs.Rule) ([]expr.Any, []*set, error) {
	var x []expr.Any
	var sets []*set
	for _, m := range r.Matches {
		mx, err := e.match(m, &sets)
		if err != nil {
			return nil, nil, err
		}
		x = append(x, mx...)
	}
	if l := r.Limit; l != nil {
		lim := &expr.Limit{Type: expr.LimitTypePkts, Rate: l.Rate, Over: l.Over, Burst: l.Burst}
		for _, u := range limitUnits {
			if u.name == l.Unit {
				lim.Unit = u.unit
			}
		}
		x = append(x, lim)
	}
	if r.Counter {
		x = append(x, &expr.Counter{})
	}
	st, err := stmt(r.Stmt)
	return append(x, st...), sets, err
}

// stmt translates the final statement of a rule.
func stmt(s rs.Stmt) ([]expr.Any, error) {
	switch s.Kind {
	case rs.None:
		return nil, nil
	case rs.Reject:
		if s.TCPReset {
			return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_TCP_RST}}, nil
		}
		return []expr.Any{&expr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: s.Code}}, nil
	case rs.Masquerade:
		return []expr.Any{&expr.Masq{}}, nil
	case rs.DNAT, rs.SNAT:
		nat := &expr.NAT{Type: expr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: reg}
		if s.Kind == rs.SNAT {
			nat.Type = expr.NATTypeSourceNAT
		}
		x := []expr.Any{&expr.Immediate{Register: reg, Data: s.Addr[:]}}
		if s.Port != 0 {
			x = append(x, &expr.Immediate{Register: reg + 1, Data: binary.BigEndian.AppendUint16(nil, s.Port)})
			nat.RegProtoMin, nat.Specified = reg+1, true
		}
		return append(x, nat), nil
	}
	for _, v := range verdicts {
		if v.stmt == s.Kind {
			return []expr.Any{&expr.Verdict{Kind: v.verdict, Chain: s.Chain}}, nil
		}
	}
	return nil, fmt.Errorf("unknown statement %d", s.Kind)
}
