// Package nettest puts userspace hosts on the emulated networks of VM
// tests, the QEMU socket-multicast networks the router's NICs are on (see
// docs/vm.md): each Host is a gVisor network stack (ARP, IPv4, IPv6, ICMP,
// TCP, UDP) with one NIC, all inside the test process, so that tests need
// neither root nor tap devices, and nothing they send leaves the machine.
//
// A Host gets its address statically (AddAddress, SetGateway, SetDNS) or
// by DHCP (DHCP), and can be what the router meets on its networks: an
// ISP's DHCP server (ServeDHCP), a DNS server (ServeDNS), a server that
// tells clients their address (ServeEcho), or a client (Resolve, DialTCP,
// DialUDP), or an attacker that puts hand-made frames on the wire
// (SendFrame, SendUDPv4).
package nettest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/tcpip"
	"gvisor.dev/gvisor/pkg/tcpip/adapters/gonet"
	"gvisor.dev/gvisor/pkg/tcpip/header"
	"gvisor.dev/gvisor/pkg/tcpip/network/arp"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv4"
	"gvisor.dev/gvisor/pkg/tcpip/network/ipv6"
	"gvisor.dev/gvisor/pkg/tcpip/stack"
	"gvisor.dev/gvisor/pkg/tcpip/transport/icmp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
	"gvisor.dev/gvisor/pkg/tcpip/transport/udp"

	"bazwrt/tests/nettest/qemunet"
)

// Config is a host on one network.
type Config struct {
	// Port is the network's multicast port, as in vm.MulticastNetdev: a
	// VM's port base plus vm.AccessPort or vm.LANPort.
	Port int
	// Peer, if set, makes the network a point-to-point link to one QEMU
	// NIC instead (vm.UnicastNetdev(Peer, port)): the host receives on
	// Port, 0 for a free one (LocalPort), and sends to Peer.
	Peer int
	// MAC is the NIC's address: unicast, and unlike any other on the
	// network, the VM's included.
	MAC net.HardwareAddr
	// Name names the host in log lines; by default its MAC.
	Name string
	// Logf, if set, gets a line for each DHCP and DNS event (t.Logf).
	Logf func(format string, args ...any)
	// SLAAC makes the host take IPv6 addresses and its default router
	// from router advertisements (RFC 4862), as a LAN host does.
	SLAAC bool
}

// Host is a network stack with one NIC on a network. Its methods may be
// called from several goroutines.
type Host struct {
	name  string
	mac   net.HardwareAddr
	logf  func(format string, args ...any)
	stack *stack.Stack
	link  *qemunet.Endpoint
	port  int           // the UDP port the host receives frames on
	ipID  atomic.Uint32 // the IPv4 ID of hand-made packets

	mu       sync.Mutex
	addrs    []netip.Prefix
	syns     []SYN          // received, the first maxSYNs
	onLink   []netip.Prefix // from router advertisements (SLAAC)
	raRouter netip.Addr     // likewise
	gateway4 netip.Addr
	gateway6 netip.Addr
	dns      netip.Addr
	handlers map[uint16]func(udpDatagram) // by UDP port, see handleUDP
	servers  []io.Closer                  // closed with the host
	closed   bool
}

// nicID is the host's only NIC.
const nicID tcpip.NICID = 1

