// Package router proves the gateway end to end: it boots the router image
// of this package in QEMU, with userspace hosts (bazwrt/tests/nettest) on
// its networks, an internet host on "access" (the ISP's DHCP server, a DNS
// server, an echo server) and LAN hosts on "lan", and checks what a person
// putting the router on the internet relies on: leases, names, NAT, the
// firewall from both sides, zones that follow interfaces, and the ruleset
// the device runs.
package router

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"bazwrt/tests/nettest"
	"bazwrt/tests/runfiles"
	"bazwrt/tools/vm"
	"bazwrt/tools/vm/vmtest"
)

var (
	kernel  = flag.String("kernel", "", "rootpath of the kernel")
	rootfs  = flag.String("rootfs", "", "rootpath of the squashfs root filesystem")
	ruleset = flag.String("ruleset", "", "rootpath of the image's compiled firewall ruleset")
)

// The networks, as the image (BUILD.bazel) and the emulated ISP configure
// them. The WAN side uses TEST-NET-1: these addresses exist only on the
// test's own emulated networks.
var (
	routerLAN  = netip.MustParseAddr("192.168.8.1")
	lanPrefix  = netip.MustParsePrefix("192.168.8.0/24")
	rangeFirst = netip.MustParseAddr("192.168.8.100")
	rangeLast  = netip.MustParseAddr("192.168.8.250")
	fixedAddr  = netip.MustParseAddr("192.168.8.10")
	fixedMAC   = mustMAC("52:54:00:12:34:10")

	ispAddr   = netip.MustParsePrefix("192.0.2.1/24")
	wanFirst  = netip.MustParseAddr("192.0.2.100")
	wanLast   = netip.MustParseAddr("192.0.2.150")
	webName   = "www.example.test"
	webAddr   = netip.MustParseAddr("192.0.2.80")
	echoPort  = uint16(7)
	routerMAC = mustMAC(vm.AccessMAC)
)

var mustMAC = nettest.MustMAC

// testbed is a booted router with the internet host on its WAN.
type testbed struct {
	t        *testing.T
	port     int // the multicast port base of the test's networks
	vm       *vm.VM
	console  *vmtest.Console
	internet *nettest.Host
	dhcp     *nettest.DHCPServer
	dns      *nettest.DNSServer
	echo     *nettest.EchoServer
	wanAddr  netip.Addr // what the ISP leased to the router
	started  time.Time
}

