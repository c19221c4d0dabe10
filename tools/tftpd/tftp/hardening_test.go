package tftp

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// These tests cover the limits of the server (issue #16): caps on
// transfers, declined timeouts, buffers made only once the client answers,
// rate-limited refusals and logs, silence towards clients not allowed and
// the symlink rule. All traffic stays on the loopback network: Linux
// routes all of 127.0.0.0/8 there, so 127.0.0.2 and up stand for other
// hosts.

// newClientAt is newClient bound to another loopback address.
func newClientAt(t *testing.T, server netip.AddrPort, ip string) *testClient {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testClient{t: t, conn: conn, server: server, buf: make([]byte, 70000)}
}

// startCounted starts srv and returns it with its transfer slots, for
// counting the running transfers.
func startCounted(t *testing.T, srv *Server) (*testServer, *slots) {
	t.Helper()
	got := make(chan *slots, 1)
	srv.slotsHook = func(s *slots) { got <- s }
	ts := startServer(t, srv)
	select {
	case s := <-got:
		return ts, s
	case <-time.After(replyTimeout):
		t.Fatal("Serve did not start")
		return nil, nil
	}
}

// stopServer shuts ts down and waits for Serve, which logs the last
// summary of suppressed lines before it returns.
func stopServer(t *testing.T, ts *testServer) {
	t.Helper()
	ts.stop()
	select {
	case err := <-ts.served:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
		ts.served <- nil // for the cleanup
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
}

// countLines counts the log lines containing all of parts.
func countLines(log string, parts ...string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if containsAll(line, parts) {
			n++
		}
	}
	return n
}

