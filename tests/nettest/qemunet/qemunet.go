// Package qemunet attaches to the networks QEMU's socket-multicast netdevs
// make (-netdev socket,mcast=GROUP:PORT,localaddr=127.0.0.1, see
// vm.MulticastNetdev): every member sends each Ethernet frame as one UDP
// datagram to the group and port, without a length prefix or FCS, and
// every member receives every frame, its own included.
//
// Join makes a Conn that reads and writes such frames; NewEndpoint puts a
// gVisor link endpoint, an Ethernet NIC, on a Conn. Nothing but loopback is
// ever addressed: the group is joined on 127.0.0.1, and sent there.
//
// A multicast network hands every member its own frames back, QEMU's NICs
// included, which a guest bridging that NIC with another port (a wifi
// access point) takes for a loop. Dial makes the other kind of Conn: a
// point-to-point link to one QEMU NIC on a unicast UDP socket
// (vm.UnicastNetdev), where nothing comes back.
package qemunet

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"bazwrt/tools/vm"
)

// loopback is the interface the networks live on, QEMU's localaddr.
var loopback = [4]byte{127, 0, 0, 1}

// MaxFrameLen is the largest frame a Conn reads whole: the largest UDP
// payload. QEMU's NICs send at most an MTU's worth plus the header.
const MaxFrameLen = 65507

// Conn is a member of one socket-multicast network (Join), or one end of a
// point-to-point link (Dial).
type Conn struct {
	c   *net.UDPConn
	dst *net.UDPAddr // the group, or Dial's peer
	// peer, Dial's, is the only source ReadFrame takes datagrams from: on
	// a unicast socket any local process could otherwise inject frames.
	// Invalid for a multicast network.
	peer netip.AddrPort
}

// Join joins the network on port of vm.MulticastGroup, with the socket
// options QEMU uses, so that it sees QEMU's frames and QEMU sees its own:
// bound to the group and port with SO_REUSEADDR, a member on 127.0.0.1,
// sending from 127.0.0.1 with multicast loopback on.
func Join(port int) (*Conn, error) {
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("qemunet: port %d out of range", port)
	}
	group, err := netip.ParseAddr(vm.MulticastGroup)
	if err != nil || !group.Is4() || !group.IsMulticast() {
		return nil, fmt.Errorf("qemunet: group %q: not an IPv4 multicast address", vm.MulticastGroup)
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var err error
		cerr := rc.Control(func(fd uintptr) {
			s := int(fd)
			if err = unix.SetsockoptInt(s, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				err = fmt.Errorf("SO_REUSEADDR: %w", err)
				return
			}
			mreq := &unix.IPMreq{Multiaddr: group.As4(), Interface: loopback}
			if err = unix.SetsockoptIPMreq(s, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
				err = fmt.Errorf("IP_ADD_MEMBERSHIP: %w", err)
				return
			}
			// Without this, multicast follows the default route: off the machine.
			if err = unix.SetsockoptInet4Addr(s, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, loopback); err != nil {
				err = fmt.Errorf("IP_MULTICAST_IF: %w", err)
				return
			}
			if err = unix.SetsockoptInt(s, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 1); err != nil {
				err = fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
			}
		})
		if cerr != nil {
			return cerr
		}
		return err
	}}
	addr := netip.AddrPortFrom(group, uint16(port))
	pc, err := lc.ListenPacket(context.Background(), "udp4", addr.String())
	if err != nil {
		return nil, fmt.Errorf("qemunet: joining %v: %w", addr, err)
	}
	return &Conn{c: pc.(*net.UDPConn), dst: net.UDPAddrFromAddrPort(addr)}, nil
}

// Dial makes the host's end of a point-to-point link to a QEMU NIC whose
// netdev is vm.UnicastNetdev(peer, local): it receives on 127.0.0.1:local
// (0 picks a free port, see LocalPort) and sends to 127.0.0.1:peer. Only
// frames from the peer's address are read.
func Dial(local, peer int) (*Conn, error) {
	if local < 0 || local > 65535 {
		return nil, fmt.Errorf("qemunet: local port %d out of range", local)
	}
	if peer < 1 || peer > 65535 {
		return nil, fmt.Errorf("qemunet: peer port %d out of range", peer)
	}
	lo := netip.AddrFrom4(loopback)
	laddr := net.UDPAddrFromAddrPort(netip.AddrPortFrom(lo, uint16(local)))
	c, err := net.ListenUDP("udp4", laddr)
	if err != nil {
		return nil, fmt.Errorf("qemunet: binding %v: %w", laddr, err)
	}
	p := netip.AddrPortFrom(lo, uint16(peer))
	return &Conn{c: c, dst: net.UDPAddrFromAddrPort(p), peer: p}, nil
}

// ReadFrame reads the next frame into b, and returns its length. A frame
// longer than b is cut short, so b should hold MaxFrameLen bytes.
func (c *Conn) ReadFrame(b []byte) (int, error) {
	for {
		n, from, err := c.c.ReadFromUDPAddrPort(b)
		// A udp4 socket reports plain IPv4 sources, as c.peer is.
		if err != nil || !c.peer.IsValid() || from == c.peer {
			return n, err
		}
	}
}

// WriteFrame sends frame to every member of the network, c included, or
// to Dial's peer.
func (c *Conn) WriteFrame(frame []byte) error {
	_, err := c.c.WriteToUDP(frame, c.dst)
	return err
}

// SetReadDeadline sets the deadline for ReadFrame, as net.Conn does.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// Port returns the network's port, or Dial's peer's.
func (c *Conn) Port() int { return c.dst.Port }

// LocalPort returns the port c receives on.
func (c *Conn) LocalPort() int { return c.c.LocalAddr().(*net.UDPAddr).Port }

// Close leaves the network; a ReadFrame in progress returns an error.
func (c *Conn) Close() error { return c.c.Close() }
