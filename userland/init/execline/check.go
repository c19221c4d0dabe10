package execline

import (
	"fmt"
	"path"
	"slices"
)

// UnsupportedError is a script that runs, at line Line, an execline or s6
// program that this interpreter does not implement (see Builtins): on the
// device it would fail when the script reaches it.
type UnsupportedError struct {
	Line int
	Cmd  string
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("line %d: %s: an execline or s6 program that this system's execline interpreter does not implement", e.Line, e.Cmd)
}

// shape is how a builtin's argv is laid out: options (getopt letters),
// then args words, then a block if block is set, then the program it
// executes into.
type shape struct {
	opts  string
	args  int
	block bool // a block of commands: it runs as a program
	// directives: the block holds define and importas directives
	// (multisubstitute), not commands.
	directives bool
	// final: nothing after it is a command of this script (execlineb
	// reads another script).
	final bool
}

// shapes has an entry for each builtin; the options are those the
// builtins accept.
var shapes = map[string]shape{
	"background":      {opts: "d", block: true},
	"backtick":        {opts: "iIxD:NnEe", args: 1, block: true},
	"define":          {opts: "sCcNnd:", args: 2},
	"emptyenv":        {opts: "pcoP"},
	"exec":            {opts: "cla:"},
	"execlineb":       {final: true},
	"export":          {args: 2},
	"fdclose":         {args: 1},
	"fdmove":          {opts: "c", args: 2},
	"foreground":      {block: true},
	"heredoc":         {opts: "d", args: 2},
	"if":              {opts: "nXtx:", block: true},
	"importas":        {opts: "iD:uSsCcNnd:", args: 2}, // -S: 1
	"multisubstitute": {directives: true},
	"pipeline":        {opts: "drw", block: true},
	"piperw":          {args: 2},
	"redirfd":         {opts: "rwuacxnb", args: 2},
	"s6-envdir":       {opts: "IinfLc:", args: 1},
	"s6-setuidgid":    {args: 1},
	"unexport":        {args: 1},
	"withstdinas":     {opts: "iID:NnEe", args: 1},
}

// Check parses script as execlineb does and follows its chain of commands
// (and the commands of their blocks) as far as it can tell them from their
// arguments: it returns a *SyntaxError for a script execlineb refuses, an
// *UnsupportedError for the first program of execline or s6 that the
// interpreter does not have, and nil otherwise. The chain ends at the
// first external program (what follows is its arguments) or at a builtin
// whose arguments do not fit its usage (it fails when it runs); programs
// named by a variable are not known before the script runs.
func Check(script []byte) error {
	argv, lines, err := parseLines(script)
	if err != nil {
		return err
	}
	ws := make([]word, len(argv))
	for i := range argv {
		ws[i] = word{argv[i], lines[i]}
	}
	return checkChain(ws)
}

type word struct {
	s    string
	line int
}

func checkChain(ws []word) error {
	for len(ws) > 0 {
		name := ws[0].s
		if slices.Contains(notImplemented, path.Base(name)) {
			return &UnsupportedError{ws[0].line, name}
		}
		sh, ok := shapes[name]
		if !ok || sh.final {
			return nil // an external program and its arguments
		}
		args := make([]string, len(ws)-1)
		for i, w := range ws[1:] {
			args[i] = w.s
		}
		same := false
		rest, err := getopt(name, args, sh.opts, "", func(o byte, _ string) error {
			same = same || (name == "importas" && o == 'S')
			return nil
		})
		if err != nil {
			return nil
		}
		ws = ws[len(ws)-len(rest):]
		n := sh.args
		if same {
			n = 1
		}
		if len(ws) < n {
			return nil
		}
		ws = ws[n:]
		if sh.block || sh.directives {
			block, after, ok := splitWords(ws)
			if !ok {
				return nil
			}
			if sh.block {
				if err := checkChain(block); err != nil {
					return err
				}
			}
			ws = after
		}
	}
	return nil
}

// splitWords is splitBlock on words with their lines.
func splitWords(ws []word) (block, rest []word, ok bool) {
	for i, w := range ws {
		switch {
		case w.s == "":
			return block, ws[i+1:], true
		case w.s[0] == ' ':
			block = append(block, word{w.s[1:], w.line})
		default:
			block = append(block, w)
		}
	}
	return nil, nil, false
}
