// Package compile turns a firewall's options (the JSON written by the
// Bazel rule in //userland/firewall:services.bzl) into its ruleset, with
// defaults a reviewer can sign: input and forward dropped unless allowed,
// established traffic accepted first and invalid dropped, loopback
// accepted, ICMP echo rate-limited, the ICMPv6 that IPv6 needs accepted,
// reverse-path filtering, and per zone only what the options open.
//
// It runs on the host only (//tools:firewall-compile); the device parses
// the ruleset text it writes.
package compile

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"bazwrt/userland/firewall/ruleset"
)

// Config is the firewall's options, as the Bazel rule writes them. Only
// Zones is required.
type Config struct {
	Table        string              `json:"table"` // default "bazwrt"
	Zones        []Zone              `json:"zones"`
	Inbound      []Inbound           `json:"inbound"`
	InboundAll   []string            `json:"inbound_all"`
	Forward      []Forward           `json:"forward"`
	Masquerade   []string            `json:"masquerade"`
	ClampMSS     []string            `json:"clamp_mss"`
	PortForwards []PortForward       `json:"port_forwards"`
	RPFilter     *bool               `json:"rpfilter"`  // default true
	ICMPRate     string              `json:"icmp_rate"` // default "10/second"
	Extra        map[string][]string `json:"extra"`     // chain -> rules
}

// A Zone is a set of interfaces: those its member services have up. Its
// nftables set is zone_NAME.
type Zone struct {
	Name     string   `json:"name"`
	Services []string `json:"services"`
}

// Inbound opens ports of the router itself to a zone.
type Inbound struct {
	Zone  string `json:"zone"`
	Proto string `json:"proto"` // tcp or udp
	Ports string `json:"ports"` // "22" or "8000-8010"
}

// Forward lets connections from one zone to another through.
type Forward struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// A PortForward sends connections arriving in Zone to the router's Port
// on to ToAddr:ToPort.
type PortForward struct {
	Zone   string `json:"zone"`
	Proto  string `json:"proto"`
	Port   int    `json:"port"`
	ToAddr string `json:"to_addr"`
	ToPort int    `json:"to_port"`
}

// ExtraChains are the chains extra rules may be appended to, in the
// order the ruleset declares them.
var ExtraChains = []string{"prerouting", "input", "forward", "output", "postrouting", "dstnat", "srcnat"}

// Decode reads a configuration. name (the file) prefixes the errors.
func Decode(name string, data []byte) (*Config, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var c Config
	if err := d.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			return nil, fmt.Errorf("%s: %s: want %s, got a JSON %s", name, te.Field, te.Type, te.Value)
		case errors.As(err, &se):
			return nil, fmt.Errorf("%s: offset %d: %v", name, se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			return nil, fmt.Errorf("%s: want a JSON object, got the end of the file", name)
		}
		return nil, fmt.Errorf("%s: %v", name, strings.TrimPrefix(err.Error(), "json: "))
	}
	if d.More() {
		return nil, fmt.Errorf("%s: want one JSON object, got more after it", name)
	}
	return &c, nil
}

// compiler holds what the checks found, for the rules.
type compiler struct {
	file    string
	c       *Config
	zones   map[string]bool
	zoneIDs []string // sorted
}

// fail returns an error naming the file, the field, the bad value and what
// was wanted.
func (cp *compiler) fail(field string, value any, want string, args ...any) error {
	v := fmt.Sprint(value)
	if s, ok := value.(string); ok {
		v = strconv.Quote(s)
	}
	return fmt.Errorf("%s: %s: %s: "+want, append([]any{cp.file, field, v}, args...)...)
}

func (cp *compiler) zone(field, z string) error {
	if !cp.zones[z] {
		return cp.fail(field, z, "want one of the zones: %s", strings.Join(cp.zoneIDs, ", "))
	}
	return nil
}

func validZone(z string) bool {
	if z == "" || len(z) > 12 || z[0] < 'a' || z[0] > 'z' {
		return false
	}
	for _, c := range []byte(z) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func validService(s string) bool {
	return s != "" && len(s) <= 255 && s[0] != '.' && !strings.ContainsAny(s, "/ \t\n\r\x00")
}

// ports parses "N" or "FIRST-LAST".
func ports(s string) (lo, hi int, ok bool) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(a)
	if err != nil || lo < 1 || lo > 65535 || strings.HasPrefix(a, "+") {
		return 0, 0, false
	}
	if !isRange {
		return lo, lo, true
	}
	hi, err = strconv.Atoi(b)
	if err != nil || hi < lo || hi > 65535 || strings.HasPrefix(b, "+") {
		return 0, 0, false
	}
	return lo, hi, true
}

