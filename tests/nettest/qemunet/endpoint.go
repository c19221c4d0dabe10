package qemunet

import (
	"errors"
	"fmt"
	"net"
	"sync"

	"gvisor.dev/gvisor/pkg/buffer"
	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
)

// MTU is an Endpoint's MTU, the usual Ethernet's.
const MTU = 1500

// minFrameLen is Ethernet's minimum frame length without the FCS. Shorter
// frames are padded, as NICs do.
const minFrameLen = 60

// Endpoint is an Ethernet NIC on a Conn, as a gVisor link endpoint
// (stack.LinkEndpoint): it sends the stack's packets as frames, and passes
// the frames it receives to the stack, once attached, if they are for its
// MAC address (unicast to it, broadcast or multicast) and not its own,
// looped back by the network. Checksums are computed and verified by the
// stack, as on a NIC without offloads.
type Endpoint struct {
	conn   *Conn
	filter func(frame []byte) bool
	done   chan struct{} // closed when the receiving goroutine ends

	mu         sync.RWMutex
	mac        tcpip.LinkAddress
	mtu        uint32
	dispatcher stack.NetworkDispatcher
	started    bool
	closed     bool
	onClose    func()
}

var _ stack.LinkEndpoint = (*Endpoint)(nil)

// NewEndpoint returns an endpoint with address mac on c, which it takes
// over: closing the endpoint closes c. If filter is not nil, it sees every
// frame for the endpoint before the stack does, and keeps it from the
// stack by returning true; frame is valid only during the call. Filters
// are how raw-socket-like protocols (DHCP) bypass the stack.
func NewEndpoint(c *Conn, mac net.HardwareAddr, filter func(frame []byte) bool) (*Endpoint, error) {
	if len(mac) != 6 || mac[0]&1 != 0 {
		return nil, fmt.Errorf("qemunet: MAC %v: want a unicast Ethernet address", mac)
	}
	return &Endpoint{
		conn:   c,
		filter: filter,
		done:   make(chan struct{}),
		mac:    tcpip.LinkAddress(mac),
		mtu:    MTU,
	}, nil
}

// WriteFrame sends frame as it is, but padded to Ethernet's minimum.
func (e *Endpoint) WriteFrame(frame []byte) error {
	if len(frame) < minFrameLen {
		frame = append(frame[:len(frame):len(frame)], make([]byte, minFrameLen-len(frame))...)
	}
	return e.conn.WriteFrame(frame)
}

// run passes the frames the endpoint receives on, until the Conn closes.
func (e *Endpoint) run() {
	defer close(e.done)
	buf := make([]byte, MaxFrameLen)
	for {
		n, err := e.conn.ReadFrame(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // a datagram's own trouble: the next may be fine
		}
		e.receive(buf[:n])
	}
}

func (e *Endpoint) receive(frame []byte) {
	if len(frame) < header.EthernetMinimumSize {
		return
	}
	eth := header.Ethernet(frame)
	mac := e.LinkAddress()
	if eth.SourceAddress() == mac {
		return // our own, looped back
	}
	var typ tcpip.PacketType
	switch dst := eth.DestinationAddress(); {
	case dst == mac:
		typ = tcpip.PacketHost
	case dst == header.EthernetBroadcastAddress:
		typ = tcpip.PacketBroadcast
	case header.IsMulticastEthernetAddress(dst):
		typ = tcpip.PacketMulticast
	default:
		return // another host's, which a NIC does not pass up
	}
	if e.filter != nil && e.filter(frame) {
		return
	}
	e.mu.RLock()
	d := e.dispatcher
	e.mu.RUnlock()
	if d == nil {
		return
	}
	pkt := stack.NewPacketBuffer(stack.PacketBufferOptions{Payload: buffer.MakeWithData(frame)})
	defer pkt.DecRef()
	if !e.ParseHeader(pkt) {
		return
	}
	pkt.PktType = typ
	d.DeliverNetworkPacket(eth.Type(), pkt)
}

// WritePackets implements stack.LinkEndpoint: it sends each packet, whose
// Ethernet header AddHeader made, as one frame. A frame the socket
// refuses is lost, as on a wire.
func (e *Endpoint) WritePackets(pkts stack.PacketBufferList) (int, tcpip.Error) {
	n := 0
	for _, pkt := range pkts.AsSlice() {
		var frame []byte
		for _, s := range pkt.AsSlices() {
			frame = append(frame, s...)
		}
		if err := e.WriteFrame(frame); errors.Is(err, net.ErrClosed) {
			if n == 0 {
				return 0, &tcpip.ErrClosedForSend{}
			}
			break
		}
		n++
	}
	return n, nil
}

// MTU implements stack.LinkEndpoint.
func (e *Endpoint) MTU() uint32 {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mtu
}

// SetMTU implements stack.LinkEndpoint.
func (e *Endpoint) SetMTU(mtu uint32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mtu = mtu
}

// MaxHeaderLength implements stack.LinkEndpoint: the Ethernet header.
func (*Endpoint) MaxHeaderLength() uint16 { return header.EthernetMinimumSize }

// LinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) LinkAddress() tcpip.LinkAddress {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.mac
}

// SetLinkAddress implements stack.LinkEndpoint.
func (e *Endpoint) SetLinkAddress(addr tcpip.LinkAddress) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.mac = addr
}

// Capabilities implements stack.LinkEndpoint: addresses need resolving
// (ARP, NDP); no checksum offloads.
func (*Endpoint) Capabilities() stack.LinkEndpointCapabilities {
	return stack.CapabilityResolutionRequired
}

// Attach implements stack.LinkEndpoint. The first attachment starts
// receiving; nil detaches (frames are then dropped).
func (e *Endpoint) Attach(d stack.NetworkDispatcher) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dispatcher = d
	if d != nil && !e.started && !e.closed {
		e.started = true
		go e.run()
	}
}

// IsAttached implements stack.LinkEndpoint.
func (e *Endpoint) IsAttached() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.dispatcher != nil
}

// Wait implements stack.LinkEndpoint: it waits for the receiving goroutine
// to end, after Close.
func (e *Endpoint) Wait() {
	e.mu.RLock()
	started := e.started
	e.mu.RUnlock()
	if started {
		<-e.done
	}
}

// ARPHardwareType implements stack.LinkEndpoint.
func (*Endpoint) ARPHardwareType() header.ARPHardwareType { return header.ARPHardwareEther }

// AddHeader implements stack.LinkEndpoint: it pushes the Ethernet header.
func (*Endpoint) AddHeader(pkt *stack.PacketBuffer) {
	eth := header.Ethernet(pkt.LinkHeader().Push(header.EthernetMinimumSize))
	eth.Encode(&header.EthernetFields{
		SrcAddr: pkt.EgressRoute.LocalLinkAddress,
		DstAddr: pkt.EgressRoute.RemoteLinkAddress,
		Type:    pkt.NetworkProtocolNumber,
	})
}

// ParseHeader implements stack.LinkEndpoint: it consumes the Ethernet
// header.
func (*Endpoint) ParseHeader(pkt *stack.PacketBuffer) bool {
	_, ok := pkt.LinkHeader().Consume(header.EthernetMinimumSize)
	return ok
}

// Close implements stack.LinkEndpoint: it closes the Conn, which ends the
// receiving goroutine (see Wait). It may be called more than once.
func (e *Endpoint) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	onClose := e.onClose
	e.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	e.conn.Close()
}

// SetOnCloseAction implements stack.LinkEndpoint.
func (e *Endpoint) SetOnCloseAction(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.onClose = f
}
