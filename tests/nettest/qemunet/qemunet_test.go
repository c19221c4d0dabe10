package qemunet

import (
	"bytes"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"

	"bazwrt/tools/vm/vmtest"
)

func join(t *testing.T, port int) *Conn {
	t.Helper()
	c, err := Join(port)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// read returns the next frame on c, or nil after a second.
func read(t *testing.T, c *Conn) []byte {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	b := make([]byte, MaxFrameLen)
	n, err := c.ReadFrame(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return b[:n]
}

func TestConn(t *testing.T) {
	port := vmtest.PortBase(t)
	a, b := join(t, port), join(t, port)
	other := join(t, port+1)
	if a.Port() != port {
		t.Errorf("Port() = %d, want %d", a.Port(), port)
	}

	frame := []byte("a frame, any bytes")
	if err := a.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	// Every member, the sender included, gets it; other networks do not.
	for _, m := range []struct {
		name string
		c    *Conn
	}{{"sender", a}, {"other member", b}} {
		if got := read(t, m.c); !bytes.Equal(got, frame) {
			t.Errorf("%s read %q, want %q", m.name, got, frame)
		}
	}
	// The first frame other reads is the one sent on its own network.
	marker := []byte("on the other network")
	if err := other.WriteFrame(marker); err != nil {
		t.Fatal(err)
	}
	if got := read(t, other); !bytes.Equal(got, marker) {
		t.Errorf("member of port %d read %q, want only %q sent there", port+1, got, marker)
	}

	if _, err := Join(0); err == nil {
		t.Error("Join(0) succeeded")
	}
}

func udpSocket(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestDial plays QEMU's end of a point-to-point link with a UDP socket:
// each end reads what the other sends, nothing comes back to the sender,
// and a third socket's datagrams are not frames.
func TestDial(t *testing.T) {
	qemu, stranger := udpSocket(t), udpSocket(t)
	peer := qemu.LocalAddr().(*net.UDPAddr).Port
	c, err := Dial(0, peer)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.Port() != peer {
		t.Errorf("Port() = %d, want the peer's %d", c.Port(), peer)
	}
	local := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: c.LocalPort()}

	frame := []byte("from the host")
	if err := c.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
	qemu.SetReadDeadline(time.Now().Add(time.Second))
	b := make([]byte, MaxFrameLen)
	n, err := qemu.Read(b)
	if err != nil {
		t.Fatalf("the peer read: %v", err)
	}
	if !bytes.Equal(b[:n], frame) {
		t.Errorf("the peer read %q, want %q", b[:n], frame)
	}
	if got := read(t, c); got != nil {
		t.Errorf("the sender read %q back", got)
	}

	injected, reply := []byte("not the peer's"), []byte("from QEMU")
	if _, err := stranger.WriteToUDP(injected, local); err != nil {
		t.Fatal(err)
	}
	if _, err := qemu.WriteToUDP(reply, local); err != nil {
		t.Fatal(err)
	}
	if got := read(t, c); !bytes.Equal(got, reply) {
		t.Errorf("read %q, want only the peer's %q", got, reply)
	}

	for _, ports := range [][2]int{{-1, peer}, {0, 0}, {0, 65536}} {
		if _, err := Dial(ports[0], ports[1]); err == nil {
			t.Errorf("Dial(%d, %d) succeeded", ports[0], ports[1])
		}
	}
}

// recorder is a stack.NetworkDispatcher that reports what it is given.
type recorder chan delivered

type delivered struct {
	Proto   tcpip.NetworkProtocolNumber
	Type    tcpip.PacketType
	Payload string
}

func (r recorder) DeliverNetworkPacket(proto tcpip.NetworkProtocolNumber, pkt *stack.PacketBuffer) {
	r <- delivered{proto, pkt.PktType, string(pkt.Data().AsRange().ToSlice())}
}

func (recorder) DeliverLinkPacket(tcpip.NetworkProtocolNumber, *stack.PacketBuffer) {}

func ethernet(dst, src net.HardwareAddr, typ uint16, payload string) []byte {
	b := append(append(append([]byte{}, dst...), src...), byte(typ>>8), byte(typ))
	return append(b, payload...)
}

func TestEndpoint(t *testing.T) {
	var (
		mine      = net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0x10}
		peer      = net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0x20}
		elsewhere = net.HardwareAddr{0x52, 0x54, 0, 0, 0, 0x30}
		bcast     = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
		mcast     = net.HardwareAddr{0x01, 0x00, 0x5e, 0, 0, 0xfb}
	)
	port := vmtest.PortBase(t)
	wire := join(t, port)
	c := join(t, port)
	ep, err := NewEndpoint(c, mine, func(frame []byte) bool {
		return bytes.HasSuffix(frame, []byte("filtered"))
	})
	if err != nil {
		t.Fatal(err)
	}
	rec := make(recorder, 10)
	ep.Attach(rec)
	defer func() {
		ep.Close()
		ep.Wait()
	}()

	for _, f := range [][]byte{
		ethernet(peer, mine, 0x0800, "own frame, looped back"),
		ethernet(elsewhere, peer, 0x0800, "for another host"),
		ethernet(mine, peer, 0x0800, "filtered"),
		{1, 2, 3}, // runt
		ethernet(mine, peer, 0x0800, "unicast"),
		ethernet(bcast, peer, 0x0806, "broadcast"),
		ethernet(mcast, peer, 0x86dd, "multicast"),
	} {
		if err := wire.WriteFrame(f); err != nil {
			t.Fatal(err)
		}
	}
	var got []delivered
	for range 3 {
		select {
		case d := <-rec:
			got = append(got, d)
		case <-time.After(5 * time.Second):
			t.Fatalf("after %v, nothing more delivered", got)
		}
	}
	want := []delivered{
		{0x0800, tcpip.PacketHost, "unicast"},
		{0x0806, tcpip.PacketBroadcast, "broadcast"},
		{0x86dd, tcpip.PacketMulticast, "multicast"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delivered (-want +got):\n%s", diff)
	}

	// Sending: the header from the route, padded to 60 bytes.
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{
		ReserveHeaderBytes: int(ep.MaxHeaderLength()),
		Payload:            buffer.MakeWithData([]byte("out")),
	})
	defer pkt.DecRef()
	pkt.NetworkProtocolNumber = header.IPv4ProtocolNumber
	pkt.EgressRoute.LocalLinkAddress = tcpip.LinkAddress(mine)
	pkt.EgressRoute.RemoteLinkAddress = tcpip.LinkAddress(peer)
	ep.AddHeader(pkt)
	var pkts stack.PacketBufferList
	pkts.PushBack(pkt)
	if n, err := ep.WritePackets(pkts); n != 1 || err != nil {
		t.Fatalf("WritePackets = %d, %v; want 1, nil", n, err)
	}
	wantFrame := append(ethernet(peer, mine, 0x0800, "out"), make([]byte, 60-14-3)...)
	var frame []byte
	for frame = read(t, wire); frame != nil && !bytes.Contains(frame, []byte("out")); frame = read(t, wire) {
		// what the test itself wrote before
	}
	if diff := cmp.Diff(wantFrame, frame); diff != "" {
		t.Errorf("frame sent (-want +got):\n%s", diff)
	}

	ep.Close()
	ep.Wait()
	if n, err := ep.WritePackets(pkts); n != 0 || err == nil {
		t.Errorf("WritePackets after Close = %d, %v; want 0 and an error", n, err)
	}
}

func TestNewEndpointMAC(t *testing.T) {
	for _, mac := range []net.HardwareAddr{nil, {1, 2, 3}, {0x01, 0, 0x5e, 0, 0, 1}} {
		if _, err := NewEndpoint(nil, mac, nil); err == nil {
			t.Errorf("NewEndpoint with MAC %v succeeded", mac)
		}
	}
}
