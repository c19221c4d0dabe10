package tftp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"time"
)

// errTimeout ends a transfer whose client stopped answering.
var errTimeout = errors.New("timed out waiting for the client")

// A transfer sends one file to one client. It owns a UDP socket of its
// own: that socket's port is the server's transfer ID (TID, RFC 1350),
// which lets the client tell concurrent transfers apart.
type transfer struct {
	conn    *net.UDPConn
	peer    netip.AddrPort // the client's TID
	allow   []netip.Prefix // who else gets ERROR 5 (see Server.Allow)
	p       params
	retries int // consecutive timeouts tolerated
	src     blockReader

	// Statistics for the log line.
	bytes       int64 // payload bytes the client acknowledged
	retransmits int   // packets sent again after a timeout or loss

	out []byte // DATA packet being sent; made by sendFile
	in  []byte // receive buffer
}

// run sends the OACK, if any, and then the file.
func (t *transfer) run(oack []Option) error {
	// Clients send only ACKs and ERRORs here. A longer packet is
	// truncated, which leaves an ERROR readable and anything else invalid.
	t.in = make([]byte, 1500)
	if len(oack) > 0 {
		if err := t.sendOACK(oack); err != nil {
			return err
		}
	}
	return t.sendFile()
}

// sendOACK sends the option acknowledgment and waits for the client to
// confirm it with ACK 0 (RFC 2347).
func (t *transfer) sendOACK(opts []Option) error {
	pkt := encode(&OACK{Options: opts})
	for timeouts := 0; ; timeouts++ {
		if timeouts > t.retries {
			return errTimeout
		}
		if timeouts > 0 {
			t.retransmits++
		}
		if err := t.send(pkt); err != nil {
			return err
		}
		deadline := time.Now().Add(t.p.timeout)
		for {
			p, err := t.receive(deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				break
			}
			if err != nil {
				return err
			}
			switch p := p.(type) {
			case *Ack:
				if p.Block == 0 {
					return nil
				}
			case *Error:
				return fmt.Errorf("client sent %w", p)
			}
		}
	}
}

// sendFile sends the blocks, windowSize at a time (RFC 7440; a window of
// one is plain RFC 1350 lock-step), and returns once the last block is
// acknowledged.
//
// Block numbers are tracked as int64 and put on the wire modulo 2^16, so
// that files of more than 65535 blocks wrap from 65535 to 0.
//
// Only an ACK that acknowledges something new moves the transfer on. An
// ACK for the block already acknowledged is a duplicate, and answering it
// would send every following block twice (the Sorcerer's Apprentice bug of
// RFC 1350, fixed by RFC 1123 4.2.3.1), so it is dropped: only a timeout
// resends. An ACK for a block inside the window that is not its last one
// means the client lost the block after it, so the next window starts
// right after the acknowledged block.
func (t *transfer) sendFile() error {
	// Made only now: after an OACK the client has confirmed it with ACK 0,
	// so a request alone never costs a buffer of up to 64 KiB. Without an
	// OACK the block size is the default 512.
	t.out = make([]byte, 4+t.p.blockSize)
	var (
		acked    int64      // highest block acknowledged; 0 = none
		next     int64 = 1  // next block to send
		last     int64 = -1 // final (short) block, once read
		lastLen  int        // its length
		timeouts int
		highest  int64 // highest block ever sent, to count retransmits
	)
	bs := int64(t.p.blockSize)
	for {
		for next <= acked+int64(t.p.windowSize) && (last < 0 || next <= last) {
			n, err := t.sendBlock(next)
			if err != nil {
				return err
			}
			if next <= highest {
				t.retransmits++
			}
			highest = max(highest, next)
			if n < t.p.blockSize {
				last, lastLen = next, n
			}
			next++
		}

		deadline := time.Now().Add(t.p.timeout)
		progress := false
		for !progress {
			p, err := t.receive(deadline)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				timeouts++
				if timeouts > t.retries {
					return errTimeout
				}
				next = acked + 1 // resend the whole window
				break
			}
			if err != nil {
				return err
			}
			switch p := p.(type) {
			case *Ack:
				// Map the 16-bit number onto acked..acked+65535.
				blk := acked + int64(p.Block-uint16(acked))
				if blk == acked || blk >= next {
					continue // duplicate, stale or from the future
				}
				acked, timeouts, progress = blk, 0, true
				t.bytes = acked * bs
				if acked == last {
					t.bytes = (last-1)*bs + int64(lastLen)
					return nil
				}
				next = acked + 1
			case *Error:
				return fmt.Errorf("client sent %w", p)
			}
		}
	}
}

// sendBlock reads block n and sends it. It returns the payload length.
func (t *transfer) sendBlock(n int64) (int, error) {
	k, err := t.src.readBlock(n, t.out[4:])
	if err != nil {
		t.sendError(ErrUndefined, "error reading file")
		return 0, fmt.Errorf("reading block %d: %w", n, err)
	}
	binary.BigEndian.PutUint16(t.out[0:], uint16(OpDATA))
	binary.BigEndian.PutUint16(t.out[2:], uint16(n))
	return k, t.send(t.out[:4+k])
}

// receive returns the next well-formed packet from the client, or an
// error wrapping os.ErrDeadlineExceeded once deadline passes. Packets from
// any other address get ERROR 5 and are otherwise ignored (RFC 1350): a
// stray packet must not end the transfer, nor postpone the deadline.
// Clients not in the allow list get no answer at all.
func (t *transfer) receive(deadline time.Time) (Packet, error) {
	if err := t.conn.SetReadDeadline(deadline); err != nil {
		return nil, err
	}
	for {
		n, from, err := t.conn.ReadFromUDPAddrPort(t.in)
		if err != nil {
			return nil, err
		}
		b := t.in[:n]
		if unmapAddrPort(from) != t.peer {
			// Never answer an ERROR with an ERROR, lest two servers
			// bounce them between each other forever.
			if (n < 2 || Opcode(binary.BigEndian.Uint16(b)) != OpERROR) && allowed(t.allow, from.Addr()) {
				writeError(t.conn, from, ErrUnknownTID, "unknown transfer ID")
			}
			continue
		}
		p, err := ParsePacket(b)
		if err != nil {
			continue // garbage from the client; its retransmission will follow
		}
		return p, nil
	}
}

func (t *transfer) send(pkt []byte) error {
	_, err := t.conn.WriteToUDPAddrPort(pkt, t.peer)
	return err
}

func (t *transfer) sendError(code ErrorCode, msg string) {
	writeError(t.conn, t.peer, code, msg)
}

// writeError sends an ERROR packet, ignoring failures: it is the last word
// of a conversation, and there is nobody left to tell.
func writeError(conn *net.UDPConn, to netip.AddrPort, code ErrorCode, msg string) {
	conn.WriteToUDPAddrPort(encode(&Error{Code: code, Message: msg}), to)
}

// unmapAddrPort turns an IPv4-mapped IPv6 address, as a dual-stack socket
// reports IPv4 peers, into plain IPv4 so that addresses compare equal.
func unmapAddrPort(ap netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
}
