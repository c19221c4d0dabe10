package execline

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// A builtin test: doc is the documentation sentence it checks.
type bcase struct {
	doc   string
	argv  []string
	env   []string
	setup func(f *fakeSys)
	want  outcome
}

var env0 = []string{"PATH=/bin"}

// ex is the execution of argv, found by the fake LookPath, with env and
// the descriptors fds.
func ex(argv, env []string, fds map[int]string) *fakeExec {
	return &fakeExec{Path: "/fake/bin/" + argv[0], Argv: argv, Env: env, Fds: fds}
}

// writes is a child that writes out on its stdout and ends with st.
func writes(out string, st syscall.WaitStatus) func(*fakeSys, Child) syscall.WaitStatus {
	return func(f *fakeSys, c Child) syscall.WaitStatus {
		if out != "" {
			f.Write(c.Stdio[1], []byte(out))
		}
		return st
	}
}

func ends(st syscall.WaitStatus) func(*fakeSys, Child) syscall.WaitStatus {
	return func(*fakeSys, Child) syscall.WaitStatus { return st }
}

func spawned(argv string, stdio string, detach bool) string {
	d := "false"
	if detach {
		d = "true"
	}
	return argv + " stdio=" + stdio + " detach=" + d
}

func runCases(t *testing.T, cases []bcase) {
	t.Helper()
	for _, tc := range cases {
		f := newFake(t)
		if tc.setup != nil {
			tc.setup(f)
		}
		env := tc.env
		if env == nil {
			env = env0
		}
		got := f.run(tc.argv, env)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s\n%q (-want +got):\n%s", tc.doc, tc.argv, diff)
		}
	}
}

