// Package dtb_test checks the gl-ar750 DTB the build produces against the
// board's published references, fact by fact: OpenWrt's
// target/linux/ath79/dts/qca9531_glinet_gl-ar750.dts and qca953x.dtsi (and
// ath79.dtsi, which it includes), OpenWrt's
// target/linux/ath79/generic/base-files/etc/board.d/02_network, and
// Liminix's devices/gl-ar750/default.nix; and against what the Linux 6.1
// drivers that read each node accept. Each expected value says where it
// comes from. docs/kernel.md ("gl-ar750 device facts") has the table.
package dtb_test

import (
	"flag"
	"testing"

	"bazwrt/tools/fdt"
)

var dtbFile = flag.String("dtb", "", "gl-ar750.dtb of //devices/gl-ar750:kernel")

// Reset controller lines of the QCA953x (arch/mips/include/asm/mach-ath79/
// ar71xx_regs.h, QCA953X_RESET_*), the argument of <&rst N>.
const (
	rstUSBSuspendOverride = 3  // QCA953X_RESET_USBSUS_OVERRIDE
	rstUSBPHY             = 4  // QCA953X_RESET_USB_PHY
	rstUSBHost            = 5  // QCA953X_RESET_USB_HOST
	rstSwitch             = 8  // QCA953X_RESET_ETH_SWITCH
	rstGE0MAC             = 9  // QCA953X_RESET_GE0_MAC
	rstGE1MAC             = 13 // QCA953X_RESET_GE1_MAC
)

// Input and LED binding values (include/uapi/linux/input-event-codes.h,
// include/dt-bindings/leds/common.h, include/dt-bindings/gpio/gpio.h).
const (
	evKey           = 0x01
	evSW            = 0x05
	keyMax          = 0x2ff
	swMax           = 0x10
	keyRestart      = 0x198
	btn0            = 0x100
	ledColorIDWhite = 0
	gpioActiveLow   = 1
)

const (
	eth0 = "/ahb/ethernet@19000000" // GE0: the MAC of the switch's PHY4, WAN
	eth1 = "/ahb/ethernet@1a000000" // GE1: the switch's CPU port, LAN
	art  = "/ahb/spi@1f000000/flash@0/partitions/partition@50000"
)

// TestEthernetMACs checks the MAC nodes against the reference's: OpenWrt
// qca953x.dtsi "&eth0 { ... resets = <&rst 9>; phy-mode = "mii"; }" and
// "&eth1 { ... resets = <&rst 13>; phy-mode = "gmii"; fixed-link { speed =
// <1000>; full-duplex; }; }", ath79.dtsi eth0 "interrupts = <4>", eth1
// "interrupts = <5>".
func TestEthernetMACs(t *testing.T) {
	d := load(t)
	for _, c := range []struct {
		path, mode string
		irq, rst   uint32
	}{
		{eth0, "mii", 4, rstGE0MAC},
		{eth1, "gmii", 5, rstGE1MAC},
	} {
		n := d.node(t, c.path)
		if !d.enabled(n) {
			t.Errorf("%s is disabled", c.path)
		}
		if !hasCompatible(n, "qca,qca9530-eth") {
			t.Errorf("%s: compatible is not qca,qca9530-eth", c.path)
		}
		if m := str(t, n, "phy-mode"); m != c.mode {
			t.Errorf("%s: phy-mode %q, want %q", c.path, m, c.mode)
		}
		if irq := u32s(t, n, "interrupts"); !eqU32(irq, []uint32{c.irq}) {
			t.Errorf("%s: interrupts %v, want CPU IP%d", c.path, irq, c.irq)
		}
		r := d.named(t, n, "resets", "#reset-cells", "reset-names", "mac")
		if !eqU32(r.args, []uint32{c.rst}) {
			t.Errorf("%s: mac reset %v, want %d", c.path, r.args, c.rst)
		}
	}
	fl := d.node(t, eth1+"/fixed-link")
	if s := u32s(t, fl, "speed"); !eqU32(s, []uint32{1000}) {
		t.Errorf("%s/fixed-link: speed %v, want 1000", eth1, s)
	}
	if _, ok := fl.Prop("full-duplex"); !ok {
		t.Errorf("%s/fixed-link: not full-duplex", eth1)
	}
}

