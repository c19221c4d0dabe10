package nettest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"strings"
	"time"

	"bazwrt/tests/nettest/dhcp4"
)

// Lease is what a DHCP server gave a host.
type Lease struct {
	Addr      netip.Prefix  // the address, with its subnet's prefix length
	Router    netip.Addr    // the default router, if the server named one
	DNS       []netip.Addr  // the DNS servers
	Domain    string        // the domain name, if any
	LeaseTime time.Duration // how long the address is the host's
	Server    netip.Addr    // the server's identifier (its address)
}

// The client's timing: DISCOVERs every second until an OFFER comes, then
// REQUESTs every second, at most requestTries before starting over.
const (
	dhcpInterval = time.Second
	requestTries = 4
)

// dhcpReply is a reply for this host, and the IP address it came from.
type dhcpReply struct {
	msg *dhcp4.Message
	src netip.Addr
}

// DHCP gets a lease, as a client does when it boots (RFC 2131 section
// 3.1): it broadcasts a DISCOVER every second until an OFFER comes, then
// REQUESTs the offered address; a NAK, or no ACK to 4 REQUESTs, starts
// over. Its messages ask for broadcast replies, identify the client by its
// MAC (option 61) and request options 1, 3, 6, 15, 51 and 54. With the
// lease, DHCP configures the host: the address, the default route through
// the router, the first DNS server. It gives up when ctx ends. There is no
// renewal: leases outlive tests.
func (h *Host) DHCP(ctx context.Context) (Lease, error) {
	replies := make(chan dhcpReply, 16)
	stop, err := h.handleUDP(dhcp4.ClientPort, func(d udpDatagram) {
		m, err := dhcp4.Parse(d.Payload)
		if err != nil {
			h.log("dhcp: malformed reply from %v: %v", d.Src, err)
			return
		}
		if m.Op != dhcp4.BootReply || !bytes.Equal(m.HardwareAddr, h.mac) {
			return // another client's
		}
		select {
		case replies <- dhcpReply{m, d.Src.Addr()}:
		default: // a flood; retransmissions make up for it
		}
	})
	if err != nil {
		return Lease{}, fmt.Errorf("nettest: host %s: dhcp: %w", h.name, err)
	}
	defer stop()

	c := &dhcpClient{h: h, start: time.Now()}
	tick := time.NewTicker(dhcpInterval)
	defer tick.Stop()
	// startOver begins a new transaction with a DISCOVER, now.
	startOver := func() error {
		c.xid, c.offer, c.serverID, c.sent = rand.Uint32(), nil, netip.Addr{}, 0
		tick.Reset(dhcpInterval)
		return c.send()
	}
	if err := startOver(); err != nil {
		return Lease{}, err
	}
	for {
		var err error
		select {
		case <-ctx.Done():
			what := fmt.Sprintf("no OFFER (%d DISCOVERs)", c.discovers)
			if c.offer != nil {
				what = fmt.Sprintf("no ACK for %v from %v (%d REQUESTs)", c.offer.YourAddr, c.serverID, c.sent)
			}
			return Lease{}, fmt.Errorf("nettest: host %s: dhcp: %s in %v: %w",
				h.name, what, time.Since(c.start).Round(time.Millisecond), ctx.Err())

		case <-tick.C:
			if c.offer != nil && c.sent >= requestTries {
				h.log("dhcp: no ACK to %d REQUESTs, starting over", c.sent)
				err = startOver()
			} else {
				err = c.send()
			}

		case r := <-replies:
			m := r.msg
			id, hasID := m.Options.Addr(dhcp4.OptionServerID)
			switch typ := m.Type(); {
			case m.XID != c.xid:
				// An old transaction's.
			case c.offer == nil && typ == dhcp4.Offer:
				c.offer, c.serverID, c.sent = m, id, 0
				if !hasID {
					c.serverID = r.src
				}
				h.log("dhcp: OFFER %v from %v", m.YourAddr, c.serverID)
				tick.Reset(dhcpInterval)
				err = c.send()
			case c.offer == nil || typ != dhcp4.Ack && typ != dhcp4.Nak:
				// Not what the client waits for.
			case hasID && id != c.serverID:
				// Another server's, to the REQUEST it saw broadcast.
			case typ == dhcp4.Nak:
				h.log("dhcp: NAK from %v: %q, starting over", c.serverID, m.Options[dhcp4.OptionMessage])
				err = startOver()
			case !m.YourAddr.Is4() || m.YourAddr.IsUnspecified():
				h.log("dhcp: ACK from %v without an address, starting over", c.serverID)
				err = startOver()
			default:
				lease := leaseOf(m, c.serverID)
				h.log("dhcp: ACK %v", lease)
				if err := h.configure(lease); err != nil {
					return Lease{}, err
				}
				return lease, nil
			}
		}
		if err != nil {
			return Lease{}, fmt.Errorf("nettest: host %s: dhcp: %w", h.name, err)
		}
	}
}

