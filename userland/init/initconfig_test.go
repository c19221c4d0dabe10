package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestInitConfig is the decision table of init's start: as PID 1 nothing
// may make it exit (the kernel would panic), outside PID 1 it does what it
// is asked.
func TestInitConfig(t *testing.T) {
	// want is what matters of the configuration.
	type want struct {
		Run, PID1, Mount, Hostname, Reboot, KillAll bool
		Code                                        int
		Shell, Root, Kmsg                           string
	}
	boot := want{Run: true, PID1: true, Mount: true, Hostname: true, Reboot: true, KillAll: true,
		Shell: "/bin/sh -l", Root: "/", Kmsg: "/dev/kmsg"}
	host := want{Run: true, Shell: "/bin/sh -l", Root: "/"}
	hostTest := want{Run: true, Root: "/"}
	with := func(w want, f func(*want)) want { f(&w); return w }
	tests := []struct {
		name   string
		pid1   bool
		args   []string
		env    map[string]string
		want   want
		stderr string // a substring of what init says; "" = nothing
	}{
		// As PID 1.
		{"boot", true, nil, nil, boot, ""},
		{"unknown flag", true, []string{"-root", "/x", "-bogus"}, nil, boot, `init: bad command line ["-root" "/x" "-bogus"] (flag provided but not defined: -bogus): ignoring it`},
		{"help", true, []string{"-h"}, nil, boot, "init: bad command line"},
		{"bad duration", true, []string{"-backoff", "soon"}, nil, boot, "init: bad command line"},
		{"bad flags with test and no-reboot", true, []string{"-test", "-no-reboot", "-x"}, nil, boot, "ignoring it"},
		{"kernel words", true, []string{"single", "rc"}, nil, boot, `init: ignoring arguments ["single" "rc"]`},
		{"-test", true, []string{"-test"}, nil, boot, "init: test mode (-test, INIT_TEST) is not for PID 1: booting normally"},
		{"INIT_TEST=1", true, nil, map[string]string{"INIT_TEST": "1"}, boot, "test mode (-test, INIT_TEST) is not for PID 1"},
		{"-no-reboot", true, []string{"-no-reboot"}, nil, with(boot, func(w *want) { w.Reboot = false }),
			"init: -no-reboot: after a shutdown PID 1 stays, with a console shell"},
		{"blank console shell", true, nil, map[string]string{"INIT_CONSOLE_SHELL": " \t "}, boot,
			`init: blank console shell command: using "/bin/sh -l"`},
		{"blank -console-shell", true, []string{"-console-shell", " "}, nil, boot, "blank console shell command"},
		{"no console shell", true, nil, map[string]string{"INIT_CONSOLE_SHELL": ""}, with(boot, func(w *want) { w.Shell = "" }), ""},
		{"-no-mount", true, []string{"-no-mount"}, nil, with(boot, func(w *want) { w.Mount = false }), ""},
		{"-kmsg", true, []string{"-kmsg", "/dev/null"}, nil, with(boot, func(w *want) { w.Kmsg = "/dev/null" }), ""},

		// Not PID 1: as before.
		{"host", false, nil, nil, host, ""},
		{"host unknown flag", false, []string{"-bogus"}, nil, want{Code: 2}, "flag provided but not defined: -bogus"},
		{"host help", false, []string{"-h"}, nil, want{Code: 2}, "Usage of init"},
		{"host -test", false, []string{"-test"}, nil, hostTest, ""},
		{"host INIT_TEST=yes", false, nil, map[string]string{"INIT_TEST": "yes"}, hostTest, ""},
		{"host -test with a shell", false, []string{"-test", "-console-shell", "/bin/x"}, nil,
			with(hostTest, func(w *want) { w.Shell = "/bin/x" }), ""},
		{"host -no-reboot", false, []string{"-no-reboot", "-root", "/r"}, nil, with(host, func(w *want) { w.Root = "/r" }), ""},
		{"host blank console shell", false, []string{"-console-shell", "  "}, nil, with(host, func(w *want) { w.Shell = "" }),
			"init: blank console shell command: no console shell"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var errb bytes.Buffer
			lookup := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			c, code, run := initConfig(tc.args, lookup, tc.pid1, &errb)
			got := want{Run: run, Code: code}
			if run {
				got = want{Run: true, PID1: c.PID1, Mount: c.Mount, Hostname: c.SetHostname, Reboot: c.Reboot, KillAll: c.KillAll,
					Shell: c.ConsoleShell, Root: c.Root, Kmsg: c.Kmsg}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("initConfig(%q, pid1=%v) (-want +got):\n%s", tc.args, tc.pid1, diff)
			}
			if tc.pid1 && !run {
				t.Errorf("PID 1 would exit with %d", code)
			}
			if tc.stderr == "" && errb.Len() > 0 || !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q, want it to contain %q", errb.String(), tc.stderr)
			}
		})
	}
}

// As PID 1 the program is init whatever its name and arguments (a kernel
// booted with init=/sbin/rc, or words like "help" on its command line).
func TestSelectApplet(t *testing.T) {
	type sel struct {
		Name string
		Args []string
		Help bool
	}
	tests := []struct {
		argv []string
		pid1 bool
		want sel
	}{
		{[]string{"/sbin/init"}, true, sel{"init", []string{}, false}},
		{[]string{"/sbin/init", "help"}, true, sel{"init", []string{"help"}, false}},
		{[]string{"/sbin/init", "rc", "status"}, true, sel{"init", []string{"rc", "status"}, false}},
		{[]string{"/sbin/rc", "status"}, true, sel{"init", []string{"status"}, false}},
		{[]string{"/sbin/poweroff"}, true, sel{"init", []string{}, false}},
		{[]string{"init", "init-manager"}, true, sel{"init", []string{"init-manager"}, false}},

		{[]string{"/sbin/init"}, false, sel{"init", []string{}, false}},
		{[]string{"/sbin/init", "help"}, false, sel{"init", []string{"help"}, true}},
		{[]string{"/sbin/init", "rc", "status"}, false, sel{"rc", []string{"status"}, false}},
		{[]string{"/sbin/rc", "status"}, false, sel{"rc", []string{"status"}, false}},
		{[]string{"/sbin/poweroff", "-f"}, false, sel{"poweroff", []string{"-f"}, false}},
		{[]string{"bazwrt-init", "-test"}, false, sel{"init", []string{"-test"}, false}},
		{[]string{"/proc/self/exe", "init-manager", "-db=x"}, false, sel{"init-manager", []string{"-db=x"}, false}},
	}
	for _, tc := range tests {
		name, args, help := selectApplet(tc.argv, tc.pid1)
		if diff := cmp.Diff(tc.want, sel{name, args, help}); diff != "" {
			t.Errorf("selectApplet(%q, pid1=%v) (-want +got):\n%s", tc.argv, tc.pid1, diff)
		}
	}
}
