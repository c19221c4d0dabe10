package nft

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

// Verdicts of a base chain's policy (linux/netfilter.h).
const (
	nfDrop   = 0
	nfAccept = 1
)

var hooks = [...]string{
	unix.NF_INET_PRE_ROUTING:  "prerouting",
	unix.NF_INET_LOCAL_IN:     "input",
	unix.NF_INET_FORWARD:      "forward",
	unix.NF_INET_LOCAL_OUT:    "output",
	unix.NF_INET_POST_ROUTING: "postrouting",
}

func hookNum(name string) uint32 {
	for i, h := range hooks {
		if h == name {
			return uint32(i)
		}
	}
	return 0
}

// Load replaces the ruleset's table in the kernel with it, its sets holding
// the interface names of elems (set name -> names), in one transaction: if
// the kernel refuses any part of it, the table it had stays as it was.
func Load(r *rs.Ruleset, elems map[string][]string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	msgs, err := loadMessages(r, elems, binary.NativeEndian)
	if err != nil {
		return err
	}
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.close()
	return c.transact(msgs)
}

// loadMessages returns the transaction of Load: add the table (so that
// deleting it cannot fail), delete it, then add it with its sets, chains
// and rules.
func loadMessages(r *rs.Ruleset, elems map[string][]string, order binary.ByteOrder) ([]message, error) {
	var tbl attrs
	tbl.str(unix.NFTA_TABLE_NAME, r.Table)
	what := "table " + r.Table
	msgs := []message{
		{unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, tbl, what},
		{unix.NFT_MSG_DELTABLE, 0, tbl, what},
		{unix.NFT_MSG_NEWTABLE, unix.NLM_F_CREATE, tbl, what},
	}
	e := newEncoder(order)
	for _, s := range r.Sets {
		set := e.namedSet(s.Name)
		for _, n := range elems[s.Name] {
			set.elems = append(set.elems, ifname([]byte(n)))
		}
		msgs = addSet(msgs, r.Table, set)
	}
	// All chains first: rules jump to chains declared after them.
	for _, c := range r.Chains {
		var a attrs
		a.str(unix.NFTA_CHAIN_TABLE, r.Table)
		a.str(unix.NFTA_CHAIN_NAME, c.Name)
		if h := c.Hook; h != nil {
			var hook attrs
			hook.u32(unix.NFTA_HOOK_HOOKNUM, hookNum(h.Hook))
			hook.u32(unix.NFTA_HOOK_PRIORITY, uint32(h.Priority))
			a.nest(unix.NFTA_CHAIN_HOOK, hook)
			policy := uint32(nfAccept)
			if h.Policy == "drop" {
				policy = nfDrop
			}
			a.u32(unix.NFTA_CHAIN_POLICY, policy)
			a.str(unix.NFTA_CHAIN_TYPE, h.Type)
		}
		msgs = append(msgs, message{unix.NFT_MSG_NEWCHAIN, unix.NLM_F_CREATE, a, "chain " + c.Name})
	}
	for _, c := range r.Chains {
		for i, rule := range c.Rules {
			what := "chain " + c.Name + ", rule " + strconv.Itoa(i+1)
			x, sets, err := e.rule(rule)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", what, err)
			}
			for _, s := range sets {
				msgs = addSet(msgs, r.Table, s)
			}
			list := marshalExprs(x)
			var a attrs
			a.str(unix.NFTA_RULE_TABLE, r.Table)
			a.str(unix.NFTA_RULE_CHAIN, c.Name)
			a.nest(unix.NFTA_RULE_EXPRESSIONS, list)
			msgs = append(msgs, message{unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE | unix.NLM_F_APPEND, a, what + " (" + rule.String() + ")"})
		}
	}
	return msgs, nil
}

// addSet appends the messages that add a set and its elements.
func addSet(msgs []message, table string, s *set) []message {
	var a attrs
	a.str(unix.NFTA_SET_TABLE, table)
	a.str(unix.NFTA_SET_NAME, s.name)
	flags := uint32(0)
	if s.anonymous {
		flags = unix.NFT_SET_ANONYMOUS | unix.NFT_SET_CONSTANT
	}
	a.u32(unix.NFTA_SET_FLAGS, flags)
	a.u32(unix.NFTA_SET_KEY_TYPE, s.keyType)
	a.u32(unix.NFTA_SET_KEY_LEN, s.keyLen)
	a.u32(unix.NFTA_SET_ID, s.id)
	if s.anonymous {
		// Its size, as nft gives it, for the kernel to pick the backend.
		var desc attrs
		desc.u32(unix.NFTA_SET_DESC_SIZE, uint32(len(s.elems)))
		a.nest(unix.NFTA_SET_DESC, desc)
	}
	what := "set " + s.name
	msgs = append(msgs, message{unix.NFT_MSG_NEWSET, unix.NLM_F_CREATE, a, what})
	if len(s.elems) > 0 {
		msgs = append(msgs, message{unix.NFT_MSG_NEWSETELEM, unix.NLM_F_CREATE, elementList(table, s, s.elems), what + " elements"})
	}
	return msgs
}

