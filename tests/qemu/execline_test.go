package qemu

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// shLines is a shell command that writes lines (single-quoted, so the
// shell leaves them alone) to file.
func shLines(file string, lines ...string) string {
	q := make([]string, len(lines))
	for i, l := range lines {
		q[i] = "'" + strings.ReplaceAll(l, "'", `'\''`) + "'"
	}
	return "printf '%s\\n' " + strings.Join(q, " ") + " >" + file
}

// TestExeclineOneshot: a oneshot's up is an execline script, as in s6-rc,
// run by init's own execlineb on the device. The image's oneshots (the
// Starlark rules write them as `/bin/sh -c "SCRIPT" up`) came up through
// it; then the hostname oneshot's up in its live directory, which is the
// file the manager runs, is replaced by an execline script using builtins
// (foreground, backtick, importas, redirfd), and the oneshot is brought
// down and up again with rc. A `#!/bin/execlineb -P` file runs too.
func TestExeclineOneshot(t *testing.T) {
	c, exited := bootWith(t)
	m, _, err := c.WaitFor(0, regexp.MustCompile(`init: "default" (is up|is not fully up:[^\n]*)`), 150*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if m[1] != "is up" {
		t.Fatalf("default bundle: %s", m[1])
	}
	if _, _, err := c.WaitFor(0, shellRE, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if up := c.Must("head -n 1 /run/services/live/mounts/up | cut -c 1-12"); up != `/bin/sh -c "`+"\n" {
		t.Errorf("the mounts oneshot's up starts with %q, want the execline /bin/sh -c \"...\"", up)
	}
	if out := c.Must("grep ' /var ' /proc/mounts"); !strings.Contains(out, "tmpfs") {
		t.Errorf("/var is not a tmpfs: the mounts oneshot did not run:\n%s", out)
	}

	c.Must(shLines("/run/services/live/hostname/up",
		"#!/bin/execlineb -P",
		"# s6-rc style: builtins chained, blocks in children.",
		"foreground { hostname -F /etc/hostname }",
		"backtick -E H { hostname }",
		"importas -i S SERVICE",
		"redirfd -w 1 /tmp/execline-oneshot",
		"echo $S ran in execline on $H",
	))
	c.Must("rc change -d hostname && rc change -u default")
	if out := c.Must("cat /tmp/execline-oneshot"); out != "hostname ran in execline on qemu\n" {
		t.Errorf("the execline oneshot wrote %q, want %q", out, "hostname ran in execline on qemu\n")
	}
	if out := c.Must("rc list up"); !strings.Contains(" "+strings.Join(strings.Fields(out), " ")+" ", " hostname ") {
		t.Errorf("hostname is not up again:\n%s", out)
	}

	c.Must(shLines("/tmp/script",
		"#!/bin/execlineb -P",
		"if { test -x /bin/execlineb }",
		"pipeline { echo piped } withstdinas -E X",
		"echo script $X",
	))
	c.Must("chmod +x /tmp/script")
	if out := c.Must("/tmp/script"); out != "script piped\n" {
		t.Errorf("#!/bin/execlineb -P script: %q, want %q", out, "script piped\n")
	}
	poweroffWorks(t, c, exited)
}
