package svcdb

import (
	"fmt"
	"slices"
	"strings"

	"bazwrt/userland/init/svcsrc"
)

// Check verifies everything the compiler guarantees about a database, so
// that the device never acts on one it would not have produced: Decode runs
// it on every database it reads (a corrupt or hand-made file gets a clear
// error instead of a hang or a panic in the service manager), and Compile on
// its own output. It checks:
//
//   - services sorted by name, no duplicates, valid names and types;
//   - a "default" service;
//   - bundles carry only their contents, atomic services only;
//   - oneshots have an up script and no longrun fields; longruns a
//     non-empty run script, no oneshot scripts;
//   - notification-fd -1 or 3..255, timeouts 0..svcsrc.MaxTimeout,
//     max-death-tally 0..4096, a known down-signal;
//   - dependencies sorted, unique, atomic, known, not the service itself;
//     reverse dependencies exactly their inverse; no dependency cycle;
//   - pipelines: producer-for and consumer-for agree, both ends longruns,
//     the producer depends on its consumer, pipeline-name only on the last
//     consumer and naming a bundle that contains it.
func (db *DB) Check() error { return db.check(true) }

// check is Check, the default service being optional unless
// requireDefault.
func (db *DB) check(requireDefault bool) error {
	byName := make(map[string]*Service, len(db.Services))
	for i, s := range db.Services {
		if s == nil {
			return fmt.Errorf("service %d is nil", i)
		}
		if msg := svcsrc.CheckName(s.Name); msg != "" {
			return fmt.Errorf("service %d: %s", i, msg)
		}
		if i > 0 {
			switch prev := db.Services[i-1].Name; {
			case prev == s.Name:
				return fmt.Errorf("duplicate service %q", s.Name)
			case prev > s.Name:
				return fmt.Errorf("services not sorted by name (%q after %q)", s.Name, prev)
			}
		}
		switch s.Type {
		case svcsrc.Oneshot, svcsrc.Longrun, svcsrc.Bundle:
		default:
			return fmt.Errorf("service %q: bad type %q", s.Name, s.Type)
		}
		byName[s.Name] = s
	}
	if requireDefault && byName[DefaultBundle] == nil {
		return fmt.Errorf("no %q service", DefaultBundle)
	}
	pipelines := map[string]string{}
	for _, s := range db.Services {
		if err := checkService(s, byName, pipelines); err != nil {
			return fmt.Errorf("service %q: %v", s.Name, err)
		}
	}
	return checkCycles(db.Services)
}

// checkRefs checks a list of references to atomic services: sorted, unique,
// known, atomic and not self.
func checkRefs(what string, self *Service, l []string, byName map[string]*Service) error {
	for i, n := range l {
		if i > 0 && l[i-1] >= n {
			return fmt.Errorf("%s not sorted or repeated (%q after %q)", what, n, l[i-1])
		}
		t := byName[n]
		switch {
		case t == nil:
			return fmt.Errorf("%s: unknown service %q", what, n)
		case !t.Atomic():
			return fmt.Errorf("%s: %q is a bundle, want an atomic service", what, n)
		case t == self:
			return fmt.Errorf("%s: refers to the service itself", what)
		}
	}
	return nil
}

