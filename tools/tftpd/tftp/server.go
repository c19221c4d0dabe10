package tftp

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Defaults for the zero values of Server fields.
const (
	DefaultTimeout = time.Second
	DefaultRetries = 5
)

// A Server serves the files below Root to TFTP clients, read-only.
//
// Each read request is served by its own goroutine from its own UDP
// socket, up to MaxTransfers at a time and MaxPerClient per client. Write
// requests are refused.
type Server struct {
	// Root is the directory served. Request names are resolved below it
	// (see the package's path rules). Symbolic links are followed only if
	// their target, fully resolved, lies below Root or a Follow directory.
	Root string

	// Follow lists further directories that symbolic links below Root
	// may lead into, such as a Bazel output tree.
	Follow []string

	// Allow lists the clients that may use the server. If it is empty,
	// every client may. Packets from other clients are not answered.
	Allow []netip.Prefix

	// Logger receives one line per request, rate-limited per reason, and
	// a summary of the lines left out. If nil, slog.Default is used.
	Logger *slog.Logger

	// Timeout is the retransmission timeout used unless the client
	// negotiates one. If zero, DefaultTimeout is used.
	Timeout time.Duration

	// Retries is how many timeouts in a row a transfer survives before
	// it is abandoned. If zero, DefaultRetries is used.
	Retries int

	// MaxTransfers is how many transfers may run at once; requests
	// beyond it get an ERROR. If zero, DefaultMaxTransfers is used.
	MaxTransfers int

	// MaxPerClient is how many transfers one client (an IPv4 address,
	// or an IPv6 /64) may run at once. If zero, DefaultMaxPerClient is
	// used.
	MaxPerClient int

	// MaxTimeout is the largest timeout option accepted; larger ones are
	// declined. If zero, DefaultMaxTimeout is used.
	MaxTimeout time.Duration

	// slotsHook, if set, is called with the slots once Serve has made
	// them (for tests).
	slotsHook func(*slots)
}

// ListenAndServe listens on the UDP address addr and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	return s.Serve(ctx, conn)
}

// serving is the state of one call of Serve.
type serving struct {
	*Server
	ctx    context.Context
	conn   net.PacketConn
	local  netip.Addr
	logger *slog.Logger
	roots  *roots
	slots  *slots
	lim    *limiter
	wg     sync.WaitGroup
}

// Serve answers the requests that arrive on conn until ctx is done. Then
// it stops reading from conn, cancels the running transfers (their
// clients get an ERROR), waits for them to end and returns nil. The caller
// keeps ownership of conn; Serve leaves its read deadline in the past.
// It returns an error if Root or a Follow directory cannot be opened, or
// for any other error reading conn.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	v := &serving{Server: s, ctx: ctx, conn: conn, logger: s.Logger}
	if v.logger == nil {
		v.logger = slog.Default()
	}
	var err error
	if v.roots, err = openRoots(s.Root, s.Follow); err != nil {
		return err
	}
	defer v.roots.close()
	v.slots = newSlots(orDefault(s.MaxTransfers, DefaultMaxTransfers), orDefault(s.MaxPerClient, DefaultMaxPerClient))
	if s.slotsHook != nil {
		s.slotsHook(v.slots)
	}
	v.lim = newLimiter(logRate, logBurst)
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		v.local = a.AddrPort().Addr().Unmap()
	}
	stop := context.AfterFunc(ctx, func() {
		conn.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()

	// Summaries of suppressed log lines: every summaryInterval, and a
	// last one once all transfers have ended.
	done := make(chan struct{})
	var summaries sync.WaitGroup
	summaries.Go(func() {
		tick := time.NewTicker(summaryInterval)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				v.logSuppressed()
			case <-done:
				return
			}
		}
	})
	defer func() {
		v.wg.Wait()
		close(done)
		summaries.Wait()
		v.logSuppressed()
	}()

	buf := make([]byte, 65536)
	for {
		n, addr, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		ua, ok := addr.(*net.UDPAddr)
		if !ok {
			continue
		}
		v.handle(unmapAddrPort(ua.AddrPort()), buf[:n])
	}
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Log reasons of refusals made before a transfer starts.
const (
	reasonStranger  = "client not in allow list"
	reasonMalformed = "malformed request"
	reasonWrite     = "write request"
)

// handle deals with a packet that arrived on the listening socket.
// Packets from clients not allowed are dropped unread. Requests that are
// refused before any file is touched (malformed ones, writes, requests
// beyond the limits) are answered from the listening socket itself; a
// read request gets a goroutine and a socket of its own.
func (v *serving) handle(peer netip.AddrPort, b []byte) {
	start := time.Now()
	if !allowed(v.Allow, peer.Addr()) {
		// Not a word to strangers, whatever they sent: no reply to
		// reflect at a spoofed address, nothing to learn from, and
		// the log line is rate-limited.
		if v.lim.allow(reasonStranger, true) {
			v.logTransfer(peer, &Request{}, nil, start, slog.LevelWarn, "refused: "+reasonStranger)
		}
		return
	}
	p, err := ParsePacket(b)
	if err != nil {
		v.refuse(peer, &Request{}, start, reasonMalformed, &refusal{ErrIllegalOp, "malformed request", err.Error()})
		return
	}
	req, ok := p.(*Request)
	if !ok {
		// A late packet of a finished transfer, or noise. RFC 1350
		// expects requests only; staying silent avoids feeding loops.
		return
	}
	if req.Op == OpWRQ {
		v.refuse(peer, req, start, reasonWrite, &refusal{ErrAccess, "server is read-only", "write request refused"})
		return
	}
	key := clientKey(peer.Addr())
	if r := v.slots.acquire(key); r != nil {
		v.refuse(peer, req, start, r.msg, r)
		return
	}
	// A repeated request (the client resent it before our first reply
	// reached it) gets a transfer of its own, as RFC 1350 has it: the
	// client answers that transfer's first packet with ERROR 5, ending it.
	// Telling repeats from new requests for the same file from the same
	// port cannot be done reliably, so it is not attempted.
	v.wg.Go(func() {
		defer v.slots.release(key)
		v.serveRead(peer, req)
	})
}

