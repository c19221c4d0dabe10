package vm

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// DialUnix connects to the unix socket at path. A path too long for a socket
// address (108 bytes, easily exceeded in Bazel's test directories) is
// reached through the directory's file descriptor, /proc/self/fd/N/NAME.
func DialUnix(path string) (net.Conn, error) {
	if len(path) < len(unix.RawSockaddrUnix{}.Path) {
		return net.Dial("unix", path)
	}
	dir, err := os.OpenFile(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	c, err := net.Dial("unix", fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path)))
	if err != nil {
		return nil, fmt.Errorf("dial unix %s: %w", path, err)
	}
	return c, nil
}

// dialRetry dials path until it answers or timeout passes: QEMU creates a
// socket's file just before it listens on it.
func dialRetry(path string, timeout time.Duration) (net.Conn, error) {
	deadline := time.Now().Add(timeout)
	for {
		c, err := DialUnix(path)
		if err == nil || time.Now().After(deadline) {
			return c, err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