func checkService(s *Service, byName map[string]*Service, pipelines map[string]string) error {
	if !s.Atomic() {
		switch {
		case len(s.Deps) > 0 || len(s.RevDeps) > 0:
			return fmt.Errorf("a bundle has no dependencies")
		case s.Up != nil || s.Down != nil || s.Run != nil || s.Finish != nil:
			return fmt.Errorf("a bundle has no scripts")
		case s.NotificationFD != -1 || s.TimeoutUp != 0 || s.TimeoutDown != 0 || s.TimeoutKill != 0 ||
			s.TimeoutFinish != 0 || s.Essential || s.Recommended || len(s.Env) > 0 || len(s.Data) > 0 || s.DownSignal != "" || s.MaxDeathTally != 0 ||
			s.ProducerFor != "" || len(s.ConsumerFor) > 0 || s.PipelineName != "":
			return fmt.Errorf("a bundle only has contents")
		}
		return checkRefs("contents", s, s.Contents, byName)
	}
	if len(s.Contents) > 0 {
		return fmt.Errorf("a %s has no contents", s.Type)
	}
	if err := checkRefs("dependencies", s, s.Deps, byName); err != nil {
		return err
	}
	if err := checkRefs("reverse dependencies", s, s.RevDeps, byName); err != nil {
		return err
	}
	for _, d := range s.Deps {
		if !slices.Contains(byName[d].RevDeps, s.Name) {
			return fmt.Errorf("depends on %q, which does not list it as a reverse dependency", d)
		}
	}
	for _, r := range s.RevDeps {
		if !slices.Contains(byName[r].Deps, s.Name) {
			return fmt.Errorf("reverse dependency %q does not depend on it", r)
		}
	}
	switch s.Type {
	case svcsrc.Oneshot:
		switch {
		case s.Up == nil:
			return fmt.Errorf("a oneshot needs an up script")
		case s.Run != nil || s.Finish != nil:
			return fmt.Errorf("a oneshot has no run or finish script")
		case s.NotificationFD != -1:
			return fmt.Errorf("a oneshot has no notification-fd")
		case s.ProducerFor != "" || len(s.ConsumerFor) > 0 || s.PipelineName != "":
			return fmt.Errorf("only longruns are in pipelines")
		case len(s.Env) > 0 || len(s.Data) > 0:
			return fmt.Errorf("a oneshot has no env or data")
		}
	case svcsrc.Longrun:
		switch {
		case len(s.Run) == 0:
			return fmt.Errorf("a longrun needs a non-empty run script")
		case s.Up != nil || s.Down != nil:
			return fmt.Errorf("a longrun has no up or down script")
		case s.NotificationFD != -1 && (s.NotificationFD < svcsrc.MinNotificationFD || s.NotificationFD > svcsrc.MaxNotificationFD):
			return fmt.Errorf("notification-fd %d out of range %d..%d", s.NotificationFD, svcsrc.MinNotificationFD, svcsrc.MaxNotificationFD)
		}
	}
	for _, t := range []struct {
		name string
		v    int64
	}{{"timeout-up", s.TimeoutUp}, {"timeout-down", s.TimeoutDown}, {"timeout-kill", s.TimeoutKill}, {"timeout-finish", s.TimeoutFinish}} {
		if t.v < 0 || t.v > svcsrc.MaxTimeout {
			return fmt.Errorf("%s %d out of range 0..%d", t.name, t.v, svcsrc.MaxTimeout)
		}
	}
	if s.MaxDeathTally < 0 || s.MaxDeathTally > svcsrc.MaxMaxDeathTally {
		return fmt.Errorf("max-death-tally %d out of range 0..%d", s.MaxDeathTally, svcsrc.MaxMaxDeathTally)
	}
	if !slices.Contains(svcsrc.Signals, s.DownSignal) {
		return fmt.Errorf("unknown down-signal %q", s.DownSignal)
	}
	for i, e := range s.Env {
		name, _, _ := strings.Cut(e, "=")
		switch {
		case name == "" || strings.HasPrefix(name, ".") || strings.ContainsRune(name, 0):
			return fmt.Errorf("env: bad variable name %q", name)
		case i > 0 && envName(s.Env[i-1]) >= name:
			return fmt.Errorf("env not sorted or repeated (%q after %q)", name, s.Env[i-1])
		}
	}
	for i, f := range s.Data {
		dir := strings.HasSuffix(f.Path, "/")
		switch {
		case svcsrc.CheckDataPath(f.Path) != "":
			return fmt.Errorf("data %q: %s", f.Path, svcsrc.CheckDataPath(f.Path))
		case i > 0 && s.Data[i-1].Path >= f.Path:
			return fmt.Errorf("data not sorted or repeated (%q after %q)", f.Path, s.Data[i-1].Path)
		case f.Mode&^0o777 != 0:
			return fmt.Errorf("data %q: bad mode %o", f.Path, f.Mode)
		case dir && f.Content != nil:
			return fmt.Errorf("data %q: a directory has no content", f.Path)
		case !dir && f.Content == nil:
			return fmt.Errorf("data %q: a file needs content (possibly empty)", f.Path)
		}
	}
	if p := s.ProducerFor; p != "" {
		c := byName[p]
		switch {
		case svcsrc.CheckName(p) != "":
			return fmt.Errorf("producer-for: %s", svcsrc.CheckName(p))
		case c == nil:
			return fmt.Errorf("producer-for: unknown consumer %q", p)
		case c == s:
			return fmt.Errorf("producer-for: a service cannot be its own consumer")
		case c.Type != svcsrc.Longrun:
			return fmt.Errorf("producer-for: consumer %q is a %s, want a longrun", p, c.Type)
		case !slices.Contains(c.ConsumerFor, s.Name):
			return fmt.Errorf("producer-for: %q does not list it in its consumer-for", p)
		case !slices.Contains(s.Deps, p):
			return fmt.Errorf("producer-for: does not depend on its consumer %q", p)
		}
	}
	for i, p := range s.ConsumerFor {
		ps := byName[p]
		switch {
		case i > 0 && s.ConsumerFor[i-1] >= p:
			return fmt.Errorf("consumer-for not sorted or repeated (%q after %q)", p, s.ConsumerFor[i-1])
		case svcsrc.CheckName(p) != "":
			return fmt.Errorf("consumer-for: %s", svcsrc.CheckName(p))
		case ps == nil:
			return fmt.Errorf("consumer-for: unknown producer %q", p)
		case ps == s:
			return fmt.Errorf("consumer-for: a service cannot be its own producer")
		case ps.Type != svcsrc.Longrun:
			return fmt.Errorf("consumer-for: producer %q is a %s, want a longrun", p, ps.Type)
		case ps.ProducerFor != s.Name:
			return fmt.Errorf("consumer-for: %q is not producer-for it", p)
		}
	}
	if pn := s.PipelineName; pn != "" {
		b := byName[pn]
		switch {
		case svcsrc.CheckName(pn) != "":
			return fmt.Errorf("pipeline-name: %s", svcsrc.CheckName(pn))
		case len(s.ConsumerFor) == 0 || s.ProducerFor != "":
			return fmt.Errorf("pipeline-name: only the last consumer of a pipeline names it")
		case pipelines[pn] != "":
			return fmt.Errorf("pipeline-name: %q already named by %q", pn, pipelines[pn])
		case b == nil || b.Atomic() || !slices.Contains(b.Contents, s.Name):
			return fmt.Errorf("pipeline-name: no bundle %q containing the service", pn)
		}
		pipelines[pn] = s.Name
	}
	return nil
}

