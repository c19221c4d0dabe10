package nft

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The expressions of rules, as nf_tables takes them: only those the
// encoder writes, each with the fields the decoder needs to tell them from
// what it did not write. Their attributes are those google/nftables' expr
// package sends for the same expression, byte for byte (expr_test.go
// checks); expr itself, with mdlayher/netlink under it, cost the device's
// binary about 320 KiB.

// An expr is one expression of a rule.
type expr interface {
	// name is the kernel's name of the expression (NFTA_EXPR_NAME).
	name() string
	// marshal appends its attributes (NFTA_EXPR_DATA).
	marshal(a *attrs)
	// unmarshal reads its fields from the attributes the kernel gives
	// back. Attributes it has no field for are left unread: the kernel
	// adds some (padding, defaults) to what was sent.
	unmarshal(d *attrDecoder)
}

// metaExpr loads packet metadata into a register. A "meta set" (the
// other way round) has a source register instead: Register reads 0.
type metaExpr struct {
	Key      uint32 // NFT_META_*
	Register uint32
}

func (*metaExpr) name() string { return "meta" }

func (e *metaExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_META_KEY, e.Key)
	a.u32(unix.NFTA_META_DREG, e.Register)
}

func (e *metaExpr) unmarshal(d *attrDecoder) {
	e.Key = d.u32(unix.NFTA_META_KEY)
	e.Register = d.u32(unix.NFTA_META_DREG)
}

// ctExpr loads connection tracking state into a register; like meta, a
// "ct set" reads as Register 0.
type ctExpr struct {
	Key      uint32 // NFT_CT_*
	Register uint32
}

func (*ctExpr) name() string { return "ct" }

func (e *ctExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_CT_KEY, e.Key)
	a.u32(unix.NFTA_CT_DREG, e.Register)
}

func (e *ctExpr) unmarshal(d *attrDecoder) {
	e.Key = d.u32(unix.NFTA_CT_KEY)
	e.Register = d.u32(unix.NFTA_CT_DREG)
}

// payloadExpr loads Len bytes at Offset of a header into a register; a
// write to the packet reads as Register 0.
type payloadExpr struct {
	Register uint32
	Base     uint32 // NFT_PAYLOAD_*_HEADER
	Offset   uint32
	Len      uint32
}

func (*payloadExpr) name() string { return "payload" }

func (e *payloadExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_PAYLOAD_DREG, e.Register)
	a.u32(unix.NFTA_PAYLOAD_BASE, e.Base)
	a.u32(unix.NFTA_PAYLOAD_OFFSET, e.Offset)
	a.u32(unix.NFTA_PAYLOAD_LEN, e.Len)
}

func (e *payloadExpr) unmarshal(d *attrDecoder) {
	e.Register = d.u32(unix.NFTA_PAYLOAD_DREG)
	e.Base = d.u32(unix.NFTA_PAYLOAD_BASE)
	e.Offset = d.u32(unix.NFTA_PAYLOAD_OFFSET)
	e.Len = d.u32(unix.NFTA_PAYLOAD_LEN)
}

// cmpExpr compares a register with Data; the rule goes on if it holds.
type cmpExpr struct {
	Op       uint32 // NFT_CMP_*
	Register uint32
	Data     []byte
}

func (*cmpExpr) name() string { return "cmp" }

func (e *cmpExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_CMP_SREG, e.Register)
	a.u32(unix.NFTA_CMP_OP, e.Op)
	a.nest(unix.NFTA_CMP_DATA, value(e.Data))
}

func (e *cmpExpr) unmarshal(d *attrDecoder) {
	e.Register = d.u32(unix.NFTA_CMP_SREG)
	e.Op = d.u32(unix.NFTA_CMP_OP)
	e.Data = d.value(unix.NFTA_CMP_DATA)
}

// bitwiseExpr sets DestRegister to (SourceRegister & Mask) ^ Xor, over Len
// bytes. Other operations (shifts) have no Mask.
type bitwiseExpr struct {
	SourceRegister uint32
	DestRegister   uint32
	Len            uint32
	Mask, Xor      []byte
}

