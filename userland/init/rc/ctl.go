package rc

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The control protocol is line based. The client sends one line: the rc
// arguments separated by single spaces (service names never contain
// whitespace). The server answers with lines "I text" (for stdout),
// "E text" (for stderr) and a final "= CODE", the exit status.

// Listener is a unix stream socket served through the runtime poller (the
// net package is avoided to keep the device binary small).
type Listener struct {
	f    *os.File
	raw  syscall.RawConn
	path string
}

// sockaddr returns an address for path, going through /proc/self/fd for
// paths longer than sun_path allows (deep temporary directories). The
// returned closer releases the directory descriptor.
func sockaddr(path string) (*syscall.SockaddrUnix, func(), error) {
	if len(path) < 100 {
		return &syscall.SockaddrUnix{Name: path}, func() {}, nil
	}
	dfd, err := syscall.Open(filepath.Dir(path), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: filepath.Dir(path), Err: err}
	}
	short := fmt.Sprintf("/proc/self/fd/%d/%s", dfd, filepath.Base(path))
	if len(short) >= 108 {
		syscall.Close(dfd)
		return nil, nil, fmt.Errorf("socket path too long: %s", path)
	}
	return &syscall.SockaddrUnix{Name: short}, func() { syscall.Close(dfd) }, nil
}

// Listen creates (replacing any stale one) a socket at path, mode 0600.
func Listen(path string) (*Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	os.Remove(path)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	sa, done, err := sockaddr(path)
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	err = syscall.Bind(fd, sa)
	done()
	if err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "bind", Path: path, Err: err}
	}
	if err := os.Chmod(path, 0o600); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Listen(fd, 64); err != nil {
		syscall.Close(fd)
		return nil, os.NewSyscallError("listen", err)
	}
	f := os.NewFile(uintptr(fd), path)
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Listener{f: f, raw: raw, path: path}, nil
}

// Accept waits for a connection.
func (l *Listener) Accept() (*os.File, error) {
	var nfd int
	var aerr error
	err := l.raw.Read(func(fd uintptr) bool {
		nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK)
		return aerr != syscall.EAGAIN
	})
	if err != nil {
		return nil, err
	}
	if aerr != nil {
		return nil, os.NewSyscallError("accept", aerr)
	}
	return os.NewFile(uintptr(nfd), "control connection"), nil
}

// Close stops the listener and removes the socket file.
func (l *Listener) Close() error {
	os.Remove(l.path)
	return l.f.Close()
}

