// Package vm runs router firmware in QEMU: it builds the QEMU command line
// (machine, root filesystem in RAM via phram, the multicast networks),
// starts QEMU with its serial console and monitor on unix sockets, and
// talks to those sockets. The commands //tools:run-vm and //tools:connect-vm
// are thin wrappers around it; VM tests use Start directly. See docs/vm.md.
package vm

import (
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
)

// Arch is a QEMU target: the machine the router firmware of that
// architecture boots on.
type Arch string

const (
	MIPS    Arch = "mips"
	ARM     Arch = "arm"
	AArch64 Arch = "aarch64"
)

type machine struct {
	qemu    string   // the QEMU binary
	machine []string // -M and -cpu, and what the machine needs besides
	console string   // the kernel's console= for the first serial port
	ramBase uint64   // physical address of the first byte of RAM
	maxRAM  uint64   // RAM the kernel can reach directly at ramBase
	// kernelRAM is how much RAM, from ramBase, the rootfs must leave to the
	// kernel and what QEMU loads besides.
	kernelRAM func(ram uint64) uint64
}

// half leaves the kernel the lower half of RAM: enough to boot, however
// large the rootfs.
func half(ram uint64) uint64 { return ram / 2 }

// virtRAM is half, but at least up to the end of the device tree QEMU's
// virt puts where an initrd would end (hw/arm/boot.c): half the RAM, at most
// 128 MiB, above its start, and 1 MiB long.
func virtRAM(ram uint64) uint64 { return max(ram/2, min(ram/2, 128<<20)+1<<20) }

var machines = map[Arch]machine{
	// Malta has its first 256 MiB of RAM at physical 0; more is mapped
	// elsewhere (and needs highmem), so the rootfs goes below 256 MiB.
	MIPS: {
		qemu:      "qemu-system-mips",
		machine:   []string{"-M", "malta", "-cpu", "24Kc", "-vga", "none"},
		console:   "ttyS0,38400",
		ramBase:   0,
		maxRAM:    256 << 20,
		kernelRAM: half,
	},
	// highmem=off keeps every device below 4 GiB, where a 32-bit kernel
	// without LPAE can reach it. Cortex-A15 as in the qemu-armv7l device.
	ARM: {
		qemu:      "qemu-system-arm",
		machine:   []string{"-M", "virt,highmem=off", "-cpu", "cortex-a15"},
		console:   "ttyAMA0",
		ramBase:   0x40000000,
		maxRAM:    2 << 30,
		kernelRAM: virtRAM,
	},
	AArch64: {
		qemu:      "qemu-system-aarch64",
		machine:   []string{"-M", "virt", "-cpu", "cortex-a72"},
		console:   "ttyAMA0",
		ramBase:   0x40000000,
		maxRAM:    32 << 30,
		kernelRAM: virtRAM,
	},
}

// QEMU is the name of the QEMU binary that boots a ("" for an unknown
// architecture).
func (a Arch) QEMU() string { return machines[a].qemu }

// Arches lists the supported architectures, for usage messages.
func Arches() []string {
	var s []string
	for a := range machines {
		s = append(s, string(a))
	}
	slices.Sort(s)
	return s
}

// The networks, by convention QEMU socket-multicast networks on one group
// with consecutive ports, bound to loopback so that nothing leaves the
// machine. A VM's first NIC (virtio0, the router's WAN) is on "access",
// its second (virtio1) on "lan"; "world" is the emulated internet behind
// the emulated ISP on "access", for the upstream VM.
const (
	MulticastGroup  = "230.0.0.1"
	DefaultPortBase = 1234

	AccessPort = 0 // offsets from the port base
	LANPort    = 1
	WorldPort  = 2
)

// The NICs' MAC addresses, fixed so that the guest's view (DHCP leases,
// logs) is the same from run to run; locally administered.
const (
	AccessMAC = "52:54:00:00:00:01"
	LANMAC    = "52:54:00:00:00:02"
)

// Networks are the multicast networks by name, with their port offsets.
var Networks = map[string]int{"access": AccessPort, "lan": LANPort, "world": WorldPort}

// MulticastNetdev is the -netdev spec of the network at port offset off,
// without the id.
func MulticastNetdev(portBase, off int) string {
	return fmt.Sprintf("socket,mcast=%s:%d,localaddr=127.0.0.1", MulticastGroup, portBase+off)
}

// UnicastNetdev is the -netdev spec, without the id, of a point-to-point
// link from a NIC receiving on 127.0.0.1:port to a peer (a test's host,
// see qemunet.Dial) on 127.0.0.1:peer. Unlike a multicast network it does
// not hand the NIC its own frames back.
func UnicastNetdev(port, peer int) string {
	return fmt.Sprintf("socket,udp=127.0.0.1:%d,localaddr=127.0.0.1:%d", peer, port)
}

// Config is a VM. Paths must be absolute (see Resolve).
type Config struct {
	Arch   Arch   // default MIPS
	Kernel string // an ELF (mips), zImage (arm) or Image (aarch64)
	Rootfs string // the squashfs, loaded into RAM and used through phram

	MemoryMiB int      // default 256
	CPU       string   // overrides the machine's -cpu
	Append    []string // extra kernel arguments, after ours
	Flags     []string // extra QEMU arguments, after ours

	// WAN and LAN replace the -netdev spec (without id) of the first and
	// second NIC; by default they are the "access" and "lan" multicast
	// networks at PortBase.
	WAN, LAN string
	// WANNetwork and LANNetwork name the multicast networks (Networks) of
	// the first and second NIC when WAN and LAN are empty; by default
	// access and lan. An upstream VM (the emulated ISP) uses access and
	// world.
	WANNetwork, LANNetwork string
	// WANMAC and LANMAC are the NICs' MAC addresses, by default AccessMAC
	// and LANMAC: two VMs on one network need different ones.
	WANMAC, LANMAC string
	// PortBase moves the multicast ports (access, lan, world are
	// PortBase+0, +1, +2) so that VMs that must not see each other, such as
	// tests Bazel runs in parallel, do not. Default DefaultPortBase.
	PortBase int

	// Dir, when set, puts the serial console, the monitor and the pid file
	// into the files console, monitor and pid of Dir, instead of the
	// terminal (-nographic). QEMU must run with Dir as its working
	// directory: the names are relative, so that a deep Dir (Bazel's test
	// directories) does not exceed the 108 bytes of a unix socket address.
	Dir string
	// Daemonize makes QEMU put itself in the background once its sockets
	// are listening (with Dir).
	Daemonize bool
}

