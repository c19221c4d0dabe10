package zone

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// publish writes a service's ifname file as publish_ifname does: printf
// '%s\n' NAME >"$OUTPUTS/ifname" (truncate, then write).
func publish(t *testing.T, dir, service, ifname string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, service), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, service, "ifname"), []byte(ifname+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestScan(t *testing.T) {
	dir := t.TempDir()
	w := &Watcher{Dir: dir, Zones: map[string][]string{
		"lan":   {"lan", "guest", "same"},
		"wan":   {"wan", "pppoe"},
		"empty": nil,
	}}
	publish(t, dir, "lan", "br-lan")
	publish(t, dir, "guest", "br-guest")
	publish(t, dir, "same", "br-lan") // two services, one interface
	publish(t, dir, "wan", "eth0")
	os.MkdirAll(filepath.Join(dir, "pppoe"), 0o755) // started, no interface yet
	want := map[string][]string{"lan": {"br-guest", "br-lan"}, "wan": {"eth0"}, "empty": {}}
	if diff := cmp.Diff(want, w.Scan()); diff != "" {
		t.Errorf("Scan (-want +got):\n%s", diff)
	}

	// A file being written (empty) keeps the last name; a bad name is
	// ignored; a removed directory removes the interface.
	os.WriteFile(filepath.Join(dir, "wan", "ifname"), nil, 0o644)
	publish(t, dir, "guest", "bad name")
	os.RemoveAll(filepath.Join(dir, "same"))
	publish(t, dir, "pppoe", "ppp0")
	want = map[string][]string{"lan": {"br-lan"}, "wan": {"eth0", "ppp0"}, "empty": {}}
	if diff := cmp.Diff(want, w.Scan()); diff != "" {
		t.Errorf("Scan after changes (-want +got):\n%s", diff)
	}
	os.RemoveAll(filepath.Join(dir, "wan"))
	if got := w.Scan()["wan"]; !slices.Equal(got, []string{"ppp0"}) {
		t.Errorf("wan after its service stopped = %q, want [ppp0]", got)
	}
}

// fake records the zones as the kernel's sets would hold them.
type fake struct {
	mu    sync.Mutex
	zones map[string][]string
	calls int
	fail  int // fail this many updates first
}

func (f *fake) update(zone string, ifnames []string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail > 0 {
		f.fail--
		return errors.New("no such table")
	}
	f.zones[zone] = slices.Clone(ifnames)
	return nil
}

func (f *fake) get(zone string) ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.zones[zone], f.calls
}

// within waits for the zone to hold want; the router test allows 2 s.
func within(t *testing.T, f *fake, zone string, want []string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		got, _ := f.get(zone)
		if slices.Equal(got, want) && (got != nil) == (want != nil) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("zone %s = %q after %v, want %q", zone, got, d, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func start(t *testing.T, w *Watcher, applied map[string][]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- w.Run(ctx, applied) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	publish(t, dir, "lan", "br-lan")
	f := &fake{zones: map[string][]string{}}
	w := &Watcher{
		Dir:    dir,
		Zones:  map[string][]string{"lan": {"lan", "guest"}, "wan": {"wan"}},
		Update: f.update,
		Logf:   t.Logf,
		Rescan: time.Hour, // inotify alone must do it
	}
	// What Load put in the sets is not set again.
	applied := w.Scan()
	f.zones = map[string][]string{"lan": {"br-lan"}, "wan": {}}
	start(t, w, applied)
	time.Sleep(50 * time.Millisecond)
	if _, calls := f.get("lan"); calls != 0 {
		t.Errorf("%d updates at start, want none: the sets already hold the zones", calls)
	}

	// An interface appears, then its name changes.
	publish(t, dir, "guest", "br-guest")
	within(t, f, "lan", []string{"br-guest", "br-lan"}, 2*time.Second)
	publish(t, dir, "guest", "br-guest2")
	within(t, f, "lan", []string{"br-guest2", "br-lan"}, 2*time.Second)
	// Another zone's service starts, brings its interface up, stops.
	publish(t, dir, "wan", "eth0")
	within(t, f, "wan", []string{"eth0"}, 2*time.Second)
	if err := os.RemoveAll(filepath.Join(dir, "wan")); err != nil {
		t.Fatal(err)
	}
	within(t, f, "wan", []string{}, 2*time.Second)
	// A restart: the directory is removed and created again, empty, then
	// the file is written.
	os.RemoveAll(filepath.Join(dir, "guest"))
	within(t, f, "lan", []string{"br-lan"}, 2*time.Second)
	publish(t, dir, "guest", "br-guest")
	within(t, f, "lan", []string{"br-guest", "br-lan"}, 2*time.Second)
	// The file alone removed.
	os.Remove(filepath.Join(dir, "lan", "ifname"))
	within(t, f, "lan", []string{"br-guest"}, 2*time.Second)
}

// The outputs directory may not exist yet when the firewall starts; a
// failed update is retried.
func TestRunRetries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "outputs")
	f := &fake{zones: map[string][]string{}, fail: 2}
	w := &Watcher{
		Dir:    dir,
		Zones:  map[string][]string{"lan": {"lan"}},
		Update: f.update,
		Logf:   t.Logf,
		Rescan: time.Hour,
	}
	start(t, w, nil)
	// The first update (empty zone) fails, and its retry; the next
	// succeeds.
	within(t, f, "lan", []string{}, 3*Retry)
	publish(t, dir, "lan", "br-lan")
	within(t, f, "lan", []string{"br-lan"}, 2*Retry)
	publish(t, dir, "lan", "br-lan2")
	within(t, f, "lan", []string{"br-lan2"}, 2*time.Second)
}
