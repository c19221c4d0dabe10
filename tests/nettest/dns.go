package nettest

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"time"

	"bazwrt/tests/nettest/dnsmsg"
)

// dnsRetry is how often Resolve repeats an unanswered query, dnsPoll how
// often it looks for errors.
const (
	dnsRetry = time.Second
	dnsPoll  = 50 * time.Millisecond
)

// DNSError is a failed lookup: what was asked of which server, and what
// came back.
type DNSError struct {
	Name   string         // the name asked for
	Server netip.AddrPort // the server asked
	// Type is the question that failed, or 0 when both A and AAAA were
	// answered without an address.
	Type  dnsmsg.Type
	RCode dnsmsg.RCode // the answer's code, when one came
	Err   error        // why no answer came, when none did
}

// Error says what was asked and what came back, such as
// "dns: A www.example.test via 192.0.2.1:53: NXDOMAIN".
func (e *DNSError) Error() string {
	q := e.Type.String()
	if e.Type == 0 {
		q = "A/AAAA"
	}
	prefix := fmt.Sprintf("dns: %s %s via %v", q, e.Name, e.Server)
	switch {
	case e.Err != nil:
		return prefix + ": " + e.Err.Error()
	case e.RCode != dnsmsg.RCodeSuccess:
		return prefix + ": " + e.RCode.String()
	}
	return prefix + ": no addresses (NOERROR)"
}

// Unwrap returns Err.
func (e *DNSError) Unwrap() error { return e.Err }

// Resolve looks name up with the host's DNS server (SetDNS, DHCP): it asks
// for its A and AAAA records over UDP, repeating unanswered queries every
// second until ctx ends, and returns the IPv4 addresses, then the IPv6
// ones. An answer other than NOERROR, or none with an address, is an
// error, a *DNSError.
func (h *Host) Resolve(ctx context.Context, name string) ([]netip.Addr, error) {
	dns := h.DNS()
	if !dns.IsValid() {
		return nil, fmt.Errorf("nettest: host %s: resolving %s: no DNS server (SetDNS or DHCP)", h.name, name)
	}
	return h.ResolveVia(ctx, netip.AddrPortFrom(dns, 53), name, 0)
}

// ResolveVia is Resolve with server asked, and at most timeout for the
// lookup, if timeout is positive.
func (h *Host) ResolveVia(ctx context.Context, server netip.AddrPort, name string, timeout time.Duration) ([]netip.Addr, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	addrs, err := h.resolve(ctx, server, name)
	if err != nil {
		h.log("%v", err)
		return nil, err
	}
	h.log("dns: %s via %v: %v", name, server, addrs)
	return addrs, nil
}

