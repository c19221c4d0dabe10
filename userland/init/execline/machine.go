// Package execline is an execline-compatible script interpreter for the
// device: execlineb's parser and, in-process, the execline and s6 commands
// that s6-rc service scripts commonly use (see Builtins).
//
// execline chain-loads: each command does its work, then executes into
// the rest of its argv. Machine.Exec does the same in one process: while
// argv starts with a builtin it runs it and goes on with what the builtin
// leaves, and it executes into the first external program (looked up in
// PATH), or exits 0 on the empty instruction. Blocks that must run in a
// process of their own (if, foreground, backtick, pipeline, background)
// start the program directly when it is external, and otherwise this very
// binary again as the hidden applet RunApplet, so that builtins work in
// blocks too.
//
// The process-level operations go through Sys, which tests replace. The
// real one uses raw system calls only: the Go runtime must not open
// descriptors of its own (as os.Open does, for its poller) that a script's
// redirections could overwrite.
//
// Builtins, with the options of execline 2.9's documentation (s6's for
// the s6 ones): background [-d], backtick [-i|-I|-x|-D def] [-N|-n]
// [-E|-e], define [-s] [-C|-c] [-N|-n] [-d delim], emptyenv [-p|-c|-o|-P],
// exec [-c] [-l] [-a argv0], execlineb [-q|-w|-W] [-p|-P|-S n|-s n]
// [-c script | file], export, fdclose, fdmove [-c], foreground, heredoc
// [-d], if [-X] [-n] [-t|-x code], importas [-i|-D def] [-u] [-S] [-s]
// [-C|-c] [-N|-n] [-d delim], multisubstitute (define and importas directives),
// pipeline [-d] [-r|-w], piperw, redirfd -r|-w|-u|-a|-c|-x [-n] [-b],
// unexport, withstdinas [-i|-I|-D def] [-N|-n] [-E|-e], s6-envdir [-I|-i]
// [-n] [-f] [-L] [-c nullis], s6-setuidgid. Builtins lists the execline
// and s6 programs that are not implemented.
//
// Differences from execline that a script can see: the builtins of one
// chain run in one process, so the kernel's argv and environment limits
// apply only to the programs executed; signals that the caller ignored
// are not ignored any more by those programs (the Go runtime handles
// them, and exec resets handled signals); heredoc needs no feeding
// process, so -d changes nothing; execlineb's -e is not supported.
package execline

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
)

// Exit codes of execline's programs ("All these commands exit 111 if they
// encounter a temporary error, and 100 if they encounter a permanent
// error - such as a misuse. They exit 127 if they're trying to execute
// into a program and cannot find it, and 126 if they fail to execute into
// a program for another reason.").
const (
	ExitUsage    = 100
	ExitSys      = 111
	ExitNoExec   = 126
	ExitNotFound = 127
)

// DefaultPath is searched for programs when the environment has no PATH
// (skalibs' default).
const DefaultPath = "/usr/bin:/bin"

// Error ends an instruction without executing a program: the process
// exits Code; Msg, when not empty, is reported on stderr, naming the
// command Cmd.
type Error struct {
	Code int
	Cmd  string
	Msg  string
}

func (e *Error) Error() string {
	if e.Cmd == "" {
		return e.Msg
	}
	return e.Cmd + ": " + e.Msg
}

func errorf(code int, cmd, format string, a ...any) *Error {
	return &Error{code, cmd, fmt.Sprintf(format, a...)}
}

// Child is a block to run as a child process.
type Child struct {
	Argv []string // the instruction: builtins allowed; empty: exits 0
	Env  []string
	// Stdio are the descriptors that become the child's 0, 1 and 2; the
	// child inherits every other descriptor that is not close-on-exec.
	Stdio [3]int
	// Detach runs the block as a grandchild (a double fork): the pid
	// returned is the grandchild's, and it is not to be waited for.
	Detach bool
	Script string // for the messages of the child's builtins
}

