package nft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

// A decoder translates expressions read back from the kernel into rules:
// the inverse of the encoder, for exactly what the encoder writes.
type decoder struct {
	order binary.ByteOrder
	// elems returns the elements of an anonymous set, by the name the
	// kernel gave it (__set0...).
	elems func(name string) ([][]byte, error)
}

// unknown is the error for expressions the decoder does not know, naming
// them: "unknown expressions meta{Key:6 Register:1} ...".
func unknown(x []expr) error {
	s := make([]string, len(x))
	for i, e := range x {
		s[i] = e.name() + strings.TrimPrefix(fmt.Sprintf("%+v", e), "&")
	}
	return errors.New("unknown expressions " + strings.Join(s, " "))
}

func (d *decoder) rule(x []expr) (rs.Rule, error) {
	var r rs.Rule
	i := 0
	for i < len(x) {
		m, n, err := d.match(x[i:])
		if err != nil {
			return rs.Rule{}, err
		}
		if n == 0 {
			break
		}
		r.Matches = append(r.Matches, m)
		i += n
	}
	if i < len(x) {
		if l, ok := x[i].(*limitExpr); ok {
			unit := ""
			for _, u := range limitUnits {
				if u.unit == l.Unit {
					unit = u.name
				}
			}
			if l.Type != unix.NFT_LIMIT_PKTS || unit == "" || l.Flags&^unix.NFT_LIMIT_F_INV != 0 {
				return rs.Rule{}, unknown(x[i : i+1])
			}
			r.Limit = &rs.Limit{Rate: l.Rate, Unit: unit, Burst: l.Burst, Over: l.Flags&unix.NFT_LIMIT_F_INV != 0}
			i++
		}
	}
	if i < len(x) {
		if _, ok := x[i].(*counterExpr); ok {
			r.Counter = true
			i++
		}
	}
	if i < len(x) {
		s, n := d.stmt(x[i:])
		r.Stmt = s
		i += n
	}
	if i < len(x) {
		return rs.Rule{}, unknown(x[i:])
	}
	return r, nil
}

func metaField(e expr) (rs.Field, bool) {
	m, ok := e.(*metaExpr)
	if !ok || m.Register != reg {
		return 0, false
	}
	for _, f := range []rs.Field{rs.IifName, rs.OifName, rs.NfProto, rs.L4Proto} {
		if k, _ := metaKey(f); k == m.Key {
			return f, true
		}
	}
	return 0, false
}

// match decodes the match at the start of x, returning how many
// expressions it took; 0 if x does not start with a match.
func (d *decoder) match(x []expr) (rs.Match, int, error) {
	var m rs.Match
	i := 0
	// A header field's protocol: meta l4proto or nfproto, then the
	// field's payload.
	var dep rs.Field
	var depValue byte
	if len(x) >= 3 {
		c, isCmp := x[1].(*cmpExpr)
		_, isPayload := x[2].(*payloadExpr)
		if f, ok := metaField(x[0]); ok && (f == rs.L4Proto || f == rs.NfProto) && isCmp && isPayload &&
			c.Op == unix.NFT_CMP_EQ && c.Register == reg && len(c.Data) == 1 {
			dep, depValue, i = f, c.Data[0], 2
		}
	}
	switch e := x[i].(type) {
	case *metaExpr:
		f, ok := metaField(e)
		if !ok {
			return m, 0, unknown(x[:1])
		}
		m.Field = f
	case *ctExpr:
		if e.Register == reg {
			switch e.Key {
			case unix.NFT_CT_STATE:
				m.Field = rs.CtState
			case unix.NFT_CT_STATUS:
				m.Field = rs.CtStatus
			}
		}
		if m.Field == 0 {
			return m, 0, unknown(x[:1])
		}
	case *fibExpr:
		m.Field = rs.Fib
		flags := e.Flags
		for _, ff := range fibFlags {
			if flags&ff.flag != 0 {
				m.Fib |= ff.fib
				flags &^= ff.flag
			}
		}
		// Not PRESENT, MARK or OIF.
		if e.Register != reg || e.Result != unix.NFT_FIB_RESULT_OIF || flags != 0 {
			return m, 0, unknown(x[:1])
		}
	case *payloadExpr:
		if e.Register == reg {
			for f := rs.Field(1); f < rs.NumFields; f++ {
				base, off, ok := payload(f)
				df, dv, _ := f.Dependency()
				if ok && base == e.Base && off == e.Offset && uint32(f.Size()) == e.Len && df == dep && dv == depValue {
					m.Field = f
				}
			}
		}
		if m.Field == 0 {
			return m, 0, unknown(x[:i+1])
		}
	default:
		return m, 0, nil
	}
	i++
	if i == len(x) {
		return m, 0, fmt.Errorf("%s loaded but not compared: %w", m.Field, unknown(x))
	}
	n, ok := d.compare(&m, x[i:])
	if !ok {
		return m, 0, unknown(x[:min(i+2, len(x))])
	}
	return m, i + n, nil
}

