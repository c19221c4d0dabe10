// Package firewall is the device's `firewall` command, an applet of init's
// multicall binary (/sbin/firewall): it loads a ruleset (see
// bazwrt/userland/firewall/ruleset) into nf_tables, keeps its zones
// following the interfaces of their member services, and reads back what
// the kernel holds.
//
//	firewall run -ruleset FILE [-zone ZONE=SERVICE]... [-outputs DIR] [-notify-fd N]
//	firewall load FILE
//	firewall dump [-table NAME]
//	firewall zones [-table NAME]
//	firewall check FILE
package firewall

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"bazwrt/userland/firewall/nft"
	"bazwrt/userland/firewall/ruleset"
	"bazwrt/userland/firewall/zone"
)

const usage = `usage: firewall COMMAND
commands:
  run -ruleset FILE [-zone ZONE=SERVICE]... [-outputs DIR] [-notify-fd N]
                  load the ruleset, then keep each zone's set (zone_ZONE) holding
                  the interfaces its services have up, until SIGTERM (the rules stay)
  load FILE       load a ruleset, keeping the interfaces the zones have now
  dump [-table NAME]
                  print the table the kernel has, in the ruleset's syntax
  zones [-table NAME]
                  print each set of the table and its interfaces
  check FILE      parse and check a ruleset
`

// DefaultTable is the table dump and zones read without -table: the
// compiler's default.
const DefaultTable = "bazwrt"

// Main runs the firewall command with its arguments (after "firewall").
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "run":
		return run(args, stderr)
	case "load":
		return load(args, stderr)
	case "dump":
		return dump(args, stdout, stderr)
	case "zones":
		return zones(args, stdout, stderr)
	case "check":
		return check(args, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "firewall: unknown command %q\n%s", cmd, usage)
	return 2
}

func flags(cmd string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("firewall "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFile reads and parses a ruleset; errors are FILE:LINE: ...
func parseFile(name string) (*ruleset.Ruleset, error) {
	text, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ruleset.Parse(name, text)
}

// oneFile parses the arguments of load and check: one file.
func oneFile(cmd string, args []string, stderr io.Writer) (*ruleset.Ruleset, string, int) {
	fs := flags(cmd, stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, "usage: firewall %s FILE\n", cmd) }
	if err := fs.Parse(args); err != nil {
		return nil, "", 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, "", 2
	}
	rs, err := parseFile(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "firewall: %v\n", err)
		return nil, "", 1
	}
	return rs, fs.Arg(0), 0
}

func check(args []string, stderr io.Writer) int {
	_, _, code := oneFile("check", args, stderr)
	return code
}

func load(args []string, stderr io.Writer) int {
	rs, name, code := oneFile("load", args, stderr)
	if code != 0 {
		return code
	}
	// The zones keep their interfaces: `firewall run` only updates them
	// when they change.
	elems := map[string][]string{}
	if zs, err := nft.Zones(rs.Table); err == nil {
		for _, z := range zs {
			elems[z.Set] = z.Ifnames
		}
	}
	if err := nft.Load(rs, elems); err != nil {
		fmt.Fprintf(stderr, "firewall: %s: %v\n", name, err)
		return 1
	}
	return 0
}

func tableFlag(cmd string, args []string, stderr io.Writer) (string, int) {
	fs := flags(cmd, stderr)
	t := fs.String("table", DefaultTable, "the inet table")
	if err := fs.Parse(args); err != nil {
		return "", 2
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "usage: firewall %s [-table NAME]\n", cmd)
		return "", 2
	}
	return *t, 0
}

func dump(args []string, stdout, stderr io.Writer) int {
	t, code := tableFlag("dump", args, stderr)
	if code != 0 {
		return code
	}
	rs, err := nft.Dump(t)
	if err != nil {
		fmt.Fprintf(stderr, "firewall dump: %v\n", err)
		return 1
	}
	stdout.Write(rs.Format())
	return 0
}

