package tftp

import (
	"bytes"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests drive the server with testClient, which controls each
// packet, to check protocol behaviour that real clients rarely show.

func TestGetDefaults(t *testing.T) {
	f := newFixture(t)
	for _, size := range []int{0, 1, 511, 512, 513, 1024, 5000} {
		f.add(t, fmt.Sprintf("f%d", size), randomBytes(size))
	}
	ts := startServer(t, &Server{Root: f.root})
	for _, size := range []int{0, 1, 511, 512, 513, 1024, 5000} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			c := newClient(t, ts.addr)
			got, blocks := c.get(fmt.Sprintf("f%d", size))
			if !bytes.Equal(got, randomBytes(size)) {
				t.Errorf("got %d bytes, want %d", len(got), size)
			}
			if want := size/512 + 1; len(blocks) != want {
				t.Errorf("got %d blocks, want %d", len(blocks), want)
			}
			ts.log.waitFor(t, fmt.Sprintf("file=f%d", size), fmt.Sprintf("bytes=%d", size), "outcome=ok")
		})
	}
}

func TestNoOACKForUnknownOptions(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", []byte("hello"))
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	c.request("a", Option{"utimeout", "5000"}, Option{"blksize", "4"}, Option{"windowsize", "0"})
	if d := c.expectData(1); string(d.Payload) != "hello" {
		t.Errorf("payload %q", d.Payload)
	}
	c.ack(1)
}

func TestOACK(t *testing.T) {
	f := newFixture(t)
	data := randomBytes(2500)
	f.add(t, "a", data)
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	c.request("a",
		Option{"TSIZE", "0"}, Option{"blksize", "1000"}, Option{"timeout", "7"},
		Option{"windowsize", "2"}, Option{"unknown", "1"})
	want := &OACK{Options: []Option{{"TSIZE", "2500"}, {"blksize", "1000"}, {"timeout", "7"}, {"windowsize", "2"}}}
	if diff := cmp.Diff(Packet(want), c.expect()); diff != "" {
		t.Fatalf("OACK mismatch (-want +got):\n%s", diff)
	}
	c.ack(0)
	c.expectData(1)
	c.expectData(2) // windowsize 2: no ACK needed in between
	c.ack(2)
	if d := c.expectData(3); len(d.Payload) != 500 {
		t.Errorf("last block has %d bytes, want 500", len(d.Payload))
	}
	c.ack(3)
	ts.log.waitFor(t, "blksize=1000", "windowsize=2", "bytes=2500", "outcome=ok")
}

func TestTsizeLargeBlock(t *testing.T) {
	f := newFixture(t)
	data := randomBytes(200000)
	f.add(t, "big", data)
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	got, _ := c.get("big", Option{"tsize", "0"}, Option{"blksize", "65464"})
	if !bytes.Equal(got, data) {
		t.Errorf("content differs")
	}
	ts.log.waitFor(t, "blksize=65464", "bytes=200000", "outcome=ok")
}

func TestOptionsRefusedByClient(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", []byte("x"))
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	c.request("a", Option{"blksize", "1000"})
	if _, ok := c.expect().(*OACK); !ok {
		t.Fatal("want OACK")
	}
	c.send(c.tid, &Error{Code: ErrOptionRefused, Message: "no thanks"})
	ts.log.waitFor(t, "outcome=", "client sent tftp error 8: no thanks")
	c.expectNothing(100 * time.Millisecond)
}

