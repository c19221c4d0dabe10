package nft

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	nftexpr "github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// exprCase is an expression of ours and the same expression of
// google/nftables' expr, which this package's expressions replace.
type exprCase struct {
	name   string
	ours   expr
	google nftexpr.Any
	// decodeOnly: ours cannot say what google's does (a meta set, say);
	// ours is what we read from google's attributes.
	decodeOnly bool
}

// exprCases have every kind of expression, with the values the encoder
// writes, those the kernel gives back and others.
func exprCases() []exprCase {
	cs := []exprCase{
		{"meta iifname", &metaExpr{Key: unix.NFT_META_IIFNAME, Register: 1}, &nftexpr.Meta{Key: nftexpr.MetaKeyIIFNAME, Register: 1}, false},
		{"meta oifname", &metaExpr{Key: unix.NFT_META_OIFNAME, Register: 1}, &nftexpr.Meta{Key: nftexpr.MetaKeyOIFNAME, Register: 1}, false},
		{"meta nfproto", &metaExpr{Key: unix.NFT_META_NFPROTO, Register: 1}, &nftexpr.Meta{Key: nftexpr.MetaKeyNFPROTO, Register: 1}, false},
		{"meta l4proto reg 2", &metaExpr{Key: unix.NFT_META_L4PROTO, Register: 2}, &nftexpr.Meta{Key: nftexpr.MetaKeyL4PROTO, Register: 2}, false},
		{"meta set", &metaExpr{Key: unix.NFT_META_MARK}, &nftexpr.Meta{Key: nftexpr.MetaKeyMARK, SourceRegister: true, Register: 1}, true},

		{"ct state", &ctExpr{Key: unix.NFT_CT_STATE, Register: 1}, &nftexpr.Ct{Key: nftexpr.CtKeySTATE, Register: 1}, false},
		{"ct status", &ctExpr{Key: unix.NFT_CT_STATUS, Register: 1}, &nftexpr.Ct{Key: nftexpr.CtKeySTATUS, Register: 1}, false},
		{"ct mark reg 3", &ctExpr{Key: unix.NFT_CT_MARK, Register: 3}, &nftexpr.Ct{Key: nftexpr.CtKeyMARK, Register: 3}, false},
		{"ct set", &ctExpr{Key: unix.NFT_CT_MARK}, &nftexpr.Ct{Key: nftexpr.CtKeyMARK, SourceRegister: true, Register: 1}, true},

		{"payload tcp dport", &payloadExpr{Register: 1, Base: unix.NFT_PAYLOAD_TRANSPORT_HEADER, Offset: 2, Len: 2},
			&nftexpr.Payload{DestRegister: 1, Base: nftexpr.PayloadBaseTransportHeader, Offset: 2, Len: 2}, false},
		{"payload icmp type", &payloadExpr{Register: 1, Base: unix.NFT_PAYLOAD_TRANSPORT_HEADER, Len: 1},
			&nftexpr.Payload{DestRegister: 1, Base: nftexpr.PayloadBaseTransportHeader, Len: 1}, false},
		{"payload ip saddr", &payloadExpr{Register: 1, Base: unix.NFT_PAYLOAD_NETWORK_HEADER, Offset: 12, Len: 4},
			&nftexpr.Payload{DestRegister: 1, Base: nftexpr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}, false},
		{"payload ip6 daddr", &payloadExpr{Register: 1, Base: unix.NFT_PAYLOAD_NETWORK_HEADER, Offset: 24, Len: 16},
			&nftexpr.Payload{DestRegister: 1, Base: nftexpr.PayloadBaseNetworkHeader, Offset: 24, Len: 16}, false},
		{"payload link", &payloadExpr{Register: 4, Base: unix.NFT_PAYLOAD_LL_HEADER, Offset: 6, Len: 6},
			&nftexpr.Payload{DestRegister: 4, Base: nftexpr.PayloadBaseLLHeader, Offset: 6, Len: 6}, false},
		{"payload write", &payloadExpr{Base: unix.NFT_PAYLOAD_NETWORK_HEADER, Offset: 8, Len: 1},
			&nftexpr.Payload{OperationType: nftexpr.PayloadWrite, SourceRegister: 1, Base: nftexpr.PayloadBaseNetworkHeader, Offset: 8, Len: 1,
				CsumType: nftexpr.CsumTypeInet, CsumOffset: 10}, true},

		{"cmp eq 1 byte", &cmpExpr{Op: unix.NFT_CMP_EQ, Register: 1, Data: []byte{6}},
			&nftexpr.Cmp{Op: nftexpr.CmpOpEq, Register: 1, Data: []byte{6}}, false},
		{"cmp neq port", &cmpExpr{Op: unix.NFT_CMP_NEQ, Register: 1, Data: []byte{0x1f, 0x90}},
			&nftexpr.Cmp{Op: nftexpr.CmpOpNeq, Register: 1, Data: []byte{0x1f, 0x90}}, false},
		{"cmp ifname", &cmpExpr{Op: unix.NFT_CMP_EQ, Register: 1, Data: []byte("eth0.100\x00\x00\x00\x00\x00\x00\x00\x00")},
			&nftexpr.Cmp{Op: nftexpr.CmpOpEq, Register: 1, Data: []byte("eth0.100\x00\x00\x00\x00\x00\x00\x00\x00")}, false},
		{"cmp gte 3 bytes", &cmpExpr{Op: unix.NFT_CMP_GTE, Register: 2, Data: []byte{1, 2, 3}},
			&nftexpr.Cmp{Op: nftexpr.CmpOpGte, Register: 2, Data: []byte{1, 2, 3}}, false},

		{"bitwise prefix /8", &bitwiseExpr{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{0xff, 0, 0, 0}, Xor: make([]byte, 4)},
			&nftexpr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: []byte{0xff, 0, 0, 0}, Xor: make([]byte, 4)}, false},
		{"bitwise ip6 prefix", &bitwiseExpr{SourceRegister: 1, DestRegister: 1, Len: 16, Mask: prefixMask(16, 10), Xor: make([]byte, 16)},
			&nftexpr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 16, Mask: prefixMask(16, 10), Xor: make([]byte, 16)}, false},
		{"bitwise xor", &bitwiseExpr{SourceRegister: 2, DestRegister: 3, Len: 2, Mask: []byte{0xf0, 0x0f}, Xor: []byte{1, 2}},
			&nftexpr.Bitwise{SourceRegister: 2, DestRegister: 3, Len: 2, Mask: []byte{0xf0, 0x0f}, Xor: []byte{1, 2}}, false},

		{"range eq", &rangeExpr{Op: unix.NFT_RANGE_EQ, Register: 1, From: []byte{0x03, 0xe8}, To: []byte{0x07, 0xd0}},
			&nftexpr.Range{Op: nftexpr.CmpOpEq, Register: 1, FromData: []byte{0x03, 0xe8}, ToData: []byte{0x07, 0xd0}}, false},
		{"range neq", &rangeExpr{Op: unix.NFT_RANGE_NEQ, Register: 1, From: []byte{0, 1}, To: []byte{0x03, 0xff}},
			&nftexpr.Range{Op: nftexpr.CmpOpNeq, Register: 1, FromData: []byte{0, 1}, ToData: []byte{0x03, 0xff}}, false},

		{"lookup named", &lookupExpr{Register: 1, SetName: "zone_lan", SetID: 1},
			&nftexpr.Lookup{SourceRegister: 1, SetName: "zone_lan", SetID: 1}, false},
		{"lookup anonymous, inverted", &lookupExpr{Register: 1, SetName: "__set%d", SetID: 7, Invert: true},
			&nftexpr.Lookup{SourceRegister: 1, SetName: "__set%d", SetID: 7, Invert: true}, false},
		{"lookup as read back", &lookupExpr{Register: 1, SetName: "__set0"},
			&nftexpr.Lookup{SourceRegister: 1, SetName: "__set0"}, false},
		{"lookup verdict map", &lookupExpr{Register: 1, SetName: "vmap", SetID: 2, Map: true},
			&nftexpr.Lookup{SourceRegister: 1, SetName: "vmap", SetID: 2, IsDestRegSet: true}, false},
		{"lookup map", &lookupExpr{Register: 1, SetName: "map", Map: true, Dest: 2},
			&nftexpr.Lookup{SourceRegister: 1, SetName: "map", IsDestRegSet: true, DestRegister: 2}, false},

		{"fib saddr . iif oif", &fibExpr{Register: 1, Result: unix.NFT_FIB_RESULT_OIF, Flags: unix.NFTA_FIB_F_SADDR | unix.NFTA_FIB_F_IIF},
			&nftexpr.Fib{Register: 1, ResultOIF: true, FlagSADDR: true, FlagIIF: true}, false},
		{"fib daddr oif", &fibExpr{Register: 1, Result: unix.NFT_FIB_RESULT_OIF, Flags: unix.NFTA_FIB_F_DADDR},
			&nftexpr.Fib{Register: 1, ResultOIF: true, FlagDADDR: true}, false},
		{"fib saddr . iif oif present", &fibExpr{Register: 1, Result: unix.NFT_FIB_RESULT_OIF, Flags: unix.NFTA_FIB_F_SADDR | unix.NFTA_FIB_F_IIF | unix.NFTA_FIB_F_PRESENT},
			&nftexpr.Fib{Register: 1, ResultOIF: true, FlagSADDR: true, FlagIIF: true, FlagPRESENT: true}, false},
		{"fib daddr . mark . oif type", &fibExpr{Register: 2, Result: unix.NFT_FIB_RESULT_ADDRTYPE, Flags: unix.NFTA_FIB_F_DADDR | unix.NFTA_FIB_F_MARK | unix.NFTA_FIB_F_OIF},
			&nftexpr.Fib{Register: 2, ResultADDRTYPE: true, FlagDADDR: true, FlagMARK: true, FlagOIF: true}, false},
		{"fib oifname", &fibExpr{Register: 1, Result: unix.NFT_FIB_RESULT_OIFNAME},
			&nftexpr.Fib{Register: 1, ResultOIFNAME: true}, false},

		{"limit 10/second", &limitExpr{Rate: 10, Unit: 1, Burst: 5, Type: unix.NFT_LIMIT_PKTS},
			&nftexpr.Limit{Type: nftexpr.LimitTypePkts, Rate: 10, Unit: nftexpr.LimitTimeSecond, Burst: 5}, false},
		{"limit over 3/minute", &limitExpr{Rate: 3, Unit: 60, Burst: 9, Type: unix.NFT_LIMIT_PKTS, Flags: unix.NFT_LIMIT_F_INV},
			&nftexpr.Limit{Type: nftexpr.LimitTypePkts, Rate: 3, Unit: nftexpr.LimitTimeMinute, Burst: 9, Over: true}, false},
		{"limit 5/hour", &limitExpr{Rate: 5, Unit: 3600, Burst: 1, Type: unix.NFT_LIMIT_PKTS},
			&nftexpr.Limit{Type: nftexpr.LimitTypePkts, Rate: 5, Unit: nftexpr.LimitTimeHour, Burst: 1}, false},
		{"limit 1/day", &limitExpr{Rate: 1, Unit: 86400, Burst: 5, Type: unix.NFT_LIMIT_PKTS},
			&nftexpr.Limit{Type: nftexpr.LimitTypePkts, Rate: 1, Unit: nftexpr.LimitTimeDay, Burst: 5}, false},
		{"limit bytes/week", &limitExpr{Rate: 1 << 40, Unit: 604800, Burst: 1 << 20, Type: unix.NFT_LIMIT_PKT_BYTES},
			&nftexpr.Limit{Type: nftexpr.LimitTypePktBytes, Rate: 1 << 40, Unit: nftexpr.LimitTimeWeek, Burst: 1 << 20}, false},

		{"counter", &counterExpr{}, &nftexpr.Counter{}, false},
		{"counter counted", &counterExpr{Bytes: 180, Packets: 3}, &nftexpr.Counter{Bytes: 180, Packets: 3}, false},
		{"counter big", &counterExpr{Bytes: 1<<63 + 1, Packets: 1 << 33}, &nftexpr.Counter{Bytes: 1<<63 + 1, Packets: 1 << 33}, false},

		{"immediate address", &immediateExpr{Register: 1, Data: []byte{192, 168, 8, 10}},
			&nftexpr.Immediate{Register: 1, Data: []byte{192, 168, 8, 10}}, false},
		{"immediate port", &immediateExpr{Register: 2, Data: []byte{0, 80}},
			&nftexpr.Immediate{Register: 2, Data: []byte{0, 80}}, false},

		{"accept", &verdictExpr{Code: nfAccept}, &nftexpr.Verdict{Kind: nftexpr.VerdictAccept}, false},
		{"drop", &verdictExpr{Code: nfDrop}, &nftexpr.Verdict{Kind: nftexpr.VerdictDrop}, false},
		{"return", &verdictExpr{Code: unix.NFT_RETURN}, &nftexpr.Verdict{Kind: nftexpr.VerdictReturn}, false},
		{"continue", &verdictExpr{Code: unix.NFT_CONTINUE}, &nftexpr.Verdict{Kind: nftexpr.VerdictContinue}, false},
		{"jump", &verdictExpr{Code: unix.NFT_JUMP, Chain: "sub"}, &nftexpr.Verdict{Kind: nftexpr.VerdictJump, Chain: "sub"}, false},
		{"goto", &verdictExpr{Code: unix.NFT_GOTO, Chain: "a-longer_chain.name"}, &nftexpr.Verdict{Kind: nftexpr.VerdictGoto, Chain: "a-longer_chain.name"}, false},

		{"reject tcp reset", &rejectExpr{Type: unix.NFT_REJECT_TCP_RST}, &nftexpr.Reject{Type: unix.NFT_REJECT_TCP_RST}, false},
		{"reject icmpx port-unreachable", &rejectExpr{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: 1},
			&nftexpr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: 1}, false},
		{"reject icmpx admin-prohibited", &rejectExpr{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: 3},
			&nftexpr.Reject{Type: unix.NFT_REJECT_ICMPX_UNREACH, Code: 3}, false},
		{"reject icmp", &rejectExpr{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 13},
			&nftexpr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: 13}, false},

		{"rt tcpmss", &rtExpr{Key: unix.NFT_RT_TCPMSS, Register: 1}, &nftexpr.Rt{Register: 1, Key: nftexpr.RtTCPMSS}, false},
		{"byteorder hton 2", &byteorderExpr{SourceRegister: 1, DestRegister: 1, Op: unix.NFT_BYTEORDER_HTON, Len: 2, Size: 2},
			&nftexpr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: nftexpr.ByteorderHton, Len: 2, Size: 2}, false},
		{"byteorder ntoh 4", &byteorderExpr{SourceRegister: 2, DestRegister: 3, Op: unix.NFT_BYTEORDER_NTOH, Len: 8, Size: 4},
			&nftexpr.Byteorder{SourceRegister: 2, DestRegister: 3, Op: nftexpr.ByteorderNtoh, Len: 8, Size: 4}, false},
		{"exthdr write tcpopt maxseg", &exthdrWriteExpr{SourceRegister: 1, Type: 2, Offset: 2, Len: 2, Op: unix.NFT_EXTHDR_OP_TCPOPT},
			&nftexpr.Exthdr{SourceRegister: 1, Type: 2, Offset: 2, Len: 2, Op: nftexpr.ExthdrOpTcpopt}, false},

		{"masq", &masqExpr{}, &nftexpr.Masq{}, false},
		{"masq random persistent", &masqExpr{Flags: unix.NF_NAT_RANGE_PROTO_RANDOM | unix.NF_NAT_RANGE_PERSISTENT},
			&nftexpr.Masq{Random: true, Persistent: true}, false},
		{"masq fully-random", &masqExpr{Flags: unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY}, &nftexpr.Masq{FullyRandom: true}, false},
		{"masq to ports", &masqExpr{ProtoMin: 1, ProtoMax: 2}, &nftexpr.Masq{ToPorts: true, RegProtoMin: 1, RegProtoMax: 2}, false},

		{"dnat ip to address:port", &natExpr{Type: unix.NFT_NAT_DNAT, Family: unix.NFPROTO_IPV4, AddrMin: 1, ProtoMin: 2, Flags: unix.NF_NAT_RANGE_PROTO_SPECIFIED},
			&nftexpr.NAT{Type: nftexpr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegProtoMin: 2, Specified: true}, false},
		{"snat ip to address", &natExpr{Type: unix.NFT_NAT_SNAT, Family: unix.NFPROTO_IPV4, AddrMin: 1},
			&nftexpr.NAT{Type: nftexpr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1}, false},
		{"dnat as read back", &natExpr{Type: unix.NFT_NAT_DNAT, Family: unix.NFPROTO_IPV4, AddrMin: 1, AddrMax: 1, ProtoMin: 2, ProtoMax: 2, Flags: unix.NF_NAT_RANGE_PROTO_SPECIFIED},
			&nftexpr.NAT{Type: nftexpr.NATTypeDestNAT, Family: unix.NFPROTO_IPV4, RegAddrMin: 1, RegAddrMax: 1, RegProtoMin: 2, RegProtoMax: 2, Specified: true}, false},
		{"snat ip6 random prefix", &natExpr{Type: unix.NFT_NAT_SNAT, Family: unix.NFPROTO_IPV6, AddrMin: 1, AddrMax: 5,
			Flags: unix.NF_NAT_RANGE_PROTO_RANDOM | unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY | unix.NF_NAT_RANGE_PERSISTENT | unix.NF_NAT_RANGE_NETMAP},
			&nftexpr.NAT{Type: nftexpr.NATTypeSourceNAT, Family: unix.NFPROTO_IPV6, RegAddrMin: 1, RegAddrMax: 5, Random: true, FullyRandom: true, Persistent: true, Prefix: true}, false},
	}
	// ct state and status masks are in the host's order: both orders.
	for _, o := range orders {
		mask := make([]byte, 4)
		o.order.PutUint32(mask, nftexpr.CtStateBitESTABLISHED|nftexpr.CtStateBitRELATED)
		cs = append(cs,
			exprCase{"bitwise ct state, " + o.name, &bitwiseExpr{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)},
				&nftexpr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4, Mask: mask, Xor: make([]byte, 4)}, false},
			exprCase{"cmp ct state, " + o.name, &cmpExpr{Op: unix.NFT_CMP_NEQ, Register: 1, Data: mask},
				&nftexpr.Cmp{Op: nftexpr.CmpOpNeq, Register: 1, Data: mask}, false},
		)
	}
	return cs
}

