package nft

import (
	"fmt"
	"strings"

	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
)

// describe writes an expression as `nft --debug=netlink` does (libnftnl's
// format), data as 32-bit words read in the given byte order: what nft
// prints on a machine of that order. Tests compare with nft's documented
// output this way. (Test only: it would cost the device 11 KiB.)
func describe(e expr.Any, order binaryutil.ByteOrder) string {
	data := func(b []byte) string {
		var w []string
		for i := 0; i < len(b); i += 4 {
			word := make([]byte, 4)
			copy(word, b[i:])
			w = append(w, fmt.Sprintf("0x%08x", order.Uint32(word)))
		}
		return strings.Join(w, " ")
	}
	cmpOps := map[expr.CmpOp]string{
		expr.CmpOpEq: "eq", expr.CmpOpNeq: "neq", expr.CmpOpLt: "lt",
		expr.CmpOpLte: "lte", expr.CmpOpGt: "gt", expr.CmpOpGte: "gte",
	}
	var s string
	switch e := e.(type) {
	case *expr.Meta:
		names := map[expr.MetaKey]string{
			expr.MetaKeyIIFNAME: "iifname", expr.MetaKeyOIFNAME: "oifname",
			expr.MetaKeyNFPROTO: "nfproto", expr.MetaKeyL4PROTO: "l4proto",
		}
		name, ok := names[e.Key]
		if !ok {
			name = fmt.Sprintf("key %d", e.Key)
		}
		if e.SourceRegister {
			s = fmt.Sprintf("meta set %s with reg %d", name, e.Register)
		} else {
			s = fmt.Sprintf("meta load %s => reg %d", name, e.Register)
		}
	case *expr.Ct:
		names := map[expr.CtKey]string{expr.CtKeySTATE: "state", expr.CtKeySTATUS: "status"}
		name, ok := names[e.Key]
		if !ok {
			name = fmt.Sprintf("key %d", e.Key)
		}
		s = fmt.Sprintf("ct load %s => reg %d", name, e.Register)
	case *expr.Cmp:
		s = fmt.Sprintf("cmp %s reg %d %s", cmpOps[e.Op], e.Register, data(e.Data))
	case *expr.Payload:
		bases := map[expr.PayloadBase]string{
			expr.PayloadBaseLLHeader:        "link",
			expr.PayloadBaseNetworkHeader:   "network",
			expr.PayloadBaseTransportHeader: "transport",
		}
		s = fmt.Sprintf("payload load %db @ %s header + %d => reg %d", e.Len, bases[e.Base], e.Offset, e.DestRegister)
		if e.OperationType != expr.PayloadLoad {
			s = fmt.Sprintf("payload write reg %d => %db @ %s header + %d", e.SourceRegister, e.Len, bases[e.Base], e.Offset)
		}
	case *expr.Bitwise:
		s = fmt.Sprintf("bitwise reg %d = ( reg %d & %s ) ^ %s", e.DestRegister, e.SourceRegister, data(e.Mask), data(e.Xor))
	case *expr.Range:
		s = fmt.Sprintf("range %s reg %d %s %s", cmpOps[e.Op], e.Register, data(e.FromData), data(e.ToData))
	case *expr.Lookup:
		s = fmt.Sprintf("lookup reg %d set %s", e.SourceRegister, e.SetName)
		if e.Invert {
			s += " 0x1"
		}
	case *expr.Fib:
		var by []string
		for _, f := range []struct {
			on   bool
			name string
		}{{e.FlagSADDR, "saddr"}, {e.FlagDADDR, "daddr"}, {e.FlagMARK, "mark"}, {e.FlagIIF, "iif"}, {e.FlagOIF, "oif"}} {
			if f.on {
				by = append(by, f.name)
			}
		}
		result := "oif"
		switch {
		case e.ResultOIFNAME:
			result = "oifname"
		case e.ResultADDRTYPE:
			result = "type"
		}
		if e.FlagPRESENT {
			result += " present"
		}
		s = fmt.Sprintf("fib %s %s => reg %d", strings.Join(by, " . "), result, e.Register)
	case *expr.Limit:
		units := map[expr.LimitTime]string{
			expr.LimitTimeSecond: "second", expr.LimitTimeMinute: "minute",
			expr.LimitTimeHour: "hour", expr.LimitTimeDay: "day", expr.LimitTimeWeek: "week",
		}
		typ, flags := "packets", 0
		if e.Type == expr.LimitTypePktBytes {
			typ = "bytes"
		}
		if e.Over {
			flags = 1
		}
		s = fmt.Sprintf("limit rate %d/%s burst %d type %s flags 0x%x", e.Rate, units[e.Unit], e.Burst, typ, flags)
	case *expr.Counter:
		s = fmt.Sprintf("counter pkts %d bytes %d", e.Packets, e.Bytes)
	case *expr.Immediate:
		s = fmt.Sprintf("immediate reg %d %s", e.Register, data(e.Data))
	case *expr.Verdict:
		names := map[expr.VerdictKind]string{
			expr.VerdictAccept: "accept", expr.VerdictDrop: "drop", expr.VerdictReturn: "return",
			expr.VerdictJump: "jump", expr.VerdictGoto: "goto", expr.VerdictContinue: "continue",
		}
		s = "immediate reg 0 " + names[e.Kind]
		if e.Chain != "" {
			s += " " + e.Chain
		}
	case *expr.Reject:
		s = fmt.Sprintf("reject type %d code %d", e.Type, e.Code)
	case *expr.Masq:
		s = "masq"
	case *expr.NAT:
		typ := "snat"
		if e.Type == expr.NATTypeDestNAT {
			typ = "dnat"
		}
		fam := map[uint32]string{2: "ip", 10: "ip6"}[e.Family]
		s = fmt.Sprintf("nat %s %s", typ, fam)
		for _, r := range []struct {
			reg  uint32
			name string
		}{{e.RegAddrMin, "addr_min"}, {e.RegAddrMax, "addr_max"}, {e.RegProtoMin, "proto_min"}, {e.RegProtoMax, "proto_max"}} {
			if r.reg != 0 {
				s += fmt.Sprintf(" %s reg %d", r.name, r.reg)
			}
		}
		flags := 0
		for _, f := range []struct {
			on  bool
			bit int
		}{{e.Specified, 2}, {e.Random, 4}, {e.Persistent, 8}, {e.FullyRandom, 16}, {e.Prefix, 64}} {
			if f.on {
				flags |= f.bit
			}
		}
		if flags != 0 {
			s += fmt.Sprintf(" flags 0x%x", flags)
		}
	default:
		s = fmt.Sprintf("%T %+v", e, e)
	}
	return "[ " + s + " ]"
}

func describeAll(x []expr.Any, order binaryutil.ByteOrder) string {
	s := make([]string, len(x))
	for i, e := range x {
		s[i] = describe(e, order)
	}
	return strings.Join(s, " ")
}
