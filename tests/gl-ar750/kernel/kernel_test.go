// Package kernel_test checks that the gl-ar750 kernel has what its DTB's
// facts rely on (tests/gl-ar750/dtb): a DTB property no code reads is a
// fact that silently does nothing.
package kernel_test

import (
	"bufio"
	"bytes"
	"flag"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
)

var (
	vmlinux = flag.String("vmlinux", "", "vmlinux of //devices/gl-ar750:kernel")
	config  = flag.String("config", "", ".config of //devices/gl-ar750:kernel")
)

// cString reports whether vmlinux holds s as a whole C string, as it does
// when code names a property or a format string.
func cString(kernel []byte, s string) bool {
	return bytes.Contains(kernel, []byte("\x00"+s+"\x00"))
}

// TestMACAddressIncrement: eth1's mac-address-increment = <1> (its address
// is art+0 plus one, as OpenWrt's &eth1 <&macaddr_art_0 1>) needs
// //kernel/patches/ath79 0004 in of_get_mac_address(); mainline 6.1 does
// not know the property and would give eth1 eth0's address.
func TestMACAddressIncrement(t *testing.T) {
	if !cString(runfiles.Read(t, *vmlinux), "mac-address-increment") {
		t.Error(`vmlinux has no "mac-address-increment": of_get_mac_address() ignores eth1's increment`)
	}
}

// TestLEDTriggers: the DTS's default triggers phy0tpt (ath9k's throughput
// trigger) and phy1radio exist only with MAC80211_LEDS
// (net/mac80211/led.c: "%stpt", "%sradio").
func TestLEDTriggers(t *testing.T) {
	kernel := runfiles.Read(t, *vmlinux)
	for _, f := range []string{"%stpt", "%sradio"} {
		if !cString(kernel, f) {
			t.Errorf("vmlinux has no mac80211 LED trigger name %q", f)
		}
	}
}

// TestConfig: the options the DTB's nodes need, in the resolved .config
// (the lost-option check guards the fragment; this names why each is
// there).
func TestConfig(t *testing.T) {
	set := map[string]bool{}
	sc := bufio.NewScanner(bytes.NewReader(runfiles.Read(t, *config)))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok && v == "y" {
			set[k] = true
		}
	}
	for opt, why := range map[string]string{
		"CONFIG_AG71XX":                "the two ethernet MACs (qca,qca9530-eth)",
		"CONFIG_NVMEM":                 "MAC addresses and calibration from art",
		"CONFIG_PINCTRL_SINGLE":        "the JTAG disable bit the buttons need (pinctrl-single)",
		"CONFIG_KEYBOARD_GPIO":         "the buttons (gpio-keys)",
		"CONFIG_LEDS_GPIO":             "the LEDs (gpio-leds)",
		"CONFIG_MAC80211_LEDS":         "the radio LED triggers",
		"CONFIG_USB_EHCI_HCD_PLATFORM": "the USB host (generic-ehci)",
		"CONFIG_USB_EHCI_ROOT_HUB_TT":  "has-transaction-translator (TDI root hub)",
		"CONFIG_PHY_ATH79_USB":         "the USB PHY (qca,ar7100-usb-phy)",
	} {
		if !set[opt] {
			t.Errorf("%s is not set: %s", opt, why)
		}
	}
}
