package nft

import (
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	rs "bazwrt/userland/firewall/ruleset"
)

// inNetns moves the test's goroutine, for good, to a network namespace of
// its own, where it may load tables without touching the host's. Without
// the privilege (CAP_SYS_ADMIN) or nf_tables the test fails: a skipped
// test would pass under Bazel, and CI runs as root on a kernel with both.
func inNetns(t *testing.T) {
	// Never unlocked: when the test's goroutine ends, its thread ends,
	// and with it the namespace.
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("no network namespace of our own (%v): run as root (CAP_SYS_ADMIN) to test with the kernel", err)
	}
	c, err := dial()
	if errors.Is(err, unix.EPROTONOSUPPORT) {
		t.Fatalf("no nfnetlink in this kernel (%v): the host kernel needs nf_tables", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	c.close()
}

// kernelRules are the round-trip rules in the chains the kernel takes
// them in: filter rules at input, nat at their hooks.
func kernelRules() string {
	var filter, forward, dnat, snat []string
	for _, r := range roundTripRules {
		switch {
		case strings.Contains(r, "maxseg"):
			forward = append(forward, r)
		case strings.Contains(r, "dnat"):
			dnat = append(dnat, r)
		case strings.Contains(r, "snat"), strings.Contains(r, "masquerade"):
			snat = append(snat, r)
		default:
			filter = append(filter, r)
		}
	}
	return `table inet bazwrt_test {
	set zone_lan {
		type ifname
	}

	set zone_wan {
		type ifname
	}

	chain input {
		type filter hook input priority filter; policy drop;
		` + strings.Join(filter, "\n\t\t") + `
	}

	chain forward {
		type filter hook forward priority filter; policy drop;
		` + strings.Join(forward, "\n\t\t") + `
	}

	chain sub {
		counter return
	}

	chain dstnat {
		type nat hook prerouting priority dstnat; policy accept;
		` + strings.Join(dnat, "\n\t\t") + `
	}

	chain srcnat {
		type nat hook postrouting priority srcnat; policy accept;
		` + strings.Join(snat, "\n\t\t") + `
	}
}
`
}

// The kernel takes every construct and gives the ruleset back as it was
// loaded, with its zones; loading it again replaces it.
func TestKernel(t *testing.T) {
	inNetns(t)
	r, err := rs.Parse("kernel.nft", []byte(kernelRules()))
	if err != nil {
		t.Fatal(err)
	}
	for try := 0; try < 2; try++ {
		if err := Load(r, map[string][]string{"zone_lan": {"eth1", "br-lan"}}); err != nil {
			t.Fatalf("load %d: %v", try+1, err)
		}
	}
	got, err := Dump(r.Table)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(r.Format()), string(got.Format())); diff != "" {
		t.Errorf("dumped (-loaded +dumped):\n%s", diff)
	}
	if diff := cmp.Diff(r, got); diff != "" {
		t.Errorf("dumped ruleset (-loaded +dumped):\n%s", diff)
	}

	want := []Zone{{"zone_lan", []string{"br-lan", "eth1"}}, {"zone_wan", nil}}
	zones, err := Zones(r.Table)
	if err != nil || !cmp.Equal(zones, want) {
		t.Errorf("zones %+v, %v; want %+v", zones, err, want)
	}
	if err := SetZone(r.Table, "zone_wan", []string{"eth0", "ppp0"}); err != nil {
		t.Fatal(err)
	}
	if err := SetZone(r.Table, "zone_lan", nil); err != nil {
		t.Fatal(err)
	}
	want = []Zone{{"zone_lan", nil}, {"zone_wan", []string{"eth0", "ppp0"}}}
	zones, err = Zones(r.Table)
	if err != nil || !cmp.Equal(zones, want) {
		t.Errorf("zones %+v, %v; want %+v", zones, err, want)
	}

	// A transaction the kernel refuses leaves the table as it was.
	msgs, err := loadMessages(r, nil, binary.NativeEndian)
	if err != nil {
		t.Fatal(err)
	}
	var rule attrs
	rule.str(unix.NFTA_RULE_TABLE, r.Table)
	rule.str(unix.NFTA_RULE_CHAIN, "nosuch")
	rule.nest(unix.NFTA_RULE_EXPRESSIONS, marshalExprs([]expr{&verdictExpr{Code: nfAccept}}))
	msgs = append(msgs, message{unix.NFT_MSG_NEWRULE, unix.NLM_F_CREATE | unix.NLM_F_APPEND, rule, "chain nosuch, rule 1"})
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if err := c.transact(msgs); !errors.Is(err, unix.ENOENT) || !strings.HasPrefix(err.Error(), "chain nosuch, rule 1: ") {
		t.Errorf("transaction with a rule of no chain: %v, want ENOENT for the rule", err)
	}
	zones, err = Zones(r.Table)
	if err != nil || !cmp.Equal(zones, want) {
		t.Errorf("after a refused transaction: zones %+v, %v; want %+v", zones, err, want)
	}
	if got, err := Dump(r.Table); err != nil || string(got.Format()) != string(r.Format()) {
		t.Errorf("after a refused transaction: %v\n%s", err, got.Format())
	}
}