func (*bitwiseExpr) name() string { return "bitwise" }

func (e *bitwiseExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_BITWISE_SREG, e.SourceRegister)
	a.u32(unix.NFTA_BITWISE_DREG, e.DestRegister)
	a.u32(unix.NFTA_BITWISE_LEN, e.Len)
	a.nest(unix.NFTA_BITWISE_MASK, value(e.Mask))
	a.nest(unix.NFTA_BITWISE_XOR, value(e.Xor))
}

func (e *bitwiseExpr) unmarshal(d *attrDecoder) {
	e.SourceRegister = d.u32(unix.NFTA_BITWISE_SREG)
	e.DestRegister = d.u32(unix.NFTA_BITWISE_DREG)
	e.Len = d.u32(unix.NFTA_BITWISE_LEN)
	e.Mask = d.value(unix.NFTA_BITWISE_MASK)
	e.Xor = d.value(unix.NFTA_BITWISE_XOR)
}

// rangeExpr compares a register with the range From-To, both included.
type rangeExpr struct {
	Op       uint32 // NFT_RANGE_EQ or NFT_RANGE_NEQ
	Register uint32
	From, To []byte
}

func (*rangeExpr) name() string { return "range" }

func (e *rangeExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_RANGE_SREG, e.Register)
	a.u32(unix.NFTA_RANGE_OP, e.Op)
	a.nest(unix.NFTA_RANGE_FROM_DATA, value(e.From))
	a.nest(unix.NFTA_RANGE_TO_DATA, value(e.To))
}

func (e *rangeExpr) unmarshal(d *attrDecoder) {
	e.Register = d.u32(unix.NFTA_RANGE_SREG)
	e.Op = d.u32(unix.NFTA_RANGE_OP)
	e.From = d.value(unix.NFTA_RANGE_FROM_DATA)
	e.To = d.value(unix.NFTA_RANGE_TO_DATA)
}

// lookupExpr looks a register up in a set. The set is named, or, added in
// the same transaction, known by its ID. A map's lookup writes what it
// finds to a destination register (Map; the verdict register is 0).
type lookupExpr struct {
	Register uint32
	SetName  string
	SetID    uint32
	Invert   bool // the rule goes on if the value is not in the set
	Map      bool
	Dest     uint32
}

func (*lookupExpr) name() string { return "lookup" }

func (e *lookupExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_LOOKUP_SREG, e.Register)
	if e.Map {
		a.u32(unix.NFTA_LOOKUP_DREG, e.Dest)
	}
	if e.Invert {
		a.u32(unix.NFTA_LOOKUP_FLAGS, unix.NFT_LOOKUP_F_INV)
	}
	a.str(unix.NFTA_LOOKUP_SET, e.SetName)
	a.u32(unix.NFTA_LOOKUP_SET_ID, e.SetID)
}

func (e *lookupExpr) unmarshal(d *attrDecoder) {
	e.Register = d.u32(unix.NFTA_LOOKUP_SREG)
	e.SetName = d.str(unix.NFTA_LOOKUP_SET)
	e.SetID = d.u32(unix.NFTA_LOOKUP_SET_ID)
	e.Invert = d.u32(unix.NFTA_LOOKUP_FLAGS)&unix.NFT_LOOKUP_F_INV != 0
	e.Map = d.has(unix.NFTA_LOOKUP_DREG)
	e.Dest = d.u32(unix.NFTA_LOOKUP_DREG)
}

// fibExpr looks the packet's route up (by what Flags say) and loads
// Result of it into a register.
type fibExpr struct {
	Register uint32
	Result   uint32 // NFT_FIB_RESULT_*
	Flags    uint32 // NFTA_FIB_F_*
}

func (*fibExpr) name() string { return "fib" }

func (e *fibExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_FIB_DREG, e.Register)
	if e.Flags != 0 {
		a.u32(unix.NFTA_FIB_FLAGS, e.Flags)
	}
	if e.Result != 0 {
		a.u32(unix.NFTA_FIB_RESULT, e.Result)
	}
}

