package rc

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"bazwrt/userland/init/svcdb"
	"bazwrt/userland/init/svclog"
)

// A service manager started again after a crash adopts the oneshots the
// previous one brought up, instead of running their up scripts twice (a
// bridge that already exists fails `ip link add`); one brought down again
// is run again.
func TestRestartedManagerAdoptsOneshots(t *testing.T) {
	root := t.TempDir()
	count := filepath.Join(root, "ups")
	def := oneshotDef("bridge", nil, nil)
	def.Up = []byte("redirfd -a 1 " + count + " echo up")
	def.Down = []byte("true")
	manager := func() *Manager {
		lg, err := svclog.Open(svclog.Options{Dir: filepath.Join(root, "uncaught-logs")})
		if err != nil {
			t.Fatal(err)
		}
		m, err := New(Config{DB: &svcdb.DB{Services: []*svcdb.Service{def}}, Log: lg, KillGrace: 200 * time.Millisecond,
			LiveDir: filepath.Join(root, "live"), OutputsDir: filepath.Join(root, "outputs"), LogDir: filepath.Join(root, "log")})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			m.Close()
			lg.Close()
		})
		return m
	}
	ups := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "up")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	first := manager()
	if err := first.Change(ctx, true, []string{"bridge"}, ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	// The first manager dies without bringing anything down.
	second := manager()
	if err := second.Change(ctx, true, []string{"bridge"}, ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := ups(); n != 1 {
		t.Errorf("up script ran %d times across a manager restart, want 1 (adopted)", n)
	}
	st, err := second.Status([]string{"bridge"})
	if err != nil || len(st) != 1 || st[0].State != Up {
		t.Fatalf("the restarted manager's status of the oneshot: %v, %v; want up", st, err)
	}
	if err := second.Change(ctx, false, []string{"bridge"}, ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	third := manager()
	if err := third.Change(ctx, true, []string{"bridge"}, ChangeOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := ups(); n != 2 {
		t.Errorf("up script ran %d times, want 2: brought down, it is not adopted", n)
	}
}
