// Package check holds the field checks the registries' commands share. Each
// refuses with an errs.Invalid error that names the field and its rule, in
// the words clients have always received; a registry calls them before it
// reads any state. PartHeader, the refusal of an upload whose part header
// cannot be read, is shared by the web UI and the API the same way.
package check

import (
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/custos-project/custos/internal/errs"
)

// DateLayout is how calendar dates are written.
const DateLayout = "2006-01-02"

// timeLayout is the ledger's layout of a timestamp (ledger.TimeLayout).
const timeLayout = "2006-01-02T15:04:05.000000Z"

var hexRE = regexp.MustCompile(`^[0-9a-f]*$`)

// Index names element i of a list field: field[i].
func Index(field string, i int) string {
	return field + "[" + strconv.Itoa(i) + "]"
}

// Required refuses an empty value (rule required).
func Required(field, v string) error {
	if v == "" {
		return errs.Invalidf("required", field, "%s is required", field)
	}
	return nil
}

// OneOf refuses a value that is not one of allowed (rule enum).
func OneOf(field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errs.Invalidf("enum", field, "%s must be one of %s", field, strings.Join(allowed, ", "))
}

// Clean normalizes a text a person wrote to NFC and refuses what would
// mislead whoever reads it later: bytes that are not UTF-8 (rule utf8),
// control characters (rule control_character) and the bidirectional
// embeddings, overrides and isolates U+202A to U+202E and U+2066 to U+2069
// (rule bidi_character), which reorder what is shown without being seen.
// A multi-line text may hold newlines and tabs; a single-line one (a name,
// an identifier) may not, nor U+2028 and U+2029. The marks U+200E, U+200F
// and U+061C pass: they change the order of nothing but neutral characters
// next to them, and names in right-to-left scripts need them. Clean does not
// trim; the other checks of texts call it.
func Clean(field, s string, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", errs.Invalidf("utf8", field, "%s is not valid UTF-8", field)
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			if !multiline {
				return "", errs.Invalidf("control_character", field, "%s is one line: it cannot contain a line break or tab", field)
			}
		case unicode.IsControl(r):
			return "", errs.Invalidf("control_character", field, "%s contains a control character", field)
		case r == '\u2028' || r == '\u2029':
			if !multiline {
				return "", errs.Invalidf("control_character", field, "%s is one line: it cannot contain a line break or tab", field)
			}
		case Bidi(r):
			return "", errs.Invalidf("bidi_character", field, "%s contains a bidirectional control character (U+%04X), which changes how the text is shown", field, r)
		}
	}
	return norm.NFC.String(s), nil
}

// Bidi tells whether r is a bidirectional embedding, override or isolate
// (U+202A to U+202E, U+2066 to U+2069), which Clean refuses.
func Bidi(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

// Trimmed returns a multi-line text without surrounding space, cleaned
// (Clean), refusing it when longer than max bytes (rule too_long).
func Trimmed(field, s string, max int) (string, error) {
	s, err := Clean(field, strings.TrimSpace(s), true)
	if err != nil {
		return "", err
	}
	if utf8.RuneCountInString(s) > max {
		return "", errs.Invalidf("too_long", field, "%s is at most %d characters", field, max)
	}
	return s, nil
}

// Text is Trimmed for a text a person writes, on one line or several: it
// also refuses, once trimmed, an empty required text (rule required).
func Text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", errs.Invalidf("required", field, "%s is required", field)
	}
	return Trimmed(field, s, max)
}

// Line is Text for a single line: a name, an identifier, a reference. It
// also refuses line breaks and tabs (rule control_character).
func Line(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", errs.Invalidf("required", field, "%s is required", field)
	}
	s, err := Clean(field, s, false)
	if err != nil {
		return "", err
	}
	if utf8.RuneCountInString(s) > max {
		return "", errs.Invalidf("too_long", field, "%s is at most %d characters", field, max)
	}
	return s, nil
}

// MaxSearch is the longest text a list's search takes, in characters.
const MaxSearch = 200

