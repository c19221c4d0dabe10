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
// socket. Write requests are refused.
type Server struct {
	// Root is the directory served. Request names are resolved below it
	// (see the package's path rules); symbolic links inside it are
	// followed wherever they point.
	Root string

	// Allow lists the clients that may read files. If it is empty,
	// every client may.
	Allow []netip.Prefix

	// Logger receives one line per request. If nil, slog.Default is used.
	Logger *slog.Logger

	// Timeout is the retransmission timeout used unless the client
	// negotiates one. If zero, DefaultTimeout is used.
	Timeout time.Duration

	// Retries is how many timeouts in a row a transfer survives before
	// it is abandoned. If zero, DefaultRetries is used.
	Retries int
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

// Serve answers the requests that arrive on conn until ctx is done. Then
// it stops reading from conn, cancels the running transfers (their
// clients get an ERROR), waits for them to end and returns nil. The caller
// keeps ownership of conn; Serve leaves its read deadline in the past.
// Any other error reading conn is returned.
func (s *Server) Serve(ctx context.Context, conn net.PacketConn) error {
	var local netip.Addr
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok {
		local = a.AddrPort().Addr().Unmap()
	}
	stop := context.AfterFunc(ctx, func() {
		conn.SetReadDeadline(time.Unix(1, 0))
	})
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()

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
		s.handle(ctx, &wg, conn, local, unmapAddrPort(ua.AddrPort()), buf[:n])
	}
}

// handle deals with a packet that arrived on the listening socket.
// Requests that are refused before any file is touched (malformed ones,
// clients not allowed, writes) are answered from the listening socket
// itself; a read request gets a goroutine and a socket of its own.
func (s *Server) handle(ctx context.Context, wg *sync.WaitGroup, conn net.PacketConn, local netip.Addr, peer netip.AddrPort, b []byte) {
	start := time.Now()
	p, err := ParsePacket(b)
	if err != nil {
		s.refuse(conn, peer, &Request{}, start, ErrIllegalOp, "malformed request", err.Error())
		return
	}
	req, ok := p.(*Request)
	if !ok {
		// A late packet of a finished transfer, or noise. RFC 1350
		// expects requests only; staying silent avoids feeding loops.
		return
	}
	if !allowed(s.Allow, peer.Addr()) {
		s.refuse(conn, peer, req, start, ErrAccess, "access denied", "client not in allow list")
		return
	}
	if req.Op == OpWRQ {
		s.refuse(conn, peer, req, start, ErrAccess, "server is read-only", "write request refused")
		return
	}
	// A repeated request (the client resent it before our first reply
	// reached it) gets a transfer of its own, as RFC 1350 has it: the
	// client answers that transfer's first packet with ERROR 5, ending it.
	// Telling repeats from new requests for the same file from the same
	// port cannot be done reliably, so it is not attempted.
	wg.Go(func() { s.serveRead(ctx, local, peer, req) })
}

// refuse answers a request with an ERROR and logs it.
func (s *Server) refuse(conn net.PacketConn, peer netip.AddrPort, req *Request, start time.Time, code ErrorCode, msg, why string) {
	conn.WriteTo(encode(&Error{Code: code, Message: msg}), net.UDPAddrFromAddrPort(peer))
	s.logTransfer(peer, req, nil, start, slog.LevelWarn, "refused: "+why)
}

// serveRead serves one read request from a socket of its own and logs the
// outcome.
func (s *Server) serveRead(ctx context.Context, local netip.Addr, peer netip.AddrPort, req *Request) {
	start := time.Now()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: local.AsSlice()})
	if err != nil {
		s.logTransfer(peer, req, nil, start, slog.LevelError, "failed: "+err.Error())
		return
	}
	defer conn.Close()
	t := &transfer{conn: conn, peer: peer, retries: s.Retries}
	if t.retries <= 0 {
		t.retries = DefaultRetries
	}
	// On shutdown, tell the client and unblock the transfer.
	stop := context.AfterFunc(ctx, func() {
		t.sendError(ErrUndefined, "server shutting down")
		conn.Close()
	})
	defer stop()

	err = s.startRead(t, req)
	level, outcome := slog.LevelInfo, "ok"
	var r *refusal
	switch {
	case err == nil:
	case ctx.Err() != nil:
		level, outcome = slog.LevelWarn, "cancelled: server shutting down"
	case errors.As(err, &r):
		t.sendError(r.code, r.msg)
		level, outcome = slog.LevelWarn, "refused: "+r.why
	case err != nil:
		level, outcome = slog.LevelWarn, "failed: "+err.Error()
	}
	s.logTransfer(peer, req, t, start, level, outcome)
}

// startRead opens the requested file, negotiates options and runs t.
func (s *Server) startRead(t *transfer, req *Request) error {
	def := params{blockSize: DefaultBlockSize, windowSize: 1, timeout: s.Timeout}
	if def.timeout <= 0 {
		def.timeout = DefaultTimeout
	}
	netascii, err := parseMode(req.Mode)
	if err != nil {
		return err
	}
	f, size, err := openFile(s.Root, req.Filename)
	if err != nil {
		return err
	}
	defer f.Close()
	if netascii {
		size = -1 // unknown until converted
	}
	p, oack := negotiate(req.Options, def, size)
	t.p = p
	if netascii {
		t.src = newNetasciiReader(f, p.windowSize)
	} else {
		t.src = octetReader{f}
	}
	return t.run(oack)
}

// logTransfer writes the one log line of a request. t is nil for requests
// refused before a transfer started.
func (s *Server) logTransfer(peer netip.AddrPort, req *Request, t *transfer, start time.Time, level slog.Level, outcome string) {
	logger := s.Logger
	if logger == nil {
		logger = slog.Default()
	}
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
	logger.LogAttrs(context.Background(), level, "transfer", attrs...)
}
