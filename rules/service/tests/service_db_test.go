// Package tests checks the database service_db compiles from the services
// in this package's BUILD file, decoded with the device's own reader.
package tests

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"bazwrt/userland/init/svcdb"
)

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
		Up, Run  string
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
			Up:       string(s.Up),
			Run:      string(s.Run),
			NotifyFD: s.NotificationFD,
			Timeout:  s.TimeoutUp,
			Signal:   signal,
		}
	}
	want := map[string]svc{
		// The boot bundle holds what `services` lists; lte-fallback is
		// controlled: in the database, not in default.
		"default":      {Type: "bundle", Contents: []string{"dnsmasq", "watchdog"}, NotifyFD: -1},
		"dnsmasq":      {Type: "longrun", Deps: []string{"lan-address"}, Run: "exec dnsmasq -k", NotifyFD: 3, Timeout: 5000, Signal: "SIGTERM"},
		"watchdog":     {Type: "longrun", Run: "exec watchdog -F /dev/watchdog", NotifyFD: -1, Signal: "SIGHUP"},
		"lan-address":  {Type: "oneshot", Deps: []string{"loopback"}, Up: "ip address add 192.168.1.1/24 dev eth0\nip link set eth0 up\n", NotifyFD: -1},
		"loopback":     {Type: "oneshot", Up: "ip link set lo up", NotifyFD: -1},
		"net":          {Type: "bundle", Contents: []string{"lan-address", "loopback"}, NotifyFD: -1},
		"lte-fallback": {Type: "oneshot", Deps: []string{"lan-address", "loopback"}, Up: "true", NotifyFD: -1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compiled services differ (-want +got):\n%s", diff)
	}
}
