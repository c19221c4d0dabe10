package dtb_test

import (
	"fmt"
	"testing"
)

// Linux 6.1, drivers/net/ethernet/atheros/ag71xx.c: the MDIO clock divider
// tables, AG71XX_MDIO_MAX_CLK and ag71xx_mdio_get_divider(), which
// ag71xx_mdio_reset() calls when the MAC's MDIO bus is registered (for every
// ag71xx MAC, with or without an mdio child node: ag71xx_mdio_probe() always
// registers the bus). When it finds no divider, the bus reset fails with
// -ENOENT and with it the probe of the MAC: no ethernet.
const ag71xxMDIOMaxClk = 5000000

var (
	ar71xxMDIODivTable = []uint64{4, 4, 6, 8, 10, 14, 20, 28}
	ar7240MDIODivTable = []uint64{2, 2, 4, 6, 8, 12, 18, 26, 32, 40, 48, 56, 62, 70, 78, 96}
	ar933xMDIODivTable = []uint64{4, 4, 6, 8, 10, 14, 20, 28, 34, 42, 50, 58, 66, 74, 82, 98}
)

// ag71xxType is ag71xx_match[]: the driver's dcfg type of each compatible.
var ag71xxType = map[string]string{
	"qca,ar7100-eth":  "AR7100",
	"qca,ar7240-eth":  "AR7240",
	"qca,ar7241-eth":  "AR7240",
	"qca,ar7242-eth":  "AR7240",
	"qca,ar9130-eth":  "AR9130",
	"qca,ar9330-eth":  "AR9330",
	"qca,ar9340-eth":  "AR9340",
	"qca,qca9530-eth": "QCA9530",
	"qca,qca9550-eth": "QCA9550",
	"qca,qca9560-eth": "QCA9550",
}

// mdioDivider is ag71xx_mdio_get_divider(): the first table index whose
// divider brings the "mdio" clock to AG71XX_MDIO_MAX_CLK or below.
func mdioDivider(typ string, ref uint64) (index int, div uint64, err error) {
	if ref == 0 {
		return 0, 0, fmt.Errorf("mdio clock rate 0: -EINVAL")
	}
	table := ar71xxMDIODivTable
	switch typ {
	case "AR9330", "AR9340":
		table = ar933xMDIODivTable
	case "AR7240":
		table = ar7240MDIODivTable
	}
	for i, d := range table {
		if ref/d <= ag71xxMDIOMaxClk {
			return i, d, nil
		}
	}
	return 0, 0, fmt.Errorf("no divider of the %s table (largest %d) brings %d Hz to %d Hz or below: -ENOENT",
		typ, table[len(table)-1], ref, ag71xxMDIOMaxClk)
}

// Clock indices of the ath79 PLL (include/dt-bindings/clock/ath79-clk.h).
const (
	ath79ClkCPU  = 0
	ath79ClkDDR  = 1
	ath79ClkAHB  = 2
	ath79ClkREF  = 3
	ath79ClkMDIO = 4
)

// boardAHB stands for the AHB rate, which the boot loader sets in the PLL
// and qca953x_clocks_init() reads back at boot: the DT cannot say it. The
// GL-AR750's QCA9531 runs at 650 MHz (Liminix's devices/gl-ar750/default.nix:
// "QCA9531 @650Mhz"); the AHB is taken as a third of that, an assumption.
// It does not decide the test: any AHB above 28 * 5 MHz = 140 MHz leaves the
// QCA9530 MAC without an MDIO divider.
const boardAHB = 216666666

// clockRate returns the rate of a clock specifier as the kernel would
// compute it, and how it got there.
func (d *dt) clockRate(c phandleArgs) (uint64, string, error) {
	switch {
	case hasCompatible(c.node, "fixed-clock"):
		f, err := c.node.U32("clock-frequency")
		if err != nil {
			return 0, "", err
		}
		return uint64(f), fmt.Sprintf("fixed-clock %s", d.path[c.node]), nil
	case hasCompatible(c.node, "qca,qca9530-pll"):
		if len(c.args) != 1 {
			return 0, "", fmt.Errorf("%s: PLL clock specifier %v, want one cell", d.path[c.node], c.args)
		}
		switch c.args[0] {
		case ath79ClkREF, ath79ClkMDIO:
			// arch/mips/ath79/clock.c, ath79_clocks_init_dt(): REF is the
			// PLL node's first clock; qca953x_clocks_init() sets no MDIO
			// clock, so "if (!clks[ATH79_CLK_MDIO]) clks[ATH79_CLK_MDIO] =
			// clks[ATH79_CLK_REF]".
			parents, err := d.phandles(c.node, "clocks", "#clock-cells")
			if err != nil {
				return 0, "", err
			}
			if len(parents) == 0 {
				return 0, "", fmt.Errorf("%s has no reference clock", d.path[c.node])
			}
			r, how, err := d.clockRate(parents[0])
			return r, "PLL REF/MDIO = " + how, err
		case ath79ClkAHB:
			return boardAHB, "PLL AHB, taken as CPU 650 MHz / 3", nil
		}
		return 0, "", fmt.Errorf("%s: PLL output %d: rate set by the boot loader, not modelled", d.path[c.node], c.args[0])
	}
	return 0, "", fmt.Errorf("%s: clock provider not modelled", d.path[c.node])
}

