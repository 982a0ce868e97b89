package i18n

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/message"
	"golang.org/x/text/number"

	"github.com/custos-project/custos/internal/errs"
)

// Localizer writes messages in one language.
type Localizer struct {
	c    *Catalogue
	lang Language
}

// Language is the localizer's language.
func (l *Localizer) Language() Language { return l.lang }

// Code is the language's code, for lang attributes and Content-Language.
func (l *Localizer) Code() string { return l.lang.Code }

// Dir is "rtl" or "ltr".
func (l *Localizer) Dir() string { return l.lang.Dir() }

// Catalogue is the catalogue the localizer reads.
func (l *Localizer) Catalogue() *Catalogue { return l.c }

func (l *Localizer) entry(id string) (Entry, bool) {
	if e, ok := l.c.msgs[l.lang.Code][id]; ok {
		return e, true
	}
	e, ok := l.c.msgs[Default][id]
	return e, ok
}

// T writes message id, filled with args (fmt verbs); an argument that is
// an errs.Text, a message itself, is written in the language too. A message
// missing from the catalogues (which the catalogue check refuses) is
// written as its ID, in English.
func (l *Localizer) T(id string, args ...any) string {
	text := id
	if e, ok := l.entry(id); ok {
		text = e.Other()
	}
	if len(args) == 0 {
		return text
	}
	return fmt.Sprintf(text, l.texts(args)...)
}

// texts returns args with each errs.Text translated (args itself when
// none is one).
func (l *Localizer) texts(args []any) []any {
	var out []any
	for i, a := range args {
		t, ok := a.(errs.Text)
		if !ok {
			continue
		}
		if out == nil {
			out = slices.Clone(args)
		}
		out[i] = l.T(string(t))
	}
	if out == nil {
		return args
	}
	return out
}

// N writes message id in the plural form of the count n, which is its
// first argument (%[1]d), the others following. A form may leave the
// count out ("عضوان", two organs) and name the others by index (%[2]s).
func (l *Localizer) N(id string, n int, args ...any) string {
	text := id
	if e, ok := l.entry(id); ok {
		text = e.Forms[l.form(n)]
		if text == "" {
			text = e.Other()
		}
	}
	if !strings.Contains(text, "%") {
		return text
	}
	return fmt.Sprintf(text, append([]any{n}, l.texts(args)...)...)
}

func (l *Localizer) form(n int) plural.Form {
	if n < 0 {
		n = -n
	}
	return plural.Cardinal.MatchPlural(l.lang.Tag, n, 0, 0, 0, 0)
}

// Error writes the sentence of a refusal in the language; its code, rule
// and field stay as they are (English, stable, for machines).
func (l *Localizer) Error(e *errs.Error) string {
	format, args := e.Sentence()
	entry, ok := l.entry(format)
	if !ok {
		return e.Message
	}
	// Formatted even without arguments, as errs.New formats Message: a
	// sentence that writes %% means one % (T leaves a text without
	// arguments as it is).
	return fmt.Sprintf(entry.Other(), l.texts(args)...)
}

// Localize returns a copy of e whose Message is in the language.
func (l *Localizer) Localize(e *errs.Error) *errs.Error {
	out := *e
	out.Message = l.Error(e)
	return &out
}

// Number writes an integer with the language's digits and grouping.
func (l *Localizer) Number(n int64) string {
	return message.NewPrinter(l.lang.Tag).Sprint(number.Decimal(n))
}

// Fixed writes a number with exactly digits fraction digits, in the
// language's way: the figures of a table, whose column reads alike.
func (l *Localizer) Fixed(x float64, digits int) string {
	return message.NewPrinter(l.lang.Tag).Sprint(number.Decimal(x, number.MinFractionDigits(digits), number.MaxFractionDigits(digits)))
}

// The layouts of dates and times, as Go writes them, are messages too: a
// language translates "2006-01-02" into its own order ("02/01/2006").
// Date and Layout give them to T as literals, which the catalogue check
// reads (it reads no constant); the check knows these as layouts, not
// sentences.
const (
	DateLayout   = "2006-01-02"
	MinuteLayout = "2006-01-02 15:04"
	SecondLayout = "2006-01-02 15:04:05"
)

// Date writes the calendar date of t in the language's order.
func (l *Localizer) Date(t time.Time) string { return t.Format(l.T("2006-01-02")) } // DateLayout

// listSeparators are the languages' separators of the items of a list
// where it is not English's ", " (CLDR's list patterns): punctuation, not
// words, so no message (the catalogue refuses a message without a letter).
var listSeparators = map[string]string{"ar": "، ", "zh": "、", "ja": "、", "fa": "، "}

// ListSeparator is what the language writes between two items of a list
// ("a, b"; Arabic "a، b"; Chinese "a、b").
func (l *Localizer) ListSeparator() string {
	base, _ := l.lang.Tag.Base()
	if sep, ok := listSeparators[base.String()]; ok {
		return sep
	}
	return ", "
}

// Layout is the language's layout of a date and time to the minute, or to
// the second.
func (l *Localizer) Layout(seconds bool) string {
	if seconds {
		return l.T("2006-01-02 15:04:05") // SecondLayout
	}
	return l.T("2006-01-02 15:04") // MinuteLayout
}

type contextKey struct{}

// NewContext returns ctx carrying l, the language of a request, for what
// the request's handler hands on without its session (an export's file).
func NewContext(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, contextKey{}, l)
}

// FromContext is the language NewContext put in ctx; nil when none.
func FromContext(ctx context.Context) *Localizer {
	l, _ := ctx.Value(contextKey{}).(*Localizer)
	return l
}
