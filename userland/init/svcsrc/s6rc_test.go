package svcsrc

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestS6RCFileRules checks, file by file, what the parser makes of the
// s6-rc source format. Each case quotes the s6-rc-compile rule it follows
// (or the brief of issue #18 where this system deliberately differs).
func TestS6RCFileRules(t *testing.T) {
	tests := []struct {
		name    string
		rule    string // the documented rule, for the reader
		files   map[string]string
		links   map[string]string     // symlink -> target
		check   func(*Service) string // "" when the service is as expected
		wantErr []string
	}{
		{
			name:  "flag-essential on a bundle",
			rule:  "flag-essential is allowed in a bundle and applies to every service it contains",
			files: map[string]string{"b/type": "bundle\n", "b/contents": "x\n", "b/flag-essential": ""},
			check: func(s *Service) string {
				if !s.Essential || s.Recommended {
					return "want Essential only"
				}
				return ""
			},
		},
		{
			name: "flag-recommended on an atomic service",
			rule: "s6-rc-set-new: \"Services with the recommended flag are added to the active rx\"",
			files: map[string]string{
				"b/type": "oneshot\n", "b/up": "true\n", "b/flag-recommended": "",
			},
			check: func(s *Service) string {
				if !s.Recommended || s.Essential {
					return "want Recommended only"
				}
				return ""
			},
		},
		{
			name:  "flag-recommended on a bundle",
			rule:  "flags on a bundle apply to every service it contains",
			files: map[string]string{"b/type": "bundle\n", "b/contents.d/x": "", "b/flag-recommended": ""},
			check: func(s *Service) string {
				if !s.Recommended {
					return "want Recommended"
				}
				return ""
			},
		},
		{
			name: "env/ is an envdir",
			rule: "s6-envdir: file name = variable, first line, trailing whitespace removed, " +
				"NULs become newlines; an empty file removes the variable",
			files: map[string]string{
				"b/type": "longrun\n", "b/run": "exec d\n",
				"b/env/A":     "one \t\nignored\n",
				"b/env/B":     "",
				"b/env/C":     "x\x00y\n",
				"b/env/EMPTY": "\n",
			},
			check: func(s *Service) string {
				return cmp.Diff([]string{"A=one", "B", "C=x\ny", "EMPTY="}, s.Env)
			},
		},
		{
			name: "env/ file starting with a dot",
			rule: "never ignore a file silently (s6-envdir would skip it)",
			files: map[string]string{
				"b/type": "longrun\n", "b/run": "exec d\n", "b/env/.A": "x",
			},
			wantErr: []string{`svc "b": file b/env/.A: starts with a dot: s6-envdir would skip it; rename or remove it`},
		},
		{
			name:    "env/ in a oneshot",
			rule:    "s6-rc-compile: env/ belongs to longrun definition directories",
			files:   map[string]string{"b/type": "oneshot\n", "b/up": "true", "b/env/A": "x"},
			wantErr: []string{`svc "b": file b/env: not allowed in a oneshot`},
		},
		{
			name: "data/ is copied verbatim",
			rule: "s6-rc-compile: \"only two subdirectories will be copied verbatim, data and env\"",
			files: map[string]string{"b/type": "longrun\n", "b/run": "exec d\n",
				"b/data/conf": "x=1\n", "b/data/a-b": "", "b/data/a/": "", "b/data/a/deep": "y"},
			check: func(s *Service) string {
				var got []string
				for _, f := range s.Data {
					got = append(got, f.Path+"="+string(f.Content))
				}
				// Byte order: "a-b" before "a/".
				return cmp.Diff([]string{"a-b=", "a/=", "a/deep=y", "conf=x=1\n"}, got)
			},
		},
		{
			name: "data/ through symlinks",
			rule: "files handed over as symlinks (Bazel runfiles, sandboxes) are copied as their targets",
			files: map[string]string{"b/type": "longrun\n", "b/run": "exec d\n",
				"target": "via link\n", "b/data/": ""},
			links: map[string]string{"b/data/link": "../../target"},
			check: func(s *Service) string {
				if len(s.Data) != 1 || string(s.Data[0].Content) != "via link\n" {
					return fmt.Sprintf("data = %+v, want link with the target's content", s.Data)
				}
				return ""
			},
		},
		{
			name:    "data/ in a bundle",
			rule:    "data/ belongs to longrun definition directories",
			files:   map[string]string{"b/type": "bundle\n", "b/contents": "x\n", "b/data/conf": "x"},
			wantErr: []string{`svc "b": file b/data: not allowed in a bundle`},
		},
		{
			name:    "nosetsid refused",
			rule:    "s6-supervise nosetsid: not implemented, refused",
			files:   map[string]string{"b/type": "longrun\n", "b/run": "exec d\n", "b/nosetsid": ""},
			wantErr: []string{`svc "b": file b/nosetsid: not supported: ` + refused["nosetsid"]},
		},
		{
			name:    "lock-fd refused",
			rule:    "s6-supervise lock-fd: not implemented, refused",
			files:   map[string]string{"b/type": "longrun\n", "b/run": "exec d\n", "b/lock-fd": "5\n"},
			wantErr: []string{`svc "b": file b/lock-fd: not supported: ` + refused["lock-fd"]},
		},
		{
			name: "instance and instances refused",
			rule: "s6 instanced services: not implemented, refused",
			files: map[string]string{"b/type": "longrun\n", "b/run": "exec d\n",
				"b/instance/": "", "b/instances/": ""},
			wantErr: []string{
				`svc "b": file b/instance: not supported: ` + refused["instance"],
				`svc "b": file b/instances: not supported: ` + refused["instances"],
			},
		},
		{
			name: "log/ refused",
			rule: "s6-rc-compile: \"Definition directories cannot have a log subdirectory - or if they do, it will be ignored\"",
			files: map[string]string{"b/type": "longrun\n", "b/run": "exec d\n",
				"b/log/run": "exec logger"},
			wantErr: []string{`svc "b": file b/log: not supported: ` + refused["log"]},
		},
		{
			name:    "unknown file",
			rule:    "any unknown file in a service source directory is an error naming it",
			files:   map[string]string{"b/type": "bundle\n", "b/contents": "x\n", "b/README": "hi"},
			wantErr: []string{`svc "b": file b/README: unknown file in a bundle definition`},
		},
		{
			name:    "run in a bundle",
			rule:    "known files of another type are errors",
			files:   map[string]string{"b/type": "bundle\n", "b/contents": "x\n", "b/run": "x"},
			wantErr: []string{`svc "b": file b/run: not allowed in a bundle`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, tc.files)
			for l, target := range tc.links {
				if err := os.Symlink(target, filepath.Join(root, l)); err != nil {
					t.Fatal(err)
				}
			}
			s, errs := ParseService(root, "b")
			if diff := cmp.Diff(tc.wantErr, errStrings(errs)); diff != "" {
				t.Fatalf("rule %q: errors (-want +got):\n%s", tc.rule, diff)
			}
			if tc.check != nil {
				if msg := tc.check(s); msg != "" {
					t.Errorf("rule %q: %s", tc.rule, msg)
				}
			}
		})
	}
}