// TestRetransmitData drops an ACK; the server must resend the block after
// its timeout.
func TestRetransmitData(t *testing.T) {
	f := newFixture(t)
	data := randomBytes(1200)
	f.add(t, "a", data)
	ts := startServer(t, &Server{Root: f.root, Timeout: 200 * time.Millisecond})
	c := newClient(t, ts.addr)
	c.request("a")
	c.expectData(1)
	c.ack(1)
	first := c.expectData(2)
	// The ACK for block 2 is "lost": wait for the retransmission.
	start := time.Now()
	again := c.expectData(2)
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("block 2 resent after %v, well before the 200ms timeout", waited)
	}
	if !bytes.Equal(first.Payload, again.Payload) {
		t.Errorf("retransmitted payload differs")
	}
	c.ack(2)
	c.expectData(3)
	c.ack(3)
	ts.log.waitFor(t, "retransmits=1", "bytes=1200", "outcome=ok")
}

func TestRetransmitOACK(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", []byte("x"))
	ts := startServer(t, &Server{Root: f.root, Timeout: 100 * time.Millisecond})
	c := newClient(t, ts.addr)
	c.request("a", Option{"tsize", "0"})
	first := c.expect()
	if diff := cmp.Diff(first, c.expect()); diff != "" {
		t.Fatalf("retransmitted OACK differs:\n%s", diff)
	}
	c.ack(0)
	c.expectData(1)
	c.ack(1)
	ts.log.waitFor(t, "retransmits=1", "outcome=ok")
}

// TestGiveUp checks that a silent client is abandoned after the retries.
func TestGiveUp(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", []byte("x"))
	ts := startServer(t, &Server{Root: f.root, Timeout: 50 * time.Millisecond, Retries: 2})
	c := newClient(t, ts.addr)
	c.request("a")
	for range 3 { // the first send and two retries
		c.expectData(1)
	}
	c.expectNothing(300 * time.Millisecond)
	ts.log.waitFor(t, "outcome=\"failed: timed out waiting for the client\"")
}

// TestDuplicateACK is the Sorcerer's Apprentice scenario: a block is
// resent after a timeout, the client acknowledges both copies, and the
// server must send the next block only once.
func TestDuplicateACK(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(1500))
	const timeout = 600 * time.Millisecond
	ts := startServer(t, &Server{Root: f.root, Timeout: timeout})
	c := newClient(t, ts.addr)
	c.request("a")
	c.expectData(1)
	c.expectData(1) // resent after the timeout
	c.ack(1)
	c.ack(1)
	c.expectData(2)
	c.expectNothing(timeout / 2) // a second copy of block 2 would be here
	c.ack(2)
	c.ack(2)
	c.ack(1) // stale
	c.expectData(3)
	c.expectNothing(timeout / 2)
	c.ack(3)
	ts.log.waitFor(t, "retransmits=1", "bytes=1500", "outcome=ok")
}

// TestDuplicateACKWindow checks the same with a window: a repeated ACK for
// the end of a window must not send the next window again.
func TestDuplicateACKWindow(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(8*10))
	const timeout = 600 * time.Millisecond
	ts := startServer(t, &Server{Root: f.root, Timeout: timeout})
	c := newClient(t, ts.addr)
	c.request("a", Option{"blksize", "8"}, Option{"windowsize", "4"})
	c.expect() // OACK
	c.ack(0)
	for n := uint16(1); n <= 4; n++ {
		c.expectData(n)
	}
	c.ack(4)
	c.ack(4)
	for n := uint16(5); n <= 8; n++ {
		c.expectData(n)
	}
	c.expectNothing(timeout / 2)
	c.ack(8)
	c.expectData(9)
	c.expectData(10)
	c.expectData(11) // empty: 80 bytes is exactly 10 blocks
	c.ack(11)
	ts.log.waitFor(t, "bytes=80", "retransmits=0", "outcome=ok")
}

