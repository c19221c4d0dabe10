package nft

import (
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

const gateway = `table inet fw {
	set zone_lan {
		type ifname
	}

	set zone_wan {
		type ifname
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname @zone_lan udp dport { 53, 67 } accept
		jump sub
	}

	chain sub {
		icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
	}

	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname @zone_wan meta nfproto ipv4 masquerade
	}
}
`

// msgType is the NFT_MSG_* of a request (or the batch's begin and end).
func msgType(r reply) uint16 {
	if r.typ>>8 == unix.NFNL_SUBSYS_NFTABLES {
		return r.typ & 0xff
	}
	return r.typ
}

// Load's transaction is one batch: begin, add the table, delete it, add it
// again with the sets (and their elements), chains and rules, end. Its
// rules, read back from the very bytes sent, are the ruleset's.
func TestLoadBatch(t *testing.T) {
	r, err := rs.Parse("fw.nft", []byte(gateway))
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := loadMessages(r, map[string][]string{"zone_lan": {"br-lan", "eth1"}}, binary.BigEndian)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := parseReplies(batch(msgs, 100))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	rules := map[string][]rs.Rule{}
	anon := map[uint32][][]byte{}
	elems := map[string][]string{}
	for i, m := range sent {
		if m.seq != uint32(100+i) || m.flags&unix.NLM_F_REQUEST == 0 {
			t.Errorf("message %d: seq %d, flags %#x", i, m.seq, m.flags)
		}
		as, err := m.attrs()
		if err != nil {
			t.Fatal(err)
		}
		switch msgType(m) {
		case unix.NFNL_MSG_BATCH_BEGIN:
			got = append(got, "begin")
			if m.data[2] != 0 || m.data[3] != unix.NFNL_SUBSYS_NFTABLES {
				t.Errorf("batch begin for subsystem % x", m.data[2:4])
			}
		case unix.NFNL_MSG_BATCH_END:
			got = append(got, "end")
		case unix.NFT_MSG_NEWTABLE:
			got = append(got, "add table "+getStr(as, unix.NFTA_TABLE_NAME))
		case unix.NFT_MSG_DELTABLE:
			got = append(got, "delete table "+getStr(as, unix.NFTA_TABLE_NAME))
		case unix.NFT_MSG_NEWSET:
			flags, _ := getU32(as, unix.NFTA_SET_FLAGS)
			typ, _ := getU32(as, unix.NFTA_SET_KEY_TYPE)
			n, _ := getU32(as, unix.NFTA_SET_KEY_LEN)
			got = append(got, "add set "+getStr(as, unix.NFTA_SET_NAME)+strings.Repeat(" anonymous", int(flags&unix.NFT_SET_ANONYMOUS))+
				" type "+string(rune('0'+typ/10))+string(rune('0'+typ%10))+" len "+string(rune('0'+n/10))+string(rune('0'+n%10)))
		case unix.NFT_MSG_NEWSETELEM:
			set := getStr(as, unix.NFTA_SET_ELEM_LIST_SET)
			id, _ := getU32(as, unix.NFTA_SET_ELEM_LIST_SET_ID)
			got = append(got, "add elements to "+set)
			for _, el := range nested(as, unix.NFTA_SET_ELEM_LIST_ELEMENTS) {
				e, _ := parseAttrs(el.data)
				key := get(nested(e, unix.NFTA_SET_ELEM_KEY), unix.NFTA_DATA_VALUE)
				if set == "__set%d" {
					anon[id] = append(anon[id], key)
				} else {
					elems[set] = append(elems[set], strings.TrimRight(string(key), "\x00"))
				}
			}
		case unix.NFT_MSG_NEWCHAIN:
			got = append(got, "add chain "+getStr(as, unix.NFTA_CHAIN_NAME))
		case unix.NFT_MSG_NEWRULE:
			chain := getStr(as, unix.NFTA_RULE_CHAIN)
			got = append(got, "add rule to "+chain)
			if m.flags&unix.NLM_F_APPEND == 0 {
				t.Errorf("rule of %s not appended", chain)
			}
			x, err := unmarshalExprs(get(as, unix.NFTA_RULE_EXPRESSIONS))
			if err != nil {
				t.Fatal(err)
			}
			// The rule's anonymous set (one at most here), by its ID in
			// the batch: the kernel would name it.
			var id uint32
			for _, e := range x {
				if l, ok := e.(*lookupExpr); ok && l.SetName == "__set%d" {
					id = l.SetID
				}
			}
			d := &decoder{order: binary.BigEndian, elems: func(string) ([][]byte, error) { return anon[id], nil }}
			rule, err := d.rule(x)
			if err != nil {
				t.Fatal(err)
			}
			rules[chain] = append(rules[chain], rule)
		default:
			got = append(got, "unexpected message")
		}
	}
	want := []string{
		"begin",
		"add table fw", "delete table fw", "add table fw",
		"add set zone_lan type 41 len 16", "add elements to zone_lan",
		"add set zone_wan type 41 len 16",
		"add chain input", "add chain sub", "add chain srcnat",
		"add rule to input",
		"add set __set%d anonymous type 13 len 02", "add elements to __set%d", "add rule to input",
		"add rule to input",
		"add set __set%d anonymous type 29 len 01", "add elements to __set%d", "add rule to sub",
		"add rule to srcnat",
		"end",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("batch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"zone_lan": {"br-lan", "eth1"}}, elems); diff != "" {
		t.Errorf("zone elements (-want +got):\n%s", diff)
	}
	for _, c := range r.Chains {
		if diff := cmp.Diff(c.Rules, rules[c.Name]); diff != "" {
			t.Errorf("rules of %s read back from the batch (-want +got):\n%s", c.Name, diff)
		}
	}
}

func TestSetZoneMessages(t *testing.T) {
	msgs := setZoneMessages("fw", "zone_lan", []string{"br-lan", "eth1"})
	if len(msgs) != 2 || msgs[0].typ != unix.NFT_MSG_DELSETELEM || msgs[1].typ != unix.NFT_MSG_NEWSETELEM {
		t.Fatalf("messages %+v, want a flush then the elements", msgs)
	}
	flush, _ := parseAttrs(msgs[0].attrs)
	if getStr(flush, unix.NFTA_SET_ELEM_LIST_TABLE) != "fw" || getStr(flush, unix.NFTA_SET_ELEM_LIST_SET) != "zone_lan" || get(flush, unix.NFTA_SET_ELEM_LIST_ELEMENTS) != nil {
		t.Errorf("flush: %+v", flush)
	}
	add, _ := parseAttrs(msgs[1].attrs)
	var keys []string
	for _, el := range nested(add, unix.NFTA_SET_ELEM_LIST_ELEMENTS) {
		e, _ := parseAttrs(el.data)
		keys = append(keys, string(get(nested(e, unix.NFTA_SET_ELEM_KEY), unix.NFTA_DATA_VALUE)))
	}
	if diff := cmp.Diff([]string{"br-lan\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", "eth1\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"}, keys); diff != "" {
		t.Errorf("elements (-want +got):\n%s", diff)
	}
	if get(add, unix.NFTA_SET_ELEM_LIST_SET_ID) != nil {
		t.Errorf("a set ID for a set that exists")
	}
	if msgs := setZoneMessages("fw", "zone_lan", nil); len(msgs) != 1 {
		t.Errorf("an empty zone: %d messages, want the flush only", len(msgs))
	}
}

// fakeKernel answers a conn over a socket pair.
func fakeKernel(t *testing.T, answer func(reqs []reply) [][]byte) *conn {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &conn{fd: fds[0], buf: make([]byte, 1<<16)}
	done := make(chan struct{})
	t.Cleanup(func() {
		// Closing the conn's end ends the fake's read; only then may its
		// descriptor number be reused.
		c.close()
		<-done
		unix.Close(fds[1])
	})
	go func() {
		defer close(done)
		buf := make([]byte, 1<<16)
		for {
			n, err := unix.Read(fds[1], buf)
			if err != nil || n == 0 {
				return
			}
			reqs, _ := parseReplies(buf[:n])
			for _, d := range answer(reqs) {
				unix.Write(fds[1], d)
			}
		}
	}()
	return c
}

// msg is a netlink message from the kernel.
func msg(typ, flags uint16, seq uint32, payload []byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(16+len(payload)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	return append(b, payload...)
}

// errnoPayload is an error's negative errno, as the kernel writes it.
func errnoPayload(errno unix.Errno) []byte {
	e := -int32(errno)
	return binary.NativeEndian.AppendUint32(nil, uint32(e))
}

func ack(seq uint32, errno unix.Errno) []byte {
	return msg(unix.NLMSG_ERROR, 0, seq, errnoPayload(errno))
}

func TestTransact(t *testing.T) {
	msgs := []message{{what: "table t"}, {what: "chain sub, rule 1 (reject)"}, {what: "chain sub, rule 2 (accept)"}}
	for _, tc := range []struct {
		name   string
		errnos []unix.Errno // per message
		batch  unix.Errno   // on the batch itself
		want   string
	}{
		{"all applied", []unix.Errno{0, 0, 0}, 0, ""},
		// The first refusal names its message; the later ones follow
		// from it.
		{"refused", []unix.Errno{0, unix.EOPNOTSUPP, unix.ENOENT}, 0, "chain sub, rule 1 (reject): operation not supported"},
		{"no permission", nil, unix.EPERM, "operation not permitted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeKernel(t, func(reqs []reply) [][]byte {
				if tc.batch != 0 {
					return [][]byte{ack(reqs[0].seq, tc.batch)}
				}
				// Acknowledgements come in two datagrams.
				var first, second []byte
				for i, r := range reqs[1 : len(reqs)-1] {
					if r.flags&unix.NLM_F_ACK == 0 {
						t.Errorf("message %d without NLM_F_ACK", i)
					}
					if i == 0 {
						first = append(first, ack(r.seq, tc.errnos[i])...)
					} else {
						second = append(second, ack(r.seq, tc.errnos[i])...)
					}
				}
				return [][]byte{first, second}
			})
			err := c.transact(msgs)
			if (err == nil) != (tc.want == "") || err != nil && err.Error() != tc.want {
				t.Errorf("transact = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	set := func(name string) []byte {
		table, name, ok := strings.Cut(name, "/")
		if !ok {
			table, name = "fw", table
		}
		var a attrs
		a.str(unix.NFTA_SET_TABLE, table)
		a.str(unix.NFTA_SET_NAME, name)
		return append([]byte{unix.NFPROTO_INET, 0, 0, 0}, a...)
	}
	newset := uint16(unix.NFNL_SUBSYS_NFTABLES<<8 | unix.NFT_MSG_NEWSET)
	for _, tc := range []struct {
		name  string
		flags uint16 // of the last message
		done  []byte
		want  []string
		err   error
	}{
		{"dump", unix.NLM_F_MULTI, []byte{0, 0, 0, 0}, []string{"a", "b", "c"}, nil},
		{"interrupted", unix.NLM_F_MULTI | unix.NLM_F_DUMP_INTR, []byte{0, 0, 0, 0}, nil, errInterrupted},
		{"failed", unix.NLM_F_MULTI, errnoPayload(unix.EINTR), nil, unix.EINTR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeKernel(t, func(reqs []reply) [][]byte {
				r := reqs[0]
				if r.flags&unix.NLM_F_DUMP != unix.NLM_F_DUMP || msgType(r) != unix.NFT_MSG_GETSET {
					t.Errorf("request %+v, want a GETSET dump", r)
				}
				// A reply to an older request first, to be ignored.
				old := msg(newset, unix.NLM_F_MULTI, r.seq-1, set("old"))
				return [][]byte{
					append(old, msg(newset, unix.NLM_F_MULTI, r.seq, set("a"))...),
					// A set of another table: the kernel lists them all.
					append(msg(newset, unix.NLM_F_MULTI, r.seq, set("b")), msg(newset, unix.NLM_F_MULTI, r.seq, set("other/x"))...),
					msg(newset, tc.flags, r.seq, set("c")),
					msg(unix.NLMSG_DONE, unix.NLM_F_MULTI, r.seq, tc.done),
				}
			})
			c.seq = 10
			sets, err := c.sets("fw")
			var names []string
			for _, s := range sets {
				names = append(names, s.name)
			}
			if !errors.Is(err, tc.err) || !cmp.Equal(names, tc.want) {
				t.Errorf("sets = %q, %v; want %q, %v", names, err, tc.want, tc.err)
			}
		})
	}
}
