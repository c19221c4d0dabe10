// Package userland_test checks the C userland built for each device
// platform: every ELF file is for the platform's machine, byte order and
// float ABI and has the hardening policy requires (the checksec library),
// soft-float builds contain no FPU instruction, and busybox and a float
// test program run under qemu-user on the device's CPU with the results the
// host computes. Controls prove that each check can fail.
package userland_test

import (
	"debug/elf"
	"encoding/binary"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"bazwrt/tests/runfiles"
	"github.com/google/go-cmp/cmp"

	"bazwrt/tools/checksec/elfcheck"
)

var (
	checksecBin = flag.String("checksec", "", "the checksec command")
	controls    = flag.String("controls", "", "directory of the mips_24kc control builds")
	dirs        = map[string]*string{}
)

type platform struct {
	name  string
	qemu  []string // qemu-user command and the device's CPU
	check elfcheck.Policy
}

// hardening is what every target binary must have (docs/toolchains.md).
func hardening(p elfcheck.Policy) elfcheck.Policy {
	p.Static, p.PIE, p.RELRO, p.BindNow, p.NXStack, p.Canary = true, true, true, true, true, true
	return p
}

var platforms = []platform{
	{"mips_24kc", []string{"qemu-mips-static", "-cpu", "24Kc"},
		hardening(elfcheck.Policy{Machine: elf.EM_MIPS, ByteOrder: binary.BigEndian, FloatABI: elfcheck.FloatSoft})},
	{"mipsel_24kec", []string{"qemu-mipsel-static", "-cpu", "24KEc"},
		hardening(elfcheck.Policy{Machine: elf.EM_MIPS, ByteOrder: binary.LittleEndian, FloatABI: elfcheck.FloatSoft})},
	{"armv7", []string{"qemu-arm-static", "-cpu", "cortex-a7"},
		hardening(elfcheck.Policy{Machine: elf.EM_ARM, ByteOrder: binary.LittleEndian, FloatABI: elfcheck.FloatHard})},
	{"aarch64", []string{"qemu-aarch64-static", "-cpu", "cortex-a53"},
		hardening(elfcheck.Policy{Machine: elf.EM_AARCH64, ByteOrder: binary.LittleEndian, FloatABI: elfcheck.FloatHard})},
}

func init() {
	for _, p := range platforms {
		dirs[p.name] = flag.String(p.name, "", "userland built for //toolchains:"+p.name)
	}
}

// built lists the platforms whose userland the test was given (BUILD.bazel
// says which); mips_24kc, the devices' platform, must be one.
func built(t *testing.T) []platform {
	t.Helper()
	if *dirs["mips_24kc"] == "" {
		t.Fatal("-mips_24kc not set: run this test with bazel test")
	}
	var ps []platform
	for _, p := range platforms {
		if *dirs[p.name] != "" {
			ps = append(ps, p)
		}
	}
	return ps
}

// qemuCommand finds qemu-user; a missing one fails the test: ./bazelw
// installs qemu-user-static.
func qemuCommand(t *testing.T, q []string, args ...string) *exec.Cmd {
	t.Helper()
	path, err := exec.LookPath(q[0])
	if err != nil {
		path = "/usr/bin/" + q[0]
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s not found: install Debian's qemu-user-static (./bazelw does)", q[0])
		}
	}
	return exec.Command(path, append(append([]string{}, q[1:]...), args...)...)
}