// Our expressions' attributes are google/nftables' for the same
// expression, byte for byte, and we read google/nftables' attributes back
// as the expression they were.
func TestExprsAsGoogle(t *testing.T) {
	for _, tc := range exprCases() {
		want, err := nftexpr.Marshal(unix.NFPROTO_INET, tc.google)
		if err != nil {
			t.Fatalf("%s: google/nftables: %v", tc.name, err)
		}
		if got := marshalExpr(tc.ours); !tc.decodeOnly && !bytes.Equal(got, want) {
			t.Errorf("%s: attributes\n% x\nwant google/nftables'\n% x", tc.name, got, want)
		}
		got, err := unmarshalExpr(want)
		if err != nil {
			t.Errorf("%s: reading google/nftables' attributes: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.ours, got); diff != "" {
			t.Errorf("%s: read back from google/nftables' attributes (-want +got):\n%s", tc.name, diff)
		}
	}
}

// asGoogle returns google/nftables' expression for one of ours.
func asGoogle(e expr) nftexpr.Any {
	switch e := e.(type) {
	case *metaExpr:
		return &nftexpr.Meta{Key: nftexpr.MetaKey(e.Key), Register: e.Register}
	case *ctExpr:
		return &nftexpr.Ct{Key: nftexpr.CtKey(e.Key), Register: e.Register}
	case *payloadExpr:
		return &nftexpr.Payload{DestRegister: e.Register, Base: nftexpr.PayloadBase(e.Base), Offset: e.Offset, Len: e.Len}
	case *cmpExpr:
		return &nftexpr.Cmp{Op: nftexpr.CmpOp(e.Op), Register: e.Register, Data: e.Data}
	case *bitwiseExpr:
		return &nftexpr.Bitwise{SourceRegister: e.SourceRegister, DestRegister: e.DestRegister, Len: e.Len, Mask: e.Mask, Xor: e.Xor}
	case *rangeExpr:
		return &nftexpr.Range{Op: nftexpr.CmpOp(e.Op), Register: e.Register, FromData: e.From, ToData: e.To}
	case *lookupExpr:
		return &nftexpr.Lookup{SourceRegister: e.Register, SetName: e.SetName, SetID: e.SetID, Invert: e.Invert, IsDestRegSet: e.Map, DestRegister: e.Dest}
	case *fibExpr:
		return &nftexpr.Fib{
			Register:       e.Register,
			ResultOIF:      e.Result == unix.NFT_FIB_RESULT_OIF,
			ResultOIFNAME:  e.Result == unix.NFT_FIB_RESULT_OIFNAME,
			ResultADDRTYPE: e.Result == unix.NFT_FIB_RESULT_ADDRTYPE,
			FlagSADDR:      e.Flags&unix.NFTA_FIB_F_SADDR != 0,
			FlagDADDR:      e.Flags&unix.NFTA_FIB_F_DADDR != 0,
			FlagMARK:       e.Flags&unix.NFTA_FIB_F_MARK != 0,
			FlagIIF:        e.Flags&unix.NFTA_FIB_F_IIF != 0,
			FlagOIF:        e.Flags&unix.NFTA_FIB_F_OIF != 0,
			FlagPRESENT:    e.Flags&unix.NFTA_FIB_F_PRESENT != 0,
		}
	case *limitExpr:
		return &nftexpr.Limit{Type: nftexpr.LimitType(e.Type), Rate: e.Rate, Unit: nftexpr.LimitTime(e.Unit), Burst: e.Burst, Over: e.Flags&unix.NFT_LIMIT_F_INV != 0}
	case *counterExpr:
		return &nftexpr.Counter{Bytes: e.Bytes, Packets: e.Packets}
	case *immediateExpr:
		return &nftexpr.Immediate{Register: e.Register, Data: e.Data}
	case *verdictExpr:
		return &nftexpr.Verdict{Kind: nftexpr.VerdictKind(e.Code), Chain: e.Chain}
	case *rejectExpr:
		return &nftexpr.Reject{Type: e.Type, Code: e.Code}
	case *rtExpr:
		return &nftexpr.Rt{Register: e.Register, Key: nftexpr.RtKey(e.Key)}
	case *byteorderExpr:
		return &nftexpr.Byteorder{SourceRegister: e.SourceRegister, DestRegister: e.DestRegister, Op: nftexpr.ByteorderOp(e.Op), Len: e.Len, Size: e.Size}
	case *exthdrWriteExpr:
		return &nftexpr.Exthdr{SourceRegister: e.SourceRegister, Type: e.Type, Offset: e.Offset, Len: e.Len, Op: nftexpr.ExthdrOp(e.Op)}
	case *masqExpr:
		return &nftexpr.Masq{
			Random:      e.Flags&unix.NF_NAT_RANGE_PROTO_RANDOM != 0,
			FullyRandom: e.Flags&unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0,
			Persistent:  e.Flags&unix.NF_NAT_RANGE_PERSISTENT != 0,
			ToPorts:     e.ProtoMin != 0,
			RegProtoMin: e.ProtoMin,
			RegProtoMax: e.ProtoMax,
		}
	case *natExpr:
		return &nftexpr.NAT{
			Type: nftexpr.NATType(e.Type), Family: e.Family,
			RegAddrMin: e.AddrMin, RegAddrMax: e.AddrMax, RegProtoMin: e.ProtoMin, RegProtoMax: e.ProtoMax,
			Random:      e.Flags&unix.NF_NAT_RANGE_PROTO_RANDOM != 0,
			FullyRandom: e.Flags&unix.NF_NAT_RANGE_PROTO_RANDOM_FULLY != 0,
			Persistent:  e.Flags&unix.NF_NAT_RANGE_PERSISTENT != 0,
			Prefix:      e.Flags&unix.NF_NAT_RANGE_NETMAP != 0,
			Specified:   e.Flags&unix.NF_NAT_RANGE_PROTO_SPECIFIED != 0,
		}
	}
	panic(fmt.Sprintf("no google/nftables expression for %T", e))
}

// Every expression the encoder writes, for every construct on both byte
// orders, has the attributes google/nftables would send for it.
func TestEncoderAsGoogle(t *testing.T) {
	kinds := map[string]bool{}
	for _, o := range orders {
		for _, text := range roundTripRules {
			x, _ := encode(t, o.order, text)
			for i, e := range x {
				kinds[fmt.Sprintf("%T", e)] = true
				want, err := nftexpr.Marshal(unix.NFPROTO_INET, asGoogle(e))
				if err != nil {
					t.Fatal(err)
				}
				if got := marshalExpr(e); !bytes.Equal(got, want) {
					t.Errorf("%s: %s: expression %d %s: attributes\n% x\nwant google/nftables'\n% x", o.name, text, i+1, describe(e, o.order), got, want)
				}
			}
		}
	}
	// Every kind but the ones only read back.
	if len(kinds) != 18 {
		t.Errorf("the rules have %d kinds of expression, want all 18: %v", len(kinds), kinds)
	}
}

// A 32-bit kernel puts padding before 64-bit numbers that would not be
// 8-byte aligned: limit's (and counter's) read the same with it.
func TestPadding(t *testing.T) {
	for _, tc := range []struct {
		name string
		pad  uint16
		want expr
	}{
		{"limit", unix.NFTA_LIMIT_PAD, &limitExpr{Rate: 10, Unit: 60, Burst: 5, Type: unix.NFT_LIMIT_PKTS, Flags: unix.NFT_LIMIT_F_INV}},
		{"counter", unix.NFTA_COUNTER_PAD, &counterExpr{Bytes: 180, Packets: 3}},
	} {
		var plain attrs
		tc.want.marshal(&plain)
		as, err := parseAttrs(plain)
		if err != nil {
			t.Fatal(err)
		}
		// An empty pad attribute before each 64-bit number.
		var padded attrs
		for _, a := range as {
			if len(a.data) == 8 {
				padded.add(tc.pad, nil)
			}
			padded.add(a.typ, a.data)
		}
		var e attrs
		e.str(unix.NFTA_EXPR_NAME, tc.name)
		e.nest(unix.NFTA_EXPR_DATA, padded)
		got, err := unmarshalExpr(e)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s with padding (-want +got):\n%s", tc.name, diff)
		}
		if len(padded) <= len(plain) {
			t.Errorf("%s: no padding in % x", tc.name, padded)
		}
	}
}

