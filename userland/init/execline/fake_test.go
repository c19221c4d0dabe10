package execline

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// fakeSys is a Sys with a simulated descriptor table, so that builtins run
// inside the test process without touching its descriptors. Children are
// simulated by child, which may write to the (parent's) descriptor that is
// their stdout; the script's final exec is recorded, not done.
type fakeSys struct {
	t       *testing.T
	fds     map[int]fakeFd
	npipes  int
	nextPid int
	status  map[int]syscall.WaitStatus
	spawned []string // one line per child: argv, stdio, detach
	child   func(f *fakeSys, c Child) syscall.WaitStatus
	missing map[string]bool  // programs LookPath does not find
	openErr map[string]error // Open fails for these paths
	ids     string           // SetIDs' arguments
	exec    *fakeExec
}

type fakeFd struct {
	f       *fakeFile
	cloexec bool
}

type fakeFile struct {
	name     string
	flags    int
	nonblock bool
	data     []byte    // what can be read (stdin), or what was written
	pipe     *fakePipe // pipes only
	reader   bool
}

type fakePipe struct {
	buf     []byte
	size    int
	writers int
}

type fakeExec struct {
	Path string
	Argv []string
	Env  []string
	Fds  map[int]string // the descriptor table executed programs inherit
}

var errExecuted = errors.New("fake: executed")

func newFake(t *testing.T) *fakeSys {
	f := &fakeSys{t: t, fds: map[int]fakeFd{}, nextPid: 100, status: map[int]syscall.WaitStatus{}}
	for i, name := range []string{"stdin", "stdout", "stderr"} {
		f.fds[i] = fakeFd{f: &fakeFile{name: name}}
	}
	return f
}

func (f *fakeSys) free(min int) int {
	for fd := min; ; fd++ {
		if _, ok := f.fds[fd]; !ok {
			return fd
		}
	}
}

// describe is what a descriptor refers to, for comparisons.
func (f *fakeSys) describe(fd int) string {
	e := f.fds[fd]
	s := e.f.name
	if e.f.pipe == nil && e.f.flags != 0 || e.f.name[0] == '/' {
		s += " " + flagString(e.f.flags)
	}
	if e.f.pipe != nil && e.f.reader {
		s += fmt.Sprintf(" %q", e.f.pipe.buf)
	}
	if e.f.nonblock {
		s += " nonblock"
	}
	if e.cloexec {
		s += " cloexec"
	}
	return s
}

func flagString(fl int) string {
	s := map[int]string{syscall.O_RDONLY: "r", syscall.O_WRONLY: "w", syscall.O_RDWR: "rw"}[fl&syscall.O_ACCMODE]
	for _, x := range []struct {
		bit  int
		name string
	}{{syscall.O_APPEND, "append"}, {syscall.O_CREAT, "creat"}, {syscall.O_TRUNC, "trunc"}, {syscall.O_EXCL, "excl"}, {syscall.O_NONBLOCK, "nonblock"}} {
		if fl&x.bit != 0 {
			s += "|" + x.name
		}
	}
	return s
}

// table is the descriptor table that executed programs would inherit.
func (f *fakeSys) table() map[int]string {
	out := map[int]string{}
	for fd, e := range f.fds {
		if !e.cloexec {
			out[fd] = f.describe(fd)
		}
	}
	return out
}

func (f *fakeSys) LookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	if f.missing[file] || file == "" {
		return "", fmt.Errorf("not found in PATH %q", path)
	}
	return "/fake/bin/" + file, nil
}

func (f *fakeSys) Exec(path string, argv, env []string) error {
	if f.exec != nil {
		f.t.Fatalf("executed twice: %q then %q", f.exec.Argv, argv)
	}
	f.exec = &fakeExec{path, slices.Clone(argv), append([]string{}, env...), f.table()}
	return errExecuted
}

func (f *fakeSys) Spawn(c Child) (int, error) {
	for _, fd := range c.Stdio {
		if _, ok := f.fds[fd]; !ok {
			f.t.Fatalf("spawn with stdio %v: %d is not open", c.Stdio, fd)
		}
	}
	if len(c.Argv) > 0 && f.missing[c.Argv[0]] {
		return 0, fmt.Errorf("not found in PATH")
	}
	pid := f.nextPid
	f.nextPid++
	f.spawned = append(f.spawned, fmt.Sprintf("%q stdio=%v detach=%v", c.Argv, c.Stdio, c.Detach))
	var st syscall.WaitStatus
	if f.child != nil {
		st = f.child(f, c)
	}
	f.status[pid] = st
	return pid, nil
}

func (f *fakeSys) Wait(pid int) (syscall.WaitStatus, error) {
	st, ok := f.status[pid]
	if !ok {
		return 0, syscall.ECHILD
	}
	delete(f.status, pid)
	return st, nil
}

func (f *fakeSys) Open(path string, flags int, perm uint32) (int, error) {
	if err := f.openErr[path]; err != nil {
		return 0, err
	}
	if err := f.fifoOpen(path, flags); err != nil {
		return 0, err
	}
	fd := f.free(0)
	f.fds[fd] = fakeFd{f: &fakeFile{name: path, flags: flags, nonblock: flags&syscall.O_NONBLOCK != 0}, cloexec: true}
	return fd, nil
}

