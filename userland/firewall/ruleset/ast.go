package ruleset

// A Ruleset is one nftables table of family inet: its named sets and its
// chains, in the order they are declared (the kernel keeps that order, so a
// ruleset read back from it formats the same).
type Ruleset struct {
	Table  string
	Sets   []Set
	Chains []Chain
}

// A Set is a named set of interface names (type ifname). Sets are declared
// empty: their elements are the run-time state of the zones, not part of
// the ruleset.
type Set struct {
	Name string
}

// A Chain is a base chain (Hook set) or a regular chain, the target of
// jump and goto.
type Chain struct {
	Name  string
	Hook  *Hook
	Rules []Rule
}

// A Hook attaches a base chain to a netfilter hook.
type Hook struct {
	Type     string // "filter" or "nat"
	Hook     string // "prerouting", "input", "forward", "output", "postrouting"
	Priority int32
	Policy   string // "accept" or "drop"
}

// A Rule is matches, all of which must hold, then optionally a rate
// limit, a counter, and a final statement, in that order.
type Rule struct {
	Matches []Match
	Limit   *Limit
	Counter bool
	Stmt    Stmt
}

// Field is what a match looks at: a header field of the packet, its
// metadata or its connection-tracking state.
type Field uint8

// The fields. Header fields of transport or network protocols imply the
// protocol: "tcp dport 22" only matches TCP.
const (
	CtState Field = iota + 1
	CtStatus
	IifName
	OifName
	NfProto
	L4Proto
	TCPSport
	TCPDport
	UDPSport
	UDPDport
	ICMPType
	ICMPv6Type
	IPSaddr
	IPDaddr
	IP6Saddr
	IP6Daddr
	Fib // fib FLAGS oif missing|exists: a route lookup; Data is {0} (missing) or {1} (exists)
	TCPFlags
)

// Op is the comparison of a match: equal (the default) or "!=".
type Op uint8

const (
	Eq Op = iota
	Ne
)

// Kind is the form of a match's value.
type Kind uint8

const (
	Value  Kind = iota // one value: Data
	Flags              // a bitmask (ct state, ct status): Data, any bit set matches
	Range              // FIRST-LAST: Data, End (inclusive)
	Prefix             // ADDRESS/BITS: Data (host bits zero), Bits
	List               // { A, B, ... }: an anonymous set, Elems sorted, at least two
	SetRef             // @NAME: a named set, Set
)

// FibFlags are what a fib match looks up the route by.
type FibFlags uint8

const (
	FibSaddr FibFlags = 1 << iota
	FibDaddr
	FibIif
)

// A Match compares a field with a value.
//
// Values are held as the bytes the kernel compares, in network byte order:
// ports and addresses big-endian, interface names without padding, ct
// state and status as big-endian 32-bit masks (the kernel wants those in
// host order, which is for the encoder to apply).
type Match struct {
	Field Field
	Fib   FibFlags // Field == Fib
	Op    Op
	Kind  Kind
	Data  []byte
	End   []byte   // Range
	Bits  int      // Prefix
	Elems [][]byte // List
	Set   string   // SetRef
}

// A Limit is a rate limit in packets: the rule goes on while the rate is
// below Rate per Unit (with Over, while above).
type Limit struct {
	Rate  uint64
	Unit  string // "second", "minute", "hour", "day"
	Burst uint32 // packets; nft's default is 5
	Over  bool
}

// DefaultBurst is the burst of a limit that does not name one, as in nft.
const DefaultBurst = 5

// StmtKind is the final statement of a rule.
type StmtKind uint8

const (
	None StmtKind = iota
	Accept
	Drop
	Return
	Jump
	Goto
	Reject
	Masquerade
	DNAT
	SNAT
	// ClampMSS is "tcp option maxseg size set rt mtu": the MSS option of a
	// TCP segment lowered to what the route's MTU allows. It is not a
	// verdict: the rule's packet goes on to the next rule.
	ClampMSS
)

// A Stmt is the final statement of a rule.
type Stmt struct {
	Kind  StmtKind
	Chain string // Jump, Goto
	// Reject: TCPReset (with tcp reset), else an ICMPx code (with icmpx
	// CODE; plain "reject" is port-unreachable).
	TCPReset bool
	Code     uint8
	Addr     [4]byte // DNAT, SNAT (ip)
	Port     uint16  // DNAT, SNAT: 0 keeps the port
}

// ICMPx codes of reject, as in linux/netfilter/nf_tables.h.
const (
	RejectNoRoute         = 0
	RejectPortUnreachable = 1
	RejectHostUnreachable = 2
	RejectAdminProhibited = 3
)
