package ruleset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

type tokKind uint8

const (
	tEOF    tokKind = iota
	tEOL            // a newline or ';'
	tWord           // letters, digits and _ . : / -
	tString         // "..."
	tPunct          // { } , @ = !=
)

type token struct {
	kind tokKind
	text string
	line int
}

// String describes the token for "got ..." in errors.
func (t token) String() string {
	switch t.kind {
	case tEOF:
		return "end of file"
	case tEOL:
		if t.text == "\n" {
			return "end of line"
		}
		return "';'"
	case tPunct:
		return "'" + t.text + "'"
	}
	return strconv.Quote(t.text)
}

// A syntaxError is raised (panic) by the parser and returned by Parse.
type syntaxError struct {
	line int
	msg  string
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == ':' || c == '/' || c == '-'
}

func lex(text []byte) ([]token, *syntaxError) {
	var toks []token
	line := 1
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '\n':
			toks = append(toks, token{tEOL, "\n", line})
			line++
			i++
		case c == ';':
			toks = append(toks, token{tEOL, ";", line})
			i++
		case c == '#':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '"':
			j := i + 1
			for j < len(text) && text[j] != '"' && text[j] != '\n' {
				j++
			}
			if j == len(text) || text[j] != '"' {
				return nil, &syntaxError{line, "want a closing '\"' before the end of the line"}
			}
			toks = append(toks, token{tString, string(text[i+1 : j]), line})
			i = j + 1
		case c == '{' || c == '}' || c == ',' || c == '@' || c == '=':
			toks = append(toks, token{tPunct, string(c), line})
			i++
		case c == '!' && i+1 < len(text) && text[i+1] == '=':
			toks = append(toks, token{tPunct, "!=", line})
			i += 2
		case isWordByte(c):
			j := i
			for j < len(text) && isWordByte(text[j]) {
				j++
			}
			toks = append(toks, token{tWord, string(text[i:j]), line})
			i = j
		default:
			return nil, &syntaxError{line, fmt.Sprintf("want a word, a string, '{', '}', ',', '@', '=', '!=' or ';', got %q", c)}
		}
	}
	return append(toks, token{tEOF, "", line}), nil
}

// The parser's little helpers are not inlined (//go:noinline): inlined at
// their hundred calls, they would cost the device's binary 3 KiB.
type parser struct {
	toks []token
	i    int
	// Where things were declared, to put validation errors on their line.
	setLines   []int
	chainLines []int
	ruleLines  [][]int
}

//go:noinline
func (p *parser) peek() token { return p.toks[p.i] }

//go:noinline
func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) fail(t token, format string, args ...any) {
	panic(&syntaxError{t.line, fmt.Sprintf(format, args...) + ", got " + t.String()})
}

// is reports whether the next token is the word or punctuation s.
//
//go:noinline
func (p *parser) is(s string) bool {
	t := p.peek()
	return (t.kind == tWord || t.kind == tPunct) && t.text == s
}

// accept consumes the next token if it is s.
//
//go:noinline
func (p *parser) accept(s string) bool {
	if p.is(s) {
		p.i++
		return true
	}
	return false
}

//go:noinline
func (p *parser) want(s, why string) {
	if !p.accept(s) {
		if why != "" {
			why = " (" + why + ")"
		}
		p.fail(p.peek(), "want %s%s", s, why)
	}
}

//go:noinline
func (p *parser) word(what string) token {
	t := p.next()
	if t.kind != tWord {
		p.fail(t, "want %s", what)
	}
	return t
}

func (p *parser) oneOf(what string, choices ...string) string {
	t := p.next()
	if t.kind == tWord && slices.Contains(choices, t.text) {
		return t.text
	}
	p.fail(t, "want %s: %s", what, strings.Join(choices, ", "))
	return ""
}

// name parses a table, set or chain name.
func (p *parser) name(what string) string {
	t := p.next()
	if t.kind != tWord || nameError(t.text) != "" {
		p.fail(t, "want a %s: a letter, then up to 63 letters, digits, '_' or '-'", what)
	}
	return t.text
}

// ValidName reports whether s can name a table, a set or a chain: a
// letter, then up to 63 letters, digits, '_' or '-'.
func ValidName(s string) bool { return nameError(s) == "" }

func nameError(s string) string {
	if s == "" || len(s) > 64 || !('a' <= s[0] && s[0] <= 'z' || 'A' <= s[0] && s[0] <= 'Z') {
		return "want a letter, then up to 63 letters, digits, '_' or '-'"
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return "want a letter, then up to 63 letters, digits, '_' or '-'"
		}
	}
	return ""
}

