package ruleset

import (
	"strconv"
	"strings"
)

// Format returns the canonical text of the ruleset: nft syntax, tabs,
// a blank line between sets and chains, values in a fixed form (set
// elements sorted, symbolic names where there are some). Parse(Format(rs))
// equals rs.
func (rs *Ruleset) Format() []byte {
	var b strings.Builder
	b.WriteString("table inet " + rs.Table + " {\n")
	first := true
	sep := func() {
		if !first {
			b.WriteString("\n")
		}
		first = false
	}
	for _, s := range rs.Sets {
		sep()
		b.WriteString("\tset " + s.Name + " {\n\t\ttype ifname\n\t}\n")
	}
	for _, c := range rs.Chains {
		sep()
		b.WriteString("\tchain " + c.Name + " {\n")
		if h := c.Hook; h != nil {
			b.WriteString("\t\t" + h.String() + "\n")
		}
		for _, r := range c.Rules {
			b.WriteString("\t\t" + r.String() + "\n")
		}
		b.WriteString("\t}\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

// String returns the hook line of a base chain.
func (h *Hook) String() string {
	prio, ok := priorityName(h.Priority, h.Hook)
	if !ok {
		prio = strconv.Itoa(int(h.Priority))
	}
	return "type " + h.Type + " hook " + h.Hook + " priority " + prio + "; policy " + h.Policy + ";"
}

// String returns the rule as written in a chain.
func (r Rule) String() string {
	var parts []string
	for _, m := range r.Matches {
		parts = append(parts, m.String())
	}
	if l := r.Limit; l != nil {
		s := "limit rate "
		if l.Over {
			s += "over "
		}
		s += strconv.FormatUint(l.Rate, 10) + "/" + l.Unit
		if l.Burst != DefaultBurst {
			s += " burst " + strconv.FormatUint(uint64(l.Burst), 10) + " packets"
		}
		parts = append(parts, s)
	}
	if r.Counter {
		parts = append(parts, "counter")
	}
	if r.Stmt.Kind != None {
		parts = append(parts, r.Stmt.String())
	}
	return strings.Join(parts, " ")
}

// String returns the match as written in a rule.
func (m Match) String() string {
	fi := m.Field.info()
	if m.Field == Fib {
		s := "fib "
		if m.Fib&FibDaddr != 0 {
			s += "daddr"
		} else {
			s += "saddr"
		}
		if m.Fib&FibIif != 0 {
			s += " . iif"
		}
		return s + " oif " + fi.formatValue(m.Data)
	}
	s := fi.name + " "
	if m.Op == Ne {
		s += "!= "
	}
	switch m.Kind {
	case Flags:
		return s + fi.formatFlags(m.Data)
	case Range:
		return s + fi.formatValue(m.Data) + "-" + fi.formatValue(m.End)
	case Prefix:
		return s + fi.formatValue(m.Data) + "/" + strconv.Itoa(m.Bits)
	case List:
		elems := make([]string, len(m.Elems))
		for i, e := range m.Elems {
			elems[i] = fi.formatValue(e)
		}
		return s + "{ " + strings.Join(elems, ", ") + " }"
	case SetRef:
		return s + "@" + m.Set
	}
	return s + fi.formatValue(m.Data)
}

// String returns the statement as written in a rule.
func (s Stmt) String() string {
	switch s.Kind {
	case Accept:
		return "accept"
	case Drop:
		return "drop"
	case Return:
		return "return"
	case Jump:
		return "jump " + s.Chain
	case Goto:
		return "goto " + s.Chain
	case Masquerade:
		return "masquerade"
	case ClampMSS:
		return "tcp option maxseg size set rt mtu"
	case Reject:
		if s.TCPReset {
			return "reject with tcp reset"
		}
		if s.Code == RejectPortUnreachable {
			return "reject"
		}
		name, ok := symbolName(rejectCodes, uint32(s.Code))
		if !ok {
			name = strconv.Itoa(int(s.Code))
		}
		return "reject with icmpx type " + name
	case DNAT, SNAT:
		kw := "dnat"
		if s.Kind == SNAT {
			kw = "snat"
		}
		to := formatAddr(s.Addr[:])
		if s.Port != 0 {
			to += ":" + strconv.Itoa(int(s.Port))
		}
		return kw + " ip to " + to
	}
	return ""
}
