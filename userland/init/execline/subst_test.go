package execline

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Substitution against execline's "variable substitution" page; each case
// quotes the rule it tests. Words are given as argv words (after
// execlineb's parsing).
func TestSubstitute(t *testing.T) {
	for _, tc := range []struct {
		rule string
		subs []subst
		argv []string
		want []string
	}{
		{"the substitution command will look for every occurrence of ${foo} or $foo in the rest of its argv",
			[]subst{{"FOO", []string{"blah"}}}, []string{"echo", "$FOO", "${FOO}", "x${FOO}y"}, []string{"echo", "blah", "blah", "xblahy"}},
		{"Note that ${foo}bar matches, but $foobar does not.",
			[]subst{{"foo", []string{"V"}}}, []string{"${foo}bar", "$foobar", "$foo"}, []string{"Vbar", "$foobar", "V"}},
		{"$key ends at \\ $ { or } (any other character is part of the key)",
			[]subst{{"A", []string{"v"}}}, []string{"$A$A", "$A}", "$A{x", "[$A]", "$A-", "$A/b"}, []string{"vv", "v}", "v{x", "[$A]", "$A-", "$A/b"}},
		{"${ without its } is no substitution",
			[]subst{{"A", []string{"v"}}}, []string{"${A", "${A$A", "${}", "$", "$$A", "${A\\}"}, []string{"${A", "${Av", "${}", "$", "$v", "${A\\}"}},
		// The documentation's example: define A val, then echo $A \\$A
		// \\\\$A ... in the script, i.e. these argv words.
		{"If ${foo} is preceded by 2*n backslashes (an even number), the whole sequence will be replaced with n backslashes, followed by the substituted value. If ${foo} is preceded by 2*n+1 backslashes (an odd number), the whole sequence will be replaced with n backslashes, followed by the literal ${foo}.",
			[]subst{{"A", []string{"val"}}},
			[]string{`$A`, `\$A`, `\\$A`, `\\\$A`, `\\\\$A`, `\\\\\$A`, `\${A}`, `\\${A}`},
			[]string{`val`, `$A`, `\val`, `\$A`, `\\val`, `\\$A`, `${A}`, `\val`}},
		{"If no command tries to substitute anything for foo, sequences like ${foo} and preceding backslashes are left untouched.",
			[]subst{{"A", []string{"val"}}},
			[]string{`$B`, `\$B`, `\\$B`, `\\\$B`, `\\\\$B`, `\\\\\$B`, `a\b`},
			[]string{`$B`, `\$B`, `\\$B`, `\\\$B`, `\\\\$B`, `\\\\\$B`, `a\b`}},
		{"define -s FOO \"v1 v2 v3\" echo prefix-${FOO}-postfix ... will be called with three arguments",
			[]subst{{"FOO", []string{"v1", "v2", "v3"}}}, []string{"echo", "prefix-${FOO}-postfix"},
			[]string{"echo", "prefix-v1-postfix", "prefix-v2-postfix", "prefix-v3-postfix"}},
		{"the ${B}x${B} word will be replaced with nine words: 1x1, 1x2, 1x3, 2x1, 2x2, 2x3, 3x1, 3x2, and 3x3, in that order.",
			[]subst{{"B", []string{"1", "2", "3"}}}, []string{"${B}x${B}"},
			[]string{"1x1", "1x2", "1x3", "2x1", "2x2", "2x3", "3x1", "3x2", "3x3"}},
		{"The ${A}x${B} word will be replaced with twelve words: ax1, ax2, ax3, bx1, ... in that order. (multisubstitute, in parallel)",
			[]subst{{"A", []string{"a", "b", "c", "d"}}, {"B", []string{"1", "2", "3"}}}, []string{"${A}x${B}"},
			[]string{"ax1", "ax2", "ax3", "bx1", "bx2", "bx3", "cx1", "cx2", "cx3", "dx1", "dx2", "dx3"}},
		{"a substitution occurring inside a block will always produce words beginning with the right amount of spaces, thus substituted values cannot prematurely terminate a block.",
			[]subst{{"FOO", []string{""}}, {"L", []string{"a", "b"}}}, []string{" echo", " ${FOO}", "  ${L}", ""},
			[]string{" echo", " ", "  a", "  b", ""}},
		{"(importas) When envvar is undefined ... any variable substitution with variable as the key will return no word; that is true even when the ${variable} form ... happens in the middle of a word ... the whole word will be deleted.",
			[]subst{{"U", nil}}, []string{"a", "x${U}y", "$U", "b"}, []string{"a", "b"}},
		{"Substituted values are not substituted again",
			[]subst{{"A", []string{"${B}"}}, {"B", []string{"b"}}}, []string{"$A"}, []string{"${B}"}},
		{"the first substitution of a key counts",
			[]subst{{"A", []string{"1"}}, {"A", []string{"2"}}}, []string{"$A"}, []string{"1"}},
	} {
		got := substitute(tc.argv, tc.subs)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s\nsubstitute(%q) (-want +got):\n%s", tc.rule, tc.argv, diff)
		}
	}
	// "If the left-to-right order does not suit you, then you should perform
	// serial substitutions ... So it will print ax1 bx1 cx1 dx1 ax2 bx2 cx2
	// dx2 ax3 bx3 cx3 dx3".
	serial := substitute(substitute([]string{"${A}x${B}"}, []subst{{"B", []string{"1", "2", "3"}}}), []subst{{"A", []string{"a", "b", "c", "d"}}})
	if diff := cmp.Diff([]string{"ax1", "bx1", "cx1", "dx1", "ax2", "bx2", "cx2", "dx2", "ax3", "bx3", "cx3", "dx3"}, serial); diff != "" {
		t.Errorf("serial substitution (-want +got):\n%s", diff)
	}
}

