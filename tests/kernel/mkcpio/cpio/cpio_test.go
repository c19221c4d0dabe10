package cpio

import (
	"bytes"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestWriteReadByCpio lists the archive with Debian's cpio, the reference
// reader of the format.
func TestWriteReadByCpio(t *testing.T) {
	if _, err := exec.LookPath("cpio"); err != nil {
		t.Fatal("cpio not found: install Debian's cpio")
	}
	a := Write([]Entry{
		{Name: "dev", Mode: ModeDir | 0o755},
		{Name: "dev/console", Mode: ModeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "init", Mode: ModeFile | 0o755, Data: []byte("hello")},
	})
	if len(a)%4 != 0 {
		t.Errorf("archive length %d is not a multiple of 4", len(a))
	}
	cmd := exec.Command("cpio", "-t", "--quiet")
	cmd.Stdin = bytes.NewReader(a)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cpio -t: %v\n%s", err, out)
	}
	if diff := cmp.Diff("dev\ndev/console\ninit\n", string(out)); diff != "" {
		t.Errorf("cpio -t (-want +got):\n%s", diff)
	}
	if !bytes.Equal(a, Write([]Entry{
		{Name: "dev", Mode: ModeDir | 0o755},
		{Name: "dev/console", Mode: ModeChar | 0o600, RdevMajor: 5, RdevMinor: 1},
		{Name: "init", Mode: ModeFile | 0o755, Data: []byte("hello")},
	})) {
		t.Error("Write is not deterministic")
	}
}
