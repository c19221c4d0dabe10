package vm_test

import (
	"fmt"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

func mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

// listenIn listens on the unix socket name in dir, which may be too deep
// for a socket address, through the directory's file descriptor.
func listenIn(dir, name string) (net.Listener, error) {
	d, err := os.OpenFile(dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return net.Listen("unix", fmt.Sprintf("/proc/self/fd/%d/%s", d.Fd(), name))
}