// New attaches a host to the network cfg describes. It has an IPv6
// link-local address, and no other until given one.
func New(cfg Config) (*Host, error) {
	name := cfg.Name
	if name == "" {
		name = cfg.MAC.String()
	}
	h := &Host{
		name:     name,
		mac:      slices.Clone(cfg.MAC),
		logf:     cfg.Logf,
		handlers: map[uint16]func(udpDatagram){},
	}
	var conn *qemunet.Conn
	var err error
	if cfg.Peer != 0 {
		conn, err = qemunet.Dial(cfg.Port, cfg.Peer)
	} else {
		conn, err = qemunet.Join(cfg.Port)
	}
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: %w", name, err)
	}
	h.port = conn.LocalPort()
	h.link, err = qemunet.NewEndpoint(conn, cfg.MAC, h.intercept)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("nettest: host %s: %w", name, err)
	}
	v6opts := ipv6.Options{AutoGenLinkLocal: true}
	if cfg.SLAAC {
		v6opts.NDPConfigs = ipv6.DefaultNDPConfigurations()
		v6opts.NDPConfigs.HandleRAs = ipv6.HandlingRAsEnabledWhenForwardingDisabled
		v6opts.NDPConfigs.DiscoverDefaultRouters = true
		v6opts.NDPConfigs.DiscoverOnLinkPrefixes = true
		v6opts.NDPConfigs.AutoGenGlobalAddresses = true
		v6opts.NDPDisp = ndpDispatcher{h}
	}
	h.stack = stack.New(stack.Options{
		NetworkProtocols: []stack.NetworkProtocolFactory{
			ipv4.NewProtocol,
			ipv6.NewProtocolWithOptions(v6opts),
			arp.NewProtocol,
		},
		TransportProtocols: []stack.TransportProtocolFactory{
			tcp.NewProtocol, udp.NewProtocol, icmp.NewProtocol4, icmp.NewProtocol6,
		},
	})
	if err := h.stack.CreateNICWithOptions(nicID, h.link, stack.NICOptions{Name: name}); err != nil {
		h.link.Close()
		h.stack.Close()
		h.stack.Wait()
		return nil, fmt.Errorf("nettest: host %s: creating the NIC: %v", name, err)
	}
	h.mu.Lock()
	h.setRoutesLocked()
	h.mu.Unlock()
	return h, nil
}

// Close detaches the host from the network, after stopping the servers it
// runs; its connections fail from then on. It may be called more than once.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	servers := h.servers
	h.servers = nil
	h.mu.Unlock()

	for _, s := range slices.Backward(servers) {
		s.Close()
	}
	// Stop receiving first: the stack waits for its link endpoint while
	// holding its own lock, which delivering a frame may need.
	h.link.Close()
	h.link.Wait()
	h.stack.Close()
	h.stack.Wait()
	return nil
}

// Name returns the host's name, as in log lines.
func (h *Host) Name() string { return h.name }

// LocalPort returns the UDP port the host receives its frames on: the
// network's for a multicast network, its own end's for a point-to-point
// link (Config.Peer).
func (h *Host) LocalPort() int { return h.port }

// MAC returns the host's MAC address.
func (h *Host) MAC() net.HardwareAddr { return slices.Clone(h.mac) }

// log writes a line to Config.Logf.
func (h *Host) log(format string, args ...any) {
	if h.logf != nil {
		h.logf("%s: "+format, append([]any{h.name}, args...)...)
	}
}

// AddAddress gives the host the address p.Addr() on the subnet p, which
// is then on-link. Adding an address it has is not an error.
func (h *Host) AddAddress(p netip.Prefix) error {
	if !p.IsValid() {
		return fmt.Errorf("nettest: host %s: address %v: invalid", h.name, p)
	}
	p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits())
	h.mu.Lock()
	defer h.mu.Unlock()
	if slices.Contains(h.addrs, p) {
		return nil
	}
	pa := tcpip.ProtocolAddress{
		Protocol:          protocol(p.Addr()),
		AddressWithPrefix: tcpip.AddressWithPrefix{Address: tcpipAddr(p.Addr()), PrefixLen: p.Bits()},
	}
	if err := h.stack.AddProtocolAddress(nicID, pa, stack.AddressProperties{}); err != nil {
		return fmt.Errorf("nettest: host %s: adding address %v: %v", h.name, p, err)
	}
	h.addrs = append(h.addrs, p)
	h.setRoutesLocked()
	return nil
}

// Addrs returns the addresses given to the host, with their subnets, in
// the order given (not the IPv6 link-local one).
func (h *Host) Addrs() []netip.Prefix {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.addrs)
}

// maxSYNs bounds what a host keeps of the SYNs it receives.
const maxSYNs = 1000

// SYNs returns the TCP SYNs (and SYN-ACKs) the host has received, in order.
func (h *Host) SYNs() []SYN {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.syns)
}

