package nettest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// ReadGreeting reads an echo server's first line from r (a client's side
// of the connection) and returns the address the server saw the client
// connect from.
func ReadGreeting(r *bufio.Reader) (netip.AddrPort, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("reading the echo server's greeting: %v (got %q)", err, line)
	}
	v, ok := strings.CutPrefix(strings.TrimSpace(line), "remote=")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("echo server's greeting %q, want remote=IP:PORT", line)
	}
	return netip.ParseAddrPort(v)
}

// MustMAC parses a MAC address written in a test, or panics.
func MustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// EchoServer is a TCP server that tells each client the address it sees
// it connect from, then echoes what it sends: what a test needs to see NAT
// and port forwards at work.
type EchoServer struct {
	l  net.Listener
	wg sync.WaitGroup

	mu     sync.Mutex
	peers  []netip.AddrPort
	conns  map[net.Conn]bool
	closed bool
}

// ServeEcho starts an echo server on port of the host's addresses.
// On each connection it writes one line, "remote=IP:PORT\n" with the
// client's address, then echoes what it reads until the client closes its
// side. The server stops with the host, or with Close.
func (h *Host) ServeEcho(port uint16) (*EchoServer, error) {
	l, err := h.ListenTCP(port)
	if err != nil {
		return nil, err
	}
	s := &EchoServer{l: l, conns: map[net.Conn]bool{}}
	if err := h.addServer(s); err != nil {
		l.Close()
		return nil, err
	}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Peers returns the addresses of the clients so far, in order.
func (s *EchoServer) Peers() []netip.AddrPort {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.peers)
}

// Close stops the server, closing its connections, and waits for it.
func (s *EchoServer) Close() error {
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
	s.l.Close()
	s.wg.Wait()
	return nil
}

func (s *EchoServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.l.Accept()
		if err != nil {
			return // closed
		}
		peer := c.RemoteAddr().(*net.TCPAddr).AddrPort()
		peer = netip.AddrPortFrom(peer.Addr().Unmap(), peer.Port())
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.peers = append(s.peers, peer)
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if _, err := fmt.Fprintf(c, "remote=%v\n", peer); err == nil {
				io.Copy(c, c)
			}
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}