// elfFiles lists the ELF files under dir. In the runfiles every file is a
// symbolic link; a link whose target has another name (busybox's applets)
// is not a file of its own and is left out.
func elfFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := elfcheck.Files([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func inspect(t *testing.T, path string) *elfcheck.Report {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := elfcheck.Inspect(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}

func TestELFPolicy(t *testing.T) {
	for _, p := range built(t) {
		t.Run(p.name, func(t *testing.T) {
			dir := runfiles.Path(t, *dirs[p.name])
			files := elfFiles(t, dir)
			var names []string
			for _, path := range files {
				rel, _ := filepath.Rel(dir, path)
				names = append(names, rel)
				if miss := p.check.Check(inspect(t, path)); len(miss) > 0 {
					t.Errorf("%s: %s", rel, strings.Join(miss, ", "))
				}
			}
			// Every package is there, and nothing unexpected is checked.
			want := []string{
				"busybox/bin/busybox",
				"dnsmasq/usr/sbin/dnsmasq",
				"dropbear/usr/bin/dbclient",
				"dropbear/usr/bin/dropbearkey",
				"dropbear/usr/sbin/dropbear",
				"floattest/bin/floattest",
				"hostapd/usr/sbin/hostapd",
				"iw/usr/sbin/iw",
				"ppp/usr/sbin/pppd",
				"ppp/usr/sbin/pppoe-discovery",
				"rp-pppoe/usr/sbin/pppoe",
				"rp-pppoe/usr/sbin/pppoe-server",
				"wide-dhcpv6/usr/sbin/dhcp6c",
				"wide-dhcpv6/usr/sbin/dhcp6s",
				"wpa_supplicant/usr/sbin/wpa_supplicant",
			}
			if diff := cmp.Diff(want, names); diff != "" {
				t.Errorf("ELF files (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBusyboxRuns(t *testing.T) {
	for _, p := range built(t) {
		t.Run(p.name, func(t *testing.T) {
			bb := filepath.Join(runfiles.Path(t, *dirs[p.name]), "busybox/bin/busybox")
			for _, tc := range []struct {
				args []string
				want string
			}{
				{[]string{"echo", "ok"}, "ok\n"},
				{[]string{"sh", "-c", "echo $((6 * 7))"}, "42\n"},
				// dd as the flashing scripts use it.
				{[]string{"sh", "-c", "printf abcdefgh | dd iflag=skip_bytes,fullblock skip=2 bs=4 count=1 2>/dev/null"}, "cdef"},
			} {
				out, err := qemuCommand(t, p.qemu, append([]string{bb}, tc.args...)...).CombinedOutput()
				if err != nil {
					t.Errorf("busybox %q: %v\n%s", tc.args, err, out)
				} else if string(out) != tc.want {
					t.Errorf("busybox %q = %q, want %q", tc.args, out, tc.want)
				}
			}
			out, err := qemuCommand(t, p.qemu, bb, "--list").Output()
			if err != nil {
				t.Fatalf("busybox --list: %v", err)
			}
			have := map[string]bool{}
			for _, a := range strings.Fields(string(out)) {
				have[a] = true
			}
			for _, a := range []string{"ash", "sh", "ip", "udhcpc", "ntpd", "syslogd", "klogd", "logread", "mount", "ping", "dd", "cmp", "unshare", "nsenter"} {
				if !have[a] {
					t.Errorf("busybox has no %s applet", a)
				}
			}
		})
	}
}

// dropbear, dnsmasq, hostapd, wpa_supplicant, iw and the PPPoE programs run on the device's CPU:
// dropbearkey makes and reads back an ed25519 key (the SSH server's host
// key), dnsmasq checks a configuration, hostapd, wpa_supplicant, iw, pppd and rp-pppoe give
// their versions.
func TestDaemonsRun(t *testing.T) {
	for _, p := range built(t) {
		t.Run(p.name, func(t *testing.T) {
			dir := runfiles.Path(t, *dirs[p.name])
			key := filepath.Join(t.TempDir(), "ed25519")
			keygen := filepath.Join(dir, "dropbear/usr/bin/dropbearkey")
			out, err := qemuCommand(t, p.qemu, keygen, "-t", "ed25519", "-f", key).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "ssh-ed25519 AAAA") {
				t.Errorf("dropbearkey -t ed25519: %v\n%s", err, out)
			}
			pub, err := qemuCommand(t, p.qemu, keygen, "-y", "-f", key).CombinedOutput()
			if err != nil || !strings.Contains(string(pub), "ssh-ed25519 AAAA") {
				t.Errorf("dropbearkey -y: %v\n%s", err, pub)
			}
			out, err = qemuCommand(t, p.qemu, filepath.Join(dir, "dropbear/usr/sbin/dropbear"), "-V").CombinedOutput()
			if !strings.Contains(string(out), "Dropbear v2025.89") {
				t.Errorf("dropbear -V: %v\n%s", err, out)
			}
			conf := filepath.Join(t.TempDir(), "dnsmasq.conf")
			os.WriteFile(conf, []byte("interface=lan\ndhcp-range=192.168.8.100,192.168.8.200,12h\n"), 0o644)
			out, err = qemuCommand(t, p.qemu, filepath.Join(dir, "dnsmasq/usr/sbin/dnsmasq"), "--test", "-C", conf).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "syntax check OK") {
				t.Errorf("dnsmasq --test: %v\n%s", err, out)
			}
			pppd := filepath.Join(dir, "ppp/usr/sbin/pppd")
			out, err = qemuCommand(t, p.qemu, pppd, "--version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "pppd version 2.5.2") {
				t.Errorf("pppd --version: %v\n%s", err, out)
			}
			out, err = qemuCommand(t, p.qemu, filepath.Join(dir, "rp-pppoe/usr/sbin/pppoe"), "-V").CombinedOutput()
			if !strings.Contains(string(out), "RP-PPPoE Version 3.15") {
				t.Errorf("pppoe -V: %v\n%s", err, out)
			}
			// hostapd -v gives its version and exits 1.
			out, err = qemuCommand(t, p.qemu, filepath.Join(dir, "hostapd/usr/sbin/hostapd"), "-v").CombinedOutput()
			if e, ok := err.(*exec.ExitError); !ok || e.ExitCode() != 1 || !strings.Contains(string(out), "hostapd v2.10\n") {
				t.Errorf("hostapd -v: %v\n%s", err, out)
			}
			// wpa_supplicant -v gives its version and exits 0; iw its own.
			out, err = qemuCommand(t, p.qemu, filepath.Join(dir, "wpa_supplicant/usr/sbin/wpa_supplicant"), "-v").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "wpa_supplicant v2.10\n") {
				t.Errorf("wpa_supplicant -v: %v\n%s", err, out)
			}
			out, err = qemuCommand(t, p.qemu, filepath.Join(dir, "iw/usr/sbin/iw"), "--version").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "iw version 5.19") {
				t.Errorf("iw --version: %v\n%s", err, out)
			}
			// -k (kernel-mode PPPoE) is compiled in; usage exits 1.
			out, _ = qemuCommand(t, p.qemu, filepath.Join(dir, "rp-pppoe/usr/sbin/pppoe-server"), "-h").CombinedOutput()
			if !strings.Contains(string(out), "-k             -- Use kernel-mode PPPoE.") {
				t.Errorf("pppoe-server -h has no -k:\n%s", out)
			}
			// The PPPoE plugin is built into pppd, under both names and as
			// the path pppoe-server -k gives. Whether pppd then goes on
			// depends on the host's /dev/ppp, so only the message counts.
			for _, name := range []string{"pppoe.so", "rp-pppoe.so", "/etc/ppp/plugins/rp-pppoe.so"} {
				out, _ = qemuCommand(t, p.qemu, pppd, "plugin", name, "--version").CombinedOutput()
				if !strings.Contains(string(out), "Plugin "+name+" is built in.") {
					t.Errorf("pppd plugin %s:\n%s", name, out)
				}
			}
			// Other plugins are not: a static pppd cannot load them.
			out, err = qemuCommand(t, p.qemu, pppd, "plugin", "minconn.so", "--version").CombinedOutput()
			if err == nil || !strings.Contains(string(out), "Couldn't load plugin minconn.so") {
				t.Errorf("pppd plugin minconn.so: %v\n%s", err, out)
			}
		})
	}
}

// dhcp6s's configuration for TestDHCPv6Runs: a /56 delegated to one router
// (by its DUID: this version has address pools, for IA_NA, but delegates
// only the prefixes of host statements) and an address pool.
const dhcp6sConf = `host router1 {
	duid 00:03:00:01:52:54:00:00:01:01;
	prefix 2001:db8:100::/56 3600 7200;
};
pool wan { range 2001:db8::1000 to 2001:db8::1fff; };
interface lo { address-pool wan 3600; };
`

// dhcp6c and dhcp6s run on the device's CPU: both give their usage (no
// interface named). On the little-endian platforms they also start in the
// foreground (-f) and log to stderr: dhcp6s parses a configuration (a bad
// one fails), writes its -P pid file and stops at its DUID file, which
// qemu's -L prefix turns into a directory at the compiled-in path
// /var/lib/dhcpv6/dhcp6s_duid (dhcp6c stops there too, before it opens
// port 546). Not on mips_24kc: qemu-user does not byte-swap some netlink
// attributes for big-endian guests (busybox ip says "deficit 4,
// rta_len=1024") and musl's getifaddrs, which both call first, then never
// returns; the devices' kernel has no such problem.
func TestDHCPv6Runs(t *testing.T) {
	for _, p := range built(t) {
		t.Run(p.name, func(t *testing.T) {
			dir := filepath.Join(runfiles.Path(t, *dirs[p.name]), "wide-dhcpv6/usr/sbin")
			dhcp6c, dhcp6s := filepath.Join(dir, "dhcp6c"), filepath.Join(dir, "dhcp6s")
			out, err := qemuCommand(t, p.qemu, dhcp6c).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "usage: dhcp6c [-c configfile] [-dDfi] [-p pid-file] interface") {
				t.Errorf("dhcp6c: %v\n%s", err, out)
			}
			out, err = qemuCommand(t, p.qemu, dhcp6s).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "usage: dhcp6s [-c configfile] [-dDf] [-k ctlkeyfile] [-p ctlport] [-P pidfile] intface") {
				t.Errorf("dhcp6s: %v\n%s", err, out)
			}
			if p.check.ByteOrder == binary.BigEndian {
				return
			}
			tmp := t.TempDir()
			prefix := filepath.Join(tmp, "prefix")
			for _, d := range []string{"dhcp6c_duid", "dhcp6s_duid"} {
				if err := os.MkdirAll(filepath.Join(prefix, "var/lib/dhcpv6", d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			good, bad, pid := filepath.Join(tmp, "good.conf"), filepath.Join(tmp, "bad.conf"), filepath.Join(tmp, "dhcp6s.pid")
			os.WriteFile(good, []byte(dhcp6sConf), 0o644)
			os.WriteFile(bad, []byte("interface lo { prefix-pool wan; };\n"), 0o644)
			run := func(args ...string) string {
				t.Helper()
				cmd := qemuCommand(t, p.qemu, append([]string{"-L", prefix}, args...)...)
				out, err := cmd.CombinedOutput()
				if e, ok := err.(*exec.ExitError); !ok || e.ExitCode() != 1 {
					t.Errorf("%q: %v, want exit status 1\n%s", args, err, out)
				}
				return string(out)
			}
			out2 := run(dhcp6s, "-f", "-D", "-c", good, "-P", pid, "lo")
			for _, want := range []string{
				"configure_host: configure DUID for router1: 00:03:00:01:52:54:00:00:01:01",
				"create_pool: name=wan, range=2001:db8::1000->2001:db8::1fff",
				"get_duid: DUID file corrupted",
				"server6_init: failed to get a DUID",
			} {
				if !strings.Contains(out2, want) {
					t.Errorf("dhcp6s -f -D -c good.conf: no %q in\n%s", want, out2)
				}
			}
			if _, err := os.Stat(pid); err != nil {
				t.Errorf("dhcp6s -P: %v", err)
			}
			if out2 = run(dhcp6s, "-f", "-c", bad, "-P", pid, "lo"); !strings.Contains(out2, "failed to parse configuration file") {
				t.Errorf("dhcp6s -c bad.conf:\n%s", out2)
			}
			if out2 = run(dhcp6c, "-f", "-p", filepath.Join(tmp, "dhcp6c.pid"), "lo"); !strings.Contains(out2, "client6_init: failed to get a DUID") {
				t.Errorf("dhcp6c -f:\n%s", out2)
			}
		})
	}
}

// The arguments of floattest, and what it must print: the same operations
// done here, on the host's FPU.
const argA, argB = "3.7", "1.3"

func floatWant() string {
	a, b := 3.7, 1.3
	fa, fb := float32(a), float32(b)
	var s strings.Builder
	d := func(name string, x float64) { fmt.Fprintf(&s, "%s %016x\n", name, math.Float64bits(x)) }
	f := func(name string, x float32) { fmt.Fprintf(&s, "%s %08x\n", name, math.Float32bits(x)) }
	i := func(name string, x int64) { fmt.Fprintf(&s, "%s %d\n", name, x) }
	b2i := func(v bool) int64 {
		if v {
			return 1
		}
		return 0
	}
	d("add", a+b)
	d("sub", a-b)
	d("mul", a*b)
	d("div", a/b)
	d("neg", -a)
	d("sqrt", math.Sqrt(a))
	d("widen", float64(fa))
	d("fromint", float64(int64(b*1000)))
	d("fromuint", float64(uint32(a*1000)))
	f("addf", fa+fb)
	f("subf", fa-fb)
	f("mulf", fa*fb)
	f("divf", fa/fb)
	f("sqrtf", float32(math.Sqrt(float64(fa))))
	f("fromintf", float32(int32(b*7)))
	i("toint", int64(a*1e6))
	i("toint32", int64(int32(b*-1000.5)))
	i("less", b2i(a < b))
	i("equal", b2i(fa == float32(a)))
	d("roundtrip", a*b)
	return s.String()
}

func TestFloat(t *testing.T) {
	want := floatWant()
	for _, p := range built(t) {
		t.Run(p.name, func(t *testing.T) {
			prog := filepath.Join(runfiles.Path(t, *dirs[p.name]), "floattest/bin/floattest")
			out, err := qemuCommand(t, p.qemu, prog, argA, argB).CombinedOutput()
			if err != nil {
				t.Fatalf("floattest: %v\n%s", err, out)
			}
			if diff := cmp.Diff(want, string(out)); diff != "" {
				t.Errorf("floattest under %s (-host +device):\n%s", strings.Join(p.qemu, " "), diff)
			}
		})
	}
}

// TestControls proves the checks can fail: without the stack protector no
// canary is found; built hard-float, the program has FPU instructions, says
// it is hard-float and traps on a 24Kc.
func TestControls(t *testing.T) {
	dir := runfiles.Path(t, *controls)
	mips := platforms[0]

	nossp := inspect(t, filepath.Join(dir, "floattest_nossp/bin/floattest"))
	if nossp.Canary {
		t.Error("canary found in a build without -fstack-protector: the canary check proves nothing")
	}

	hard := filepath.Join(dir, "floattest_hardfloat/bin/floattest")
	r := inspect(t, hard)
	// Its float ABI mark may say soft: the linker merges it with musl's.
	// The FPU instructions are what matters.
	if r.FPUInstructions == 0 {
		t.Error("hard-float control contains no FPU instruction: the soft-float check proves nothing")
	}
	if miss := mips.check.Check(r); len(miss) == 0 {
		t.Error("the mips policy accepts the hard-float control")
	}
	if out, err := qemuCommand(t, mips.qemu, hard, argA, argB).CombinedOutput(); err == nil {
		t.Errorf("hard-float control ran on a 24Kc without an FPU:\n%s", out)
	}
}

// TestChecksecCommand runs //tools:checksec as users do: it passes the
// mips userland and fails the controls.
func TestChecksecCommand(t *testing.T) {
	args := []string{"-machine", "mips", "-endian", "big", "-float", "soft", "-require", "static,pie,relro,now,nx,canary"}
	bin := runfiles.Path(t, *checksecBin)
	out, err := exec.Command(bin, append(args, runfiles.Path(t, *dirs["mips_24kc"]))...).CombinedOutput()
	if err != nil {
		t.Errorf("checksec on the mips userland: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, append(args, runfiles.Path(t, *controls))...).CombinedOutput()
	if e, ok := err.(*exec.ExitError); !ok || e.ExitCode() != 1 {
		t.Errorf("checksec on the controls: %v, want exit status 1\n%s", err, out)
	}
}
