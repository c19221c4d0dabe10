package execline

import (
	"fmt"
)

// SyntaxError is a script that execlineb refuses (it exits 100): Line is
// where the problem is (1-based), Msg what was found and what was
// expected.
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Parse turns an execlineb script into the argv that execlineb executes,
// following the "Syntax of scripts" of execlineb's documentation:
//
//   - words are separated by whitespace: spaces, tabs, newlines, carriage
//     returns;
//   - a comment starts with # at the start of a word and ends with the
//     line;
//   - a quoted string ("...") is exactly one word (possibly empty) and may
//     be glued to unquoted text ("a"b is the word ab); in it \a \b \t \n
//     \v \f \r are control characters, \0xHH is hexadecimal, \0OOO octal,
//     \DDD decimal (D not 0 first; none may evaluate to 0 or exceed 255),
//     a backslashed newline disappears and any other backslashed
//     character is itself (so \x41 is x41: hexadecimal needs \0x);
//   - outside quotes a backslash makes the next character literal, and a
//     backslash at the end of a line or of the script is ignored;
//   - an unquoted word that is exactly { or } opens or closes a block:
//     { disappears, } becomes the empty word, and every word inside
//     blocks is prefixed with one space per open block (see Block).
//
// Errors are *SyntaxError: unmatched braces, unterminated quotes, bad
// escapes and null characters.
func Parse(script []byte) ([]string, error) {
	argv, _, err := parseLines(script)
	return argv, err
}

// parseLines is Parse, also returning the line (1-based) of each word of
// argv; the empty word that ends a block is on the line of its }.
func parseLines(script []byte) ([]string, []int, error) {
	p := parser{s: script, line: 1}
	if err := p.run(); err != nil {
		return nil, nil, err
	}
	if n := len(p.opens); n > 0 {
		return nil, nil, &SyntaxError{p.opens[n-1], "unmatched {: the block opened here is not closed by a } before the end of the script"}
	}
	if p.argv == nil {
		p.argv = []string{}
	}
	return p.argv, p.lines, nil
}

type parser struct {
	s     []byte
	i     int
	line  int
	argv  []string
	lines []int // line of each word of argv
	opens []int // line of each open block's {

	word     []byte
	started  bool // a word is being read (it may still be empty: "")
	plain    bool // the word so far has no quoted or escaped character
	wordLine int
}

func (p *parser) start() {
	if !p.started {
		p.started, p.plain, p.wordLine = true, true, p.line
		p.word = p.word[:0]
	}
}

// end finishes the current word: braces open and close blocks, other
// words get one space per open block.
func (p *parser) end() error {
	if !p.started {
		return nil
	}
	p.started = false
	w := string(p.word)
	if p.plain && w == "{" {
		p.opens = append(p.opens, p.wordLine)
		return nil
	}
	if p.plain && w == "}" {
		if len(p.opens) == 0 {
			return &SyntaxError{p.wordLine, "unmatched }: no block is open"}
		}
		p.opens = p.opens[:len(p.opens)-1]
		w = ""
	}
	b := make([]byte, len(p.opens), len(p.opens)+len(w))
	for i := range b {
		b[i] = ' '
	}
	p.argv = append(p.argv, string(append(b, w...)))
	p.lines = append(p.lines, p.wordLine)
	return nil
}

func (p *parser) run() error {
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == 0:
			return &SyntaxError{p.line, "null character: a script must not contain one"}
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			if err := p.end(); err != nil {
				return err
			}
			if c == '\n' {
				p.line++
			}
			p.i++
		case c == '#' && !p.started:
			for p.i < len(p.s) && p.s[p.i] != '\n' {
				if p.s[p.i] == 0 {
					return &SyntaxError{p.line, "null character: a script must not contain one"}
				}
				p.i++
			}
		case c == '"':
			p.start()
			p.plain = false
			if err := p.quoted(); err != nil {
				return err
			}
		case c == '\\':
			p.i++
			if p.i == len(p.s) || p.s[p.i] == '\n' {
				// "An unquoted backslash at the end of a line, or at the
				// end of the input, is ignored."
				continue
			}
			if p.s[p.i] == 0 {
				return &SyntaxError{p.line, "null character: a script must not contain one"}
			}
			p.start()
			p.plain = false
			p.word = append(p.word, p.s[p.i])
			p.i++
		default:
			p.start()
			p.word = append(p.word, c)
			p.i++
		}
	}
	return p.end()
}

