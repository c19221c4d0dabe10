package ruleset

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// An Error is what is wrong with a ruleset, and where: a set, a chain, or a
// rule of a chain.
type Error struct {
	Pos   string // "file:line", when the ruleset was parsed
	Set   string // the set, or ""
	Chain string // the chain, or ""
	Rule  int    // with Chain: the rule's index; -1 for the chain itself
	Msg   string

	index int // of the set or chain in the Ruleset
}

func (e *Error) Error() string {
	switch {
	case e.Pos != "":
		return e.Pos + ": " + e.Msg
	case e.Set != "":
		return "set " + e.Set + ": " + e.Msg
	case e.Chain != "" && e.Rule >= 0:
		return "chain " + e.Chain + ", rule " + strconv.Itoa(e.Rule+1) + ": " + e.Msg
	case e.Chain != "":
		return "chain " + e.Chain + ": " + e.Msg
	}
	return e.Msg
}

// Validate checks what the kernel would refuse, or what would not mean
// what it says: names, references to sets and chains, statements in the
// wrong kind of chain, jumps that loop. The error is an *Error. (Values
// are checked where they are made: by the parser, which writes them in
// canonical form.)
func (rs *Ruleset) Validate() error {
	if msg := nameError(rs.Table); msg != "" {
		return &Error{Rule: -1, Msg: fmt.Sprintf("table name %q: %s", rs.Table, msg)}
	}
	sets := map[string]bool{}
	for i, s := range rs.Sets {
		if msg := nameError(s.Name); msg != "" {
			return &Error{Set: s.Name, Rule: -1, index: i, Msg: fmt.Sprintf("set name %q: %s", s.Name, msg)}
		}
		if sets[s.Name] {
			return &Error{Set: s.Name, Rule: -1, index: i, Msg: "want each set declared once, got " + s.Name + " twice"}
		}
		sets[s.Name] = true
	}
	chains := map[string]*Chain{}
	for i := range rs.Chains {
		c := &rs.Chains[i]
		if msg := nameError(c.Name); msg != "" {
			return &Error{Chain: c.Name, Rule: -1, index: i, Msg: fmt.Sprintf("chain name %q: %s", c.Name, msg)}
		}
		if chains[c.Name] != nil {
			return &Error{Chain: c.Name, Rule: -1, index: i, Msg: "want each chain declared once, got " + c.Name + " twice"}
		}
		chains[c.Name] = c
		if msg := c.Hook.check(); msg != "" {
			return &Error{Chain: c.Name, Rule: -1, index: i, Msg: msg}
		}
	}
	for ci, c := range rs.Chains {
		for i, r := range c.Rules {
			if msg := rs.checkRule(c, r, sets, chains); msg != "" {
				return &Error{Chain: c.Name, Rule: i, index: ci, Msg: msg}
			}
		}
	}
	return rs.checkLoops(chains)
}

// isWord reports whether s is one of the space-separated words.
func isWord(s, words string) bool {
	return s != "" && !strings.Contains(s, " ") && strings.Contains(" "+words+" ", " "+s+" ")
}

func (h *Hook) check() string {
	if h == nil {
		return ""
	}
	switch {
	case h.Type != "filter" && h.Type != "nat":
		return fmt.Sprintf("want chain type filter or nat, got %q", h.Type)
	case !isWord(h.Hook, "prerouting input forward output postrouting"):
		return fmt.Sprintf("want hook prerouting, input, forward, output or postrouting, got %q", h.Hook)
	case h.Type == "nat" && h.Hook == "forward":
		return "want a nat chain at prerouting, input, output or postrouting, got hook forward"
	case h.Policy != "accept" && h.Policy != "drop":
		return fmt.Sprintf("want policy accept or drop, got %q", h.Policy)
	case h.Type == "nat" && h.Policy != "accept":
		return "want policy accept in a nat chain (it translates, it does not filter), got " + h.Policy
	}
	return ""
}

func names[T any](m map[string]T) string {
	var ns []string
	for n := range m {
		ns = append(ns, n)
	}
	if len(ns) == 0 {
		return "none declared"
	}
	slices.Sort(ns)
	return strings.Join(ns, ", ")
}

