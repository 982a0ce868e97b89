// Package errs holds custos's one error type. Every refusal a user can see is an
// *Error with a code (which decides the HTTP status), a sentence a person
// understands, the rule that refused and the field it concerns. Internal errors
// stay plain Go errors: they are logged with detail and shown generically.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Code classifies an error for clients; it is stable and machine-readable.
type Code string

// The codes. They map to HTTP statuses in one place (Code.HTTPStatus).
const (
	Invalid      Code = "invalid"                // the input breaks a rule; nothing changed
	Malformed    Code = "malformed"              // the request cannot be read (bad JSON, wrong type)
	NotFound     Code = "not_found"              // a referenced record does not exist
	Conflict     Code = "conflict"               // the input contradicts the registry's state
	Unauthorized Code = "unauthorized"           // no valid credentials
	Forbidden    Code = "forbidden"              // valid credentials, not allowed
	TooLarge     Code = "too_large"              // the request body is over the limit
	Unsupported  Code = "unsupported_media_type" // the body is not of a media type the address reads (its Content-Type)
	NotAllowed   Code = "method_not_allowed"     // the address exists, but not with this method
	Unavailable  Code = "unavailable"            // this server lacks what the request needs now (a program such as ffmpeg, or room for another large body); nothing changed
	Internal     Code = "internal"               // a fault of custos, not of the caller
)

// Error is a refusal that names its rule and field. When Alert is set the
// refusal matters to oversight: the writer records an alert for the regulator in
// the same transaction that refuses the command.
type Error struct {
	Code    Code   `json:"code"`
	Rule    string `json:"rule,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	Alert   bool   `json:"alert,omitempty"`

	// format and args made Message: the message's ID in the catalogues
	// (internal/i18n) and what fills it, so that the sentence can be
	// written in the reader's language (Sentence).
	format string
	args   []any
}

// Sentence returns the message's ID (its English format) and its
// arguments, for writing it in another language. An Error made without
// New (a literal, or one read back from a peer) has Message as its ID and
// no arguments.
func (e *Error) Sentence() (format string, args []any) {
	if e.format == "" {
		return e.Message, nil
	}
	return e.format, e.args
}

func (e *Error) Error() string {
	s := e.Message
	if e.Rule != "" {
		s = e.Rule + ": " + s
	}
	if e.Field != "" {
		s += " (field " + e.Field + ")"
	}
	return s
}

// Text is an argument of a refusal that is itself a message of the
// catalogues (its English text, a literal the catalogue check reads): the
// name of an action a role may not take. The English Message has it as it
// is; a translation of the sentence writes it in the same language
// (internal/i18n's Localizer translates every Text argument). Any other
// argument (a value, an identifier) is written as it is in every language.
type Text string

// New returns an error with the given code, rule, field and message.
func New(code Code, rule, field, format string, args ...any) *Error {
	return &Error{Code: code, Rule: rule, Field: field, Message: fmt.Sprintf(format, args...), format: format, args: args}
}

// MaxQuoted is the most of a string argument an alert quotes, in characters.
// A refusal often names the value it refuses; an alert's message goes into
// the log, which keeps it for ever, and a value as long as a request may be
// (or personal data pasted into an identifier's field) would be copied there
// whole.
const MaxQuoted = 200

// clip returns args with each string longer than MaxQuoted characters cut
// there and marked with an ellipsis (args itself when none is).
func clip(args []any) []any {
	var out []any
	for i, a := range args {
		s, ok := a.(string)
		if !ok || len(s) <= MaxQuoted || utf8.RuneCountInString(s) <= MaxQuoted {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = string([]rune(s)[:MaxQuoted]) + "…"
	}
	if out == nil {
		return args
	}
	return out
}

// MaxEchoed is the most of a name written by someone else (a query
// parameter's, a peer registry's rule or field) that custos repeats, in
// characters (Echo).
const MaxEchoed = 64

// Echo returns s, text that a client or a peer wrote, as custos repeats it
// in a refusal or an error: cut at max characters and marked with an
// ellipsis, and with control characters, bytes that are not UTF-8,
// backslashes and double quotes escaped as in a Go string literal (without
// its quotes), so that what comes back is short and cannot move a
// terminal's cursor or forge a line of a log. A plain name comes back as it
// is. Every echo of such text goes through it: the API's refusal of a query
// parameter, a delivery's error quoting a peer's refusal, the witness's
// error quoting a registry's.
func Echo(s string, max int) string {
	n := 0
	for i := range s { // a byte that is not UTF-8 counts as one, and stays
		if n == max {
			s = s[:i] + "…"
			break
		}
		n++
	}
	q := strconv.Quote(s)
	return q[1 : len(q)-1]
}

// Invalidf is the common case: a rule refused a field.
func Invalidf(rule, field, format string, args ...any) *Error {
	return New(Invalid, rule, field, format, args...)
}

// Alertf is a refusal that also raises an alert for the regulator. A string
// argument longer than MaxQuoted characters is cut there.
func Alertf(code Code, rule, field, format string, args ...any) *Error {
	e := New(code, rule, field, format, clip(args)...)
	e.Alert = true
	return e
}

// As returns err as an *Error when it is one.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// CodeOf returns the code of err, or Internal for errors that are not *Error.
func CodeOf(err error) Code {
	if e, ok := As(err); ok {
		return e.Code
	}
	return Internal
}

// HTTPStatus is the HTTP status of a refusal with this code. It is the one
// mapping from codes to statuses, used by the API and the web UI alike.
func (c Code) HTTPStatus() int {
	switch c {
	case Invalid:
		return http.StatusUnprocessableEntity
	case Malformed:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case Unsupported:
		return http.StatusUnsupportedMediaType
	case NotAllowed:
		return http.StatusMethodNotAllowed
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