// TestMDIODividerPort checks the port against values worked out by hand
// from the driver's tables.
func TestMDIODividerPort(t *testing.T) {
	for _, c := range []struct {
		typ     string
		rate    uint64
		wantDiv uint64 // 0: none fits
	}{
		{"QCA9530", 25000000, 6},   // 25 MHz / 4 = 6.25 MHz > 5; / 6 = 4.17 MHz
		{"QCA9530", 40000000, 8},   // a 40 MHz reference: / 8 = 5 MHz
		{"QCA9530", 140000000, 28}, // the largest rate the table serves
		{"QCA9530", 140000028, 0},  // 140000028 / 28 = 5000001: integer division, as the driver's
		{"QCA9530", boardAHB, 0},   // what qca9531.dtsi gave it before
		{"AR9330", boardAHB, 50},   // ar9331.dtsi's AHB "mdio" clock works there
		{"AR7240", 200000000, 40},
	} {
		_, div, err := mdioDivider(c.typ, c.rate)
		if c.wantDiv == 0 {
			if err == nil {
				t.Errorf("%s at %d Hz: divider %d, want none", c.typ, c.rate, div)
			}
			continue
		}
		if err != nil || div != c.wantDiv {
			t.Errorf("%s at %d Hz: divider %d (%v), want %d", c.typ, c.rate, div, err, c.wantDiv)
		}
	}
}

// TestMDIOClock computes, for each enabled ag71xx MAC of the DTB, the MDIO
// divider 6.1's ag71xx_mdio_get_divider() would pick from the node's "mdio"
// clock, and fails when there is none (the MAC would not probe).
func TestMDIOClock(t *testing.T) {
	d := load(t)
	macs := 0
	for c, typ := range ag71xxType {
		for _, n := range d.compatible(c) {
			macs++
			clk := d.named(t, n, "clocks", "#clock-cells", "clock-names", "mdio")
			rate, how, err := d.clockRate(clk)
			if err != nil {
				t.Errorf("%s: mdio clock: %v", d.path[n], err)
				continue
			}
			i, div, err := mdioDivider(typ, rate)
			if err != nil {
				t.Errorf("%s (%s): mdio clock %d Hz (%s): %v; ag71xx_mdio_reset() fails and the MAC does not probe",
					d.path[n], c, rate, how, err)
				continue
			}
			t.Logf("%s (%s): mdio clock %d Hz (%s), divider index %d (/%d): MDIO at %d Hz",
				d.path[n], c, rate, how, i, div, rate/div)
		}
	}
	if macs != 2 {
		t.Errorf("%d enabled ag71xx MACs, want 2 (19000000 and 1a000000)", macs)
	}
}

// TestMDIOClockIsReference checks each MAC's clocks against the reference:
// OpenWrt target/linux/ath79/dts/ath79.dtsi gives the MDIO of both MACs
// (mdio0, mdio1) "clocks = <&pll ATH79_CLK_MDIO>". Mainline's ag71xx wants
// the MAC clock "eth" too (ag71xx_probe(): devm_clk_get(dev, "eth"), only
// enabled, its rate unused): the AHB, as in mainline's ar9331.dtsi.
func TestMDIOClockIsReference(t *testing.T) {
	d := load(t)
	for _, path := range []string{"/ahb/ethernet@19000000", "/ahb/ethernet@1a000000"} {
		n := d.node(t, path)
		for name, want := range map[string]uint32{"mdio": ath79ClkMDIO, "eth": ath79ClkAHB} {
			c := d.named(t, n, "clocks", "#clock-cells", "clock-names", name)
			if !hasCompatible(c.node, "qca,qca9530-pll") || !eqU32(c.args, []uint32{want}) {
				t.Errorf("%s: clock %q is %s %v, want the PLL's output %d", path, name, d.path[c.node], c.args, want)
			}
		}
	}
}

// TestDDRFlushChannels checks the CPU interrupt controller's DDR write
// buffer flushes against the reference, OpenWrt qca953x.dtsi: "&cpuintc {
// qca,ddr-wb-channel-interrupts = <3>, <4>, <5>; qca,ddr-wb-channels =
// <&ddr_ctrl 2>, <&ddr_ctrl 0>, <&ddr_ctrl 1>; }" (USB, GE0, GE1) and its
// intc2 "qca,ddr-wb-channels = <&ddr_ctrl 4>, <&ddr_ctrl 3>" (WMAC, PCIe),
// which this DT has on CPU IP2 directly (//kernel/patches/ath79 0003).
// Without a flush the CPU may read a received frame before the MAC's DMA
// writes have left the DDR write buffer.
func TestDDRFlushChannels(t *testing.T) {
	d := load(t)
	n := d.node(t, "/interrupt-controller")
	lines := u32s(t, n, "qca,ddr-wb-channel-interrupts")
	chans, err := d.phandles(n, "qca,ddr-wb-channels", "#qca,ddr-wb-channel-cells")
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(chans) {
		t.Fatalf("%d interrupt lines, %d channels", len(lines), len(chans))
	}
	got := map[[2]uint32]bool{}
	for i, l := range lines {
		if !hasCompatible(chans[i].node, "qca,ar7240-ddr-controller") || len(chans[i].args) != 1 {
			t.Fatalf("channel %d: %s %v, want the DDR controller and one cell", i, d.path[chans[i].node], chans[i].args)
		}
		got[[2]uint32{l, chans[i].args[0]}] = true
	}
	for _, w := range []struct {
		line, channel uint32
		what          string
	}{
		{2, 4, "WMAC"}, {2, 3, "PCIe"}, {3, 2, "USB"}, {4, 0, "GE0 (19000000)"}, {5, 1, "GE1 (1a000000)"},
	} {
		if !got[[2]uint32{w.line, w.channel}] {
			t.Errorf("no flush of DDR channel %d (%s) on CPU IP%d", w.channel, w.what, w.line)
		}
	}
}