// The files of a background VM, in Config.Dir.
const (
	ConsoleFile = "console"
	MonitorFile = "monitor"
	PidFile     = "pid"
)

// DefaultMemoryMiB is the RAM of a VM without Config.MemoryMiB.
const DefaultMemoryMiB = 256

func (c Config) withDefaults() Config {
	if c.Arch == "" {
		c.Arch = MIPS
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = DefaultMemoryMiB
	}
	if c.PortBase == 0 {
		c.PortBase = DefaultPortBase
	}
	c.WANNetwork = or(c.WANNetwork, "access")
	c.LANNetwork = or(c.LANNetwork, "lan")
	c.WANMAC = or(c.WANMAC, AccessMAC)
	c.LANMAC = or(c.LANMAC, LANMAC)
	return c
}

// Command returns the QEMU binary and its arguments for c, whose root
// filesystem is rootfsSize bytes long.
func (c Config) Command(rootfsSize int64) (string, []string, error) {
	c = c.withDefaults()
	m, ok := machines[c.Arch]
	if !ok {
		return "", nil, fmt.Errorf("arch %q: unknown, want one of %s", c.Arch, strings.Join(Arches(), ", "))
	}
	if c.MemoryMiB < 0 {
		return "", nil, fmt.Errorf("memory %d MiB: must be positive", c.MemoryMiB)
	}
	if c.PortBase < 1 || c.PortBase > 65535-WorldPort {
		return "", nil, fmt.Errorf("multicast port base %d: out of range", c.PortBase)
	}
	for _, p := range []struct{ name, path string }{{"KERNEL", c.Kernel}, {"ROOTFS", c.Rootfs}} {
		if !filepath.IsAbs(p.path) {
			return "", nil, fmt.Errorf("%s %q: not an absolute path", p.name, p.path)
		}
	}
	ram := min(uint64(c.MemoryMiB)<<20, m.maxRAM)
	p, err := PlaceRootfs(m.ramBase, ram, m.ramBase+m.kernelRAM(ram), rootfsSize)
	if err != nil {
		return "", nil, fmt.Errorf("ROOTFS %s: %w", c.Rootfs, err)
	}

	cmdline := append([]string{"console=" + m.console, "panic=10", "oops=panic"}, p.KernelArgs()...)
	cmdline = append(cmdline, MemArg(m.ramBase, p))
	cmdline = append(cmdline, c.Append...)

	args := slices.Clone(m.machine)
	if c.CPU != "" {
		i := slices.Index(args, "-cpu")
		args[i+1] = c.CPU
	}
	args = append(args,
		"-m", fmt.Sprint(c.MemoryMiB),
		"-no-reboot",
		"-kernel", c.Kernel,
		"-append", strings.Join(cmdline, " "),
		// force-raw: a squashfs must not be taken for an ELF or uImage.
		"-device", fmt.Sprintf("loader,file=%s,addr=%#x,force-raw=on", c.Rootfs, p.Addr),
	)
	for _, n := range []struct{ id, spec, network, mac string }{
		{"access", c.WAN, c.WANNetwork, c.WANMAC},
		{"lan", c.LAN, c.LANNetwork, c.LANMAC},
	} {
		if n.spec == "" {
			off, ok := Networks[n.network]
			if !ok {
				return "", nil, fmt.Errorf("network %q of the %s NIC: unknown, want one of access, lan, world", n.network, n.id)
			}
			n.spec = MulticastNetdev(c.PortBase, off)
		}
		if _, err := net.ParseMAC(n.mac); err != nil || len(n.mac) != len("52:54:00:00:00:01") {
			return "", nil, fmt.Errorf("MAC address %q of the %s NIC: want six hex bytes separated by colons, e.g. 52:54:00:00:00:01", n.mac, n.id)
		}
		args = append(args,
			"-netdev", n.spec+",id="+n.id,
			// romfile=: no PXE option ROM, which needs Debian's
			// ipxe-qemu and would only boot from the network.
			"-device", "virtio-net-pci,netdev="+n.id+",mac="+n.mac+",romfile=",
		)
	}
	if c.Dir == "" {
		if c.Daemonize {
			return "", nil, fmt.Errorf("a daemonized VM needs a directory for its sockets")
		}
		// The console on the terminal, ^A c switches to the monitor.
		args = append(args, "-nographic")
	} else {
		args = append(args,
			"-display", "none",
			"-chardev", "socket,id=console,path="+ConsoleFile+",server=on,wait=off",
			"-serial", "chardev:console",
			"-monitor", "unix:"+MonitorFile+",server=on,wait=off",
			"-pidfile", PidFile,
		)
		if c.Daemonize {
			args = append(args, "-daemonize")
		}
	}
	args = append(args, c.Flags...)
	return m.qemu, args, nil
}

func or(s, def string) string {
	if s != "" {
		return s
	}
	return def
}
