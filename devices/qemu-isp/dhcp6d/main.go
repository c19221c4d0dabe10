// Command dhcp6d is the emulated ISP's DHCPv6 server (devices/qemu-isp):
// it delegates a prefix (IA_PD) and leases a WAN address (IA_NA) to each
// subscriber, on every interface whose name matches -interfaces (PPP
// sessions come and go: ppp0, ppp1...), and routes what it leases to the
// subscriber's link-local address on the link the request came in on.
//
// With -ra-interfaces it also sends router advertisements on access
// networks (Ethernet WANs): routers there take their IPv6 default route
// from them. A test peer, not a router's service. Written here because the served
// server that delegates prefixes (WIDE-DHCPv6's dhcp6s) delegates only
// prefixes written per client DUID in its configuration and routes
// nothing; an ISP hands prefixes out of a pool.
//
//	dhcp6d -interfaces 'ppp*' -prefixes 2001:db8:1000::/40 -prefix-length 56 \
//	    -addresses 2001:db8:ffff::/64 -dns 2001:db8:ff::53
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"golang.org/x/net/ipv6"
)

func main() {
	log.SetFlags(0)
	if err := run(os.Args[1:]); err != nil {
		log.Fatalf("dhcp6d: %v", err)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("dhcp6d", flag.ContinueOnError)
	ifaces := fs.String("interfaces", "ppp*", "serve on the interfaces whose names match one of these comma-separated patterns (path.Match)")
	prefixes := fs.String("prefixes", "", "pool of delegated prefixes, e.g. 2001:db8:1000::/40")
	prefixLen := fs.Int("prefix-length", 56, "length of each delegated prefix")
	addresses := fs.String("addresses", "", "pool of IA_NA addresses, e.g. 2001:db8:ffff::/64")
	dns := fs.String("dns", "", "DNS servers, comma-separated")
	preferred := fs.Duration("preferred", 30*time.Minute, "preferred lifetime (T1, T2 are 0.5 and 0.8 of it)")
	valid := fs.Duration("valid", time.Hour, "valid lifetime")
	ip := fs.String("ip", "/sbin/ip", "the ip command that installs routes")
	ra := fs.String("ra-interfaces", "", "send router advertisements (this host as the default router, no prefix) on the Ethernet interfaces matching these comma-separated patterns")
	raInterval := fs.Duration("ra-interval", 10*time.Second, "between router advertisements")
	if err := fs.Parse(args); err != nil {
		return err
	}
	patterns := strings.Split(*ifaces, ",")
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			return fmt.Errorf("-interfaces %q: %q is not a pattern", *ifaces, p)
		}
	}
	cfg := Config{PrefixLen: *prefixLen, Preferred: *preferred, Valid: *valid, Logf: log.Printf}
	var err error
	if cfg.Prefixes, err = netip.ParsePrefix(*prefixes); err != nil {
		return fmt.Errorf("-prefixes: %v", err)
	}
	if cfg.Addresses, err = netip.ParsePrefix(*addresses); err != nil {
		return fmt.Errorf("-addresses: %v", err)
	}
	for _, d := range strings.Split(*dns, ",") {
		if d == "" {
			continue
		}
		a, err := netip.ParseAddr(d)
		if err != nil || !a.Is6() {
			return fmt.Errorf("-dns %q: want IPv6 addresses", d)
		}
		cfg.DNS = append(cfg.DNS, a)
	}
	cfg.Route = func(add bool, p netip.Prefix, ifname string, via netip.Addr) error {
		args := []string{"-6", "route", "del", p.String()}
		if add {
			args = []string{"-6", "route", "replace", p.String(), "via", via.WithZone("").String(), "dev", ifname}
		}
		out, err := exec.Command(*ip, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", *ip, strings.Join(args, " "), err, out)
		}
		return nil
	}
	cfg.ServerID, err = serverID()
	if err != nil {
		return err
	}
	s, err := NewServer(cfg)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *ra != "" {
		go advertise(ctx, strings.Split(*ra, ","), *raInterval)
	}
	return serve(ctx, s, patterns)
}

// match reports whether name matches one of patterns.
func match(patterns []string, name string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	return false
}

// serverID is DUID-LL of the first interface with a MAC address.
func serverID() (dhcpv6.DUID, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	for _, i := range ifs {
		if len(i.HardwareAddr) == 6 {
			return &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: i.HardwareAddr}, nil
		}
	}
	return nil, errors.New("no interface with a MAC address for the server's DUID")
}

