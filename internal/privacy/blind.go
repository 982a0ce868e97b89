package privacy

import (
	"crypto/hmac"
	"crypto/sha256"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NormalizeName writes a person's name the way two clerks typing it would
// agree on, so that its blind index matches: NFKC (full-width letters and
// ligatures become the plain ones), then diacritics removed
// (é is e, ß stays ß), upper and lower case folded, every run of characters
// that are not letters or digits (spaces, hyphens, apostrophes, dots) made one
// separator, and the words sorted, so "Marie-Claire O'Neil", "o'neil marie
// claire" and "ONEIL, Marie Claire" differ only where a word was split
// differently ("ONeil" is one word, "O Neil" two). It returns "" for a name
// with no letter or digit.
func NormalizeName(name string) string {
	var words []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			words = append(words, w.String())
			w.Reset()
		}
	}
	// Bytes that are not UTF-8 separate words, like any other non-letter:
	// left in, they would hide the letter after them from the normalization.
	name = strings.ToValidUTF8(name, " ")
	for _, r := range norm.NFD.String(norm.NFKC.String(name)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// A combining mark (an accent) after its letter: dropped.
		case r == '\'' || r == '’' || r == 'ʼ':
			// An apostrophe joins: O'Neil is ONeil.
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			w.WriteRune(unicode.ToLower(unicode.ToUpper(r)))
		default:
			flush()
		}
	}
	flush()
	slices.Sort(words)
	return norm.NFC.String(strings.Join(words, " "))
}

// BlindIndex returns a keyed hash of parts, in a namespace, under a key of
// its own (not the pseudonyms' one): equal inputs give equal indexes, so a
// registry can find the records of a person by a value it keeps only sealed,
// and without the master key the index says nothing about the value. Callers
// normalise the parts first (NormalizeName). Blind indexes belong beside the
// sealed data, never in the log: a log entry is kept for good, an index of a
// name must go when the subject is erased.
func (v *Vault) BlindIndex(namespace string, parts ...string) string {
	m := hmac.New(sha256.New, v.blind)
	m.Write([]byte(namespace))
	for _, p := range parts {
		m.Write([]byte{0})
		m.Write([]byte(p))
	}
	return "BI-" + b32.EncodeToString(m.Sum(nil)[:15])
}