// Compile checks the configuration and returns its ruleset. file names the
// configuration in errors.
func Compile(file string, config *Config) (*ruleset.Ruleset, error) {
	c := *config // defaults are filled in
	cp := &compiler{file: file, c: &c, zones: map[string]bool{}}
	if err := cp.check(); err != nil {
		return nil, err
	}
	rs, extra, err := cp.ruleset()
	if err != nil {
		return nil, err
	}
	if err := rs.Validate(); err != nil {
		var e *ruleset.Error
		if errors.As(err, &e) && e.Rule >= 0 {
			if x, ok := extra[ruleKey{e.Chain, e.Rule}]; ok {
				return nil, cp.fail(x.field, x.text, "%s", e.Msg)
			}
		}
		return nil, fmt.Errorf("%s: the compiled ruleset is invalid (a bug in the compiler): %v", file, err)
	}
	return rs, nil
}

func (cp *compiler) check() error {
	c := cp.c
	if c.Table == "" {
		c.Table = "bazwrt"
	}
	if !ruleset.ValidName(c.Table) {
		return cp.fail("table", c.Table, "want a letter, then up to 63 letters, digits, '_' or '-'")
	}
	if len(c.Zones) == 0 {
		return fmt.Errorf("%s: zones: want at least one zone, e.g. [{\"name\": \"lan\", \"services\": [\"lan\"]}]", cp.file)
	}
	owner := map[string]string{}
	for i, z := range c.Zones {
		f := fmt.Sprintf("zones[%d]", i)
		if !validZone(z.Name) {
			return cp.fail(f+".name", z.Name, "want 1 to 12 of a-z, 0-9, _, starting with a letter")
		}
		if cp.zones[z.Name] {
			return cp.fail(f+".name", z.Name, "want each zone once, got it twice")
		}
		cp.zones[z.Name] = true
		cp.zoneIDs = append(cp.zoneIDs, z.Name)
		for j, s := range z.Services {
			f := fmt.Sprintf("%s.services[%d]", f, j)
			if !validService(s) {
				return cp.fail(f, s, "want a service name")
			}
			if o, ok := owner[s]; ok {
				return cp.fail(f, s, "want each service in one zone, got it in %s and %s", o, z.Name)
			}
			owner[s] = z.Name
		}
	}
	slices.Sort(cp.zoneIDs)
	for i, in := range c.Inbound {
		f := fmt.Sprintf("inbound[%d]", i)
		if err := cp.zone(f+".zone", in.Zone); err != nil {
			return err
		}
		if in.Proto != "tcp" && in.Proto != "udp" {
			return cp.fail(f+".proto", in.Proto, "want tcp or udp")
		}
		if _, _, ok := ports(in.Ports); !ok {
			return cp.fail(f+".ports", in.Ports, "want a port from 1 to 65535, or FIRST-LAST with FIRST not above LAST")
		}
	}
	for i, z := range c.InboundAll {
		if err := cp.zone(fmt.Sprintf("inbound_all[%d]", i), z); err != nil {
			return err
		}
	}
	for i, fw := range c.Forward {
		f := fmt.Sprintf("forward[%d]", i)
		if err := cp.zone(f+".from", fw.From); err != nil {
			return err
		}
		if err := cp.zone(f+".to", fw.To); err != nil {
			return err
		}
		if fw.From == fw.To {
			return cp.fail(f+".to", fw.To, "want a zone other than from (traffic within a zone is not forwarded by zone rules)")
		}
	}
	for i, z := range c.ClampMSS {
		if err := cp.zone(fmt.Sprintf("clamp_mss[%d]", i), z); err != nil {
			return err
		}
	}
	for i, z := range c.Masquerade {
		if err := cp.zone(fmt.Sprintf("masquerade[%d]", i), z); err != nil {
			return err
		}
	}
	seen := map[string]int{}
	for i, pf := range c.PortForwards {
		f := fmt.Sprintf("port_forwards[%d]", i)
		if err := cp.zone(f+".zone", pf.Zone); err != nil {
			return err
		}
		if pf.Proto != "tcp" && pf.Proto != "udp" {
			return cp.fail(f+".proto", pf.Proto, "want tcp or udp")
		}
		if pf.Port < 1 || pf.Port > 65535 {
			return cp.fail(f+".port", pf.Port, "want a port from 1 to 65535")
		}
		if a, err := netip.ParseAddr(pf.ToAddr); err != nil || !a.Is4() || a.Zone() != "" {
			return cp.fail(f+".to_addr", pf.ToAddr, "want an IPv4 address")
		}
		if pf.ToPort < 1 || pf.ToPort > 65535 {
			return cp.fail(f+".to_port", pf.ToPort, "want a port from 1 to 65535")
		}
		key := fmt.Sprintf("%s %s/%d", pf.Zone, pf.Proto, pf.Port)
		if j, ok := seen[key]; ok {
			return cp.fail(f, key, "want each zone, protocol and port forwarded once, got it also in port_forwards[%d]", j)
		}
		seen[key] = i
	}
	if c.ICMPRate == "" {
		c.ICMPRate = "10/second"
	}
	if _, err := ruleset.ParseRule("limit rate " + c.ICMPRate); err != nil || strings.ContainsAny(c.ICMPRate, " \t") {
		return cp.fail("icmp_rate", c.ICMPRate, "want N/second, N/minute, N/hour or N/day with N at least 1")
	}
	for _, ch := range sortedKeys(c.Extra) {
		if !slices.Contains(ExtraChains, ch) {
			return cp.fail("extra", ch, "want rules for the chains %s", strings.Join(ExtraChains, ", "))
		}
	}
	return nil
}