// dhcpClient is the state of a DHCP call.
type dhcpClient struct {
	h         *Host
	start     time.Time
	xid       uint32         // the transaction
	offer     *dhcp4.Message // the offer being requested, or nil while discovering
	serverID  netip.Addr     // the offer's server
	sent      int            // DISCOVERs or REQUESTs sent in this transaction's state
	discovers int            // DISCOVERs sent in all
}

// send broadcasts a DISCOVER, or a REQUEST for the offer.
func (c *dhcpClient) send() error {
	mac := c.h.mac
	m := &dhcp4.Message{
		Op:           dhcp4.BootRequest,
		XID:          c.xid,
		Secs:         uint16(min(time.Since(c.start)/time.Second, 0xffff)),
		Broadcast:    true,
		HardwareAddr: mac,
		Options: dhcp4.Options{
			dhcp4.OptionMessageType:          {byte(dhcp4.Discover)},
			dhcp4.OptionClientID:             append([]byte{1}, mac...), // 1: Ethernet
			dhcp4.OptionParameterRequestList: {1, 3, 6, 15, 51, 54},
		},
	}
	if c.offer == nil {
		c.discovers++
		c.h.log("dhcp: DISCOVER (xid %#08x)", c.xid)
	} else {
		m.Options[dhcp4.OptionMessageType] = []byte{byte(dhcp4.Request)}
		m.Options.SetAddrs(dhcp4.OptionRequestedAddr, c.offer.YourAddr)
		m.Options.SetAddrs(dhcp4.OptionServerID, c.serverID)
		c.h.log("dhcp: REQUEST %v from %v (xid %#08x)", c.offer.YourAddr, c.serverID, c.xid)
	}
	c.sent++
	b, err := m.Marshal()
	if err != nil {
		return err
	}
	return c.h.SendUDPv4(broadcastMAC,
		netip.AddrPortFrom(netip.IPv4Unspecified(), dhcp4.ClientPort),
		netip.AddrPortFrom(limitedBroadcast, dhcp4.ServerPort), b)
}

// leaseOf returns the lease an ACK from server grants.
func leaseOf(ack *dhcp4.Message, server netip.Addr) Lease {
	l := Lease{
		DNS:    ack.Options.Addrs(dhcp4.OptionDNS),
		Domain: string(ack.Options[dhcp4.OptionDomainName]),
		Server: server,
	}
	bits := -1
	if mask, ok := ack.Options[dhcp4.OptionSubnetMask]; ok && len(mask) == 4 {
		if ones, size := net.IPMask(mask).Size(); size == 32 {
			bits = ones
		}
	}
	if bits < 0 {
		// No mask (or not a prefix): the address's class decides (RFC 1122
		// section 3.3.1.1).
		switch a := ack.YourAddr.As4(); {
		case a[0] < 128:
			bits = 8
		case a[0] < 192:
			bits = 16
		default:
			bits = 24
		}
	}
	l.Addr = netip.PrefixFrom(ack.YourAddr, bits)
	if routers := ack.Options.Addrs(dhcp4.OptionRouter); len(routers) > 0 {
		l.Router = routers[0]
	}
	if secs, ok := ack.Options.Uint32(dhcp4.OptionLeaseTime); ok {
		l.LeaseTime = time.Duration(secs) * time.Second
	}
	return l
}

// configure gives the host the lease's address, router and DNS server.
func (h *Host) configure(l Lease) error {
	if err := h.AddAddress(l.Addr); err != nil {
		return err
	}
	if l.Router.IsValid() {
		if err := h.SetGateway(l.Router); err != nil {
			return err
		}
	}
	if len(l.DNS) > 0 {
		h.SetDNS(l.DNS[0])
	}
	return nil
}

// String returns the lease as a log line shows it.
func (l Lease) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v", l.Addr)
	if l.Router.IsValid() {
		fmt.Fprintf(&b, " router %v", l.Router)
	}
	if len(l.DNS) > 0 {
		fmt.Fprintf(&b, " dns %v", l.DNS)
	}
	if l.Domain != "" {
		fmt.Fprintf(&b, " domain %s", l.Domain)
	}
	fmt.Fprintf(&b, " for %v from %v", l.LeaseTime, l.Server)
	return b.String()
}