// TestWindowRestart acknowledges a block in the middle of a window, as a
// client does when the block after it was lost: the next window must
// start right after the acknowledged block.
func TestWindowRestart(t *testing.T) {
	f := newFixture(t)
	data := randomBytes(100) // 12 blocks of 8 and one of 4
	f.add(t, "a", data)
	ts := startServer(t, &Server{Root: f.root, Timeout: 2 * time.Second})
	c := newClient(t, ts.addr)
	c.request("a", Option{"blksize", "8"}, Option{"windowsize", "4"})
	c.expect() // OACK
	c.ack(0)
	for n := uint16(1); n <= 4; n++ {
		c.expectData(n)
	}
	c.ack(2) // "block 3 was lost"
	var got []byte
	got = append(got, data[:16]...)
	for n := uint16(3); n <= 6; n++ {
		got = append(got, c.expectData(n).Payload...)
	}
	c.ack(6)
	for n := uint16(7); n <= 10; n++ {
		got = append(got, c.expectData(n).Payload...)
	}
	c.ack(10)
	for n := uint16(11); n <= 13; n++ {
		got = append(got, c.expectData(n).Payload...)
	}
	c.ack(13)
	if !bytes.Equal(got, data) {
		t.Errorf("reassembled data differs")
	}
	ts.log.waitFor(t, "bytes=100", "retransmits=2", "outcome=ok")
}

// TestWrongTID sends packets to the transfer socket from another port:
// they get ERROR 5 and the transfer goes on.
func TestWrongTID(t *testing.T) {
	f := newFixture(t)
	data := randomBytes(1000)
	f.add(t, "a", data)
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	intruder := newClient(t, ts.addr)
	c.request("a")
	c.expectData(1)

	intruder.send(c.tid, &Ack{Block: 1})
	p, from, ok := intruder.recv(replyTimeout)
	if !ok {
		t.Fatal("no reply to a packet from a wrong TID")
	}
	if diff := cmp.Diff(Packet(&Error{Code: ErrUnknownTID, Message: "unknown transfer ID"}), p); diff != "" || from != c.tid {
		t.Fatalf("reply from %v (transfer %v) mismatch (-want +got):\n%s", from, c.tid, diff)
	}
	// An ERROR from a wrong TID is not answered, and does not abort.
	intruder.send(c.tid, &Error{Code: ErrUndefined, Message: "go away"})
	intruder.expectNothing(100 * time.Millisecond)
	c.expectNothing(100 * time.Millisecond) // the intruder's ACK did not advance the transfer

	c.ack(1)
	d := c.expectData(2)
	c.ack(2)
	if got := len(d.Payload); got != 1000-512 {
		t.Errorf("block 2 has %d bytes", got)
	}
	ts.log.waitFor(t, "bytes=1000", "outcome=ok")
}

// TestRollover transfers more than 65535 blocks: numbers wrap to 0.
func TestRollover(t *testing.T) {
	f := newFixture(t)
	const blocks = 65536 + 1 // 65536 full blocks and one short one
	data := randomBytes(8*(blocks-1) + 3)
	f.add(t, "big", data)
	ts := startServer(t, &Server{Root: f.root})
	for _, window := range []int{1, 64} {
		t.Run("window"+strconv.Itoa(window), func(t *testing.T) {
			c := newClient(t, ts.addr)
			got, nums := c.get("big", Option{"blksize", "8"}, Option{"windowsize", strconv.Itoa(window)})
			if !bytes.Equal(got, data) {
				t.Fatalf("got %d bytes, want %d, or contents differ", len(got), len(data))
			}
			if len(nums) != blocks {
				t.Fatalf("got %d blocks, want %d", len(nums), blocks)
			}
			if diff := cmp.Diff([]uint16{65534, 65535, 0, 1}, nums[65533:]); diff != "" {
				t.Errorf("block numbers around the wrap (-want +got):\n%s", diff)
			}
			ts.log.waitFor(t, fmt.Sprintf("windowsize=%d", window), fmt.Sprintf("bytes=%d", len(data)), "outcome=ok")
		})
	}
}

