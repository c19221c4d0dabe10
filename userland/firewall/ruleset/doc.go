// Package ruleset is the firewall's ruleset language: a small subset of
// nft's syntax, so that the file in the image reads like an nftables
// ruleset and is valid input to nft. It is used on the host (by the
// compiler, //tools:firewall-compile) and on the device (by `firewall`,
// which loads it into the kernel and reads it back).
//
// A ruleset is one table of family inet. Its named sets hold interface
// names (the zones, filled at run time, so declared empty); its chains are
// base chains, attached to a netfilter hook with a policy, or regular
// chains, the targets of jump and goto:
//
//	file      = "table" "inet" NAME "{" { set | chain } "}"
//	set       = "set" NAME "{" "type" "ifname" "}"
//	chain     = "chain" NAME "{" [ hookline ] { rule } "}"
//	hookline  = "type" ("filter" | "nat") "hook" HOOK "priority" PRIORITY ";"
//	            [ "policy" ("accept" | "drop") ";" ]
//	HOOK      = "prerouting" | "input" | "forward" | "output" | "postrouting"
//	PRIORITY  = INTEGER | "raw" | "mangle" | "dstnat" | "filter" | "security" | "srcnat"
//	rule      = { match } [ limit ] [ "counter" ] [ statement ]
//	match     = field [ "!=" ] value
//	          | ("ct" ("state" | "status") | "tcp" "flags") [ "!=" ] FLAG { "," FLAG }
//	          | "fib" ("saddr" | "daddr") [ "." "iif" ] "oif" ("missing" | "exists")
//	field     = "iifname" | "oifname" | "meta" ("nfproto" | "l4proto" | "iifname" | "oifname")
//	          | ("tcp" | "udp") ("sport" | "dport") | "icmp" "type" | "icmpv6" "type"
//	          | ("ip" | "ip6") ("saddr" | "daddr")
//	value     = VALUE | PORT "-" PORT | ADDRESS "/" BITS | "{" VALUE { "," VALUE } "}" | "@" SET
//	limit     = "limit" "rate" [ "over" ] N "/" ("second" | "minute" | "hour" | "day")
//	            [ "burst" N "packets" ]
//	statement = "accept" | "drop" | "return" | "jump" CHAIN | "goto" CHAIN
//	          | "reject" [ "with" ("tcp" "reset" | "icmpx" [ "type" ] CODE) ]
//	          | "masquerade" | ("dnat" | "snat") "ip" "to" IPV4 [ ":" PORT ]
//	          | "tcp" "option" "maxseg" "size" "set" "rt" "mtu"   (not a verdict: the packet goes on)
//
// Statements end at a newline or ';'; '#' starts a comment. Values are
// written as in nft: interface names quoted ("lo"), ports as numbers,
// protocols, ICMP types, ct states and statuses and nfproto by name
// (tcp, echo-request, nd-neighbor-solicit, established, dnat, ipv4) or
// number, addresses and prefixes as usual (10.0.0.0/8, fe80::/10). Ranges
// are for ports, prefixes for addresses, named sets (@zone_lan) for
// interface names; anonymous sets ({ 53, 67 }) hold single values.
//
// A header field implies its protocol, as nft's dependencies do: "tcp
// dport 22" only matches TCP, "ip saddr" only IPv4.
//
// Parse reads a file, Format writes its canonical text (Parse(Format(rs))
// equals rs, and Format of that is the same bytes), ParseRule reads one
// rule and Validate checks a Ruleset assembled in Go (from rules of
// ParseRule). Errors of Parse are "FILE:LINE: want ..., got ...".
package ruleset
