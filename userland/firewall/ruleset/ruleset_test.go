package ruleset

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// canonical is a ruleset in canonical form using every construct.
const canonical = `table inet fw {
	set zone_lan {
		type ifname
	}

	set zone_wan {
		type ifname
	}

	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		fib saddr . iif oif missing drop
		fib daddr oif exists counter accept
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		ct state != new,untracked counter drop
		iifname "lo" accept
		iifname != "eth0" oifname { "br-lan", "eth1" } return
		icmp type echo-request limit rate 10/second accept
		icmp type { echo-reply, 42 } limit rate over 5/minute burst 10 packets drop
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
		ip6 saddr fe80::/10 icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept
		iifname @zone_lan tcp dport { 22, 53 } accept
		iifname @zone_lan tcp dport 8000-8010 accept
		iifname != @zone_wan udp sport != 1024-65535 jump lan_only
		meta nfproto ipv6 meta l4proto { tcp, udp, 200 } counter
		ip saddr 10.0.0.0/8 ip daddr != 192.168.1.1 goto lan_only
		ip6 daddr { ::1, 2001:db8::1 } reject with icmpx type admin-prohibited
		meta l4proto tcp reject with tcp reset
		reject
	}

	chain lan_only {
		ct status snat,dnat accept
		udp dport 53 drop
	}

	chain empty {
	}

	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname @zone_wan meta nfproto ipv4 tcp dport 8080 dnat ip to 192.168.8.10:80
		iifname @zone_wan meta nfproto ipv4 dnat ip to 192.168.8.11
	}

	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname @zone_wan meta nfproto ipv4 masquerade
		oifname "wg0" meta l4proto udp snat ip to 10.9.0.1:4000
	}

	chain out {
		type filter hook output priority -5; policy accept;
	}

	chain early {
		type nat hook output priority 100; policy accept;
	}
}
`

func TestFormatParseRoundTrip(t *testing.T) {
	rs, err := Parse("fw.nft", []byte(canonical))
	if err != nil {
		t.Fatal(err)
	}
	got := string(rs.Format())
	if diff := cmp.Diff(canonical, got); diff != "" {
		t.Errorf("Format(Parse(canonical)) differs (-want +got):\n%s", diff)
	}
	again, err := Parse("formatted", []byte(got))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(rs, again); diff != "" {
		t.Errorf("Parse(Format(rs)) != rs (-want +got):\n%s", diff)
	}
}