func sortedKeys[T any](m map[string]T) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// sortedSet returns the strings sorted, each once.
func sortedSet(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// ruleKey is a rule's place in the ruleset.
type ruleKey struct {
	chain string
	index int
}

// extraRule is where an extra rule came from, for its errors.
type extraRule struct{ field, text string }

// The ICMPv6 that IPv6 needs (RFC 4890): errors, wherever they come
// from, and neighbour discovery and router solicitation/advertisement to
// the router (the kernel drops those that did not come from the link:
// their hop limit must be 255).
const (
	icmpv6Errors = "destination-unreachable, packet-too-big, time-exceeded, parameter-problem"
	icmpv6ND     = "nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert"
	mld          = "mld-listener-query, mld-listener-report, mld-listener-done, mld2-listener-report"
)

func (cp *compiler) ruleset() (*ruleset.Ruleset, map[ruleKey]extraRule, error) {
	c := cp.c
	rs := &ruleset.Ruleset{Table: c.Table}
	for _, z := range cp.zoneIDs {
		rs.Sets = append(rs.Sets, ruleset.Set{Name: "zone_" + z})
	}
	chains := map[string][]string{}
	add := func(chain, format string, args ...any) {
		chains[chain] = append(chains[chain], fmt.Sprintf(format, args...))
	}

	// Reverse-path filter: before connection tracking (priority raw), drop
	// what would not be routed back out of the interface it came in on.
	// nft_fib lets DHCP's 0.0.0.0 -> broadcast through, and IPv6
	// link-local sources have their route on every link (iif).
	if c.RPFilter == nil || *c.RPFilter {
		add("prerouting", "fib saddr . iif oif missing drop")
	}

	// MSS clamping: a SYN (or SYN-ACK: before the established rule) in or
	// out of the zone gets at most the MSS its route's MTU allows, so that
	// hosts behind a link with a smaller MTU (PPPoE: 1492) never send
	// segments it would have to fragment or drop.
	for _, z := range sortedSet(c.ClampMSS) {
		add("forward", "iifname @zone_%s tcp flags syn tcp option maxseg size set rt mtu", z)
		add("forward", "oifname @zone_%s tcp flags syn tcp option maxseg size set rt mtu", z)
	}
	for _, ch := range []string{"input", "forward"} {
		add(ch, "ct state established,related accept")
		add(ch, "ct state invalid drop")
	}
	add("input", `iifname "lo" accept`)
	add("input", "icmp type echo-request limit rate %s accept", c.ICMPRate)
	add("input", "icmpv6 type { %s, %s } accept", icmpv6Errors, icmpv6ND)
	add("input", "icmpv6 type echo-request limit rate %s accept", c.ICMPRate)
	add("input", "ip6 saddr fe80::/10 icmpv6 type { %s } accept", mld)
	// DHCPv6 replies to the router's client (RFC 8415: server port 547 to
	// client port 546, link-local to link-local). Connection tracking
	// cannot match them: the Solicit went to a multicast group.
	add("input", "ip6 saddr fe80::/10 ip6 daddr fe80::/10 udp sport 547 udp dport 546 accept")
	for _, z := range sortedSet(c.InboundAll) {
		add("input", "iifname @zone_%s accept", z)
	}
	for _, z := range cp.zoneIDs {
		for _, proto := range []string{"tcp", "udp"} {
			var single []int
			var ranges [][2]int
			for _, in := range c.Inbound {
				if in.Zone != z || in.Proto != proto {
					continue
				}
				lo, hi, _ := ports(in.Ports)
				if lo == hi {
					single = append(single, lo)
				} else {
					ranges = append(ranges, [2]int{lo, hi})
				}
			}
			slices.Sort(single)
			single = slices.Compact(single)
			switch len(single) {
			case 0:
			case 1:
				add("input", "iifname @zone_%s %s dport %d accept", z, proto, single[0])
			default:
				list := make([]string, len(single))
				for i, p := range single {
					list[i] = strconv.Itoa(p)
				}
				add("input", "iifname @zone_%s %s dport { %s } accept", z, proto, strings.Join(list, ", "))
			}
			slices.SortFunc(ranges, func(a, b [2]int) int { return cmp.Or(a[0]-b[0], a[1]-b[1]) })
			for _, r := range slices.Compact(ranges) {
				add("input", "iifname @zone_%s %s dport %d-%d accept", z, proto, r[0], r[1])
			}
		}
	}

	add("forward", "icmpv6 type { %s } accept", icmpv6Errors)
	// What the port forwards (dstnat) let in.
	add("forward", "ct status dnat accept")
	pairs := make([]string, len(c.Forward))
	for i, f := range c.Forward {
		pairs[i] = fmt.Sprintf("iifname @zone_%s oifname @zone_%s accept", f.From, f.To)
	}
	for _, r := range sortedSet(pairs) {
		add("forward", "%s", r)
	}

	pfs := slices.Clone(c.PortForwards)
	slices.SortFunc(pfs, func(a, b PortForward) int {
		return cmp.Or(strings.Compare(a.Zone, b.Zone), strings.Compare(a.Proto, b.Proto), a.Port-b.Port)
	})
	for _, pf := range pfs {
		add("dstnat", "iifname @zone_%s meta nfproto ipv4 %s dport %d dnat ip to %s:%d", pf.Zone, pf.Proto, pf.Port, pf.ToAddr, pf.ToPort)
	}
	for _, z := range sortedSet(c.Masquerade) {
		add("srcnat", "oifname @zone_%s meta nfproto ipv4 masquerade", z)
	}

	hooks := map[string]*ruleset.Hook{
		"prerouting":  {Type: "filter", Hook: "prerouting", Priority: -300, Policy: "accept"},
		"input":       {Type: "filter", Hook: "input", Priority: 0, Policy: "drop"},
		"forward":     {Type: "filter", Hook: "forward", Priority: 0, Policy: "drop"},
		"output":      {Type: "filter", Hook: "output", Priority: 0, Policy: "accept"},
		"postrouting": {Type: "filter", Hook: "postrouting", Priority: 0, Policy: "accept"},
		"dstnat":      {Type: "nat", Hook: "prerouting", Priority: -100, Policy: "accept"},
		"srcnat":      {Type: "nat", Hook: "postrouting", Priority: 100, Policy: "accept"},
	}
	extra := map[ruleKey]extraRule{}
	for _, name := range ExtraChains {
		rules := chains[name]
		if len(rules) == 0 && len(c.Extra[name]) == 0 && name != "input" && name != "forward" && name != "output" {
			continue // input, forward and output are always there, for their policies
		}
		ch := ruleset.Chain{Name: name, Hook: hooks[name]}
		for _, text := range rules {
			r, err := ruleset.ParseRule(text)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: compiled rule %q of chain %s: %v (a bug in the compiler)", cp.file, text, name, err)
			}
			ch.Rules = append(ch.Rules, r)
		}
		for i, text := range c.Extra[name] {
			f := fmt.Sprintf("extra.%s[%d]", name, i)
			r, err := ruleset.ParseRule(text)
			if err != nil {
				return nil, nil, cp.fail(f, text, "%v", err)
			}
			extra[ruleKey{name, len(ch.Rules)}] = extraRule{f, text}
			ch.Rules = append(ch.Rules, r)
		}
		rs.Chains = append(rs.Chains, ch)
	}
	return rs, extra, nil
}
