package execline

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// RunApplet is the hidden applet of the multicall binary that runs a
// block in a child process: argv[0] is RunApplet (the binary dispatches on
// it), then the script's name, a mode ("-", or "detach=FD" for a double
// fork that writes the grandchild's pid on FD), then the block's words.
const RunApplet = "execline-run"

// selfExe is this binary, even if its file was replaced since it started.
const selfExe = "/proc/self/exe"

const fSetPipeSize = 1031 // F_SETPIPE_SZ, which package syscall lacks

// System is the real Sys: raw system calls, retried when interrupted.
type System struct{}

var _ Sys = System{}

func retry(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}

func (System) LookPath(file, path string) (string, error) { return lookPath(file, path) }

// lookPath finds file as execvp would: as it is if it has a slash, else
// in the directories of path (an empty one is the current directory).
func lookPath(file, path string) (string, error) {
	if file == "" {
		return "", errors.New("an empty program name")
	}
	if strings.IndexByte(file, '/') >= 0 {
		return file, nil
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Mode&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("not found in PATH %q", path)
}

func (System) Exec(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }

func (s System) Spawn(c Child) (int, error) {
	var files [3]uintptr
	for i, fd := range c.Stdio {
		files[i] = uintptr(fd)
		if fd < 0 || !isOpen(fd) {
			files[i] = ^uintptr(0) // closed in the child
		}
	}
	attr := &syscall.ProcAttr{Env: c.Env, Files: files[:]}
	if c.Detach {
		return s.spawnDetached(c, attr)
	}
	path, argv := selfExe, append([]string{RunApplet, c.Script, "-"}, c.Argv...)
	if len(c.Argv) > 0 && builtins[c.Argv[0]] == nil {
		// An external program is started directly: as execline does,
		// and without the cost of starting this binary again.
		p, err := lookPath(c.Argv[0], pathOf(c.Env))
		if err != nil {
			return 0, err
		}
		path, argv = p, c.Argv
	}
	return syscall.ForkExec(path, argv, attr)
}

// spawnDetached starts this binary as RunApplet in detach mode, which
// spawns the block, writes its pid on a pipe and exits.
func (System) spawnDetached(c Child, attr *syscall.ProcAttr) (int, error) {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC); err != nil {
		return 0, err
	}
	// Above the child's stdio, which would replace or close it.
	for i, fd := range p {
		if fd < 3 {
			r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 3)
			syscall.Close(fd)
			if e != 0 {
				syscall.Close(p[1-i])
				return 0, e
			}
			p[i] = int(r)
		}
	}
	defer syscall.Close(p[0])
	// The child inherits the write end; the interpreter is the only
	// thread that starts processes, so it leaks nowhere else.
	if err := fcntl(p[1], syscall.F_SETFD, 0); err != nil {
		syscall.Close(p[1])
		return 0, err
	}
	argv := append([]string{RunApplet, c.Script, "detach=" + strconv.Itoa(p[1])}, c.Argv...)
	pid, err := syscall.ForkExec(selfExe, argv, attr)
	syscall.Close(p[1])
	if err != nil {
		return 0, err
	}
	out, rerr := readAll(p[0], 32)
	st, werr := System{}.Wait(pid)
	gpid, perr := strconv.Atoi(string(out))
	switch {
	case rerr != nil:
		return 0, rerr
	case werr != nil:
		return 0, werr
	case perr != nil || gpid <= 0 || !st.Exited() || st.ExitStatus() != 0:
		return 0, fmt.Errorf("the intermediate process of the double fork failed (%s)", describe(st))
	}
	return gpid, nil
}

// describe says how a process ended.
func describe(st syscall.WaitStatus) string {
	if st.Signaled() {
		return "killed by signal " + strconv.Itoa(int(st.Signal()))
	}
	return "exit " + strconv.Itoa(st.ExitStatus())
}

func (System) Wait(pid int) (syscall.WaitStatus, error) {
	var st syscall.WaitStatus
	err := retry(func() error { _, err := syscall.Wait4(pid, &st, 0, nil); return err })
	return st, err
}

func (System) Open(path string, flags int, perm uint32) (int, error) {
	var fd int
	err := retry(func() (err error) { fd, err = syscall.Open(path, flags|syscall.O_CLOEXEC, perm); return })
	return fd, err
}

func (System) Close(fd int) error { return syscall.Close(fd) }

func (System) Dup2(oldfd, newfd int) error {
	if oldfd == newfd {
		return fcntl(oldfd, syscall.F_SETFD, 0)
	}
	return retry(func() error { return syscall.Dup3(oldfd, newfd, 0) })
}

func (System) DupCloexec(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func (System) Pipe() (int, int, error) {
	var p [2]int
	err := syscall.Pipe2(p[:], syscall.O_CLOEXEC)
	return p[0], p[1], err
}

func (System) Read(fd int, b []byte) (int, error) {
	var n int
	err := retry(func() (err error) { n, err = syscall.Read(fd, b); return })
	return n, err
}

func (System) Write(fd int, b []byte) (int, error) {
	var n int
	err := retry(func() (err error) { n, err = syscall.Write(fd, b); return })
	return n, err
}

func (System) SetPipeSize(fd, n int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fSetPipeSize, uintptr(n))
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func (System) SetNonblock(fd int, nonblocking bool) error {
	return syscall.SetNonblock(fd, nonblocking)
}

func (System) SetIDs(uid, gid int, groups []int) error {
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return nil
}

func fcntl(fd, cmd, arg int) error {
	_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), uintptr(arg))
	if e != 0 {
		return e
	}
	return nil
}

func isOpen(fd int) bool {
	_, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return e == 0
}

// readAll reads fd until end of file, at most limit bytes.
func readAll(fd, limit int) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := System{}.Read(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
		if len(out) > limit {
			return nil, fmt.Errorf("more than %d bytes", limit)
		}
	}
}

// readFile reads a whole file with raw system calls (no descriptor of the
// Go runtime's poller is created), at most limit bytes, or only the
// first limit bytes when truncate is set.
func readFile(path string, limit int, truncate bool) ([]byte, error) {
	fd, err := System{}.Open(path, syscall.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := System{}.Read(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
		if len(out) > limit {
			if truncate {
				return out[:limit], nil
			}
			return nil, fmt.Errorf("larger than %d bytes", limit)
		}
	}
}

// readDir lists the names in a directory (without . and ..).
func readDir(path string) ([]string, error) {
	fd, err := System{}.Open(path, syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var names []string
	buf := make([]byte, 8192)
	for {
		var n int
		err := retry(func() (err error) { n, err = syscall.ReadDirent(fd, buf); return })
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
}

// fdWriter writes to a descriptor with raw system calls: messages go to
// whatever descriptor 2 is after the script's redirections.
type fdWriter int

func (w fdWriter) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := System{}.Write(int(w), p[n:])
		if err != nil {
			return n, err
		}
		n += m
	}
	return n, nil
}