func envName(e string) string { n, _, _ := strings.Cut(e, "="); return n }

// checkCycles reports a dependency cycle among the atomic services (whose
// references were checked). It peels off services whose dependencies are all
// done (Kahn's algorithm, no recursion); whatever remains lies on or behind a
// cycle, and following remaining dependencies from there must close one.
func checkCycles(svcs []*Service) error {
	pending := map[string]int{} // unresolved dependencies
	rev := map[string][]string{}
	var ready []string
	for _, s := range svcs {
		if !s.Atomic() {
			continue
		}
		pending[s.Name] = len(s.Deps)
		for _, d := range s.Deps {
			rev[d] = append(rev[d], s.Name)
		}
		if len(s.Deps) == 0 {
			ready = append(ready, s.Name)
		}
	}
	for len(ready) > 0 {
		n := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		delete(pending, n)
		for _, r := range rev[n] {
			if pending[r]--; pending[r] == 0 {
				ready = append(ready, r)
			}
		}
	}
	if len(pending) == 0 {
		return nil
	}
	byName := map[string]*Service{}
	for _, s := range svcs {
		byName[s.Name] = s
	}
	// Start from the first remaining service (svcs is sorted) and follow
	// the first remaining dependency until a service repeats.
	var n string
	for _, s := range svcs {
		if _, ok := pending[s.Name]; ok {
			n = s.Name
			break
		}
	}
	var path []string
	seen := map[string]int{}
	for {
		if i, ok := seen[n]; ok {
			return fmt.Errorf("dependency cycle: %s", strings.Join(append(path[i:], n), " -> "))
		}
		seen[n] = len(path)
		path = append(path, n)
		next := ""
		for _, d := range byName[n].Deps {
			if _, ok := pending[d]; ok {
				next = d
				break
			}
		}
		if next == "" {
			// Cannot happen: a remaining service has a remaining
			// dependency. Report rather than loop.
			return fmt.Errorf("dependency cycle through %q", n)
		}
		n = next
	}
}