func zones(args []string, stdout, stderr io.Writer) int {
	t, code := tableFlag("zones", args, stderr)
	if code != 0 {
		return code
	}
	zs, err := nft.Zones(t)
	if err != nil {
		fmt.Fprintf(stderr, "firewall zones: %v\n", err)
		return 1
	}
	for _, z := range zs {
		fmt.Fprintln(stdout, strings.Join(append([]string{z.Set}, z.Ifnames...), " "))
	}
	return 0
}

// zoneFlags collects -zone ZONE=SERVICE.
type zoneFlags map[string][]string

func (z zoneFlags) String() string { return "" }

func (z zoneFlags) Set(v string) error {
	zone, service, ok := strings.Cut(v, "=")
	if !ok || zone == "" || service == "" || strings.ContainsAny(service, "/ ") {
		return errors.New("want ZONE=SERVICE")
	}
	for other, services := range z {
		for _, s := range services {
			if s == service {
				return fmt.Errorf("service %s is in zone %s already", service, other)
			}
		}
	}
	z[zone] = append(z[zone], service)
	return nil
}

func run(args []string, stderr io.Writer) int {
	fs := flags("run", stderr)
	file := fs.String("ruleset", "", "the ruleset `FILE`")
	zs := zoneFlags{}
	fs.Var(zs, "zone", "`ZONE=SERVICE`: the service's interface is in the zone's set, zone_ZONE (repeat)")
	outputs := fs.String("outputs", envOr("OUTPUTS_DIR", "/run/services/outputs"), "the services' outputs `DIR` (env OUTPUTS_DIR)")
	notify := fs.Int("notify-fd", -1, "write a newline to descriptor `N` once the ruleset is loaded")
	rescan := fs.Duration("rescan", 30*time.Second, "period of the safety-net rescan of the zones")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: firewall run -ruleset FILE [-zone ZONE=SERVICE]... [-outputs DIR] [-notify-fd N]")
		return 2
	}
	rs, err := parseFile(*file)
	if err != nil {
		fmt.Fprintf(stderr, "firewall: %v\n", err)
		return 1
	}
	sets := map[string]bool{}
	for _, s := range rs.Sets {
		sets[s.Name] = true
	}
	for z, services := range zs {
		if !sets["zone_"+z] {
			fmt.Fprintf(stderr, "firewall run: -zone %s=%s: %s has no set zone_%s\n", z, services[0], *file, z)
			return 2
		}
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, "firewall: "+format+"\n", args...) }
	w := &zone.Watcher{
		Dir:    *outputs,
		Zones:  zs,
		Update: func(z string, ifnames []string) error { return nft.SetZone(rs.Table, "zone_"+z, ifnames) },
		Logf:   logf,
		Rescan: *rescan,
	}
	current := w.Scan()
	elems := map[string][]string{}
	for z, ifnames := range current {
		elems["zone_"+z] = ifnames
	}
	if err := nft.Load(rs, elems); err != nil {
		fmt.Fprintf(stderr, "firewall: %s: %v\n", *file, err)
		return 1
	}
	rules := 0
	for _, c := range rs.Chains {
		rules += len(c.Rules)
	}
	logf("loaded %s: table inet %s, %d chains, %d rules", *file, rs.Table, len(rs.Chains), rules)
	if *notify >= 0 {
		f := os.NewFile(uintptr(*notify), "notification-fd")
		if _, err := f.Write([]byte("\n")); err != nil {
			logf("-notify-fd %d: %v", *notify, err)
		}
		f.Close()
	}
	// Until stopped; the rules stay loaded after: the firewall fails
	// closed.
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		cancel()
	}()
	if err := w.Run(ctx, current); err != nil {
		logf("zones: %v", err)
		return 1
	}
	logf("stopped; the rules stay loaded")
	return 0
}

func envOr(k, def string) string {
	if v, ok := os.LookupEnv(k); ok && v != "" {
		return v
	}
	return def
}
