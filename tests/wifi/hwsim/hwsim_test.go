// Package hwsim proves wifi end to end on emulated radios: it boots this
// package's router (the gateway with a WPA2 access point on wlan0, bridged
// into the LAN) on the qemu device's kernel, whose mac80211_hwsim gives it
// two radios on one simulated medium. The test moves the second radio into
// a network namespace of its own and runs a station there (wpa_supplicant,
// udhcpc, ping), so that nothing it sends can take a shortcut through the
// router's own stack: its frames cross the air, the access point's keys,
// the LAN bridge and the router's NAT, like a laptop's.
package hwsim

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"bazwrt/tests/nettest"
	"bazwrt/tests/runfiles"
	"bazwrt/tools/vm"
	"bazwrt/tools/vm/vmtest"
)

var (
	kernel = flag.String("kernel", "", "rootpath of the kernel")
	rootfs = flag.String("rootfs", "", "rootpath of the squashfs root filesystem")
)

// What BUILD.bazel gives the access point and the gateway profile the LAN.
const (
	ssid       = "bazwrt-hwsim"
	passphrase = "hwsim-test-passphrase"
)

var (
	routerLAN  = netip.MustParseAddr("192.168.8.1")
	rangeFirst = netip.MustParseAddr("192.168.8.100")
	rangeLast  = netip.MustParseAddr("192.168.8.250")

	// The emulated internet on "access" (TEST-NET-1, as //tests/router).
	ispAddr  = netip.MustParsePrefix("192.0.2.1/24")
	wanFirst = netip.MustParseAddr("192.0.2.100")
	wanLast  = netip.MustParseAddr("192.0.2.150")
	echoPort = uint16(7)
)

type testbed struct {
	t        *testing.T
	console  *vmtest.Console
	port     int
	internet *nettest.Host
	wanAddr  netip.Addr    // what the internet's DHCP server leased the router
	wired    *nettest.Host // a host on the LAN's wire (eth1), without an address
}

