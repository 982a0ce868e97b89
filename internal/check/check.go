// Package check holds the field checks the registries' commands share. Each
// refuses with an errs.Invalid error that names the field and its rule, in
// the words clients have always received; a registry calls them before it
// reads any state.
package check

import (
	"regexp"
	"strconv"
	"strings"
	"time"

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

// Trimmed returns s without surrounding space, refusing it when longer than
// max bytes (rule too_long).
func Trimmed(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if len(s) > max {
		return "", errs.Invalidf("too_long", field, "%s is at most %d characters", field, max)
	}
	return s, nil
}

// Text is Trimmed for a text a person writes: it also refuses, once trimmed,
// an empty required text (rule required) and control characters other than
// newline and tab (rule control_character).
func Text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", errs.Invalidf("required", field, "%s is required", field)
	}
	s, err := Trimmed(field, s, max)
	if err != nil {
		return "", err
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' {
			return "", errs.Invalidf("control_character", field, "%s contains a control character", field)
		}
	}
	return s, nil
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
