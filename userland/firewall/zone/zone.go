// Package zone keeps the firewall's zones equal to the interfaces their
// member services have up.
//
// A service that owns an interface writes its name to $OUTPUTS/ifname
// (/run/services/outputs/SERVICE/ifname) once the interface is up; the
// service manager creates that directory empty when the service starts
// and removes it when the service stops. A zone's interfaces are those of
// its members whose file names one.
//
// The Watcher learns of changes from inotify: a watch on the outputs
// directory (services' directories appear and disappear) and one on each
// member's directory (the file is written, replaced or removed), each
// change rescanning the few files there are. A slow periodic rescan is the
// safety net for anything inotify could miss (a queue overflow, the
// outputs directory created after the firewall started).
package zone

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"bazwrt/userland/firewall/ruleset"
)

// A Watcher keeps zones up to date.
type Watcher struct {
	Dir   string              // the services' outputs: /run/services/outputs
	Zones map[string][]string // zone -> its member services

	// Update makes a zone hold exactly the interfaces (sorted). It is
	// called when they change, and again after a failure.
	Update func(zone string, ifnames []string) error

	// Logf reports changes and errors; nil: silent.
	Logf func(format string, args ...any)

	// Rescan is the period of the safety-net rescan; 0 means 30 s.
	Rescan time.Duration

	known map[string]string // service -> its last interface
	bad   map[string]string // service -> invalid content last logged
}

// Retry is how soon a failed update, or a missing outputs directory, is
// tried again.
const Retry = time.Second

// debounce lets a file's creation, write and close arrive before the
// rescan.
const debounce = 20 * time.Millisecond

func (w *Watcher) logf(format string, args ...any) {
	if w.Logf != nil {
		w.Logf(format, args...)
	}
}

// Scan reads the member services' interfaces and returns each zone's,
// sorted, each once. An ifname file that exists but is empty is being
// written: the service's last interface stands until it has content.
func (w *Watcher) Scan() map[string][]string {
	if w.known == nil {
		w.known, w.bad = map[string]string{}, map[string]string{}
	}
	zones := map[string][]string{}
	for zone, services := range w.Zones {
		ifnames := []string{}
		for _, s := range services {
			b, err := os.ReadFile(filepath.Join(w.Dir, s, "ifname"))
			name := strings.TrimSpace(string(b))
			switch {
			case err != nil:
				w.known[s] = ""
			case name == "":
				// Being written; keep what was there.
			case ruleset.IfnameError(name) != "":
				if w.bad[s] != name {
					w.logf("service %s: ifname %q is not an interface name: ignored", s, name)
					w.bad[s] = name
				}
				w.known[s] = ""
			default:
				w.known[s] = name
			}
			if n := w.known[s]; n != "" {
				ifnames = append(ifnames, n)
			}
		}
		slices.Sort(ifnames)
		zones[zone] = slices.Compact(ifnames)
	}
	return zones
}

// Run keeps the zones up to date until ctx is done. applied is what they
// hold when it starts (nil: unknown, so every zone is set at once).
func (w *Watcher) Run(ctx context.Context, applied map[string][]string) error {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return os.NewSyscallError("inotify_init1", err)
	}
	// Non-blocking, so that the runtime's poller reads it and Close stops
	// the reader.
	f := os.NewFile(uintptr(fd), "inotify")
	defer f.Close()
	events := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}()

	rescan := w.Rescan
	if rescan <= 0 {
		rescan = 30 * time.Second
	}
	current := map[string][]string{}
	for z, ifs := range applied {
		current[z] = ifs
	}
	zones := make([]string, 0, len(w.Zones))
	for z := range w.Zones {
		zones = append(zones, z)
	}
	slices.Sort(zones)

	report := func(z string) {
		if len(current[z]) == 0 {
			w.logf("zone %s: no interfaces", z)
		} else {
			w.logf("zone %s: %s", z, strings.Join(current[z], " "))
		}
	}
	for _, z := range zones {
		if _, ok := current[z]; ok {
			report(z)
		}
	}

	// sync watches what exists, rescans and updates the zones that
	// changed; it returns when to rescan next.
	sync := func() time.Duration {
		next := rescan
		// Adding a watch again is cheap and idempotent, and it follows
		// directories removed and created again.
		const dirEvents = unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO | unix.IN_ONLYDIR
		if _, err := unix.InotifyAddWatch(fd, w.Dir, dirEvents); err != nil {
			next = Retry
		}
		for _, z := range zones {
			for _, s := range w.Zones[z] {
				unix.InotifyAddWatch(fd, filepath.Join(w.Dir, s), dirEvents|unix.IN_CLOSE_WRITE|unix.IN_MODIFY)
			}
		}
		want := w.Scan()
		for _, z := range zones {
			if ifs, ok := current[z]; ok && slices.Equal(ifs, want[z]) {
				continue
			}
			if err := w.Update(z, want[z]); err != nil {
				w.logf("zone %s: %v", z, err)
				delete(current, z)
				next = Retry
				continue
			}
			current[z] = want[z]
			report(z)
		}
		return next
	}

	timer := time.NewTimer(sync())
	defer timer.Stop()
	var pending <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-events:
			if pending == nil {
				pending = time.After(debounce)
			}
		case <-pending:
			pending = nil
			timer.Reset(sync())
		case <-timer.C:
			timer.Reset(sync())
		}
	}
}