// boot starts the internet host (the WAN's DHCP server) and the router,
// and waits for every service of it, the access point's included.
func boot(t *testing.T) *testbed {
	if _, err := exec.LookPath("qemu-system-mips"); err != nil {
		t.Fatalf("%v: install the Debian package qemu-system-mips", err)
	}
	b := &testbed{t: t, port: vmtest.PortBase(t)}
	var err error
	b.internet, err = nettest.New(nettest.Config{
		Port: b.port + vm.AccessPort,
		MAC:  nettest.MustMAC("52:54:00:00:01:01"),
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
	if _, err := b.internet.ServeEcho(echoPort); err != nil {
		t.Fatal(err)
	}
	dhcp, err := b.internet.ServeDHCP(nettest.ServerConfig{
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

	// The wired LAN host is eth1's only peer, on a point-to-point link:
	// the "lan" multicast network would echo eth1's frames back to it, and
	// br-lan would learn the station on eth1 (docs/wifi.md).
	eth1Port := vmtest.FreeUDPPort(t)
	b.wired, err = nettest.New(nettest.Config{
		Peer: eth1Port,
		MAC:  nettest.MustMAC("52:54:00:00:02:01"),
		Name: "wired",
		Logf: t.Logf,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.wired.Close() })

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	t.Cleanup(cancel)
	v, err := vm.Start(ctx, vm.Config{
		Kernel:   runfiles.Path(t, *kernel),
		Rootfs:   runfiles.Path(t, *rootfs),
		Dir:      t.TempDir(),
		PortBase: b.port,
		LAN:      vm.UnicastNetdev(eth1Port, b.wired.LocalPort()),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Kill() })
	conn, err := v.Console()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	b.console = vmtest.NewConsole(t, conn)
	t.Cleanup(b.console.CheckCommands)
	b.console.WaitBooted(200 * time.Second)
	// The router's WAN lease (its DHCP client is up before it has one).
	for deadline := time.Now().Add(60 * time.Second); !b.wanAddr.IsValid(); time.Sleep(500 * time.Millisecond) {
		for _, a := range dhcp.Leases() {
			b.wanAddr = a
		}
		if time.Now().After(deadline) {
			t.Fatal("the router took no lease from the internet's DHCP server in 60 s")
		}
	}
	b.waitLog("ap", regexp.MustCompile(`wlan0: AP-ENABLED`), 60*time.Second)
	return b
}

// waitLog waits for re in the service's log and returns the log.
func (b *testbed) waitLog(svc string, re *regexp.Regexp, timeout time.Duration) string {
	b.t.Helper()
	return b.waitFile("/run/log/"+svc+"/current", re, timeout)
}

// waitFile waits for re in a file of the router's.
func (b *testbed) waitFile(path string, re *regexp.Regexp, timeout time.Duration) string {
	b.t.Helper()
	var out string
	for deadline := time.Now().Add(timeout); ; time.Sleep(500 * time.Millisecond) {
		out, _ = b.console.Run("cat " + path + " 2>/dev/null")
		if re.MatchString(out) {
			return out
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no %q in %s after %v:\n%s", re, path, timeout, vmtest.Tail(out, 3000))
		}
	}
}

// station is wlan1 (the second radio, phy1) in a network namespace of its
// own, held by a sleeping process.
type station struct {
	b   *testbed
	pid string
	mac string
}

// newStation moves phy1 into a new network namespace.
func (b *testbed) newStation() *station {
	b.t.Helper()
	mac := strings.TrimSpace(b.console.Must("cat /sys/class/net/wlan1/address"))
	b.console.Must("unshare -n sleep 100000 >/dev/null 2>&1 & echo $! >/tmp/sta.pid")
	pid := strings.TrimSpace(b.console.Must("cat /tmp/sta.pid"))
	b.console.Must("iw phy phy1 set netns " + pid)
	s := &station{b: b, pid: pid, mac: mac}
	if out := b.console.Must("[ -e /sys/class/net/wlan1 ] && echo present || echo gone"); strings.TrimSpace(out) != "gone" {
		b.t.Fatalf("wlan1 is still in the router's namespace after iw phy phy1 set netns: %s", out)
	}
	s.must("ip link set lo up")
	s.must("ip link set wlan1 up")
	return s
}

// must runs cmd in the station's namespace.
func (s *station) must(cmd string) string {
	s.b.t.Helper()
	return s.b.console.Must("nsenter -t " + s.pid + " -n " + cmd)
}

func (s *station) run(cmd string) (string, int) {
	s.b.t.Helper()
	return s.b.console.Run("nsenter -t " + s.pid + " -n " + cmd)
}

// join starts wpa_supplicant on wlan1 with psk as a WPA2 station (PMF
// optional), logging to /tmp/sta.log.
func (s *station) join(psk string) {
	s.b.t.Helper()
	s.start(psk, "WPA-PSK", 1, "")
}

// start starts wpa_supplicant on wlan1 with psk (the WPA2 passphrase, or
// the SAE password), the key management and PMF setting (ieee80211w: 1
// optional, 2 required) and options, logging to /tmp/sta.log.
func (s *station) start(psk, keyMgmt string, pmf int, options string) {
	s.b.t.Helper()
	s.b.console.Must(fmt.Sprintf(`printf 'ctrl_interface=/run/sta\nnetwork={\n\tssid="%s"\n\tpsk="%s"\n\tkey_mgmt=%s\n\tieee80211w=%d\n}\n' >/tmp/sta.conf`, ssid, psk, keyMgmt, pmf))
	s.b.console.Must("rm -f /tmp/sta.log; nsenter -t " + s.pid + " -n wpa_supplicant " + options + " -i wlan1 -c /tmp/sta.conf >/tmp/sta.log 2>&1 &")
}

// leave stops wpa_supplicant.
func (s *station) leave() {
	s.b.t.Helper()
	s.b.console.Run("killall wpa_supplicant; sleep 1")
}

// TestStation: a station with the passphrase joins the access point with
// WPA2 (the 4-way handshake completes on both sides), takes a lease from
// the router's LAN over the air (a unicast OFFER), reaches the router,
// through the router's NAT the internet, and across the LAN bridge a
// wired LAN host.
func TestStation(t *testing.T) {
	b := boot(t)
	// The access point's country (DE) is the kernel's regulatory domain:
	// hostapd asks for it, and the kernel finds DE in the database built
	// into it (//userland/wireless-regdb), whose signature it checks.
	// Without the database it stays in the world domain, country 00.
	var reg string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(time.Second) {
		reg = b.console.Must("iw reg get")
		if regexp.MustCompile(`(?m)^country DE: DFS-ETSI$`).MatchString(reg) || time.Now().After(deadline) {
			break
		}
	}
	if !regexp.MustCompile(`(?m)^country DE: DFS-ETSI\n\s+\(2400 - 248[34](\.\d+)? @ 40`).MatchString(reg) {
		klog, _ := b.console.Run("dmesg | grep -i -e regulatory -e cfg80211 -e x509")
		t.Errorf("iw reg get: want country DE (DFS-ETSI) with its 2.4 GHz rule:\n%s\nkernel:\n%s", reg, klog)
	}
	s := b.newStation()
	started := time.Now()
	s.join(passphrase)
	b.waitFile("/tmp/sta.log", regexp.MustCompile(`CTRL-EVENT-CONNECTED`), 60*time.Second)
	t.Logf("station associated and keyed: %.1f s", time.Since(started).Seconds())
	apLog := b.waitLog("ap", regexp.MustCompile(`EAPOL-4WAY-HS-COMPLETED `+regexp.QuoteMeta(s.mac)), 30*time.Second)
	if !regexp.MustCompile(`AP-STA-CONNECTED ` + regexp.QuoteMeta(s.mac)).MatchString(apLog) {
		t.Errorf("hostapd's log has no AP-STA-CONNECTED for %s:\n%s", s.mac, vmtest.Tail(apLog, 2000))
	}
	if out := b.console.Must("iw dev wlan0 station dump"); !strings.Contains(out, "Station "+s.mac) {
		t.Errorf("iw dev wlan0 station dump does not list %s:\n%s", s.mac, out)
	}

	// A lease over the air: udhcpc's script (in /tmp) gives wlan1 the
	// address and writes it down.
	b.console.Must(`printf '#!/bin/sh\ncase "$1" in bound|renew) ip addr add "$ip/$mask" dev "$interface"; ip route add default via "$router"; echo "$ip" >/tmp/sta.ip ;; esac\n' >/tmp/sta.script && chmod +x /tmp/sta.script`)
	// Without -B, busybox udhcpc's default and most phones': dnsmasq
	// unicasts the OFFER to the unconfigured station.
	s.must("udhcpc -i wlan1 -n -q -t 10 -T 3 -s /tmp/sta.script")
	ip, err := netip.ParseAddr(strings.TrimSpace(b.console.Must("cat /tmp/sta.ip")))
	if err != nil {
		t.Fatalf("the station's address: %v", err)
	}
	if ip.Less(rangeFirst) || rangeLast.Less(ip) {
		t.Errorf("the station's lease %v, want one of the LAN's %v-%v", ip, rangeFirst, rangeLast)
	}

	// The router, through the air and the bridge.
	if out, code := s.run("ping -c 3 -W 5 " + routerLAN.String()); code != 0 {
		t.Errorf("the station cannot ping the router at %v (exit %d):\n%s", routerLAN, code, out)
	}
	// The internet host's echo server, through the router's NAT: it sees
	// the router's WAN address.
	if peer := s.echo(netip.AddrPortFrom(ispAddr.Addr(), echoPort)); peer.Addr() != b.wanAddr {
		t.Errorf("the internet host saw the station's connection from %v, want the router's WAN address %v (NAT)", peer, b.wanAddr)
	}
	// A wired LAN host with a lease of its own, across the bridge (eth1 to
	// wlan0): its echo server sees the station's own address, not NATed.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wired, err := b.wired.DHCP(ctx)
	if err != nil {
		t.Fatalf("the wired LAN host's lease: %v", err)
	}
	if _, err := b.wired.ServeEcho(echoPort); err != nil {
		t.Fatal(err)
	}
	if peer := s.echo(netip.AddrPortFrom(wired.Addr.Addr(), echoPort)); peer.Addr() != ip {
		t.Errorf("the wired LAN host saw the station's connection from %v, want the station's %v", peer, ip)
	}
	s.leave()
}

// echo connects from the station to an echo server (nettest's) and
// returns the address the server saw the connection come from.
func (s *station) echo(server netip.AddrPort) netip.AddrPort {
	s.b.t.Helper()
	// Input open for 2 s (busybox nc ends with its input, which would
	// come before the greeting); timeout ends it, as the echo server keeps
	// the connection (this nc has no -w).
	out, _ := s.b.console.Run(fmt.Sprintf("sleep 2 | timeout 8 nsenter -t %s -n nc %s %d", s.pid, server.Addr(), server.Port()))
	peer, err := nettest.ReadGreeting(bufio.NewReader(strings.NewReader(out)))
	if err != nil {
		s.b.t.Fatalf("the station's TCP connection to %v: %v:\n%s", server, err, out)
	}
	return peer
}

// TestStationSAE: the access point offers WPA3-Personal beside WPA2
// (wpa3 = True); a WPA3-only station (SAE, PMF required) joins with the
// passphrase as its SAE password: wpa_supplicant's debug log shows SAE
// chosen and the access point's commit and confirm accepted, the 4-way handshake
// completes on both sides. A WPA3 station with another password never
// connects: the access point rejects its SAE confirm.
func TestStationSAE(t *testing.T) {
	b := boot(t)
	conf := b.console.Must("cat /etc/hostapd/ap.conf")
	if !strings.Contains(conf, "\nwpa_key_mgmt=WPA-PSK SAE\n") {
		t.Fatalf("the access point does not offer SAE:\n%s", conf)
	}
	s := b.newStation()
	started := time.Now()
	s.start(passphrase, "SAE", 2, "-d")
	staLog := b.waitFile("/tmp/sta.log", regexp.MustCompile(`CTRL-EVENT-CONNECTED`), 60*time.Second)
	t.Logf("WPA3 station associated and keyed: %.1f s", time.Since(started).Seconds())
	for _, want := range []string{
		`RSN: using KEY_MGMT SAE`,
		// The access point's commit and confirm, accepted.
		`SME: SAE authentication transaction 1 status code 0`,
		`SME: SAE authentication transaction 2 status code 0`,
		`WPA: Key negotiation completed`,
	} {
		if !strings.Contains(staLog, want) {
			t.Errorf("wpa_supplicant's log has no %q", want)
		}
	}
	b.waitLog("ap", regexp.MustCompile(`EAPOL-4WAY-HS-COMPLETED `+regexp.QuoteMeta(s.mac)), 30*time.Second)
	s.leave()

	// It tries (SAE authentication with the access point) and, for 20 s
	// after, is not let in.
	s.start("not-the-passphrase", "SAE", 2, "")
	b.waitFile("/tmp/sta.log", regexp.MustCompile(`SME: Trying to authenticate with`), 30*time.Second)
	time.Sleep(20 * time.Second)
	out, _ := b.console.Run("cat /tmp/sta.log")
	if strings.Contains(out, "CTRL-EVENT-CONNECTED") {
		t.Errorf("a WPA3 station connected with a wrong password:\n%s", vmtest.Tail(out, 2000))
	}
	// The access point refuses its SAE confirm (auth_type 3, the second
	// transaction; status 1, unspecified failure).
	if !strings.Contains(out, "CTRL-EVENT-AUTH-REJECT 02:00:00:00:00:00 auth_type=3 auth_transaction=2 status_code=1") {
		t.Errorf("the access point did not reject the wrong password's SAE confirm:\n%s", vmtest.Tail(out, 2000))
	}
	s.leave()
}

// TestWrongPassphrase: a station with another passphrase is refused; the
// access point's log says why, and the station never connects.
func TestWrongPassphrase(t *testing.T) {
	b := boot(t)
	s := b.newStation()
	s.join("not-the-passphrase")
	apLog := b.waitLog("ap", regexp.MustCompile(`AP-STA-POSSIBLE-PSK-MISMATCH `+regexp.QuoteMeta(s.mac)), 60*time.Second)
	if regexp.MustCompile(`EAPOL-4WAY-HS-COMPLETED ` + regexp.QuoteMeta(s.mac)).MatchString(apLog) {
		t.Errorf("the 4-way handshake completed with a wrong passphrase:\n%s", vmtest.Tail(apLog, 2000))
	}
	if out, _ := b.console.Run("cat /tmp/sta.log"); strings.Contains(out, "CTRL-EVENT-CONNECTED") {
		t.Errorf("the station connected with a wrong passphrase:\n%s", vmtest.Tail(out, 2000))
	}
	s.leave()
}