// suppressedCount returns the count of the summary line for reason, or -1.
func suppressedCount(log, msg, reason string) int {
	re := regexp.MustCompile(`msg="` + msg + `" count=(\d+) reason="` + regexp.QuoteMeta(reason) + `"`)
	m := re.FindStringSubmatch(log)
	if m == nil {
		return -1
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// getRetrying is get, repeating the request while the server answers
// that it is busy (as a slot is released just after the last ACK).
func (c *testClient) getRetrying(name string) []byte {
	c.t.Helper()
	deadline := time.Now().Add(replyTimeout)
	for {
		c.tid = netip.AddrPort{}
		c.request(name)
		p, from, ok := c.recv(replyTimeout)
		if !ok {
			c.t.Fatal("no reply")
		}
		if e, isErr := p.(*Error); isErr && from == c.server && time.Now().Before(deadline) {
			if e.Message != msgBusy && e.Message != msgClientBusy {
				c.t.Fatalf("got %v", e)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		d, isData := p.(*Data)
		if !isData || d.Block != 1 {
			c.t.Fatalf("got %#v, want DATA 1", p)
		}
		c.tid = from
		data := append([]byte(nil), d.Payload...) // d.Payload is in c.buf
		for n := uint16(1); len(d.Payload) == DefaultBlockSize; n++ {
			c.ack(n)
			d = c.expectData(n + 1)
			data = append(data, d.Payload...)
		}
		c.ack(d.Block)
		return data
	}
}

// TestFlood floods the server with read requests from four "hosts" that
// never acknowledge anything, each asking for 64 KiB blocks, while a
// fifth host downloads a file again and again. The transfers running and
// the file descriptors open stay within the limits, the flooding hosts
// are refused with ERRORs (rate-limited), and the downloads succeed.
func TestFlood(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Fatalf("the flood test counts descriptors in /proc/self/fd: %v (mount /proc)", err)
	}
	f := newFixture(t)
	data := randomBytes(100_000)
	f.add(t, "big", data)
	const maxTransfers, maxPerClient, hosts, requests = 16, 3, 4, 400
	ts, sl := startCounted(t, &Server{
		Root: f.root, MaxTransfers: maxTransfers, MaxPerClient: maxPerClient,
		Timeout: 300 * time.Millisecond, Retries: 2,
	})
	var flooders []*testClient
	for h := range hosts {
		for range 2 {
			flooders = append(flooders, newClientAt(t, ts.addr, fmt.Sprintf("127.0.0.%d", 2+h)))
		}
	}
	legit := newClient(t, ts.addr)
	rrq, err := (&Request{Op: OpRRQ, Filename: "big", Mode: "octet",
		Options: []Option{{"blksize", "65464"}, {"timeout", "1"}}}).AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}

	baseFDs := countFDs(t)
	var maxFDs, maxRunning int
	stopSampling := make(chan struct{})
	var sampling sync.WaitGroup
	sampling.Go(func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(2 * time.Millisecond):
			}
			maxFDs = max(maxFDs, countFDs(t))
			maxRunning = max(maxRunning, sl.running())
		}
	})
	var flood sync.WaitGroup
	flood.Go(func() {
		for i := range requests {
			flooders[i%len(flooders)].conn.WriteToUDPAddrPort(rrq, ts.addr)
			if i%8 == 7 {
				time.Sleep(time.Millisecond)
			}
		}
	})
	start := time.Now()
	for i := 0; i < 5 || time.Since(start) < 500*time.Millisecond; i++ {
		if got, _ := legit.get("big", Option{"blksize", "1468"}); !bytes.Equal(got, data) {
			t.Fatalf("download %d during the flood: got %d bytes, want %d", i, len(got), len(data))
		}
	}
	flood.Wait()
	time.Sleep(100 * time.Millisecond) // the transfers of the last requests
	close(stopSampling)
	sampling.Wait()

	t.Logf("running transfers: at most %d; open files: %d before, at most %d during the flood", maxRunning, baseFDs, maxFDs)
	// The downloading host may hold more than one slot for a moment, as
	// a slot is released just after the last ACK.
	if maxRunning > maxTransfers || maxRunning > (hosts+1)*maxPerClient {
		t.Errorf("%d transfers ran at once, want at most %d (%d per host)", maxRunning, maxTransfers, maxPerClient)
	}
	// Each transfer holds a socket and a file.
	if extra := maxFDs - baseFDs; extra > 2*maxTransfers+2 {
		t.Errorf("%d more files open during the flood, want at most %d", extra, 2*maxTransfers+2)
	}
	refused := 0
	for _, c := range flooders {
		for {
			p, from, ok := c.recv(10 * time.Millisecond)
			if !ok {
				break
			}
			if e, isErr := p.(*Error); isErr && from == ts.addr {
				if e.Code != ErrUndefined || e.Message != msgClientBusy {
					t.Errorf("refusal %v, want ERROR 0 %q", e, msgClientBusy)
				}
				refused++
			}
		}
	}
	if refused == 0 || refused > logBurst+10 {
		t.Errorf("flooding hosts got %d refusals, want some, rate-limited to about %d", refused, logBurst)
	}
	ts.log.waitFor(t, "refused: client busy")
}

// TestNoBigBufferBeforeACK asks for 64 KiB blocks in many transfers that
// never get past the OACK: the blocks' buffers must not be made until the
// client confirms the OACK with ACK 0.
func TestNoBigBufferBeforeACK(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(100))
	const n = 40
	ts := startServer(t, &Server{Root: f.root, MaxTransfers: n, MaxPerClient: n, Timeout: 5 * time.Second})
	c := newClient(t, ts.addr)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for range n {
		c.request("a", Option{"blksize", "65464"})
	}
	for got := 0; got < n; {
		p, _, ok := c.recv(replyTimeout)
		if !ok {
			t.Fatalf("%d OACKs of %d", got, n)
		}
		if _, isOACK := p.(*OACK); !isOACK {
			t.Fatalf("got %#v, want OACK", p)
		}
		got++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap grew by %d bytes for %d transfers waiting for ACK 0", grown, n)
	if limit := int64(n * MaxBlockSize / 2); grown > limit {
		t.Errorf("heap grew by %d bytes for %d unconfirmed transfers, want less than %d", grown, n, limit)
	}
}

