package nft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The netlink transport: a socket, one batch per transaction, a few
// dumps. Netlink headers (of messages and attributes) are in host order;
// the nf_tables attributes' numbers are big-endian.

// attrs builds netlink attributes. Its methods are not inlined: inlined,
// each call costs the device's binary half a kilobyte.
type attrs []byte

//go:noinline
func (a *attrs) add(typ uint16, data []byte) {
	*a = binary.NativeEndian.AppendUint16(*a, uint16(4+len(data)))
	*a = binary.NativeEndian.AppendUint16(*a, typ)
	*a = append(*a, data...)
	for len(*a)%4 != 0 {
		*a = append(*a, 0)
	}
}

//go:noinline
func (a *attrs) str(typ uint16, s string) { a.add(typ, append([]byte(s), 0)) }

//go:noinline
func (a *attrs) u32(typ uint16, v uint32) { a.add(typ, binary.BigEndian.AppendUint32(nil, v)) }

//go:noinline
func (a *attrs) u64(typ uint16, v uint64) { a.add(typ, binary.BigEndian.AppendUint64(nil, v)) }

//go:noinline
func (a *attrs) nest(typ uint16, inner attrs) { a.add(typ|unix.NLA_F_NESTED, inner) }

// attr is a parsed attribute, its type without the nested and byte-order
// flags.
type attr struct {
	typ  uint16
	data []byte
}

func parseAttrs(b []byte) ([]attr, error) {
	var as []attr
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, errors.New("truncated netlink attribute")
		}
		n := int(binary.NativeEndian.Uint16(b))
		if n < 4 || n > len(b) {
			return nil, errors.New("bad netlink attribute length")
		}
		as = append(as, attr{binary.NativeEndian.Uint16(b[2:]) &^ (unix.NLA_F_NESTED | unix.NLA_F_NET_BYTEORDER), b[4:n]})
		n = (n + 3) &^ 3
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return as, nil
}

// get returns the data of the first attribute of the type, or nil.
func get(as []attr, typ uint16) []byte {
	for _, a := range as {
		if a.typ == typ {
			return a.data
		}
	}
	return nil
}

func getStr(as []attr, typ uint16) string {
	s, _, _ := strings.Cut(string(get(as, typ)), "\x00")
	return s
}

func getU32(as []attr, typ uint16) (uint32, bool) {
	b := get(as, typ)
	if len(b) != 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(b), true
}

// nested parses the attributes nested in the attribute of the type.
func nested(as []attr, typ uint16) []attr {
	inner, _ := parseAttrs(get(as, typ))
	return inner
}

// A message is an nf_tables request: NFT_MSG_*, its flags beyond
// NLM_F_REQUEST, and what it is about, for errors.
type message struct {
	typ   uint16
	flags uint16
	attrs attrs
	what  string
}

// header appends a netlink header and nfgenmsg for a message of
// payloadLen bytes of attributes.
func header(b []byte, typ, flags uint16, seq uint32, family uint8, resID uint16, payloadLen int) []byte {
	b = binary.NativeEndian.AppendUint32(b, uint32(unix.NLMSG_HDRLEN+4+payloadLen))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, flags|unix.NLM_F_REQUEST)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	return append(b, family, unix.NFNETLINK_V0, byte(resID>>8), byte(resID))
}

func (m message) append(b []byte, seq uint32) []byte {
	b = header(b, unix.NFNL_SUBSYS_NFTABLES<<8|m.typ, m.flags, seq, unix.NFPROTO_INET, 0, len(m.attrs))
	return append(b, m.attrs...)
}

// batch returns the messages as one nfnetlink batch, one transaction,
// their sequence numbers from seq+1 on.
func batch(msgs []message, seq uint32) []byte {
	b := header(nil, unix.NFNL_MSG_BATCH_BEGIN, 0, seq, unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES, 0)
	for i, m := range msgs {
		b = m.append(b, seq+1+uint32(i))
	}
	return header(b, unix.NFNL_MSG_BATCH_END, 0, seq+1+uint32(len(msgs)), unix.AF_UNSPEC, unix.NFNL_SUBSYS_NFTABLES, 0)
}

// A reply is a netlink message from the kernel.
type reply struct {
	typ   uint16
	flags uint16
	seq   uint32
	data  []byte // after the netlink header
}

func parseReplies(b []byte) ([]reply, error) {
	var rs []reply
	for len(b) >= unix.NLMSG_HDRLEN {
		n := int(binary.NativeEndian.Uint32(b))
		if n < unix.NLMSG_HDRLEN || n > len(b) {
			return nil, errors.New("bad netlink message length")
		}
		rs = append(rs, reply{
			typ:   binary.NativeEndian.Uint16(b[4:]),
			flags: binary.NativeEndian.Uint16(b[6:]),
			seq:   binary.NativeEndian.Uint32(b[8:]),
			data:  b[unix.NLMSG_HDRLEN:n],
		})
		n = (n + 3) &^ 3
		if n > len(b) {
			n = len(b)
		}
		b = b[n:]
	}
	return rs, nil
}