func boot(t *testing.T) *testbed {
	if _, err := exec.LookPath("qemu-system-mips"); err != nil {
		t.Fatalf("%v: install the Debian package qemu-system-mips", err)
	}
	b := &testbed{t: t, port: vmtest.PortBase(t)}
	var err error
	b.internet, err = nettest.New(nettest.Config{
		Port: b.port + vm.AccessPort,
		MAC:  mustMAC("52:54:00:00:01:01"),
		Name: "internet",
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.internet.Close() })
	if err := b.internet.AddAddress(ispAddr); err != nil {
		t.Fatal(err)
	}
	b.dhcp, err = b.internet.ServeDHCP(nettest.ServerConfig{
		First:     wanFirst,
		Last:      wanLast,
		Prefix:    ispAddr.Bits(),
		Router:    ispAddr.Addr(),
		DNS:       []netip.Addr{ispAddr.Addr()},
		LeaseTime: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	b.dns, err = b.internet.ServeDNS(map[string][]netip.Addr{webName: {webAddr}})
	if err != nil {
		t.Fatal(err)
	}
	b.echo, err = b.internet.ServeEcho(echoPort)
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	b.started = time.Now()
	b.vm, err = vm.Start(ctx, vm.Config{
		Kernel:   runfiles.Path(t, *kernel),
		Rootfs:   runfiles.Path(t, *rootfs),
		Dir:      t.TempDir(),
		PortBase: b.port,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.vm.Kill() })
	conn, err := b.vm.Console()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	b.console = vmtest.NewConsole(t, conn)
	t.Cleanup(b.console.CheckCommands)
	b.console.WaitBooted(200 * time.Second)
	t.Logf("boot to all services up: %.1f s", time.Since(b.started).Seconds())

	// The router's WAN lease from the ISP.
	deadline := time.Now().Add(60 * time.Second)
	for b.wanAddr = b.dhcp.Leases()[routerMAC.String()]; !b.wanAddr.IsValid(); b.wanAddr = b.dhcp.Leases()[routerMAC.String()] {
		if time.Now().After(deadline) {
			out, _ := b.console.Run("ip addr; rc status wan; tail -20 /run/log/wan/current")
			t.Fatalf("the router asked the ISP for no lease in 60 s (leases: %v):\n%s", b.dhcp.Leases(), out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("router's WAN address: %v", b.wanAddr)
	return b
}

// lanHost attaches a host to the router's LAN and gets its lease.
func (b *testbed) lanHost(name string, mac net.HardwareAddr) (*nettest.Host, nettest.Lease) {
	b.t.Helper()
	h, err := nettest.New(nettest.Config{Port: b.port + vm.LANPort, MAC: mac, Name: name, Logf: b.t.Logf})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	lease, err := h.DHCP(ctx)
	if err != nil {
		out, _ := b.console.Run("rc status dnsmasq; tail -20 /run/log/dnsmasq/current; firewall zones")
		b.t.Fatalf("%s: no lease from the router: %v\n%s", name, err, out)
	}
	return h, lease
}

// readRemote reads the echo server's first line, "remote=IP:PORT".
func readRemote(c net.Conn) (netip.AddrPort, error) {
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	return nettest.ReadGreeting(bufio.NewReader(c))
}

// TestFromLAN: a LAN host gets its lease, names and the internet through
// the router, behind NAT; SSH answers on the LAN; an interface that comes
// up after the firewall joins its zone; the live ruleset is the image's.
func TestFromLAN(t *testing.T) {
	b := boot(t)

	lan, lease := b.lanHost("lan", mustMAC("52:54:00:12:34:20"))
	t.Logf("boot to the LAN host's first lease: %.1f s", time.Since(b.started).Seconds())
	if a := lease.Addr.Addr(); a.Less(rangeFirst) || rangeLast.Less(a) {
		t.Errorf("leased %v, want an address in %v-%v", lease.Addr, rangeFirst, rangeLast)
	}
	if lease.Addr.Masked() != lanPrefix {
		t.Errorf("leased %v, want it in %v", lease.Addr, lanPrefix)
	}
	if lease.Router != routerLAN {
		t.Errorf("lease's router = %v, want the router's LAN address %v", lease.Router, routerLAN)
	}
	if len(lease.DNS) != 1 || lease.DNS[0] != routerLAN {
		t.Errorf("lease's DNS servers = %v, want [%v]", lease.DNS, routerLAN)
	}

	// A static host gets its fixed address.
	_, fixedLease := b.lanHost("fixed", fixedMAC)
	if fixedLease.Addr.Addr() != fixedAddr {
		t.Errorf("static host %v leased %v, want %v", fixedMAC, fixedLease.Addr, fixedAddr)
	}

	// Names the internet's DNS serves resolve through the router, which
	// learnt its upstream from the WAN lease.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addrs, err := lan.Resolve(ctx, webName)
	if err != nil {
		out, _ := b.console.Run("cat /run/services/outputs/wan/resolv.conf; tail -20 /run/log/dnsmasq/current")
		t.Fatalf("resolving %s through the router: %v\n%s", webName, err, out)
	}
	if len(addrs) != 1 || addrs[0] != webAddr {
		t.Errorf("%s resolved to %v, want [%v]", webName, addrs, webAddr)
	}
	for _, q := range b.dns.Queries() {
		if q.Source != b.wanAddr {
			t.Errorf("the internet's DNS server saw a query for %q from %v, want only the router's WAN address %v", q.Name, q.Source, b.wanAddr)
		}
	}

	// TCP to the internet: the server sees the router's WAN address.
	conn, err := lan.DialTCP(ctx, netip.AddrPortFrom(ispAddr.Addr(), echoPort))
	if err != nil {
		t.Fatalf("LAN host to the internet's echo server: %v", err)
	}
	defer conn.Close()
	remote, err := readRemote(conn)
	if err != nil {
		t.Fatal(err)
	}
	if remote.Addr() != b.wanAddr {
		t.Errorf("the internet host saw the LAN host's connection from %v, want the router's WAN address %v (NAT)", remote, b.wanAddr)
	}
	if _, err := conn.Write([]byte("ping through NAT\n")); err != nil {
		t.Fatal(err)
	}
	if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || line != "ping through NAT\n" {
		t.Errorf("echo through NAT: %q, %v", line, err)
	}

	// SSH answers on the LAN address.
	ssh, err := lan.DialTCP(ctx, netip.AddrPortFrom(routerLAN, 22))
	if err != nil {
		t.Fatalf("SSH on the router's LAN address: %v", err)
	}
	ssh.SetReadDeadline(time.Now().Add(20 * time.Second))
	banner, _ := bufio.NewReader(ssh).ReadString('\n')
	ssh.Close()
	if !strings.HasPrefix(banner, "SSH-2.0-dropbear") {
		t.Errorf("SSH banner on %v:22 = %q, want SSH-2.0-dropbear...", routerLAN, banner)
	}

	// An interface that appears after the firewall loaded joins its zone
	// within 2 s (counted by the router's clock, in 100 ms steps), and leaves
	// it when its service stops.
	inZone := `firewall zones | grep -q '^zone_lan .*br-guest'`
	if _, code := b.console.Run(inZone); code == 0 {
		t.Fatalf("br-guest is in zone_lan before its service started")
	}
	out := b.console.Must(`rc change -u guest && i=0; until ` + inZone + ` || [ $i -ge 100 ]; do usleep 100000; i=$((i + 1)); done; echo steps=$i; firewall zones`)
	steps := stepsRE.FindStringSubmatch(out)
	if steps == nil {
		t.Fatalf("zone wait printed no steps:\n%s", out)
	}
	if n, _ := strconv.Atoi(steps[1]); n > 20 {
		t.Errorf("br-guest joined zone_lan after %d00 ms (or never), want within 2 s:\n%s", n, out)
	} else {
		t.Logf("br-guest in zone_lan %d00 ms after its service came up", n)
	}
	out = b.console.Must(`rc change -d guest && i=0; while ` + inZone + ` && [ $i -lt 100 ]; do usleep 100000; i=$((i + 1)); done; echo steps=$i; firewall zones`)
	if steps := stepsRE.FindStringSubmatch(out); steps == nil || steps[1] == "100" {
		t.Errorf("br-guest still in zone_lan 10 s after its service stopped:\n%s", out)
	}
	if out := b.console.Must("firewall zones"); !regexp.MustCompile(`(?m)^zone_lan .*br-lan`).MatchString(out) || !regexp.MustCompile(`(?m)^zone_wan .*eth0`).MatchString(out) {
		t.Errorf("firewall zones: want br-lan in zone_lan and eth0 in zone_wan:\n%s", out)
	}

	// A VLAN on the LAN port with its own MTU and MAC (vlan and link
	// services), and gone again when stopped.
	// (busybox ip has no -d: the VLAN ID is read from /proc/net/vlan.)
	out = b.console.Must("rc change -u lan_vlan_link && ip link show eth1.7 && cat /proc/net/vlan/config")
	for _, want := range []string{"mtu 1400", "link/ether 02:00:00:00:07:01", "eth1.7@eth1", ",UP", "eth1.7         | 7  | eth1"} {
		if !strings.Contains(out, want) {
			t.Errorf("eth1.7 after rc change -u lan_vlan_link: want %q in:\n%s", want, out)
		}
	}
	if out, code := b.console.Run("rc change -d lan_vlan && ip link show eth1.7"); code == 0 {
		t.Errorf("eth1.7 still there after rc change -d lan_vlan:\n%s", out)
	}

	// The live ruleset, read back from the kernel, is the image's.
	want := string(runfiles.Read(t, *ruleset))
	if got := b.console.Must("cat /etc/firewall/firewall.nft"); got != want {
		t.Errorf("/etc/firewall/firewall.nft on the device differs from the built ruleset:\n%s\nwant:\n%s", got, want)
	}
	if got := b.console.Must("firewall dump"); got != want {
		t.Errorf("firewall dump (the kernel's ruleset) differs from the image's ruleset:\n%s\nwant:\n%s", got, want)
	}
	t.Logf("ruleset: %d rules loaded", strings.Count(want, "\n")-strings.Count(want, "{")-strings.Count(want, "}"))
}

var stepsRE = regexp.MustCompile(`steps=(\d+)`)

// TestFromInternet: from the WAN, the router's own services are closed, a
// port forward reaches the LAN host, and a packet with a spoofed LAN
// source is dropped.
func TestFromInternet(t *testing.T) {
	b := boot(t)
	fixed, lease := b.lanHost("fixed", fixedMAC)
	if lease.Addr.Addr() != fixedAddr {
		t.Fatalf("static host leased %v, want %v", lease.Addr, fixedAddr)
	}
	web, err := fixed.ServeEcho(80)
	if err != nil {
		t.Fatal(err)
	}
	_ = web
	udp, err := fixed.ListenUDP(5000)
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The port forward: the LAN host sees the internet host's own address.
	conn, err := b.internet.DialTCP(ctx, netip.AddrPortFrom(b.wanAddr, 8080))
	if err != nil {
		t.Fatalf("internet host to the router's forwarded port 8080: %v", err)
	}
	remote, err := readRemote(conn)
	conn.Close()
	if err != nil {
		t.Fatal(err)
	}
	if remote.Addr() != ispAddr.Addr() {
		t.Errorf("the LAN host saw the forwarded connection from %v, want the internet host %v", remote, ispAddr.Addr())
	}

	// The router's own services do not answer on the WAN: no SSH, no DNS.
	for _, port := range []uint16{22, 53} {
		dctx, dcancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := b.internet.DialTCP(dctx, netip.AddrPortFrom(b.wanAddr, port))
		dcancel()
		if err == nil {
			c.Close()
			t.Errorf("tcp/%d on the router's WAN address %v accepted a connection from the internet", port, b.wanAddr)
		}
	}
	if addrs, err := b.internet.ResolveVia(ctx, netip.AddrPortFrom(b.wanAddr, 53), webName, 5*time.Second); err == nil {
		t.Errorf("the router's DNS answered the internet on its WAN address: %s = %v", webName, addrs)
	}

	// A datagram to the forwarded UDP port with a LAN host's address as
	// its source (spoofed) is dropped; the same with the internet host's
	// own source gets through, so the path itself works.
	payload := []byte("spoofed")
	spoofed := netip.AddrPortFrom(netip.MustParseAddr("192.168.8.50"), 4000)
	if err := b.internet.SendUDPv4(routerMAC, spoofed, netip.AddrPortFrom(b.wanAddr, 5000), payload); err != nil {
		t.Fatal(err)
	}
	genuine := netip.AddrPortFrom(ispAddr.Addr(), 4000)
	// After a pause, so that a spoofed packet that got through would arrive first.
	time.Sleep(2 * time.Second)
	if err := b.internet.SendUDPv4(routerMAC, genuine, netip.AddrPortFrom(b.wanAddr, 5000), []byte("genuine")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	var got []string
	udp.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		n, from, err := udp.ReadFrom(buf)
		if err != nil {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatal(err)
			}
			break
		}
		got = append(got, fmt.Sprintf("%s from %v", buf[:n], from))
		if string(buf[:n]) == "genuine" {
			break
		}
	}
	want := fmt.Sprintf("genuine from %v", genuine)
	if len(got) != 1 || got[0] != want {
		t.Errorf("datagrams at the LAN host's forwarded port: %q, want only %q (the spoofed one dropped)", got, want)
	}
}
