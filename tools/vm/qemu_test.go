package vm

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCommand(t *testing.T) {
	nics := func(access, lan string) []string {
		return []string{
			"-netdev", access + ",id=access",
			"-device", "virtio-net-pci,netdev=access,mac=52:54:00:00:00:01,romfile=",
			"-netdev", lan + ",id=lan",
			"-device", "virtio-net-pci,netdev=lan,mac=52:54:00:00:00:02,romfile=",
		}
	}
	cat := func(parts ...[]string) []string {
		var s []string
		for _, p := range parts {
			s = append(s, p...)
		}
		return s
	}
	const mipsCmdline = "console=ttyS0,38400 panic=10 oops=panic " +
		"phram.phram=phram0,0xffb0000,0x50000,0x10000 mtdparts=phram0:0x50000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs mem=0xffb0000"
	for _, tt := range []struct {
		name     string
		c        Config
		size     int64
		wantQEMU string
		want     []string
		wantErr  string
	}{
		{
			name: "mips defaults, foreground",
			c:    Config{Kernel: "/k", Rootfs: "/r"},
			size: 300000, wantQEMU: "qemu-system-mips",
			want: cat(
				[]string{"-M", "malta", "-cpu", "24Kc", "-vga", "none", "-m", "256", "-no-reboot",
					"-kernel", "/k", "-append", mipsCmdline,
					"-device", "loader,file=/r,addr=0xffb0000,force-raw=on"},
				nics("socket,mcast=230.0.0.1:1234,localaddr=127.0.0.1", "socket,mcast=230.0.0.1:1235,localaddr=127.0.0.1"),
				[]string{"-nographic"},
			),
		},
		{
			name: "mips daemonized, moved ports, extras",
			c: Config{Arch: MIPS, Kernel: "/k", Rootfs: "/r", Dir: "/d", Daemonize: true, PortBase: 40000,
				Append: []string{"debug", "quiet"}, Flags: []string{"-s", "-S"}},
			size: 300000, wantQEMU: "qemu-system-mips",
			want: cat(
				[]string{"-M", "malta", "-cpu", "24Kc", "-vga", "none", "-m", "256", "-no-reboot",
					"-kernel", "/k", "-append", mipsCmdline + " debug quiet",
					"-device", "loader,file=/r,addr=0xffb0000,force-raw=on"},
				nics("socket,mcast=230.0.0.1:40000,localaddr=127.0.0.1", "socket,mcast=230.0.0.1:40001,localaddr=127.0.0.1"),
				[]string{"-display", "none",
					"-chardev", "socket,id=console,path=console,server=on,wait=off", "-serial", "chardev:console",
					"-monitor", "unix:monitor,server=on,wait=off", "-pidfile", "pid", "-daemonize", "-s", "-S"},
			),
		},
		{
			name: "mips more memory than Malta maps low",
			c:    Config{Kernel: "/k", Rootfs: "/r", MemoryMiB: 1024, WAN: "user", LAN: "socket,listen=:5555"},
			size: 300000, wantQEMU: "qemu-system-mips",
			want: cat(
				[]string{"-M", "malta", "-cpu", "24Kc", "-vga", "none", "-m", "1024", "-no-reboot",
					"-kernel", "/k", "-append", mipsCmdline,
					"-device", "loader,file=/r,addr=0xffb0000,force-raw=on"},
				nics("user", "socket,listen=:5555"),
				[]string{"-nographic"},
			),
		},
		{
			name: "arm",
			c:    Config{Arch: ARM, Kernel: "/zImage", Rootfs: "/r", MemoryMiB: 128, Dir: "/d"},
			size: 4 << 20, wantQEMU: "qemu-system-arm",
			want: cat(
				[]string{"-M", "virt,highmem=off", "-cpu", "cortex-a15", "-m", "128", "-no-reboot",
					"-kernel", "/zImage", "-append", "console=ttyAMA0 panic=10 oops=panic " +
						"phram.phram=phram0,0x47c00000,0x400000,0x10000 mtdparts=phram0:0x400000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs mem=0x7c00000",
					"-device", "loader,file=/r,addr=0x47c00000,force-raw=on"},
				nics("socket,mcast=230.0.0.1:1234,localaddr=127.0.0.1", "socket,mcast=230.0.0.1:1235,localaddr=127.0.0.1"),
				[]string{"-display", "none",
					"-chardev", "socket,id=console,path=console,server=on,wait=off", "-serial", "chardev:console",
					"-monitor", "unix:monitor,server=on,wait=off", "-pidfile", "pid"},
			),
		},
		{
			name: "aarch64 with another cpu",
			c:    Config{Arch: AArch64, Kernel: "/Image", Rootfs: "/r", CPU: "cortex-a53"},
			size: 1, wantQEMU: "qemu-system-aarch64",
			want: cat(
				[]string{"-M", "virt", "-cpu", "cortex-a53", "-m", "256", "-no-reboot",
					"-kernel", "/Image", "-append", "console=ttyAMA0 panic=10 oops=panic " +
						"phram.phram=phram0,0x4fff0000,0x10000,0x10000 mtdparts=phram0:0x10000(rootfs) root=/dev/mtdblock0 ro rootfstype=squashfs mem=0xfff0000",
					"-device", "loader,file=/r,addr=0x4fff0000,force-raw=on"},
				nics("socket,mcast=230.0.0.1:1234,localaddr=127.0.0.1", "socket,mcast=230.0.0.1:1235,localaddr=127.0.0.1"),
				[]string{"-nographic"},
			),
		},
		{
			name: "upstream VM on access and world, own MACs",
			c:    Config{Kernel: "/k", Rootfs: "/r", LANNetwork: "world", WANMAC: "52:54:00:00:02:01", LANMAC: "52:54:00:00:02:02"},
			size: 300000, wantQEMU: "qemu-system-mips",
			want: cat(
				[]string{"-M", "malta", "-cpu", "24Kc", "-vga", "none", "-m", "256", "-no-reboot",
					"-kernel", "/k", "-append", mipsCmdline,
					"-device", "loader,file=/r,addr=0xffb0000,force-raw=on"},
				[]string{
					"-netdev", "socket,mcast=230.0.0.1:1234,localaddr=127.0.0.1,id=access",
					"-device", "virtio-net-pci,netdev=access,mac=52:54:00:00:02:01,romfile=",
					"-netdev", "socket,mcast=230.0.0.1:1236,localaddr=127.0.0.1,id=lan",
					"-device", "virtio-net-pci,netdev=lan,mac=52:54:00:00:02:02,romfile=",
				},
				[]string{"-nographic"},
			),
		},
		{name: "unknown network", c: Config{Kernel: "/k", Rootfs: "/r", LANNetwork: "internet"}, size: 1,
			wantErr: `network "internet" of the lan NIC: unknown, want one of access, lan, world`},
		{name: "bad MAC", c: Config{Kernel: "/k", Rootfs: "/r", WANMAC: "52:54:00:00:02"}, size: 1,
			wantErr: `MAC address "52:54:00:00:02" of the access NIC`},
		{name: "unknown arch", c: Config{Arch: "x86", Kernel: "/k", Rootfs: "/r"}, size: 1,
			wantErr: `arch "x86": unknown, want one of aarch64, arm, mips`},
		{name: "rootfs too large", c: Config{Kernel: "/k", Rootfs: "/r", MemoryMiB: 64}, size: 40 << 20,
			wantErr: "ROOTFS /r: root filesystem of 41943040 bytes does not fit between 0x2000000 and the end of 64 MiB of RAM at 0x4000000; raise --memory"},
		{name: "arm rootfs over the device tree", c: Config{Arch: ARM, Kernel: "/k", Rootfs: "/r"}, size: 128 << 20,
			wantErr: "ROOTFS /r: root filesystem of 134217728 bytes does not fit between 0x48100000 and the end of 256 MiB of RAM at 0x50000000"},
		{name: "empty rootfs", c: Config{Kernel: "/k", Rootfs: "/r"}, size: 0, wantErr: "ROOTFS /r: root filesystem is empty"},
		{name: "relative kernel", c: Config{Kernel: "k", Rootfs: "/r"}, size: 1, wantErr: `KERNEL "k": not an absolute path`},
		{name: "port out of range", c: Config{Kernel: "/k", Rootfs: "/r", PortBase: 65534}, size: 1, wantErr: "multicast port base 65534"},
		{name: "daemon without dir", c: Config{Kernel: "/k", Rootfs: "/r", Daemonize: true}, size: 1, wantErr: "needs a directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			qemu, args, err := tt.c.Command(tt.size)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Command = %q, %v; want error containing %q", args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if qemu != tt.wantQEMU {
				t.Errorf("QEMU = %q, want %q", qemu, tt.wantQEMU)
			}
			if diff := cmp.Diff(tt.want, args); diff != "" {
				t.Errorf("Command (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMulticastNetdev(t *testing.T) {
	got := []string{MulticastNetdev(DefaultPortBase, AccessPort), MulticastNetdev(DefaultPortBase, LANPort), MulticastNetdev(DefaultPortBase, WorldPort)}
	want := []string{
		"socket,mcast=230.0.0.1:1234,localaddr=127.0.0.1",
		"socket,mcast=230.0.0.1:1235,localaddr=127.0.0.1",
		"socket,mcast=230.0.0.1:1236,localaddr=127.0.0.1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