func (h *Host) resolve(ctx context.Context, server netip.AddrPort, name string) ([]netip.Addr, error) {
	type query struct {
		typ    dnsmsg.Type
		id     uint16
		msg    []byte
		answer *dnsmsg.Message
	}
	queries := []*query{{typ: dnsmsg.TypeA}, {typ: dnsmsg.TypeAAAA}}
	for _, q := range queries {
		q.id = uint16(rand.Uint32())
		m := dnsmsg.Message{
			Header:    dnsmsg.Header{ID: q.id, RecursionDesired: true},
			Questions: []dnsmsg.Question{{Name: name, Type: q.typ, Class: dnsmsg.ClassINET}},
		}
		var err error
		if q.msg, err = m.Marshal(); err != nil {
			return nil, &DNSError{Name: name, Server: server, Type: q.typ, Err: err}
		}
	}
	conn, err := h.DialUDP(server)
	if err != nil {
		return nil, &DNSError{Name: name, Server: server, Type: dnsmsg.TypeA, Err: err}
	}
	defer conn.Close()

	start := time.Now()
	sent := 0
	unanswered := func() *query {
		for _, q := range queries {
			if q.answer == nil {
				return q
			}
		}
		return nil
	}
	buf := make([]byte, 65535)
	for unanswered() != nil {
		for _, q := range queries {
			if q.answer != nil {
				continue
			}
			// An error here is an ICMP port unreachable for an earlier
			// query, which a read has not seen yet.
			if _, err := conn.Write(q.msg); err != nil {
				return nil, &DNSError{Name: name, Server: server, Type: q.typ, Err: err}
			}
		}
		sent++
		next := time.Now().Add(dnsRetry)
		for unanswered() != nil && time.Now().Before(next) {
			// Reads wait a little at a time: the error an ICMP port
			// unreachable leaves does not wake one waiting for data.
			deadline := time.Now().Add(dnsPoll)
			if next.Before(deadline) {
				deadline = next
			}
			if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
				deadline = d
			}
			conn.SetReadDeadline(deadline)
			n, err := conn.Read(buf)
			if ctx.Err() != nil {
				break
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if err != nil {
				// Such as an ICMP port unreachable: that is an answer.
				return nil, &DNSError{Name: name, Server: server, Type: unanswered().typ, Err: err}
			}
			m, err := dnsmsg.Parse(buf[:n])
			if err != nil || !m.Response || len(m.Questions) != 1 {
				continue
			}
			for _, q := range queries {
				if q.answer == nil && m.ID == q.id && m.Questions[0].Type == q.typ &&
					strings.EqualFold(m.Questions[0].Name, strings.TrimSuffix(name, ".")) {
					q.answer = m
				}
			}
		}
		if err := ctx.Err(); err != nil && unanswered() != nil {
			return nil, &DNSError{Name: name, Server: server, Type: unanswered().typ,
				Err: fmt.Errorf("no answer to %d queries in %v: %w", sent, time.Since(start).Round(time.Millisecond), err)}
		}
	}

	var addrs []netip.Addr
	for _, q := range queries {
		switch {
		case q.answer.RCode != dnsmsg.RCodeSuccess:
			return nil, &DNSError{Name: name, Server: server, Type: q.typ, RCode: q.answer.RCode}
		case q.answer.Truncated:
			return nil, &DNSError{Name: name, Server: server, Type: q.typ, Err: errors.New("answer truncated (no TCP fallback)")}
		}
		for _, r := range q.answer.Answers {
			if a, ok := r.Addr(); ok && r.Type == q.typ {
				addrs = append(addrs, a)
			}
		}
	}
	if len(addrs) == 0 {
		return nil, &DNSError{Name: name, Server: server}
	}
	return addrs, nil
}

// Query is a question a DNSServer was asked.
type Query struct {
	Source netip.Addr  // who asked
	Name   string      // in lower case, without the trailing dot
	Type   dnsmsg.Type // what was asked for
}

// DNSServer is an authoritative DNS server for a few names on a Host.
type DNSServer struct {
	h       *Host
	records map[string][]netip.Addr // by canonical name
	udp     net.PacketConn
	tcp     net.Listener
	wg      sync.WaitGroup

	mu      sync.Mutex
	queries []Query
	conns   map[net.Conn]bool // TCP connections open
	closed  bool
}

// dnsTTL is the TTL of the server's answers.
const dnsTTL = 60

// ServeDNS starts a DNS server on port 53 of the host's IPv4 addresses,
// over UDP and TCP. It answers A and AAAA questions from records, names
// compared without regard to case or a trailing dot: with the addresses
// of the type asked for, none (NOERROR) if the name has only others, and
// NXDOMAIN for names it does not have. The server stops with the host, or
// with Close.
func (h *Host) ServeDNS(records map[string][]netip.Addr) (*DNSServer, error) {
	s := &DNSServer{h: h, records: map[string][]netip.Addr{}, conns: map[net.Conn]bool{}}
	for name, addrs := range records {
		n := canonicalName(name)
		list := s.records[n] // names that differ in case or a dot merge
		for _, a := range addrs {
			if !a.IsValid() {
				return nil, fmt.Errorf("nettest: host %s: dns server: %s: invalid address", h.name, name)
			}
			list = append(list, a.Unmap())
		}
		s.records[n] = list // even empty: the name exists, NOERROR
	}
	var err error
	if s.udp, err = h.ListenUDP(53); err != nil {
		return nil, err
	}
	if s.tcp, err = h.ListenTCP(53); err != nil {
		s.udp.Close()
		return nil, err
	}
	if err := h.addServer(s); err != nil {
		s.udp.Close()
		s.tcp.Close()
		return nil, err
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	return s, nil
}

// Queries returns the questions asked so far, in order.
func (s *DNSServer) Queries() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.queries)
}