// compare decodes the comparison of a loaded field, returning how many
// expressions it took.
func (d *decoder) compare(m *rs.Match, x []expr) (int, bool) {
	size := m.Field.Size()
	op := func(o uint32) (rs.Op, bool) {
		switch o {
		case unix.NFT_CMP_EQ:
			return rs.Eq, true
		case unix.NFT_CMP_NEQ:
			return rs.Ne, true
		}
		return 0, false
	}
	zero := func(b []byte, n int) bool { return len(b) == n && bytes.Count(b, []byte{0}) == n }
	var ok bool
	switch c := x[0].(type) {
	case *cmpExpr:
		if c.Register != reg || len(c.Data) != size {
			return 0, false
		}
		if m.Op, ok = op(c.Op); !ok {
			return 0, false
		}
		m.Kind = rs.Value
		switch m.Field {
		case rs.Fib:
			// missing: interface index 0; exists: anything else.
			if !zero(c.Data, 4) {
				return 0, false
			}
			m.Data = []byte{0}
			if m.Op == rs.Ne {
				m.Data = []byte{1}
			}
			m.Op = rs.Eq
		case rs.CtState, rs.CtStatus:
			return 0, false
		default:
			if m.Data, ok = d.value(m.Field, c.Data); !ok {
				return 0, false
			}
		}
		return 1, true
	case *bitwiseExpr:
		if len(x) < 2 || c.SourceRegister != reg || c.DestRegister != reg || int(c.Len) != size || !zero(c.Xor, size) || len(c.Mask) != size {
			return 0, false
		}
		cmp, isCmp := x[1].(*cmpExpr)
		if !isCmp || cmp.Register != reg || len(cmp.Data) != size {
			return 0, false
		}
		if m.Op, ok = op(cmp.Op); !ok {
			return 0, false
		}
		switch m.Field {
		case rs.CtState, rs.CtStatus, rs.TCPFlags:
			// Any of the bits: (reg & mask) != 0.
			if !zero(cmp.Data, size) {
				return 0, false
			}
			if m.Op == rs.Eq {
				m.Op = rs.Ne
			} else {
				m.Op = rs.Eq
			}
			m.Kind, m.Data = rs.Flags, c.Mask
			if size == 4 {
				m.Data = binary.BigEndian.AppendUint32(nil, d.order.Uint32(c.Mask))
			}
			return 2, true
		case rs.IPSaddr, rs.IPDaddr, rs.IP6Saddr, rs.IP6Daddr:
			bits := 0
			for bits < 8*size && c.Mask[bits/8]&(0x80>>(bits%8)) != 0 {
				bits++
			}
			if !bytes.Equal(c.Mask, prefixMask(size, bits)) {
				return 0, false
			}
			m.Kind, m.Data, m.Bits = rs.Prefix, cmp.Data, bits
			return 2, true
		}
	case *rangeExpr:
		if c.Register != reg || len(c.From) != size || len(c.To) != size || size != 2 {
			return 0, false
		}
		if m.Op, ok = op(c.Op); !ok {
			return 0, false
		}
		m.Kind, m.Data, m.End = rs.Range, c.From, c.To
		return 1, true
	case *lookupExpr:
		if c.Register != reg || c.Map {
			return 0, false
		}
		if c.Invert {
			m.Op = rs.Ne
		}
		if !strings.HasPrefix(c.SetName, "__set") {
			m.Kind, m.Set = rs.SetRef, c.SetName
			return 1, true
		}
		elems, err := d.elems(c.SetName)
		if err != nil {
			return 0, false
		}
		m.Kind = rs.List
		for _, e := range elems {
			v, ok := d.value(m.Field, e)
			if !ok {
				return 0, false
			}
			m.Elems = append(m.Elems, v)
		}
		// Sorted, as the parser has them (a set's few elements).
		for i := 1; i < len(m.Elems); i++ {
			for j := i; j > 0 && bytes.Compare(m.Elems[j], m.Elems[j-1]) < 0; j-- {
				m.Elems[j], m.Elems[j-1] = m.Elems[j-1], m.Elems[j]
			}
		}
		return 1, true
	}
	return 0, false
}

