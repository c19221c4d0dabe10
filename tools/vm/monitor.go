package vm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

const prompt = "(qemu) "

// Monitor is a connection to QEMU's human monitor (HMP). QEMU serves one
// monitor connection at a time.
type Monitor struct {
	conn net.Conn
	r    *bufio.Reader
	// Timeout bounds each command; default 30 s.
	Timeout time.Duration
}

// DialMonitor connects to the monitor socket at path and reads its banner.
func DialMonitor(path string) (*Monitor, error) {
	c, err := DialUnix(path)
	if err != nil {
		return nil, err
	}
	return newMonitor(c)
}

func newMonitor(c net.Conn) (*Monitor, error) {
	m := &Monitor{conn: c, r: bufio.NewReader(c), Timeout: 30 * time.Second}
	c.SetReadDeadline(time.Now().Add(m.Timeout))
	if _, err := m.readPrompt(); err != nil {
		c.Close()
		return nil, fmt.Errorf("monitor: %w", err)
	}
	return m, nil
}

// readPrompt reads up to and including the next prompt.
func (m *Monitor) readPrompt() (string, error) {
	var b strings.Builder
	for !strings.HasSuffix(b.String(), prompt) {
		c, err := m.r.ReadByte()
		if err != nil {
			return b.String(), err
		}
		b.WriteByte(c)
	}
	return strings.TrimSuffix(b.String(), prompt), nil
}

// Run runs an HMP command, such as "info status", and returns its output
// with "\n" line ends. "quit" returns once QEMU has closed the connection.
func (m *Monitor) Run(cmd string) (string, error) {
	m.conn.SetDeadline(time.Now().Add(m.Timeout))
	if _, err := io.WriteString(m.conn, cmd+"\n"); err != nil {
		return "", fmt.Errorf("monitor: %s: %w", cmd, err)
	}
	out, err := m.readPrompt()
	// The monitor echoes the command as a terminal line editor would, with
	// escape sequences; the output starts after the echo's line end.
	if _, after, ok := strings.Cut(out, "\r\n"); ok {
		out = after
	} else {
		out = ""
	}
	out = strings.ReplaceAll(out, "\r\n", "\n")
	if errors.Is(err, io.EOF) && (cmd == "quit" || cmd == "q") {
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("monitor: %s: %w", cmd, err)
	}
	return out, nil
}

// Close closes the connection; QEMU keeps running.
func (m *Monitor) Close() error { return m.conn.Close() }
