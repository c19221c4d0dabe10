package sysinit

import (
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestPaths(t *testing.T) {
	c := Config{Root: "/tmp/x", Socket: "/s"}
	c.Paths()
	got := []string{c.DB, c.RunDir, c.LiveDir, c.OutputsDir, c.Socket, c.LogDir, c.UncaughtDir, c.Hostname}
	want := []string{"/tmp/x/etc/svc/db", "/tmp/x/run", "/tmp/x/run/services/live", "/tmp/x/run/services/outputs",
		"/s", "/tmp/x/run/log", "/tmp/x/run/uncaught-logs", "/tmp/x/etc/hostname"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("paths (-want +got):\n%s", diff)
	}
}

func TestSignals(t *testing.T) {
	for kind, sig := range map[string]syscall.Signal{Halt: syscall.SIGUSR1, Poweroff: syscall.SIGUSR2, Reboot: syscall.SIGTERM} {
		if s, ok := SignalFor(kind); !ok || s != sig {
			t.Errorf("SignalFor(%s) = %v", kind, s)
		}
		if k := kindForSignal(sig); k != kind {
			t.Errorf("kindForSignal(%v) = %s", sig, k)
		}
	}
	if k := kindForSignal(syscall.SIGINT); k != Reboot {
		t.Errorf("ctrl-alt-del -> %s", k)
	}
	if k := kindForSignal(syscall.SIGPWR); k != Poweroff {
		t.Errorf("SIGPWR -> %s", k)
	}
	if _, ok := SignalFor("suspend"); ok {
		t.Error("unknown kind accepted")
	}
	d := &initd{stop: make(chan string, 1)}
	if err := d.request("suspend"); err == nil {
		t.Error("request(suspend) accepted")
	}
	d.request(Halt)
	d.request(Reboot) // only the first request counts
	if k := <-d.stop; k != Halt {
		t.Errorf("got %s", k)
	}
}