// value decodes a value of the field as the kernel compares it.
func (d *decoder) value(f rs.Field, b []byte) ([]byte, bool) {
	if len(b) != f.Size() {
		return nil, false
	}
	switch f {
	case rs.IifName, rs.OifName:
		n := bytes.IndexByte(b, 0)
		if n <= 0 || bytes.Count(b[n:], []byte{0}) != len(b)-n {
			return nil, false
		}
		return b[:n:n], true
	case rs.CtState, rs.CtStatus:
		return nil, false
	}
	return b, true
}

// stmt decodes the final statement at the start of x, returning how many
// expressions it took (0: none).
func (d *decoder) stmt(x []expr) (rs.Stmt, int) {
	switch e := x[0].(type) {
	case *verdictExpr:
		for _, v := range verdicts {
			if v.code == e.Code && (e.Chain != "") == (v.stmt == rs.Jump || v.stmt == rs.Goto) {
				return rs.Stmt{Kind: v.stmt, Chain: e.Chain}, 1
			}
		}
	case *rejectExpr:
		switch {
		case e.Type == unix.NFT_REJECT_TCP_RST:
			return rs.Stmt{Kind: rs.Reject, TCPReset: true}, 1
		case e.Type == unix.NFT_REJECT_ICMPX_UNREACH && e.Code <= rs.RejectAdminProhibited:
			return rs.Stmt{Kind: rs.Reject, Code: e.Code}, 1
		}
	case *masqExpr:
		if e.Flags == 0 && e.ProtoMin == 0 {
			return rs.Stmt{Kind: rs.Masquerade}, 1
		}
	case *rtExpr:
		if isClampMSS(x) {
			return rs.Stmt{Kind: rs.ClampMSS}, len(clampMSS)
		}
	case *immediateExpr:
		return d.nat(x)
	}
	return rs.Stmt{}, 0
}

// nat decodes "immediate address [immediate port] nat". The kernel reads
// back the maximum registers equal to the minimum ones, and a flag for the
// address (MAP_IPS); those are what the encoder meant.
func (d *decoder) nat(x []expr) (rs.Stmt, int) {
	addr, ok := x[0].(*immediateExpr)
	if !ok || addr.Register != reg || len(addr.Data) != 4 || len(x) < 2 {
		return rs.Stmt{}, 0
	}
	s := rs.Stmt{Addr: [4]byte(addr.Data)}
	i := 1
	if port, ok := x[1].(*immediateExpr); ok {
		if port.Register != reg+1 || len(port.Data) != 2 || len(x) < 3 {
			return rs.Stmt{}, 0
		}
		s.Port = binary.BigEndian.Uint16(port.Data)
		i++
	}
	nat, ok := x[i].(*natExpr)
	if !ok || nat.Family != unix.NFPROTO_IPV4 || nat.AddrMin != reg || (nat.AddrMax != 0 && nat.AddrMax != reg) ||
		nat.Flags&^(unix.NF_NAT_RANGE_MAP_IPS|unix.NF_NAT_RANGE_PROTO_SPECIFIED) != 0 {
		return rs.Stmt{}, 0
	}
	if s.Port != 0 && (nat.ProtoMin != reg+1 || (nat.ProtoMax != 0 && nat.ProtoMax != reg+1)) ||
		s.Port == 0 && (nat.ProtoMin != 0 || nat.ProtoMax != 0) {
		return rs.Stmt{}, 0
	}
	switch nat.Type {
	case unix.NFT_NAT_DNAT:
		s.Kind = rs.DNAT
	case unix.NFT_NAT_SNAT:
		s.Kind = rs.SNAT
	default:
		return rs.Stmt{}, 0
	}
	return s, i + 1
}

// isClampMSS reports whether x starts with the expressions of clampMSS.
func isClampMSS(x []expr) bool {
	if len(x) < len(clampMSS) {
		return false
	}
	for i, want := range clampMSS {
		var same bool
		switch w := want.(type) {
		case *rtExpr:
			g, ok := x[i].(*rtExpr)
			same = ok && *g == *w
		case *byteorderExpr:
			g, ok := x[i].(*byteorderExpr)
			same = ok && *g == *w
		case *exthdrWriteExpr:
			g, ok := x[i].(*exthdrWriteExpr)
			same = ok && *g == *w
		}
		if !same {
			return false
		}
	}
	return true
}