// TestCheckExecline checks the dialect rule for oneshot up and down.
// s6-rc-compile: up and down "will be interpreted by the execlineb lexer",
// and s6-rc runs them with execlineb -P; so does this system. Refused: what
// execlineb refuses, and programs of execline or s6 that the device's
// interpreter does not have.
func TestCheckExecline(t *testing.T) {
	const unsupported = ", an execline or s6 program that this system's execline interpreter does not implement (see docs/services.md, \"execline\")"
	const syntax = ": execline syntax error (s6-rc runs up and down with execlineb -P, and so does this system): "
	tests := []struct {
		name   string
		script string
		want   string // "" = accepted; else the message
	}{
		{"execline from s6-rc", "if { mount -t proc proc /proc }\nforeground { echo mounted }\nredirfd -r 0 /etc/hostname\nwithstdinas -E H\nhostname $H\n", ""},
		{"shell through execline, as the Starlark rules write it", `/bin/sh -c "echo \"x\" > \"$OUTPUTS/a\" \\ {" up` + "\n", ""},
		{"execlineb shebang is a comment", "#!/bin/execlineb -P\ntrue\n", ""},
		{"empty", "", ""},
		// A shell script that execlineb can read runs as execline, as in
		// s6-rc: not refused, it means what it means there.
		{"shell words are arguments", "ip link set eth0 up && echo ok\n", ""},
		{"unsupported program", "foreground { echo hi }\nloopwhilex true\n", "line 2: uses loopwhilex" + unsupported},
		{"unsupported s6 program in a block", "if {\n  s6-setlock /run/l true\n}\ntrue\n", "line 2: uses s6-setlock" + unsupported},
		{"unmatched brace", "true\nif { mount /x\n", "line 2" + syntax + "unmatched {: the block opened here is not closed by a } before the end of the script"},
		{"shell quoting execline does not have", "echo 'it\"s'\n", "line 1" + syntax + `unterminated quoted string: expected a closing " before the end of the script`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, CheckExecline([]byte(tc.script))); diff != "" {
				t.Errorf("CheckExecline(%q) (-want +got):\n%s", tc.script, diff)
			}
		})
	}
}

// TestExeclineUpNamesFile checks the errors name the service directory
// and the file (up or down), the line and the command.
func TestExeclineUpNamesFile(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"m/type": "oneshot\n", "m/up": "true\n", "m/down": "foreground { umount /mnt }\ncd /\n",
		"n/type": "oneshot\n", "n/up": "if {\n", "n/down": "true",
	})
	var got []string
	for _, name := range []string{"m", "n"} {
		_, errs := ParseService(root, name)
		got = append(got, errStrings(errs)...)
	}
	want := []string{
		`svc "m": file m/down: line 2: uses cd, an execline or s6 program that this system's execline interpreter does not implement (see docs/services.md, "execline")`,
		`svc "n": file n/up: line 1: execline syntax error (s6-rc runs up and down with execlineb -P, and so does this system): unmatched {: the block opened here is not closed by a } before the end of the script`,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}