// Attributes of the wrong size, expressions of other kinds and truncated
// attributes are errors.
func TestUnmarshalExprErrors(t *testing.T) {
	expression := func(name string, data attrs) attrs {
		var e attrs
		e.str(unix.NFTA_EXPR_NAME, name)
		e.nest(unix.NFTA_EXPR_DATA, data)
		return e
	}
	var short attrs // a 2-byte key
	short.add(unix.NFTA_META_KEY, []byte{0, 6})
	short.u32(unix.NFTA_META_DREG, 1)
	var badCode attrs // a 4-byte ICMP code
	badCode.u32(unix.NFTA_REJECT_TYPE, unix.NFT_REJECT_ICMPX_UNREACH)
	badCode.u32(unix.NFTA_REJECT_ICMP_CODE, 1)
	var badVerdict, verdict, data attrs // a 2-byte verdict code, nested
	verdict.add(unix.NFTA_VERDICT_CODE, []byte{0, 1})
	data.nest(unix.NFTA_DATA_VERDICT, verdict)
	badVerdict.u32(unix.NFTA_IMMEDIATE_DREG, unix.NFT_REG_VERDICT)
	badVerdict.nest(unix.NFTA_IMMEDIATE_DATA, data)
	var truncated attrs // a cmp's data attribute longer than what it holds
	truncated.u32(unix.NFTA_CMP_SREG, 1)
	value := binary.NativeEndian.AppendUint16(nil, 8) // of 6 bytes
	value = binary.NativeEndian.AppendUint16(value, unix.NFTA_DATA_VALUE)
	truncated.nest(unix.NFTA_CMP_DATA, append(value, 1, 2))
	for _, tc := range []struct {
		b    attrs
		want string
	}{
		{expression("meta", short), "expression meta: netlink attribute of the wrong size: type 2, 2 bytes"},
		{expression("reject", badCode), "expression reject: netlink attribute of the wrong size: type 2, 4 bytes"},
		{expression("immediate", badVerdict), "expression immediate: netlink attribute of the wrong size: type 1, 2 bytes"},
		{expression("cmp", truncated), "expression cmp: bad netlink attribute length"},
		{expression("log", nil), `unknown expression "log"`},
	} {
		e, err := unmarshalExpr(tc.b)
		if err == nil || err.Error() != tc.want {
			t.Errorf("unmarshalExpr(% x) = %+v, %v; want error %q", tc.b, e, err, tc.want)
		}
	}
}