func (e *fibExpr) unmarshal(d *attrDecoder) {
	e.Register = d.u32(unix.NFTA_FIB_DREG)
	e.Result = d.u32(unix.NFTA_FIB_RESULT)
	e.Flags = d.u32(unix.NFTA_FIB_FLAGS)
}

// limitExpr lets Rate packets (Type NFT_LIMIT_PKTS) per Unit seconds
// through, after a burst of Burst more; NFT_LIMIT_F_INV in Flags makes it
// match those over the rate instead.
type limitExpr struct {
	Rate  uint64
	Unit  uint64
	Burst uint32
	Type  uint32
	Flags uint32
}

func (*limitExpr) name() string { return "limit" }

func (e *limitExpr) marshal(a *attrs) {
	a.u64(unix.NFTA_LIMIT_RATE, e.Rate)
	a.u64(unix.NFTA_LIMIT_UNIT, e.Unit)
	a.u32(unix.NFTA_LIMIT_BURST, e.Burst)
	a.u32(unix.NFTA_LIMIT_TYPE, e.Type)
	a.u32(unix.NFTA_LIMIT_FLAGS, e.Flags)
}

// unmarshal reads past NFTA_LIMIT_PAD: a 32-bit kernel (the mips device)
// puts one before a 64-bit number that would not be 8-byte aligned.
// (google/nftables refuses the expression then.)
func (e *limitExpr) unmarshal(d *attrDecoder) {
	e.Rate = d.u64(unix.NFTA_LIMIT_RATE)
	e.Unit = d.u64(unix.NFTA_LIMIT_UNIT)
	e.Burst = d.u32(unix.NFTA_LIMIT_BURST)
	e.Type = d.u32(unix.NFTA_LIMIT_TYPE)
	e.Flags = d.u32(unix.NFTA_LIMIT_FLAGS)
}

// counterExpr counts the packets that reach it, and their bytes; like
// limit's, its numbers may come with NFTA_COUNTER_PAD, unread.
type counterExpr struct {
	Bytes, Packets uint64
}

func (*counterExpr) name() string { return "counter" }

func (e *counterExpr) marshal(a *attrs) {
	a.u64(unix.NFTA_COUNTER_BYTES, e.Bytes)
	a.u64(unix.NFTA_COUNTER_PACKETS, e.Packets)
}

func (e *counterExpr) unmarshal(d *attrDecoder) {
	e.Bytes = d.u64(unix.NFTA_COUNTER_BYTES)
	e.Packets = d.u64(unix.NFTA_COUNTER_PACKETS)
}

// immediateExpr loads Data into a register.
type immediateExpr struct {
	Register uint32
	Data     []byte
}

func (*immediateExpr) name() string { return "immediate" }

func (e *immediateExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_IMMEDIATE_DREG, e.Register)
	a.nest(unix.NFTA_IMMEDIATE_DATA, value(e.Data))
}

func (e *immediateExpr) unmarshal(d *attrDecoder) {
	e.Register = d.u32(unix.NFTA_IMMEDIATE_DREG)
	e.Data = d.value(unix.NFTA_IMMEDIATE_DATA)
}

// verdictExpr ends the rule with a verdict: an immediate to the verdict
// register.
type verdictExpr struct {
	Code  int32  // nfAccept, nfDrop, NFT_RETURN, NFT_JUMP, NFT_GOTO...
	Chain string // of a jump or goto
}

func (*verdictExpr) name() string { return "immediate" }

func (e *verdictExpr) marshal(a *attrs) {
	var v, data attrs
	v.u32(unix.NFTA_VERDICT_CODE, uint32(e.Code))
	if e.Chain != "" {
		v.str(unix.NFTA_VERDICT_CHAIN, e.Chain)
	}
	data.nest(unix.NFTA_DATA_VERDICT, v)
	a.u32(unix.NFTA_IMMEDIATE_DREG, unix.NFT_REG_VERDICT)
	a.nest(unix.NFTA_IMMEDIATE_DATA, data)
}

