package nft

import (
	"encoding/binary"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// describe writes an expression as `nft --debug=netlink` does (libnftnl's
// format), data as 32-bit words read in the given byte order: what nft
// prints on a machine of that order. Tests compare with nft's documented
// output this way. (Test only: it would cost the device 11 KiB.)
func describe(e expr, order binary.ByteOrder) string {
	data := func(b []byte) string {
		var w []string
		for i := 0; i < len(b); i += 4 {
			word := make([]byte, 4)
			copy(word, b[i:])
			w = append(w, fmt.Sprintf("0x%08x", order.Uint32(word)))
		}
		return strings.Join(w, " ")
	}
	cmpOps := map[uint32]string{
		unix.NFT_CMP_EQ: "eq", unix.NFT_CMP_NEQ: "neq", unix.NFT_CMP_LT: "lt",
		unix.NFT_CMP_LTE: "lte", unix.NFT_CMP_GT: "gt", unix.NFT_CMP_GTE: "gte",
	}
	var s string
	switch e := e.(type) {
	case *metaExpr:
		names := map[uint32]string{
			unix.NFT_META_IIFNAME: "iifname", unix.NFT_META_OIFNAME: "oifname",
			unix.NFT_META_NFPROTO: "nfproto", unix.NFT_META_L4PROTO: "l4proto",
		}
		name, ok := names[e.Key]
		if !ok {
			name = fmt.Sprintf("key %d", e.Key)
		}
		s = fmt.Sprintf("meta load %s => reg %d", name, e.Register)
	case *ctExpr:
		names := map[uint32]string{unix.NFT_CT_STATE: "state", unix.NFT_CT_STATUS: "status"}
		name, ok := names[e.Key]
		if !ok {
			name = fmt.Sprintf("key %d", e.Key)
		}
		s = fmt.Sprintf("ct load %s => reg %d", name, e.Register)
	case *cmpExpr:
		s = fmt.Sprintf("cmp %s reg %d %s", cmpOps[e.Op], e.Register, data(e.Data))
	case *payloadExpr:
		bases := map[uint32]string{
			unix.NFT_PAYLOAD_LL_HEADER:        "link",
			unix.NFT_PAYLOAD_NETWORK_HEADER:   "network",
			unix.NFT_PAYLOAD_TRANSPORT_HEADER: "transport",
		}
		s = fmt.Sprintf("payload load %db @ %s header + %d => reg %d", e.Len, bases[e.Base], e.Offset, e.Register)
	case *bitwiseExpr:
		s = fmt.Sprintf("bitwise reg %d = ( reg %d & %s ) ^ %s", e.DestRegister, e.SourceRegister, data(e.Mask), data(e.Xor))
	case *rangeExpr:
		s = fmt.Sprintf("range %s reg %d %s %s", cmpOps[e.Op], e.Register, data(e.From), data(e.To))
	case *lookupExpr:
		s = fmt.Sprintf("lookup reg %d set %s", e.Register, e.SetName)
		if e.Map {
			s += fmt.Sprintf(" dreg %d", e.Dest)
		}
		if e.Invert {
			s += " 0x1"
		}
	case *fibExpr:
		var by []string
		for _, f := range []struct {
			flag uint32
			name string
		}{
			{unix.NFTA_FIB_F_SADDR, "saddr"}, {unix.NFTA_FIB_F_DADDR, "daddr"}, {unix.NFTA_FIB_F_MARK, "mark"},
			{unix.NFTA_FIB_F_IIF, "iif"}, {unix.NFTA_FIB_F_OIF, "oif"},
		} {
			if e.Flags&f.flag != 0 {
				by = append(by, f.name)
			}
		}
		result := map[uint32]string{
			unix.NFT_FIB_RESULT_OIF: "oif", unix.NFT_FIB_RESULT_OIFNAME: "oifname", unix.NFT_FIB_RESULT_ADDRTYPE: "type",
		}[e.Result]
		if e.Flags&unix.NFTA_FIB_F_PRESENT != 0 {
			result += " present"
		}
		s = fmt.Sprintf("fib %s %s => reg %d", strings.Join(by, " . "), result, e.Register)
	case *limitExpr:
		units := map[uint64]string{1: "second", 60: "minute", 60 * 60: "hour", 24 * 60 * 60: "day", 7 * 24 * 60 * 60: "week"}
		typ := "packets"
		if e.Type == unix.NFT_LIMIT_PKT_BYTES {
			typ = "bytes"
		}
		s = fmt.Sprintf("limit rate %d/%s burst %d type %s flags 0x%x", e.Rate, units[e.Unit], e.Burst, typ, e.Flags)
	case *counterExpr:
		s = fmt.Sprintf("counter pkts %d bytes %d", e.Packets, e.Bytes)
	case *immediateExpr:
		s = fmt.Sprintf("immediate reg %d %s", e.Register, data(e.Data))
	case *verdictExpr:
		names := map[int32]string{
			nfAccept: "accept", nfDrop: "drop", unix.NFT_RETURN: "return",
			unix.NFT_JUMP: "jump", unix.NFT_GOTO: "goto", unix.NFT_CONTINUE: "continue",
		}
		s = "immediate reg 0 " + names[e.Code]
		if e.Chain != "" {
			s += " " + e.Chain
		}
	case *rejectExpr:
		s = fmt.Sprintf("reject type %d code %d", e.Type, e.Code)
	case *rtExpr:
		key := map[uint32]string{unix.NFT_RT_TCPMSS: "tcpmss"}[e.Key]
		s = fmt.Sprintf("rt load %s => reg %d", key, e.Register)
	case *byteorderExpr:
		op := map[uint32]string{unix.NFT_BYTEORDER_HTON: "hton", unix.NFT_BYTEORDER_NTOH: "ntoh"}[e.Op]
		s = fmt.Sprintf("byteorder reg %d = %s(reg %d, %d, %d)", e.DestRegister, op, e.SourceRegister, e.Size, e.Len)
	case *exthdrWriteExpr:
		op := map[uint32]string{unix.NFT_EXTHDR_OP_TCPOPT: "tcpopt"}[e.Op]
		s = fmt.Sprintf("exthdr write %s reg %d => %db @ %d + %d", op, e.SourceRegister, e.Len, e.Type, e.Offset)
	case *masqExpr:
		s = "masq"
		if e.ProtoMin != 0 {
			s += fmt.Sprintf(" proto_min reg %d", e.ProtoMin)
		}
		if e.ProtoMax != 0 {
			s += fmt.Sprintf(" proto_max reg %d", e.ProtoMax)
		}
		if e.Flags != 0 {
			s += fmt.Sprintf(" flags 0x%x", e.Flags)
		}
	case *natExpr:
		typ := "snat"
		if e.Type == unix.NFT_NAT_DNAT {
			typ = "dnat"
		}
		fam := map[uint32]string{unix.NFPROTO_IPV4: "ip", unix.NFPROTO_IPV6: "ip6"}[e.Family]
		s = fmt.Sprintf("nat %s %s", typ, fam)
		for _, r := range []struct {
			reg  uint32
			name string
		}{{e.AddrMin, "addr_min"}, {e.AddrMax, "addr_max"}, {e.ProtoMin, "proto_min"}, {e.ProtoMax, "proto_max"}} {
			if r.reg != 0 {
				s += fmt.Sprintf(" %s reg %d", r.name, r.reg)
			}
		}
		if e.Flags != 0 {
			s += fmt.Sprintf(" flags 0x%x", e.Flags)
		}
	default:
		s = fmt.Sprintf("%T %+v", e, e)
	}
	return "[ " + s + " ]"
}

func describeAll(x []expr, order binary.ByteOrder) string {
	s := make([]string, len(x))
	for i, e := range x {
		s[i] = describe(e, order)
	}
	return strings.Join(s, " ")
}