//go:noinline
func (p *parser) skipEOL() {
	for p.peek().kind == tEOL {
		p.i++
	}
}

// end consumes the end of a statement: a newline or ';', or nothing
// before '}' or the end of the file.
//
//go:noinline
func (p *parser) end(what string) {
	t := p.peek()
	switch {
	case t.kind == tEOL:
		p.i++
	case t.kind == tEOF || p.is("}"):
	default:
		p.fail(t, "want the end of the %s", what)
	}
}

// Parse parses and validates a ruleset. name (the file's name) prefixes
// the errors: "name:LINE: what was wanted, got what".
func Parse(name string, text []byte) (rs *Ruleset, err error) {
	toks, serr := lex(text)
	if serr != nil {
		return nil, fmt.Errorf("%s:%d: %s", name, serr.line, serr.msg)
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			rs, err = nil, fmt.Errorf("%s:%d: %s", name, se.line, se.msg)
		}
	}()
	rs = p.file()
	if err := rs.Validate(); err != nil {
		e := err.(*Error)
		e.Pos = fmt.Sprintf("%s:%d", name, p.line(e))
		return nil, e
	}
	return rs, nil
}

// line finds where the subject of a validation error was declared.
func (p *parser) line(e *Error) int {
	switch {
	case e.Set != "" && e.index < len(p.setLines):
		return p.setLines[e.index]
	case e.Chain != "" && e.index < len(p.chainLines):
		if lines := p.ruleLines[e.index]; e.Rule >= 0 && e.Rule < len(lines) {
			return lines[e.Rule]
		}
		return p.chainLines[e.index]
	}
	return 1
}

// ParseRule parses one rule, as written in a chain, without validating
// it (that needs the ruleset it is in: see Validate).
func ParseRule(text string) (r Rule, err error) {
	if strings.ContainsAny(text, "\n;") {
		return Rule{}, fmt.Errorf("want one rule, without newlines or ';', got %q", text)
	}
	toks, serr := lex([]byte(text))
	if serr != nil {
		return Rule{}, errors.New(serr.msg)
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*syntaxError)
			if !ok {
				panic(r)
			}
			err = errors.New(se.msg)
		}
	}()
	if p.peek().kind == tEOF {
		p.fail(p.peek(), "want a rule")
	}
	r = p.rule()
	if t := p.peek(); t.kind != tEOF {
		p.fail(t, "want the end of the rule")
	}
	return r, nil
}

func (p *parser) file() *Ruleset {
	p.skipEOL()
	p.want("table", "")
	p.want("inet", "the table's family: only inet is supported")
	rs := &Ruleset{Table: p.name("table name")}
	p.want("{", "")
	for {
		p.skipEOL()
		t := p.peek()
		switch {
		case p.accept("}"):
			p.skipEOL()
			if t := p.peek(); t.kind != tEOF {
				p.fail(t, "want the end of the file (one table per file)")
			}
			return rs
		case p.is("set"):
			p.setLines = append(p.setLines, t.line)
			rs.Sets = append(rs.Sets, p.set())
		case p.is("chain"):
			p.chainLines = append(p.chainLines, t.line)
			p.ruleLines = append(p.ruleLines, nil)
			rs.Chains = append(rs.Chains, p.chain())
		default:
			p.fail(t, "want set, chain or '}'")
		}
	}
}

func (p *parser) set() Set {
	p.next()
	s := Set{Name: p.name("set name")}
	p.want("{", "")
	p.skipEOL()
	p.want("type", "")
	p.want("ifname", "the only type of set: interface names")
	p.skipEOL()
	p.want("}", "sets are declared empty, with their type only")
	p.end("set")
	return s
}

func (p *parser) chain() Chain {
	p.next()
	c := Chain{Name: p.name("chain name")}
	lines := &p.ruleLines[len(p.ruleLines)-1]
	p.want("{", "")
	for {
		p.skipEOL()
		t := p.peek()
		switch {
		case p.accept("}"):
			p.end("chain")
			if c.Hook != nil && c.Hook.Policy == "" {
				c.Hook.Policy = "accept" // as in nft
			}
			return c
		case p.is("type"):
			if c.Hook != nil || len(c.Rules) > 0 {
				p.fail(t, "want the chain's type, hook and priority first, once")
			}
			c.Hook = p.hook()
		case p.is("policy"):
			p.next()
			if c.Hook == nil || c.Hook.Policy != "" || len(c.Rules) > 0 {
				p.fail(t, "want policy once, after the type, hook and priority of a base chain")
			}
			c.Hook.Policy = p.oneOf("a policy", "accept", "drop")
			p.end("policy")
		default:
			*lines = append(*lines, t.line)
			c.Rules = append(c.Rules, p.rule())
		}
	}
}

