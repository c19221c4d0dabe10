// Package config_test runs the kernel config step (kernel_config.sh, as the
// kernel_config rule does) on the real kernel source both ways: the qemu
// device's fragments resolve with every option kept, and a fragment asking
// for an option Kconfig drops fails, naming the option, the requested and
// the actual value and the fragment. Patches are applied before the config
// step (an option a patch adds can be set), and a stale patch fails naming
// itself.
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
	patch   = flag.String("patch", "", "a patch adding a Kconfig option")
	option  = flag.String("option", "", "a fragment setting the option the patch adds")
	stale   = flag.String("stale", "", "a patch that does not apply")
)

// configure runs the config step in the runfiles tree, so that fragments are
// named by their workspace paths, as in the Bazel action.
func configure(t *testing.T, frags []string, patches ...string) (string, error) {
	_, stderr, err := configureOut(t, frags, patches...)
	return stderr, err
}

// configureOut is configure that also returns the path of the .config.
func configureOut(t *testing.T, frags []string, patches ...string) (string, string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), ".config")
	args := []string{runfiles.Path(t, *src), "mips", "mips-linux-gnu-", "tinyconfig", out, runfiles.Path(t, *checker)}
	args = append(args, frags...)
	cmd := exec.Command(runfiles.Path(t, *script), args...)
	cmd.Dir = filepath.Join(os.Getenv("TEST_SRCDIR"), os.Getenv("TEST_WORKSPACE"))
	cmd.Env = append(os.Environ(), "PATCHES="+strings.Join(patches, " "))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	return out, stderr.String(), err
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

func TestPatchAddsOption(t *testing.T) {
	t.Parallel()
	frags := append(strings.Fields(*good), *option)
	out, stderr, err := configureOut(t, frags, *patch)
	if err != nil {
		t.Fatalf("config step failed with %s applied and %s: %v\n%s", *patch, *option, err, stderr)
	}
	config, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(config, []byte("\nCONFIG_BAZWRT_PATCH_TEST=y\n")) {
		t.Errorf("%s: CONFIG_BAZWRT_PATCH_TEST=y missing: the patch was not applied before the config step", out)
	}
}

func TestStalePatch(t *testing.T) {
	t.Parallel()
	stderr, err := configure(t, strings.Fields(*good), *patch, *stale)
	if err == nil {
		t.Fatalf("config step succeeded with %s, which does not apply", *stale)
	}
	want := "kernel: patch " + *stale + " does not apply cleanly"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not name the stale patch as %q:\n%s", want, stderr)
	}
}