// GlobalIPv6 returns the host's IPv6 addresses outside fe80::/10: those
// given and those it made from router advertisements (SLAAC).
func (h *Host) GlobalIPv6() []netip.Addr {
	var out []netip.Addr
	for _, pa := range h.stack.AllAddresses()[nicID] {
		if pa.Protocol != ipv6.ProtocolNumber {
			continue
		}
		a, ok := netip.AddrFromSlice(pa.AddressWithPrefix.Address.AsSlice())
		if ok && !a.IsLinkLocalUnicast() {
			out = append(out, a)
		}
	}
	return out
}

// hasAddr reports whether a is one of the host's addresses.
func (h *Host) hasAddr(a netip.Addr) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.addrs, func(p netip.Prefix) bool { return p.Addr() == a })
}

// SetGateway makes gw the default router for its address family,
// replacing any before.
func (h *Host) SetGateway(gw netip.Addr) error {
	if !gw.IsValid() {
		return fmt.Errorf("nettest: host %s: gateway %v: invalid", h.name, gw)
	}
	gw = gw.Unmap()
	h.mu.Lock()
	defer h.mu.Unlock()
	if gw.Is4() {
		h.gateway4 = gw
	} else {
		h.gateway6 = gw
	}
	h.setRoutesLocked()
	return nil
}

// SetDNS makes addr the server Resolve asks, on port 53.
func (h *Host) SetDNS(addr netip.Addr) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dns = addr.Unmap()
}

// DNS returns the server Resolve asks, if any.
func (h *Host) DNS() netip.Addr {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dns
}

// setRoutesLocked gives the stack its routes: the subnets of the host's
// addresses, longest prefix first, as gVisor takes the first that
// matches; IPv6 link-local; the default routes.
func (h *Host) setRoutesLocked() {
	subnets := append(slices.Clone(h.addrs), h.onLink...)
	slices.SortStableFunc(subnets, func(a, b netip.Prefix) int { return b.Bits() - a.Bits() })
	var routes []tcpip.Route
	for _, p := range subnets {
		routes = append(routes, tcpip.Route{Destination: subnet(p.Masked()), NIC: nicID})
	}
	routes = append(routes, tcpip.Route{Destination: subnet(netip.MustParsePrefix("fe80::/64")), NIC: nicID})
	if h.gateway4.IsValid() {
		routes = append(routes, tcpip.Route{Destination: header.IPv4EmptySubnet, Gateway: tcpipAddr(h.gateway4), NIC: nicID})
	}
	if gw := cmp.Or(h.gateway6, h.raRouter); gw.IsValid() {
		routes = append(routes, tcpip.Route{Destination: header.IPv6EmptySubnet, Gateway: tcpipAddr(gw), NIC: nicID})
	}
	h.stack.SetRouteTable(routes)
}

// DialTCP connects to addr.
func (h *Host) DialTCP(ctx context.Context, addr netip.AddrPort) (net.Conn, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("nettest: host %s: dialing %v: invalid address", h.name, addr)
	}
	c, err := gonet.DialContextTCP(ctx, h.stack, fullAddr(addr), protocol(addr.Addr()))
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return c, nil
}

// ListenTCP listens on port of all the host's addresses, IPv4 and IPv6
// (an IPv6 socket that is not v6-only: IPv4 peers appear as
// ::ffff:a.b.c.d, which Unmap turns back).
func (h *Host) ListenTCP(port uint16) (net.Listener, error) {
	l, err := gonet.ListenTCP(h.stack, tcpip.FullAddress{NIC: nicID, Port: port}, ipv6.ProtocolNumber)
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return l, nil
}

// DialUDP returns a UDP socket on an ephemeral port that sends to and
// receives from addr only.
func (h *Host) DialUDP(addr netip.AddrPort) (net.Conn, error) {
	if !addr.IsValid() {
		return nil, fmt.Errorf("nettest: host %s: dialing %v: invalid address", h.name, addr)
	}
	raddr := fullAddr(addr)
	c, err := gonet.DialUDP(h.stack, nil, &raddr, protocol(addr.Addr()))
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return c, nil
}

