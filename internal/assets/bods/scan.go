package bods

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"
)

// scanValue decodes JSON text as decodeTokens does (objects as
// map[string]any, arrays as []any, numbers as json.Number), in one pass
// over one string copy of the text: keys and strings without escapes are
// substrings of it, not allocations of their own. It gives up (ok false)
// on anything it does not decode exactly as encoding/json would, or that
// is refused: bad JSON, a key given twice, nesting deeper than maxDepth,
// text after the value, text that is not UTF-8, the \u escape of half of a
// UTF-16 surrogate pair alone (a pair is one character); the caller then
// reads the text token by token, which names the fault's path. compact tells
// that the text has no whitespace outside its strings.
func scanValue(raw []byte) (v any, compact, ok bool) {
	if !utf8.Valid(raw) {
		return nil, false, false
	}
	sc := scanner{s: string(raw), compact: true}
	sc.space()
	v, ok = sc.value(0)
	if !ok {
		return nil, false, false
	}
	sc.space()
	if sc.i != len(sc.s) {
		return nil, false, false
	}
	return v, sc.compact, true
}

type scanner struct {
	s       string
	i       int
	compact bool
}

func (sc *scanner) space() {
	for sc.i < len(sc.s) {
		switch sc.s[sc.i] {
		case ' ', '\t', '\n', '\r':
			sc.compact = false
			sc.i++
		default:
			return
		}
	}
}

func (sc *scanner) value(depth int) (any, bool) {
	if depth > maxDepth || sc.i >= len(sc.s) {
		return nil, false
	}
	switch c := sc.s[sc.i]; {
	case c == '{':
		sc.i++
		m := make(map[string]any)
		if sc.closes('}') {
			return m, true
		}
		for n := 1; ; n++ {
			if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
				return nil, false
			}
			k, ok := sc.str()
			if !ok {
				return nil, false
			}
			sc.space()
			if sc.i >= len(sc.s) || sc.s[sc.i] != ':' {
				return nil, false
			}
			sc.i++
			sc.space()
			x, ok := sc.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = x
			if len(m) != n {
				return nil, false // a key given twice
			}
			if more, ok := sc.after('}'); !more {
				return m, ok
			}
		}
	case c == '[':
		sc.i++
		a := []any{}
		if sc.closes(']') {
			return a, true
		}
		for {
			x, ok := sc.value(depth + 1)
			if !ok {
				return nil, false
			}
			a = append(a, x)
			if more, ok := sc.after(']'); !more {
				return a, ok
			}
		}
	case c == '"':
		s, ok := sc.str()
		if !ok {
			return nil, false
		}
		return s, true
	case c == '-' || c >= '0' && c <= '9':
		return sc.number()
	case c == 't':
		return true, sc.literal("true")
	case c == 'f':
		return false, sc.literal("false")
	case c == 'n':
		return nil, sc.literal("null")
	}
	return nil, false
}

// closes tells whether the object or array just opened closes at once,
// taking its closing bracket.
func (sc *scanner) closes(bracket byte) bool {
	sc.space()
	if sc.i < len(sc.s) && sc.s[sc.i] == bracket {
		sc.i++
		return true
	}
	return false
}

// after reads what follows an element of an object or an array: a comma
// (more follow) or its closing bracket (ok, no more); anything else is
// not JSON.
func (sc *scanner) after(bracket byte) (more, ok bool) {
	sc.space()
	if sc.i >= len(sc.s) {
		return false, false
	}
	switch sc.s[sc.i] {
	case ',':
		sc.i++
		sc.space()
		return true, true
	case bracket:
		sc.i++
		return false, true
	}
	return false, false
}

func (sc *scanner) literal(word string) bool {
	if len(sc.s)-sc.i < len(word) || sc.s[sc.i:sc.i+len(word)] != word {
		return false
	}
	sc.i += len(word)
	return true
}

// number reads -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (sc *scanner) number() (any, bool) {
	start := sc.i
	if sc.s[sc.i] == '-' {
		sc.i++
	}
	switch {
	case sc.i < len(sc.s) && sc.s[sc.i] == '0':
		sc.i++
	case sc.digits() == 0:
		return nil, false
	}
	if sc.i < len(sc.s) && sc.s[sc.i] == '.' {
		sc.i++
		if sc.digits() == 0 {
			return nil, false
		}
	}
	if sc.i < len(sc.s) && (sc.s[sc.i] == 'e' || sc.s[sc.i] == 'E') {
		sc.i++
		if sc.i < len(sc.s) && (sc.s[sc.i] == '+' || sc.s[sc.i] == '-') {
			sc.i++
		}
		if sc.digits() == 0 {
			return nil, false
		}
	}
	return json.Number(sc.s[start:sc.i]), true
}

func (sc *scanner) digits() int {
	n := 0
	for sc.i < len(sc.s) && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
		sc.i++
		n++
	}
	return n
}

// str reads a string at sc.i (its opening quote): a substring of the text
// when it has no escapes, else its unescaped copy.
func (sc *scanner) str() (string, bool) {
	sc.i++
	start := sc.i
	for sc.i < len(sc.s) {
		switch c := sc.s[sc.i]; {
		case c == '"':
			sc.i++
			return sc.s[start : sc.i-1], true
		case c == '\\':
			return sc.escaped(start)
		case c < 0x20:
			return "", false
		}
		sc.i++
	}
	return "", false
}

// escaped reads the rest of a string with escapes, from start (after its
// opening quote); sc.i is at the first backslash.
func (sc *scanner) escaped(start int) (string, bool) {
	b := []byte(sc.s[start:sc.i])
	for sc.i < len(sc.s) {
		c := sc.s[sc.i]
		switch {
		case c == '"':
			sc.i++
			return string(b), true
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			sc.i++
			continue
		}
		if sc.i+1 >= len(sc.s) {
			return "", false
		}
		e := sc.s[sc.i+1]
		sc.i += 2
		switch e {
		case '"', '\\', '/':
			b = append(b, e)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := sc.hex4()
			if ok && utf16.IsSurrogate(r) {
				// Only a pair is a character: a high half followed by
				// the \u escape of a low half.
				r, ok = sc.low(r)
			}
			if !ok {
				return "", false // a lone surrogate: the caller names it
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return "", false
}

// low reads the \u escape of the low half of a UTF-16 surrogate pair whose
// high half is hi, at sc.i, and returns the pair's character; false if
// hi is a low half, or no low half follows it.
func (sc *scanner) low(hi rune) (rune, bool) {
	if hi >= 0xDC00 || len(sc.s)-sc.i < 6 || sc.s[sc.i] != '\\' || sc.s[sc.i+1] != 'u' {
		return 0, false
	}
	sc.i += 2
	lo, ok := sc.hex4()
	if !ok {
		return 0, false
	}
	r := utf16.DecodeRune(hi, lo)
	return r, r != utf8.RuneError
}

func (sc *scanner) hex4() (rune, bool) {
	if len(sc.s)-sc.i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range []byte(sc.s[sc.i : sc.i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	sc.i += 4
	return r, true
}
