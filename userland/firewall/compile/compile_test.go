package compile

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/userland/firewall/ruleset"
)

func compile(t *testing.T, config string) (string, error) {
	t.Helper()
	c, err := Decode("fw.json", []byte(config))
	if err != nil {
		return "", err
	}
	rs, err := Compile("fw.json", c)
	if err != nil {
		return "", err
	}
	return string(rs.Format()), nil
}

// The expected rulesets are written by hand: they are what a reviewer
// signs.
var compileTests = []struct {
	name, config, want string
}{
	{
		name: "gateway",
		config: `{
  "table": "bazwrt",
  "zones": [{"name": "lan", "services": ["lan"]}, {"name": "wan", "services": ["wan"]}, {"name": "trusted", "services": ["mgmt"]}],
  "inbound": [{"zone": "lan", "proto": "tcp", "ports": "22"}, {"zone": "lan", "proto": "udp", "ports": "53"}, {"zone": "wan", "proto": "udp", "ports": "68"}, {"zone": "lan", "proto": "tcp", "ports": "8000-8010"}],
  "inbound_all": ["trusted"],
  "forward": [{"from": "lan", "to": "wan"}],
  "masquerade": ["wan"],
  "clamp_mss": ["wan"],
  "port_forwards": [{"zone": "wan", "proto": "tcp", "port": 8080, "to_addr": "192.168.8.10", "to_port": 80}],
  "rpfilter": true,
  "icmp_rate": "10/second",
  "extra": {"input": ["iifname @zone_lan udp dport 123 accept"], "forward": [], "prerouting": [], "postrouting": [], "dstnat": [], "srcnat": [], "output": []}
}`,
		want: `table inet bazwrt {
	set zone_lan {
		type ifname
	}

	set zone_trusted {
		type ifname
	}

	set zone_wan {
		type ifname
	}

	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		fib saddr . iif oif missing drop
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lo" accept
		icmp type echo-request limit rate 10/second accept
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
		icmpv6 type echo-request limit rate 10/second accept
		ip6 saddr fe80::/10 icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept
		ip6 saddr fe80::/10 ip6 daddr fe80::/10 udp sport 547 udp dport 546 accept
		iifname @zone_trusted accept
		iifname @zone_lan tcp dport 22 accept
		iifname @zone_lan tcp dport 8000-8010 accept
		iifname @zone_lan udp dport 53 accept
		iifname @zone_wan udp dport 68 accept
		iifname @zone_lan udp dport 123 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		iifname @zone_wan tcp flags syn tcp option maxseg size set rt mtu
		oifname @zone_wan tcp flags syn tcp option maxseg size set rt mtu
		ct state established,related accept
		ct state invalid drop
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept
		ct status dnat accept
		iifname @zone_lan oifname @zone_wan accept
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}

	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname @zone_wan meta nfproto ipv4 tcp dport 8080 dnat ip to 192.168.8.10:80
	}

	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname @zone_wan meta nfproto ipv4 masquerade
	}
}
`,
	},
	{
		// Only zones: defaults everywhere, nothing open, nothing forwarded.
		name:   "minimal",
		config: `{"zones": [{"name": "lan", "services": ["lan"]}]}`,
		want: `table inet bazwrt {
	set zone_lan {
		type ifname
	}

	chain prerouting {
		type filter hook prerouting priority raw; policy accept;
		fib saddr . iif oif missing drop
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lo" accept
		icmp type echo-request limit rate 10/second accept
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
		icmpv6 type echo-request limit rate 10/second accept
		ip6 saddr fe80::/10 icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept
		ip6 saddr fe80::/10 ip6 daddr fe80::/10 udp sport 547 udp dport 546 accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept
		ct status dnat accept
	}

	chain output {
		type filter hook output priority filter; policy accept;
	}
}
`,
	},
	{
		// Ports grouped per zone and protocol, sorted, each once; no
		// reverse-path filter; other rate; extra rules make their chains;
		// pairs, masquerade zones and port forwards sorted.
		name: "grouping",
		config: `{
  "table": "fw",
  "zones": [{"name": "wan", "services": ["wan", "pppoe"]}, {"name": "lan", "services": ["lan", "guest"]}, {"name": "dmz", "services": []}],
  "inbound": [
    {"zone": "lan", "proto": "udp", "ports": "67"}, {"zone": "lan", "proto": "udp", "ports": "53"},
    {"zone": "lan", "proto": "tcp", "ports": "53"}, {"zone": "lan", "proto": "udp", "ports": "53"},
    {"zone": "lan", "proto": "tcp", "ports": "9000-9001"}, {"zone": "lan", "proto": "tcp", "ports": "80-80"},
    {"zone": "lan", "proto": "tcp", "ports": "8000-8010"}, {"zone": "dmz", "proto": "udp", "ports": "123"}
  ],
  "inbound_all": ["dmz", "dmz"],
  "forward": [{"from": "lan", "to": "wan"}, {"from": "dmz", "to": "wan"}, {"from": "lan", "to": "dmz"}, {"from": "lan", "to": "wan"}],
  "masquerade": ["wan", "dmz"],
  "port_forwards": [
    {"zone": "wan", "proto": "udp", "port": 5000, "to_addr": "192.168.8.10", "to_port": 5000},
    {"zone": "wan", "proto": "tcp", "port": 8080, "to_addr": "192.168.8.10", "to_port": 80},
    {"zone": "dmz", "proto": "tcp", "port": 22, "to_addr": "10.0.0.2", "to_port": 2222}
  ],
  "rpfilter": false,
  "icmp_rate": "2/minute",
  "extra": {"postrouting": ["oifname \"eth9\" counter"], "output": ["ip daddr 10.0.0.0/8 drop"]}
}`,
		want: `table inet fw {
	set zone_dmz {
		type ifname
	}

	set zone_lan {
		type ifname
	}

	set zone_wan {
		type ifname
	}

	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		iifname "lo" accept
		icmp type echo-request limit rate 2/minute accept
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } accept
		icmpv6 type echo-request limit rate 2/minute accept
		ip6 saddr fe80::/10 icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report } accept
		ip6 saddr fe80::/10 ip6 daddr fe80::/10 udp sport 547 udp dport 546 accept
		iifname @zone_dmz accept
		iifname @zone_dmz udp dport 123 accept
		iifname @zone_lan tcp dport { 53, 80 } accept
		iifname @zone_lan tcp dport 8000-8010 accept
		iifname @zone_lan tcp dport 9000-9001 accept
		iifname @zone_lan udp dport { 53, 67 } accept
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		ct state invalid drop
		icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem } accept
		ct status dnat accept
		iifname @zone_dmz oifname @zone_wan accept
		iifname @zone_lan oifname @zone_dmz accept
		iifname @zone_lan oifname @zone_wan accept
	}

	chain output {
		type filter hook output priority filter; policy accept;
		ip daddr 10.0.0.0/8 drop
	}

	chain postrouting {
		type filter hook postrouting priority filter; policy accept;
		oifname "eth9" counter
	}

	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		iifname @zone_dmz meta nfproto ipv4 tcp dport 22 dnat ip to 10.0.0.2:2222
		iifname @zone_wan meta nfproto ipv4 tcp dport 8080 dnat ip to 192.168.8.10:80
		iifname @zone_wan meta nfproto ipv4 udp dport 5000 dnat ip to 192.168.8.10:5000
	}

	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		oifname @zone_dmz meta nfproto ipv4 masquerade
		oifname @zone_wan meta nfproto ipv4 masquerade
	}
}
`,
	},
}

