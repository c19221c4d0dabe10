// Package config_test runs the kernel config step (kernel_config.sh, as the
// kernel_config rule does) on the real kernel source both ways: the qemu
// device's fragments resolve with every option kept, and a fragment asking
// for an option Kconfig drops fails, naming the option, the requested and
// the actual value and the fragment.
package config_test

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
)

var (
	script  = flag.String("script", "", "rules/kernel/private/kernel_config.sh")
	checker = flag.String("checker", "", "//tools/kconfig-check")
	src     = flag.String("src", "", "the kernel source tarball")
	good    = flag.String("good", "", "space-separated fragments of the qemu kernel")
	lost    = flag.String("lost", "", "a fragment with an option Kconfig drops")
)

// configure runs the config step in the runfiles tree, so that fragments are
// named by their workspace paths, as in the Bazel action.
func configure(t *testing.T, frags []string) (string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), ".config")
	args := []string{runfiles.Path(t, *src), "mips", "mips-linux-gnu-", "tinyconfig", out, runfiles.Path(t, *checker)}
	args = append(args, frags...)
	cmd := exec.Command(runfiles.Path(t, *script), args...)
	cmd.Dir = filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return stderr.String(), err
}

func TestGoodFragments(t *testing.T) {
	t.Parallel()
	if stderr, err := configure(t, strings.Fields(*good)); err != nil {
		t.Fatalf("config step failed on the qemu fragments: %v\n%s", err, stderr)
	}
}

func TestLostOption(t *testing.T) {
	t.Parallel()
	frags := append(strings.Fields(*good), *lost)
	stderr, err := configure(t, frags)
	if err == nil {
		t.Fatalf("config step succeeded with %s, which asks for an option Kconfig drops", *lost)
	}
	want := *lost + ":3: CONFIG_USB_STORAGE: requested y, but .config has n"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not name the lost option as %q:\n%s", want, stderr)
	}
}