// Standard priorities of the inet family, by name (nft's names).
var priorities = []struct {
	name  string
	value int32
}{
	{"raw", -300}, {"mangle", -150}, {"dstnat", -100}, {"filter", 0}, {"security", 50}, {"srcnat", 100},
}

// priorityName returns nft's name of a priority at a hook, if it has one.
func priorityName(v int32, hook string) (string, bool) {
	for _, p := range priorities {
		if p.value == v && priorityNameOK(p.name, hook) {
			return p.name, true
		}
	}
	return "", false
}

// nft only knows dstnat at prerouting and output, srcnat at postrouting
// and input.
func priorityNameOK(name, hook string) bool {
	switch name {
	case "dstnat":
		return hook == "prerouting" || hook == "output"
	case "srcnat":
		return hook == "postrouting" || hook == "input"
	}
	return true
}

func (p *parser) hook() *Hook {
	p.next()
	h := &Hook{}
	h.Type = p.oneOf("a chain type", "filter", "nat")
	p.want("hook", "")
	h.Hook = p.oneOf("a hook", "prerouting", "input", "forward", "output", "postrouting")
	p.want("priority", "")
	t := p.word("a priority: a number or raw, mangle, dstnat, filter, security, srcnat")
	if n, err := strconv.ParseInt(t.text, 10, 32); err == nil {
		h.Priority = int32(n)
	} else {
		found := false
		for _, pr := range priorities {
			if pr.name == t.text {
				if !priorityNameOK(pr.name, h.Hook) {
					p.fail(t, "want a priority valid at hook %s (dstnat: prerouting, output; srcnat: postrouting, input)", h.Hook)
				}
				h.Priority, found = pr.value, true
			}
		}
		if !found {
			p.fail(t, "want a priority: a number or raw, mangle, dstnat, filter, security, srcnat")
		}
	}
	p.end("chain's type, hook and priority")
	return h
}

// matchStart reports whether the next token starts a match.
func (p *parser) matchStart() bool {
	t := p.peek()
	if t.kind != tWord {
		return false
	}
	switch t.text {
	case "tcp":
		// "tcp option ..." is a statement.
		return p.i+1 >= len(p.toks) || p.toks[p.i+1].text != "option"
	case "ct", "meta", "iifname", "oifname", "udp", "icmp", "icmpv6", "ip", "ip6", "fib":
		return true
	}
	return false
}

func (p *parser) rule() Rule {
	var r Rule
	for p.matchStart() {
		r.Matches = append(r.Matches, p.match())
	}
	if p.is("limit") {
		r.Limit = p.limit()
	}
	if p.accept("counter") {
		r.Counter = true
		if p.accept("packets") {
			p.number("a packet count", 64)
			p.want("bytes", "")
			p.number("a byte count", 64)
		}
	}
	if t := p.peek(); t.kind == tWord {
		r.Stmt = p.stmt()
	}
	if len(r.Matches) == 0 && r.Limit == nil && !r.Counter && r.Stmt.Kind == None {
		p.fail(p.peek(), "want a match (ct, meta, iifname, oifname, tcp, udp, icmp, icmpv6, ip, ip6, fib) or a statement (limit, counter, accept, drop, return, jump, goto, reject, masquerade, dnat, snat)")
	}
	p.end("rule")
	return r
}

func (p *parser) number(what string, bits int) uint64 {
	t := p.word(what)
	n, err := strconv.ParseUint(t.text, 10, bits)
	if err != nil {
		p.fail(t, "want %s", what)
	}
	return n
}

func (p *parser) match() Match {
	t := p.next()
	var f Field
	switch t.text {
	case "iifname":
		f = IifName
	case "oifname":
		f = OifName
	case "fib":
		return p.fib()
	default:
		// Two words: "tcp dport"; "meta iifname" is iifname.
		w := p.next()
		name := t.text + " " + w.text
		var choices []string
		for g, fi := range fields {
			if prefix, second, _ := strings.Cut(fi.name, " "); prefix == t.text {
				choices = append(choices, second)
				if fi.name == name && w.kind == tWord {
					f = Field(g)
				}
			} else if t.text == "meta" && second == "" && fi.name != "fib" && fi.name != "" {
				choices = append(choices, prefix)
				if prefix == w.text && w.kind == tWord {
					f = Field(g)
				}
			}
		}
		if f == 0 {
			slices.Sort(choices)
			p.fail(w, "want a field of %s: %s", t.text, strings.Join(choices, ", "))
		}
	}
	m := Match{Field: f}
	if p.accept("!=") {
		m.Op = Ne
	}
	p.value(&m)
	return m
}