// TestSwitchWiring checks where the built-in switch sits and how it is
// bound, against the reference: OpenWrt qca953x.dtsi "&mdio1 { ...
// builtin_switch: switch0@1f { compatible = "qca,ar8229-builtin"; reg =
// <0x1f>; resets = <&rst 8>; reset-names = "switch"; phy-mode = "gmii";
// phy4-mii-enable; mdio-bus { swphy0: ethernet-phy@0 { reg = <0>; };
// swphy4: ethernet-phy@4 { reg = <4>; }; }; }; }" (mdio1 is GE1's MDIO
// bus, ath79.dtsi), the board's "&eth0 { phy-handle = <&swphy4>; }" (WAN
// is the switch's PHY 4 on GE0), and 02_network "glinet,gl-ar750)
// ucidef_add_switch "switch0" "0@eth0" "1:lan" "2:lan"": the LAN is
// switch ports 1 and 2 with the CPU port 0, one group, on GE1 (OpenWrt's
// eth0 there; here eth1, which devices/gl-ar750/BUILD.bazel bridges).
// The driver is //kernel/patches/ath79 0006, which reads phy-mode,
// phy4-mii-enable and mdio-bus as OpenWrt's ag71xx_ar7240.c does.
func TestSwitchWiring(t *testing.T) {
	d := load(t)
	sw := d.node(t, eth1+"/mdio/switch@1f")
	if !d.enabled(sw) {
		t.Errorf("the switch is disabled")
	}
	if !hasCompatible(sw, "qca,ar8229-builtin") {
		t.Errorf("switch compatible %v, want qca,ar8229-builtin (the plain-switch driver, not ar9331's DSA)", mustStrings(t, sw, "compatible"))
	}
	if r := u32s(t, sw, "reg"); !eqU32(r, []uint32{0x1f}) {
		t.Errorf("switch at MDIO address %v, want 0x1f", r)
	}
	r := d.named(t, sw, "resets", "#reset-cells", "reset-names", "switch")
	if !eqU32(r.args, []uint32{rstSwitch}) {
		t.Errorf("switch reset %v, want %d", r.args, rstSwitch)
	}
	// The CPU port's GMII to GE1 (OPER_MODE0), and PHY 4 to GE0
	// (OPER_MODE1): without it the WAN PHY stays on switch MAC 5.
	if m := str(t, sw, "phy-mode"); m != "gmii" {
		t.Errorf("switch phy-mode %q, want gmii", m)
	}
	if _, ok := sw.Prop("phy4-mii-enable"); !ok {
		t.Errorf("switch has no phy4-mii-enable: PHY 4 would not reach GE0 (WAN)")
	}
	// No DSA ports and no interrupt wiring: the driver has neither.
	for _, c := range sw.Children {
		if c.Name == "ports" {
			t.Errorf("switch has a ports node, which only DSA reads")
		}
	}
	// WAN: GE0's PHY is the switch's PHY 4, on the bus the driver
	// registers from "mdio-bus".
	ph, err := d.phandles(d.node(t, eth0), "phy-handle", "")
	if err != nil || len(ph) != 1 {
		t.Fatalf("%s phy-handle: %v", eth0, err)
	}
	bus := d.node(t, eth1+"/mdio/switch@1f/mdio-bus")
	if p := ph[0].node; d.parent[p] != bus || !eqU32(u32s(t, p, "reg"), []uint32{4}) {
		t.Errorf("%s phy-handle is %s, want PHY 4 of the switch's mdio-bus", eth0, d.path[p])
	}
	for _, p := range bus.Children {
		if _, ok := p.Prop("interrupts"); ok {
			t.Errorf("%s has interrupts, but the switch is no interrupt controller: the PHY would never probe", d.path[p])
		}
	}
	// LAN: GE1 with the fixed 1000/full link to the CPU port.
	if !d.enabled(d.node(t, eth1)) {
		t.Errorf("%s (the LAN) is disabled", eth1)
	}
	if m := str(t, d.node(t, eth1), "phy-mode"); m != "gmii" {
		t.Errorf("%s phy-mode %q, want gmii", eth1, m)
	}
}