func TestCompile(t *testing.T) {
	for _, tc := range compileTests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := compile(t, tc.config)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ruleset (-want +got):\n%s", diff)
			}
			// The output is canonical: the device parses it to the same text.
			rs, err := ruleset.Parse("out.nft", []byte(got))
			if err != nil {
				t.Fatal(err)
			}
			if again := string(rs.Format()); again != got {
				t.Errorf("Format(Parse(output)) differs:\n%s", cmp.Diff(got, again))
			}
		})
	}
}

// The order of the options does not change a byte of the output.
func TestDeterministic(t *testing.T) {
	a := `{"zones": [{"name": "lan", "services": ["lan", "guest"]}, {"name": "wan", "services": ["wan"]}],
		"inbound": [{"zone": "lan", "proto": "udp", "ports": "67"}, {"zone": "wan", "proto": "udp", "ports": "68"}, {"zone": "lan", "proto": "udp", "ports": "53"}],
		"forward": [{"from": "wan", "to": "lan"}, {"from": "lan", "to": "wan"}],
		"masquerade": ["wan", "lan"],
		"port_forwards": [{"zone": "wan", "proto": "udp", "port": 2, "to_addr": "10.0.0.1", "to_port": 2}, {"zone": "wan", "proto": "udp", "port": 1, "to_addr": "10.0.0.1", "to_port": 1}]}`
	b := `{"masquerade": ["lan", "wan"],
		"port_forwards": [{"zone": "wan", "proto": "udp", "port": 1, "to_addr": "10.0.0.1", "to_port": 1}, {"zone": "wan", "proto": "udp", "port": 2, "to_addr": "10.0.0.1", "to_port": 2}],
		"forward": [{"from": "lan", "to": "wan"}, {"from": "wan", "to": "lan"}],
		"inbound": [{"zone": "lan", "proto": "udp", "ports": "53"}, {"zone": "wan", "proto": "udp", "ports": "68"}, {"zone": "lan", "proto": "udp", "ports": "67"}],
		"zones": [{"name": "wan", "services": ["wan"]}, {"name": "lan", "services": ["guest", "lan"]}]}`
	x, err := compile(t, a)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		y, err := compile(t, b)
		if err != nil {
			t.Fatal(err)
		}
		if x != y {
			t.Fatalf("same options in another order compile differently:\n%s", cmp.Diff(x, y))
		}
	}
}

