package nettest

import (
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"bazwrt/tests/nettest/dhcp4"
	"bazwrt/tests/nettest/qemunet"
)

// rawHost is a raw member of a network, for tests to see the DHCP messages
// on it and to send their own, outside any Host.
type rawHost struct {
	conn *qemunet.Conn
	mac  net.HardwareAddr // the source of what it sends
	dhcp chan dhcpMessage // every DHCP message on the network, in order
}

// dhcpMessage is a DHCP message seen on the network.
type dhcpMessage struct {
	srcMAC, dstMAC net.HardwareAddr
	dst            netip.AddrPort
	msg            *dhcp4.Message
}

// join attaches a raw host to the network on port, until the test ends.
func join(t *testing.T, port int) *rawHost {
	t.Helper()
	c, err := qemunet.Join(port)
	if err != nil {
		t.Fatal(err)
	}
	w := &rawHost{conn: c, mac: net.HardwareAddr{0x52, 0x54, 0, 0, 0xff, 0xfe}, dhcp: make(chan dhcpMessage, 100)}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		buf := make([]byte, qemunet.MaxFrameLen)
		for {
			n, err := c.ReadFrame(buf)
			if err != nil {
				return
			}
			d, ok := parseUDPv4(buf[:n])
			if !ok || (d.Dst.Port() != dhcp4.ServerPort && d.Dst.Port() != dhcp4.ClientPort) {
				continue
			}
			m, err := dhcp4.Parse(d.Payload)
			if err != nil {
				continue
			}
			select {
			case w.dhcp <- dhcpMessage{d.SrcMAC, d.DstMAC, d.Dst, m}:
			default:
				t.Errorf("raw host: more DHCP messages than the test reads")
			}
		}
	}()
	t.Cleanup(func() {
		c.Close()
		wg.Wait()
	})
	return w
}

// sendDHCP sends m from src to dst, in a broadcast frame from srcMAC.
func (w *rawHost) sendDHCP(t *testing.T, srcMAC net.HardwareAddr, src, dst netip.AddrPort, m *dhcp4.Message) {
	t.Helper()
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	u, err := udpPacket(src, dst, b)
	if err != nil {
		t.Fatal(err)
	}
	frame, err := ipv4Frame(srcMAC, broadcastMAC, src.Addr(), dst.Addr(), 17, 1, u)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.conn.WriteFrame(frame); err != nil {
		t.Fatal(err)
	}
}

// request sends a client's message of type typ for chaddr, from ciaddr,
// broadcast, and returns its transaction ID.
func (w *rawHost) request(t *testing.T, typ dhcp4.MessageType, chaddr net.HardwareAddr, ciaddr netip.Addr, broadcast bool, opts map[uint8][]byte) uint32 {
	t.Helper()
	m := &dhcp4.Message{
		Op:           dhcp4.BootRequest,
		XID:          rand.Uint32(),
		Broadcast:    broadcast,
		ClientAddr:   ciaddr,
		HardwareAddr: chaddr,
		Options:      dhcp4.Options{dhcp4.OptionMessageType: {byte(typ)}},
	}
	for c, v := range opts {
		m.Options[dhcp4.OptionCode(c)] = v
	}
	w.sendDHCP(t, w.mac, netip.AddrPortFrom(ciaddr, 68), netip.MustParseAddrPort("255.255.255.255:67"), m)
	return m.XID
}

// reply answers a client's message as server id at srcMAC, broadcast, with
// the subnet mask 255.255.0.0.
func (w *rawHost) reply(t *testing.T, srcMAC net.HardwareAddr, id netip.Addr, req *dhcp4.Message, typ dhcp4.MessageType, yiaddr netip.Addr) {
	t.Helper()
	m := &dhcp4.Message{
		Op:           dhcp4.BootReply,
		XID:          req.XID,
		Broadcast:    req.Broadcast,
		YourAddr:     yiaddr,
		HardwareAddr: req.HardwareAddr,
		Options: dhcp4.Options{
			dhcp4.OptionMessageType: {byte(typ)},
			dhcp4.OptionSubnetMask:  {255, 255, 0, 0},
		},
	}
	m.Options.SetAddrs(dhcp4.OptionServerID, id)
	w.sendDHCP(t, srcMAC, netip.AddrPortFrom(id, 67), netip.MustParseAddrPort("255.255.255.255:68"), m)
}

// nextReply returns the next server's message on the network.
func (w *rawHost) nextReply(t *testing.T) dhcpMessage {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m := <-w.dhcp:
			if m.msg.Op == dhcp4.BootReply {
				return m
			}
		case <-deadline:
			t.Fatal("no reply from the DHCP server in 5 s")
		}
	}
}
