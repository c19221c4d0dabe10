package svcsrc

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// s6-rc runs a oneshot's up and down files with `execlineb -P`; this system
// runs them with /bin/sh and ships no execline. A file written for s6-rc
// may therefore mean something else here, or nothing at all, so the
// compiler refuses execline it can recognise instead of letting it fail at
// boot. Recognition must not catch shell: only constructs that have no
// sensible shell reading count as evidence (see CheckShellScript).

// ExeclineCommands are the execline (and s6) programs named in the error,
// in the order they are listed.
var ExeclineCommands = []string{
	"if", "foreground", "background", "backtick", "importas", "multisubstitute",
	"redirfd", "fdmove", "fdclose", "export", "unexport", "define", "exec",
	"emptyenv", "heredoc", "piperw", "pipeline", "withstdinas", "s6-envdir",
	"s6-setuidgid",
}

// execlineOnly are programs that exist only in execline: run from a shell
// they would be "command not found" here, so one in command position is
// execline, whatever the rest of the file looks like.
var execlineOnly = map[string]bool{
	"foreground": true, "background": true, "backtick": true, "importas": true,
	"multisubstitute": true, "redirfd": true, "fdmove": true, "fdclose": true,
	"unexport": true, "define": true, "emptyenv": true, "heredoc": true,
	"piperw": true, "pipeline": true, "withstdinas": true, "ifelse": true,
	"ifte": true, "ifthenelse": true, "forx": true, "forbacktickx": true,
	"elglob": true, "multidefine": true, "execlineb": true,
}

// word is a token of a script: a word or a control operator.
type word struct {
	text   string
	op     bool // ; & | ( ) && || or newline
	quoted bool // contained a quote or a backslash: never a keyword
	cmd    bool // in command position (shell rules, which execline shares here)
}

// lex splits a script into shell-like words. It understands comments,
// quotes, backslashes and control operators, which is all that is needed
// to tell command words from arguments; it is not a shell parser.
func lex(src string) []word {
	var out []word
	cmd := true
	var cur strings.Builder
	inWord, quoted := false, false
	flush := func() {
		if !inWord {
			return
		}
		w := word{text: cur.String(), quoted: quoted, cmd: cmd}
		out = append(out, w)
		cur.Reset()
		inWord, quoted = false, false
		switch {
		case w.quoted:
			cmd = false
		case w.text == "{" || w.text == "}" || w.text == "!":
			cmd = true
		case slices.Contains([]string{"then", "do", "else", "elif", "if", "while", "until", "exec"}, w.text) && w.cmd:
			cmd = true
		case w.cmd && strings.Contains(w.text, "=") && !strings.HasPrefix(w.text, "="):
			cmd = true // VAR=value before the command
		default:
			cmd = false
		}
	}
	op := func(s string) {
		flush()
		out = append(out, word{text: s, op: true})
		cmd = true
	}
	for i := 0; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '#' && !inWord:
			for i < len(src) && src[i] != '\n' {
				i++
			}
			i--
		case c == ' ' || c == '\t' || c == '\r':
			flush()
		case c == '\n':
			op("\n")
		case c == ';' || c == '(' || c == ')':
			op(string(c))
		case c == '&' || c == '|':
			if i+1 < len(src) && src[i+1] == c {
				i++
				op(string([]byte{c, c}))
			} else {
				op(string(c))
			}
		case c == '\\':
			inWord, quoted = true, true
			if i+1 < len(src) {
				i++
				cur.WriteByte(src[i])
			}
		case c == '\'' || c == '"':
			inWord, quoted = true, true
			j := strings.IndexByte(src[i+1:], c)
			if j < 0 {
				j = len(src) - i - 1
			}
			cur.WriteString(src[i+1 : i+1+j])
			i += j + 1
		default:
			inWord = true
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// CheckShellScript returns "" when an up or down script can be run by
// /bin/sh, and otherwise an error message naming the execline commands it
// uses. A script starting with "#!" is run as an executable file and only
// refused when its interpreter is execlineb.
//
// A script is execline when one of these holds, none of which a working
// shell script can contain:
//   - an execline-only program (foreground, redirfd, backtick, ...) in
//     command position;
//   - `if` in command position followed (after options) by a `{` word,
//     in a script with no `then`: execline's `if { prog } rest`.
func CheckShellScript(b []byte) string {
	if b == nil {
		return ""
	}
	src := string(b)
	if strings.HasPrefix(src, "#!") {
		line, _, _ := strings.Cut(src[2:], "\n")
		interp := strings.Fields(line)
		if len(interp) > 0 && path.Base(interp[0]) == "execlineb" {
			return "an execline script (#!" + strings.TrimSpace(line) + "): this system has no execline; " +
				"rewrite it for /bin/sh (see docs/services.md, \"Scripts\")"
		}
		return ""
	}
	ws := lex(src)
	hasThen := slices.ContainsFunc(ws, func(w word) bool { return w.cmd && !w.quoted && w.text == "then" })
	// A shell function may be called like an execline program: its
	// definition, NAME ( ), shows it is shell.
	funcs := map[string]bool{}
	for i := 0; i+2 < len(ws); i++ {
		if ws[i].cmd && !ws[i].op && ws[i+1].text == "(" && ws[i+1].op && ws[i+2].text == ")" && ws[i+2].op {
			funcs[ws[i].text] = true
		}
	}
	execline := false
	for i, w := range ws {
		if w.op || w.quoted || !w.cmd || funcs[w.text] {
			continue
		}
		if execlineOnly[w.text] {
			execline = true
			break
		}
		if w.text == "if" && !hasThen {
			j := i + 1
			for j < len(ws) && !ws[j].op && !ws[j].quoted && strings.HasPrefix(ws[j].text, "-") {
				j++
			}
			if j < len(ws) && !ws[j].quoted && ws[j].text == "{" {
				execline = true
				break
			}
		}
	}
	if !execline {
		return ""
	}
	used := map[string]bool{}
	block := false
	for _, w := range ws {
		if w.op || w.quoted {
			continue
		}
		if slices.Contains(ExeclineCommands, w.text) || execlineOnly[w.text] {
			used[w.text] = true
		}
		if w.text == "{" || w.text == "}" {
			block = true
		}
	}
	var names []string
	for _, n := range ExeclineCommands {
		if used[n] {
			names = append(names, n)
			delete(used, n)
		}
	}
	var rest []string
	for n := range used {
		rest = append(rest, n)
	}
	slices.Sort(rest)
	names = append(names, rest...)
	if block {
		names = append(names, "{ } blocks")
	}
	return fmt.Sprintf("an execline script (s6-rc runs up and down with execlineb; this system runs them with /bin/sh "+
		"and has no execline): uses %s; rewrite it for /bin/sh (see docs/services.md, \"Scripts\")", strings.Join(names, ", "))
}
