package vmtest

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Console reads a VM's serial console in the background and runs shell
// commands on it (the image's console shell).
type Console struct {
	t    testing.TB
	conn net.Conn
	mu   sync.Mutex
	buf  bytes.Buffer // everything read so far
	done chan struct{}
	seq  int
}

// NewConsole starts reading conn (a VM's console, see vm.VM.Console).
func NewConsole(t testing.TB, conn net.Conn) *Console {
	c := &Console{t: t, conn: conn, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		b := make([]byte, 4096)
		for {
			n, err := conn.Read(b)
			c.mu.Lock()
			c.buf.Write(b[:n])
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c
}

// Text returns everything the console printed so far.
func (c *Console) Text() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// Write sends raw input to the console.
func (c *Console) Write(b []byte) (int, error) { return c.conn.Write(b) }

// WaitFor waits until re matches the output after position from, and
// returns the match's groups and end.
func (c *Console) WaitFor(from int, re *regexp.Regexp, timeout time.Duration) ([]string, int, error) {
	deadline := time.Now().Add(timeout)
	for {
		s := c.Text()
		if from > len(s) {
			from = len(s)
		}
		if loc := re.FindStringSubmatchIndex(s[from:]); loc != nil {
			var groups []string
			for i := 0; i < len(loc); i += 2 {
				if loc[i] >= 0 {
					groups = append(groups, s[from+loc[i]:from+loc[i+1]])
				} else {
					groups = append(groups, "")
				}
			}
			return groups, from + loc[1], nil
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("timed out after %v waiting for %q; console output since:\n%s", timeout, re, Tail(s[from:], 3000))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Tail returns the last n bytes of s, marked as cut when it is.
func Tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Run runs a shell command on the console and returns its output and exit
// status. The markers are split in the command so that the terminal's echo
// of the command line never matches them.
func (c *Console) Run(cmd string) (string, int) {
	c.t.Helper()
	c.seq++
	tag := fmt.Sprintf("%d", c.seq)
	from := len(c.Text())
	// A command that ends in "&" is already terminated ("&;" is a syntax
	// error).
	sep := ";"
	if strings.HasSuffix(strings.TrimSpace(cmd), "&") {
		sep = ""
	}
	line := fmt.Sprintf("echo '@@BEG''IN %s'; %s%s echo \"@@EN\"\"D %s $?\"\n", tag, cmd, sep, tag)
	if _, err := c.conn.Write([]byte(line)); err != nil {
		c.t.Fatalf("console write: %v", err)
	}
	re := regexp.MustCompile(`(?s)@@BEGIN ` + tag + `\r?\n(.*?)@@END ` + tag + ` (\d+)`)
	m, _, err := c.WaitFor(from, re, 30*time.Second)
	if err != nil {
		// A busy host can starve the guest (QEMU emulates it on the
		// host's cores): give it once more as long, and say so, before
		// calling the shell hung.
		start := time.Now()
		if m, _, err = c.WaitFor(from, re, 60*time.Second); err != nil {
			c.t.Fatalf("%s: no answer in 90 s: %v", cmd, err)
		}
		c.t.Logf("%s: the console answered %.1f s after the 30 s timeout (a starved guest)", cmd, time.Since(start).Seconds())
	}
	var code int
	fmt.Sscan(m[2], &code)
	return withoutInitLines(strings.ReplaceAll(m[1], "\r\n", "\n")), code
}

// withoutInitLines drops the lines init writes to the console ("init: "...,
// its service reports), which come whenever a service changes state and so
// may land between a command's lines. A command's own output has no such
// line: init's logs in files carry a timestamp first.
func withoutInitLines(out string) string {
	if !strings.Contains(out, "init: ") {
		return out
	}
	lines := strings.SplitAfter(out, "\n")
	kept := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "init: ") {
			kept = append(kept, l)
		}
	}
	return strings.Join(kept, "")
}

// Must runs cmd and fails the test unless it exits 0.
func (c *Console) Must(cmd string) string {
	c.t.Helper()
	out, code := c.Run(cmd)
	if code != 0 {
		c.t.Fatalf("%s: exit %d:\n%s", cmd, code, out)
	}
	return out
}

// WaitBooted waits for init's report on the default bundle and fails the
// test unless every service of it came up.
func (c *Console) WaitBooted(timeout time.Duration) {
	c.t.Helper()
	m, _, err := c.WaitFor(0, regexp.MustCompile(`init: "default" (is up|is not fully up:[^\n]*)`), timeout)
	if err != nil {
		c.t.Fatal(err)
	}
	if m[1] != "is up" {
		c.t.Fatalf("default bundle: %s\n%s", m[1], Tail(c.Text(), 3000))
	}
}

// notFound matches, in a log line, a shell's complaint that a command does
// not exist (busybox ash: "line 15: cmp: not found", "sh: cmp: not found").
const notFound = `(: line [0-9]+|(^|[ :])sh): [^ :]+: not found$`

// CheckCommands fails the test if a service's log (/run/log/*/current)
// holds a shell's "not found": a script calling a tool the image lacks,
// which a script's fallback may otherwise hide. Call it at the end of a
// test, with the VM up; it does nothing once the test has failed.
func (c *Console) CheckCommands() {
	c.t.Helper()
	if c.t.Failed() {
		return
	}
	out, _ := c.Run("grep -E '" + notFound + "' /run/log/*/current 2>/dev/null")
	if out = strings.TrimSpace(out); out != "" {
		c.t.Errorf("services ran commands the image lacks:\n%s", out)
	}
}

// Uptime returns the guest's /proc/uptime in seconds: its own clock, for
// limits a test sets on what the guest does (a service's timeouts run on
// it). QEMU emulates the guest on the host's cores, and when the host is
// busy the guest's clock has been seen to fall far behind the host's (a
// sixth of its pace), so a limit taken from the host's clock fails a
// guest that kept its own.
func (c *Console) Uptime() float64 {
	c.t.Helper()
	out := c.Must("cat /proc/uptime")
	var up float64
	if _, err := fmt.Sscan(out, &up); err != nil {
		c.t.Fatalf("/proc/uptime: %q: %v", out, err)
	}
	return up
}
