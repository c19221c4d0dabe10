package execline

import (
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// A builtin runs the command cmd with its arguments args (argv[1:]) and
// returns the instruction to go on with and its environment, as the
// execline program would execute into it; or an *Error to exit with.
type builtin func(m *Machine, cmd string, args, env []string) (next, nenv []string, err error)

var builtins map[string]builtin

func init() {
	// Filled here: execlineb's builtin refers back to the table.
	builtins = map[string]builtin{
		"background":      background,
		"backtick":        backtick,
		"define":          define,
		"emptyenv":        emptyenv,
		"exec":            execCmd,
		"execlineb":       execlineb,
		"export":          export,
		"fdclose":         fdclose,
		"fdmove":          fdmove,
		"foreground":      foreground,
		"heredoc":         heredoc,
		"if":              ifCmd,
		"importas":        importas,
		"multisubstitute": multisubstitute,
		"pipeline":        pipeline,
		"piperw":          piperw,
		"redirfd":         redirfd,
		"s6-envdir":       s6envdir,
		"s6-setuidgid":    s6setuidgid,
		"unexport":        unexport,
		"withstdinas":     withstdinas,
	}
}

// notImplemented are the programs of execline 2.9 (its documentation's
// index) that this interpreter does not have, and s6's programs that run
// scripts commonly chain into; a script that uses one would fail when it
// runs (the program is not on the device), so a compiler can refuse it.
var notImplemented = []string{
	"case", "cd", "dollarat", "elgetopt", "elgetpositionals", "elglob",
	"eltest", "envfile", "execline", "execline-cd", "execline-shell",
	"execline-startup", "execline-umask", "exit", "fdblock", "fdreserve",
	"fdswap", "forbacktickx", "forstdin", "forx", "getcwd", "getpid",
	"homeof", "ifelse", "ifte", "ifthenelse", "loopwhilex", "multidefine",
	"posix-cd", "posix-umask", "runblock", "shift", "trap", "tryexec",
	"umask", "wait",
	"s6-applyuidgid", "s6-envuidgid", "s6-fghack", "s6-log",
	"s6-notifyoncheck", "s6-setlock", "s6-setsid", "s6-softlimit",
}

// Builtins returns the names of the commands the interpreter runs itself,
// and the names of execline and s6 programs it does not implement.
func Builtins() (supported, unsupported []string) {
	for name := range builtins {
		supported = append(supported, name)
	}
	slices.Sort(supported)
	return supported, slices.Clone(notImplemented)
}

// IsBuiltin says whether name is run by the interpreter itself.
func IsBuiltin(name string) bool { return builtins[name] != nil }

// outputLimit bounds what backtick and withstdinas read into a variable:
// more could not be passed to a program anyway.
const outputLimit = 1 << 20

func usageError(cmd, u string) error {
	return &Error{ExitUsage, cmd, "usage: " + u}
}

// exitCodeArg parses if's -x argument.
func exitCodeArg(cmd, s string) (int, error) {
	n, err := strconv.ParseUint(s, 10, 8)
	if err != nil {
		return 0, errorf(ExitUsage, cmd, "invalid exit code %q: expected 0 to 255", s)
	}
	return int(n), nil
}

// if [ -X ] [ -n ] [ -t | -x exitcode ] { prog1... } prog2...
func ifCmd(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "if [ -X ] [ -n ] [ -t | -x exitcode ] { prog1... } prog2..."
	not, crashFalse, code := false, false, -1
	args, err := getopt(cmd, args, "nXtx:", u, func(o byte, a string) (err error) {
		switch o {
		case 'n':
			not = true
		case 'X':
			crashFalse = true
		case 't':
			code = 0
		case 'x':
			code, err = exitCodeArg(cmd, a)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	block, rest, err := m.block(cmd, args, env)
	if err != nil {
		return nil, nil, err
	}
	st, err := m.run(cmd, block, env)
	if err != nil {
		return nil, nil, err
	}
	success := st.Exited() && st.ExitStatus() == 0
	var exit *Error
	switch {
	case st.Signaled() && !crashFalse:
		exit = errorf(128+int(st.Signal()), cmd, "child crashed with signal %d", int(st.Signal()))
	case not && success:
		exit = &Error{Code: 1}
	case !not && !success:
		exit = &Error{Code: approx(st)}
	}
	if exit != nil {
		if code >= 0 {
			exit.Code = code
		}
		return nil, nil, exit
	}
	return rest, env, nil
}

// foreground { prog1... } prog2...
func foreground(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	block, rest, err := m.block(cmd, args, env)
	if err != nil {
		return nil, nil, err
	}
	st, err := m.run(cmd, block, env)
	if err != nil {
		return nil, nil, err
	}
	code := st.ExitStatus()
	if st.Signaled() {
		code = 256 + int(st.Signal())
	}
	return rest, setenv(env, "?", strconv.Itoa(code)), nil
}

// background [ -d ] { prog1... } prog2...
func background(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "background [ -d ] { prog1... } prog2..."
	detach := false
	args, err := getopt(cmd, args, "d", u, func(byte, string) error { detach = true; return nil })
	if err != nil {
		return nil, nil, err
	}
	block, rest, err := m.block(cmd, args, env)
	if err != nil {
		return nil, nil, err
	}
	pid, err := m.spawn(cmd, block, env, [3]int{0, 1, 2}, detach)
	if err != nil {
		return nil, nil, err
	}
	return rest, setenv(env, "!", strconv.Itoa(pid)), nil
}

// readAll reads a descriptor until end of file.
func (m *Machine) readAll(cmd string, fd int, what string) (string, error) {
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := m.Sys.Read(fd, buf)
		if err != nil {
			return "", errorf(ExitSys, cmd, "cannot read %s: %v", what, err)
		}
		if n == 0 {
			return string(out), nil
		}
		if out = append(out, buf[:n]...); len(out) > outputLimit {
			return "", errorf(ExitSys, cmd, "%s is larger than %d bytes", what, outputLimit)
		}
	}
}

// checkVar refuses names that cannot be environment variables.
func checkVar(cmd, name, u string) error {
	if name == "" || strings.IndexByte(name, '=') >= 0 {
		return errorf(ExitUsage, cmd, "invalid variable name %q: expected a non-empty name without =; usage: %s", name, u)
	}
	return nil
}

// autoimport is what -E of backtick and withstdinas execute into.
func autoimport(name string, rest []string) []string {
	return append([]string{"importas", "-ui", name, name}, rest...)
}

// backtick [ -i | -I | -x | -D default ] [ -N | -n ] [ -E | -e ] variable { prog1... } prog2...
func backtick(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "backtick [ -i | -I | -x | -D default ] [ -N | -n ] [ -E | -e ] variable { prog1... } prog2..."
	onFail, def, chomp, auto := byte('i'), "", true, false
	args, err := getopt(cmd, args, "iIxD:NnEe", u, func(o byte, a string) error {
		switch o {
		case 'i', 'I', 'x', 'D':
			onFail, def = o, a
		case 'N', 'n':
			chomp = o == 'n'
		case 'E', 'e':
			auto = o == 'E'
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 0 {
		return nil, nil, usageError(cmd, u)
	}
	name := args[0]
	if err := checkVar(cmd, name, u); err != nil {
		return nil, nil, err
	}
	block, rest, err := m.block(cmd, args[1:], env)
	if err != nil {
		return nil, nil, err
	}
	value, st := "", syscall.WaitStatus(0)
	if len(block) > 0 {
		r, w, err := m.Sys.Pipe()
		if err != nil {
			return nil, nil, errorf(ExitSys, cmd, "cannot make a pipe: %v", err)
		}
		pid, err := m.spawn(cmd, block, env, [3]int{0, w, 2}, false)
		m.Sys.Close(w)
		if err != nil {
			m.Sys.Close(r)
			return nil, nil, err
		}
		value, err = m.readAll(cmd, r, "the output of "+block[0])
		m.Sys.Close(r)
		if err != nil {
			return nil, nil, err
		}
		if st, err = m.wait(cmd, pid); err != nil {
			return nil, nil, err
		}
	}
	var fail *Error
	nul := strings.IndexByte(value, 0)
	switch {
	case st.Signaled():
		fail = errorf(128+int(st.Signal()), cmd, "%s: child crashed with signal %d", name, int(st.Signal()))
	case st.ExitStatus() != 0:
		fail = errorf(approx(st), cmd, "%s: child exited %d", name, st.ExitStatus())
	case nul >= 0:
		fail = errorf(124, cmd, "%s: the child's output contains a null character", name)
	}
	if fail != nil {
		switch onFail {
		case 'i':
			return nil, nil, fail
		case 'I':
			if nul >= 0 {
				value = value[:nul]
			}
		case 'x':
			env = unsetenv(env, name)
			if auto {
				rest = autoimport(name, rest)
			}
			return rest, env, nil
		case 'D':
			value, chomp = def, false
		}
	}
	if chomp {
		value = strings.TrimSuffix(value, "\n")
	}
	if auto {
		rest = autoimport(name, rest)
	}
	return rest, setenv(env, name, value), nil
}

// withstdinas [ -i | -I | -D default ] [ -N | -n ] [ -E | -e ] variable prog...
func withstdinas(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "withstdinas [ -i | -I | -D default ] [ -N | -n ] [ -E | -e ] variable prog..."
	onNul, def, chomp, auto := byte(0), "", true, false
	args, err := getopt(cmd, args, "iID:NnEe", u, func(o byte, a string) error {
		switch o {
		case 'i', 'I', 'D':
			onNul, def = o, a
		case 'N', 'n':
			chomp = o == 'n'
		case 'E', 'e':
			auto = o == 'E'
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 0 {
		return nil, nil, usageError(cmd, u)
	}
	name, rest := args[0], args[1:]
	if err := checkVar(cmd, name, u); err != nil {
		return nil, nil, err
	}
	value, err := m.readAll(cmd, 0, "standard input")
	if err != nil {
		return nil, nil, err
	}
	if auto {
		rest = autoimport(name, rest)
	}
	if nul := strings.IndexByte(value, 0); nul >= 0 {
		switch onNul {
		case 'i':
			return nil, nil, errorf(1, cmd, "%s: standard input contains a null character", name)
		case 'I':
			return rest, unsetenv(env, name), nil
		case 'D':
			value, chomp = def, false
		default:
			value = value[:nul]
		}
	}
	if chomp {
		value = strings.TrimSuffix(value, "\n")
	}
	return rest, setenv(env, name, value), nil
}

// option applies a transformation option (-s -C -c -N -n -d).
func (t *transform) option(o byte, a string) {
	switch o {
	case 's':
		t.split = true
	case 'C', 'c':
		t.crunch = o == 'C'
	case 'N', 'n':
		t.chomp = o == 'n'
	case 'd':
		t.delim = a
	}
}

const (
	uDefine   = "define [ -s ] [ -C | -c ] [ -N | -n ] [ -d delim ] variable value prog..."
	uImportas = "importas [ -i | -D default ] [ -u ] [ -s ] [ -C | -c ] [ -N | -n ] [ -d delim ] variable envvar prog..." +
		" | importas -S [ options ] envvar prog..."
)

// parseDefine reads define's options and arguments.
func parseDefine(cmd string, args []string) (subst, []string, error) {
	t := transform{delim: defaultDelim}
	args, err := getopt(cmd, args, "sCcNnd:", uDefine, func(o byte, a string) error { t.option(o, a); return nil })
	if err != nil {
		return subst{}, nil, err
	}
	if len(args) < 2 {
		return subst{}, nil, usageError(cmd, uDefine)
	}
	if bad := badKey(args[0]); bad != "" {
		return subst{}, nil, errorf(ExitUsage, cmd, "%s; usage: %s", bad, uDefine)
	}
	values, err := t.apply(args[1])
	if err != nil {
		return subst{}, nil, errorf(ExitUsage, cmd, "%s: %v", args[0], err)
	}
	return subst{args[0], values}, args[2:], nil
}

// parseImportas reads importas's options and arguments and looks the
// variable up; unexport is the variable to remove (-u), or "".
func parseImportas(cmd string, args, env []string) (s subst, unexport string, rest []string, err error) {
	t := transform{delim: defaultDelim}
	insist, unexp, same := false, false, false
	var def *string
	args, err = getopt(cmd, args, "iD:uSsCcNnd:", uImportas, func(o byte, a string) error {
		switch o {
		case 'i':
			insist = true
		case 'S':
			same = true
		case 'D':
			def = &a
		case 'u':
			unexp = true
		default:
			t.option(o, a)
		}
		return nil
	})
	if err != nil {
		return subst{}, "", nil, err
	}
	if same && len(args) > 0 {
		// "-S: import with same name ... importas -S var is the same as
		// importas var var."
		args = append([]string{args[0]}, args...)
	}
	if len(args) < 2 {
		return subst{}, "", nil, usageError(cmd, uImportas)
	}
	key, name := args[0], args[1]
	if bad := badKey(key); bad != "" {
		return subst{}, "", nil, errorf(ExitUsage, cmd, "%s; usage: %s", bad, uImportas)
	}
	if unexp {
		unexport = name
	}
	v, ok := getenv(env, name)
	if !ok {
		if insist {
			return subst{}, "", nil, errorf(ExitUsage, cmd, "%s is not set in the environment (-i)", name)
		}
		if def == nil {
			// "no word is returned (that is different from the empty word)"
			return subst{key, nil}, unexport, args[2:], nil
		}
		v = *def
	}
	values, err := t.apply(v)
	if err != nil {
		return subst{}, "", nil, errorf(ExitUsage, cmd, "%s: %v", name, err)
	}
	return subst{key, values}, unexport, args[2:], nil
}

// define [ -s ] [ -C | -c ] [ -N | -n ] [ -d delim ] variable value prog...
func define(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	s, rest, err := parseDefine(cmd, args)
	if err != nil {
		return nil, nil, err
	}
	return substitute(rest, []subst{s}), env, nil
}

// importas [ -i | -D default ] [ -u ] [ -s ] [ -C | -c ] [ -N | -n ] [ -d delim ] variable envvar prog...
// importas -S [ options ] envvar prog...
func importas(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	s, unexport, rest, err := parseImportas(cmd, args, env)
	if err != nil {
		return nil, nil, err
	}
	if unexport != "" {
		env = unsetenv(env, unexport)
	}
	return substitute(rest, []subst{s}), env, nil
}

// multisubstitute { [ define ... ] [ importas ... ] ... } prog...
func multisubstitute(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	block, rest, err := m.block(cmd, args, env)
	if err != nil {
		return nil, nil, err
	}
	var subs []subst
	var unexports []string
	for len(block) > 0 {
		var s subst
		var unexport string
		switch d := block[0]; d {
		case "define":
			s, block, err = parseDefine(cmd+": define", block[1:])
		case "importas":
			s, unexport, block, err = parseImportas(cmd+": importas", block[1:], env)
		case "elglob", "elgetpositionals", "multidefine":
			err = errorf(ExitUsage, cmd, "%s is not implemented by this interpreter: expected define or importas", d)
		default:
			err = errorf(ExitUsage, cmd, "unknown substitution command %q: expected define or importas", d)
		}
		if err != nil {
			return nil, nil, err
		}
		subs = append(subs, s)
		if unexport != "" {
			unexports = append(unexports, unexport)
		}
	}
	for _, name := range unexports {
		env = unsetenv(env, name)
	}
	return substitute(rest, subs), env, nil
}

// redirfd -r|-w|-u|-a|-c|-x [ -n ] [ -b ] fd file prog...
func redirfd(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "redirfd -r|-w|-u|-a|-c|-x [ -n ] [ -b ] fd file prog..."
	const modes = syscall.O_APPEND | syscall.O_CREAT | syscall.O_TRUNC | syscall.O_EXCL
	what, flags, changeMode := -1, 0, false
	args, err := getopt(cmd, args, "rwuacxnb", u, func(o byte, _ string) error {
		switch o {
		case 'r':
			what, flags = syscall.O_RDONLY, flags&^modes
		case 'w':
			what, flags = syscall.O_WRONLY, flags&^modes|syscall.O_CREAT|syscall.O_TRUNC
		case 'u':
			what, flags = syscall.O_RDWR, flags&^modes
		case 'a':
			what, flags = syscall.O_WRONLY, flags&^modes|syscall.O_CREAT|syscall.O_APPEND
		case 'c':
			what, flags = syscall.O_WRONLY, flags&^modes|syscall.O_APPEND
		case 'x':
			what, flags = syscall.O_WRONLY, flags&^modes|syscall.O_CREAT|syscall.O_EXCL
		case 'n':
			flags |= syscall.O_NONBLOCK
		case 'b':
			changeMode = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if what < 0 || len(args) < 2 {
		return nil, nil, usageError(cmd, u)
	}
	fd, err := fdArg(cmd, args[0], u)
	if err != nil {
		return nil, nil, err
	}
	file := args[1]
	flags |= what
	nfd, err := m.Sys.Open(file, flags, 0o666)
	if err == syscall.ENXIO && what == syscall.O_WRONLY {
		// A fifo without a reader, opened without blocking: be its reader
		// for the time of the open, so that it succeeds.
		r, rerr := m.Sys.Open(file, syscall.O_RDONLY|syscall.O_NONBLOCK, 0)
		if rerr != nil {
			return nil, nil, errorf(ExitSys, cmd, "cannot open %s for reading: %v", file, rerr)
		}
		nfd, err = m.Sys.Open(file, flags, 0o666)
		m.Sys.Close(r)
	}
	if err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot open %s: %v", file, err)
	}
	if err := m.move(nfd, fd); err != nil {
		m.Sys.Close(nfd)
		return nil, nil, errorf(ExitSys, cmd, "cannot move descriptor %d to %d: %v", nfd, fd, err)
	}
	if changeMode {
		if err := m.Sys.SetNonblock(fd, flags&syscall.O_NONBLOCK == 0); err != nil {
			return nil, nil, errorf(ExitSys, cmd, "cannot change the blocking mode of descriptor %d: %v", fd, err)
		}
	}
	return args[2:], env, nil
}

// fdmove [ -c ] fdto fdfrom prog...
func fdmove(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "fdmove [ -c ] fdto fdfrom prog..."
	dup := false
	args, err := getopt(cmd, args, "c", u, func(byte, string) error { dup = true; return nil })
	if err != nil {
		return nil, nil, err
	}
	if len(args) < 2 {
		return nil, nil, usageError(cmd, u)
	}
	to, err := fdArg(cmd, args[0], u)
	if err != nil {
		return nil, nil, err
	}
	from, err := fdArg(cmd, args[1], u)
	if err != nil {
		return nil, nil, err
	}
	if dup {
		err = m.Sys.Dup2(from, to)
	} else {
		err = m.move(from, to)
	}
	if err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot move descriptor %d to %d: %v", from, to, err)
	}
	return args[2:], env, nil
}

// fdclose fd prog...
func fdclose(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "fdclose fd prog..."
	if len(args) < 1 {
		return nil, nil, usageError(cmd, u)
	}
	fd, err := fdArg(cmd, args[0], u)
	if err != nil {
		return nil, nil, err
	}
	m.Sys.Close(fd) // closing a closed descriptor is no error
	return args[1:], env, nil
}

// export var value prog...
func export(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "export var value prog..."
	if len(args) < 2 {
		return nil, nil, usageError(cmd, u)
	}
	if err := checkVar(cmd, args[0], u); err != nil {
		return nil, nil, err
	}
	return args[2:], setenv(env, args[0], args[1]), nil
}

// unexport var prog...
func unexport(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "unexport var prog..."
	if len(args) < 1 {
		return nil, nil, usageError(cmd, u)
	}
	if err := checkVar(cmd, args[0], u); err != nil {
		return nil, nil, err
	}
	return args[1:], unsetenv(env, args[0]), nil
}

// exec [ -c ] [ -l ] [ -a argv0 ] prog...
func execCmd(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "exec [ -c ] [ -l ] [ -a argv0 ] prog..."
	clear, login := false, false
	var argv0 *string
	args, err := getopt(cmd, args, "cla:", u, func(o byte, a string) error {
		switch o {
		case 'c':
			clear = true
		case 'l':
			login = true
		case 'a':
			argv0 = &a
		}
		return nil
	})
	if err != nil || len(args) == 0 {
		return nil, nil, err
	}
	path := pathOf(env) // the program is found with the PATH exec had
	if clear {
		env = []string{}
	}
	if builtins[args[0]] != nil {
		// A builtin does not depend on its argv[0].
		return args, env, nil
	}
	argv := slices.Clone(args)
	if argv0 != nil {
		argv[0] = *argv0
	}
	if login {
		argv[0] = "-" + argv[0]
	}
	return nil, nil, m.execWith(args[0], path, argv, env)
}

// execWith executes into file, looked up in path, with argv and env.
func (m *Machine) execWith(file, path string, argv, env []string) error {
	p, err := m.Sys.LookPath(file, path)
	if err != nil {
		return &Error{ExitNotFound, file, err.Error()}
	}
	err = m.Sys.Exec(p, argv, env)
	if err == syscall.ENOENT {
		return errorf(ExitNotFound, file, "cannot execute %s: %v", p, err)
	}
	return errorf(ExitNoExec, file, "cannot execute %s: %v", p, err)
}

// positional is whether a variable belongs to execlineb's frames of
// positional parameters: "#", "0", "1", ... (any name starting with # or
// a digit).
func positional(base string) bool {
	return base != "" && (base[0] == '#' || '0' <= base[0] && base[0] <= '9')
}

// frame splits a variable name into its base and its depth in the
// environment stack: "#:2" is "#" pushed twice.
func frame(name string) (base string, depth int) {
	if i := strings.LastIndexByte(name, ':'); i > 0 {
		if n, err := strconv.Atoi(name[i+1:]); err == nil && n > 0 {
			return name[:i], n
		}
	}
	return name, 0
}

// push renames the variables that match, one level deeper: # becomes
// #:1, #:1 becomes #:2, and so on ("el_pushenv").
func push(env []string, match func(string) bool) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name := envName(kv)
		if base, depth := frame(name); match(base) {
			kv = base + ":" + strconv.Itoa(depth+1) + kv[len(name):]
		}
		out = append(out, kv)
	}
	return out
}

// pop drops the current level of the variables that match and renames
// the deeper ones one level up.
func pop(env []string, match func(string) bool) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		name := envName(kv)
		base, depth := frame(name)
		if match(base) {
			switch {
			case depth == 0:
				continue
			case depth == 1:
				kv = base + kv[len(name):]
			default:
				kv = base + ":" + strconv.Itoa(depth-1) + kv[len(name):]
			}
		}
		out = append(out, kv)
	}
	return out
}

// emptyenv [ -p ] prog... | emptyenv -c prog... | emptyenv [ -o ] [ -P ] prog...
func emptyenv(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "emptyenv [ -p | -c | -o | -P ] prog..."
	keepPath, clean, popOpt, popPos := false, false, false, false
	args, err := getopt(cmd, args, "pcoP", u, func(o byte, _ string) error {
		switch o {
		case 'p':
			keepPath = true
		case 'c':
			clean = true
		case 'o':
			popOpt = true
		case 'P':
			popPos = true
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	switch {
	case clean:
		// "remove every variable used internally by the execline
		// programs": ! and ?, positional parameters at every depth, and
		// those of elgetopt, execlineb and fdreserve (FD0, FD1...).
		out := env[:0]
		for _, kv := range env {
			name := envName(kv)
			fd := strings.HasPrefix(name, "FD") && len(name) > 2 && strings.Trim(name[2:], "0123456789") == ""
			if name == "!" || name == "?" || positional(name) || strings.HasPrefix(name, "ELGETOPT_") ||
				strings.HasPrefix(name, "EXECLINE_") || fd {
				continue
			}
			out = append(out, kv)
		}
		env = out
	case !popOpt && !popPos:
		p, ok := getenv(env, "PATH")
		env = []string{}
		if keepPath && ok {
			env = append(env, "PATH="+p)
		}
	default:
		env = pop(env, func(base string) bool {
			return popPos && (positional(base) || strings.HasPrefix(base, "EXECLINE_")) ||
				popOpt && strings.HasPrefix(base, "ELGETOPT_")
		})
	}
	return args, env, nil
}

// heredoc [ -d ] fd string prog...
//
// The string is written into the pipe's buffer, enlarged to hold it, so
// no process feeds it and none can be left as a zombie: -d, which makes
// execline's feeder a grandchild for that reason, changes nothing.
func heredoc(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "heredoc [ -d ] fd string prog..."
	args, err := getopt(cmd, args, "d", u, func(byte, string) error { return nil })
	if err != nil {
		return nil, nil, err
	}
	if len(args) < 2 {
		return nil, nil, usageError(cmd, u)
	}
	fd, err := fdArg(cmd, args[0], u)
	if err != nil {
		return nil, nil, err
	}
	s := args[1]
	r, w, err := m.Sys.Pipe()
	if err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot make a pipe: %v", err)
	}
	fail := func(format string, a ...any) ([]string, []string, error) {
		m.Sys.Close(r)
		m.Sys.Close(w)
		return nil, nil, errorf(ExitSys, cmd, format, a...)
	}
	if len(s) > 4096 {
		if n, err := m.Sys.SetPipeSize(w, len(s)); err != nil || n < len(s) {
			return fail("cannot make a pipe that holds %d bytes: %v", len(s), err)
		}
	}
	// Non-blocking: if the pipe cannot hold the string, fail, not hang.
	if err := m.Sys.SetNonblock(w, true); err != nil {
		return fail("cannot set up the pipe: %v", err)
	}
	for b := []byte(s); len(b) > 0; {
		n, err := m.Sys.Write(w, b)
		if err != nil {
			return fail("cannot write the string into the pipe: %v", err)
		}
		b = b[n:]
	}
	m.Sys.Close(w)
	if err := m.move(r, fd); err != nil {
		m.Sys.Close(r)
		return nil, nil, errorf(ExitSys, cmd, "cannot move descriptor %d to %d: %v", r, fd, err)
	}
	return args[2:], env, nil
}

// piperw fdr fdw prog...
func piperw(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "piperw fdr fdw prog..."
	if len(args) < 2 {
		return nil, nil, usageError(cmd, u)
	}
	fdr, err := fdArg(cmd, args[0], u)
	if err != nil {
		return nil, nil, err
	}
	fdw, err := fdArg(cmd, args[1], u)
	if err != nil {
		return nil, nil, err
	}
	if fdr == fdw {
		return nil, nil, errorf(ExitUsage, cmd, "the two descriptors are both %d: expected two different ones", fdr)
	}
	r, w, err := m.Sys.Pipe()
	if err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot make a pipe: %v", err)
	}
	if w == fdr {
		// Placing r would close w: move w out of the way first.
		w2, err := m.Sys.DupCloexec(w)
		if err != nil {
			m.Sys.Close(r)
			m.Sys.Close(w)
			return nil, nil, errorf(ExitSys, cmd, "cannot duplicate descriptor %d: %v", w, err)
		}
		m.Sys.Close(w)
		w = w2
	}
	if err := m.move(r, fdr); err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot move descriptor %d to %d: %v", r, fdr, err)
	}
	if err := m.move(w, fdw); err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot move descriptor %d to %d: %v", w, fdw, err)
	}
	return args[2:], env, nil
}

// pipeline [ -d ] [ -r | -w ] { prog1... } prog2...
func pipeline(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	const u = "pipeline [ -d ] [ -r | -w ] { prog1... } prog2..."
	detach, prog1Reads := false, false
	args, err := getopt(cmd, args, "drw", u, func(o byte, _ string) error {
		switch o {
		case 'd':
			detach = true
		case 'r', 'w':
			prog1Reads = o == 'w'
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	block, rest, err := m.block(cmd, args, env)
	if err != nil {
		return nil, nil, err
	}
	r, w, err := m.Sys.Pipe()
	if err != nil {
		return nil, nil, errorf(ExitSys, cmd, "cannot make a pipe: %v", err)
	}
	// -r (default): prog1 writes to prog2's stdin; -w: prog2 writes to
	// prog1's stdin.
	stdio, theirs, mine, at := [3]int{0, w, 2}, w, r, 0
	if prog1Reads {
		stdio, theirs, mine, at = [3]int{r, 1, 2}, r, w, 1
	}
	pid, err := m.spawn(cmd, block, env, stdio, detach)
	m.Sys.Close(theirs)
	if err != nil {
		m.Sys.Close(mine)
		return nil, nil, err
	}
	if err := m.move(mine, at); err != nil {
		m.Sys.Close(mine)
		return nil, nil, errorf(ExitSys, cmd, "cannot move descriptor %d to %d: %v", mine, at, err)
	}
	return rest, setenv(env, "!", strconv.Itoa(pid)), nil
}
