package ledger

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// changeShort is the longest rendering of a value that a changed column's
// problem shows whole; past it, a value is shown by a window around the
// first difference.
const changeShort = 200

// changeWindow is how many characters of text (bytes of a blob, half as
// many, since each shows as two hex digits) a window shows on each side of
// the first difference.
const changeWindow = 60

// changeText says how a column's value in the database (db) differs from
// the log's (log), for a problem: both in full when they are short, else
// their lengths, a prefix of their SHA-256 and, from where they first differ
// (a byte offset into the value), a window of each, so that an auditor sees
// what changed in a long column (a JSON document) without pages of it.
// Windows are cut between UTF-8 characters, never inside one. The projected
// tables hold what the log holds, which has no personal data in clear (the
// sealed rows are checked by their commitments, not here); a window keeps
// what a tampered database row may hold to a few lines.
func changeText(db, log any) string {
	dt, lt := normalize(db), normalize(log)
	if len(dt) <= changeShort && len(lt) <= changeShort {
		return fmt.Sprintf("is %s in the database but %s in the log", dt, lt)
	}
	a, b := rawValue(db), rawValue(log)
	at := 0
	for at < len(a) && at < len(b) && a[at] == b[at] {
		at++
	}
	_, text := db.(string)
	if _, ok := log.(string); ok {
		text = true
	}
	if text {
		// Back to the start of the character the difference falls in: the
		// bytes before at are the same in both, so is that character's start.
		for at > 0 && ((at < len(a) && !utf8.RuneStart(a[at])) || (at < len(b) && !utf8.RuneStart(b[at]))) {
			at--
		}
	}
	return fmt.Sprintf("is a value of %s in the database but of %s in the log; they first differ at byte %d: the database has %s where the log has %s",
		sizeText(db, a), sizeText(log, b), at, windowText(db, a, at), windowText(log, b, at))
}

// rawValue is the bytes of a scanned value that a byte offset counts in:
// a text's or a blob's own, else its rendering.
func rawValue(v any) []byte {
	switch x := v.(type) {
	case string:
		return []byte(x)
	case []byte:
		return x
	}
	return []byte(normalize(v))
}

// sizeText is a value's length and the start of its SHA-256.
func sizeText(v any, raw []byte) string {
	if v == nil {
		return "NULL"
	}
	sum := sha256.Sum256(raw)
	return fmt.Sprintf("%d bytes (sha256 %s…)", len(raw), hex.EncodeToString(sum[:6]))
}

// windowText renders the part of a value around byte at: changeWindow
// characters (bytes of a blob) on each side, with … where it was cut.
func windowText(v any, raw []byte, at int) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case []byte:
		lo, hi := max(at-changeWindow/2, 0), min(at+changeWindow/2, len(raw))
		return cutMarks(lo > 0, hi < len(raw), "x'"+hex.EncodeToString(raw[lo:hi])+"'")
	case string:
		lo := at
		for n := 0; n < changeWindow && lo > 0; n++ {
			_, size := utf8.DecodeLastRune(raw[:lo])
			lo -= size
		}
		hi := at
		for n := 0; n < changeWindow && hi < len(raw); n++ {
			_, size := utf8.DecodeRune(raw[hi:])
			hi += size
		}
		return cutMarks(lo > 0, hi < len(raw), strconv.Quote(string(raw[lo:hi])))
	}
	return normalize(v)
}

// cutMarks puts … outside a rendered window on the sides where the value
// goes on.
func cutMarks(before, after bool, s string) string {
	if before {
		s = "…" + s
	}
	if after {
		s += "…"
	}
	return s
}