func TestNetascii(t *testing.T) {
	f := newFixture(t)
	f.add(t, "t.txt", []byte("one\ntwo\r\nthree"))
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	c.send(ts.addr, &Request{Op: OpRRQ, Filename: "t.txt", Mode: "NETASCII", Options: []Option{{"tsize", "0"}}})
	d := c.expectData(1) // tsize is not acknowledged for netascii: no OACK
	c.ack(1)
	if got, want := string(d.Payload), "one\r\ntwo\r\x00\r\nthree"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	ts.log.waitFor(t, "mode=NETASCII", "outcome=ok")
}

func TestRefusals(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", []byte("x"))
	ts := startServer(t, &Server{Root: f.root})
	tests := []struct {
		name    string
		packet  string
		code    ErrorCode
		message string
		fromTID bool // whether the ERROR comes from a transfer socket
		log     string
	}{
		{"missing file", "\x00\x01nope\x00octet\x00", ErrNotFound, "file not found", true, "refused: file not found"},
		{"directory", "\x00\x01sub\x00octet\x00", ErrAccess, "not a regular file", true, "refused: not a regular file"},
		{"root", "\x00\x01.\x00octet\x00", ErrAccess, "not a regular file", true, "refused: not a regular file"},
		{"mail mode", "\x00\x01a\x00mail\x00", ErrIllegalOp, "unsupported transfer mode", true, "refused: unsupported mode"},
		{"write", "\x00\x02a\x00octet\x00", ErrAccess, "server is read-only", false, "refused: write request refused"},
		{"malformed", "\x00\x01a\x00", ErrIllegalOp, "malformed request", false, "refused: tftp: malformed packet: request without mode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, ts.addr)
			c.sendRaw(ts.addr, []byte(tt.packet))
			p, from, ok := c.recv(replyTimeout)
			if !ok {
				t.Fatal("no reply")
			}
			if diff := cmp.Diff(Packet(&Error{Code: tt.code, Message: tt.message}), p); diff != "" {
				t.Errorf("reply mismatch (-want +got):\n%s", diff)
			}
			if got := from != ts.addr; got != tt.fromTID {
				t.Errorf("ERROR came from %v (server %v)", from, ts.addr)
			}
			ts.log.waitFor(t, "client="+c.conn.LocalAddr().String(), tt.log)
		})
	}
	// Stray non-request packets on the server port get no answer.
	c := newClient(t, ts.addr)
	c.send(ts.addr, &Ack{Block: 1})
	c.send(ts.addr, &Data{Block: 1})
	c.expectNothing(100 * time.Millisecond)
}

func TestAllowList(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", []byte("x"))
	denied := startServer(t, &Server{Root: f.root, Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	c := newClient(t, denied.addr)
	c.request("a")
	c.expectNothing(300 * time.Millisecond) // strangers get no answer
	denied.log.waitFor(t, "level=WARN", "client="+c.conn.LocalAddr().String(), "refused: client not in allow list")

	allowed := startServer(t, &Server{Root: f.root, Allow: []netip.Prefix{
		netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("127.0.0.1/32")}})
	c = newClient(t, allowed.addr)
	if got, _ := c.get("a"); string(got) != "x" {
		t.Errorf("allowed client got %q", got)
	}
}

// TestTraversal checks that no request name reaches the file outside the
// root, nor does a symlink inside the root that points there (see
// TestSymlinks for those).
func TestTraversal(t *testing.T) {
	f := newFixture(t)
	ts := startServer(t, &Server{Root: f.root})
	names := []string{
		"../outside/secret.txt",
		"/../outside/secret.txt",
		"sub/../../outside/secret.txt",
		"a/../../outside/secret.txt",
		f.secret, // absolute: taken relative to root, so not found
		"..\\outside\\secret.txt",
		"%2e%2e/outside/secret.txt",
		"",
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, ts.addr)
			c.request(name)
			e := c.expectError()
			if e.Code != ErrAccess && e.Code != ErrNotFound {
				t.Errorf("got %v, want access violation or not found", e)
			}
		})
	}
	// A NUL cannot be inside a name on the wire: it ends the name, and
	// the rest is taken as the mode.
	c := newClient(t, ts.addr)
	c.sendRaw(ts.addr, []byte("\x00\x01../outside/secret.txt\x00x\x00octet\x00"))
	c.expectError()
	if strings.Contains(ts.log.String(), "outcome=ok") {
		t.Fatalf("a traversal request succeeded:\n%s", ts.log)
	}

	c = newClient(t, ts.addr)
	c.request("link.txt")
	if e := c.expectError(); e.Code != ErrAccess {
		t.Errorf("symlink out of the root: got %v, want access violation", e)
	}
}

