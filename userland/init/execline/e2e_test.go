package execline

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The test binary doubles as the device's binary: run as "execlineb" it
// is the applet, and as RunApplet it runs blocks, which is how the real
// System starts them (/proc/self/exe with argv[0] RunApplet).
func TestMain(m *testing.M) {
	switch filepath.Base(os.Args[0]) {
	case RunApplet:
		os.Exit(RunMain(os.Args[1:], os.Stdout, os.Stderr))
	case "execlineb":
		os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

type result struct {
	Code           int
	Stdout, Stderr string
}

// execlinebCmd is `execlineb ARGS...`, run by this test binary.
func execlinebCmd(t *testing.T, ctx context.Context, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Args = append([]string{"execlineb"}, args...)
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin")
	return cmd
}

// runExeclineb runs `execlineb ARGS...` with stdin and env (added to the
// test's), bounded by a deadline.
func runExeclineb(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := execlinebCmd(t, ctx, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("execlineb %q: %v", args, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("execlineb %q did not end in time", args)
	}
	return result{code, out.String(), errb.String()}
}

// Scripts run through the real applet: builtins chain-load in-process,
// blocks run in child processes (this binary again, or the program), and
// the script ends by executing into a real program.
func TestEndToEnd(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	envdir := filepath.Join(dir, "env")
	os.Mkdir(envdir, 0o755)
	file("env/NAME", "router  \t\nsecond line\n")
	file("env/EMPTY", "")
	file("env/NUL", "a\x00b\n")
	file("env/.hidden", "no\n")
	hostname := file("hostname", "gw\n")
	out := filepath.Join(dir, "out")
	// waitOut waits until a process in the background wrote out, then
	// prints it.
	waitOut := `sh -c "until test -s ` + out + `; do sleep 0.01; done; cat ` + out + `"`
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		script string
		stdin  string
		env    []string
		want   result
		file   string // expected content of out, if not ""
	}{
		{name: "if true", script: "if { true } echo yes", want: result{0, "yes\n", ""}},
		{name: "if false exits 1", script: "if { false } echo yes", want: result{1, "", ""}},
		{name: "if exit code approximated", script: `if { sh -c "exit 3" } echo yes`, want: result{3, "", ""}},
		{name: "if -n", script: "if -n { false } echo no", want: result{0, "no\n", ""}},
		{name: "if -t", script: "if -t { false } echo yes", want: result{0, "", ""}},
		{name: "foreground sets ?", script: `foreground { sh -c "exit 7" } importas -u ? ? echo $?`, want: result{0, "7\n", ""}},
		{name: "foreground crash", script: `foreground { sh -c "kill -TERM $$" } importas ? ? echo $?`, want: result{0, "271\n", ""}},
		{name: "builtins in blocks", script: "foreground { if { true } echo inner } echo outer", want: result{0, "inner\nouter\n", ""}},
		{name: "nested blocks", script: "foreground { foreground { echo a } echo b } echo c", want: result{0, "a\nb\nc\n", ""}},
		{name: "redirfd -w", script: "redirfd -w 1 " + out + " echo written", file: "written\n"},
		{name: "redirfd -a", script: "foreground { redirfd -w 1 " + out + " echo one } redirfd -a 1 " + out + " echo two", file: "one\ntwo\n"},
		{name: "redirfd -r", script: "redirfd -r 0 " + hostname + " cat", want: result{0, "gw\n", ""}},
		{name: "redirfd -w -nb fifo without reader", script: "redirfd -w -nb 3 " + fifo + " echo opened", want: result{0, "opened\n", ""}},
		{name: "redirfd missing file", script: "redirfd -r 0 " + dir + "/missing cat",
			want: result{111, "", "execlineb: -c: redirfd: cannot open " + dir + "/missing: no such file or directory\n"}},
		{name: "backtick importas", script: "backtick -n X { echo hi } importas -u X X echo got $X", want: result{0, "got hi\n", ""}},
		{name: "backtick -E", script: "backtick -E X { echo hi there } echo ${X}!", want: result{0, "hi there!\n", ""}},
		{name: "backtick -i fails", script: "backtick X { false } echo no", want: result{1, "", "execlineb: -c: backtick: X: child exited 1\n"}},
		{name: "backtick -D", script: "backtick -D dflt X { false } importas X X echo $X", want: result{0, "dflt\n", ""}},
		{name: "importas -s splits", script: `export V "a b  c" importas -s V V echo [${V}]`, want: result{0, "[a] [b] [] [c]\n", ""}},
		{name: "importas -i unset", script: "unexport NOPE importas -i N NOPE echo $N",
			want: result{100, "", "execlineb: -c: importas: NOPE is not set in the environment (-i)\n"}},
		{name: "multisubstitute", script: "export A wrong multisubstitute { define B ${A} importas A A } echo ${B}", want: result{0, "${A}\n", ""}},
		{name: "pipeline", script: "pipeline { echo hello } tr a-z A-Z", want: result{0, "HELLO\n", ""}},
		{name: "pipeline -w", script: "pipeline -w { tr a-z A-Z } echo world", want: result{0, "WORLD\n", ""}},
		{name: "pipeline chain", script: "pipeline { echo abc } pipeline { tr a-z A-Z } rev", want: result{0, "CBA\n", ""}},
		{name: "pipeline sets !", script: "pipeline { echo x } importas -u P ! if { test -n $P } cat", want: result{0, "x\n", ""}},
		{name: "heredoc", script: `heredoc 0 "abc\n" cat`, want: result{0, "abc\n", ""}},
		{name: "heredoc larger than a pipe", script: "backtick -n S { sh -c \"head -c 200000 /dev/zero | tr '\\\\000' x\" } importas -u S S heredoc 0 $S wc -c",
			want: result{0, "200000\n", ""}},
		{name: "withstdinas", script: "withstdinas -n V importas -u V V echo <${V}>", stdin: "line\n", want: result{0, "<line>\n", ""}},
		{name: "piperw fdmove", script: "piperw 3 4 background { fdclose 3 fdmove 1 4 echo through } fdclose 4 fdmove 0 3 cat",
			want: result{0, "through\n", ""}},
		{name: "fdmove -c 2 1", script: "fdmove -c 2 1 sh -c \"echo to-stderr >&2\"", want: result{0, "to-stderr\n", ""}},
		{name: "s6-envdir", script: "s6-envdir " + envdir + " importas -D unset E EMPTY importas NAME NAME importas NUL NUL importas -D none H .hidden echo $NAME $E $NUL $H",
			env: []string{"EMPTY=was-set"}, want: result{0, "router unset a\nb none\n", ""}},
		{name: "s6-envdir missing", script: "s6-envdir -I " + dir + "/none echo loose", want: result{0, "loose\n", ""}},
		{name: "define and exec -a", script: "define N myname exec -a $N cat /proc/self/cmdline", want: result{0, "myname\x00/proc/self/cmdline\x00", ""}},
		{name: "emptyenv -p", script: "export A 1 emptyenv -p env", want: result{0, "PATH=/usr/bin:/bin\n", ""}},
		{name: "background", script: "background { redirfd -w 1 " + out + " echo bg } importas -u P ! if { test ${P} -gt 1 } " + waitOut,
			want: result{0, "bg\n", ""}},
		{name: "background -d", script: "background -d { redirfd -w 1 " + out + " echo detached } importas -u P ! if { test ${P} -gt 1 } " + waitOut,
			want: result{0, "detached\n", ""}},
		{name: "background -d with stdin and stdout closed", script: "fdmove -c 5 1 fdclose 0 fdclose 1 background -d { redirfd -w 1 " + out + " echo detached } fdmove 1 5 " + waitOut,
			want: result{0, "detached\n", ""}},
		{name: "pipeline -d", script: "pipeline -d { echo grandchild } cat", want: result{0, "grandchild\n", ""}},
		{name: "empty script", script: "# nothing\n", want: result{0, "", ""}},
		{name: "empty block", script: "if { } echo ok", want: result{0, "ok\n", ""}},
		{name: "not found", script: "nonexistent-program-x arg",
			want: result{127, "", "execlineb: -c: nonexistent-program-x: not found in PATH \"/usr/bin:/bin\"\n"}},
		{name: "not found in a block", script: "foreground { nonexistent-program-x } echo after",
			want: result{111, "", "execlineb: -c: foreground: cannot spawn nonexistent-program-x: not found in PATH \"/usr/bin:/bin\"\n"}},
		{name: "not found after a builtin in a block", script: "foreground { export A 1 nonexistent-program-x } importas ? ? echo $?",
			want: result{0, "127\n", "execlineb: -c: nonexistent-program-x: not found in PATH \"/usr/bin:/bin\"\n"}},
		{name: "syntax error", script: "foreground { echo\n}\n}", want: result{100, "", "execlineb: -c: line 3: unmatched }: no block is open\n"}},
		{name: "unterminated quote", script: "echo \"abc\n", want: result{100, "", "execlineb: -c: line 1: unterminated quoted string: expected a closing \" before the end of the script\n"}},
		{name: "strict refuses unquoted", script: "export EXECLINE_STRICT 2 foreground echo x \"\" echo y",
			want: result{100, "", "execlineb: -c: foreground: unquoted word \"echo\" in a block (EXECLINE_STRICT=2)\n"}},
		{name: "s6-rc style oneshot", script: "#!/bin/execlineb -P\nif { s6-envdir " + envdir + " importas -i NAME NAME test $NAME = router }\nredirfd -r 0 " + hostname + "\nwithstdinas -n H\nimportas -u H H\necho hostname $H",
			want: result{0, "hostname gw\n", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			got := runExeclineb(t, tc.stdin, tc.env, "-Pc", tc.script)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("execlineb -Pc %q (-want +got):\n%s", tc.script, diff)
			}
			if tc.file != "" {
				b, _ := os.ReadFile(out)
				if string(b) != tc.file {
					t.Errorf("%s = %q, want %q", out, b, tc.file)
				}
			}
		})
	}
}

// execlineb's own options, with a script file.
func TestExeclinebOptions(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	write := func(s string) {
		if err := os.WriteFile(script, []byte(s), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		script string
		args   []string
		env    []string
		want   result
	}{
		// "It sets the # environment variable to the number n of args it is
		// given. It sets the 0 environment variable to the name of the
		// script... It sets the 1, 2, ... n environment variables".
		{"positional in the environment", `importas N "#" importas Z 0 importas A 1 importas B 2 echo $N $Z $A $B`, []string{"x", "y z"}, nil,
			result{0, "2 " + script + " x y z\n", ""}},
		// "execlineb pushes the current positional parameters".
		{"push", `importas N "#" importas O "#:1" importas A 1 importas P 1:1 echo $N $O $A $P`, []string{"new"}, []string{"#=5", "1=old"},
			result{0, "1 5 new old\n", ""}},
		{"-p overwrites", `importas -D none O "#:1" importas A 1 echo $O $A`, []string{"-p", "new"}, []string{"#=5", "1=old"},
			result{0, "none new\n", ""}},
		{"-P ignores", `importas -D none A 1 echo $A`, []string{"-P", "x"}, nil, result{0, "none\n", ""}},
		// "-S nmin will substitute the positional parameters - up to at
		// least nmin - but will not push nor set environment variables."
		{"-S", `importas -D unset E 1 echo $# $0 [${1}] [${2}] [${3}] $@ $E`, []string{"-S3", "a", "b"}, []string{"EXECLINE_STRICT=0"},
			result{0, "2 " + script + " [a] [b] [] a b unset\n", ""}},
		// "If EXECLINE_STRICT is 1 or unset: same, but the script will print
		// a warning message".
		{"-S warns", `echo $1`, []string{"-S", "2", "a"}, nil,
			result{0, "a\n", "execlineb: " + script + ": execlineb: warning: 1 arguments given, at least 2 expected: the missing ones are empty\n"}},
		{"-S refuses with -W", `echo $1`, []string{"-W", "-S2", "a"}, nil,
			result{100, "", "execlineb: " + script + ": 1 arguments given, at least 2 expected (EXECLINE_STRICT=2)\n"}},
		// "-s nmin ... defines $@ as the rest of the command line after nmin
		// arguments have been removed."
		{"-s", `echo $1 / $@`, []string{"-s1", "a", "b", "c"}, nil, result{0, "a / b c\n", ""}},
		{"-w sets EXECLINE_STRICT", `importas S EXECLINE_STRICT echo $S`, []string{"-w"}, nil, result{0, "1\n", ""}},
		{"-q unsets EXECLINE_STRICT", `importas -D unset S EXECLINE_STRICT echo $S`, []string{"-q"}, []string{"EXECLINE_STRICT=2"}, result{0, "unset\n", ""}},
		{"bad option", `echo x`, []string{"-z"}, nil, result{100, "", "execlineb: execlineb: unknown option -z; usage: " + uExeclineb + "\n"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(tc.script)
			args := append([]string{}, tc.args...)
			// Options first, then the file, then the arguments.
			i := 0
			for i < len(args) && strings.HasPrefix(args[i], "-") {
				i++
			}
			if i > 0 && i < len(args) && (args[i-1] == "-S" || args[i-1] == "-s") {
				i++
			}
			args = append(append(append([]string{}, args[:i]...), script), args[i:]...)
			got := runExeclineb(t, "", tc.env, args...)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("execlineb %q (-want +got):\n%s", args, diff)
			}
		})
	}
	if got := runExeclineb(t, "", nil, filepath.Join(dir, "missing")); got.Code != 111 || !strings.Contains(got.Stderr, "cannot read the script: no such file or directory") {
		t.Errorf("missing script: %+v", got)
	}
	if got := runExeclineb(t, "", nil); got.Code != 100 || !strings.Contains(got.Stderr, "usage: execlineb") {
		t.Errorf("no script: %+v", got)
	}
}

// s6-setuidgid really changes the process's identity: the test runs as
// root, outside Bazel's sandbox (BUILD.bazel: no-sandbox; the sandbox is a
// user namespace that forbids setgroups), and fails otherwise (a skipped
// test would pass unnoticed).
func TestSetuidgidEndToEnd(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatalf("s6-setuidgid needs root to switch users; this test runs as uid %d", os.Getuid())
	}
	if b, _ := os.ReadFile("/proc/self/setgroups"); strings.TrimSpace(string(b)) == "deny" {
		t.Fatal("in a user namespace that forbids setgroups (a sandbox): s6-setuidgid cannot switch users here; run the test outside it (tags no-sandbox)")
	}
	passwd, err := os.ReadFile("/etc/passwd")
	if err != nil || !strings.Contains(string(passwd), "\nnobody:") {
		t.Fatalf("this test needs a user nobody in /etc/passwd: %v", err)
	}
	uid, gid, _, err := New("", nil).lookupAccount("nobody")
	if err != nil {
		t.Fatal(err)
	}
	ids := func(n ...int) string {
		var b strings.Builder
		for _, id := range n {
			b.WriteString(strconv.Itoa(id) + "\n")
		}
		return b.String()
	}
	want := []result{{0, ids(65534, 65533, 65533), ""}, {0, ids(uid, gid), ""}}
	got := runExeclineb(t, "", nil, "-Pc", "s6-setuidgid 65534:65533 sh -c \"id -u; id -g; id -G\"")
	if diff := cmp.Diff(want[0], got); diff != "" {
		t.Errorf("uid:gid (-want +got):\n%s", diff)
	}
	got = runExeclineb(t, "", nil, "-Pc", "s6-setuidgid nobody sh -c \"id -u; id -g\"")
	if diff := cmp.Diff(want[1], got); diff != "" {
		t.Errorf("nobody (-want +got):\n%s", diff)
	}
	got = runExeclineb(t, "", nil, "-Pc", "s6-setuidgid no-such-user-x true")
	if got.Code != 1 || !strings.Contains(got.Stderr, `s6-setuidgid: unknown account "no-such-user-x"`) {
		t.Errorf("unknown user: %+v", got)
	}
}