func TestIf(t *testing.T) {
	yes := []string{"echo", "yes"}
	runCases(t, []bcase{
		{doc: "if reads prog1... in a block. It forks and executes it, then waits for it to complete. ... Else if execs into prog2.",
			argv: []string{"if", " true", "", "echo", "yes"}, setup: func(f *fakeSys) { f.child = ends(0) },
			want: outcome{Exec: ex(yes, env0, std(nil)), Spawned: []string{spawned(`["true"]`, "[0 1 2]", false)}}},
		{doc: "If prog1 exits with a non-zero code, if exits with an approximation of that code.",
			argv: []string{"if", " false", "", "echo", "yes"}, setup: func(f *fakeSys) { f.child = ends(exited(3)) },
			want: outcome{Code: 3, Spawned: []string{spawned(`["false"]`, "[0 1 2]", false)}}},
		{doc: "If C exited 128 or more: P exits 128. (exitcodes)",
			argv: []string{"if", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(exited(200)) },
			want: outcome{Code: 128, Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "If prog1 crashes, if prints an error message then exits 128 plus the number of the signal that killed prog1.",
			argv: []string{"if", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(killed(syscall.SIGTERM)) },
			want: outcome{Code: 143, Msg: "if: child crashed with signal 15", Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-n: Negate the test. If prog1 exits true, then if will exit 1",
			argv: []string{"if", "-n", " true", "", "y"}, setup: func(f *fakeSys) { f.child = ends(0) },
			want: outcome{Code: 1, Spawned: []string{spawned(`["true"]`, "[0 1 2]", false)}}},
		{doc: "-n: ... else it will exec into prog2.",
			argv: []string{"if", "-n", " false", "", "echo", "yes"}, setup: func(f *fakeSys) { f.child = ends(exited(1)) },
			want: outcome{Exec: ex(yes, env0, std(nil)), Spawned: []string{spawned(`["false"]`, "[0 1 2]", false)}}},
		{doc: "-n with a crash and without -X: the crash is reported",
			argv: []string{"if", "-n", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(killed(syscall.SIGKILL)) },
			want: outcome{Code: 137, Msg: "if: child crashed with signal 9", Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-X: Treat a crash of prog1 as a non-zero (\"false\") exit. This is mostly useful in combination with -n.",
			argv: []string{"if", "-Xn", " x", "", "echo", "yes"}, setup: func(f *fakeSys) { f.child = ends(killed(syscall.SIGKILL)) },
			want: outcome{Exec: ex(yes, env0, std(nil)), Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-X: Treat a crash of prog1 as a non-zero (\"false\") exit. (without -n: if exits, silently)",
			argv: []string{"if", "-X", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(killed(syscall.SIGKILL)) },
			want: outcome{Code: 137, Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-x exitcode: If if needs to exit, it will exit exitcode instead of whatever else it would have exited.",
			argv: []string{"if", "-x", "5", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(exited(1)) },
			want: outcome{Code: 5, Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-x exitcode ... (a crash too, still reported)",
			argv: []string{"if", "-x5", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(killed(syscall.SIGTERM)) },
			want: outcome{Code: 5, Msg: "if: child crashed with signal 15", Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-t: If if needs to exit, it will exit 0. This is equivalent to -x 0.",
			argv: []string{"if", "-t", " x", "", "y"}, setup: func(f *fakeSys) { f.child = ends(exited(1)) },
			want: outcome{Code: 0, Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "-x needs an exit code",
			argv: []string{"if", "-x", "300", " x", "", "y"},
			want: outcome{Code: 100, Msg: `if: invalid exit code "300": expected 0 to 255`}},
		{doc: "All these commands exit ... 100 if they encounter a permanent error - such as a misuse.",
			argv: []string{"if", "-k", " x", "", "y"},
			want: outcome{Code: 100, Msg: "if: unknown option -k; usage: if [ -X ] [ -n ] [ -t | -x exitcode ] { prog1... } prog2..."}},
		{doc: "(a block must end with an empty word)",
			argv: []string{"if", " x", " y"},
			want: outcome{Code: 100, Msg: "if: unterminated block: expected an empty word (a }) to end it"}},
		{doc: "The empty instruction is the same as the true command (an empty block is not spawned)",
			argv: []string{"if", "", "echo", "yes"},
			want: outcome{Exec: ex(yes, env0, std(nil))}},
		{doc: "(a block whose program is not found cannot be spawned: exit 111, as execline's spawn failure)",
			argv: []string{"if", " nope", "", "y"}, setup: func(f *fakeSys) { f.missing = map[string]bool{"nope": true} },
			want: outcome{Code: 111, Msg: "if: cannot spawn nope: not found in PATH"}},
		{doc: "if that variable contains 1, commands that read blocks will print a warning message everytime they find an unquoted argument inside a block.",
			argv: []string{"if", "true", " x", "y", "", "echo", "yes"}, env: []string{"PATH=/bin", "EXECLINE_STRICT=1"}, setup: func(f *fakeSys) { f.child = ends(0) },
			want: outcome{Exec: ex(yes, []string{"PATH=/bin", "EXECLINE_STRICT=1"}, std(nil)),
				Stderr:  "execlineb: test: if: warning: unquoted word \"true\" in a block\nexeclineb: test: if: warning: unquoted word \"y\" in a block\n",
				Spawned: []string{spawned(`["true" "x" "y"]`, "[0 1 2]", false)}}},
		{doc: "If that variable contains 2 or a bigger integer, commands will print an error message and die on unquoted arguments.",
			argv: []string{"if", "true", "", "echo", "yes"}, env: []string{"EXECLINE_STRICT=3"},
			want: outcome{Code: 100, Msg: `if: unquoted word "true" in a block (EXECLINE_STRICT=3)`}},
	})
}

func TestForegroundBackground(t *testing.T) {
	runCases(t, []bcase{
		{doc: "foreground sets the ? environment variable to the exit code of prog1. ... foreground then execs into prog2....",
			argv: []string{"foreground", " x", "", "echo"}, env: []string{"?=0", "A=1"}, setup: func(f *fakeSys) { f.child = ends(exited(7)) },
			want: outcome{Exec: ex([]string{"echo"}, []string{"A=1", "?=7"}, std(nil)), Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "If prog1... was killed by a signal, the ? value is 256 plus the signal number.",
			argv: []string{"foreground", " x", "", "echo"}, env: []string{}, setup: func(f *fakeSys) { f.child = ends(killed(syscall.SIGKILL)) },
			want: outcome{Exec: ex([]string{"echo"}, []string{"?=265"}, std(nil)), Spawned: []string{spawned(`["x"]`, "[0 1 2]", false)}}},
		{doc: "foreground { prog1... } prog2... with nested blocks: the inner block stays quoted once",
			argv: []string{"foreground", " if", "  true", " ", " echo", "", "z"}, env: []string{},
			want: outcome{Exec: ex([]string{"z"}, []string{"?=0"}, std(nil)), Spawned: []string{spawned(`["if" " true" "" "echo"]`, "[0 1 2]", false)}}},
		{doc: "It spawns a child executing prog1.... It sets the ! environment variable to the pid of the prog1... process. It then execs into prog2....",
			argv: []string{"background", " sleep", " 1", "", "echo"}, env: []string{},
			want: outcome{Exec: ex([]string{"echo"}, []string{"!=100"}, std(nil)), Spawned: []string{spawned(`["sleep" "1"]`, "[0 1 2]", false)}}},
		{doc: "-d: Doublefork. If the -d option is set, prog1... will run as a grandchild of background.",
			argv: []string{"background", "-d", " sleep", "", "echo"}, env: []string{},
			want: outcome{Exec: ex([]string{"echo"}, []string{"!=100"}, std(nil)), Spawned: []string{spawned(`["sleep"]`, "[0 1 2]", true)}}},
	})
}

func TestBacktick(t *testing.T) {
	bt := func(opts ...string) []string {
		return append(append([]string{"backtick"}, opts...), "X", " prog", "", "next", "$X")
	}
	child := []string{spawned(`["prog"]`, "[0 4 2]", false)}
	runCases(t, []bcase{
		{doc: "It runs prog1... as a child process and saves its output in memory. ... backtick execs into prog2..., with variable added to the environment with prog1...'s output as a value. -n: ... This is the default.",
			argv: bt(), setup: func(f *fakeSys) { f.child = writes("hello\n", 0) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{"PATH=/bin", "X=hello"}, std(nil)), Spawned: child}},
		{doc: "-n: Chomp an ending newline off prog1...'s output. (one)",
			argv: bt("-n"), setup: func(f *fakeSys) { f.child = writes("a\n\n", 0) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{"PATH=/bin", "X=a\n"}, std(nil)), Spawned: child}},
		{doc: "-N: Store prog1...'s output as is, including the last newline, if any.",
			argv: bt("-N"), setup: func(f *fakeSys) { f.child = writes("a\n", 0) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{"PATH=/bin", "X=a\n"}, std(nil)), Spawned: child}},
		{doc: "-E: Autoimport. Instead of exec'ing into prog2..., exec into importas -ui variable variable prog2....",
			argv: bt("-E"), setup: func(f *fakeSys) { f.child = writes("a b\n", 0) },
			want: outcome{Exec: ex([]string{"next", "a b"}, []string{"PATH=/bin"}, std(nil)), Spawned: child}},
		{doc: "-i: backtick exits with an approximation of prog1's exit code ... This is the default.",
			argv: bt(), setup: func(f *fakeSys) { f.child = writes("out", exited(2)) },
			want: outcome{Code: 2, Msg: "backtick: X: child exited 2", Spawned: child}},
		{doc: "-i: ... (a crash: 128 plus the signal)",
			argv: bt("-i"), setup: func(f *fakeSys) { f.child = writes("", killed(syscall.SIGSEGV)) },
			want: outcome{Code: 139, Msg: "backtick: X: child crashed with signal 11", Spawned: child}},
		{doc: "-i: ... or 124 if prog1 wrote a null character.",
			argv: bt(), setup: func(f *fakeSys) { f.child = writes("a\x00b", 0) },
			want: outcome{Code: 124, Msg: "backtick: X: the child's output contains a null character", Spawned: child}},
		{doc: "-I: The value of variable is set to whatever the start of prog1...'s output is, up to the first null character ... chomping is applied if required",
			argv: bt("-I"), setup: func(f *fakeSys) { f.child = writes("a\n\x00b", 0) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{"PATH=/bin", "X=a"}, std(nil)), Spawned: child}},
		{doc: "-I: ... or to whatever prog1... wrote before crashing",
			argv: bt("-I"), setup: func(f *fakeSys) { f.child = writes("part", killed(syscall.SIGKILL)) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{"PATH=/bin", "X=part"}, std(nil)), Spawned: child}},
		{doc: "-x: variable is removed from the environment, and execution proceeds.",
			argv: bt("-x"), env: []string{"X=old"}, setup: func(f *fakeSys) { f.child = writes("new", exited(1)) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{}, std(nil)), Spawned: child}},
		{doc: "-D default: The value of variable is set to default, and execution proceeds.",
			argv: bt("-D", "dflt\n"), env: []string{}, setup: func(f *fakeSys) { f.child = writes("new", exited(1)) },
			want: outcome{Exec: ex([]string{"next", "$X"}, []string{"X=dflt\n"}, std(nil)), Spawned: child}},
		{doc: "(an empty block is true, with empty output)",
			argv: []string{"backtick", "X", "", "next"}, env: []string{},
			want: outcome{Exec: ex([]string{"next"}, []string{"X="}, std(nil))}},
		{doc: "(a variable name is needed)",
			argv: []string{"backtick", "A=B", " x", "", "next"},
			want: outcome{Code: 100, Msg: `backtick: invalid variable name "A=B": expected a non-empty name without =; usage: backtick [ -i | -I | -x | -D default ] [ -N | -n ] [ -E | -e ] variable { prog1... } prog2...`}},
		{doc: "(a variable name is needed)",
			argv: []string{"backtick"},
			want: outcome{Code: 100, Msg: "backtick: usage: backtick [ -i | -I | -x | -D default ] [ -N | -n ] [ -E | -e ] variable { prog1... } prog2..."}},
	})
}

func TestImportasDefine(t *testing.T) {
	runCases(t, []bcase{
		{doc: "importas fetches the value of envvar in the environment. ... then performs variable substitution on prog..., with variable as key and that string as value.",
			argv: []string{"importas", "V", "HOME", "echo", "$V", "${V}x"}, env: []string{"HOME=/root"},
			want: outcome{Exec: ex([]string{"echo", "/root", "/rootx"}, []string{"HOME=/root"}, std(nil))}},
		{doc: "If neither the -D nor the -i option is given, and envvar is undefined, no word is returned (that is different from the empty word).",
			argv: []string{"importas", "V", "NOPE", "echo", "a", "x${V}y", "b"}, env: []string{},
			want: outcome{Exec: ex([]string{"echo", "a", "b"}, []string{}, std(nil))}},
		{doc: "-D default: If this option is given and envvar is undefined, substitute default for the value of variable instead of no word. For instance, to substitute the empty word, use -D \"\".",
			argv: []string{"importas", "-D", "", "V", "NOPE", "echo", "$V"}, env: []string{},
			want: outcome{Exec: ex([]string{"echo", ""}, []string{}, std(nil))}},
		{doc: "-i: Insist. If envvar is undefined, importas will not do anything; instead, it will exit 100 with an error message. This has precedence over any -D option.",
			argv: []string{"importas", "-i", "-D", "d", "V", "NOPE", "echo", "$V"}, env: []string{},
			want: outcome{Code: 100, Msg: "importas: NOPE is not set in the environment (-i)"}},
		{doc: "-u: Unexport. envvar will be removed from the environment after the substitution.",
			argv: []string{"importas", "-u", "V", "A", "echo", "$V"}, env: []string{"A=1", "B=2"},
			want: outcome{Exec: ex([]string{"echo", "1"}, []string{"B=2"}, std(nil))}},
		{doc: "Other options are used to control the substitution mechanism: -s splits",
			argv: []string{"importas", "-s", "V", "A", "echo", "<${V}>"}, env: []string{"A= a  b\n"},
			want: outcome{Exec: ex([]string{"echo", "<>", "<a>", "<>", "<b>"}, []string{"A= a  b\n"}, std(nil))}},
		{doc: "... -s -C crunches, -n chomps, -d sets the delimiters",
			argv: []string{"importas", "-sCn", "-d", ",", "V", "A", "echo", "$V"}, env: []string{"A=a,,b,"},
			want: outcome{Exec: ex([]string{"echo", "a", "b"}, []string{"A=a,,b,"}, std(nil))}},
		{doc: "-S : import with same name. This option allows variable to be omitted; it will be the same as envvar. In other words, importas -S var is the same as importas var var.",
			argv: []string{"importas", "-uS", "A", "echo", "$A"}, env: []string{"A=1", "B=2"},
			want: outcome{Exec: ex([]string{"echo", "1"}, []string{"B=2"}, std(nil))}},
		{doc: "(importas needs a variable and an envvar)",
			argv: []string{"importas", "V"},
			want: outcome{Code: 100, Msg: "importas: usage: " + uImportas}},
		{doc: "A substitution command takes a key, i.e. a string (which can contain any character but $, { and })",
			argv: []string{"importas", "a{b", "A", "x"},
			want: outcome{Code: 100, Msg: `importas: the variable name "a{b" contains $, {, } or \; usage: ` + uImportas}},
		{doc: "define performs variable substitution on prog..., using variable as key and value as value.",
			argv: []string{"define", "FOO", "blah", "echo", "$FOO"},
			want: outcome{Exec: ex([]string{"echo", "blah"}, env0, std(nil))}},
		{doc: "define -s FOO \"v1 v2 v3\" echo prefix-${FOO}-postfix",
			argv: []string{"define", "-s", "FOO", "v1 v2 v3", "echo", "prefix-${FOO}-postfix"},
			want: outcome{Exec: ex([]string{"echo", "prefix-v1-postfix", "prefix-v2-postfix", "prefix-v3-postfix"}, env0, std(nil))}},
		{doc: "define -s -d \"\" A '1:a,2:bb,0:,7:xyz 123,1: ,' echo '$A'",
			argv: []string{"define", "-s", "-d", "", "A", "1:a,2:bb,0:,7:xyz 123,1: ,", "echo", "$A"},
			want: outcome{Exec: ex([]string{"echo", "a", "bb", "", "xyz 123", " "}, env0, std(nil))}},
		{doc: "However, if the value is not a valid sequence of netstrings, the substitution command will die with an error message.",
			argv: []string{"define", "-sd", "", "A", "1:ab,", "echo", "$A"},
			want: outcome{Code: 100, Msg: `define: A: the value is not a sequence of netstrings (LEN:DATA,), as -d "" requires`}},
		{doc: "(substitution inside blocks keeps their quoting)",
			argv: []string{"define", "FOO", "", "foreground", " echo", " ${FOO}", " rm", "", "x"}, setup: func(f *fakeSys) { f.child = ends(0) },
			want: outcome{Exec: ex([]string{"x"}, []string{"PATH=/bin", "?=0"}, std(nil)), Spawned: []string{spawned(`["echo" "" "rm"]`, "[0 1 2]", false)}}},
	})
}

func TestMultisubstitute(t *testing.T) {
	runCases(t, []bcase{
		{doc: "export A wrong multisubstitute { define B ${A} importas A A } echo ${B} ... will print ${A}, because A and B are substituted at the same time.",
			argv: []string{"export", "A", "wrong", "multisubstitute", " define", " B", " ${A}", " importas", " A", " A", "", "echo", "${B}"}, env: []string{},
			want: outcome{Exec: ex([]string{"echo", "${A}"}, []string{"A=wrong"}, std(nil))}},
		{doc: "multisubstitute { define -s A \"a b c d\" define -s B \"1 2 3\" } echo ${A}x${B} ... twelve words",
			argv: []string{"multisubstitute", " define", " -s", " A", " a b", " define", " -s", " B", " 1 2", "", "echo", "${A}x${B}"},
			want: outcome{Exec: ex([]string{"echo", "ax1", "ax2", "bx1", "bx2"}, env0, std(nil))}},
		{doc: "If an importas directive was given with the -i option, and the looked up variable is undefined, multisubstitute will exit 100.",
			argv: []string{"multisubstitute", " importas", " -i", " A", " NOPE", "", "echo"},
			want: outcome{Code: 100, Msg: "multisubstitute: importas: NOPE is not set in the environment (-i)"}},
		{doc: "(importas -u in multisubstitute unexports after the substitution)",
			argv: []string{"multisubstitute", " importas", " -u", " V", " A", " define", " W", " w", "", "echo", "$V", "$W"}, env: []string{"A=1"},
			want: outcome{Exec: ex([]string{"echo", "1", "w"}, []string{}, std(nil))}},
		{doc: "(elglob, elgetpositionals and multidefine directives are not implemented)",
			argv: []string{"multisubstitute", " elglob", " A", " *", "", "echo"},
			want: outcome{Code: 100, Msg: "multisubstitute: elglob is not implemented by this interpreter: expected define or importas"}},
		{doc: "(anything else is not a substitution command)",
			argv: []string{"multisubstitute", " echo", "", "echo"},
			want: outcome{Code: 100, Msg: `multisubstitute: unknown substitution command "echo": expected define or importas`}},
		{doc: "(a directive without its arguments)",
			argv: []string{"multisubstitute", " define", " A", "", "echo"},
			want: outcome{Code: 100, Msg: "multisubstitute: define: usage: " + uDefine}},
	})
}

func TestRedirfd(t *testing.T) {
	r := func(opts ...string) []string {
		return append(append([]string{"redirfd"}, opts...), "1", "/f", "prog")
	}
	prog := []string{"prog"}
	runCases(t, []bcase{
		{doc: "-r: open file for reading.", argv: r("-r"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f r"}))}},
		{doc: "-w: open file for writing, truncating it if it already exists.", argv: r("-w"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f w|creat|trunc"}))}},
		{doc: "-u: open file for reading and writing.", argv: r("-u"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f rw"}))}},
		{doc: "-a: open file for appending, creating it if it doesn't exist.", argv: r("-a"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f w|append|creat"}))}},
		{doc: "-c: open file for appending. Do not create it if it doesn't exist.", argv: r("-c"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f w|append"}))}},
		{doc: "-x: open file for writing, creating it, failing if it already exists.", argv: r("-x"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f w|creat|excl"}))}},
		{doc: "(the last of -r -w -u -a -c -x counts)", argv: r("-a", "-w"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f w|creat|trunc"}))}},
		{doc: "-n: open file in non-blocking mode.", argv: r("-rn"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f r|nonblock nonblock"}))}},
		{doc: "-b: change mode of file after opening it: to non-blocking mode if the -n option was not given",
			argv: r("-r", "-b"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f r nonblock"}))}},
		{doc: "-b: ... to blocking mode if it was.",
			argv: r("-w", "-nb"), want: outcome{Exec: ex(prog, env0, std(map[int]string{1: "/f w|creat|trunc|nonblock"}))}},
		{doc: "redirfd redirects the file descriptor number fd to file (a descriptor that was not open)",
			argv: []string{"redirfd", "-w", "7", "/f", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{7: "/f w|creat|trunc"}))}},
		{doc: "(the file is opened at the lowest free descriptor: when that is fd itself, it is kept)",
			argv: []string{"fdclose", "0", "redirfd", "-r", "0", "/f", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{0: "/f r"}))}},
		{doc: "Opening a fifo for writing, with instant success even if there is no reader: redirfd -w -nb n fifo prog...",
			argv: []string{"redirfd", "-w", "-nb", "3", "/fifo", "prog"}, setup: func(f *fakeSys) { f.openErr = map[string]error{"/fifo#w": syscall.ENXIO} },
			want: outcome{Exec: ex(prog, env0, std(map[int]string{3: "/fifo w|creat|trunc|nonblock"}))}},
		{doc: "One and only one of the -r, -w, -u, -a, -c, or -x options must be given",
			argv: []string{"redirfd", "1", "/f", "prog"},
			want: outcome{Code: 100, Msg: "redirfd: usage: redirfd -r|-w|-u|-a|-c|-x [ -n ] [ -b ] fd file prog..."}},
		{doc: "(fd must be a number)",
			argv: []string{"redirfd", "-r", "x", "/f", "prog"},
			want: outcome{Code: 100, Msg: `redirfd: "x" is not a descriptor number; usage: redirfd -r|-w|-u|-a|-c|-x [ -n ] [ -b ] fd file prog...`}},
		{doc: "All these commands exit 111 if they encounter a temporary error",
			argv: r("-r"), setup: func(f *fakeSys) { f.openErr = map[string]error{"/f": syscall.ENOENT} },
			want: outcome{Code: 111, Msg: "redirfd: cannot open /f: no such file or directory"}},
	})
}

// The fake's Open fails with openErr[path+"#w"] only for writing without
// a reader open: a fifo.
func (f *fakeSys) fifoOpen(path string, flags int) error {
	err := f.openErr[path+"#w"]
	if err == nil || flags&syscall.O_ACCMODE != syscall.O_WRONLY {
		return nil
	}
	for _, e := range f.fds {
		if e.f.name == path && e.f.flags&syscall.O_ACCMODE == syscall.O_RDONLY {
			return nil
		}
	}
	return err
}

func TestFdBuiltins(t *testing.T) {
	prog := []string{"prog"}
	runCases(t, []bcase{
		{doc: "fdmove moves the file descriptor number fdfrom, to number fdto ... fdmove a b prog... is roughly equivalent to sh -c 'exec prog... a>&b b<&-'.",
			argv: []string{"fdmove", "1", "2", "prog"}, want: outcome{Exec: ex(prog, env0, map[int]string{0: "stdin", 1: "stderr"})}},
		{doc: "-c: Duplicate fdfrom to fdto instead of moving it; do not close fdfrom.",
			argv: []string{"fdmove", "-c", "2", "1", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{2: "stdout"}))}},
		{doc: "(moving a descriptor onto itself changes nothing)",
			argv: []string{"fdmove", "1", "1", "prog"}, want: outcome{Exec: ex(prog, env0, std(nil))}},
		{doc: "(moving a closed descriptor is a failure)",
			argv: []string{"fdmove", "1", "9", "prog"}, want: outcome{Code: 111, Msg: "fdmove: cannot move descriptor 9 to 1: bad file descriptor"}},
		{doc: "fdclose closes the file descriptor number fd, then execs into prog with its arguments.",
			argv: []string{"fdclose", "0", "fdclose", "9", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{0: ""}))}},
		{doc: "piperw creates a pipe with descriptor fdw as the writing end and descriptor fdr as the reading end.",
			argv: []string{"piperw", "5", "6", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{5: `pipe1 read ""`, 6: "pipe1 write"}))}},
		{doc: "piperw ... (the pipe's own descriptors are where the other end must go)",
			argv: []string{"piperw", "4", "3", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{4: `pipe1 read ""`, 3: "pipe1 write"}))}},
		{doc: "piperw ... (two different descriptors are needed)",
			argv: []string{"piperw", "3", "3", "prog"}, want: outcome{Code: 100, Msg: "piperw: the two descriptors are both 3: expected two different ones"}},
		{doc: "heredoc execs into prog... with string available on the fd file descriptor.",
			argv: []string{"heredoc", "0", "abc\n", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{0: `pipe1 read "abc\n"`}))}},
		{doc: "-d: Run the process feeding string to fd as a grandchild of heredoc. (there is no such process here)",
			argv: []string{"heredoc", "-d", "5", "", "prog"}, want: outcome{Exec: ex(prog, env0, std(map[int]string{5: `pipe1 read ""`}))}},
		{doc: "(a string larger than a pipe's default buffer: the buffer is enlarged)",
			argv: []string{"heredoc", "0", strings.Repeat("x", 100000), "wc"},
			want: outcome{Exec: ex([]string{"wc"}, env0, std(map[int]string{0: `pipe1 read "` + strings.Repeat("x", 100000) + `"`}))}},
		{doc: "(a string that no pipe can hold is an error, not a hang)",
			argv: []string{"heredoc", "0", strings.Repeat("x", 2<<20), "wc"},
			want: outcome{Code: 111, Msg: "heredoc: cannot make a pipe that holds 2097152 bytes: operation not permitted"}},
		{doc: "export sets the var environment variable to the string value, then execs into prog with its arguments.",
			argv: []string{"export", "A", "1", "export", "B", "", "prog"}, env: []string{"A=0"},
			want: outcome{Exec: ex(prog, []string{"A=1", "B="}, std(nil))}},
		{doc: "var must not contain the character =.",
			argv: []string{"export", "A=B", "1", "prog"},
			want: outcome{Code: 100, Msg: `export: invalid variable name "A=B": expected a non-empty name without =; usage: export var value prog...`}},
		{doc: "unexport removes the var variable from the environment, then execs into prog with its arguments.",
			argv: []string{"unexport", "A", "unexport", "C", "prog"}, env: []string{"A=1", "B=2"},
			want: outcome{Exec: ex(prog, []string{"B=2"}, std(nil))}},
	})
}

func TestPipeline(t *testing.T) {
	runCases(t, []bcase{
		{doc: "It runs prog1... as a child process and execs into prog2..., with a pipe between prog1's stdout and prog2's stdin. prog1's pid is available in prog2 as the ! environment variable.",
			argv: []string{"pipeline", " echo", " hi", "", "cat"}, env: []string{}, setup: func(f *fakeSys) { f.child = writes("hi\n", 0) },
			want: outcome{Exec: ex([]string{"cat"}, []string{"!=100"}, std(map[int]string{0: `pipe1 read "hi\n"`})),
				Spawned: []string{spawned(`["echo" "hi"]`, "[0 4 2]", false)}}},
		{doc: "-w: Make prog1... the reader and prog2... the writer.",
			argv: []string{"pipeline", "-w", " cat", "", "echo"}, env: []string{},
			want: outcome{Exec: ex([]string{"echo"}, []string{"!=100"}, std(map[int]string{1: "pipe1 write"})),
				Spawned: []string{spawned(`["cat"]`, "[3 1 2]", false)}}},
		{doc: "-r: Make prog1... the writer and prog2... the reader. This is the default. -d: Run prog1... as a grandchild of pipeline.",
			argv: []string{"pipeline", "-w", "-r", "-d", " echo", "", "cat"}, env: []string{},
			want: outcome{Exec: ex([]string{"cat"}, []string{"!=100"}, std(map[int]string{0: `pipe1 read ""`})),
				Spawned: []string{spawned(`["echo"]`, "[0 4 2]", true)}}},
	})
}

func TestWithstdinas(t *testing.T) {
	stdin := func(s string) func(*fakeSys) {
		return func(f *fakeSys) { f.fds[0].f.data = []byte(s) }
	}
	next := []string{"next"}
	runCases(t, []bcase{
		{doc: "withstdinas reads its stdin until EOF. It then execs into prog..., with variable added to the environment; the value of variable is what was read on stdin. -n: chomp an ending newline off stdin. This is the default.",
			argv: []string{"withstdinas", "V", "next"}, env: []string{}, setup: stdin("line\n\n"),
			want: outcome{Exec: ex(next, []string{"V=line\n"}, std(nil))}},
		{doc: "-N: do not chomp an ending newline off stdin.",
			argv: []string{"withstdinas", "-N", "V", "next"}, env: []string{}, setup: stdin("line\n"),
			want: outcome{Exec: ex(next, []string{"V=line\n"}, std(nil))}},
		{doc: "neither of those options: the value of variable is set to whatever the start of the input is, up to the first null character",
			argv: []string{"withstdinas", "V", "next"}, env: []string{}, setup: stdin("ab\x00cd"),
			want: outcome{Exec: ex(next, []string{"V=ab"}, std(nil))}},
		{doc: "-i: withstdinas exits 1.",
			argv: []string{"withstdinas", "-i", "V", "next"}, env: []string{}, setup: stdin("ab\x00cd"),
			want: outcome{Code: 1, Msg: "withstdinas: V: standard input contains a null character"}},
		{doc: "-I: variable is removed from the environment, and execution proceeds.",
			argv: []string{"withstdinas", "-I", "V", "next"}, env: []string{"V=old"}, setup: stdin("ab\x00cd"),
			want: outcome{Exec: ex(next, []string{}, std(nil))}},
		{doc: "-D default: the value of variable is set to default, and execution proceeds.",
			argv: []string{"withstdinas", "-D", "d", "V", "next"}, env: []string{}, setup: stdin("\x00"),
			want: outcome{Exec: ex(next, []string{"V=d"}, std(nil))}},
		{doc: "-E: autoimport. Instead of exec'ing into prog..., exec into importas -ui variable variable prog....",
			argv: []string{"withstdinas", "-E", "V", "echo", "${V}!"}, env: []string{}, setup: stdin("in\n"),
			want: outcome{Exec: ex([]string{"echo", "in!"}, []string{}, std(nil))}},
	})
}

func TestExecEmptyenv(t *testing.T) {
	runCases(t, []bcase{
		{doc: "exec execs into prog.... It does nothing else.",
			argv: []string{"exec", "prog", "a"}, want: outcome{Exec: ex([]string{"prog", "a"}, env0, std(nil))}},
		{doc: "-c: Empty the environment. prog is executed with no environment variables.",
			argv: []string{"exec", "-c", "prog"}, want: outcome{Exec: ex([]string{"prog"}, []string{}, std(nil))}},
		{doc: "-l: Login. Prepends prog's argv[0] with a dash.",
			argv: []string{"exec", "-l", "sh"}, want: outcome{Exec: &fakeExec{"/fake/bin/sh", []string{"-sh"}, env0, std(nil)}}},
		{doc: "-a argv0: Replace prog's argv[0] with argv0. This is done before adding a dash, if the -l option is also present.",
			argv: []string{"exec", "-a", "name", "-l", "sh", "x"}, want: outcome{Exec: &fakeExec{"/fake/bin/sh", []string{"-name", "x"}, env0, std(nil)}}},
		{doc: "exec -c ... (and a builtin after it runs in the empty environment)",
			argv: []string{"exec", "-c", "export", "A", "1", "prog"}, want: outcome{Exec: ex([]string{"prog"}, []string{"A=1"}, std(nil))}},
		{doc: "when an execline component must exec into the empty instruction, it exits 0.",
			argv: []string{"exec"}, want: outcome{}},
		{doc: "By default, emptyenv unsets all environment variables, then execs into prog with its arguments.",
			argv: []string{"emptyenv", "prog"}, env: []string{"PATH=/bin", "A=1"}, want: outcome{Exec: ex([]string{"prog"}, []string{}, std(nil))}},
		{doc: "-p: keep the PATH environment variable.",
			argv: []string{"emptyenv", "-p", "prog"}, env: []string{"A=1", "PATH=/bin"}, want: outcome{Exec: ex([]string{"prog"}, []string{"PATH=/bin"}, std(nil))}},
		{doc: "-c: clean up. Do not empty the environment. Instead, remove every variable used internally by the execline programs",
			argv: []string{"emptyenv", "-c", "prog"},
			env:  []string{"!=1", "?=0", "#=1", "0=s", "1=a", "12=b", "#:1=0", "ELGETOPT_n=1", "EXECLINE_STRICT=1", "FD3=x", "FD12=y", "FDISK=z", "HOME=/", "PATH=/bin", "A?=1"},
			want: outcome{Exec: ex([]string{"prog"}, []string{"FDISK=z", "HOME=/", "PATH=/bin", "A?=1"}, std(nil))}},
		{doc: "-P: pop environment variables starting with #, 0 to 9, and EXECLINE_. (el_pushenv: # will be unset but if #:1 exists, it will be renamed #)",
			argv: []string{"emptyenv", "-P", "prog"},
			env:  []string{"#=2", "0=s", "1=a", "12=l", "#:1=1", "0:1=t", "1:1=x", "1:2=y", "HOME=/", "EXECLINE_STRICT=1", "ELGETOPT_n=1"},
			want: outcome{Exec: ex([]string{"prog"}, []string{"#=1", "0=t", "1=x", "1:1=y", "HOME=/", "ELGETOPT_n=1"}, std(nil))}},
		{doc: "-o: pop environment variables starting with ELGETOPT_.",
			argv: []string{"emptyenv", "-o", "prog"}, env: []string{"ELGETOPT_n=1", "ELGETOPT_n:1=2", "#=1"},
			want: outcome{Exec: ex([]string{"prog"}, []string{"ELGETOPT_n=2", "#=1"}, std(nil))}},
		{doc: "(a program that is not found: exit 127)",
			argv: []string{"export", "A", "1", "nope"}, setup: func(f *fakeSys) { f.missing = map[string]bool{"nope": true} },
			want: outcome{Code: 127, Msg: `nope: not found in PATH "/bin"`}},
	})
}

func TestS6Envdir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("A", "first  \t\nsecond\n")
	write("B", "")
	write("C", "x\x00y\n")
	write(".D", "hidden")
	write("E=F", "bad name")
	write("L", strings.Repeat("l", 5000))
	write("V", "v1 \nv2\n")
	long := strings.Repeat("l", 4096)
	base := []string{"B=set", "Z=1"}
	env := func(more ...string) []string { return append([]string{"Z=1"}, more...) }
	runCases(t, []bcase{
		{doc: "If f is empty, remove a variable named f from the environment, if any. Else add a variable named f ... with the first line of the contents of file f as value. Spaces and tabs at the end of this line are removed, as well as any trailing newline; null characters in this line are changed to newlines ... (files that begin with a dot or contain = are skipped; without -L only the first 4096 bytes are read)",
			argv: []string{"s6-envdir", dir, "prog"}, env: base,
			want: outcome{Exec: ex([]string{"prog"}, env("A=first", "C=x\ny", "L="+long, "V=v1"), std(nil))}},
		{doc: "-n: do not chomp. ... If the -f option is not given, keep the trailing blanks at the end of the first line (but not the ending newline).",
			argv: []string{"s6-envdir", "-n", dir, "prog"}, env: base,
			want: outcome{Exec: ex([]string{"prog"}, env("A=first  \t", "C=x\ny", "L="+long, "V=v1 "), std(nil))}},
		{doc: "-f: verbatim mode. All the file is given as the value of the environment variable, including newlines (except the last one if the -n option is not given). Null characters are still translated.",
			argv: []string{"s6-envdir", "-f", dir, "prog"}, env: base,
			want: outcome{Exec: ex([]string{"prog"}, env("A=first  \t\nsecond", "C=x\ny", "L="+long, "V=v1 \nv2"), std(nil))}},
		{doc: "-f -n: If the -f option is given and the file ends with a newline, keep that last newline in the value. -L: do not clamp.",
			argv: []string{"s6-envdir", "-fnL", dir, "prog"}, env: base,
			want: outcome{Exec: ex([]string{"prog"}, env("A=first  \t\nsecond\n", "C=x\ny\n", "L="+strings.Repeat("l", 5000), "V=v1 \nv2\n"), std(nil))}},
		{doc: "-c nullis: replace null characters with the first character of nullis instead of a newline.",
			argv: []string{"s6-envdir", "-c", "_-", dir, "prog"}, env: base,
			want: outcome{Exec: ex([]string{"prog"}, env("A=first", "C=x_y", "L="+long, "V=v1"), std(nil))}},
		{doc: "-i: strict. If dir does not exist, exit 111 with an error message. This is the default.",
			argv: []string{"s6-envdir", dir + "/none", "prog"},
			want: outcome{Code: 111, Msg: "s6-envdir: cannot read the directory " + dir + "/none: no such file or directory"}},
		{doc: "-I: loose. If dir does not exist, exec into prog without modifying the environment first.",
			argv: []string{"s6-envdir", "-I", dir + "/none", "prog"},
			want: outcome{Exec: ex([]string{"prog"}, env0, std(nil))}},
		{doc: "(a file that is not a directory is no envdir, even with -I)",
			argv: []string{"s6-envdir", "-I", dir + "/A", "prog"},
			want: outcome{Code: 111, Msg: "s6-envdir: cannot read the directory " + dir + "/A: not a directory"}},
	})
}

func TestS6Setuidgid(t *testing.T) {
	dir := t.TempDir()
	passwd := filepath.Join(dir, "passwd")
	group := filepath.Join(dir, "group")
	os.WriteFile(passwd, []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\ndaemon:x:1:2::/:/bin/false\nbad:x:x:1::/:\n"), 0o644)
	os.WriteFile(group, []byte("root:x:0:\ndaemon:x:2:\nadm:x:4:root,daemon\nlog:x:5:daemon\nother:x:6:nobody,daemons\n"), 0o644)
	for _, tc := range []struct {
		doc     string
		account string
		ids     string
		code    int
		msg     string
	}{
		{"If account contains a colon, it is interpreted as uid:gid", "10:20", "uid=10 gid=20 groups=[]", 0, ""},
		{"else it is interpreted as a username and looked up by name in the account database. ... It also sets the list of supplementary groups to the correct one for account according to the group database.",
			"daemon", "uid=1 gid=2 groups=[2 4 5]", 0, ""},
		{"(the user's own group is among its groups)", "nobody", "uid=65534 gid=65534 groups=[65534 6]", 0, ""},
		{"If account is the empty string, then s6-setuidgid directly execs into prog... without any state changes.", "", "", 0, ""},
		{"If account is unknown, s6-setuidgid exits 1.", "nosuch", "", 1, `s6-setuidgid: unknown account "nosuch" (looked up in ` + passwd + ")"},
		{"If account is unknown, s6-setuidgid exits 1. (uid:gid that are not numbers)", "a:1", "", 1, `s6-setuidgid: unknown account "a:1" (looked up in ` + passwd + ")"},
		{"(a broken passwd entry)", "bad", "", 111, `s6-setuidgid: cannot look up "bad": ` + passwd + ": bad entry for bad"},
	} {
		f := newFake(t)
		var stderr strings.Builder
		m := &Machine{Sys: f, Stderr: &stderr, Passwd: passwd, Group: group}
		err := m.Exec([]string{"s6-setuidgid", tc.account, "prog"}, nil)
		code, msg := 0, ""
		if e, ok := err.(*Error); ok && f.exec == nil {
			code, msg = e.Code, e.Error()
		}
		if f.ids != tc.ids || code != tc.code || msg != tc.msg || (tc.code == 0) != (f.exec != nil) {
			t.Errorf("%s\ns6-setuidgid %q: ids %q, exit %d %q, executed %v; want %q, %d %q", tc.doc, tc.account, f.ids, code, msg, f.exec != nil, tc.ids, tc.code, tc.msg)
		}
	}
	m := &Machine{Sys: newFake(t), Stderr: &strings.Builder{}, Passwd: filepath.Join(dir, "none"), Group: group}
	if err := m.Exec([]string{"s6-setuidgid", "x", "prog"}, nil); err == nil || !strings.Contains(err.Error(), "no such file or directory") {
		t.Errorf("missing passwd: %v", err)
	}
}

// The execlineb builtin, in-process.
func TestExeclinebBuiltin(t *testing.T) {
	runCases(t, []bcase{
		{doc: "execlineb reads and executes a script. ... -P will bypass positional parameter handling completely",
			argv: []string{"execlineb", "-P", "-c", "foreground { echo 1 } echo 2", "arg"}, setup: func(f *fakeSys) { f.child = ends(0) },
			want: outcome{Exec: ex([]string{"echo", "2"}, []string{"PATH=/bin", "?=0"}, std(nil)), Spawned: []string{spawned(`["echo" "1"]`, "[0 1 2]", false)}}},
		{doc: "It sets the 0 environment variable to the name of the script - or to the execlineb invocation name if the -c option is used.",
			argv: []string{"execlineb", "-c", "prog", "a"}, env: []string{},
			want: outcome{Exec: ex([]string{"prog"}, []string{"#=1", "0=execlineb", "1=a"}, std(nil))}},
		{doc: "If the argv is empty, execlineb exits 0.",
			argv: []string{"execlineb", "-Pc", "# comment only"}, want: outcome{}},
		{doc: "It exits 100 on a syntax error",
			argv: []string{"execlineb", "-Pc", "a {\nb"}, want: outcome{Code: 100, Msg: "line 1: unmatched {: the block opened here is not closed by a } before the end of the script"}},
		{doc: "execlineb -S3 ... missing positional parameters, up to nmin, will be substituted with the empty word.",
			argv: []string{"execlineb", "-S", "2", "-c", "prog $# [${1}] [${2}] $@", "a"}, env: []string{"EXECLINE_STRICT=0"},
			want: outcome{Exec: ex([]string{"prog", "1", "[a]", "[]", "a"}, []string{"EXECLINE_STRICT=0"}, std(nil))}},
		{doc: "(options: -S needs a number)",
			argv: []string{"execlineb", "-S", "x", "-c", "prog"},
			want: outcome{Code: 100, Msg: `execlineb: -S "x": expected a number; usage: ` + uExeclineb}},
		{doc: "You can force it unset, set to 1, or set to 2 by giving respectively the -q, -w or -W option to execlineb.",
			argv: []string{"execlineb", "-PWc", `foreground echo x "" prog`}, env: []string{},
			want: outcome{Code: 100, Msg: `foreground: unquoted word "echo" in a block (EXECLINE_STRICT=2)`}},
		{doc: "-q: force it unset",
			argv: []string{"execlineb", "-Pqc", `foreground echo x "" prog`}, env: []string{"EXECLINE_STRICT=2"},
			want: outcome{Exec: ex([]string{"prog"}, []string{"?=0"}, std(nil)), Spawned: []string{spawned(`["echo" "x"]`, "[0 1 2]", false)}}},
	})
}

// What Report prints and returns, and Builtins' lists.
func TestReportAndBuiltins(t *testing.T) {
	var b strings.Builder
	m := &Machine{Stderr: &b, Script: "/etc/up"}
	for _, tc := range []struct {
		err  error
		code int
		out  string
	}{
		{nil, 0, ""},
		{&Error{Code: 1}, 1, ""},
		{&Error{100, "if", "usage: x"}, 100, "execlineb: /etc/up: if: usage: x\n"},
		{&Error{100, "", "line 2: unmatched }"}, 100, "execlineb: /etc/up: line 2: unmatched }\n"},
		{syscall.EIO, 111, "execlineb: /etc/up: input/output error\n"},
	} {
		b.Reset()
		if code := m.Report(tc.err); code != tc.code || b.String() != tc.out {
			t.Errorf("Report(%v) = %d %q, want %d %q", tc.err, code, b.String(), tc.code, tc.out)
		}
	}
	sup, unsup := Builtins()
	want := []string{"background", "backtick", "define", "emptyenv", "exec", "execlineb", "export", "fdclose", "fdmove", "foreground",
		"heredoc", "if", "importas", "multisubstitute", "pipeline", "piperw", "redirfd", "s6-envdir", "s6-setuidgid", "unexport", "withstdinas"}
	if diff := cmp.Diff(want, sup); diff != "" {
		t.Errorf("supported (-want +got):\n%s", diff)
	}
	for _, name := range unsup {
		if IsBuiltin(name) {
			t.Errorf("%s is both supported and not", name)
		}
	}
	for _, name := range []string{"elglob", "forx", "forbacktickx", "loopwhilex", "trap", "tryexec", "getpid", "ifelse", "case", "s6-softlimit"} {
		if !strings.Contains(" "+strings.Join(unsup, " ")+" ", " "+name+" ") {
			t.Errorf("%s is not in the unsupported list", name)
		}
	}
}

func TestGetopt(t *testing.T) {
	for _, tc := range []struct {
		args []string
		opts string
		rest []string
		err  string
	}{
		{[]string{"-a", "-b", "x"}, "a b", []string{"x"}, ""},
		{[]string{"-ab", "x"}, "a b", []string{"x"}, ""},
		{[]string{"-cval", "x"}, "c=val", []string{"x"}, ""},
		{[]string{"-c", "val", "x"}, "c=val", []string{"x"}, ""},
		{[]string{"-ac", "", "x"}, "a c=", []string{"x"}, ""},
		{[]string{"--", "-a"}, "", []string{"-a"}, ""},
		{[]string{"-", "-a"}, "", []string{"-", "-a"}, ""},
		{[]string{" -a"}, "", []string{" -a"}, ""},
		{[]string{}, "", []string{}, ""},
		{[]string{"-z"}, "", nil, "cmd: unknown option -z; usage: U"},
		{[]string{"-c"}, "", nil, "cmd: option -c needs an argument; usage: U"},
		{[]string{"-:"}, "", nil, "cmd: unknown option -:; usage: U"},
	} {
		var seen []string
		rest, err := getopt("cmd", tc.args, "abc:", "U", func(o byte, a string) error {
			if o == 'c' {
				seen = append(seen, "c="+a)
			} else {
				seen = append(seen, string(o))
			}
			return nil
		})
		gotErr := ""
		if err != nil {
			gotErr = err.Error()
		}
		if gotErr != tc.err || (err == nil && (!cmp.Equal(rest, tc.rest) || strings.Join(seen, " ") != tc.opts)) {
			t.Errorf("getopt(%q) = %q %q, %v; want %q %q, %q", tc.args, seen, rest, err, tc.opts, tc.rest, tc.err)
		}
	}
}