// Close stops the server, closing its connections, and waits for it.
func (s *DNSServer) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.udp.Close()
	s.tcp.Close()
	s.wg.Wait()
	return nil
}

func (s *DNSServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 65535)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		src := from.(*net.UDPAddr).AddrPort().Addr().Unmap()
		if resp := s.answer(buf[:n], src, 512); resp != nil {
			s.udp.WriteTo(resp, from)
		}
	}
}

func (s *DNSServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// serveConn answers the queries of a TCP connection, each with a two-byte
// length before it, until the client closes it.
func (s *DNSServer) serveConn(c net.Conn) {
	src := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	var n [2]byte
	for {
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		req := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, req); err != nil {
			return
		}
		resp := s.answer(req, src, 0xffff)
		if resp == nil {
			return
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(resp))), resp...)); err != nil {
			return
		}
	}
}

// answer returns the response to req from src, at most size bytes long
// (truncated, with TC, if need be), or nil if req deserves none.
func (s *DNSServer) answer(req []byte, src netip.Addr, size int) []byte {
	q, err := dnsmsg.Parse(req)
	if err != nil {
		if len(req) < 12 || req[2]&0x80 != 0 {
			return nil // no header to answer, or a response
		}
		s.h.log("dns server: malformed query from %v: %v", src, err)
		resp := dnsmsg.Message{Header: dnsmsg.Header{
			ID: binary.BigEndian.Uint16(req), Response: true, RCode: dnsmsg.RCodeFormatError}}
		b, _ := resp.Marshal()
		return b
	}
	if q.Response {
		return nil
	}
	resp := dnsmsg.Message{
		Header: dnsmsg.Header{
			ID:               q.ID,
			Response:         true,
			OpCode:           q.OpCode,
			Authoritative:    true,
			RecursionDesired: q.RecursionDesired,
		},
		Questions: q.Questions,
	}
	switch {
	case q.OpCode != 0:
		resp.RCode = dnsmsg.RCodeNotImplemented
	case len(q.Questions) != 1:
		resp.RCode = dnsmsg.RCodeFormatError
	default:
		question := q.Questions[0]
		name := canonicalName(question.Name)
		addrs, ok := s.records[name]
		if !ok {
			resp.RCode = dnsmsg.RCodeNameError
		}
		for _, a := range addrs {
			if question.Type == dnsmsg.TypeANY ||
				question.Type == dnsmsg.TypeA && a.Is4() ||
				question.Type == dnsmsg.TypeAAAA && a.Is6() {
				resp.Answers = append(resp.Answers, dnsmsg.AddrResource(question.Name, dnsTTL, a))
			}
		}
		s.mu.Lock()
		s.queries = append(s.queries, Query{Source: src, Name: name, Type: question.Type})
		s.mu.Unlock()
		var got []string
		for _, r := range resp.Answers {
			a, _ := r.Addr()
			got = append(got, a.String())
		}
		if len(got) == 0 {
			got = append(got, resp.RCode.String())
		}
		s.h.log("dns server: %v %s from %v: %s", question.Type, name, src, strings.Join(got, " "))
	}
	b, err := resp.Marshal()
	if err != nil {
		return nil
	}
	if len(b) > size {
		resp.Answers, resp.Truncated = nil, true
		b, _ = resp.Marshal()
	}
	return b
}

// canonicalName returns name as the server compares names: in lower
// case, without the trailing dot.
func canonicalName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}