func (e *verdictExpr) unmarshal(d *attrDecoder) {
	v := d.nested(unix.NFTA_IMMEDIATE_DATA).nested(unix.NFTA_DATA_VERDICT)
	e.Code = int32(v.u32(unix.NFTA_VERDICT_CODE))
	e.Chain = v.str(unix.NFTA_VERDICT_CHAIN)
}

// rtExpr loads a property of the packet's route into a register (the
// firewall's: NFT_RT_TCPMSS, the MSS the route's MTU allows).
type rtExpr struct {
	Key      uint32 // NFT_RT_*
	Register uint32
}

func (*rtExpr) name() string { return "rt" }

func (e *rtExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_RT_KEY, e.Key)
	a.u32(unix.NFTA_RT_DREG, e.Register)
}

func (e *rtExpr) unmarshal(d *attrDecoder) {
	e.Key = d.u32(unix.NFTA_RT_KEY)
	e.Register = d.u32(unix.NFTA_RT_DREG)
}

// byteorderExpr converts Len bytes of a register, in words of Size
// bytes, between host and network order.
type byteorderExpr struct {
	SourceRegister, DestRegister uint32
	Op                           uint32 // NFT_BYTEORDER_HTON or _NTOH
	Len, Size                    uint32
}

func (*byteorderExpr) name() string { return "byteorder" }

func (e *byteorderExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_BYTEORDER_SREG, e.SourceRegister)
	a.u32(unix.NFTA_BYTEORDER_DREG, e.DestRegister)
	a.u32(unix.NFTA_BYTEORDER_OP, e.Op)
	a.u32(unix.NFTA_BYTEORDER_LEN, e.Len)
	a.u32(unix.NFTA_BYTEORDER_SIZE, e.Size)
}

func (e *byteorderExpr) unmarshal(d *attrDecoder) {
	e.SourceRegister = d.u32(unix.NFTA_BYTEORDER_SREG)
	e.DestRegister = d.u32(unix.NFTA_BYTEORDER_DREG)
	e.Op = d.u32(unix.NFTA_BYTEORDER_OP)
	e.Len = d.u32(unix.NFTA_BYTEORDER_LEN)
	e.Size = d.u32(unix.NFTA_BYTEORDER_SIZE)
}

// exthdrWriteExpr writes a register into Len bytes at Offset of an option
// (Type) of a header (Op: NFT_EXTHDR_OP_TCPOPT, the TCP options), if the
// packet has that option. A load (DREG) reads as SourceRegister 0.
type exthdrWriteExpr struct {
	SourceRegister uint32
	Type           uint8
	Offset, Len    uint32
	Op             uint32
}

func (*exthdrWriteExpr) name() string { return "exthdr" }

func (e *exthdrWriteExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_EXTHDR_SREG, e.SourceRegister)
	a.add(unix.NFTA_EXTHDR_TYPE, []byte{e.Type})
	a.u32(unix.NFTA_EXTHDR_OFFSET, e.Offset)
	a.u32(unix.NFTA_EXTHDR_LEN, e.Len)
	a.u32(unix.NFTA_EXTHDR_OP, e.Op)
}

func (e *exthdrWriteExpr) unmarshal(d *attrDecoder) {
	e.SourceRegister = d.u32(unix.NFTA_EXTHDR_SREG)
	e.Type = d.u8(unix.NFTA_EXTHDR_TYPE)
	e.Offset = d.u32(unix.NFTA_EXTHDR_OFFSET)
	e.Len = d.u32(unix.NFTA_EXTHDR_LEN)
	e.Op = d.u32(unix.NFTA_EXTHDR_OP)
}

// rejectExpr drops the packet and answers it: a TCP reset, or an ICMP
// error of Code (NFT_REJECT_ICMPX_UNREACH: one for IPv4 and IPv6 alike).
type rejectExpr struct {
	Type uint32 // NFT_REJECT_*
	Code uint8
}

func (*rejectExpr) name() string { return "reject" }

