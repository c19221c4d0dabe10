package svcdb

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/userland/init/svcsrc"

	"github.com/google/go-cmp/cmp"
)

// meaning is what s6-rc's documentation says a compiled service is; the
// expected values below were written by hand from that documentation, not
// produced by the compiler.
type meaning struct {
	Type                   svcsrc.Type
	Deps, Contents         []string
	Essential, Recommended bool
	ProducerFor            string
	ConsumerFor            []string
	PipelineName           string
	Env                    []string
	Data                   []string // "path mode content"; directories: "path/"
}

func meaningOf(s *Service) meaning {
	return meaning{Type: s.Type, Deps: s.Deps, Contents: s.Contents, Essential: s.Essential,
		Recommended: s.Recommended, ProducerFor: s.ProducerFor, ConsumerFor: s.ConsumerFor,
		PipelineName: s.PipelineName, Env: s.Env, Data: dataOf(s.Data)}
}

func dataOf(l []svcsrc.DataFile) []string {
	var out []string
	for _, f := range l {
		if strings.HasSuffix(f.Path, "/") {
			// A directory's mode comes from the umask of whoever
			// checked the tree out; git does not record it.
			out = append(out, f.Path)
			continue
		}
		out = append(out, fmt.Sprintf("%s %04o %q", f.Path, f.Mode, f.Content))
	}
	return out
}

// TestS6RCRouterCorpus compiles testdata/s6rc/router, a router's sources in
// s6-rc's format, and compares every service with the meaning s6-rc gives
// it:
//
//   - "Bundles are flattened during compilation: a parent bundle which
//     contains a child bundle will be compiled as if the parent bundle had
//     directly included the child bundle's contents." (base contains net,
//     services contains the pipeline bundle dnsmasq-pipeline.)
//   - Dependencies on a bundle are dependencies on its atomic contents
//     (dnsmasq depends on net = lan, wan).
//   - A producer depends on its consumer, so the consumer starts first
//     (dnsmasq -> dnsmasq-log, ntpd -> ntpd-log).
//   - pipeline-name on the last consumer "creates a bundle ... containing
//     all the services in the pipeline".
//   - flag-essential / flag-recommended on a bundle mark every service it
//     contains, through nested bundles (base -> net -> lan, wan; services ->
//     dnsmasq-pipeline -> dnsmasq, dnsmasq-log).
//   - env/ is read as s6-envdir does: first line, trailing whitespace
//     removed; an empty file (TZ) removes the variable.
//   - data/ is "copied verbatim" into the service directory: every file and
//     directory, with its mode.
//   - There is no default bundle, and s6-rc-compile does not require one.
func TestS6RCRouterCorpus(t *testing.T) {
	db, err := CompileDirs("testdata/s6rc/router")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]meaning{
		"base":             {Type: svcsrc.Bundle, Contents: []string{"lan", "mounts", "wan"}},
		"net":              {Type: svcsrc.Bundle, Contents: []string{"lan", "wan"}},
		"services":         {Type: svcsrc.Bundle, Contents: []string{"dnsmasq", "dnsmasq-log", "ntpd"}},
		"dnsmasq-pipeline": {Type: svcsrc.Bundle, Contents: []string{"dnsmasq", "dnsmasq-log"}},
		"mounts":           {Type: svcsrc.Oneshot, Essential: true},
		"lan":              {Type: svcsrc.Oneshot, Deps: []string{"mounts"}, Essential: true},
		"wan":              {Type: svcsrc.Oneshot, Deps: []string{"lan"}, Essential: true},
		"dnsmasq": {Type: svcsrc.Longrun, Deps: []string{"dnsmasq-log", "lan", "wan"}, Recommended: true,
			ProducerFor: "dnsmasq-log", Env: []string{"DNSMASQ_OPTS=--no-resolv --bogus-priv", "TZ"},
			Data: []string{
				`conf.d/`,
				`conf.d/lan.conf 0644 "interface=br-lan\n"`,
				`dhcp-script 0755 "#!/bin/sh\nexec logger -t dnsmasq-hook \"$@\"\n"`,
				`dnsmasq.conf 0644 "domain=lan\nlocal=/lan/\n"`,
			}},
		"dnsmasq-log": {Type: svcsrc.Longrun, Recommended: true, ConsumerFor: []string{"dnsmasq"},
			PipelineName: "dnsmasq-pipeline"},
		"ntpd": {Type: svcsrc.Longrun, Deps: []string{"ntpd-log", "wan"}, Recommended: true,
			ProducerFor: "ntpd-log"},
		"ntpd-log": {Type: svcsrc.Longrun, Recommended: true, ConsumerFor: []string{"ntpd"}},
	}
	got := map[string]meaning{}
	for _, s := range db.Services {
		got[s.Name] = meaningOf(s)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("compiled meaning differs from s6-rc's (-want +got):\n%s", diff)
	}
	// The meaning survives the device's encoding.
	back, err := decode(Encode(db), false)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Dump(db), Dump(back)); diff != "" {
		t.Errorf("round trip (-compiled +decoded):\n%s", diff)
	}
	// An image needs a default bundle; this corpus has none.
	if _, err := CompileDirsOpts(Options{RequireDefault: true}, "testdata/s6rc/router"); err == nil ||
		!strings.Contains(err.Error(), `no "default" service`) {
		t.Errorf("RequireDefault: err = %v, want a missing default error", err)
	}
}