// quoted reads a quoted string, p.i being on its opening quote.
func (p *parser) quoted() error {
	first := p.line
	unterminated := func() error {
		return &SyntaxError{first, `unterminated quoted string: expected a closing " before the end of the script`}
	}
	p.i++
	for {
		if p.i == len(p.s) {
			return unterminated()
		}
		c := p.s[p.i]
		p.i++
		switch c {
		case 0:
			return &SyntaxError{p.line, "null character: a script must not contain one"}
		case '"':
			return nil
		case '\n':
			p.line++
			p.word = append(p.word, c)
		case '\\':
			if p.i == len(p.s) {
				return unterminated()
			}
			if err := p.escape(); err != nil {
				return err
			}
		default:
			p.word = append(p.word, c)
		}
	}
}

// escape reads what follows a backslash in a quoted string.
func (p *parser) escape() error {
	c := p.s[p.i]
	p.i++
	switch c {
	case '\n':
		p.line++ // "backslashed newlines disappear completely"
	case 'a':
		p.word = append(p.word, 7)
	case 'b':
		p.word = append(p.word, 8)
	case 't':
		p.word = append(p.word, 9)
	case 'n':
		p.word = append(p.word, 10)
	case 'v':
		p.word = append(p.word, 11)
	case 'f':
		p.word = append(p.word, 12)
	case 'r':
		p.word = append(p.word, 13)
	case '0':
		if p.i < len(p.s) && p.s[p.i] == 'x' {
			p.i++
			return p.number(16, 2, `\0x`)
		}
		return p.number(8, 3, `\0`)
	case '1', '2', '3', '4', '5', '6', '7', '8', '9':
		p.i--
		return p.number(10, 3, `\`)
	case 0:
		return &SyntaxError{p.line, "null character: a script must not contain one"}
	default:
		p.word = append(p.word, c)
	}
	return nil
}

// number reads up to max digits in base after the escape prefix: the
// character they evaluate to must be 1..255.
func (p *parser) number(base, max int, prefix string) error {
	v, n := 0, 0
	for ; n < max && p.i < len(p.s); n++ {
		d := digit(p.s[p.i])
		if d < 0 || d >= base {
			break
		}
		v = v*base + d
		p.i++
	}
	what := "decimal"
	if base == 8 {
		what = "octal"
	} else if base == 16 {
		what = "hexadecimal"
	}
	switch {
	case n == 0:
		return &SyntaxError{p.line, fmt.Sprintf("%s in a quoted string: expected %s digits after it", prefix, what)}
	case v == 0:
		return &SyntaxError{p.line, fmt.Sprintf("%s%s in a quoted string evaluates to 0: a word cannot contain a null character", prefix, p.s[p.i-n:p.i])}
	case v > 255:
		return &SyntaxError{p.line, fmt.Sprintf("%s%s in a quoted string is greater than 255", prefix, p.s[p.i-n:p.i])}
	}
	p.word = append(p.word, byte(v))
	return nil
}

func digit(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// Block splits argv, which starts with a block as execlineb encodes it,
// into the block's words (each with one leading space removed) and the
// words after the block (execline's el_semicolon). In an argv "blocks
// are not delimited by braces; they are made of quoted arguments and
// terminated by an empty word": a quoted argument begins with a space,
// nested blocks have more spaces. A word without a leading space is taken
// as it is (execline accepts blocks written by hand that way, and
// EXECLINE_STRICT warns or refuses; see the interpreter). It is an error
// when no empty word ends the block.
func Block(argv []string) (block, rest []string, err error) {
	block, rest, _, ok := splitBlock(argv)
	if !ok {
		return nil, nil, fmt.Errorf("unterminated block: no empty word ends it")
	}
	return block, rest, nil
}

// splitBlock is Block, also returning the unquoted words of the block.
func splitBlock(argv []string) (block, rest, unquoted []string, ok bool) {
	block = []string{}
	for i, w := range argv {
		switch {
		case w == "":
			return block, argv[i+1:], unquoted, true
		case w[0] == ' ':
			block = append(block, w[1:])
		default:
			unquoted = append(unquoted, w)
			block = append(block, w)
		}
	}
	return nil, nil, unquoted, false
}

// EncodeBlock is the argv form of a block of words: each word quoted with
// a space, then the empty word; it is what execlineb makes of
// "{ words... }" (Parse's output for words nested once more).
func EncodeBlock(words []string) []string {
	out := make([]string, 0, len(words)+1)
	for _, w := range words {
		out = append(out, " "+w)
	}
	return append(out, "")
}