// TestPerClientLimit: a client's requests beyond MaxPerClient get ERROR 0
// from the server port, other clients are served, and the client is
// served again once one of its transfers ends.
func TestPerClientLimit(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(600))
	ts := startServer(t, &Server{Root: f.root, MaxPerClient: 2, Timeout: 5 * time.Second})
	c1, c2, c3 := newClient(t, ts.addr), newClient(t, ts.addr), newClient(t, ts.addr)
	c1.request("a")
	c1.expectData(1)
	c2.request("a")
	c2.expectData(1)
	c3.request("a")
	p, from, ok := c3.recv(replyTimeout)
	if diff := cmp.Diff(Packet(&Error{Code: ErrUndefined, Message: msgClientBusy}), p); !ok || diff != "" || from != ts.addr {
		t.Fatalf("third transfer of a client: got %#v from %v (server %v), want ERROR (-want +got):\n%s", p, from, ts.addr, diff)
	}
	ts.log.waitFor(t, "client="+c3.conn.LocalAddr().String(), "refused: client busy: 2 transfers running for this client (limit 2)")

	other := newClientAt(t, ts.addr, "127.0.0.2")
	other.request("a")
	other.expectData(1)

	c1.ack(1)
	c1.expectData(2)
	c1.ack(2)
	if got := c3.getRetrying("a"); !bytes.Equal(got, randomBytes(600)) {
		t.Errorf("after a transfer ended: got %d bytes", len(got))
	}
}

// TestGlobalLimit: requests beyond MaxTransfers get ERROR 0, whoever
// sends them, until a transfer ends.
func TestGlobalLimit(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(600))
	ts := startServer(t, &Server{Root: f.root, MaxTransfers: 2, Timeout: 5 * time.Second})
	c1, c2 := newClient(t, ts.addr), newClientAt(t, ts.addr, "127.0.0.2")
	c1.request("a")
	c1.expectData(1)
	c2.request("a")
	c2.expectData(1)
	c3 := newClientAt(t, ts.addr, "127.0.0.3")
	c3.request("a")
	p, from, ok := c3.recv(replyTimeout)
	if diff := cmp.Diff(Packet(&Error{Code: ErrUndefined, Message: msgBusy}), p); !ok || diff != "" || from != ts.addr {
		t.Fatalf("third transfer: got %#v from %v (server %v), want ERROR (-want +got):\n%s", p, from, ts.addr, diff)
	}
	ts.log.waitFor(t, "client="+c3.conn.LocalAddr().String(), "refused: server busy: 2 transfers running (limit 2)")

	c2.ack(1)
	c2.expectData(2)
	c2.ack(2)
	if got := c3.getRetrying("a"); !bytes.Equal(got, randomBytes(600)) {
		t.Errorf("after a transfer ended: got %d bytes", len(got))
	}
}

// TestTimeoutDeclined: a timeout above MaxTimeout (here the default, 30 s)
// is declined, not lowered (RFC 2349 has the server echo the client's
// value or leave the option out), and the server keeps its own.
func TestTimeoutDeclined(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(700))
	ts := startServer(t, &Server{Root: f.root, Timeout: 200 * time.Millisecond})

	c := newClient(t, ts.addr)
	c.request("a", Option{"timeout", "255"}, Option{"tsize", "0"})
	if diff := cmp.Diff(Packet(&OACK{Options: []Option{{"tsize", "700"}}}), c.expect()); diff != "" {
		t.Fatalf("OACK mismatch (-want +got):\n%s", diff)
	}
	c.ack(0)
	c.expectData(1)
	start := time.Now()
	c.expectData(1) // resent after the server's 200ms, not 255 s
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("block resent after %v", waited)
	}
	c.ack(1)
	c.expectData(2)
	c.ack(2)

	// Alone, a declined timeout leaves nothing to acknowledge: no OACK.
	c = newClient(t, ts.addr)
	c.request("a", Option{"timeout", "31"})
	c.expectData(1)
	c.ack(1)
	c.expectData(2)
	c.ack(2)

	c = newClient(t, ts.addr)
	c.request("a", Option{"timeout", "30"})
	if diff := cmp.Diff(Packet(&OACK{Options: []Option{{"timeout", "30"}}}), c.expect()); diff != "" {
		t.Fatalf("OACK mismatch (-want +got):\n%s", diff)
	}
	c.send(c.tid, &Error{Code: ErrOptionRefused, Message: "enough"})
}