// elementList returns the attributes of a list of a set's elements.
func elementList(table string, s *set, keys [][]byte) attrs {
	var list attrs
	for _, k := range keys {
		var value, elem attrs
		value.add(unix.NFTA_DATA_VALUE, k)
		elem.nest(unix.NFTA_SET_ELEM_KEY, value)
		list.nest(unix.NFTA_LIST_ELEM, elem)
	}
	var a attrs
	a.str(unix.NFTA_SET_ELEM_LIST_TABLE, table)
	a.str(unix.NFTA_SET_ELEM_LIST_SET, s.name)
	if s.id != 0 {
		// The set is added in the same transaction.
		a.u32(unix.NFTA_SET_ELEM_LIST_SET_ID, s.id)
	}
	a.nest(unix.NFTA_SET_ELEM_LIST_ELEMENTS, list)
	return a
}

// Dump reads the table back from the kernel as a Ruleset (its sets
// without their elements: see Zones).
func Dump(table string) (*rs.Ruleset, error) {
	c, err := dial()
	if err != nil {
		return nil, err
	}
	defer c.close()
	// A change while reading (a zone updated) makes the kernel flag the
	// dump; read it again.
	for try := 0; ; try++ {
		r, err := c.dump(table)
		if errors.Is(err, errInterrupted) && try < 10 {
			continue
		}
		return r, err
	}
}

// tableAttr is the attribute naming the table of every kind of object:
// NFTA_TABLE_NAME, NFTA_SET_TABLE, NFTA_SET_ELEM_LIST_TABLE,
// NFTA_CHAIN_TABLE, NFTA_RULE_TABLE.
const tableAttr = 1

// list dumps the objects of a kind (NFT_MSG_GET*) in the table, returning
// each one's attributes; more restricts the dump further (a set's name).
// The kernel does not restrict every kind of dump to a table: list does.
func (c *conn) list(typ uint16, table string, more attrs, what string) ([][]attr, error) {
	var f attrs
	f.str(tableAttr, table)
	replies, err := c.request(message{typ, 0, append(f, more...), ""}, true)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var objs [][]attr
	for _, r := range replies {
		as, err := r.attrs()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if getStr(as, tableAttr) == table {
			objs = append(objs, as)
		}
	}
	return objs, nil
}

// A kset is a set as the kernel lists it.
type kset struct {
	name    string
	flags   uint32
	keyType uint32
}

func (c *conn) sets(table string) ([]kset, error) {
	objs, err := c.list(unix.NFT_MSG_GETSET, table, nil, "sets of table "+table)
	var sets []kset
	for _, as := range objs {
		s := kset{name: getStr(as, unix.NFTA_SET_NAME)}
		s.flags, _ = getU32(as, unix.NFTA_SET_FLAGS)
		s.keyType, _ = getU32(as, unix.NFTA_SET_KEY_TYPE)
		sets = append(sets, s)
	}
	return sets, err
}

// elements returns the keys of a set's elements.
func (c *conn) elements(table, set string) ([][]byte, error) {
	var name attrs
	name.str(unix.NFTA_SET_ELEM_LIST_SET, set)
	objs, err := c.list(unix.NFT_MSG_GETSETELEM, table, name, "elements of set "+set)
	var keys [][]byte
	for _, as := range objs {
		for _, el := range nested(as, unix.NFTA_SET_ELEM_LIST_ELEMENTS) {
			e, _ := parseAttrs(el.data)
			keys = append(keys, get(nested(e, unix.NFTA_SET_ELEM_KEY), unix.NFTA_DATA_VALUE))
		}
	}
	return keys, err
}