func (e *rejectExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_REJECT_TYPE, e.Type)
	a.add(unix.NFTA_REJECT_ICMP_CODE, []byte{e.Code})
}

func (e *rejectExpr) unmarshal(d *attrDecoder) {
	e.Type = d.u32(unix.NFTA_REJECT_TYPE)
	e.Code = d.u8(unix.NFTA_REJECT_ICMP_CODE)
}

// masqExpr rewrites the source address to the outgoing interface's; to
// ports in registers ProtoMin-ProtoMax if set.
type masqExpr struct {
	Flags    uint32 // NF_NAT_RANGE_*
	ProtoMin uint32
	ProtoMax uint32
}

func (*masqExpr) name() string { return "masq" }

func (e *masqExpr) marshal(a *attrs) {
	if e.Flags != 0 {
		a.u32(unix.NFTA_MASQ_FLAGS, e.Flags)
	}
	if e.ProtoMin != 0 {
		a.u32(unix.NFTA_MASQ_REG_PROTO_MIN, e.ProtoMin)
	}
	if e.ProtoMax != 0 {
		a.u32(unix.NFTA_MASQ_REG_PROTO_MAX, e.ProtoMax)
	}
}

func (e *masqExpr) unmarshal(d *attrDecoder) {
	e.Flags = d.u32(unix.NFTA_MASQ_FLAGS)
	e.ProtoMin = d.u32(unix.NFTA_MASQ_REG_PROTO_MIN)
	e.ProtoMax = d.u32(unix.NFTA_MASQ_REG_PROTO_MAX)
}

// natExpr rewrites the source (NFT_NAT_SNAT) or destination address of
// Family to the one in register AddrMin (to AddrMax), and the port to the
// one in ProtoMin (to ProtoMax) if set. Unset registers are 0.
type natExpr struct {
	Type     uint32 // NFT_NAT_SNAT or NFT_NAT_DNAT
	Family   uint32 // NFPROTO_IPV4 or NFPROTO_IPV6
	AddrMin  uint32
	AddrMax  uint32
	ProtoMin uint32
	ProtoMax uint32
	Flags    uint32 // NF_NAT_RANGE_*
}

func (*natExpr) name() string { return "nat" }

func (e *natExpr) marshal(a *attrs) {
	a.u32(unix.NFTA_NAT_TYPE, e.Type)
	a.u32(unix.NFTA_NAT_FAMILY, e.Family)
	// Each of the rest only if set.
	for _, opt := range [...]struct {
		typ uint16
		v   uint32
	}{
		{unix.NFTA_NAT_REG_ADDR_MIN, e.AddrMin},
		{unix.NFTA_NAT_REG_ADDR_MAX, e.AddrMax},
		{unix.NFTA_NAT_REG_PROTO_MIN, e.ProtoMin},
		{unix.NFTA_NAT_REG_PROTO_MAX, e.ProtoMax},
		{unix.NFTA_NAT_FLAGS, e.Flags},
	} {
		if opt.v != 0 {
			a.u32(opt.typ, opt.v)
		}
	}
}

func (e *natExpr) unmarshal(d *attrDecoder) {
	e.Type = d.u32(unix.NFTA_NAT_TYPE)
	e.Family = d.u32(unix.NFTA_NAT_FAMILY)
	e.AddrMin = d.u32(unix.NFTA_NAT_REG_ADDR_MIN)
	e.AddrMax = d.u32(unix.NFTA_NAT_REG_ADDR_MAX)
	e.ProtoMin = d.u32(unix.NFTA_NAT_REG_PROTO_MIN)
	e.ProtoMax = d.u32(unix.NFTA_NAT_REG_PROTO_MAX)
	e.Flags = d.u32(unix.NFTA_NAT_FLAGS)
}

// value returns the attributes of data in a register: NFTA_DATA_VALUE.
func value(b []byte) attrs {
	var v attrs
	v.add(unix.NFTA_DATA_VALUE, b)
	return v
}

// marshalExpr returns an expression's attributes, NFTA_EXPR_*.
func marshalExpr(e expr) attrs {
	var a, data attrs
	e.marshal(&data)
	a.str(unix.NFTA_EXPR_NAME, e.name())
	a.nest(unix.NFTA_EXPR_DATA, data)
	return a
}