// refuse answers a request with an ERROR from the listening socket and
// logs it, unless refusals of this reason are coming too fast: then it
// only counts it for the summary.
func (v *serving) refuse(peer netip.AddrPort, req *Request, start time.Time, reason string, r *refusal) {
	if !v.lim.allow(reason, true) {
		return
	}
	v.conn.WriteTo(encode(&Error{Code: r.code, Message: r.msg}), net.UDPAddrFromAddrPort(peer))
	v.logTransfer(peer, req, nil, start, slog.LevelWarn, "refused: "+r.why)
}

// serveRead serves one read request from a socket of its own and logs the
// outcome.
func (v *serving) serveRead(peer netip.AddrPort, req *Request) {
	start := time.Now()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: v.local.AsSlice()})
	if err != nil {
		if v.lim.allow("failed", false) {
			v.logTransfer(peer, req, nil, start, slog.LevelError, "failed: "+err.Error())
		}
		return
	}
	defer conn.Close()
	t := &transfer{conn: conn, peer: peer, allow: v.Allow, retries: orDefault(v.Retries, DefaultRetries)}
	// On shutdown, tell the client and unblock the transfer.
	stop := context.AfterFunc(v.ctx, func() {
		t.sendError(ErrUndefined, "server shutting down")
		conn.Close()
	})
	defer stop()

	err = v.startRead(t, req)
	level, outcome, reason := slog.LevelInfo, "ok", "ok"
	var r *refusal
	switch {
	case err == nil:
	case v.ctx.Err() != nil:
		level, outcome, reason = slog.LevelWarn, "cancelled: server shutting down", "cancelled"
	case errors.As(err, &r):
		t.sendError(r.code, r.msg)
		// r.msg, not r.why: reasons must not carry request data.
		level, outcome, reason = slog.LevelWarn, "refused: "+r.why, r.msg
	case err != nil:
		level, outcome, reason = slog.LevelWarn, "failed: "+err.Error(), "failed"
	}
	if v.lim.allow(reason, r != nil) {
		v.logTransfer(peer, req, t, start, level, outcome)
	}
}

// startRead opens the requested file, negotiates options and runs t.
func (v *serving) startRead(t *transfer, req *Request) error {
	def := params{blockSize: DefaultBlockSize, windowSize: 1, timeout: orDefault(v.Timeout, DefaultTimeout)}
	netascii, err := parseMode(req.Mode)
	if err != nil {
		return err
	}
	f, size, err := v.roots.open(req.Filename)
	if err != nil {
		return err
	}
	defer f.Close()
	if netascii {
		size = -1 // unknown until converted
	}
	p, oack := negotiate(req.Options, def, size, orDefault(v.MaxTimeout, DefaultMaxTimeout))
	t.p = p
	if netascii {
		t.src = newNetasciiReader(f, p.windowSize)
	} else {
		t.src = octetReader{f}
	}
	return t.run(oack)
}

// logSuppressed logs how many lines of each reason the limiter left out
// since the last summary.
func (v *serving) logSuppressed() {
	for _, s := range v.lim.takeSuppressed() {
		msg := "log lines suppressed"
		if s.refusal {
			msg = "refusals suppressed"
		}
		v.logger.LogAttrs(context.Background(), slog.LevelWarn, msg,
			slog.Int("count", s.count), slog.String("reason", s.reason))
	}
}

// logTransfer writes the one log line of a request. t is nil for requests
// refused before a transfer started.
func (v *serving) logTransfer(peer netip.AddrPort, req *Request, t *transfer, start time.Time, level slog.Level, outcome string) {
	op := "?"
	if req.Op != 0 {
		op = req.Op.String()
	}
	attrs := []slog.Attr{
		slog.String("client", peer.String()),
		slog.String("op", op),
		slog.String("file", req.Filename),
		slog.String("mode", req.Mode),
	}
	var n int64
	if t != nil && t.p.blockSize > 0 {
		n = t.bytes
		attrs = append(attrs,
			slog.Int("blksize", t.p.blockSize),
			slog.Int("windowsize", t.p.windowSize),
			slog.Int("retransmits", t.retransmits))
	}
	attrs = append(attrs,
		slog.Int64("bytes", n),
		slog.Duration("duration", time.Since(start).Round(time.Millisecond)),
		slog.String("outcome", outcome))
	v.logger.LogAttrs(context.Background(), level, "transfer", attrs...)
}