// Value transformations against execline's "value transformation" page.
func TestTransform(t *testing.T) {
	d := defaultDelim
	for _, tc := range []struct {
		rule  string
		t     transform
		value string
		want  []string
	}{
		{"Splitting is off by default, which means that substitutions are performed as is",
			transform{delim: d}, " a  b\n", []string{" a  b\n"}},
		{"By default, the string \" \\n\\r\\t\" is used",
			transform{split: true, delim: d}, "a b\nc\rd\te", []string{"a", "b", "c", "d", "e"}},
		{"A word is a sequence of characters in the value terminated by a delimiter. The delimiter is not included in the word.",
			transform{split: true, delim: d}, "a b ", []string{"a", "b"}},
		{"If the value begins with x delimiters, the word list will begin with x empty words.",
			transform{split: true, delim: d}, "  a", []string{"", "", "a"}},
		{"(and consecutive delimiters make empty words)",
			transform{split: true, delim: d}, "a  b", []string{"a", "", "b"}},
		{"The last sequence of characters in the value will be recognized as a word even if it is not terminated by a delimiter",
			transform{split: true, delim: d}, "a b", []string{"a", "b"}},
		{"... unless you have requested chomping and there was no delimiter at the end of the value before the chomp operation - in which case that last sequence will not appear at all.",
			transform{split: true, chomp: true, delim: d}, "a b", []string{"a"}},
		{"Chomping deletes the last character of a value if it is a delimiter.",
			transform{chomp: true, delim: d}, "a b\n\n", []string{"a b\n"}},
		{"chomped, then split: the last sequence is a word",
			transform{split: true, chomp: true, delim: d}, "a b\n", []string{"a", "b"}},
		{"merge sets of consecutive delimiters into a single delimiter ... The remaining delimiter will always be the first in the sequence.",
			transform{crunch: true, delim: d}, "a \t\n b\t\tc", []string{"a b\tc"}},
		{"you can use crunching+chomping to ignore, for instance, a set of trailing spaces.",
			transform{split: true, crunch: true, chomp: true, delim: d}, "a   b   ", []string{"a", "b"}},
		{"You can use any character ... as a delimiter, by giving a string consisting of all the delimiters you want as the argument to the -d option",
			transform{split: true, delim: ":,"}, "a:b,c d", []string{"a", "b", "c d"}},
		{"the echo command will be given five arguments: a, bb, the empty string, xyz 123, a single space",
			transform{split: true, delim: ""}, "1:a,2:bb,0:,7:xyz 123,1: ,", []string{"a", "bb", "", "xyz 123", " "}},
		{"an empty value split is no word", transform{split: true, delim: d}, "", []string{}},
	} {
		got, err := tc.t.apply(tc.value)
		if err != nil {
			t.Errorf("%s\n%+v.apply(%q): %v", tc.rule, tc.t, tc.value, err)
		} else if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s\n%+v.apply(%q) (-want +got):\n%s", tc.rule, tc.t, tc.value, diff)
		}
	}
	// "if the value is not a valid sequence of netstrings, the substitution
	// command will die with an error message."
	for _, v := range []string{"1:ab,", "x:a,", "1:a", "2:a,", ":a,", "-1:a,", "1:a;"} {
		if got, err := (transform{split: true}).apply(v); err == nil {
			t.Errorf("netstrings %q = %q, want an error", v, got)
		}
	}
}

func TestBadKey(t *testing.T) {
	for k, want := range map[string]string{
		"A": "", "my-var.x": "", "1": "", "@": "",
		"":    "an empty variable name",
		"a$b": `the variable name "a$b" contains $, {, } or \`,
		"{a":  `the variable name "{a" contains $, {, } or \`,
		`a\b`: `the variable name "a\\b" contains $, {, } or \`,
	} {
		if got := badKey(k); got != want {
			t.Errorf("badKey(%q) = %q, want %q", k, got, want)
		}
	}
}