func (c *conn) dump(table string) (*rs.Ruleset, error) {
	var t attrs
	t.str(unix.NFTA_TABLE_NAME, table)
	if _, err := c.request(message{unix.NFT_MSG_GETTABLE, 0, t, ""}, false); err != nil {
		return nil, fmt.Errorf("table inet %s: %w", table, err)
	}
	sets, err := c.sets(table)
	if err != nil {
		return nil, err
	}
	r := &rs.Ruleset{Table: table}
	for _, s := range sets {
		if s.flags&unix.NFT_SET_ANONYMOUS != 0 {
			continue
		}
		if s.keyType != setType(rs.IifName) || s.flags != 0 {
			return nil, fmt.Errorf("set %s: want a plain set of interface names, got key type %d, flags %#x", s.name, s.keyType, s.flags)
		}
		r.Sets = append(r.Sets, rs.Set{Name: s.name})
	}

	chains, err := c.list(unix.NFT_MSG_GETCHAIN, table, nil, "chains of table "+table)
	if err != nil {
		return nil, err
	}
	for _, as := range chains {
		ch := rs.Chain{Name: getStr(as, unix.NFTA_CHAIN_NAME)}
		if hook := nested(as, unix.NFTA_CHAIN_HOOK); hook != nil {
			num, _ := getU32(hook, unix.NFTA_HOOK_HOOKNUM)
			prio, _ := getU32(hook, unix.NFTA_HOOK_PRIORITY)
			policy, hasPolicy := getU32(as, unix.NFTA_CHAIN_POLICY)
			ch.Hook = &rs.Hook{Type: getStr(as, unix.NFTA_CHAIN_TYPE), Priority: int32(prio), Policy: "accept"}
			if num < uint32(len(hooks)) {
				ch.Hook.Hook = hooks[num]
			}
			if hasPolicy && policy == nfDrop {
				ch.Hook.Policy = "drop"
			}
		}
		r.Chains = append(r.Chains, ch)
	}

	// The rules of the whole table, in chain order.
	rules, err := c.list(unix.NFT_MSG_GETRULE, table, nil, "rules of table "+table)
	if err != nil {
		return nil, err
	}
	d := &decoder{order: binary.NativeEndian, elems: func(set string) ([][]byte, error) { return c.elements(table, set) }}
	for _, as := range rules {
		name := getStr(as, unix.NFTA_RULE_CHAIN)
		i := 0
		for i < len(r.Chains) && r.Chains[i].Name != name {
			i++
		}
		if i == len(r.Chains) {
			return nil, errors.New("rule of an unknown chain " + name)
		}
		ch := &r.Chains[i]
		x, err := unmarshalExprs(get(as, unix.NFTA_RULE_EXPRESSIONS))
		var rule rs.Rule
		if err == nil {
			rule, err = d.rule(x)
		}
		if err != nil {
			return nil, fmt.Errorf("chain %s, rule %d: %w", name, len(ch.Rules)+1, err)
		}
		ch.Rules = append(ch.Rules, rule)
	}
	// What was read back must read as a ruleset: values in canonical form
	// (the decoder's are) and the references right.
	if _, err := rs.Parse("table "+table+" as read back", r.Format()); err != nil {
		return nil, err
	}
	return r, nil
}

// A Zone is a named set of a table and the interface names in it.
type Zone struct {
	Set     string
	Ifnames []string // sorted
}

// Zones returns the sets of interface names of the table with their
// elements, in the table's order.
func Zones(table string) ([]Zone, error) {
	c, err := dial()
	if err != nil {
		return nil, err
	}
	defer c.close()
	sets, err := c.sets(table)
	if err != nil {
		return nil, err
	}
	var zones []Zone
	for _, s := range sets {
		if s.flags&unix.NFT_SET_ANONYMOUS != 0 || s.keyType != setType(rs.IifName) {
			continue
		}
		keys, err := c.elements(table, s.name)
		if err != nil {
			return nil, err
		}
		z := Zone{Set: s.name}
		for _, k := range keys {
			n, _, _ := bytes.Cut(k, []byte{0})
			z.Ifnames = append(z.Ifnames, string(n))
		}
		sort.Strings(z.Ifnames)
		zones = append(zones, z)
	}
	return zones, nil
}

// SetZone makes the set of the table hold the interface names, and only
// them, in one transaction: no packet sees it empty on the way.
func SetZone(table, set string, ifnames []string) error {
	c, err := dial()
	if err != nil {
		return err
	}
	defer c.close()
	return c.transact(setZoneMessages(table, set, ifnames))
}

func setZoneMessages(table, name string, ifnames []string) []message {
	// Without elements, DELSETELEM flushes the set.
	var flush attrs
	flush.str(unix.NFTA_SET_ELEM_LIST_TABLE, table)
	flush.str(unix.NFTA_SET_ELEM_LIST_SET, name)
	msgs := []message{{unix.NFT_MSG_DELSETELEM, 0, flush, "set " + name}}
	if len(ifnames) > 0 {
		var keys [][]byte
		for _, n := range ifnames {
			keys = append(keys, ifname([]byte(n)))
		}
		a := elementList(table, &set{name: name}, keys)
		msgs = append(msgs, message{unix.NFT_MSG_NEWSETELEM, unix.NLM_F_CREATE, a, "set " + name + ": " + strings.Join(ifnames, " ")})
	}
	return msgs
}