// unmarshalExpr parses an expression (NFTA_EXPR_*) of the kinds the
// encoder writes. Any other kind is an error naming it.
func unmarshalExpr(b []byte) (expr, error) {
	as, err := parseAttrs(b)
	if err != nil {
		return nil, err
	}
	name := getStr(as, unix.NFTA_EXPR_NAME)
	data, err := parseAttrs(get(as, unix.NFTA_EXPR_DATA))
	if err != nil {
		return nil, fmt.Errorf("expression %s: %w", name, err)
	}
	var derr error
	d := &attrDecoder{attrs: data, err: &derr}
	var e expr
	switch name {
	case "meta":
		e = &metaExpr{}
	case "ct":
		e = &ctExpr{}
	case "payload":
		e = &payloadExpr{}
	case "cmp":
		e = &cmpExpr{}
	case "bitwise":
		e = &bitwiseExpr{}
	case "range":
		e = &rangeExpr{}
	case "lookup":
		e = &lookupExpr{}
	case "fib":
		e = &fibExpr{}
	case "limit":
		e = &limitExpr{}
	case "counter":
		e = &counterExpr{}
	case "immediate":
		e = &immediateExpr{}
		if d.u32(unix.NFTA_IMMEDIATE_DREG) == unix.NFT_REG_VERDICT {
			e = &verdictExpr{}
		}
	case "reject":
		e = &rejectExpr{}
	case "rt":
		e = &rtExpr{}
	case "byteorder":
		e = &byteorderExpr{}
	case "exthdr":
		e = &exthdrWriteExpr{}
	case "masq":
		e = &masqExpr{}
	case "nat":
		e = &natExpr{}
	default:
		return nil, fmt.Errorf("unknown expression %q", name)
	}
	e.unmarshal(d)
	if derr != nil {
		return nil, fmt.Errorf("expression %s: %w", name, derr)
	}
	return e, nil
}

// An attrDecoder reads an expression's attributes by type. Numbers are
// big-endian and of their exact size; the first one that is not, or
// nested attributes that do not parse, is the expression's error. Absent
// attributes read as zero values.
type attrDecoder struct {
	attrs []attr
	err   *error // shared with the decoders of nested attributes
}

var errAttrSize = errors.New("netlink attribute of the wrong size")

func (d *attrDecoder) fail(err error) {
	if *d.err == nil {
		*d.err = err
	}
}

func (d *attrDecoder) has(typ uint16) bool {
	for _, a := range d.attrs {
		if a.typ == typ {
			return true
		}
	}
	return false
}

// num returns the data of the attribute if it has size bytes, nil if it
// is absent.
func (d *attrDecoder) num(typ uint16, size int) []byte {
	b := get(d.attrs, typ)
	if b != nil && len(b) != size {
		d.fail(fmt.Errorf("%w: type %d, %d bytes", errAttrSize, typ, len(b)))
		return nil
	}
	return b
}

func (d *attrDecoder) u8(typ uint16) uint8 {
	if b := d.num(typ, 1); b != nil {
		return b[0]
	}
	return 0
}

func (d *attrDecoder) u32(typ uint16) uint32 {
	if b := d.num(typ, 4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *attrDecoder) u64(typ uint16) uint64 {
	if b := d.num(typ, 8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (d *attrDecoder) str(typ uint16) string { return getStr(d.attrs, typ) }

// nested returns the decoder of the attributes nested in the attribute.
func (d *attrDecoder) nested(typ uint16) *attrDecoder {
	as, err := parseAttrs(get(d.attrs, typ))
	if err != nil {
		d.fail(err)
	}
	return &attrDecoder{attrs: as, err: d.err}
}

// value returns the data of a register (NFTA_DATA_VALUE) nested in the
// attribute.
func (d *attrDecoder) value(typ uint16) []byte {
	return get(d.nested(typ).attrs, unix.NFTA_DATA_VALUE)
}