func (p *parser) fib() Match {
	m := Match{Field: Fib, Kind: Value}
	switch p.oneOf("the address fib looks up", "saddr", "daddr") {
	case "saddr":
		m.Fib = FibSaddr
	case "daddr":
		m.Fib = FibDaddr
	}
	for p.accept(".") {
		t := p.peek()
		p.oneOf("what else fib looks up by", "iif")
		if m.Fib&FibIif != 0 {
			p.fail(t, "want iif once")
		}
		m.Fib |= FibIif
	}
	p.want("oif", "the only fib result supported")
	if p.oneOf("a fib result test", "missing", "exists") == "missing" {
		m.Data = []byte{0}
	} else {
		m.Data = []byte{1}
	}
	return m
}

// value parses the value of a match after the field and operator.
func (p *parser) value(m *Match) {
	fi := m.Field.info()
	switch {
	case fi.dt == dtFlags:
		var mask uint32
		for {
			t := p.word("a " + fi.name + " flag: " + symbolNames(fi.symbols))
			v, ok := symbolValue(fi.symbols, t.text)
			if !ok {
				p.fail(t, "want a %s flag: %s", fi.name, symbolNames(fi.symbols))
			}
			mask |= v
			if !p.accept(",") {
				break
			}
		}
		m.Kind, m.Data = Flags, binary.BigEndian.AppendUint32(nil, mask)
		if fi.size == 1 {
			m.Data = []byte{byte(mask)}
		}
	case p.is("@"):
		t := p.next()
		if fi.dt != dtIfname {
			p.fail(t, "want a value of %s (only interface names have named sets)", fi.name)
		}
		m.Kind, m.Set = SetRef, p.name("set name")
	case p.is("{"):
		p.list(m, fi)
	default:
		p.single(m, fi)
	}
}

func (p *parser) valueToken(fi fieldInfo) token {
	t := p.next()
	if t.kind == tWord || t.kind == tString && fi.dt == dtIfname {
		return t
	}
	p.fail(t, "want a value of %s", fi.name)
	return t
}

func (p *parser) single(m *Match, fi fieldInfo) {
	t := p.valueToken(fi)
	switch {
	case fi.dt == dtPort && strings.Contains(t.text, "-"):
		lo, hi, _ := strings.Cut(t.text, "-")
		a, msg := fi.parseValue(lo)
		b, msg2 := fi.parseValue(hi)
		if msg != "" || msg2 != "" || string(a) > string(b) {
			p.fail(t, "want a port range FIRST-LAST, ports from 1 to 65535, FIRST not above LAST")
		}
		if string(a) == string(b) {
			m.Kind, m.Data = Value, a
			return
		}
		m.Kind, m.Data, m.End = Range, a, b
	case (fi.dt == dtIPv4 || fi.dt == dtIPv6) && strings.Contains(t.text, "/"):
		a, b, _ := strings.Cut(t.text, "/")
		addr, ok := parseAddr(a)
		bits, err := strconv.Atoi(b)
		if !ok || len(addr) != fi.size || err != nil || bits < 0 || bits > 8*fi.size || b[0] == '+' || len(b) > 1 && b[0] == '0' {
			v := "IPv4"
			if fi.dt == dtIPv6 {
				v = "IPv6"
			}
			p.fail(t, "want an %s prefix ADDRESS/BITS", v)
		}
		if bits == 0 {
			p.fail(t, "want a prefix of 1 bit or more (/0 matches everything)")
		}
		if net := masked(addr, bits); string(net) != string(addr) {
			p.fail(t, "want a prefix without host bits (%s/%d)", formatAddr(net), bits)
		}
		if bits == 8*fi.size {
			m.Kind, m.Data = Value, addr
			return
		}
		m.Kind, m.Data, m.Bits = Prefix, addr, bits
	default:
		b, msg := fi.parseValue(t.text)
		if msg != "" {
			p.fail(t, "%s", msg)
		}
		m.Kind, m.Data = Value, b
	}
}