// Contains checks the text a list is searched for (a line of at most
// MaxSearch characters, optional) and returns it with the LIKE pattern that
// finds it, lower-cased, in any text: "%" text "%", its own % _ and \
// escaped, for a LIKE ... ESCAPE '\'.
func Contains(field, q string) (text, pattern string, err error) {
	text, err = Line(field, q, MaxSearch, false)
	if err != nil {
		return "", "", err
	}
	return text, "%" + likeEscaper.Replace(strings.ToLower(text)) + "%", nil
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Whole reads s as a whole number from 0 to max (max >= 0) written in
// decimal digits alone: no sign, no spaces, and no more digits than max has
// (a leading zero within that, 05 for an age of at most 120, is read; 0005
// is not). strconv.Atoi also reads +5, -0 and 00000005, which a query string
// or a records file should not pass for a number: whoever wrote them may
// have meant something else.
func Whole(s string, max int) (int, bool) {
	if s == "" || max < 0 || len(s) > len(strconv.Itoa(max)) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n <= max
}

// IntRange refuses a given number outside lo..hi (rule range); nil passes.
func IntRange(field string, v *int, lo, hi int) error {
	if v != nil && (*v < lo || *v > hi) {
		return errs.Invalidf("range", field, "%s must be between %d and %d", field, lo, hi)
	}
	return nil
}

// Date reads a calendar date written YYYY-MM-DD, from 1900 on, and returns
// it in DateLayout; an empty date is refused when required and returned as
// "" otherwise.
func Date(field, s string, required bool) (string, error) {
	if s == "" {
		if required {
			return "", errs.Invalidf("required", field, "%s is required (YYYY-MM-DD)", field)
		}
		return "", nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return "", errs.Invalidf("date_format", field, "%s must be a date written YYYY-MM-DD", field)
	}
	if t.Year() < 1900 {
		return "", errs.Invalidf("date_range", field, "%s is before 1900", field)
	}
	return t.Format(DateLayout), nil
}

// DateNotFuture refuses a date (in DateLayout) after the day of now (rule
// dates_in_order); an empty date passes.
func DateNotFuture(field, date string, now time.Time) error {
	if date > now.UTC().Format(DateLayout) {
		return errs.Invalidf("dates_in_order", field, "%s is in the future", field)
	}
	return nil
}

// Time reads a required RFC 3339 time, from 1900 on, and returns it in UTC.
func Time(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errs.Invalidf("required", field, "%s is required (RFC 3339, e.g. 2026-03-01T14:30:00Z)", field)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errs.Invalidf("time_format", field, "%s must be an RFC 3339 time such as 2026-03-01T14:30:00Z", field)
	}
	if t.Year() < 1900 {
		return time.Time{}, errs.Invalidf("date_range", field, "%s is before 1900", field)
	}
	return t.UTC(), nil
}

// NotFuture refuses a time later than now, with a few minutes' grace for
// clocks that disagree (rule dates_in_order).
func NotFuture(field string, t, now time.Time) error {
	if t.After(now.Add(5 * time.Minute)) {
		return errs.Invalidf("dates_in_order", field, "%s (%s) is in the future", field, t.Format(time.RFC3339))
	}
	return nil
}

// OptionalTime reads an optional RFC 3339 time (fractions of a second
// allowed) and returns it as the ledger writes times (ledger.TimeLayout);
// empty gives "". Its refusal is rule rfc3339.
func OptionalTime(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", errs.Invalidf("rfc3339", field, "%s must be an RFC 3339 time such as 2025-01-31T14:05:00Z", field)
	}
	return t.UTC().Format(timeLayout), nil
}

// HexDigest reads an optional digest of n hexadecimal digits, in either
// case, and returns it in lower case; empty gives "". Its refusal is rule
// hex_digest.
func HexDigest(field, s string, n int) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return "", nil
	}
	if len(s) != n || !hexRE.MatchString(s) {
		return "", errs.Invalidf("hex_digest", field, "%s must be %d hexadecimal digits", field, n)
	}
	return s, nil
}

// Email reads one e-mail address as net/mail does (RFC 5322; a display
// name is dropped) and returns its addr-spec, refusing anything else (rule
// email, the field named): several addresses, an address of more than 254
// characters, and one that SMTP would have to quote (spaces, quotes,
// brackets, characters outside printable ASCII), which no registry's
// contact needs. An empty value is refused (rule required).
func Email(field, s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", errs.Invalidf("required", field, "%s is required", field)
	}
	bad := errs.Invalidf("email", field, "%s is not an e-mail address", field)
	a, err := mail.ParseAddress(s)
	// One @ between a local part and a domain: a quoted local part may
	// hold an @ ("@"@b), which net/mail returns unquoted (@@b), an
	// address nothing downstream reads back as one.
	if err != nil || len(a.Address) > 254 || strings.Count(a.Address, "@") != 1 {
		return "", bad
	}
	for _, r := range a.Address {
		if r <= ' ' || r > '~' || strings.ContainsRune(`<>()[],;:\"`, r) {
			return "", bad
		}
	}
	// A quoted local part net/mail unquotes may no longer be one
	// unquoted (".c"@b gives .c@b, a leading dot): what is kept must
	// read back as itself.
	if again, err := mail.ParseAddress(a.Address); err != nil || again.Address != a.Address {
		return "", bad
	}
	return a.Address, nil
}

// UnknownState is ZZ, the code that ISO 3166-1 leaves to users and that is
// read everywhere (CLDR, Unicode, ISO 3166-1's own guidance) as an unknown
// or unspecified state.
const UnknownState = "ZZ"

// RealState refuses ZZ (rule known_state) for a field that names a state
// something is of, is sent to, shared with or returned to: a registry's
// jurisdiction, an authority's, an exchange peer's, the sender and the
// recipient of an exchange message, the state a request for assistance is
// sent to, a state information is shared with, the state an asset is
// returned to, the state of a directory entry. The other user-assigned
// codes (AA, QM to QZ, XA to XZ) name states of a deployment's own (the
// demo's Demoland is XA) and pass; ZZ is accepted where an unknown state is
// an answer that the field has no other way to give (an asset-recovery
// person's country, the jurisdiction where an asset was identified, a
// list's filter), so those fields do not call it. The transplant
// registry's countries and nationalities, which write an unknown one
// "unknown", refuse ZZ with the same rule (transplant's country).
// It checks nothing else: the caller checks the code's form first.
func RealState(field, code string) error {
	if code == UnknownState {
		return errs.Invalidf("known_state", field, "%s must name a state: ZZ is ISO 3166-1's code for an unknown or unspecified state, which no registry or authority is of and nothing can be sent to, shared with or returned to", field)
	}
	return nil
}