// TestMACAddresses checks where the MACs get their addresses: the reference
// (OpenWrt qca9531_glinet_gl-ar750.dts) has a cell "macaddr_art_0:
// macaddr@0 { reg = <0x0 0x6>; }" in art, "&eth0 { nvmem-cells =
// <&macaddr_art_0 0>; nvmem-cell-names = "mac-address"; }" and "&eth1 {
// nvmem-cells = <&macaddr_art_0 1>; ... }": eth0 art+0, eth1 art+0 plus
// one. The cell argument is the "mac-base" nvmem layout of Linux 6.7 and
// later; 6.1 has neither it nor cell arguments (drivers/nvmem/core.c,
// of_nvmem_cell_get(): of_parse_phandle(np, "nvmem-cells", index)), and
// of_get_mac_address() (net/core/of_net.c) reads the "mac-address" cell as
// is. So here both MACs name the plain 6-byte cell, and GE1 adds
// mac-address-increment = <1>, which //kernel/patches/ath79 0004 teaches
// of_get_mac_address() (OpenWrt's binding, the one its 6.1 trees used).
// The QCA9887 shares eth1's address, as the reference's "wifi@0,0 {
// nvmem-cells = <&macaddr_art_0 1>, <&cal_art_5000>; nvmem-cell-names =
// "mac-address", "calibration"; }"; 6.1's ath10k reads no nvmem address
// (device_get_mac_address()): //kernel/patches/ath79 0005 makes it ask
// of_get_mac_address() first.
func TestMACAddresses(t *testing.T) {
	d := load(t)
	part := d.node(t, art)
	if l := str(t, part, "label"); l != "art" {
		t.Fatalf("%s label %q, want art", art, l)
	}
	// drivers/mtd/mtdcore.c, mtd_nvmem_add(): the partition's cells are
	// only looked at when it is compatible with "nvmem-cells".
	if !hasCompatible(part, "nvmem-cells") {
		t.Errorf("%s is not compatible with nvmem-cells: 6.1 registers no cells for it", art)
	}
	for _, c := range []struct {
		path string
		inc  uint32
	}{{eth0, 0}, {eth1, 1}, {"/ahb/pcie@180c0000/wifi@0,0", 1}} {
		n := d.node(t, c.path)
		cell := d.named(t, n, "nvmem-cells", "", "nvmem-cell-names", "mac-address")
		if d.parent[cell.node] != part {
			t.Errorf("%s: mac-address cell %s is not in art", c.path, d.path[cell.node])
		}
		if r := u32s(t, cell.node, "reg"); !eqU32(r, []uint32{0x0, 0x6}) {
			t.Errorf("%s: mac-address cell reg %#x, want art+0, 6 bytes", c.path, r)
		}
		if _, ok := cell.node.Prop("#nvmem-cell-cells"); ok {
			t.Errorf("%s: the cell has #nvmem-cell-cells, which 6.1 does not read", d.path[cell.node])
		}
		if cells := u32s(t, n, "nvmem-cells"); len(cells) != len(mustStrings(t, n, "nvmem-cell-names")) {
			t.Errorf("%s: nvmem-cells %v carry arguments; 6.1 takes one phandle per name", c.path, cells)
		}
		var inc uint32
		if _, ok := n.Prop("mac-address-increment"); ok {
			inc = u32s(t, n, "mac-address-increment")[0]
		}
		if inc != c.inc {
			t.Errorf("%s: mac-address-increment %d, want %d", c.path, inc, c.inc)
		}
		for _, p := range []string{"mac-address", "local-mac-address"} {
			if _, ok := n.Prop(p); ok {
				t.Errorf("%s has %s, which of_get_mac_address() prefers to the art cell", c.path, p)
			}
		}
	}
}