// serve answers on UDP port 547, joining All_DHCP_Relay_Agents_and_Servers
// on each matching interface as it appears.
func serve(ctx context.Context, s *Server, patterns []string) error {
	c, err := net.ListenPacket("udp6", "[::]:547")
	if err != nil {
		return err
	}
	defer c.Close()
	p := ipv6.NewPacketConn(c)
	if err := p.SetControlMessage(ipv6.FlagInterface, true); err != nil {
		return err
	}
	go func() { <-ctx.Done(); c.Close() }()
	go join(ctx, p, patterns)
	log.Printf("dhcp6d: serving on %s", strings.Join(patterns, ", "))
	buf := make([]byte, 65536)
	for {
		n, cm, from, err := p.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if cm == nil {
			continue
		}
		ifi, err := net.InterfaceByIndex(cm.IfIndex)
		if err != nil {
			continue
		}
		if !match(patterns, ifi.Name) {
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		peer, _ := netip.AddrFromSlice(ua.IP)
		msg, err := dhcpv6.FromBytes(buf[:n])
		if err != nil {
			log.Printf("dhcp6d: %s%%%s: %v", peer, ifi.Name, err)
			continue
		}
		m, ok := msg.(*dhcpv6.Message)
		if !ok {
			continue // relayed messages: no relays here
		}
		reply, err := s.Handle(m, ifi.Name, peer)
		if err != nil {
			log.Printf("dhcp6d: %s%%%s: %v", peer, ifi.Name, err)
			continue
		}
		if reply == nil {
			continue
		}
		if _, err := p.WriteTo(reply.ToBytes(), &ipv6.ControlMessage{IfIndex: cm.IfIndex}, ua); err != nil {
			log.Printf("dhcp6d: reply to %s%%%s: %v", peer, ifi.Name, err)
		}
	}
}

// join keeps the multicast group joined on every matching interface that
// is up; PPP interfaces appear with each session. It joins again at every
// tick: a membership can be lost when a new session's interface is set up
// around it (seen: a server that joined a redialled session's ppp0 heard
// nothing more), and joining a group twice only says so.
func join(ctx context.Context, p *ipv6.PacketConn, patterns []string) {
	group := &net.UDPAddr{IP: net.ParseIP("ff02::1:2")}
	joined := map[int]string{}
	failed := map[int]bool{} // logged once per interface
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		ifs, _ := net.Interfaces()
		now := map[int]string{}
		for _, i := range ifs {
			if !match(patterns, i.Name) || i.Flags&net.FlagUp == 0 {
				continue
			}
			now[i.Index] = i.Name
			err := p.JoinGroup(&i, group)
			if errors.Is(err, syscall.EADDRINUSE) {
				// The socket still holds the membership, but the
				// interface's own list may have lost it; then
				// nothing sent to the group is heard on it.
				igmp6, rerr := os.ReadFile("/proc/net/igmp6")
				if rerr == nil && !inGroup(igmp6, i.Name, allServersHex) {
					p.LeaveGroup(&i, group)
					if err = p.JoinGroup(&i, group); err == nil {
						log.Printf("dhcp6d: %s had lost ff02::1:2; joined again", i.Name)
					}
				}
			}
			switch {
			case err == nil && joined[i.Index] != i.Name:
				joined[i.Index] = i.Name
				log.Printf("dhcp6d: listening on %s", i.Name)
			case err != nil && !errors.Is(err, syscall.EADDRINUSE) && !failed[i.Index]:
				log.Printf("dhcp6d: %s: %v (trying again every second)", i.Name, err)
				failed[i.Index] = true
			}
		}
		for idx := range joined {
			if _, ok := now[idx]; !ok {
				delete(joined, idx) // gone with its session
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// allServersHex is ff02::1:2 (All_DHCP_Relay_Agents_and_Servers) as
// /proc/net/igmp6 writes it.
const allServersHex = "ff020000000000000000000000010002"

// inGroup says whether /proc/net/igmp6 (lines "INDEX NAME GROUP USERS
// FLAGS TIMER") lists the group on the interface.
func inGroup(igmp6 []byte, ifname, group string) bool {
	for _, line := range strings.Split(string(igmp6), "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == ifname && f[2] == group {
			return true
		}
	}
	return false
}
