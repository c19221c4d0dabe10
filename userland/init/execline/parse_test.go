package execline

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Parse against the "Syntax of scripts" of execlineb's documentation;
// each case quotes the rule it tests.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		rule   string
		script string
		want   []string
	}{
		{"whitespace is defined as spaces, tabs, newlines and carriage returns. Words are always separated by whitespace.",
			"a b\tc\nd\re  \n\n f", []string{"a", "b", "c", "d", "e", "f"}},
		{"If the argv is empty, execlineb exits 0.", "", []string{}},
		{"A quoted string begins with a doublequote (\") and ends with another doublequote.",
			`"a b" c`, []string{"a b", "c"}},
		{"Quoted doublequotes must be prefixed by a backslash (\\).",
			`"x\"y"`, []string{`x"y`}},
		{"Quoted strings always evaluate to exactly one word. For instance, \"\" evaluates to the empty word.",
			`"" x ""`, []string{"", "x", ""}},
		{"Quoted strings ... exactly one word: whitespace and newlines are kept",
			"\"a\n b\"", []string{"a\n b"}},
		{"The \\a, \\b, \\t, \\n, \\v, \\f, and \\r sequences are recognized in quoted strings, and are converted to the ASCII numbers 7, 8, 9, 10, 11, 12 and 13 respectively.",
			`"\a\b\t\n\v\f\r"`, []string{"\x07\x08\x09\x0a\x0b\x0c\x0d"}},
		{"Inside a quoted string, backslashed newlines disappear completely.",
			"\"ab\\\ncd\"", []string{"abcd"}},
		{"\"\\<newline>\" ... will be parsed as the empty word (componentsb.txt)",
			"\"\\\n\"", []string{""}},
		{"\\0xab sequences are recognized in quoted strings and evaluate to ASCII hexadecimal number ab.",
			`"\0x41\0x6a\0x7"`, []string{"Aj\x07"}},
		{"\\0abc sequences are recognized in quoted strings and evaluate to ASCII octal number abc.",
			`"\0101\07\0377"`, []string{"A\x07\xff"}},
		{"\\abc sequences are recognized in quoted strings and evaluate to ASCII decimal number abc. a must not be zero.",
			`"\65\9\255x"`, []string{"A\x09\xffx"}},
		{"\"\\0x41\\66\\0103D\\n\" # This is the string ABCD followed by a newline. (componentsb.txt)",
			`"\0x41\66\0103D\n"`, []string{"ABCD\n"}},
		{"decimal takes at most 3 digits", `"\1234"`, []string{"{4"}},
		{"It works the same way in quoted strings, except for the special sequences described above. (\\x is not one: hexadecimal is \\0x)",
			`"\x41\q\\\$"`, []string{`x41q\$`}},
		{"A comment starts with a # and ends with the line.",
			"a # comment } {\nb", []string{"a", "b"}},
		{"A comment ... (a whole line, and the shebang)",
			"#!/bin/execlineb -P\n# comment\necho hi # end", []string{"echo", "hi"}},
		{"A comment starts with a # ... at the start of a word only",
			"a#b c# #d", []string{"a#b", "c#"}},
		{"Comments are not recognized inside quoted strings.",
			`" # this is not a comment" "#"`, []string{" # this is not a comment", "#"}},
		{"Any character can be escaped in unquoted strings by prepending it with a backslash.",
			`foo\ bar\ zoinx \# \" \\ \n`, []string{"foo bar zoinx", "#", `"`, `\`, "n"}},
		{"\"foo bar zoinx\" # This is exactly the same word, written another way (componentsb.txt)",
			`"foo bar zoinx"`, []string{"foo bar zoinx"}},
		{"As a special case, an unquoted backslash at the end of a line, or at the end of the input, is ignored.",
			"a \\\nb\\\nc \\", []string{"a", "b", "c"}},
		{"baz\"$1\"qux  # This will evaluate to the word baz$1qux (componentsb.txt)",
			`baz"$1"qux baz\$1qux baz$1qux`, []string{"baz$1qux", "baz$1qux", "baz$1qux"}},
		{"'this is not a string'  # it will be parsed as five separate words (componentsb.txt)",
			`'this is not a string'`, []string{"'this", "is", "not", "a", "string'"}},
		{"A word consisting of a single opening brace ({) increments ... blevel, and disappears from the argv. A word consisting of a single closing brace (}) decrements blevel, and is replaced with the empty word. ... it prepends it with blevel spaces.",
			"foreground { echo 1 } echo 2", []string{"foreground", " echo", " 1", "", "echo", "2"}},
		{"Nested blocks are represented by arguments being quoted several times ... an empty word inside a block gets quoted too, i.e. it will be represented as a series of spaces.",
			"a { b { c \"\" } d } e", []string{"a", " b", "  c", "  ", " ", " d", "", "e"}},
		{"Quoted open braces do not have that behaviour. Quoted closing braces do not have that behaviour.",
			`"{" "}" \{ \} {x} x} {{`, []string{"{", "}", "{", "}", "{x}", "x}", "{{"}},
		{"braces are words: they need whitespace around them",
			"if {true} echo", []string{"if", "{true}", "echo"}},
		{"an empty block", "if { } x", []string{"if", "", "x"}},
		{"whitespace is ... carriage returns (CRLF scripts)", "a\r\nb\r\n", []string{"a", "b"}},
	} {
		got, err := Parse([]byte(tc.script))
		if err != nil {
			t.Errorf("%s\nParse(%q): %v", tc.rule, tc.script, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s\nParse(%q) (-want +got):\n%s", tc.rule, tc.script, diff)
		}
	}
}

// The components example of execline's documentation (componentsb.txt),
// as one script.
func TestParseComponentsExample(t *testing.T) {
	script := "#!/command/execlineb\n\n# This execlineb script will sleep for 1 second, then print some\n# silly things on the standard output.\n\n\n" +
		";              # an unquoted string, evaluated to: ;\n" +
		"{              # A single opening brace, not included in the argv\n" +
		"  sleep 1      # Two unquoted strings, evaluated to \" sleep\" and \" 1\"\n" +
		"               # (without the quotation marks).\n" +
		"}              # A single closing brace, evaluated to the empty word\n\n\n" +
		"\"echo\"     # this is a quoted string. It will evaluate to the word: echo\n\n" +
		"foo\\ bar\\ zoinx  # This is one word, since the spaces are escaped\n" +
		"\"foo bar zoinx\"  # This is exactly the same word, written another way\n\n" +
		" \" # this is not a comment, since it is inside a quoted string\n" +
		"# This is not a comment either \\\" # nor is this \" # but this is one\n\n" +
		"\"\\0x41\\66\\0103D\\n\"   # This is the string ABCD followed by a newline.\n" +
		"                     # Be careful: the newline will be part of the word.\n\n" +
		" \\n   # this is not a newline, but the single word: n\n\n" +
		"$23   # This will NOT be replaced by anything\n\n" +
		"baz\"$1\"qux  # This will evaluate to the word baz$1qux\n" +
		"baz\\$1qux   # Same here\n" +
		"baz$1qux    # Same here in execline-1.y\n\n" +
		"${PATH}   # This will NOT be replaced by execline\n\n" +
		"'this is not a string'  # it will be parsed as five separate words\n\n" +
		"\"\\\n\"        # This will be parsed as the empty word.\n"
	want := []string{";", " sleep", " 1", "", "echo", "foo bar zoinx", "foo bar zoinx",
		" # this is not a comment, since it is inside a quoted string\n# This is not a comment either \" # nor is this ",
		"ABCD\n", "n", "$23", "baz$1qux", "baz$1qux", "baz$1qux", "${PATH}",
		"'this", "is", "not", "a", "string'", ""}
	got, err := Parse([]byte(script))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// "If execlineb finds that braces are unmatched (i.e. blevel goes below 0
// during the parsing, or is not 0 at the end of the script), it exits 100
// with an error message", and the other syntax errors: each names the
// line and what was expected.
func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		script string
		want   string
	}{
		{"echo }", "line 1: unmatched }: no block is open"},
		{"if { true }\n}\n", "line 2: unmatched }: no block is open"},
		{"if {\n  foreground {\n true }\n", "line 1: unmatched {: the block opened here is not closed by a } before the end of the script"},
		{"a\nb { c { d } e", "line 2: unmatched {: the block opened here is not closed by a } before the end of the script"},
		{"echo \"abc\ndef", "line 1: unterminated quoted string: expected a closing \" before the end of the script"},
		{"a\n\"abc\\", "line 2: unterminated quoted string: expected a closing \" before the end of the script"},
		{"# \"not a quote\n\"", "line 2: unterminated quoted string: expected a closing \" before the end of the script"},
		{"a\x00b", "line 1: null character: a script must not contain one"},
		{"a # comment \x00", "line 1: null character: a script must not contain one"},
		{"\"a\x00\"", "line 1: null character: a script must not contain one"},
		{"a\\\x00", "line 1: null character: a script must not contain one"},
		{`"\0"`, `line 1: \0 in a quoted string: expected octal digits after it`},
		{`"\08"`, `line 1: \0 in a quoted string: expected octal digits after it`},
		{`"\000"`, `line 1: \000 in a quoted string evaluates to 0: a word cannot contain a null character`},
		{`"\0400"`, `line 1: \0400 in a quoted string is greater than 255`},
		{`"\0x"`, `line 1: \0x in a quoted string: expected hexadecimal digits after it`},
		{`"\0xg"`, `line 1: \0x in a quoted string: expected hexadecimal digits after it`},
		{`"\0x00"`, `line 1: \0x00 in a quoted string evaluates to 0: a word cannot contain a null character`},
		{"x\n\"\\256\"", `line 2: \256 in a quoted string is greater than 255`},
	} {
		_, err := Parse([]byte(tc.script))
		var se *SyntaxError
		if !errors.As(err, &se) || err.Error() != tc.want {
			t.Errorf("Parse(%q) = %v; want %q", tc.script, err, tc.want)
		}
	}
}

// Block reads blocks as execline's commands do (el_semicolon).
func TestBlock(t *testing.T) {
	for _, tc := range []struct {
		rule      string
		argv      []string
		block     []string
		rest      []string
		unquoted  []string
		wantError bool
	}{
		{"they are made of quoted arguments and terminated by an empty word (\"\"). A quoted argument begins with a space.",
			[]string{" echo", " 1", "", "echo", "2"}, []string{"echo", "1"}, []string{"echo", "2"}, nil, false},
		{"Nested blocks are represented by arguments being quoted several times",
			[]string{" if", "  true", " ", " echo", "", "x"}, []string{"if", " true", "", "echo"}, []string{"x"}, nil, false},
		{"The following command works as well: foreground echo 1 '' echo 2",
			[]string{"echo", "1", "", "echo", "2"}, []string{"echo", "1"}, []string{"echo", "2"}, []string{"echo", "1"}, false},
		{"an empty block", []string{"", "x"}, []string{}, []string{"x"}, nil, false},
		{"an empty word inside a block gets quoted too", []string{" ", ""}, []string{""}, []string{}, nil, false},
		{"unterminated", []string{" echo", " 1"}, nil, nil, nil, true},
		{"nothing", nil, nil, nil, nil, true},
	} {
		block, rest, err := Block(tc.argv)
		if tc.wantError {
			if err == nil || err.Error() != "unterminated block: no empty word ends it" {
				t.Errorf("%s\nBlock(%q) = %q, %q, %v; want an error", tc.rule, tc.argv, block, rest, err)
			}
			continue
		}
		_, _, unquoted, _ := splitBlock(tc.argv)
		if err != nil {
			t.Errorf("%s\nBlock(%q): %v", tc.rule, tc.argv, err)
		} else if diff := cmp.Diff([][]string{tc.block, tc.rest, tc.unquoted}, [][]string{block, rest, unquoted}); diff != "" {
			t.Errorf("%s\nBlock(%q) (-want +got):\n%s", tc.rule, tc.argv, diff)
		}
	}
}

// EncodeBlock writes what execlineb makes of braces; reading it back with
// Block gives the words again.
func TestEncodeBlock(t *testing.T) {
	inner := []string{"if", " true", "", "echo", "a b", ""}
	parsed, err := Parse([]byte(`x { if { true } echo "a b" "" } y`))
	if err != nil {
		t.Fatal(err)
	}
	want := append(append([]string{"x"}, EncodeBlock(inner)...), "y")
	if diff := cmp.Diff(want, parsed); diff != "" {
		t.Errorf("EncodeBlock differs from execlineb's encoding (-want +got):\n%s", diff)
	}
	block, rest, err := Block(parsed[1:])
	if err != nil || !cmp.Equal(block, inner) || !cmp.Equal(rest, []string{"y"}) {
		t.Errorf("Block(EncodeBlock(%q)) = %q, %q, %v", inner, block, rest, err)
	}
}

// A script from a file parses like the same text given to -c, and a large
// one (the argv must still fit the kernel's limits) is fine.
func TestParseLarge(t *testing.T) {
	var b strings.Builder
	for i := 0; i < 2000; i++ {
		b.WriteString("foreground { echo \"line\\t\" } # comment\n")
	}
	argv, err := Parse([]byte(b.String()))
	if err != nil || len(argv) != 2000*4 {
		t.Fatalf("Parse: %d words, %v", len(argv), err)
	}
	p := t.TempDir() + "/s"
	os.WriteFile(p, []byte(b.String()), 0o644)
	text, err := readFile(p, scriptLimit, false)
	if err != nil || string(text) != b.String() {
		t.Fatalf("readFile: %v", err)
	}
	if _, err := readFile(p, 100, false); err == nil || err.Error() != "larger than 100 bytes" {
		t.Errorf("readFile over the limit: %v", err)
	}
	if got, err := readFile(p, 100, true); err != nil || len(got) != 100 {
		t.Errorf("readFile truncated: %d bytes, %v", len(got), err)
	}
}
