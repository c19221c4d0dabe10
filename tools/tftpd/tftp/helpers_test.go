package tftp

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// replyTimeout bounds every wait for a packet the server should send.
const replyTimeout = 3 * time.Second

// logBuffer collects a server's log for assertions. It is safe for
// concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitFor returns the first log line containing all of parts. The server
// logs a transfer after its last ACK, which may be after the client is
// done, so this polls for a while.
func (l *logBuffer) waitFor(t *testing.T, parts ...string) string {
	t.Helper()
	deadline := time.Now().Add(replyTimeout)
	for {
		for _, line := range strings.Split(l.String(), "\n") {
			if containsAll(line, parts) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line contains all of %q; log:\n%s", parts, l)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// testServer is a Server running in-process on 127.0.0.1 with a
// kernel-chosen port.
type testServer struct {
	*Server
	addr   netip.AddrPort
	log    *logBuffer
	stop   context.CancelFunc
	served chan error // Serve's result
}

// startServer runs srv until the test ends. A nil Logger is replaced by
// one writing to ts.log.
func startServer(t *testing.T, srv *Server) *testServer {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, log: &logBuffer{}, served: make(chan error, 1)}
	ts.addr = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	if srv.Logger == nil {
		srv.Logger = slog.New(slog.NewTextHandler(ts.log, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts.stop = cancel
	go func() { ts.served <- srv.Serve(ctx, conn) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ts.served:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("Serve did not return after cancel")
		}
		conn.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", ts.log)
		}
	})
	return ts
}

// fixture is a served directory next to a file that must never be
// served.
type fixture struct {
	root    string // the served directory
	outside string // a directory next to root
	secret  string // absolute path of a file in outside
	secrets []byte // its content
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	base := t.TempDir()
	f := &fixture{
		root:    filepath.Join(base, "root"),
		outside: filepath.Join(base, "outside"),
		secret:  filepath.Join(base, "outside", "secret.txt"),
		secrets: []byte("TOP-SECRET-" + strconv.FormatUint(rand.Uint64(), 36) + "\n"),
	}
	for _, d := range []string{f.root, filepath.Dir(f.secret), filepath.Join(f.root, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(t, f.secret, f.secrets)
	// A symlink out of the tree: served only if outside is a Follow
	// directory.
	if err := os.Symlink(f.secret, filepath.Join(f.root, "link.txt")); err != nil {
		t.Fatal(err)
	}
	return f
}

// add writes a file below the served root.
func (f *fixture) add(t *testing.T, name string, data []byte) {
	t.Helper()
	writeFile(t, filepath.Join(f.root, name), data)
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// randomBytes returns n reproducible pseudo-random bytes.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{'t', 'f', 't', 'p'}).Read(b)
	return b
}

// testClient is a minimal TFTP client that gives the test control over
// every packet.
type testClient struct {
	t      *testing.T
	conn   *net.UDPConn
	server netip.AddrPort // where requests go
	tid    netip.AddrPort // the server's transfer socket, once known
	buf    []byte
}

func newClient(t *testing.T, server netip.AddrPort) *testClient {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, conn: conn, server: server, buf: make([]byte, 70000)}
}

func (c *testClient) sendRaw(to netip.AddrPort, b []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDPAddrPort(b, to); err != nil {
		c.t.Fatal(err)
	}
}

func (c *testClient) send(to netip.AddrPort, p Packet) {
	c.t.Helper()
	b, err := p.AppendBinary(nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.sendRaw(to, b)
}

// request sends an RRQ in octet mode.
func (c *testClient) request(name string, opts ...Option) {
	c.t.Helper()
	c.send(c.server, &Request{Op: OpRRQ, Filename: name, Mode: "octet", Options: opts})
}

// ack acknowledges block n to the server's transfer socket.
func (c *testClient) ack(n uint16) {
	c.t.Helper()
	c.send(c.tid, &Ack{Block: n})
}

// recv waits up to d for a packet. It reports false on timeout.
func (c *testClient) recv(d time.Duration) (Packet, netip.AddrPort, bool) {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(d))
	n, from, err := c.conn.ReadFromUDPAddrPort(c.buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil, from, false
	}
	if err != nil {
		c.t.Fatal(err)
	}
	p, err := ParsePacket(c.buf[:n])
	if err != nil {
		c.t.Fatalf("bad packet from server: %v", err)
	}
	return p, from, true
}

// expect returns the next packet and remembers the server's TID. Packets
// from any other address than the TID fail the test.
func (c *testClient) expect() Packet {
	c.t.Helper()
	p, from, ok := c.recv(replyTimeout)
	if !ok {
		c.t.Fatalf("no packet from the server within %v", replyTimeout)
	}
	if !c.tid.IsValid() && from != c.server {
		c.tid = from
	}
	if p.Opcode() != OpERROR && from != c.tid {
		c.t.Fatalf("%v from %v, want it from the transfer ID %v", p.Opcode(), from, c.tid)
	}
	return p
}

// expectData returns the next packet, which must be DATA block n.
func (c *testClient) expectData(n uint16) *Data {
	c.t.Helper()
	p := c.expect()
	d, ok := p.(*Data)
	if !ok || d.Block != n {
		c.t.Fatalf("got %#v, want DATA block %d", p, n)
	}
	return d
}

// expectError returns the next packet, which must be an ERROR.
func (c *testClient) expectError() *Error {
	c.t.Helper()
	p := c.expect()
	e, ok := p.(*Error)
	if !ok {
		c.t.Fatalf("got %#v, want ERROR", p)
	}
	return e
}

// expectNothing fails the test if a packet arrives within d.
func (c *testClient) expectNothing(d time.Duration) {
	c.t.Helper()
	if p, from, ok := c.recv(d); ok {
		c.t.Fatalf("unexpected %#v from %v", p, from)
	}
}

// get downloads a file, honouring blksize and windowsize from the OACK,
// and returns the data and the wire number of every DATA block it
// accepted. It acknowledges each window's last block and, when a block is
// out of order, the last one received in order (RFC 7440).
func (c *testClient) get(name string, opts ...Option) ([]byte, []uint16) {
	c.t.Helper()
	c.tid = netip.AddrPort{} // each transfer has a TID of its own
	c.request(name, opts...)
	blockSize, window := DefaultBlockSize, 1
	p := c.expect()
	if o, ok := p.(*OACK); ok {
		for _, opt := range o.Options {
			v, _ := strconv.Atoi(opt.Value)
			switch strings.ToLower(opt.Name) {
			case "blksize":
				blockSize = v
			case "windowsize":
				window = v
			}
		}
		c.ack(0)
		p = c.expect()
	}
	var data []byte
	var blocks []uint16
	want, inWindow := uint16(1), 0
	for {
		d, ok := p.(*Data)
		if !ok {
			c.t.Fatalf("got %#v, want DATA", p)
		}
		if d.Block == want {
			data = append(data, d.Payload...)
			blocks = append(blocks, d.Block)
			want++
			inWindow++
			if len(d.Payload) < blockSize {
				c.ack(d.Block)
				return data, blocks
			}
			if inWindow == window {
				c.ack(d.Block)
				inWindow = 0
			}
		} else {
			c.ack(want - 1)
			inWindow = 0
		}
		p = c.expect()
	}
}
