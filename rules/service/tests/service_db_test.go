// Package tests checks the database service_db compiles from the services
// in this package's BUILD file, decoded with the device's own reader.
package tests

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/userland/init/execline"
	"bazwrt/userland/init/svcdb"
)

// tricky is the up script of the oneshot "tricky" in BUILD.bazel, written
// the same way: quotes, backslashes, $, braces, # and execline's escapes
// (\0x41, \n) that must reach the shell as they are.
const tricky = "printf '%s\\n' \"a \\\"quoted\\\" word\" \\\\back\\\\slash $HOME ${x} $0 \\0x41 \\n\n{ echo \"}\"; } # not a comment\n# a comment\necho end\\"

// shellOf reads back the shell script of a oneshot's up or down, which
// write_service writes as the execline `/bin/sh -c "SCRIPT" NAME`: parsed
// by the device's execline parser, it must give exactly that argv, SCRIPT
// being the rule's attribute.
func shellOf(t *testing.T, service, name string, script []byte) string {
	t.Helper()
	if script == nil {
		return ""
	}
	argv, err := execline.Parse(script)
	if err != nil {
		t.Errorf("%s/%s: %v", service, name, err)
		return ""
	}
	if len(argv) != 4 || argv[0] != "/bin/sh" || argv[1] != "-c" || argv[3] != name {
		t.Errorf("%s/%s: execline argv %q, want [/bin/sh -c SCRIPT %s]", service, name, argv, name)
		return ""
	}
	return argv[2]
}

var dbPath = flag.String("db", "", "the compiled database")

func TestServiceDB(t *testing.T) {
	db, err := svcdb.Load(filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"), *dbPath))
	if err != nil {
		t.Fatal(err)
	}
	type svc struct {
		Type     string
		Deps     []string
		Contents []string
		Up, Down string // the shell the rule was given (see shellOf)
		Run      string
		NotifyFD int
		Timeout  int64
		Signal   string
	}
	got := map[string]svc{}
	for _, s := range db.Services {
		signal := ""
		if s.Type == "longrun" { // the down signal means nothing to others
			signal = s.DownSignal
		}
		got[s.Name] = svc{
			Type:     string(s.Type),
			Deps:     s.Deps,
			Contents: s.Contents,
			Up:       shellOf(t, s.Name, "up", s.Up),
			Down:     shellOf(t, s.Name, "down", s.Down),
			Run:      string(s.Run),
			NotifyFD: s.NotificationFD,
			Timeout:  s.TimeoutUp,
			Signal:   signal,
		}
	}
	want := map[string]svc{
		// The boot bundle holds what `services` lists; lte-fallback is
		// and tricky are controlled: in the database, not in default.
		"default":  {Type: "bundle", Contents: []string{"dnsmasq", "watchdog"}, NotifyFD: -1},
		"tricky":   {Type: "oneshot", Up: tricky, Down: `echo "down"`, NotifyFD: -1},
		"dnsmasq":  {Type: "longrun", Deps: []string{"lan-address"}, Run: "exec dnsmasq -k", NotifyFD: 3, Timeout: 5000, Signal: "SIGTERM"},
		"watchdog": {Type: "longrun", Run: "exec watchdog -F /dev/watchdog", NotifyFD: -1, Signal: "SIGHUP"},
		"lan-address": {Type: "oneshot", Deps: []string{"loopback"}, Up: "ip address add 192.168.1.1/24 dev eth0\nip link set eth0 up\n",
			Down: "ip address del 192.168.1.1/24 dev eth0\n", NotifyFD: -1},
		"loopback":     {Type: "oneshot", Up: "ip link set lo up", Down: "ip link set lo down", NotifyFD: -1},
		"net":          {Type: "bundle", Contents: []string{"lan-address", "loopback"}, NotifyFD: -1},
		"lte-fallback": {Type: "oneshot", Deps: []string{"lan-address", "loopback"}, Up: "true", NotifyFD: -1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compiled services differ (-want +got):\n%s", diff)
	}
}