func mustStrings(t *testing.T, n *fdt.Node, name string) []string {
	t.Helper()
	l, err := n.StringList(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestCalibration checks the radios' calibration cells against the
// reference: wmac "mtd-cal-data = <&art 0x1000>" (OpenWrt's ath9k binding;
// 6.1's ath9k reads the "calibration" nvmem cell instead, whose length
// ath9k_nvmem_request_eeprom() takes as is) and the ath10k node's
// "cal_art_5000: calibration@5000 { reg = <0x5000 0x844>; }".
func TestCalibration(t *testing.T) {
	d := load(t)
	for path, want := range map[string][]uint32{
		"/ahb/wmac@18100000":          {0x1000, 0x440},
		"/ahb/pcie@180c0000/wifi@0,0": {0x5000, 0x844},
	} {
		n := d.node(t, path)
		cell := d.named(t, n, "nvmem-cells", "", "nvmem-cell-names", "calibration")
		if d.path[d.parent[cell.node]] != art || !eqU32(u32s(t, cell.node, "reg"), want) {
			t.Errorf("%s: calibration cell %s reg %#x, want art %#x", path, d.path[cell.node], u32s(t, cell.node, "reg"), want)
		}
	}
}

// TestJTAGDisabled checks that the buttons' pins are taken from JTAG, as
// the reference does: OpenWrt qca953x.dtsi "pinmux: pinmux@1804002c {
// compatible = "pinctrl-single"; reg = <0x1804002c 0x48>;
// pinctrl-single,bit-per-mux; pinctrl-single,register-width = <32>;
// pinctrl-single,function-mask = <0x1>; #pinctrl-cells = <2>;
// jtag_disable_pins: pinmux_jtag_disable_pins { pinctrl-single,bits = <0x40
// 0x2 0x2>; }; }" and the board's keys "pinctrl-names = "default";
// pinctrl-0 = <&jtag_disable_pins>;". 0x1804002c + 0x40 is the GPIO
// function register (AR934X_GPIO_REG_FUNC, 0x1804006c); bit 1 is
// AR934X_GPIO_FUNC_JTAG_DISABLE (ar71xx_regs.h). GPIO 0-3 are the JTAG
// pins: without it, the reset button (GPIO 3) and the mode switch (GPIO 0)
// belong to JTAG.
func TestJTAGDisabled(t *testing.T) {
	d := load(t)
	keys := d.node(t, "/keys")
	if n := mustStrings(t, keys, "pinctrl-names"); len(n) != 1 || n[0] != "default" {
		t.Fatalf("/keys pinctrl-names %q, want default", n)
	}
	pins, err := d.phandles(keys, "pinctrl-0", "")
	if err != nil || len(pins) != 1 {
		t.Fatalf("/keys pinctrl-0: %v (%d entries)", err, len(pins))
	}
	grp := pins[0].node
	ctl := d.parent[grp]
	if !hasCompatible(ctl, "pinctrl-single") || !d.enabled(ctl) {
		t.Fatalf("/keys pinctrl-0 is %s in %s, want a group of an enabled pinctrl-single", d.path[grp], d.path[ctl])
	}
	reg, err := ctl.Reg(d.parent[ctl])
	if err != nil || len(reg) != 1 || reg[0] != (fdt.Region{Address: 0x1804002c, Size: 0x48}) {
		t.Errorf("%s reg %v (%v), want 0x1804002c 0x48", d.path[ctl], reg, err)
	}
	if _, ok := ctl.Prop("pinctrl-single,bit-per-mux"); !ok {
		t.Errorf("%s has no pinctrl-single,bit-per-mux", d.path[ctl])
	}
	if w := u32s(t, ctl, "pinctrl-single,register-width"); !eqU32(w, []uint32{32}) {
		t.Errorf("%s register-width %v, want 32", d.path[ctl], w)
	}
	if m := u32s(t, ctl, "pinctrl-single,function-mask"); !eqU32(m, []uint32{1}) {
		t.Errorf("%s function-mask %v, want 1", d.path[ctl], m)
	}
	bits := u32s(t, grp, "pinctrl-single,bits")
	if !eqU32(bits, []uint32{0x40, 0x2, 0x2}) {
		t.Fatalf("%s pinctrl-single,bits %#x, want <0x40 0x2 0x2>", d.path[grp], bits)
	}
	if a := reg[0].Address + uint64(bits[0]); a != 0x1804006c {
		t.Errorf("the group writes %#x, want the GPIO function register 0x1804006c", a)
	}
}

// TestButtons checks the keys against the reference (OpenWrt
// qca9531_glinet_gl-ar750.dts "reset { linux,code = <KEY_RESTART>; gpios =
// <&gpio 3 GPIO_ACTIVE_LOW>; }; mode { linux,code = <BTN_0>; gpios = <&gpio
// 0 GPIO_ACTIVE_LOW>; };", both ordinary keys) and against 6.1's input core:
// gpio_keys.c passes linux,input-type (EV_KEY when absent) and linux,code
// to input_set_capability(), which rejects a code above the type's maximum
// (drivers/input/input.c, input_max_code[]: EV_KEY KEY_MAX, EV_SW SW_MAX);
// BTN_0 (0x100) as EV_SW would never report.
func TestButtons(t *testing.T) {
	d := load(t)
	keys := d.node(t, "/keys")
	if !hasCompatible(keys, "gpio-keys") {
		t.Errorf("/keys is not gpio-keys")
	}
	gpio := d.node(t, "/ahb/apb/gpio@18040000")
	for name, want := range map[string]struct{ gpio, code uint32 }{
		"reset": {3, keyRestart},
		"mode":  {0, btn0},
	} {
		k := d.node(t, "/keys/"+name)
		typ := uint32(evKey)
		if _, ok := k.Prop("linux,input-type"); ok {
			typ = u32s(t, k, "linux,input-type")[0]
		}
		code := u32s(t, k, "linux,code")[0]
		max := map[uint32]uint32{evKey: keyMax, evSW: swMax}[typ]
		if max == 0 || code > max {
			t.Errorf("/keys/%s: type %d code %#x: input_set_capability() rejects it", name, typ, code)
		}
		if typ != evKey || code != want.code {
			t.Errorf("/keys/%s: type %d code %#x, want EV_KEY %#x", name, typ, code, want.code)
		}
		g, err := d.phandles(k, "gpios", "#gpio-cells")
		if err != nil || len(g) != 1 || g[0].node != gpio || !eqU32(g[0].args, []uint32{want.gpio, gpioActiveLow}) {
			t.Errorf("/keys/%s gpios: %v, want <&gpio %d GPIO_ACTIVE_LOW>", name, err, want.gpio)
		}
	}
}

// TestLEDs checks the LEDs against the reference (OpenWrt
// qca9531_glinet_gl-ar750.dts): "led_power: power { function =
// LED_FUNCTION_POWER; color = <LED_COLOR_ID_WHITE>; gpios = <&gpio 12
// GPIO_ACTIVE_LOW>; default-state = "on"; }", "wlan2g { label =
// "white:wlan2g"; gpios = <&gpio 14 GPIO_ACTIVE_LOW>;
// linux,default-trigger = "phy1tpt"; }", "wlan5g { label = "white:wlan5g";
// gpios = <&gpio 13 GPIO_ACTIVE_LOW>; linux,default-trigger = "phy0tpt";
// }", and the aliases "led-boot = &led_power".
//
// The triggers differ on purpose. In OpenWrt ath10k and ath9k are modules
// and ath10k loads first (/etc/modules.d/ath10k sorts before ath9k), so
// the 5 GHz QCA9887 is phy0. Here both are built in: drivers/net/wireless/
// ath/Makefile links ath9k/ before ath10k/, and ath9k's probe allocates its
// wiphy (ieee80211_alloc_hw() numbers them) before ath10k_pci's driver
// registers, so the 2.4 GHz WMAC is phy0 and the QCA9887 phy1. And 6.1's
// ath10k creates no throughput trigger (no ieee80211_create_tpt_led_trigger()
// call; OpenWrt's mac80211 package adds one), only mac80211's phyNrx/tx/
// assoc/radio (net/mac80211/led.c, ieee80211_alloc_led_names()).
func TestLEDs(t *testing.T) {
	d := load(t)
	leds := d.node(t, "/leds")
	if !hasCompatible(leds, "gpio-leds") {
		t.Errorf("/leds is not gpio-leds")
	}
	gpio := d.node(t, "/ahb/apb/gpio@18040000")
	for name, want := range map[string]struct {
		gpio    uint32
		label   string // "": none, the name comes from color and function
		trigger string
	}{
		"power":  {12, "", ""},
		"wlan2g": {14, "white:wlan2g", "phy0tpt"},   // ath9k, phy0 here
		"wlan5g": {13, "white:wlan5g", "phy1radio"}, // ath10k, phy1 here, no tpt trigger in 6.1
	} {
		n := d.node(t, "/leds/"+name)
		g, err := d.phandles(n, "gpios", "#gpio-cells")
		if err != nil || len(g) != 1 || g[0].node != gpio || !eqU32(g[0].args, []uint32{want.gpio, gpioActiveLow}) {
			t.Errorf("/leds/%s gpios: %v, want <&gpio %d GPIO_ACTIVE_LOW>", name, err, want.gpio)
		}
		label, _ := n.StringValue("label")
		if label != want.label {
			t.Errorf("/leds/%s label %q, want %q", name, label, want.label)
		}
		trig, _ := n.StringValue("linux,default-trigger")
		if trig != want.trigger {
			t.Errorf("/leds/%s trigger %q, want %q", name, trig, want.trigger)
		}
	}
	power := d.node(t, "/leds/power")
	if f, _ := power.StringValue("function"); f != "power" {
		t.Errorf("/leds/power function %q, want power", f)
	}
	if c, err := power.U32("color"); err != nil || c != ledColorIDWhite {
		t.Errorf("/leds/power color %d (%v), want LED_COLOR_ID_WHITE", c, err)
	}
	if s, _ := power.StringValue("default-state"); s != "on" {
		t.Errorf("/leds/power default-state %q, want on", s)
	}
	if a, _ := d.node(t, "/aliases").StringValue("led-boot"); a != "/leds/power" {
		t.Errorf("alias led-boot %q, want /leds/power", a)
	}
}

// TestUSB checks the USB host against the reference, OpenWrt qca953x.dtsi:
// "usb_phy: usb-phy@18030000 { compatible = "qca,ar7200-usb-phy"; reg =
// <0x18030000 0x100>; #phy-cells = <0>; reset-names = "usb-phy",
// "usb-suspend-override"; resets = <&rst 4>, <&rst 3>; }" and "usb0:
// usb@1b000000 { compatible = "generic-ehci"; reg = <0x1b000000 0x1000>;
// interrupts = <3>; resets = <&rst 5>; reset-names = "usb-host"; dr_mode =
// "host"; has-transaction-translator; caps-offset = <0x100>; phys =
// <&usb_phy>; }", both enabled by the board ("&usb0 { status = "okay"; };
// &usb_phy { status = "okay"; };"; no USB power GPIO). Two of these are
// OpenWrt's own: "qca,ar7200-usb-phy" is its driver (6.1 has
// phy-ath79-usb.c, "qca,ar7100-usb-phy", which asks for the resets "phy"
// and "usb-suspend-override" and does the same: override set, PHY out of
// reset), and 6.1's ehci-platform.c reads no caps-offset (it sets
// ehci->caps = hcd->regs + pdata->caps_offset, 0 from the DT), so the
// capability registers at 0x1b000100 (the old board code's
// ath79_ehci_pdata_v2 .caps_offset = 0x100) must start the node's reg.
func TestUSB(t *testing.T) {
	d := load(t)
	ehcis := d.compatible("generic-ehci")
	if len(ehcis) != 1 {
		t.Fatalf("%d enabled generic-ehci nodes, want 1", len(ehcis))
	}
	ehci := ehcis[0]
	p := d.path[ehci]
	reg, err := ehci.Reg(d.parent[ehci])
	if err != nil || len(reg) != 1 {
		t.Fatalf("%s reg: %v", p, err)
	}
	if _, ok := ehci.Prop("caps-offset"); ok {
		t.Errorf("%s: caps-offset is OpenWrt's; 6.1's ehci-platform ignores it", p)
	}
	if reg[0].Address != 0x1b000100 {
		t.Errorf("%s: EHCI capability registers at %#x (6.1 reads no caps-offset), want 0x1b000100", p, reg[0].Address)
	}
	if reg[0].Address+reg[0].Size > 0x1b000200 {
		t.Errorf("%s: reg runs to %#x, past the controller's 0x200 bytes (QCA953X_EHCI_SIZE)", p, reg[0].Address+reg[0].Size)
	}
	if irq := u32s(t, ehci, "interrupts"); !eqU32(irq, []uint32{3}) || !hasCompatible(d.parent[ehci], "simple-bus") || d.path[d.parent[ehci]] != "/ahb" {
		t.Errorf("%s: interrupts %v, want CPU IP3", p, irq)
	}
	rs, err := d.phandles(ehci, "resets", "#reset-cells")
	if err != nil || len(rs) != 1 || !eqU32(rs[0].args, []uint32{rstUSBHost}) {
		t.Errorf("%s resets: %v %v, want <&rst %d>", p, rs, err, rstUSBHost)
	}
	if _, ok := ehci.Prop("has-transaction-translator"); !ok {
		t.Errorf("%s: no has-transaction-translator (the root hub's TT, ath79_ehci_pdata_v2 .has_tt)", p)
	}
	phys, err := d.phandles(ehci, "phys", "#phy-cells")
	if err != nil || len(phys) != 1 {
		t.Fatalf("%s phys: %v", p, err)
	}
	phy := phys[0].node
	pp := d.path[phy]
	if !hasCompatible(phy, "qca,ar7100-usb-phy") || !d.enabled(phy) {
		t.Errorf("%s: not an enabled qca,ar7100-usb-phy", pp)
	}
	if r, err := phy.Reg(d.parent[phy]); err != nil || len(r) != 1 || r[0] != (fdt.Region{Address: 0x18030000, Size: 0x100}) {
		t.Errorf("%s reg %v (%v), want 0x18030000 0x100", pp, r, err)
	}
	for name, want := range map[string]uint32{"phy": rstUSBPHY, "usb-suspend-override": rstUSBSuspendOverride} {
		r := d.named(t, phy, "resets", "#reset-cells", "reset-names", name)
		if !eqU32(r.args, []uint32{want}) {
			t.Errorf("%s reset %q %v, want <&rst %d>", pp, name, r.args, want)
		}
	}
}