func (rs *Ruleset) checkRule(c Chain, r Rule, sets map[string]bool, chains map[string]*Chain) string {
	var hook, typ string
	if c.Hook != nil {
		hook, typ = c.Hook.Hook, c.Hook.Type
	}
	tcp, transport := false, false // what the rule has matched so far
	for _, m := range r.Matches {
		if m.Kind == SetRef && !sets[m.Set] {
			return fmt.Sprintf("unknown set %s: want one of %s", m.Set, names(sets))
		}
		if m.Field == Fib && hook != "" && !isWord(hook, "prerouting input forward") {
			return "fib in a chain at hook " + hook + ": want prerouting, input or forward"
		}
		if m.Op == Eq {
			switch {
			case m.Field == TCPSport || m.Field == TCPDport || m.Field == TCPFlags:
				tcp, transport = true, true
			case m.Field == UDPSport || m.Field == UDPDport:
				transport = true
			case m.Field == L4Proto && m.Kind == Value && string(m.Data) == "\x06":
				tcp, transport = true, true
			case m.Field == L4Proto && m.Kind == Value && string(m.Data) == "\x11":
				transport = true
			}
		}
	}
	if l := r.Limit; l != nil && (l.Rate == 0 || l.Burst == 0 || !isWord(l.Unit, "second minute hour day")) {
		return "want limit rate N/second, N/minute, N/hour or N/day with N and the burst at least 1"
	}
	s := r.Stmt
	switch s.Kind {
	case Jump, Goto:
		t := chains[s.Chain]
		if t == nil || t.Hook != nil {
			var regular []string
			for _, c := range rs.Chains {
				if c.Hook == nil {
					regular = append(regular, c.Name)
				}
			}
			if regular == nil {
				regular = []string{"none declared"}
			}
			what := "unknown"
			if t != nil {
				what = "base"
			}
			return fmt.Sprintf("%s to %s chain %s: want a regular chain: %s", s.String()[:4] /* jump or goto */, what, s.Chain, strings.Join(regular, ", "))
		}
	case Masquerade, SNAT, DNAT:
		kw, hooks := "masquerade", "postrouting"
		switch s.Kind {
		case SNAT:
			kw, hooks = "snat", "postrouting or input"
		case DNAT:
			kw, hooks = "dnat", "prerouting or output"
		}
		if typ != "nat" || !isWord(hook, hooks) {
			return fmt.Sprintf("%s in chain %s: want a nat base chain at hook %s", kw, c.Name, hooks)
		}
		if s.Port != 0 && !transport {
			return kw + " to a port: want a tcp or udp match first (meta l4proto tcp, udp dport ...)"
		}
	case ClampMSS:
		// nft_exthdr writes only in filter chains; the MSS of a SYN
		// matters where it is forwarded or leaves.
		if typ == "nat" || (hook != "" && !isWord(hook, "forward output postrouting")) {
			return "tcp option maxseg size set rt mtu in chain " + c.Name + ": want a filter chain at forward, output or postrouting"
		}
		if !tcp {
			return "tcp option maxseg size set rt mtu: want a tcp match first (tcp flags syn)"
		}
	case Reject:
		if typ == "nat" || hook == "postrouting" {
			return "reject in chain " + c.Name + ": want a filter chain at prerouting, input, forward or output"
		}
		if s.TCPReset && !tcp {
			return "reject with tcp reset: want a tcp match first (meta l4proto tcp, tcp dport ...)"
		}
		if s.Code > RejectAdminProhibited {
			return "reject: want an icmpx code: " + symbolNames(rejectCodes)
		}
	case None, Accept, Drop, Return:
	default:
		return "unknown statement"
	}
	return ""
}

// checkLoops refuses jumps and gotos that come back to where they started:
// the kernel would refuse the whole ruleset.
func (rs *Ruleset) checkLoops(chains map[string]*Chain) error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	index := map[string]int{}
	for i, c := range rs.Chains {
		index[c.Name] = i
	}
	var visit func(c *Chain, path []string) error
	visit = func(c *Chain, path []string) error {
		state[c.Name] = visiting
		path = append(path, c.Name)
		for i, r := range c.Rules {
			if r.Stmt.Kind != Jump && r.Stmt.Kind != Goto {
				continue
			}
			t := chains[r.Stmt.Chain]
			switch state[t.Name] {
			case visiting:
				return &Error{Chain: c.Name, Rule: i, index: index[c.Name], Msg: "jumps loop: " + strings.Join(append(path, t.Name), " -> ")}
			case unvisited:
				if err := visit(t, path); err != nil {
					return err
				}
			}
		}
		state[c.Name] = done
		return nil
	}
	for i := range rs.Chains {
		if c := &rs.Chains[i]; state[c.Name] == unvisited {
			if err := visit(c, nil); err != nil {
				return err
			}
		}
	}
	return nil
}