// TestS6RCExeclineCorpus compiles testdata/s6rc/execline: up and down
// files in execline (s6-rc-compile: "The files will be interpreted by the
// execlineb lexer"; s6-rc runs them with execlineb -P, and so does the
// device) compile, and the database holds them byte for byte, as they are
// written, to be run by the device's interpreter. The files of
// testdata/s6rc/execline-refused use what execlineb refuses or programs
// the interpreter does not implement: each is refused, naming the file,
// the line and the command.
func TestS6RCExeclineCorpus(t *testing.T) {
	db, err := CompileDirs("testdata/s6rc/execline")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, s := range db.Services {
		if s.Type == svcsrc.Oneshot {
			got[s.Name+"/up"] = string(s.Up)
			if s.Down != nil {
				got[s.Name+"/down"] = string(s.Down)
			}
		}
	}
	want := map[string]string{}
	for f := range got {
		b, err := os.ReadFile(filepath.Join("testdata/s6rc/execline", f))
		if err != nil {
			t.Fatal(err)
		}
		want[f] = string(b)
	}
	if len(want) != 4 {
		t.Errorf("%d up and down scripts compiled, want 4: %v", len(want), want)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("scripts in the database (-files +database):\n%s", diff)
	}

	_, err = CompileDirs("testdata/s6rc/execline-refused")
	if err == nil {
		t.Fatal("compiled scripts that cannot run")
	}
	var msgs []string
	for _, e := range err.(svcsrc.Errors) {
		msgs = append(msgs, e.Error())
	}
	const unsupported = ", an execline or s6 program that this system's execline interpreter does not implement (see docs/services.md, \"execline\")"
	wantMsgs := []string{
		`testdata/s6rc/execline-refused: svc "broken": file broken/up: line 2: execline syntax error (s6-rc runs up and down with execlineb -P, and so does this system): unterminated quoted string: expected a closing " before the end of the script`,
		`testdata/s6rc/execline-refused: svc "broken": file broken/down: line 1: uses loopwhilex` + unsupported,
		`testdata/s6rc/execline-refused: svc "lock": file lock/up: line 2: uses s6-setlock` + unsupported,
	}
	if diff := cmp.Diff(wantMsgs, msgs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

// TestFlagPropagation is the flag rule in isolation, through three levels
// of nesting and with a service in two bundles.
func TestFlagPropagation(t *testing.T) {
	files := map[string]string{
		"outer/type": "bundle", "outer/contents": "middle\n", "outer/flag-essential": "",
		"middle/type": "bundle", "middle/contents": "inner\nm\n",
		"inner/type": "bundle", "inner/contents": "i\nshared\n",
		"rec/type": "bundle", "rec/contents": "shared\nr\n", "rec/flag-recommended": "",
		"i/type": "oneshot", "i/up": "true", "m/type": "oneshot", "m/up": "true",
		"shared/type": "oneshot", "shared/up": "true", "r/type": "oneshot", "r/up": "true",
		"alone/type": "oneshot", "alone/up": "true",
	}
	db, errs := compileMap(t, files)
	if errs != nil {
		t.Fatal(errs)
	}
	type flags struct{ Essential, Recommended bool }
	got := map[string]flags{}
	for _, s := range db.Services {
		if s.Atomic() {
			got[s.Name] = flags{s.Essential, s.Recommended}
		}
	}
	want := map[string]flags{
		"i": {true, false}, "m": {true, false}, "shared": {true, true}, "r": {false, true}, "alone": {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
}
