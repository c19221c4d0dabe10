package execline

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestShapesCoverBuiltins: Check must know how every builtin's argv is
// laid out, and only builtins'.
func TestShapesCoverBuiltins(t *testing.T) {
	supported, _ := Builtins()
	var shaped []string
	for name := range shapes {
		shaped = append(shaped, name)
	}
	slices.Sort(shaped)
	if diff := cmp.Diff(supported, shaped); diff != "" {
		t.Errorf("shapes differ from the builtins (-builtins +shapes):\n%s", diff)
	}
}

// TestCheck: a script is refused when execlineb would refuse it (a
// syntax error) or when it reaches a program the interpreter does not
// have, in command position; the same names as arguments are not
// commands.
func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   error // nil, *SyntaxError or *UnsupportedError
	}{
		{"empty", "", nil},
		{"external program", "true", nil},
		{"shell through execline", "/bin/sh -c \"if true; then exit 0; fi\" up\n", nil},
		{"s6-rc style up", "if { s6-clock }\nredirfd -r 0 /etc/hostname\nwithstdinas -E HOST\nhostname $HOST\n", nil},
		{"every builtin in its place", "#!/bin/execlineb -P\n" +
			"fdmove -c 2 1\nemptyenv -p\nexport A b\nunexport C\ndefine -s D \"x y\"\n" +
			"importas -i E E\nimportas -S F\nmultisubstitute { define G g importas H H }\n" +
			"backtick -n I { echo i }\nforeground { echo f }\nbackground -d { sleep 1 }\n" +
			"pipeline -w { cat } heredoc 0 text piperw 3 4 fdclose 3 fdclose 4\n" +
			"s6-envdir -I env s6-setuidgid root exec -a name prog\n", nil},
		{"unsupported program", "foreground { echo hi }\ns6-setlock /run/lock prog\n", &UnsupportedError{2, "s6-setlock"}},
		{"unsupported by path", "/usr/bin/loopwhilex true", &UnsupportedError{1, "/usr/bin/loopwhilex"}},
		{"unsupported in a block", "if\n{\n  fdmove -c 2 1\n  cd /tmp\n}\necho", &UnsupportedError{4, "cd"}},
		{"unsupported in a nested block", "foreground { if { ifelse { true } { a } b } } c", &UnsupportedError{1, "ifelse"}},
		{"unsupported after options", "if -n -x 3 { true } exit 3", &UnsupportedError{1, "exit"}},
		{"importas -S takes one word", "importas -S HOME wait", &UnsupportedError{1, "wait"}},
		{"after a builtin's arguments", "redirfd -w 1 /dev/null\numask 022 prog", &UnsupportedError{2, "umask"}},
		{"as arguments", "echo wait exit cd { s6-setlock }", nil},
		{"as a builtin's argument", "define X cd export Y wait true", nil},
		{"in multisubstitute's directives", "multisubstitute { define shift cd } true", nil},
		{"after execlineb", "execlineb -c \"true\" exit", nil},
		{"quoted and commented", "# cd /x\n\"true\" \"exit\"", nil},
		{"unmatched brace", "if { true\necho", &SyntaxError{1, "unmatched {: the block opened here is not closed by a } before the end of the script"}},
		{"unterminated quote", "echo\n\"abc", &SyntaxError{2, `unterminated quoted string: expected a closing " before the end of the script`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check([]byte(tc.script))
			var se *SyntaxError
			var ue *UnsupportedError
			var got error
			switch {
			case errors.As(err, &se):
				got = se
			case errors.As(err, &ue):
				got = ue
			case err != nil:
				t.Fatalf("Check: unexpected error type %T: %v", err, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Check(%q) (-want +got):\n%s", tc.script, diff)
			}
		})
	}
}

// TestParseLines: each word's line, blocks' end words on their }.
func TestParseLines(t *testing.T) {
	argv, lines, err := parseLines([]byte("a \"b\nc\" d\n\nif {\n  e\n}\n# x\nf\\\ng"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"a", "b\nc", "d", "if", " e", "", "f", "g"}, argv); diff != "" {
		t.Errorf("argv (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 1, 2, 4, 5, 6, 8, 9}, lines); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}