// TestStrangerGetsNoReply sends all kinds of packets from a host outside
// the allow list, to the server port and to a running transfer: none is
// answered, none is parsed for the log, the log lines are rate-limited
// and the transfer is not disturbed.
func TestStrangerGetsNoReply(t *testing.T) {
	f := newFixture(t)
	f.add(t, "a", randomBytes(1000))
	ts := startServer(t, &Server{Root: f.root, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Timeout: 5 * time.Second})
	stranger := newClientAt(t, ts.addr, "127.0.0.2")
	packets := []string{
		"\x00\x01a\x00",                 // request without mode
		"\x00\x01a\x00octet\x00blksize", // option without value
		"\xff\xff",
		"\x00",
		"",
		"\x00\x01a\x00mail\x00",
		"\x00\x01a\x00octet\x00",
		"\x00\x02a\x00octet\x00",
		"\x00\x04\x00\x01",
		"\x00\x05\x00\x00oops\x00",
	}
	const rounds = 10
	for range rounds {
		for _, p := range packets {
			stranger.sendRaw(ts.addr, []byte(p))
		}
	}
	stranger.expectNothing(300 * time.Millisecond)

	c := newClient(t, ts.addr)
	c.request("a")
	c.expectData(1)
	for _, p := range packets {
		stranger.sendRaw(c.tid, []byte(p))
	}
	stranger.expectNothing(300 * time.Millisecond)
	c.expectNothing(100 * time.Millisecond)
	c.ack(1)
	c.expectData(2)
	c.ack(2)
	ts.log.waitFor(t, "bytes=1000", "outcome=ok")

	stopServer(t, ts)
	log := ts.log.String()
	lines := countLines(log, "client=127.0.0.2:")
	if lines > logBurst {
		t.Errorf("%d log lines about the stranger, want at most %d", lines, logBurst)
	}
	if n := countLines(log, "client=127.0.0.2:", "outcome=\"refused: client not in allow list\"", `op=? file="" mode=""`); n != lines {
		t.Errorf("%d of %d lines about the stranger are not the plain refusal:\n%s", lines-n, lines, log)
	}
	if n := suppressedCount(log, "refusals suppressed", reasonStranger); n < 0 || lines+n > rounds*len(packets) {
		t.Errorf("summary count %d with %d lines, want some and at most %d in all:\n%s", n, lines, rounds*len(packets), log)
	}
}

// TestRefusalsRateLimited sends a burst of malformed requests from an
// allowed client: only about logBurst get an ERROR and a log line, and a
// summary counts the others.
func TestRefusalsRateLimited(t *testing.T) {
	f := newFixture(t)
	ts := startServer(t, &Server{Root: f.root})
	c := newClient(t, ts.addr)
	const n = 120
	for range n {
		c.sendRaw(ts.addr, []byte("\x00\x01a\x00"))
	}
	replies := 0
	for {
		if _, _, ok := c.recv(300 * time.Millisecond); !ok {
			break
		}
		replies++
	}
	stopServer(t, ts)
	log := ts.log.String()
	lines := countLines(log, "refused: tftp: malformed packet")
	suppressed := suppressedCount(log, "refusals suppressed", reasonMalformed)
	t.Logf("%d requests: %d replies, %d log lines, %d suppressed", n, replies, lines, suppressed)
	// The bucket refills at logRate per second while the test runs.
	if replies == 0 || replies > logBurst+5 || lines != replies {
		t.Errorf("%d replies and %d log lines for %d malformed requests, want the same number, at most about %d", replies, lines, n, logBurst)
	}
	if suppressed <= 0 || lines+suppressed > n {
		t.Errorf("summary: %d suppressed with %d logged, want the rest of %d:\n%s", suppressed, lines, n, log)
	}
}