func TestParseAST(t *testing.T) {
	rs, err := Parse("fw.nft", []byte(`table inet t {
	set zone_lan { type ifname }
	chain input {
		type filter hook input priority 0
		policy drop
		iifname @zone_lan udp dport { 67, 53 } accept
		ct state established,related counter accept
		ip6 saddr fe80::/10 limit rate 3/hour jump sub
		oifname "eth0" meta nfproto ipv4 tcp dport 80 reject with tcp reset
	}
	chain sub { fib saddr . iif oif missing drop; return }
	chain nat { type nat hook prerouting priority dstnat; meta l4proto tcp dnat ip to 10.0.0.1:8080 }
}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &Ruleset{
		Table: "t",
		Sets:  []Set{{Name: "zone_lan"}},
		Chains: []Chain{
			{
				Name: "input",
				Hook: &Hook{Type: "filter", Hook: "input", Priority: 0, Policy: "drop"},
				Rules: []Rule{
					{
						Matches: []Match{
							{Field: IifName, Kind: SetRef, Set: "zone_lan"},
							{Field: UDPDport, Kind: List, Elems: [][]byte{{0, 53}, {0, 67}}},
						},
						Stmt: Stmt{Kind: Accept},
					},
					{
						Matches: []Match{{Field: CtState, Kind: Flags, Data: []byte{0, 0, 0, 6}}},
						Counter: true,
						Stmt:    Stmt{Kind: Accept},
					},
					{
						Matches: []Match{{Field: IP6Saddr, Kind: Prefix, Data: []byte{0xfe, 0x80, 14: 0, 15: 0}, Bits: 10}},
						Limit:   &Limit{Rate: 3, Unit: "hour", Burst: 5},
						Stmt:    Stmt{Kind: Jump, Chain: "sub"},
					},
					{
						Matches: []Match{
							{Field: OifName, Kind: Value, Data: []byte("eth0")},
							{Field: NfProto, Kind: Value, Data: []byte{2}},
							{Field: TCPDport, Kind: Value, Data: []byte{0, 80}},
						},
						Stmt: Stmt{Kind: Reject, TCPReset: true},
					},
				},
			},
			{
				Name: "sub",
				Rules: []Rule{
					{Matches: []Match{{Field: Fib, Fib: FibSaddr | FibIif, Kind: Value, Data: []byte{0}}}, Stmt: Stmt{Kind: Drop}},
					{Stmt: Stmt{Kind: Return}},
				},
			},
			{
				Name: "nat",
				Hook: &Hook{Type: "nat", Hook: "prerouting", Priority: -100, Policy: "accept"},
				Rules: []Rule{{
					Matches: []Match{{Field: L4Proto, Kind: Value, Data: []byte{6}}},
					Stmt:    Stmt{Kind: DNAT, Addr: [4]byte{10, 0, 0, 1}, Port: 8080},
				}},
			},
		},
	}
	if diff := cmp.Diff(want, rs); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

// chain wraps rules in a ruleset with sets zone_lan and zone_wan, an input
// chain holding the rules, and a regular chain sub.
func chain(rules string) string {
	return "table inet t {\n\tset zone_lan {\n\t\ttype ifname\n\t}\n\n\tset zone_wan {\n\t\ttype ifname\n\t}\n\n" +
		"\tchain input {\n\t\ttype filter hook input priority filter; policy drop;\n" + rules + "\t}\n\n" +
		"\tchain sub {\n\t}\n}\n"
}

// Inputs that are not in canonical form are written canonically.
func TestCanonical(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`udp dport { 67, 53 } accept`, `udp dport { 53, 67 } accept`},
		{`tcp dport { 22 } accept`, `tcp dport 22 accept`},
		{`tcp dport 22-22 accept`, `tcp dport 22 accept`},
		{`ip saddr 1.2.3.4/32 accept`, `ip saddr 1.2.3.4 accept`},
		{`ip6 saddr 2001:0db8::0001 accept`, `ip6 saddr 2001:db8::1 accept`},
		{`meta iifname "lo" accept`, `iifname "lo" accept`},
		{`meta oifname eth0 accept`, `oifname "eth0" accept`},
		{`reject with icmpx type port-unreachable`, `reject`},
		{`reject with icmpx host-unreachable`, `reject with icmpx type host-unreachable`},
		{`limit rate 10/second burst 5 packets accept`, `limit rate 10/second accept`},
		{`counter packets 12 bytes 3400 accept`, `counter accept`},
		{`ct state related,established,related accept`, `ct state established,related accept`},
		{`meta l4proto 6 accept`, `meta l4proto tcp accept`},
		{`icmpv6 type 135 accept`, `icmpv6 type nd-neighbor-solicit accept`},
		{`icmp type { 8,0 } accept  # a comment`, `icmp type { echo-reply, echo-request } accept`},
		{"iifname \"lo\" accept; drop", "iifname \"lo\" accept\n\t\tdrop"},
		{"udp dport {\n 53,\n 67\n } accept", `udp dport { 53, 67 } accept`},
	} {
		rs, err := Parse("t.nft", []byte(chain("\t\t"+tc.in+"\n")))
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if got, want := string(rs.Format()), chain("\t\t"+tc.want+"\n"); got != want {
			t.Errorf("%s: formatted as\n%s\nwant\n%s", tc.in, got, want)
		}
	}
}

func TestHookDefaults(t *testing.T) {
	rs, err := Parse("t.nft", []byte("# header\n\ntable inet t {\n chain c { type nat hook postrouting priority 100 }\n chain d { type filter hook output priority -150\n policy drop\n }\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := "table inet t {\n\tchain c {\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t}\n\n" +
		"\tchain d {\n\t\ttype filter hook output priority mangle; policy drop;\n\t}\n}\n"
	if diff := cmp.Diff(want, string(rs.Format())); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"", `t.nft:1: want table, got end of file`},
		{"table ip t {}", `t.nft:1: want inet (the table's family: only inet is supported), got "ip"`},
		{"table inet 1t {}", `t.nft:1: want a table name: a letter, then up to 63 letters, digits, '_' or '-', got "1t"`},
		{"table inet t {}\ntable inet u {}", `t.nft:2: want the end of the file (one table per file), got "table"`},
		{"table inet t {\n set s { type ipv4_addr }\n}", `t.nft:2: want ifname (the only type of set: interface names), got "ipv4_addr"`},
		{"table inet t {\n set s { type ifname; elements = { \"a\" } }\n}", `t.nft:2: want } (sets are declared empty, with their type only), got "elements"`},
		{"table inet t {\n rule\n}", `t.nft:2: want set, chain or '}', got "rule"`},
		{"table inet t {\n chain c {\n  type route hook input priority 0\n }\n}", `t.nft:3: want a chain type: filter, nat, got "route"`},
		{"table inet t {\n chain c {\n  type filter hook ingress priority 0\n }\n}", `t.nft:3: want a hook: prerouting, input, forward, output, postrouting, got "ingress"`},
		{"table inet t {\n chain c {\n  type filter hook input priority first\n }\n}", `t.nft:3: want a priority: a number or raw, mangle, dstnat, filter, security, srcnat, got "first"`},
		{"table inet t {\n chain c {\n  type filter hook input priority dstnat\n }\n}", `t.nft:3: want a priority valid at hook input (dstnat: prerouting, output; srcnat: postrouting, input), got "dstnat"`},
		{"table inet t {\n chain c {\n  type filter hook input priority 0; policy reject\n }\n}", `t.nft:3: want a policy: accept, drop, got "reject"`},
		{"table inet t {\n chain c {\n  accept\n  policy drop\n }\n}", `t.nft:4: want policy once, after the type, hook and priority of a base chain, got "policy"`},
		{"table inet t {\n chain c {\n  accept\n  type filter hook input priority 0\n }\n}", `t.nft:4: want the chain's type, hook and priority first, once, got "type"`},
		{"table inet t {\n chain c {\n  type nat hook forward priority 0\n }\n}", `t.nft:2: want a nat chain at prerouting, input, output or postrouting, got hook forward`},
		{"table inet t {\n chain c {\n  type nat hook input priority 0; policy drop\n }\n}", `t.nft:2: want policy accept in a nat chain (it translates, it does not filter), got drop`},
		{"table inet t {\n chain c {\n  tcp dport 70000 accept\n }\n}", `t.nft:3: want a port from 1 to 65535, got "70000"`},
		{"table inet t {\n chain c {\n  tcp dport 0 accept\n }\n}", `t.nft:3: want a port from 1 to 65535, got "0"`},
		{"table inet t {\n chain c {\n  tcp dport 2000-1000 accept\n }\n}", `t.nft:3: want a port range FIRST-LAST, ports from 1 to 65535, FIRST not above LAST, got "2000-1000"`},
		{"table inet t {\n chain c {\n  udp dport { 53, 1-2 } accept\n }\n}", `t.nft:3: want a port from 1 to 65535 (sets hold single values: no ranges or prefixes), got "1-2"`},
		{"table inet t {\n chain c {\n  udp dport { 53, 53 } accept\n }\n}", `t.nft:3: want each element once, got "53"`},
		{"table inet t {\n chain c {\n  udp dport { 53 67 } accept\n }\n}", `t.nft:3: want ',' or '}', got "67"`},
		{"table inet t {\n chain c {\n  tcp window 5 accept\n }\n}", `t.nft:3: want a field of tcp: dport, flags, sport, got "window"`},
		{"table inet t {\n chain c {\n  tcp flags syn,bogus accept\n }\n}", `t.nft:3: want a tcp flags flag: fin, syn, rst, psh, ack, urg, ecn, cwr, got "bogus"`},
		{"table inet t {\n chain c {\n  tcp flags syn tcp option maxseg size set 1400\n }\n}", `t.nft:3: want rt (the one tcp option statement is: tcp option maxseg size set rt mtu), got "1400"`},
		{"table inet t {\n chain c {\n  ct state estab accept\n }\n}", `t.nft:3: want a ct state flag: invalid, established, related, new, untracked, got "estab"`},
		{"table inet t {\n chain c {\n  ip saddr 10.0.0.1/8 accept\n }\n}", `t.nft:3: want a prefix without host bits (10.0.0.0/8), got "10.0.0.1/8"`},
		{"table inet t {\n chain c {\n  ip saddr ::1 accept\n }\n}", `t.nft:3: want an IPv4 address, got "::1"`},
		{"table inet t {\n chain c {\n  ip6 saddr 10.0.0.0/8 accept\n }\n}", `t.nft:3: want an IPv6 prefix ADDRESS/BITS, got "10.0.0.0/8"`},
		{"table inet t {\n chain c {\n  ip saddr 0.0.0.0/0 accept\n }\n}", `t.nft:3: want a prefix of 1 bit or more (/0 matches everything), got "0.0.0.0/0"`},
		{"table inet t {\n chain c {\n  tcp dport @ports accept\n }\n}", `t.nft:3: want a value of tcp dport (only interface names have named sets), got '@'`},
		{"table inet t {\n chain c {\n  iifname \"eth*\" accept\n }\n}", `t.nft:3: want an interface name of letters, digits, '_', '.' and '-', got "eth*"`},
		{"table inet t {\n chain c {\n  iifname \"a-very-long-name0\" accept\n }\n}", `t.nft:3: want an interface name of 1 to 15 bytes, got "a-very-long-name0"`},
		{"table inet t {\n chain c {\n  iifname \"lo accept\n }\n}", `t.nft:3: want a closing '"' before the end of the line`},
		{"table inet t {\n chain c {\n  icmp type bogus accept\n }\n}", `t.nft:3: want a number from 0 to 255 or one of echo-reply, destination-unreachable,`},
		{"table inet t {\n chain c {\n  accept drop\n }\n}", `t.nft:3: want the end of the rule, got "drop"`},
		{"table inet t {\n chain c {\n  log accept\n }\n}", `t.nft:3: want a match or a statement (limit, counter, accept, drop, return, jump, goto, reject, masquerade, dnat, snat), got "log"`},
		{"table inet t {\n chain c {\n  limit rate 0/second accept\n }\n}", `t.nft:3: want a rate N/second, N/minute, N/hour or N/day, N at least 1, got "0/second"`},
		{"table inet t {\n chain c {\n  limit rate 5/week accept\n }\n}", `t.nft:3: want a rate N/second, N/minute, N/hour or N/day, N at least 1, got "5/week"`},
		{"table inet t {\n chain c {\n  limit rate 5/second burst 10 bytes accept\n }\n}", `t.nft:3: want packets (bursts are counted in packets), got "bytes"`},
		{"table inet t {\n chain c {\n  reject with icmp type host-unreachable\n }\n}", `t.nft:3: want what to reject with: tcp, icmpx, got "icmp"`},
		{"table inet t {\n chain c {\n  dnat to 10.0.0.1\n }\n}", `t.nft:3: want ip (only IPv4 is translated: dnat ip to ADDRESS[:PORT]), got "to"`},
		{"table inet t {\n chain c {\n  dnat ip to 10.0.0.1:0\n }\n}", `t.nft:3: want ADDRESS:PORT with a port from 1 to 65535, got "10.0.0.1:0"`},
		{"table inet t {\n chain c {\n  fib saddr . mark oif missing drop\n }\n}", `t.nft:3: want what else fib looks up by: iif, got "mark"`},
		{"table inet t {\n chain c {\n  fib saddr oifname missing drop\n }\n}", `t.nft:3: want oif (the only fib result supported), got "oifname"`},
		{"table inet t {\n chain c {\n  accept ! drop\n }\n}", `t.nft:3: want a word, a string, '{', '}', ',', '@', '=', '!=' or ';', got '!'`},
		// Validation errors are put on the line of what they are about.
		{"table inet t {\n set zone_lan { type ifname }\n chain c {\n  type filter hook input priority 0\n  accept\n  iifname @zone_dmz accept\n }\n}", `t.nft:6: unknown set zone_dmz: want one of zone_lan`},
		{"table inet t {\n set s { type ifname }\n set s { type ifname }\n}", `t.nft:3: want each set declared once, got s twice`},
		{"table inet t {\n chain c {}\n chain c {}\n}", `t.nft:3: want each chain declared once, got c twice`},
		{"table inet t {\n chain c {\n  jump d\n }\n}", `t.nft:3: jump to unknown chain d: want a regular chain: c`},
		{"table inet t {\n chain c {\n  type filter hook input priority 0\n  goto d\n }\n chain d { type filter hook output priority 0 }\n}", `t.nft:4: goto to base chain d: want a regular chain: none declared`},
		{"table inet t {\n chain a { jump b }\n chain b {\n  accept\n  jump a\n }\n}", `t.nft:5: jumps loop: a -> b -> a`},
		{"table inet t {\n chain c {\n  type filter hook postrouting priority 100\n  masquerade\n }\n}", `t.nft:4: masquerade in chain c: want a nat base chain at hook postrouting`},
		{"table inet t {\n chain c {\n  type filter hook input priority 0\n  tcp flags syn tcp option maxseg size set rt mtu\n }\n}", `t.nft:4: tcp option maxseg size set rt mtu in chain c: want a filter chain at forward, output or postrouting`},
		{"table inet t {\n chain c {\n  type filter hook forward priority 0\n  oifname \"ppp0\" tcp option maxseg size set rt mtu\n }\n}", `t.nft:4: tcp option maxseg size set rt mtu: want a tcp match first (tcp flags syn)`},
		{"table inet t {\n chain c {\n  type nat hook postrouting priority 100\n  dnat ip to 1.2.3.4\n }\n}", `t.nft:4: dnat in chain c: want a nat base chain at hook prerouting or output`},
		{"table inet t {\n chain c {\n  type nat hook prerouting priority -100\n  dnat ip to 1.2.3.4:80\n }\n}", `t.nft:4: dnat to a port: want a tcp or udp match first (meta l4proto tcp, udp dport ...)`},
		{"table inet t {\n chain c {\n  type filter hook input priority 0\n  udp dport 1 reject with tcp reset\n }\n}", `t.nft:4: reject with tcp reset: want a tcp match first (meta l4proto tcp, tcp dport ...)`},
		{"table inet t {\n chain c {\n  type filter hook postrouting priority 0\n  reject\n }\n}", `t.nft:4: reject in chain c: want a filter chain at prerouting, input, forward or output`},
		{"table inet t {\n chain c {\n  type filter hook output priority 0\n  fib saddr oif missing drop\n }\n}", `t.nft:4: fib in a chain at hook output: want prerouting, input or forward`},
	} {
		_, err := Parse("t.nft", []byte(tc.text))
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want error %q", tc.text, tc.want)
		} else if !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%q):\n got error %q\nwant error %q", tc.text, err, tc.want)
		}
	}
}