// TestDuplicateRequest: a client that repeats its RRQ before the first
// reply arrives gets two transfers; it answers the second one with ERROR 5
// (RFC 1350), which ends that one, and the first one completes.
func TestDuplicateRequest(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(1000))
	ts := startServer(t, &Server{Root: f.root, Timeout: time.Second})
	c := newClient(t, ts.addr)
	c.request("a")
	c.request("a")
	c.expectData(1) // remembers the first sender as the TID
	p, other, ok := c.recv(replyTimeout)
	if d, isData := p.(*Data); !ok || !isData || d.Block != 1 || other == c.tid {
		t.Fatalf("got %#v from %v, want DATA 1 from a second transfer", p, other)
	}
	c.send(other, &Error{Code: ErrUnknownTID, Message: "unknown transfer ID"})
	c.ack(1)
	c.expectData(2)
	c.ack(2)
	ts.log.waitFor(t, "outcome=\"failed: client sent tftp error 5: unknown transfer ID\"")
	ts.log.waitFor(t, "bytes=1000", "outcome=ok")
}

// TestSamePortSequential fetches files one after the other from the same
// client port, as tftp-hpa does for "get a b c": none is mistaken for a
// repeated request.
func TestSamePortSequential(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(3000))
	f.add(t, "b", []byte("b"))
	ts := startServer(t, &Server{Root: f.root, Timeout: 5 * time.Second})
	c := newClient(t, ts.addr)
	start := time.Now()
	for _, name := range []string{"a", "b", "a", "b", "b"} {
		if got, _ := c.get(name); len(got) == 0 {
			t.Fatalf("%s: empty", name)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v; a request was probably dropped as a repeat", d)
	}
}

func TestConcurrentTransfers(t *testing.T) {
	f := newFixture(t)
	const n = 8
	for i := range n {
		f.add(t, fmt.Sprintf("f%d", i), randomBytes(20000+i))
	}
	ts := startServer(t, &Server{Root: f.root})
	t.Run("group", func(t *testing.T) {
		for i := range n {
			t.Run(strconv.Itoa(i), func(t *testing.T) {
				t.Parallel()
				c := newClient(t, ts.addr)
				got, _ := c.get(fmt.Sprintf("f%d", i), Option{"blksize", "1024"})
				if !bytes.Equal(got, randomBytes(20000+i)) {
					t.Errorf("f%d: contents differ", i)
				}
			})
		}
	})
	for i := range n {
		ts.log.waitFor(t, fmt.Sprintf("file=f%d ", i), fmt.Sprintf("bytes=%d ", 20000+i), "outcome=ok")
	}
}

// TestShutdown cancels the server during a transfer: the client is told,
// and Serve returns nil.
func TestShutdown(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(5000))
	ts := startServer(t, &Server{Root: f.root, Timeout: 10 * time.Second})
	c := newClient(t, ts.addr)
	c.request("a")
	c.expectData(1)
	ts.stop()
	if e := c.expectError(); e.Message != "server shutting down" {
		t.Errorf("got %v", e)
	}
	select {
	case err := <-ts.served:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
		ts.served <- nil // for the cleanup
	case <-time.After(replyTimeout):
		t.Fatal("Serve did not return")
	}
	ts.log.waitFor(t, "outcome=\"cancelled: server shutting down\"")
}
