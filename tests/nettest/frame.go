package nettest

import (
	"fmt"
	"net"
	"net/netip"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/checksum"
	"gvisor.dev/gvisor/pkg/tcpip/header"
)

// The broadcast addresses of Ethernet and IPv4 (on the link).
var (
	broadcastMAC     = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	limitedBroadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// ipv4Frame returns an Ethernet frame carrying an IPv4 packet of protocol
// proto from src to dst, TTL 64, with its header checksum.
func ipv4Frame(srcMAC, dstMAC net.HardwareAddr, src, dst netip.Addr, proto uint8, id uint16, payload []byte) ([]byte, error) {
	if len(dstMAC) != 6 {
		return nil, fmt.Errorf("destination MAC %v: not an Ethernet address", dstMAC)
	}
	if !src.Is4() || !dst.Is4() {
		return nil, fmt.Errorf("IPv4 packet from %v to %v: not IPv4 addresses", src, dst)
	}
	total := header.IPv4MinimumSize + len(payload)
	if total > 0xffff {
		return nil, fmt.Errorf("IPv4 packet of %d bytes, more than 65535", total)
	}
	b := make([]byte, header.EthernetMinimumSize+total)
	header.Ethernet(b).Encode(&header.EthernetFields{
		SrcAddr: tcpip.LinkAddress(srcMAC),
		DstAddr: tcpip.LinkAddress(dstMAC),
		Type:    header.IPv4ProtocolNumber,
	})
	ip := header.IPv4(b[header.EthernetMinimumSize:])
	ip.Encode(&header.IPv4Fields{
		TotalLength: uint16(total),
		ID:          id,
		TTL:         64,
		Protocol:    proto,
		SrcAddr:     tcpip.AddrFrom4(src.As4()),
		DstAddr:     tcpip.AddrFrom4(dst.As4()),
	})
	ip.SetChecksum(^ip.CalculateChecksum())
	copy(ip.Payload(), payload)
	return b, nil
}

// udpPacket returns a UDP header and payload from src to dst, with its
// checksum (over the IPv4 pseudo-header).
func udpPacket(src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	if !src.Addr().Is4() || !dst.Addr().Is4() {
		return nil, fmt.Errorf("UDP from %v to %v: not IPv4 addresses", src, dst)
	}
	n := header.UDPMinimumSize + len(payload)
	if n > 0xffff-header.IPv4MinimumSize {
		return nil, fmt.Errorf("UDP payload of %d bytes: too long", len(payload))
	}
	u := header.UDP(make([]byte, n))
	u.Encode(&header.UDPFields{SrcPort: src.Port(), DstPort: dst.Port(), Length: uint16(n)})
	copy(u.Payload(), payload)
	xsum := header.PseudoHeaderChecksum(header.UDPProtocolNumber,
		tcpip.AddrFrom4(src.Addr().As4()), tcpip.AddrFrom4(dst.Addr().As4()), uint16(n))
	xsum = checksum.Checksum(u.Payload(), xsum)
	sum := ^u.CalculateChecksum(xsum)
	if sum == 0 {
		sum = 0xffff // 0 means "no checksum"
	}
	u.SetChecksum(sum)
	return u, nil
}

// udpDatagram is an IPv4 UDP datagram received in an Ethernet frame.
type udpDatagram struct {
	SrcMAC, DstMAC net.HardwareAddr
	Src, Dst       netip.AddrPort
	Payload        []byte // part of the frame
}

// parseUDPv4 returns the UDP datagram frame carries, and whether it is
// one: IPv4, unfragmented, with valid lengths and checksums.
func parseUDPv4(frame []byte) (udpDatagram, bool) {
	if len(frame) < header.EthernetMinimumSize {
		return udpDatagram{}, false
	}
	eth := header.Ethernet(frame)
	if eth.Type() != header.IPv4ProtocolNumber {
		return udpDatagram{}, false
	}
	ip := header.IPv4(frame[header.EthernetMinimumSize:])
	if !ip.IsValid(len(ip)) || !ip.IsChecksumValid() ||
		ip.Protocol() != uint8(header.UDPProtocolNumber) || ip.More() || ip.FragmentOffset() != 0 {
		return udpDatagram{}, false
	}
	ip = ip[:ip.TotalLength()] // without the frame's padding
	u := header.UDP(ip.Payload())
	if len(u) < header.UDPMinimumSize || int(u.Length()) < header.UDPMinimumSize || int(u.Length()) > len(u) {
		return udpDatagram{}, false
	}
	u = u[:u.Length()]
	src, dst := ip.SourceAddress(), ip.DestinationAddress()
	if u.Checksum() != 0 && !u.IsChecksumValid(src, dst, checksum.Checksum(u.Payload(), 0)) {
		return udpDatagram{}, false
	}
	return udpDatagram{
		SrcMAC:  net.HardwareAddr(eth.SourceAddress()),
		DstMAC:  net.HardwareAddr(eth.DestinationAddress()),
		Src:     netip.AddrPortFrom(netip.AddrFrom4(src.As4()), u.SourcePort()),
		Dst:     netip.AddrPortFrom(netip.AddrFrom4(dst.As4()), u.DestinationPort()),
		Payload: u.Payload(),
	}, true
}

// A SYN is a TCP segment with SYN set that a host received: what a test
// needs to see the MSS a router clamped.
type SYN struct {
	Src, Dst netip.AddrPort
	ACK      bool // a SYN-ACK
	MSS      int  // the MSS option's value; 0 without one
}

// parseSYN returns the SYN an Ethernet frame carries (IPv4 or IPv6, no
// extension headers), if it carries one.
func parseSYN(frame []byte) (SYN, bool) {
	if len(frame) < header.EthernetMinimumSize {
		return SYN{}, false
	}
	eth := header.Ethernet(frame)
	var src, dst netip.Addr
	var seg []byte
	switch eth.Type() {
	case header.IPv4ProtocolNumber:
		ip := header.IPv4(frame[header.EthernetMinimumSize:])
		if !ip.IsValid(len(ip)) || ip.Protocol() != uint8(header.TCPProtocolNumber) || ip.FragmentOffset() != 0 {
			return SYN{}, false
		}
		src, dst = netip.AddrFrom4(ip.SourceAddress().As4()), netip.AddrFrom4(ip.DestinationAddress().As4())
		seg = ip[ip.HeaderLength():ip.TotalLength()]
	case header.IPv6ProtocolNumber:
		ip := header.IPv6(frame[header.EthernetMinimumSize:])
		if !ip.IsValid(len(ip)) || ip.TransportProtocol() != header.TCPProtocolNumber {
			return SYN{}, false
		}
		src, dst = netip.AddrFrom16(ip.SourceAddress().As16()), netip.AddrFrom16(ip.DestinationAddress().As16())
		seg = ip.Payload()
	default:
		return SYN{}, false
	}
	if len(seg) < header.TCPMinimumSize {
		return SYN{}, false
	}
	tcp := header.TCP(seg)
	if tcp.Flags()&header.TCPFlagSyn == 0 || int(tcp.DataOffset()) > len(seg) {
		return SYN{}, false
	}
	s := SYN{
		Src: netip.AddrPortFrom(src, tcp.SourcePort()),
		Dst: netip.AddrPortFrom(dst, tcp.DestinationPort()),
		ACK: tcp.Flags()&header.TCPFlagAck != 0,
	}
	opts := seg[header.TCPMinimumSize:tcp.DataOffset()]
	for len(opts) > 0 {
		switch kind := opts[0]; {
		case kind == 0: // end of options
			return s, true
		case kind == 1: // no-op
			opts = opts[1:]
		case len(opts) < 2 || int(opts[1]) < 2 || int(opts[1]) > len(opts):
			return s, true
		case kind == 2 && opts[1] == 4:
			s.MSS = int(opts[2])<<8 | int(opts[3])
			opts = opts[4:]
		default:
			opts = opts[opts[1]:]
		}
	}
	return s, true
}