// Sys is what the interpreter does to its process. Descriptors it creates
// are close-on-exec until Dup2 places them.
type Sys interface {
	// LookPath finds a program as execvp does, in path (a PATH value).
	LookPath(file, path string) (string, error)
	// Exec replaces the process; it returns only on failure.
	Exec(path string, argv, env []string) error
	Spawn(c Child) (pid int, err error)
	Wait(pid int) (syscall.WaitStatus, error)
	Open(path string, flags int, perm uint32) (int, error)
	Close(fd int) error
	// Dup2 makes newfd a copy of oldfd that executed programs inherit;
	// with newfd == oldfd it only clears close-on-exec.
	Dup2(oldfd, newfd int) error
	DupCloexec(fd int) (int, error)
	Pipe() (r, w int, err error)
	Read(fd int, p []byte) (int, error)
	Write(fd int, p []byte) (int, error)
	// SetPipeSize asks for a pipe buffer of at least n bytes and returns
	// the size the kernel gave.
	SetPipeSize(fd, n int) (int, error)
	SetNonblock(fd int, nonblocking bool) error
	// SetIDs sets the supplementary groups, then the gid, then the uid.
	SetIDs(uid, gid int, groups []int) error
}

// Machine runs execline instructions in the calling process.
type Machine struct {
	Sys    Sys
	Stderr io.Writer // warnings and errors
	// Script names the script in messages ("" outside a script).
	Script string
	// Passwd and Group are the account databases of s6-setuidgid.
	Passwd, Group string
}

// New returns a Machine on the real system.
func New(script string, stderr io.Writer) *Machine {
	return &Machine{Sys: System{}, Stderr: stderr, Script: script, Passwd: "/etc/passwd", Group: "/etc/group"}
}

// Exec makes the process become argv, as execline's chain-loading does:
// builtins run in-process, then the first external program replaces the
// process. It returns only if no program is executed: nil when the
// instruction ends empty ("when an execline component must exec into the
// empty instruction, it exits 0"), else an *Error with the exit code.
// env is not modified.
func (m *Machine) Exec(argv, env []string) error {
	env = append([]string(nil), env...)
	for len(argv) > 0 {
		b := builtins[argv[0]]
		if b == nil {
			return m.execProgram(argv, env)
		}
		var err error
		if argv, env, err = b(m, argv[0], argv[1:], env); err != nil {
			return err
		}
	}
	return nil
}

// Report writes what err says on m.Stderr and returns the exit code of a
// process whose Exec returned err.
func (m *Machine) Report(err error) int {
	if err == nil {
		return 0
	}
	code, msg := ExitSys, err.Error()
	if e, ok := err.(*Error); ok {
		code = e.Code
		if e.Msg == "" {
			msg = ""
		}
	}
	if msg != "" {
		fmt.Fprintf(m.Stderr, "%s%s\n", m.prefix(), msg)
	}
	return code
}

func (m *Machine) prefix() string {
	if m.Script == "" {
		return "execlineb: "
	}
	return "execlineb: " + m.Script + ": "
}

func (m *Machine) warn(cmd, format string, a ...any) {
	fmt.Fprintf(m.Stderr, "%s%s: warning: %s\n", m.prefix(), cmd, fmt.Sprintf(format, a...))
}

// execProgram executes into argv[0], looked up in env's PATH.
func (m *Machine) execProgram(argv, env []string) error {
	file := argv[0]
	path, err := m.Sys.LookPath(file, pathOf(env))
	if err != nil {
		return &Error{ExitNotFound, file, err.Error()}
	}
	err = m.Sys.Exec(path, argv, env)
	if err == syscall.ENOENT {
		return errorf(ExitNotFound, file, "cannot execute %s: %v", path, err)
	}
	return errorf(ExitNoExec, file, "cannot execute %s: %v", path, err)
}

func pathOf(env []string) string {
	if p, ok := getenv(env, "PATH"); ok {
		return p
	}
	return DefaultPath
}

// block reads the block that starts args, as the blocks of execline's
// commands are read: EXECLINE_STRICT=1 warns about unquoted words in it,
// 2 or more refuses them.
func (m *Machine) block(cmd string, args, env []string) (block, rest []string, err error) {
	block, rest, unquoted, ok := splitBlock(args)
	if !ok {
		return nil, nil, &Error{ExitUsage, cmd, "unterminated block: expected an empty word (a }) to end it"}
	}
	if len(unquoted) > 0 {
		if s, _ := strictness(env); s >= 2 {
			return nil, nil, errorf(ExitUsage, cmd, "unquoted word %q in a block (EXECLINE_STRICT=%d)", unquoted[0], s)
		} else if s == 1 {
			for _, w := range unquoted {
				m.warn(cmd, "unquoted word %q in a block", w)
			}
		}
	}
	return block, rest, nil
}

// strictness is EXECLINE_STRICT's value, and whether it is set.
func strictness(env []string) (int, bool) {
	v, ok := getenv(env, "EXECLINE_STRICT")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 16)
	if err != nil {
		return 0, true
	}
	return int(n), true
}

