package execline

import (
	"errors"
	"strconv"
	"strings"
)

// defaultDelim are the delimiters of value transformations unless -d
// says otherwise ("By default, the string " \n\r\t" is used").
const defaultDelim = " \n\r\t"

// transform is how a value is turned into the words substituted for a
// key (execline's "value transformations"): crunched, chomped, then
// split, always in that order.
type transform struct {
	crunch bool   // -C: merge runs of delimiters into their first one
	chomp  bool   // -n: remove a final delimiter
	split  bool   // -s: one word per delimiter-terminated sequence
	delim  string // -d; empty with split: the value is a list of netstrings
}

// apply transforms v into the list of words to substitute.
func (t transform) apply(v string) ([]string, error) {
	if t.crunch && t.delim != "" {
		v = crunch(v, t.delim)
	}
	chomped := false
	if t.chomp && v != "" && strings.IndexByte(t.delim, v[len(v)-1]) >= 0 {
		v, chomped = v[:len(v)-1], true
	}
	if !t.split {
		return []string{v}, nil
	}
	if t.delim == "" {
		return netstrings(v)
	}
	// "A word is a sequence of characters in the value terminated by a
	// delimiter"; the last sequence is a word even without one "unless you
	// have requested chomping and there was no delimiter at the end of the
	// value before the chomp operation".
	words := []string{}
	start := 0
	for i := 0; i < len(v); i++ {
		if strings.IndexByte(t.delim, v[i]) >= 0 {
			words = append(words, v[start:i])
			start = i + 1
		}
	}
	if start < len(v) && (!t.chomp || chomped) {
		words = append(words, v[start:])
	}
	return words, nil
}

// crunch keeps the first delimiter of each run of delimiters.
func crunch(v, delim string) string {
	var b strings.Builder
	in := false
	for i := 0; i < len(v); i++ {
		d := strings.IndexByte(delim, v[i]) >= 0
		if !d || !in {
			b.WriteByte(v[i])
		}
		in = d
	}
	return b.String()
}

// netstrings decodes a sequence of netstrings (LEN:DATA,), one word each.
func netstrings(v string) ([]string, error) {
	words := []string{}
	for v != "" {
		c := strings.IndexByte(v, ':')
		n, err := strconv.ParseUint(v[:max(c, 0)], 10, 31)
		if c <= 0 || err != nil || uint64(len(v)-c-1) < n+1 || v[c+1+int(n)] != ',' {
			return nil, errors.New("the value is not a sequence of netstrings (LEN:DATA,), as -d \"\" requires")
		}
		words = append(words, v[c+1:c+1+int(n)])
		v = v[c+2+int(n):]
	}
	return words, nil
}

// subst is one substitution: the key and the words that replace ${key}
// or $key (none: words containing it disappear).
type subst struct {
	key    string
	values []string
}

// badKey says what is wrong with a substitution key, or "". Keys "can
// contain any character but $, { and }"; a backslash would end the key
// (it quotes substitutions) and could never match.
func badKey(k string) string {
	if k == "" {
		return "an empty variable name"
	}
	if strings.ContainsAny(k, "${}\\") {
		return "the variable name " + strconv.Quote(k) + " contains $, {, } or \\"
	}
	return ""
}

// substitute performs subs in parallel on every word of argv, following
// execline's "variable substitution" rules:
//
//   - ${key} is replaced anywhere in a word; $key only when the key is
//     followed by the end of the word or by \ $ { or } (so $foobar is the
//     key foobar, and ${foo}bar is foo followed by bar);
//   - when 2n backslashes precede the $, they become n and the sequence is
//     substituted; when 2n+1 precede it, they become n and the sequence
//     stays literal; sequences of keys not being substituted and their
//     backslashes are left untouched;
//   - a key with several values makes one word per value, and several in
//     one word multiply, the leftmost varying slowest; with no value the
//     word disappears.
//
// Substituted values are never rescanned.
func substitute(argv []string, subs []subst) []string {
	out := make([]string, 0, len(argv))
	for _, w := range argv {
		if strings.IndexByte(w, '$') < 0 {
			out = append(out, w)
			continue
		}
		out = substWord(out, w, subs)
	}
	return out
}

func isKeyChar(c byte) bool { return c != '\\' && c != '$' && c != '{' && c != '}' }

func substWord(out []string, w string, subs []subst) []string {
	var lit []string // literal text between holes: len(holes)+1 pieces
	var holes []int  // index in subs of each hole
	var b []byte     // the current literal piece
	esc := 0         // backslashes just before position i
	for i := 0; i < len(w); {
		c := w[i]
		if c != '$' {
			if c == '\\' {
				esc++
			} else {
				esc = 0
			}
			b = append(b, c)
			i++
			continue
		}
		braced := i+1 < len(w) && w[i+1] == '{'
		k := i + 1
		if braced {
			k++
		}
		start := k
		for k < len(w) && isKeyChar(w[k]) {
			k++
		}
		key, end := "", 0
		if braced && k < len(w) && w[k] == '}' && k > start {
			key, end = w[start:k], k+1
		} else if !braced && k > start {
			key, end = w[start:k], k
		}
		found := -1
		if key != "" {
			for j := range subs {
				if subs[j].key == key {
					found = j
					break
				}
			}
		}
		if found < 0 {
			// Not ours: copied as it is; scanning goes on at the
			// character that ended the key.
			b = append(b, w[i:k]...)
			esc = 0
			i = k
			continue
		}
		b = b[:len(b)-esc+esc/2] // 2n or 2n+1 backslashes become n
		if esc%2 == 1 {
			b = append(b, w[i:end]...)
		} else {
			lit = append(lit, string(b))
			holes = append(holes, found)
			b = b[:0]
		}
		esc = 0
		i = end
	}
	lit = append(lit, string(b))
	var rec func(h int, prefix string)
	rec = func(h int, prefix string) {
		if h == len(holes) {
			out = append(out, prefix+lit[h])
			return
		}
		for _, v := range subs[holes[h]].values {
			rec(h+1, prefix+lit[h]+v)
		}
	}
	rec(0, "")
	return out
}
