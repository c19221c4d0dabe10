// Package firmware_test checks the gl-ar750 kernel a user gets with 5 GHz
// on and the ath10k firmware given (BUILD.bazel: stand-in files): the
// driver is built in, and the files are in vmlinux under the names
// request_firmware() asks for.
package firmware_test

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/kconfig-check/kconfig"
)

var (
	vmlinux   = flag.String("vmlinux", "", "vmlinux of the gl-ar750 kernel with 5 GHz on")
	config    = flag.String("config", "", "its .config")
	systemMap = flag.String("system-map", "", "its System.map")
	board     = flag.String("board", "", "the stand-in ath10k/QCA9887/hw1.0/board.bin")
	firmware  = flag.String("firmware", "", "the stand-in ath10k/QCA9887/hw1.0/firmware-5.bin")
)

// TestConfig: the driver and the list of built-in files, as
// kernel_firmware wrote them (sorted, space-separated).
func TestConfig(t *testing.T) {
	reqs, err := kconfig.Parse(bytes.NewReader(runfiles.Read(t, *config)), *config)
	if err != nil {
		t.Fatal(err)
	}
	got := kconfig.NewConfig(reqs)
	for k, want := range map[string]string{
		"CONFIG_ATH10K":                "y",
		"CONFIG_ATH10K_PCI":            "y",
		"CONFIG_FW_LOADER":             "y",
		"CONFIG_EXTRA_FIRMWARE":        `"ath10k/QCA9887/hw1.0/board.bin ath10k/QCA9887/hw1.0/firmware-5.bin regulatory.db regulatory.db.p7s"`,
		"CONFIG_MODULES":               "n", // not set: the firmware cannot come with a module
		"CONFIG_FW_LOADER_USER_HELPER": "n",
	} {
		if v := got.Get(k); v != want {
			t.Errorf("%s=%q, want %q", k, v, want)
		}
	}
}

// TestFilesInVmlinux: each file's bytes and its name (the .builtin_fw
// entry's string, drivers/base/firmware_loader/builtin/Makefile) are in
// vmlinux, so firmware_request_builtin() finds it before any filesystem.
func TestFilesInVmlinux(t *testing.T) {
	kernel := runfiles.Read(t, *vmlinux)
	for name, path := range map[string]string{
		"ath10k/QCA9887/hw1.0/board.bin":      *board,
		"ath10k/QCA9887/hw1.0/firmware-5.bin": *firmware,
	} {
		data := runfiles.Read(t, path)
		if len(data) == 0 {
			t.Fatalf("%s is empty", path)
		}
		if !bytes.Contains(kernel, data) {
			t.Errorf("vmlinux does not hold the %d bytes of %s", len(data), name)
		}
		if !bytes.Contains(kernel, []byte("\x00"+name+"\x00")) {
			t.Errorf("vmlinux has no built-in firmware named %q", name)
		}
	}
}

// TestDriver: ath10k's PCI driver is in the kernel, with the address
// patch's caller (//kernel/patches/ath79 0005 calls of_get_mac_address()
// from ath10k_core_probe_fw()).
func TestDriver(t *testing.T) {
	m := string(runfiles.Read(t, *systemMap))
	for _, sym := range []string{"ath10k_pci_probe", "ath10k_core_register", "of_get_mac_address"} {
		if !strings.Contains(m, " "+sym+"\n") {
			t.Errorf("System.map has no %s", sym)
		}
	}
}
