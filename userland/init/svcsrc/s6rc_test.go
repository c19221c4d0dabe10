package svcsrc

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// TestCheckShellScript checks the dialect rule for oneshot up and down:
// s6-rc-compile: "up and down ... will be interpreted by the execlineb
// lexer"; here they run under /bin/sh, so recognisable execline is refused
// and shell (including what s6-rc users write as shell) is accepted.
func TestCheckShellScript(t *testing.T) {
	tests := []struct {
		name   string
		script string
		uses   string // "" = accepted; else the list the error must name
	}{
		// Our own templates and ordinary shell.
		{"ip chain", "ip link set eth0 up && ip addr add 10.0.0.1/24 dev eth0 && echo eth0 > \"$OUTPUTS/ifname\"\n", ""},
		{"sysctl chain", "sysctl -w net.ipv4.ip_forward=1\n", ""},
		{"shell exec", "exec foo --flag\n", ""},
		{"shell if", "if [ -e /etc/x ]; then\n  exec foo\nfi\n", ""},
		{"shell if with brace group", "if { test -e /x; }; then echo y; fi\n", ""},
		{"words only as arguments", "echo foreground redirfd if { } && logger pipeline\n", ""},
		{"quoted execline", "echo 'foreground { echo hi }'\n", ""},
		{"comment", "# foreground { x }\ntrue\n", ""},
		{"shell export", "export A=b\nexec prog\n", ""},
		{"s6 tools from shell", "exec s6-setuidgid nobody s6-envdir env prog\n", ""},
		{"sh shebang", "#!/bin/sh\nforeground { odd }\n", ""},
		{"empty", "", ""},
		{"shell function named like execline", "pipeline() { a | b; }\npipeline\n", ""},
		{"sh -c as s6-rc documents", "/bin/sh -c \"if true; then echo; fi\"\n", ""},
		// execline.
		{"if block", "if { mount -t proc proc /proc }\nmount -t sysfs sys /sys\n", "if, { } blocks"},
		{"if -n block", "if -n { test -e /x } echo missing\n", "if, { } blocks"},
		{"foreground", "foreground { echo starting }\nexec prog\n", "foreground, exec, { } blocks"},
		{"redirfd", "redirfd -r 0 /etc/file prog\n", "redirfd"},
		{"chain", "fdmove -c 2 1\ns6-envdir ./env\ns6-setuidgid daemon\nbacktick -n X { cat /x }\nimportas -u X X\nexport Y $X\nprog\n",
			"backtick, importas, fdmove, export, s6-envdir, s6-setuidgid, { } blocks"},
		{"execlineb shebang", "#!/bin/execlineb -P\nprog\n", "#!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckShellScript([]byte(tc.script))
			switch {
			case tc.uses == "" && got != "":
				t.Errorf("refused shell script %q: %s", tc.script, got)
			case tc.uses == "#!" && !strings.Contains(got, "#!/bin/execlineb -P"):
				t.Errorf("got %q, want an execlineb shebang error", got)
			case tc.uses != "" && tc.uses != "#!" && !strings.Contains(got, ": uses "+tc.uses+"; "):
				t.Errorf("got %q, want it to say \"uses %s\"", got, tc.uses)
			}
		})
	}
}

// TestExeclineUpNamesFile checks the error names the file.
func TestExeclineUpNamesFile(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"m/type": "oneshot\n", "m/up": "true\n", "m/down": "foreground { umount /mnt }\n",
	})
	_, errs := ParseService(root, "m")
	got := errStrings(errs)
	if len(got) != 1 || !strings.HasPrefix(got[0], `svc "m": file m/down: an execline script`) ||
		!strings.Contains(got[0], "uses foreground, { } blocks") {
		t.Errorf("errors = %q, want one naming m/down and foreground", got)
	}
}
