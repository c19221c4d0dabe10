package main

import (
	"context"
	"encoding/binary"
	"log"
	"net"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv6"
)

// routerAdvert is an ICMPv6 router advertisement (RFC 4861, 4.2) that
// makes this host the link's default router for lifetime, with no prefix
// (subscribers' addresses come from DHCPv6), and its link-layer address.
// The kernel fills in the checksum of ICMPv6 raw sockets.
func routerAdvert(lifetime time.Duration, mac net.HardwareAddr) []byte {
	b := make([]byte, 16, 16+8)
	b[0] = byte(ipv6.ICMPTypeRouterAdvertisement)
	b[4] = 64 // cur hop limit
	b[5] = 0  // M and O flags clear: DHCPv6 is asked for regardless
	binary.BigEndian.PutUint16(b[6:], uint16(lifetime/time.Second))
	if len(mac) == 6 {
		b = append(b, 1, 1) // source link-layer address, 8 bytes
		b = append(b, mac...)
	}
	return b
}

// advertise sends a router advertisement every interval on each interface
// whose name matches patterns and that has a MAC (an Ethernet access
// network; PPP links need none: subscribers route through the link).
func advertise(ctx context.Context, patterns []string, interval time.Duration) {
	c, err := icmp.ListenPacket("ip6:ipv6-icmp", "::")
	if err != nil {
		log.Printf("dhcp6d: router advertisements: %v", err)
		return
	}
	defer c.Close()
	p := c.IPv6PacketConn()
	// RFC 4861, 6.1.2: hosts drop advertisements whose hop limit is not 255.
	p.SetMulticastHopLimit(255)
	p.SetHopLimit(255)
	all := &net.IPAddr{IP: net.ParseIP("ff02::1")}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ifs, _ := net.Interfaces()
		for _, i := range ifs {
			if !match(patterns, i.Name) || i.Flags&net.FlagUp == 0 || len(i.HardwareAddr) != 6 {
				continue
			}
			all.Zone = i.Name
			if _, err := p.WriteTo(routerAdvert(3*interval, i.HardwareAddr), &ipv6.ControlMessage{IfIndex: i.Index, HopLimit: 255}, all); err != nil {
				log.Printf("dhcp6d: router advertisement on %s: %v", i.Name, err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