func TestErrors(t *testing.T) {
	const zones = `"zones": [{"name": "lan", "services": ["lan"]}, {"name": "wan", "services": ["wan"]}]`
	for _, tc := range []struct{ name, config, want string }{
		// The file itself.
		{"truncated", `{"zones": [`, `fw.json: want a JSON object, got the end of the file`},
		{"not JSON", `{"zones": x}`, `fw.json: offset 11: invalid character 'x' looking for beginning of value`},
		{"unknown field", `{"zones": [], "inbounds": []}`, `fw.json: unknown field "inbounds"`},
		{"wrong type", `{"zones": [{"name": "lan", "services": "lan"}]}`, `fw.json: zones.services: want []string, got a JSON string`},
		{"two objects", `{"zones": []} {}`, `fw.json: want one JSON object, got more after it`},
		// Zones.
		{"no zones", `{}`, `fw.json: zones: want at least one zone`},
		{"bad zone name", `{"zones": [{"name": "LAN", "services": ["lan"]}]}`, `fw.json: zones[0].name: "LAN": want 1 to 12 of a-z, 0-9, _, starting with a letter`},
		{"duplicate zone", `{"zones": [{"name": "lan", "services": ["a"]}, {"name": "lan", "services": ["b"]}]}`, `fw.json: zones[1].name: "lan": want each zone once, got it twice`},
		{"service in two zones", `{"zones": [{"name": "lan", "services": ["a", "b"]}, {"name": "wan", "services": ["c", "b"]}]}`, `fw.json: zones[1].services[1]: "b": want each service in one zone, got it in lan and wan`},
		{"bad service", `{"zones": [{"name": "lan", "services": ["a/b"]}]}`, `fw.json: zones[0].services[0]: "a/b": want a service name`},
		{"bad table", `{"table": "my table", ` + zones + `}`, `fw.json: table: "my table": want a letter, then up to 63 letters, digits, '_' or '-'`},
		// Unknown zones, wherever a zone is named.
		{"inbound zone", `{` + zones + `, "inbound": [{"zone": "dmz", "proto": "tcp", "ports": "22"}]}`, `fw.json: inbound[0].zone: "dmz": want one of the zones: lan, wan`},
		{"inbound_all zone", `{` + zones + `, "inbound_all": ["lan", "dmz"]}`, `fw.json: inbound_all[1]: "dmz": want one of the zones: lan, wan`},
		{"forward from", `{` + zones + `, "forward": [{"from": "dmz", "to": "wan"}]}`, `fw.json: forward[0].from: "dmz": want one of the zones: lan, wan`},
		{"forward to", `{` + zones + `, "forward": [{"from": "lan", "to": ""}]}`, `fw.json: forward[0].to: "": want one of the zones: lan, wan`},
		{"forward to itself", `{` + zones + `, "forward": [{"from": "lan", "to": "lan"}]}`, `fw.json: forward[0].to: "lan": want a zone other than from`},
		{"masquerade zone", `{` + zones + `, "masquerade": ["dmz"]}`, `fw.json: masquerade[0]: "dmz": want one of the zones: lan, wan`},
		{"clamp_mss zone", `{` + zones + `, "clamp_mss": ["dmz"]}`, `fw.json: clamp_mss[0]: "dmz": want one of the zones: lan, wan`},
		{"port forward zone", `{` + zones + `, "port_forwards": [{"zone": "dmz", "proto": "tcp", "port": 1, "to_addr": "10.0.0.1", "to_port": 1}]}`, `fw.json: port_forwards[0].zone: "dmz": want one of the zones: lan, wan`},
		// Protocols.
		{"inbound proto", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "icmp", "ports": "8"}]}`, `fw.json: inbound[0].proto: "icmp": want tcp or udp`},
		{"port forward proto", `{` + zones + `, "port_forwards": [{"zone": "wan", "proto": "sctp", "port": 1, "to_addr": "10.0.0.1", "to_port": 1}]}`, `fw.json: port_forwards[0].proto: "sctp": want tcp or udp`},
		// Ports and ranges.
		{"port 0", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "udp", "ports": "0"}]}`, `fw.json: inbound[0].ports: "0": want a port from 1 to 65535, or FIRST-LAST with FIRST not above LAST`},
		{"port too big", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "tcp", "ports": "70000"}]}`, `fw.json: inbound[0].ports: "70000": want a port from 1 to 65535`},
		{"no port", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "tcp"}]}`, `fw.json: inbound[0].ports: "": want a port from 1 to 65535`},
		{"reversed range", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "tcp", "ports": "2000-1000"}]}`, `fw.json: inbound[0].ports: "2000-1000": want a port from 1 to 65535, or FIRST-LAST with FIRST not above LAST`},
		{"open range", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "tcp", "ports": "1000-"}]}`, `fw.json: inbound[0].ports: "1000-": want a port`},
		{"range too big", `{` + zones + `, "inbound": [{"zone": "lan", "proto": "tcp", "ports": "1000-65536"}]}`, `fw.json: inbound[0].ports: "1000-65536": want a port`},
		{"forward port 0", `{` + zones + `, "port_forwards": [{"zone": "wan", "proto": "tcp", "port": 0, "to_addr": "10.0.0.1", "to_port": 1}]}`, `fw.json: port_forwards[0].port: 0: want a port from 1 to 65535`},
		{"forward to port too big", `{` + zones + `, "port_forwards": [{"zone": "wan", "proto": "tcp", "port": 1, "to_addr": "10.0.0.1", "to_port": 65536}]}`, `fw.json: port_forwards[0].to_port: 65536: want a port from 1 to 65535`},
		{"duplicate port forward", `{` + zones + `, "port_forwards": [{"zone": "wan", "proto": "tcp", "port": 1, "to_addr": "10.0.0.1", "to_port": 1}, {"zone": "wan", "proto": "tcp", "port": 1, "to_addr": "10.0.0.2", "to_port": 1}]}`, `fw.json: port_forwards[1]: "wan tcp/1": want each zone, protocol and port forwarded once, got it also in port_forwards[0]`},
		// Addresses.
		{"bad IPv4", `{` + zones + `, "port_forwards": [{"zone": "wan", "proto": "tcp", "port": 1, "to_addr": "192.168.8.300", "to_port": 1}]}`, `fw.json: port_forwards[0].to_addr: "192.168.8.300": want an IPv4 address`},
		{"IPv6 to_addr", `{` + zones + `, "port_forwards": [{"zone": "wan", "proto": "tcp", "port": 1, "to_addr": "fd00::1", "to_port": 1}]}`, `fw.json: port_forwards[0].to_addr: "fd00::1": want an IPv4 address`},
		// Rates.
		{"icmp rate", `{` + zones + `, "icmp_rate": "fast"}`, `fw.json: icmp_rate: "fast": want N/second, N/minute, N/hour or N/day with N at least 1`},
		{"icmp rate 0", `{` + zones + `, "icmp_rate": "0/second"}`, `fw.json: icmp_rate: "0/second": want N/second`},
		// Extra rules: the chain, then each rule, named by its place.
		{"extra chain", `{` + zones + `, "extra": {"mangle": ["accept"]}}`, `fw.json: extra: "mangle": want rules for the chains prerouting, input, forward, output, postrouting, dstnat, srcnat`},
		{"extra syntax", `{` + zones + `, "extra": {"input": ["accept", "tcp dport 99999 accept"]}}`, `fw.json: extra.input[1]: "tcp dport 99999 accept": want a port from 1 to 65535, got "99999"`},
		{"extra two rules", `{` + zones + `, "extra": {"forward": ["accept; drop"]}}`, `fw.json: extra.forward[0]: "accept; drop": want one rule, without newlines or ';'`},
		{"extra unknown set", `{` + zones + `, "extra": {"input": ["iifname @zone_dmz accept"]}}`, `fw.json: extra.input[0]: "iifname @zone_dmz accept": unknown set zone_dmz: want one of zone_lan, zone_wan`},
		{"extra in wrong chain", `{` + zones + `, "extra": {"input": ["masquerade"]}}`, `fw.json: extra.input[0]: "masquerade": masquerade in chain input: want a nat base chain at hook postrouting`},
		{"extra jump", `{` + zones + `, "extra": {"srcnat": ["jump input"]}}`, `fw.json: extra.srcnat[0]: "jump input": jump to base chain input: want a regular chain: none declared`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compile(t, tc.config)
			if err == nil {
				t.Fatalf("compiled, want error %q", tc.want)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error:\n got %q\nwant %q", err, tc.want)
			}
		})
	}
}