// errno is the error of an NLMSG_ERROR (nil: an acknowledgement).
func (r reply) errno() error {
	if len(r.data) < 4 {
		return errors.New("truncated netlink error")
	}
	if e := int32(binary.NativeEndian.Uint32(r.data)); e < 0 {
		return unix.Errno(-e)
	}
	return nil
}

// attrs returns the nf_tables attributes of a reply, after its nfgenmsg.
func (r reply) attrs() ([]attr, error) {
	if len(r.data) < 4 {
		return nil, errors.New("truncated nf_tables message")
	}
	return parseAttrs(r.data[4:])
}

// A conn is a netlink socket of the netfilter family.
type conn struct {
	fd  int
	seq uint32
	buf []byte
}

func dial() (*conn, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, sysError("socket", err)
	}
	c := &conn{fd: fd, seq: uint32(time.Now().Unix()), buf: make([]byte, 1<<16)}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		c.close()
		return nil, sysError("bind", err)
	}
	// Never wait forever for the kernel.
	tv := unix.NsecToTimeval((10 * time.Second).Nanoseconds())
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	return c, nil
}

func sysError(call string, err error) error { return fmt.Errorf("netlink %s: %w", call, err) }

func (c *conn) close() { unix.Close(c.fd) }

// send sends to the kernel (port 0, the socket's default destination).
func (c *conn) send(b []byte) error {
	if _, err := unix.Write(c.fd, b); err != nil {
		return sysError("send", err)
	}
	return nil
}

func (c *conn) receive() ([]reply, error) {
	n, _, flags, _, err := unix.Recvmsg(c.fd, c.buf, nil, 0)
	if err != nil {
		return nil, sysError("receive", err)
	}
	if flags&unix.MSG_TRUNC != 0 {
		return nil, errors.New("netlink receive: message truncated")
	}
	// The replies outlive the buffer's next use.
	return parseReplies(append([]byte(nil), c.buf[:n]...))
}

// transact sends the messages as one batch: the kernel applies all of
// them or none. Every message is acknowledged; the error is that of the
// first message that failed, naming what it was about.
func (c *conn) transact(msgs []message) error {
	for i := range msgs {
		msgs[i].flags |= unix.NLM_F_ACK
	}
	begin := c.seq
	c.seq += uint32(len(msgs)) + 2
	if err := c.send(batch(msgs, begin)); err != nil {
		return err
	}
	var first error
	for acked := 0; acked < len(msgs); {
		rs, err := c.receive()
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.typ != unix.NLMSG_ERROR {
				continue
			}
			i := int(r.seq - begin - 1)
			if i < 0 || i >= len(msgs) {
				// About the batch itself (no permission, no nf_tables).
				if err := r.errno(); err != nil {
					return err
				}
				continue
			}
			acked++
			if err := r.errno(); err != nil && first == nil {
				first = fmt.Errorf("%s: %w", msgs[i].what, err)
			}
		}
	}
	return first
}

// errInterrupted is a dump that changed while it was read.
var errInterrupted = errors.New("dump interrupted by a change")

// request sends a get request, a dump or not, and returns the replies.
func (c *conn) request(m message, dump bool) ([]reply, error) {
	// A dump ends with NLMSG_DONE, anything else with its acknowledgement.
	if dump {
		m.flags |= unix.NLM_F_DUMP
	} else {
		m.flags |= unix.NLM_F_ACK
	}
	c.seq++
	seq := c.seq
	if err := c.send(m.append(nil, seq)); err != nil {
		return nil, err
	}
	var out []reply
	for {
		rs, err := c.receive()
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			if r.seq != seq {
				continue
			}
			switch {
			case r.typ == unix.NLMSG_ERROR:
				if err := r.errno(); err != nil {
					return nil, err
				}
				return out, nil
			case r.typ == unix.NLMSG_DONE:
				if r.flags&unix.NLM_F_DUMP_INTR != 0 {
					return nil, errInterrupted
				}
				if len(r.data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(r.data)); e < 0 {
						return nil, unix.Errno(-e)
					}
				}
				return out, nil
			}
			if r.flags&unix.NLM_F_DUMP_INTR != 0 {
				return nil, errInterrupted
			}
			out = append(out, r)
		}
	}
}

// marshalExprs returns the attribute list of a rule's expressions.
func marshalExprs(x []expr) attrs {
	var list attrs
	for _, e := range x {
		list.nest(unix.NFTA_LIST_ELEM, marshalExpr(e))
	}
	return list
}

// unmarshalExprs parses a rule's expressions. An expression the decoder
// does not know is an error naming it.
func unmarshalExprs(list []byte) ([]expr, error) {
	elems, err := parseAttrs(list)
	if err != nil {
		return nil, err
	}
	var x []expr
	for _, el := range elems {
		e, err := unmarshalExpr(el.data)
		if err != nil {
			return nil, err
		}
		x = append(x, e)
	}
	return x, nil
}