func TestParseRule(t *testing.T) {
	r, err := ParseRule(`iifname @zone_lan udp dport 123 accept`)
	if err != nil {
		t.Fatal(err)
	}
	want := Rule{
		Matches: []Match{
			{Field: IifName, Kind: SetRef, Set: "zone_lan"},
			{Field: UDPDport, Kind: Value, Data: []byte{0, 123}},
		},
		Stmt: Stmt{Kind: Accept},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, tc := range []struct{ text, want string }{
		{"", "want a rule, got end of file"},
		{"accept; drop", `want one rule, without newlines or ';', got "accept; drop"`},
		{"tcp dport 99999 accept", `want a port from 1 to 65535, got "99999"`},
		{"accept }", `want the end of the rule, got '}'`},
	} {
		if _, err := ParseRule(tc.text); err == nil || err.Error() != tc.want {
			t.Errorf("ParseRule(%q) = %v, want %q", tc.text, err, tc.want)
		}
	}
}

// Validate refuses Rulesets assembled in Go, naming the chain and the rule.
func TestValidate(t *testing.T) {
	rule := func(text string) Rule {
		r, err := ParseRule(text)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	base := func(r Rule) *Ruleset {
		return &Ruleset{Table: "t", Sets: []Set{{Name: "zone_lan"}}, Chains: []Chain{
			{Name: "c", Hook: &Hook{Type: "filter", Hook: "input", Policy: "drop"}, Rules: []Rule{rule("accept"), r}},
			{Name: "sub"},
		}}
	}
	for _, tc := range []struct {
		rs   *Ruleset
		want string
	}{
		{&Ruleset{Table: ""}, `table name "": want a letter`},
		{&Ruleset{Table: "t", Sets: []Set{{Name: "a b"}}}, `set a b: set name "a b": want a letter`},
		{&Ruleset{Table: "t", Chains: []Chain{{Name: "c", Hook: &Hook{Type: "filter", Hook: "input", Policy: "reject"}}}}, `chain c: want policy accept or drop, got "reject"`},
		{&Ruleset{Table: "t", Chains: []Chain{{Name: "c", Hook: &Hook{Type: "route", Hook: "input", Policy: "drop"}}}}, `chain c: want chain type filter or nat, got "route"`},
		{&Ruleset{Table: "t", Chains: []Chain{{Name: "c", Hook: &Hook{Type: "filter", Hook: "ingress", Policy: "drop"}}}}, `chain c: want hook prerouting, input, forward, output or postrouting, got "ingress"`},
		{base(rule("iifname @zone_x accept")), `chain c, rule 2: unknown set zone_x: want one of zone_lan`},
		{base(rule("jump nowhere")), `chain c, rule 2: jump to unknown chain nowhere: want a regular chain: sub`},
		{base(rule("goto c")), `chain c, rule 2: goto to base chain c: want a regular chain: sub`},
		{base(rule("masquerade")), `chain c, rule 2: masquerade in chain c: want a nat base chain at hook postrouting`},
		{base(rule("limit rate 1/second accept")), ``},
	} {
		err := tc.rs.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("Validate: %v", err)
		case tc.want == "":
		case err == nil:
			t.Errorf("Validate(%+v) = nil, want %q", tc.rs, tc.want)
		case !strings.HasPrefix(err.Error(), tc.want):
			t.Errorf("Validate:\n got %q\nwant %q", err, tc.want)
		}
	}
}
