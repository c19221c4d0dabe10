package qemu

import (
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/vm"
	"bazwrt/tools/vm/vmtest"
)

// bootWith boots the image with extra kernel arguments (NAME=value words
// become init's environment) and returns its console and a channel that
// QEMU's exit closes.
func bootWith(t *testing.T, args ...string) (*vmtest.Console, <-chan error) {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-mips"); err != nil {
		t.Fatalf("%v: install the Debian package qemu-system-mips", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	v, err := vm.Start(ctx, vm.Config{
		Kernel:   runfiles.Path(t, *kernel),
		Rootfs:   runfiles.Path(t, *rootfs),
		Dir:      t.TempDir(),
		PortBase: vmtest.PortBase(t),
		Append:   args,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Kill() })
	conn, err := v.Console()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	exited := make(chan error, 1)
	go func() { exited <- v.Wait() }()
	return vmtest.NewConsole(t, conn), exited
}

// poweroffWorks runs poweroff on the console and waits for QEMU to end.
func poweroffWorks(t *testing.T, c *vmtest.Console, exited <-chan error) {
	t.Helper()
	if _, err := c.Write([]byte("poweroff\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if !strings.Contains(c.Text(), "reboot: Power down") {
			t.Errorf("QEMU ended without the kernel's power-down line:\n%s", vmtest.Tail(c.Text(), 2000))
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("poweroff: the VM still runs after 90 s:\n%s", vmtest.Tail(c.Text(), 2000))
	}
}

var shellRE = regexp.MustCompile(`built-in shell \(ash\)`)

// TestCorruptDatabase: init cannot load its service database (here it is
// pointed at a file that is not one); it says so, and the console shell
// and poweroff still work.
func TestCorruptDatabase(t *testing.T) {
	c, exited := bootWith(t, "SVC_DB=/etc/hostname")
	if _, _, err := c.WaitFor(0, regexp.MustCompile(`cannot load the service database: [^\n]*`), 150*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WaitFor(0, shellRE, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	if out := c.Must("echo shell-$((6 * 7))"); !strings.Contains(out, "shell-42") {
		t.Errorf("the console shell does not run commands: %q", out)
	}
	poweroffWorks(t, c, exited)
}

// TestSupervisorPanic: a supervisor goroutine of the service manager
// panics (a fault injected when syslogd dies). PID 1 survives, restarts
// the manager, the services come back, and poweroff works.
func TestSupervisorPanic(t *testing.T) {
	c, exited := bootWith(t, "INIT_FAULT=supervisor-panic:syslogd")
	up := regexp.MustCompile(`init: "default" is up`)
	_, end, err := c.WaitFor(0, up, 150*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WaitFor(0, shellRE, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	c.Must("kill -9 $(pidof syslogd)")
	// The panic's text (the manager's stderr, which init relays) and
	// init's report of the death come on two paths: either may be first.
	killed := end
	for _, re := range []string{
		`panic: INIT_FAULT=supervisor-panic:syslogd`,
		`init: the service manager \(pid \d+\) died`,
	} {
		_, e, err := c.WaitFor(killed, regexp.MustCompile(re), 60*time.Second)
		if err != nil {
			t.Fatalf("after the supervisor's panic: %v", err)
		}
		end = max(end, e)
	}
	for _, re := range []string{
		`init: started the service manager, pid \d+`,
		`init: "default" is up`,
	} {
		var err error
		if _, end, err = c.WaitFor(end, regexp.MustCompile(re), 60*time.Second); err != nil {
			t.Fatalf("after the supervisor's panic: %v", err)
		}
	}
	if out := c.Must("rc list up"); !strings.Contains(out, "syslogd") {
		t.Errorf("syslogd is not up again after the manager's restart:\n%s", out)
	}
	poweroffWorks(t, c, exited)
}
