package execline

import (
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// scriptLimit bounds a script file: its argv must fit in the kernel's
// limits anyway.
const scriptLimit = 1 << 20

const uExeclineb = "execlineb [ -q | -w | -W ] [ -p | -P | -S nmin | -s nmin ] -c script [ args... ]" +
	" | execlineb [ -q | -w | -W ] [ -p | -P | -S nmin | -s nmin ] scriptfile [ args... ]"

// execlineb reads and parses a script (a file, or -c's argument), sets up
// the positional parameters and goes on with the script's argv.
//
// Options: -q, -w, -W unset EXECLINE_STRICT, set it to 1, set it to 2.
// Without -p -P -S -s the current positional parameters (#, 0, 1, ...)
// are pushed (renamed #:1, ...), then # is set to the number of args, 0
// to the script's name (execlineb's own with -c), 1... to the args; -p
// sets them without pushing; -P ignores the args. -S nmin substitutes
// $#, $0, $1... (at least up to nmin, the missing ones being empty) and
// $@ (the args, one word each) in the script instead, without touching
// the environment; -s nmin is the same, except that $@ is the args after
// the first nmin.
func execlineb(m *Machine, cmd string, args, env []string) ([]string, []string, error) {
	strict, mode, nmin := byte(0), byte(0), 0
	var script *string
	args, err := getopt(cmd, args, "qwWpPS:s:c:", uExeclineb, func(o byte, a string) error {
		switch o {
		case 'q', 'w', 'W':
			strict = o
		case 'p', 'P':
			mode = o
		case 'S', 's':
			n, err := strconv.ParseUint(a, 10, 16)
			if err != nil {
				return errorf(ExitUsage, cmd, "-%c %q: expected a number; usage: %s", o, a, uExeclineb)
			}
			mode, nmin = o, int(n)
		case 'c':
			script = &a
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	var text []byte
	name := cmd // $0 with -c: "the execlineb invocation name"
	if script != nil {
		text, m.Script = []byte(*script), "-c"
	} else {
		if len(args) == 0 {
			return nil, nil, usageError(cmd, uExeclineb)
		}
		name, args = args[0], args[1:]
		m.Script = name
		if text, err = readFile(name, scriptLimit, false); err != nil {
			return nil, nil, errorf(ExitSys, "", "cannot read the script: %v", err)
		}
	}
	argv, err := Parse(text)
	if err != nil {
		return nil, nil, &Error{ExitUsage, "", err.Error()}
	}
	switch strict {
	case 'q':
		env = unsetenv(env, "EXECLINE_STRICT")
	case 'w':
		env = setenv(env, "EXECLINE_STRICT", "1")
	case 'W':
		env = setenv(env, "EXECLINE_STRICT", "2")
	}
	switch mode {
	case 0, 'p':
		if mode == 0 {
			env = push(env, positional)
		} else {
			// Overwrite the current frame, deeper ones stay.
			out := env[:0]
			for _, kv := range env {
				if base, depth := frame(envName(kv)); !positional(base) || depth > 0 {
					out = append(out, kv)
				}
			}
			env = out
		}
		env = setenv(env, "#", strconv.Itoa(len(args)))
		env = setenv(env, "0", name)
		for i, a := range args {
			env = setenv(env, strconv.Itoa(i+1), a)
		}
	case 'S', 's':
		if len(args) < nmin {
			switch s, set := strictness(env); {
			case s >= 2:
				return nil, nil, errorf(ExitUsage, "", "%d arguments given, at least %d expected (EXECLINE_STRICT=%d)", len(args), nmin, s)
			case s == 1 || !set:
				m.warn(cmd, "%d arguments given, at least %d expected: the missing ones are empty", len(args), nmin)
			}
		}
		subs := []subst{{"#", []string{strconv.Itoa(len(args))}}, {"0", []string{name}}}
		for i := 1; i <= max(len(args), nmin); i++ {
			v := ""
			if i <= len(args) {
				v = args[i-1]
			}
			subs = append(subs, subst{strconv.Itoa(i), []string{v}})
		}
		at := args
		if mode == 's' {
			at = args[min(nmin, len(args)):]
		}
		subs = append(subs, subst{"@", at})
		argv = substitute(argv, subs)
	}
	return argv, env, nil
}

// Main is the execlineb applet: execlineb's command line, see execlineb.
// It returns only if the script does not end by executing a program.
func Main(args []string, stdout, stderr io.Writer) int {
	m := New("", stderr)
	return m.Report(m.Exec(append([]string{"execlineb"}, args...), os.Environ()))
}

// RunMain is the hidden applet RunApplet, with which System starts blocks
// that begin with a builtin: args are the script's name (for messages),
// the mode ("-", or "detach=FD") and the block.
func RunMain(args []string, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		io.WriteString(stderr, RunApplet+": runs the blocks of execline scripts; not for people\n")
		return ExitUsage
	}
	m := New(args[0], stderr)
	mode, argv := args[1], args[2:]
	if mode == "-" {
		return m.Report(m.Exec(argv, os.Environ()))
	}
	fd, err := strconv.Atoi(strings.TrimPrefix(mode, "detach="))
	if !strings.HasPrefix(mode, "detach=") || err != nil || fd < 3 {
		io.WriteString(stderr, RunApplet+": bad mode "+strconv.Quote(mode)+"\n")
		return ExitUsage
	}
	// The middle of a double fork: start the block, say its pid, exit.
	fcntl(fd, syscall.F_SETFD, syscall.FD_CLOEXEC)
	pid, err := m.spawn("background", argv, os.Environ(), [3]int{0, 1, 2}, false)
	if err != nil {
		return m.Report(err)
	}
	fdWriter(fd).Write([]byte(strconv.Itoa(pid)))
	return 0
}