// TestSymlinks checks the symlink rule: links are followed only to targets
// below the served directory or a Follow directory, however they get
// there. The served directory is given through a link itself, as
// bazel-bin/... is.
func TestSymlinks(t *testing.T) {
	f := newFixture(t) // root/link.txt -> outside/secret.txt
	base := filepath.Dir(f.root)
	f.add(t, "sub/file", []byte("inside"))
	follow := filepath.Join(base, "follow")
	if err := os.Mkdir(follow, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(follow, "fw.bin"), []byte("followed"))
	symlink := func(target, link string) {
		t.Helper()
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
	}
	symlink(f.secret, filepath.Join(follow, "escape"))
	for link, target := range map[string]string{
		"slash":       "/",
		"dirlink":     f.outside,
		"dotdot":      "../outside/secret.txt",
		"abs-inside":  filepath.Join(f.root, "sub", "file"),
		"rel-inside":  "sub/file",
		"to-follow":   filepath.Join(follow, "fw.bin"),
		"follow-dir":  follow,
		"chain":       filepath.Join(follow, "escape"),
		"to-root-dir": ".",
	} {
		symlink(target, filepath.Join(f.root, link))
	}
	served := filepath.Join(base, "served")
	symlink(f.root, served)

	ts := startServer(t, &Server{Root: served, Follow: []string{follow}})
	for name, want := range map[string]string{
		"sub/file":             "inside",
		"abs-inside":           "inside",
		"rel-inside":           "inside",
		"to-root-dir/sub/file": "inside",
		"to-follow":            "followed",
		"follow-dir/fw.bin":    "followed",
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, ts.addr)
			if got, _ := c.get(name); string(got) != want {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	for _, name := range []string{
		"slash/etc/passwd",
		"slash" + f.secret,
		"link.txt",
		"dirlink/secret.txt",
		"dotdot",
		"chain",
		"follow-dir/escape",
	} {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, ts.addr)
			c.request(name)
			if e := c.expectError(); e.Code != ErrAccess {
				t.Errorf("got %v, want access violation", e)
			}
			ts.log.waitFor(t, "file="+name, "refused: symbolic link leads outside the served and followed directories")
		})
	}
	if strings.Contains(ts.log.String(), "secret.txt mode=octet blksize") {
		t.Errorf("the secret was sent:\n%s", ts.log)
	}

	// Without Follow, the links into follow are refused too.
	strict := startServer(t, &Server{Root: served})
	c := newClient(t, strict.addr)
	c.request("to-follow")
	if e := c.expectError(); e.Code != ErrAccess {
		t.Errorf("without Follow: got %v, want access violation", e)
	}
}

// TestSymlinkSwapped replaces a link inside the root by one to a file
// outside between the resolution of the name and the opening of the file:
// the file opened must still be inside.
func TestSymlinkSwapped(t *testing.T) {
	f := newFixture(t)
	f.add(t, "inside", []byte("inside"))
	link := filepath.Join(f.root, "swap")
	if err := os.Symlink("inside", link); err != nil {
		t.Fatal(err)
	}
	r, err := openRoots(f.root, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()

	// Resolved, "swap" is root/inside; then it becomes a link to the
	// secret, absolute or relative, directly or through a directory.
	for _, target := range []string{f.secret, "../outside/secret.txt"} {
		t.Run(target, func(t *testing.T) {
			testHookResolved = func() {
				os.Remove(filepath.Join(f.root, "inside"))
				if err := os.Symlink(target, filepath.Join(f.root, "inside")); err != nil {
					t.Error(err)
				}
			}
			defer func() { testHookResolved = nil }()
			t.Cleanup(func() {
				os.Remove(filepath.Join(f.root, "inside"))
				f.add(t, "inside", []byte("inside"))
			})
			file, _, err := r.open("swap")
			if err == nil {
				defer file.Close()
				got := make([]byte, 100)
				n, _ := file.Read(got)
				t.Fatalf("opened a file with %q, want a refusal", got[:n])
			}
			t.Logf("refused: %v", err)
		})
	}
}
