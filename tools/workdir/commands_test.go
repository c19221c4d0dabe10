package workdir_test

// The commands people run with `bazel run` take relative paths where the
// user typed them: each is run here from an empty directory (standing in
// for its runfiles tree) with BUILD_WORKING_DIRECTORY naming the directory
// that holds its inputs, and must read them and write its outputs there.
// tftpd, run-vm and connect-vm resolve their paths with Abs and Base and
// have tests of their own.

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
	checksec     = flag.String("checksec", "", "//tools:checksec")
	firewall     = flag.String("firewall-compile", "", "//tools:firewall-compile")
	fwimage      = flag.String("fwimage", "", "//tools:fwimage")
	kconfigCheck = flag.String("kconfig-check", "", "//tools:kconfig-check")
	mksquashfs   = flag.String("mksquashfs", "", "//tools:mksquashfs")
	rootfs       = flag.String("rootfs", "", "//tools:rootfs")
	svcCompile   = flag.String("svc-compile", "", "//tools:svc-compile")
	uimage       = flag.String("uimage", "", "//tools:uimage")
	inputs       = map[string]string{
		"kernel.bin": strings.Repeat("kernel ", 1000),
		"script.txt": "echo hello\n",
		"fw.json":    `{"zones": [{"name": "lan", "services": ["lan"]}], "inbound": [{"zone": "lan", "proto": "tcp", "ports": "22"}]}`,
		"old.config": "CONFIG_A=y\n",
		"new.config": "CONFIG_A=y\nCONFIG_B=y\n",
		"m.json":     `[{"path": "/etc/motd", "type": "file", "mode": 420, "source": "src/motd"}]`,
		"src/motd":   "hello\n",
		"frag.json":  `[{"path": "/etc", "type": "dir", "mode": 493}]`,
		"svc/x/type": "oneshot",
		"svc/x/up":   "true",
	}
)

func TestRelativePathsUnderBazelRun(t *testing.T) {
	for _, tc := range []struct {
		name string
		bin  *string
		args []string
		// outputs the command must have written in the working directory
		outputs []string
		// on stdout
		stdout string
	}{
		{"uimage", uimage, []string{"-o", "out/k.uimage", "-arch", "mips", "-load", "0x80060000", "-entry", "0x80060000", "-name", "t", "kernel.bin"}, []string{"out/k.uimage"}, ""},
		{"fwimage", fwimage, []string{"script", "-arch", "mips", "-name", "t", "-o", "out/boot.scr", "script.txt"}, []string{"out/boot.scr"}, ""},
		{"firewall-compile", firewall, []string{"-o", "out/fw.nft", "fw.json"}, []string{"out/fw.nft"}, ""},
		{"kconfig-check", kconfigCheck, []string{"-diff", "old.config", "new.config"}, nil, "CONFIG_B=y"},
		{"mksquashfs", mksquashfs, []string{"-manifest", "m.json", "-o", "out/root.squashfs"}, []string{"out/root.squashfs"}, ""},
		{"rootfs", rootfs, []string{"merge", "-o", "out/manifest.json", "frag.json"}, []string{"out/manifest.json"}, ""},
		{"svc-compile", svcCompile, []string{"-o", "out/db", "svc"}, []string{"out/db"}, ""},
		{"checksec", checksec, []string{"-require", "", "bin/self"}, nil, "bin/self"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if *tc.bin == "" {
				t.Fatalf("-%s: the binary's path (bazel test passes it)", tc.name)
			}
			bwd := t.TempDir()
			for name, content := range inputs {
				write(t, filepath.Join(bwd, name), []byte(content))
			}
			self, err := os.ReadFile("/proc/self/exe")
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(bwd, "bin/self"), self)
			if err := os.MkdirAll(filepath.Join(bwd, "out"), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(runfiles.Path(t, *tc.bin), tc.args...)
			cmd.Dir = t.TempDir() // like the runfiles tree: none of the inputs
			cmd.Env = append(os.Environ(), "BUILD_WORKING_DIRECTORY="+bwd)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s %s with BUILD_WORKING_DIRECTORY=%s: %v\n%s", tc.name, strings.Join(tc.args, " "), bwd, err, stderr.String())
			}
			for _, o := range tc.outputs {
				if fi, err := os.Stat(filepath.Join(bwd, o)); err != nil || fi.Size() == 0 {
					t.Errorf("%s: want a non-empty %s in BUILD_WORKING_DIRECTORY: %v", tc.name, o, err)
				}
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("%s: stdout %q does not contain %q", tc.name, stdout.String(), tc.stdout)
			}
		})
	}
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