func (p *parser) list(m *Match, fi fieldInfo) {
	p.next()
	for {
		p.skipEOL()
		t := p.valueToken(fi)
		b, msg := fi.parseValue(t.text)
		if msg != "" {
			p.fail(t, "%s (sets hold single values: no ranges or prefixes)", msg)
		}
		for _, e := range m.Elems {
			if string(e) == string(b) {
				p.fail(t, "want each element once")
			}
		}
		m.Elems = append(m.Elems, b)
		p.skipEOL()
		if p.accept("}") {
			break
		}
		if !p.accept(",") {
			p.fail(p.peek(), "want ',' or '}'")
		}
	}
	if len(m.Elems) == 1 {
		m.Kind, m.Data, m.Elems = Value, m.Elems[0], nil
		return
	}
	sortBytes(m.Elems)
	m.Kind = List
}

// sortBytes sorts values (a few elements of a set).
func sortBytes(v [][]byte) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && string(v[j]) < string(v[j-1]); j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

var limitUnits = []string{"second", "minute", "hour", "day"}

func (p *parser) limit() *Limit {
	p.next()
	p.want("rate", "")
	l := &Limit{Burst: DefaultBurst}
	l.Over = p.accept("over")
	t := p.word("a rate N/second, N/minute, N/hour or N/day")
	n, unit, _ := strings.Cut(t.text, "/")
	rate, err := strconv.ParseUint(n, 10, 64)
	if err != nil || rate == 0 || !slices.Contains(limitUnits, unit) {
		p.fail(t, "want a rate N/second, N/minute, N/hour or N/day, N at least 1")
	}
	l.Rate, l.Unit = rate, unit
	if p.accept("burst") {
		b := p.number("a burst: a number of packets from 1", 32)
		if b == 0 {
			p.fail(p.toks[p.i-1], "want a burst: a number of packets from 1")
		}
		l.Burst = uint32(b)
		p.want("packets", "bursts are counted in packets")
	}
	return l
}

var rejectCodes = []symbol{
	{"no-route", RejectNoRoute}, {"port-unreachable", RejectPortUnreachable},
	{"host-unreachable", RejectHostUnreachable}, {"admin-prohibited", RejectAdminProhibited},
}

func (p *parser) stmt() Stmt {
	t := p.next()
	switch t.text {
	case "accept":
		return Stmt{Kind: Accept}
	case "drop":
		return Stmt{Kind: Drop}
	case "return":
		return Stmt{Kind: Return}
	case "jump":
		return Stmt{Kind: Jump, Chain: p.name("chain name")}
	case "goto":
		return Stmt{Kind: Goto, Chain: p.name("chain name")}
	case "masquerade":
		return Stmt{Kind: Masquerade}
	case "tcp":
		for _, w := range []string{"option", "maxseg", "size", "set", "rt", "mtu"} {
			p.want(w, "the one tcp option statement is: tcp option maxseg size set rt mtu")
		}
		return Stmt{Kind: ClampMSS}
	case "reject":
		s := Stmt{Kind: Reject, Code: RejectPortUnreachable}
		if !p.accept("with") {
			return s
		}
		if p.oneOf("what to reject with", "tcp", "icmpx") == "tcp" {
			p.want("reset", "")
			s.TCPReset, s.Code = true, 0
			return s
		}
		p.accept("type")
		c := p.word("an icmpx code: " + symbolNames(rejectCodes))
		v, ok := symbolValue(rejectCodes, c.text)
		if !ok {
			p.fail(c, "want an icmpx code: %s", symbolNames(rejectCodes))
		}
		s.Code = uint8(v)
		return s
	case "dnat", "snat":
		s := Stmt{Kind: DNAT}
		if t.text == "snat" {
			s.Kind = SNAT
		}
		p.want("ip", "only IPv4 is translated: "+t.text+" ip to ADDRESS[:PORT]")
		p.want("to", "")
		a := p.word("ADDRESS or ADDRESS:PORT")
		addr, port, hasPort := strings.Cut(a.text, ":")
		ip, ok := parseIPv4(addr)
		if !ok {
			p.fail(a, "want an IPv4 ADDRESS or ADDRESS:PORT")
		}
		s.Addr = [4]byte(ip)
		if hasPort {
			n, err := strconv.ParseUint(port, 10, 16)
			if err != nil || n == 0 {
				p.fail(a, "want ADDRESS:PORT with a port from 1 to 65535")
			}
			s.Port = uint16(n)
		}
		return s
	}
	p.fail(t, "want a match or a statement (limit, counter, accept, drop, return, jump, goto, reject, masquerade, dnat, snat)")
	return Stmt{}
}
