package bods

import (
	"errors"
	"io"
)

// splitter cuts a stream of JSON values into the values' texts without
// decoding them: it follows strings and brackets only, and what is inside
// a value is checked by Parse (scanValue), which refuses bad JSON with its
// path. The texts of a batch are cut from one slab, not allocated one by
// one; each is capped, so that nothing appended to one runs into the next.
type splitter struct {
	r    io.Reader
	buf  []byte
	i    int // the next byte of buf not yet handed out
	eof  bool
	rerr error // the reader's error, other than io.EOF
	slab []byte
}

// errCut is a value that the stream ends inside of, or none where one
// begins.
var errCut = errors.New("the stream ends inside a value")

// errTooLarge is a value longer than MaxStatement bytes: the splitter
// stops reading it there, so that a huge statement is never held whole.
var errTooLarge = errors.New("the value is longer than MaxStatement bytes")

// MaxStatement is the most bytes one statement may take in a file, as
// given (from its opening brace to its closing one). Real registers'
// statements are a few kilobytes at most (docs/assets.md, Import).
const MaxStatement = 64 << 10

func newSplitter(r io.Reader) *splitter {
	return &splitter{r: r, buf: make([]byte, 0, 64<<10)}
}

// more reads more of the stream into buf, keeping buf[sp.i:]; false at
// the end of the stream.
func (sp *splitter) more() bool {
	if sp.eof {
		return false
	}
	if sp.i > 0 {
		n := copy(sp.buf, sp.buf[sp.i:])
		sp.buf, sp.i = sp.buf[:n], 0
	}
	if len(sp.buf) == cap(sp.buf) {
		sp.buf = append(sp.buf, 0)[:len(sp.buf)]
	}
	for {
		n, err := sp.r.Read(sp.buf[len(sp.buf):cap(sp.buf)])
		sp.buf = sp.buf[:len(sp.buf)+n]
		if err != nil {
			sp.eof = true
			if !errors.Is(err, io.EOF) {
				sp.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// skip passes the bytes of set and gives the next other byte, not taking
// it; false at the end of the stream.
func (sp *splitter) skip(set string) (byte, bool) {
	for {
		for ; sp.i < len(sp.buf); sp.i++ {
			c := sp.buf[sp.i]
			if !inSet(c, set) {
				return c, true
			}
		}
		if !sp.more() {
			return 0, false
		}
	}
}

func inSet(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}

const space = " \t\r\n"

// take takes one byte.
func (sp *splitter) take() { sp.i++ }

// value cuts the value that begins at the next byte (not a space): an
// object or an array to its closing bracket, a string to its closing
// quote, anything else to the next space, comma or bracket. A value longer
// than MaxStatement is errTooLarge, found before more than about
// MaxStatement bytes of it are read.
func (sp *splitter) value() ([]byte, error) {
	j := sp.i // the end so far, in buf
	depth, in := 0, false
	for {
		for ; j < len(sp.buf); j++ {
			c := sp.buf[j]
			switch {
			case in:
				switch c {
				case '\\':
					j++ // may step past the end: more() then keeps it
				case '"':
					in = false
					if depth == 0 {
						return sp.cut(j + 1)
					}
				}
			case c == '"':
				in = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth == 0 { // a scalar's end
					if j == sp.i {
						return nil, errCut
					}
					return sp.cut(j)
				}
				if depth--; depth == 0 {
					return sp.cut(j + 1)
				}
			case depth == 0 && j > sp.i && (c == ',' || inSet(c, space)):
				return sp.cut(j)
			}
		}
		off := j - sp.i
		if off > MaxStatement {
			return nil, errTooLarge
		}
		if !sp.more() {
			if depth == 0 && !in && j > sp.i && j <= len(sp.buf) {
				return sp.cut(len(sp.buf)) // a scalar at the end
			}
			return nil, errCut
		}
		j = sp.i + off
	}
}

// cut hands out buf[sp.i:end] as a slice of the slab.
func (sp *splitter) cut(end int) ([]byte, error) {
	n := end - sp.i
	if n > MaxStatement {
		return nil, errTooLarge
	}
	if n == 0 {
		return nil, nil // a closing bracket where a value begins: not JSON
	}
	if cap(sp.slab)-len(sp.slab) < n {
		sp.slab = make([]byte, 0, max(n, 256<<10))
	}
	start := len(sp.slab)
	sp.slab = append(sp.slab, sp.buf[sp.i:end]...)
	sp.i = end
	return sp.slab[start : start+n : start+n], nil
}