// spawn starts a block as a child.
func (m *Machine) spawn(cmd string, block, env []string, stdio [3]int, detach bool) (int, error) {
	pid, err := m.Sys.Spawn(Child{Argv: block, Env: env, Stdio: stdio, Detach: detach, Script: m.Script})
	if err != nil {
		return 0, errorf(ExitSys, cmd, "cannot spawn %s: %v", progName(block), err)
	}
	return pid, nil
}

// run runs a block in a child with the same descriptors and waits for it;
// the empty block is true.
func (m *Machine) run(cmd string, block, env []string) (syscall.WaitStatus, error) {
	if len(block) == 0 {
		return 0, nil
	}
	pid, err := m.spawn(cmd, block, env, [3]int{0, 1, 2}, false)
	if err != nil {
		return 0, err
	}
	return m.wait(cmd, pid)
}

func (m *Machine) wait(cmd string, pid int) (syscall.WaitStatus, error) {
	st, err := m.Sys.Wait(pid)
	if err != nil {
		return 0, errorf(ExitSys, cmd, "cannot wait for process %d: %v", pid, err)
	}
	return st, nil
}

func progName(argv []string) string {
	if len(argv) == 0 {
		return "the empty block"
	}
	return argv[0]
}

// move places descriptor from at to, where executed programs inherit it,
// and closes from (skalibs' fd_move).
func (m *Machine) move(from, to int) error {
	if err := m.Sys.Dup2(from, to); err != nil {
		return err
	}
	if from != to {
		m.Sys.Close(from)
	}
	return nil
}

// approx is how execline reports a child's status in its own exit code
// (the "exitcodes" page): 128+signal if it was killed, 128 if it exited
// 128 or more, else its exit code.
func approx(st syscall.WaitStatus) int {
	switch {
	case st.Signaled():
		return 128 + int(st.Signal())
	case st.ExitStatus() >= 128:
		return 128
	}
	return st.ExitStatus()
}

// getenv, setenv and unsetenv work on an environment as a list of
// KEY=VALUE strings; the first definition of a key counts.
func getenv(env []string, k string) (string, bool) {
	for _, kv := range env {
		if len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k {
			return kv[len(k)+1:], true
		}
	}
	return "", false
}

func setenv(env []string, k, v string) []string {
	return append(unsetenv(env, k), k+"="+v)
}

func unsetenv(env []string, k string) []string {
	out := env[:0]
	for _, kv := range env {
		if !(len(kv) > len(k) && kv[len(k)] == '=' && kv[:len(k)] == k) {
			out = append(out, kv)
		}
	}
	return out
}

// envName is the name of a KEY=VALUE entry.
func envName(kv string) string {
	if i := strings.IndexByte(kv, '='); i >= 0 {
		return kv[:i]
	}
	return kv
}

// getopt parses options as skalibs' subgetopt does for execline's
// commands: letters may be grouped (-nb), an option's argument is the
// rest of its word or the next word, "--" ends the options, and the first
// word that is not an option (including "-") ends them too. spec lists
// the letters, each followed by ':' if it takes an argument.
func getopt(cmd string, args []string, spec string, u string, f func(opt byte, arg string) error) ([]string, error) {
	for len(args) > 0 {
		a := args[0]
		if a == "--" {
			return args[1:], nil
		}
		if len(a) < 2 || a[0] != '-' {
			return args, nil
		}
		args = args[1:]
		for j := 1; j < len(a); j++ {
			o := a[j]
			i := strings.IndexByte(spec, o)
			if i < 0 || o == ':' {
				return nil, errorf(ExitUsage, cmd, "unknown option -%c; usage: %s", o, u)
			}
			takes := i+1 < len(spec) && spec[i+1] == ':'
			arg := ""
			if takes {
				switch {
				case j+1 < len(a):
					arg = a[j+1:]
				case len(args) > 0:
					arg, args = args[0], args[1:]
				default:
					return nil, errorf(ExitUsage, cmd, "option -%c needs an argument; usage: %s", o, u)
				}
			}
			if err := f(o, arg); err != nil {
				return nil, err
			}
			if takes {
				break
			}
		}
	}
	return args, nil
}

// fdArg parses a descriptor number.
func fdArg(cmd, s, u string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 31)
	if err != nil {
		return 0, errorf(ExitUsage, cmd, "%q is not a descriptor number; usage: %s", s, u)
	}
	return int(n), nil
}