// Dial connects to the socket at path.
func Dial(path string) (*os.File, error) {
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	sa, done, err := sockaddr(path)
	if err != nil {
		syscall.Close(fd)
		return nil, err
	}
	err = syscall.Connect(fd, sa)
	done()
	if err != nil {
		syscall.Close(fd)
		return nil, &os.PathError{Op: "connect", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Server answers control requests for a Manager.
type Server struct {
	M *Manager
	// Shutdown, if set, handles "shutdown poweroff|reboot|halt".
	Shutdown func(kind string) error
}

// Serve accepts connections until the listener is closed.
func (srv *Server) Serve(l *Listener) error {
	for {
		c, err := l.Accept()
		if err != nil {
			return err
		}
		go srv.handle(c)
	}
}

type replier struct {
	mu sync.Mutex
	w  io.Writer
}

func (r *replier) line(kind byte, s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(r.w, "%c %s\n", kind, l)
	}
}

func (r *replier) Out(s string) { r.line('I', s) }
func (r *replier) Err(s string) { r.line('E', s) }

func (srv *Server) handle(c *os.File) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReaderSize(c, 64<<10)
	line, err := br.ReadString('\n')
	if err != nil {
		return
	}
	r := &replier{w: c}
	code := srv.Exec(strings.Fields(line), r)
	r.mu.Lock()
	fmt.Fprintf(c, "= %d\n", code)
	r.mu.Unlock()
}

// Output receives a command's output lines.
type Output interface {
	Out(string)
	Err(string)
}

// Exit codes of rc commands.
const (
	ExitOK      = 0
	ExitFailed  = 1   // a transition failed
	ExitUsage   = 100 // bad arguments
	ExitNoSuch  = 101 // unknown service
	ExitConnect = 111 // cannot reach the supervisor
)

// RestartTimeout bounds an "rc restart" request.
var RestartTimeout = 10 * time.Second

// Exec runs one command (the rc arguments) against the manager.
func (srv *Server) Exec(args []string, out Output) int {
	if len(args) == 0 {
		out.Err("missing command")
		return ExitUsage
	}
	m := srv.M
	switch args[0] {
	case "ping":
		out.Out("pong")
		return ExitOK
	case "change":
		fs := flag.NewFlagSet("change", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		up := fs.Bool("u", false, "")
		down := fs.Bool("d", false, "")
		force := fs.Bool("D", false, "")
		tmo := fs.Int64("t", 0, "")
		verbose := fs.Bool("v", false, "")
		if err := fs.Parse(args[1:]); err != nil || fs.NArg() == 0 || (*up && (*down || *force)) {
			out.Err("usage: rc change [-u|-d|-D] [-v] [-t MS] SERVICE...")
			return ExitUsage
		}
		ctx := context.Background()
		if *tmo > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, ms(*tmo))
			defer cancel()
		}
		o := ChangeOptions{Force: *force}
		if *verbose {
			o.Progress = out.Out
		}
		err := m.Change(ctx, !(*down || *force), fs.Args(), o)
		if err != nil {
			out.Err(err.Error())
			var ce *ChangeError
			if errors.As(err, &ce) {
				return ExitFailed
			}
			return ExitNoSuch
		}
		return ExitOK
	case "list":
		which := "up"
		if len(args) > 2 {
			out.Err("usage: rc list [up|down|all]")
			return ExitUsage
		}
		if len(args) == 2 {
			which = args[1]
		}
		l, err := m.List(which)
		if err != nil {
			out.Err(err.Error())
			return ExitUsage
		}
		for _, n := range l {
			out.Out(n)
		}
		return ExitOK
	case "status":
		st, err := m.Status(args[1:])
		if err != nil {
			out.Err(err.Error())
			return ExitNoSuch
		}
		now := time.Now()
		for _, s := range st {
			out.Out(s.Format(now))
		}
		return ExitOK
	case "restart":
		if len(args) < 2 {
			out.Err("usage: rc restart SERVICE...")
			return ExitUsage
		}
		code := ExitOK
		// A supervisor running a finish script takes no request; do
		// not keep the client (and a connection) waiting forever.
		ctx, cancel := context.WithTimeout(context.Background(), RestartTimeout)
		defer cancel()
		for _, n := range args[1:] {
			if err := m.Restart(ctx, n); err != nil {
				out.Err(err.Error())
				code = ExitFailed
			}
		}
		return code
	case "shutdown":
		if srv.Shutdown == nil || len(args) != 2 {
			out.Err("shutdown not available")
			return ExitUsage
		}
		if err := srv.Shutdown(args[1]); err != nil {
			out.Err(err.Error())
			return ExitUsage
		}
		return ExitOK
	}
	out.Err(fmt.Sprintf("unknown command %q", args[0]))
	return ExitUsage
}

// Call sends one request to the supervisor at socket and copies the reply
// to stdout and stderr; it returns the command's exit status.
func Call(socket string, args []string, stdout, stderr io.Writer) int {
	c, err := Dial(socket)
	if err != nil {
		fmt.Fprintf(stderr, "rc: cannot reach the supervisor: %v\n", err)
		return ExitConnect
	}
	defer c.Close()
	if _, err := io.WriteString(c, strings.Join(args, " ")+"\n"); err != nil {
		fmt.Fprintf(stderr, "rc: %v\n", err)
		return ExitConnect
	}
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			fmt.Fprintf(stderr, "rc: connection closed before the end of the reply\n")
			return ExitConnect
		}
		line = strings.TrimSuffix(line, "\n")
		if len(line) < 2 {
			continue
		}
		switch line[0] {
		case 'I':
			fmt.Fprintln(stdout, line[2:])
		case 'E':
			fmt.Fprintln(stderr, line[2:])
		case '=':
			code, err := strconv.Atoi(strings.TrimSpace(line[1:]))
			if err != nil {
				return ExitConnect
			}
			return code
		}
	}
}
