package proc

import (
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func start(t *testing.T, script string) *Proc {
	t.Helper()
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	p, err := Start(&Attr{Argv: []string{"/bin/sh", "-c", script}, Files: []*os.File{null, null, null}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func waitDone(t *testing.T, p *Proc) syscall.WaitStatus {
	t.Helper()
	select {
	case <-p.Done():
		return p.Status()
	case <-time.After(5 * time.Second):
		t.Fatal("process not reaped")
		return 0
	}
}

func TestExitStatusAndSignal(t *testing.T) {
	if ws := waitDone(t, start(t, "exit 7")); !ws.Exited() || ws.ExitStatus() != 7 || DescribeStatus(ws) != "exit 7" {
		t.Errorf("status %v (%s)", ws, DescribeStatus(ws))
	}
	// The whole process group gets the signal: the background sleep
	// would otherwise keep running.
	p := start(t, "sleep 100 & wait")
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ws := waitDone(t, p)
	if !ws.Signaled() || ws.Signal() != syscall.SIGTERM {
		t.Errorf("status %v", ws)
	}
	if err := p.Signal(syscall.SIGTERM); err != nil {
		t.Errorf("signal after exit: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	if _, err := Start(&Attr{}); err != ErrNoArgv {
		t.Errorf("empty argv: %v", err)
	}
	if _, err := Start(&Attr{Argv: []string{"/nonexistent/prog"}}); err == nil {
		t.Error("missing program started")
	}
}

func TestReapAllCollectsOrphans(t *testing.T) {
	// Become a subreaper so the orphaned grandchild is ours to reap,
	// like PID 1.
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, 36, 1, 0); e != 0 {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v (Linux ≥ 3.4 needed; a skip would pass under Bazel)", e)
	}
	SetReapAll(true)
	defer SetReapAll(false)
	before := Orphans()
	p := start(t, "sleep 0.1 & exit 0")
	if ws := waitDone(t, p); ws.ExitStatus() != 0 {
		t.Errorf("status %v", ws)
	}
	deadline := time.Now().Add(5 * time.Second)
	for Orphans() == before {
		if time.Now().After(deadline) {
			t.Fatal("orphan not reaped")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if Running() != 0 {
		t.Errorf("Running() = %d", Running())
	}
}

// A panic in the reaper is reported and reaping goes on: in PID 1 an
// unrecovered panic would end the process and panic the kernel.
func TestReaperSurvivesPanic(t *testing.T) {
	var rmu sync.Mutex // guards report
	var report string
	SetPanicOutput(func(s string) {
		rmu.Lock()
		report += s
		rmu.Unlock()
	})
	defer SetPanicOutput(func(s string) { os.Stderr.WriteString(s) })
	ensure()
	mu.Lock()
	testPanic = true
	mu.Unlock()
	kickReaper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rmu.Lock()
		r := report
		rmu.Unlock()
		if strings.Contains(r, "proc: panic in the reaper (recovered, still reaping): test panic\n") &&
			strings.Contains(r, "proc.safeReap") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no panic report with a stack: %q", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if Known(os.Getpid()) {
		t.Error("Known(self)")
	}
	p := start(t, "exit 3")
	if ws := waitDone(t, p); ws.ExitStatus() != 3 {
		t.Errorf("status after the panic: %v", ws)
	}
	if Known(p.Pid) {
		t.Error("reaped child still known")
	}
}
