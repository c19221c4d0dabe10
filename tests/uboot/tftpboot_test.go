package uboot

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"bazwrt/tests/runfiles"
	"bazwrt/tools/vm/vmtest"
)

var (
	tftpd     = flag.String("tftpd", "", "rootpath of //tools/tftpd")
	inTftpd   = flag.String("in_tftpd", "", "rootpath of in.tftpd, Debian's tftpd-hpa, to compare rates with")
	bootFiles = flag.String("tftpboot", "", "rootpath of //devices/qemu-armv7l:tftpboot, the RAM-boot directory")
)

// TestTFTPBoot boots //devices/qemu-armv7l from RAM as a developer boots
// a board: Debian's U-Boot for qemu_arm, on the virt machine the device
// is, downloads boot.scr from //tools:tftpd, types what the directory's
// README.txt says, and the script downloads the kernel and the root
// filesystem and boots; the kernel mounts the rootfs from RAM (phram) and
// init brings the default bundle up. In the same U-Boot, before the boot,
// the root filesystem is downloaded alone, for U-Boot's transfer rate
// from our server and from Debian's tftpd-hpa.
//
// The test runs in a network namespace of its own, where U-Boot's NIC is
// a TAP device with the server's address; nothing else is reachable. (Not
// QEMU's user-mode network: it answers port 69 of its host address with
// its own TFTP server.)
func TestTFTPBoot(t *testing.T) {
	if _, err := os.Stat(uBoot); err != nil {
		t.Fatalf("%v (package u-boot-qemu; ./bazelw installs it)", err)
	}
	if _, err := exec.LookPath(qemu); err != nil {
		t.Fatalf("%s: %v (package qemu-system-arm; ./bazelw installs it)", qemu, err)
	}
	// A copy: the sandbox makes each runfile a symbolic link, which
	// tftpd follows only into the directories it is told.
	dir := copyDir(t, runfiles.Path(t, *bootFiles))
	// What README.txt tells the user to type, with the addresses filled in.
	readme := string(read(t, filepath.Join(dir, "README.txt")))
	m := regexp.MustCompile(`setenv ipaddr DEVICE_IP; setenv serverip SERVER_IP; (tftpboot (0x[0-9a-f]+) boot\.scr; source 0x[0-9a-f]+)`).FindStringSubmatch(readme)
	if m == nil {
		t.Fatalf("README.txt has no U-Boot command line to type:\n%s", readme)
	}
	typed := "setenv ipaddr 10.0.2.15; setenv serverip 10.0.2.2; " + m[1]

	inNetns(t)
	tap := tapDevice(t, "bzw0", [4]byte{10, 0, 2, 2})
	ours := []string{runfiles.Path(t, *tftpd), "-listen", "10.0.2.2:69", "-a", "10.0.2.15", dir}

	// Two NICs, as the device's gateway has: the first (U-Boot's, then
	// the router's WAN, eth0) on the TAP device; the second (the LAN,
	// eth1) on a user network that reaches nothing.
	u := startUBoot(t, uBoot, qemu, "-M", "virt,highmem=off", "-cpu", "cortex-a15", "-m", "256",
		"-netdev", "tap,id=wan,ifname="+tap+",script=no,downscript=no", "-device", "virtio-net-pci,netdev=wan,romfile=",
		"-netdev", "user,id=lan,restrict=on", "-device", "virtio-net-pci,netdev=lan,romfile=")
	u.run(t, "setenv ipaddr 10.0.2.15; setenv serverip 10.0.2.2")

	// The rate: the root filesystem into free RAM.
	rate := func(server []string) string {
		stop, log := serve(t, server...)
		defer stop()
		from := len(u.con.Text())
		u.send(t, fmt.Sprintf("tftpboot %s rootfs.squashfs", m[2]))
		_, end, err := u.con.WaitFor(from, regexp.MustCompile(`\n=> $`), time.Minute)
		if err != nil {
			t.Fatalf("%v\nThe server's log:\n%s", err, log())
		}
		out := u.con.Text()[from:end]
		r := regexp.MustCompile(`\n\s+([0-9.]+ [KM]iB/s)\s*\n`).FindStringSubmatch(out)
		size := regexp.MustCompile(`Bytes transferred = (\d+)`).FindStringSubmatch(out)
		if r == nil || size == nil {
			t.Fatalf("%s: U-Boot's tftpboot of rootfs.squashfs did not finish:\n%s\nThe server's log:\n%s", filepath.Base(server[0]), out, log())
		}
		fi, err := os.Stat(filepath.Join(dir, "rootfs.squashfs"))
		if err != nil {
			t.Fatal(err)
		}
		if size[1] != fmt.Sprint(fi.Size()) {
			t.Errorf("%s: U-Boot got %s bytes of rootfs.squashfs, want %d", filepath.Base(server[0]), size[1], fi.Size())
		}
		return r[1]
	}
	t.Logf("U-Boot's rate for rootfs.squashfs from //tools:tftpd: %s", rate(ours))
	// The same from tftpd-hpa's in.tftpd, in the foreground, chrooted
	// into the directory, which it reads as the user nobody: the
	// directory must be searchable and the files world-readable (its
	// default check). Alternately with ours, twice each: the figures
	// of one run vary with the host's load.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	hpa := []string{runfiles.Path(t, *inTftpd), "-L", "-s", "-a", "10.0.2.2:69", dir}
	t.Logf("U-Boot's rate for rootfs.squashfs from tftpd-hpa's in.tftpd: %s", rate(hpa))
	t.Logf("again, //tools:tftpd: %s; in.tftpd: %s", rate(ours), rate(hpa))

	// The boot, from our server.
	stop, _ := serve(t, ours...)
	defer stop()
	start := time.Now()
	from := len(u.con.Text())
	u.send(t, typed)
	k, _, err := u.con.WaitFor(from, regexp.MustCompile(`Starting kernel|ERROR[^\n]*|Wrong Image[^\n]*|Error[^\n]*|TFTP error[^\n]*|Unimplemented[^\n]*`), 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if k[0] != "Starting kernel" {
		t.Fatalf("U-Boot: %s\n%s", k[0], vmtest.Tail(u.con.Text()[from:], 3000))
	}
	script := u.con.Text()[from:]
	for _, file := range []string{"boot.scr", "uImage", "rootfs.squashfs"} {
		if !strings.Contains(script, "Filename '"+file+"'") {
			t.Errorf("U-Boot did not download %s:\n%s", file, script)
		}
	}
	loaded := time.Since(start)
	d, _, err := u.con.WaitFor(from, regexp.MustCompile(`init: "default" (is up|is not fully up:[^\n]*)`), 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if d[1] != "is up" {
		t.Fatalf("default bundle: %s\n%s", d[1], vmtest.Tail(u.con.Text(), 4000))
	}
	t.Logf("typed at U-Boot's prompt to the kernel started: %.1f s; to init's default bundle up: %.1f s", loaded.Seconds(), time.Since(start).Seconds())
	// The root filesystem is the squashfs U-Boot put in RAM.
	if out := u.con.Must("grep ' / ' /proc/mounts"); !strings.Contains(out, " / squashfs ro") {
		t.Errorf("the root is not a read-only squashfs: %q", out)
	}
	if out := u.con.Must("cat /proc/mtd"); !strings.Contains(out, `"rootfs"`) {
		t.Errorf("no phram partition \"rootfs\" in /proc/mtd:\n%s", out)
	}
}

// inNetns moves the test's goroutine, for good, to a network namespace of
// its own with loopback up. Processes it starts are in it too (they fork
// from its thread). Never unlocked: when the goroutine ends, its thread
// ends, and with it the namespace.
func inNetns(t *testing.T) {
	runtime.LockOSThread()
	if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
		t.Fatalf("no network namespace of our own (%v): the test needs CAP_SYS_ADMIN (CI runs as root)", err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("loopback up: %v", err)
	}
}

// copyDir copies the regular files (or links to them) of src into a new
// directory.
func copyDir(t *testing.T, src string) string {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, e := range entries {
		write(t, filepath.Join(dst, e.Name()), read(t, filepath.Join(src, e.Name())))
	}
	return dst
}

// tapDevice makes a persistent TAP device (it goes with the namespace)
// with the address addr/24, up, and returns its name.
func tapDevice(t *testing.T, name string, addr [4]byte) string {
	t.Helper()
	tun, err := unix.Open("/dev/net/tun", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("%v: the test needs /dev/net/tun", err)
	}
	defer unix.Close(tun)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(unix.IFF_TAP | unix.IFF_NO_PI)
	if err := unix.IoctlIfreq(tun, unix.TUNSETIFF, ifr); err != nil {
		t.Fatalf("TUNSETIFF %s: %v", name, err)
	}
	if err := unix.IoctlSetInt(tun, unix.TUNSETPERSIST, 1); err != nil {
		t.Fatalf("TUNSETPERSIST %s: %v", name, err)
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, req := range []struct {
		op   uint
		addr [4]byte
	}{{unix.SIOCSIFADDR, addr}, {unix.SIOCSIFNETMASK, [4]byte{255, 255, 255, 0}}} {
		ifr, _ := unix.NewIfreq(name)
		if err := ifr.SetInet4Addr(req.addr[:]); err != nil {
			t.Fatal(err)
		}
		if err := unix.IoctlIfreq(fd, req.op, ifr); err != nil {
			t.Fatalf("%s: address %v: %v", name, req.addr, err)
		}
	}
	ifr, _ = unix.NewIfreq(name)
	ifr.SetUint16(unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("%s up: %v", name, err)
	}
	return name
}

// udp69 matches a socket bound to port 69 in /proc/net/udp.
var udp69 = regexp.MustCompile(`(?m)^\s*\d+: [0-9A-F]{8}:0045 `)

// serve starts a TFTP server (argv) and waits until port 69 is bound in
// this thread's network namespace; stop kills it.
func serve(t *testing.T, argv ...string) (stop func(), log func() string) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		udp, _ := os.ReadFile("/proc/thread-self/net/udp")
		if udp69.Match(udp) {
			return stop, out.String
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("%s does not listen on port 69 after 10 s:\n%s", argv[0], out.String())
		}
	}
}

// syncBuffer is a bytes.Buffer a process's stdout and stderr write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
