package svcsrc

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// writeTree creates files under root from a map of relative path to
// content; a path ending in "/" is an (empty) directory.
func writeTree(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func errStrings(errs Errors) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestParseServiceFields(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  *Service
	}{
		{
			name: "oneshot",
			files: map[string]string{
				"s/type":             "oneshot\n",
				"s/up":               "echo up",
				"s/down":             "",
				"s/timeout-up":       " 1500\n",
				"s/timeout-down":     "0",
				"s/flag-essential":   "",
				"s/dependencies.d/b": "",
				"s/dependencies.d/a": "",
			},
			want: &Service{Name: "s", Type: Oneshot, Dependencies: []string{"a", "b"}, DepsFile: "s/dependencies.d",
				Up: []byte("echo up"), Down: []byte{}, NotificationFD: -1, TimeoutUp: 1500,
				TimeoutFinish: DefaultTimeoutFinish, Essential: true, DownSignal: "SIGTERM", MaxDeathTally: 100},
		},
		{
			name: "longrun",
			files: map[string]string{
				"s/type":            "longrun",
				"s/run":             "#!/bin/sh\nexec x\n",
				"s/finish":          "#!/bin/sh\n",
				"s/notification-fd": "4\n",
				"s/timeout-kill":    "250",
				"s/timeout-finish":  "100",
				"s/down-signal":     "hup\n",
				"s/max-death-tally": "7",
				"s/dependencies":    "# comment\nz\n\n  y  \nz\n",
				"s/producer-for":    "log\n",
			},
			want: &Service{Name: "s", Type: Longrun, Dependencies: []string{"y", "z"}, DepsFile: "s/dependencies",
				Run: []byte("#!/bin/sh\nexec x\n"), Finish: []byte("#!/bin/sh\n"), NotificationFD: 4,
				TimeoutKill: 250, TimeoutFinish: 100, DownSignal: "SIGHUP", MaxDeathTally: 7, ProducerFor: "log"},
		},
		{
			name: "bundle",
			files: map[string]string{
				"s/type":        "bundle",
				"s/contents.d/": "",
			},
			want: &Service{Name: "s", Type: Bundle, ContentsFile: "s/contents.d", NotificationFD: -1,
				TimeoutFinish: DefaultTimeoutFinish, DownSignal: "SIGTERM", MaxDeathTally: 100},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			got, errs := ParseService(root, "s")
			if len(errs) > 0 {
				t.Fatalf("unexpected errors:\n%v", errs)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseService mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"missing type", map[string]string{"s/up": "x"},
			[]string{`svc "s": file s/type: missing; want one of oneshot, longrun, bundle`}},
		{"bad type", map[string]string{"s/type": "daemon\n"},
			[]string{`svc "s": file s/type: unknown type "daemon"; want one of oneshot, longrun, bundle`}},
		{"type is dir", map[string]string{"s/type/": ""},
			[]string{`svc "s": file s/type: is a directory, want a file`}},
		{"non-integer notification-fd", map[string]string{"s/type": "longrun", "s/run": "x", "s/notification-fd": "three"},
			[]string{`svc "s": file s/notification-fd: want a file descriptor number as a decimal integer, got "three"`}},
		{"negative notification-fd", map[string]string{"s/type": "longrun", "s/run": "x", "s/notification-fd": "-3"},
			[]string{`svc "s": file s/notification-fd: want a file descriptor number as a decimal integer, got "-3"`}},
		{"notification-fd stdout", map[string]string{"s/type": "longrun", "s/run": "x", "s/notification-fd": "1"},
			[]string{`svc "s": file s/notification-fd: descriptor 1 is stdin, stdout or stderr; want 3 or more`}},
		{"notification-fd huge", map[string]string{"s/type": "longrun", "s/run": "x", "s/notification-fd": "100000"},
			[]string{`svc "s": file s/notification-fd: want a file descriptor number as a decimal integer at most 255, got "100000"`}},
		{"timeout-up not a number", map[string]string{"s/type": "oneshot", "s/up": "x", "s/timeout-up": "abc"},
			[]string{`svc "s": file s/timeout-up: want milliseconds as a decimal integer, got "abc"`}},
		{"timeout-down empty", map[string]string{"s/type": "oneshot", "s/up": "x", "s/timeout-down": "\n"},
			[]string{`svc "s": file s/timeout-down: want milliseconds as a decimal integer, got ""`}},
		{"timeout-kill overflow", map[string]string{"s/type": "longrun", "s/run": "x", "s/timeout-kill": "99999999999"},
			[]string{`svc "s": file s/timeout-kill: want milliseconds as a decimal integer at most 2147483647, got "99999999999"`}},
		{"max-death-tally too big", map[string]string{"s/type": "longrun", "s/run": "x", "s/max-death-tally": "5000"},
			[]string{`svc "s": file s/max-death-tally: want a count as a decimal integer at most 4096, got "5000"`}},
		{"bundle with run", map[string]string{"s/type": "bundle", "s/contents": "a", "s/run": "x"},
			[]string{`svc "s": file s/run: not allowed in a bundle`}},
		{"bundle with dependencies", map[string]string{"s/type": "bundle", "s/contents": "a", "s/dependencies": "b"},
			[]string{`svc "s": file s/dependencies: not allowed in a bundle`}},
		{"bundle without contents", map[string]string{"s/type": "bundle"},
			[]string{`svc "s": bundle has neither contents.d/ nor contents`}},
		{"bundle contains itself", map[string]string{"s/type": "bundle", "s/contents.d/s": ""},
			[]string{`svc "s": file s/contents.d: bundle contains itself`}},
		{"longrun without run", map[string]string{"s/type": "longrun"},
			[]string{`svc "s": file s/run: missing; a longrun needs a run script`}},
		{"longrun with empty run", map[string]string{"s/type": "longrun", "s/run": ""},
			[]string{`svc "s": file s/run: empty run script`}},
		{"longrun with up", map[string]string{"s/type": "longrun", "s/run": "x", "s/up": "y"},
			[]string{`svc "s": file s/up: not allowed in a longrun`}},
		{"oneshot without up", map[string]string{"s/type": "oneshot", "s/down": "x"},
			[]string{`svc "s": file s/up: missing; a oneshot needs an up script`}},
		{"oneshot with run and notification-fd", map[string]string{"s/type": "oneshot", "s/up": "x", "s/run": "y", "s/notification-fd": "3"},
			[]string{`svc "s": file s/notification-fd: not allowed in a oneshot`, `svc "s": file s/run: not allowed in a oneshot`}},
		{"dependency with slash", map[string]string{"s/type": "oneshot", "s/up": "x", "s/dependencies": "a/b\n"},
			[]string{`svc "s": file s/dependencies: invalid service name "a/b": contains a slash`}},
		{"dependency with dot", map[string]string{"s/type": "oneshot", "s/up": "x", "s/dependencies.d/.a": ""},
			[]string{`svc "s": file s/dependencies.d: invalid service name ".a": starts with a dot`}},
		{"dependency with space", map[string]string{"s/type": "oneshot", "s/up": "x", "s/dependencies": "a b\n"},
			[]string{`svc "s": file s/dependencies: invalid service name "a b": contains whitespace or a control character`}},
		{"both dependency forms", map[string]string{"s/type": "oneshot", "s/up": "x", "s/dependencies": "a", "s/dependencies.d/b": ""},
			[]string{`svc "s": file s/dependencies: both dependencies.d and dependencies exist; use only one`}},
		{"dependencies.d is a file", map[string]string{"s/type": "oneshot", "s/up": "x", "s/dependencies.d": "a"},
			[]string{`svc "s": file s/dependencies.d: is not a directory`}},
		{"self dependency", map[string]string{"s/type": "oneshot", "s/up": "x", "s/dependencies.d/s": ""},
			[]string{`svc "s": file s/dependencies.d: service depends on itself`}},
		{"bad down-signal", map[string]string{"s/type": "longrun", "s/run": "x", "s/down-signal": "SIGFOO"},
			[]string{`svc "s": file s/down-signal: unknown signal "SIGFOO"; want one of ` + strings.Join(Signals, " ")}},
		{"producer-for two lines", map[string]string{"s/type": "longrun", "s/run": "x", "s/producer-for": "a\nb\n"},
			[]string{`svc "s": file s/producer-for: want a single service name, got several lines`}},
		{"own producer", map[string]string{"s/type": "longrun", "s/run": "x", "s/producer-for": "s"},
			[]string{`svc "s": file s/producer-for: service cannot be its own consumer`}},
		{"pipeline-name without consumer-for", map[string]string{"s/type": "longrun", "s/run": "x", "s/pipeline-name": "p"},
			[]string{`svc "s": file s/pipeline-name: only allowed on the last consumer of a pipeline (needs consumer-for)`}},
		{"everything at once", map[string]string{"s/type": "longrun", "s/notification-fd": "x", "s/timeout-up": "y", "s/up": "z"},
			[]string{
				`svc "s": file s/up: not allowed in a longrun`,
				`svc "s": file s/run: missing; a longrun needs a run script`,
				`svc "s": file s/notification-fd: want a file descriptor number as a decimal integer, got "x"`,
				`svc "s": file s/timeout-up: want milliseconds as a decimal integer, got "y"`,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			_, errs := ParseService(root, "s")
			if diff := cmp.Diff(tc.want, errStrings(errs)); diff != "" {
				t.Errorf("errors mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDirNames(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		".hidden/type": "oneshot",
		"README":       "not a service",
		"b/type":       "oneshot",
		"b/up":         "x",
		"a/type":       "bogus",
		"c/type":       "bundle",
		"c/contents":   "b",
	})
	svcs, errs := ParseDir(root)
	var names []string
	for _, s := range svcs {
		names = append(names, s.Name)
	}
	if diff := cmp.Diff([]string{"b", "c"}, names); diff != "" {
		t.Errorf("services (-want +got):\n%s", diff)
	}
	want := []string{
		`svc ".hidden": invalid service name ".hidden": starts with a dot`,
		`svc "a": file a/type: unknown type "bogus"; want one of oneshot, longrun, bundle`,
	}
	if diff := cmp.Diff(want, errStrings(errs)); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
