package vm

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DetachKey ends Attach: ^O, which neither a shell, an editor nor QEMU's
// own ^A escapes use.
const DetachKey = 0x0f

// Linger is how long Attach keeps copying the console's output after its
// input ended, so that a script piping a command in sees the answer.
var Linger = time.Second

// Attach connects in and out to the console conn until the user types
// DetachKey, in ends (plus Linger), or the VM closes the console (it
// exited). When in is a terminal it is put into raw mode meanwhile, so that
// keys such as ^C go to the VM, and restored afterwards.
func Attach(conn net.Conn, in io.Reader, out io.Writer) error {
	if f, ok := in.(*os.File); ok {
		if restore, err := makeRaw(int(f.Fd())); err == nil {
			defer restore()
		}
	}

	done := make(chan error, 2)
	var once sync.Once
	finish := func(err error) { once.Do(func() { done <- err }) }

	go func() {
		_, err := io.Copy(out, conn)
		if isClosed(err) {
			err = nil
		}
		finish(err) // the VM went away
	}()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := in.Read(buf)
			chunk := buf[:n]
			i := bytes.IndexByte(chunk, DetachKey)
			if i >= 0 {
				chunk = chunk[:i]
			}
			if _, werr := conn.Write(chunk); werr != nil {
				finish(nil) // the VM went away; the reader reports it
				return
			}
			if i >= 0 {
				finish(nil)
				return
			}
			if err != nil {
				if err == io.EOF {
					err = nil
				}
				time.AfterFunc(Linger, func() { finish(err) })
				return
			}
		}
	}()
	err := <-done
	conn.Close()
	return err
}

func isClosed(err error) bool {
	return err == nil || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// makeRaw puts the terminal fd into raw mode, as cfmakeraw(3) does, and
// returns the function that restores it. It fails if fd is no terminal.
func makeRaw(fd int) (restore func(), err error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	raw := *old
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN] = 1
	raw.Cc[unix.VTIME] = 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, &raw); err != nil {
		return nil, err
	}
	return func() { unix.IoctlSetTermios(fd, unix.TCSETS, old) }, nil
}