// ListenUDP returns a UDP socket on port of the host's IPv4 addresses.
// ReadFrom reports a datagram's source as its IP header says, spoofed or
// not.
func (h *Host) ListenUDP(port uint16) (net.PacketConn, error) {
	c, err := gonet.DialUDP(h.stack, &tcpip.FullAddress{NIC: nicID, Port: port}, nil, ipv4.ProtocolNumber)
	if err != nil {
		return nil, fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return c, nil
}

// SendFrame puts frame on the network as it is, padded to Ethernet's
// minimum of 60 bytes: any source, any destination, bypassing the stack.
func (h *Host) SendFrame(frame []byte) error {
	if err := h.link.WriteFrame(frame); err != nil {
		return fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return nil
}

// SendIPv4 sends an IPv4 packet of protocol proto from src to dst, whatever
// the host's addresses, in a frame from the host's MAC to dstMAC. The
// header has TTL 64 and its checksum; payload must have its own.
func (h *Host) SendIPv4(dstMAC net.HardwareAddr, src, dst netip.Addr, proto uint8, payload []byte) error {
	frame, err := ipv4Frame(h.mac, dstMAC, src, dst, proto, uint16(h.ipID.Add(1)), payload)
	if err != nil {
		return fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return h.SendFrame(frame)
}

// SendUDPv4 sends a UDP datagram from src to dst, whatever the host's
// addresses (spoofed, if need be), in a frame from the host's MAC to
// dstMAC, with correct checksums.
func (h *Host) SendUDPv4(dstMAC net.HardwareAddr, src, dst netip.AddrPort, payload []byte) error {
	u, err := udpPacket(src, dst, payload)
	if err != nil {
		return fmt.Errorf("nettest: host %s: %w", h.name, err)
	}
	return h.SendIPv4(dstMAC, src.Addr(), dst.Addr(), uint8(udp.ProtocolNumber), u)
}

// errHandled is returned by handleUDP for a port taken.
var errHandled = errors.New("port taken")

// handleUDP makes f receive the IPv4 UDP datagrams to port that reach
// the host, instead of the stack: DHCP, whose clients have no address to
// receive on and whose servers must answer them, is done with frames, as
// with raw sockets. f runs on the receiving goroutine, and must not keep
// the datagram's slices. The returned function stops it.
func (h *Host) handleUDP(port uint16, f func(udpDatagram)) (stop func(), err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, net.ErrClosed
	}
	if h.handlers[port] != nil {
		return nil, fmt.Errorf("UDP port %d: %w", port, errHandled)
	}
	h.handlers[port] = f
	return func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.handlers, port)
	}, nil
}

// intercept is the link endpoint's filter: it passes the datagrams
// handleUDP asked for to their handlers.
func (h *Host) intercept(frame []byte) bool {
	if syn, ok := parseSYN(frame); ok {
		h.mu.Lock()
		if len(h.syns) < maxSYNs {
			h.syns = append(h.syns, syn)
		}
		h.mu.Unlock()
		return false // the stack answers it
	}
	d, ok := parseUDPv4(frame)
	if !ok {
		return false
	}
	h.mu.Lock()
	f := h.handlers[d.Dst.Port()]
	h.mu.Unlock()
	if f == nil {
		return false
	}
	f(d)
	return true
}

// addServer has s closed with the host.
func (h *Host) addServer(s io.Closer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return net.ErrClosed
	}
	h.servers = append(h.servers, s)
	return nil
}

// protocol returns the network protocol of a.
func protocol(a netip.Addr) tcpip.NetworkProtocolNumber {
	if a.Unmap().Is4() {
		return ipv4.ProtocolNumber
	}
	return ipv6.ProtocolNumber
}

func tcpipAddr(a netip.Addr) tcpip.Address { return tcpip.AddrFromSlice(a.Unmap().AsSlice()) }

func fullAddr(ap netip.AddrPort) tcpip.FullAddress {
	return tcpip.FullAddress{NIC: nicID, Addr: tcpipAddr(ap.Addr()), Port: ap.Port()}
}

func subnet(p netip.Prefix) tcpip.Subnet {
	return tcpip.AddressWithPrefix{Address: tcpipAddr(p.Addr()), PrefixLen: p.Bits()}.Subnet()
}