func (f *fakeSys) Close(fd int) error {
	e, ok := f.fds[fd]
	if !ok {
		return syscall.EBADF
	}
	if e.f.pipe != nil && !e.f.reader {
		e.f.pipe.writers--
	}
	delete(f.fds, fd)
	return nil
}

func (f *fakeSys) Dup2(oldfd, newfd int) error {
	e, ok := f.fds[oldfd]
	if !ok {
		return syscall.EBADF
	}
	if oldfd != newfd {
		f.Close(newfd)
		if e.f.pipe != nil && !e.f.reader {
			e.f.pipe.writers++
		}
	}
	f.fds[newfd] = fakeFd{f: e.f}
	return nil
}

func (f *fakeSys) DupCloexec(fd int) (int, error) {
	e, ok := f.fds[fd]
	if !ok {
		return 0, syscall.EBADF
	}
	n := f.free(0)
	if e.f.pipe != nil && !e.f.reader {
		e.f.pipe.writers++
	}
	f.fds[n] = fakeFd{f: e.f, cloexec: true}
	return n, nil
}

func (f *fakeSys) Pipe() (int, int, error) {
	f.npipes++
	p := &fakePipe{size: 65536, writers: 1}
	name := fmt.Sprintf("pipe%d", f.npipes)
	r := f.free(0)
	f.fds[r] = fakeFd{f: &fakeFile{name: name + " read", pipe: p, reader: true}, cloexec: true}
	w := f.free(0)
	f.fds[w] = fakeFd{f: &fakeFile{name: name + " write", pipe: p}, cloexec: true}
	return r, w, nil
}

func (f *fakeSys) Read(fd int, b []byte) (int, error) {
	e, ok := f.fds[fd]
	if !ok {
		return 0, syscall.EBADF
	}
	src := &e.f.data
	if p := e.f.pipe; p != nil {
		if !e.f.reader {
			return 0, syscall.EBADF
		}
		if len(p.buf) == 0 && p.writers > 0 {
			f.t.Fatalf("read on %s would block forever: a write end is still open", e.f.name)
		}
		src = &p.buf
	}
	n := copy(b, *src)
	*src = (*src)[n:]
	return n, nil
}

func (f *fakeSys) Write(fd int, b []byte) (int, error) {
	e, ok := f.fds[fd]
	if !ok {
		return 0, syscall.EBADF
	}
	if p := e.f.pipe; p != nil {
		if e.f.reader {
			return 0, syscall.EBADF
		}
		if len(p.buf)+len(b) > p.size {
			if e.f.nonblock {
				return 0, syscall.EAGAIN
			}
			f.t.Fatalf("write on %s would block forever", e.f.name)
		}
		p.buf = append(p.buf, b...)
		return len(b), nil
	}
	e.f.data = append(e.f.data, b...)
	return len(b), nil
}

func (f *fakeSys) SetPipeSize(fd, n int) (int, error) {
	e, ok := f.fds[fd]
	if !ok || e.f.pipe == nil {
		return 0, syscall.EBADF
	}
	if n > 1<<20 {
		return 0, syscall.EPERM
	}
	e.f.pipe.size = (n + 4095) &^ 4095
	return e.f.pipe.size, nil
}

func (f *fakeSys) SetNonblock(fd int, nonblocking bool) error {
	e, ok := f.fds[fd]
	if !ok {
		return syscall.EBADF
	}
	e.f.nonblock = nonblocking
	return nil
}

func (f *fakeSys) SetIDs(uid, gid int, groups []int) error {
	f.ids = fmt.Sprintf("uid=%d gid=%d groups=%v", uid, gid, groups)
	return nil
}

// outcome is what running an instruction did.
type outcome struct {
	Exec    *fakeExec // the program executed, or nil
	Code    int       // exit code when nothing was executed
	Msg     string    // the error message
	Stderr  string    // warnings
	Spawned []string
}

// std is the descriptor table of a test that does not change it.
func std(more map[int]string) map[int]string {
	m := map[int]string{0: "stdin", 1: "stdout", 2: "stderr"}
	for k, v := range more {
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return m
}

// run runs argv with env on f.
func (f *fakeSys) run(argv, env []string) outcome {
	var stderr bytes.Buffer
	m := &Machine{Sys: f, Stderr: &stderr, Script: "test", Passwd: "/nonexistent/passwd", Group: "/nonexistent/group"}
	return f.runOn(m, argv, env, &stderr)
}

func (f *fakeSys) runOn(m *Machine, argv, env []string, stderr *bytes.Buffer) outcome {
	err := m.Exec(argv, env)
	var o outcome
	if f.exec != nil {
		o.Exec = f.exec
		var e *Error
		if !errors.As(err, &e) || e.Code != ExitNoExec || !strings.HasSuffix(e.Msg, errExecuted.Error()) {
			f.t.Errorf("Exec returned %v after executing", err)
		}
	} else if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			f.t.Fatalf("Exec returned %T %v", err, err)
		}
		o.Code, o.Msg = e.Code, e.Error()
		if e.Msg == "" {
			o.Msg = ""
		}
	}
	o.Stderr = stderr.String()
	o.Spawned = f.spawned
	return o
}

// exited is the wait status of a child that exited with code.
func exited(code int) syscall.WaitStatus { return syscall.WaitStatus(code << 8) }

// killed is the wait status of a child killed by sig.
func killed(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }
