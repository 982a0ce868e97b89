// Package chart draws the figures of the dashboards and reports: a chart as
// inline SVG drawn on the server (no script), the same figures as an HTML
// table to put beside it, and as CSV. Every registry's figures go through it,
// so they look, read and download alike.
//
// A chart is accessible without its picture: the SVG has a title and a
// description that says what it shows and its largest value, each bar carries
// its value as text (on the bar when there is room, always in the bar's
// tooltip), and the table beside it holds every figure. Series are told
// apart by lightness, not hue alone, so a chart printed in greyscale still
// reads. Every label is escaped.
//
// A panel's texts (title, description, headers, unit, series, categories,
// note) are in the reader's language: whoever builds the panel writes them
// through the reader's i18n.Localizer. The chart and the table are drawn
// for that localizer too: their own words, and the figures in the
// language's digits and grouping. The file (Columns, Rows) is the same in
// every language, as every export is: its columns are the panel's Fields,
// its categories their Codes, and the figures as Format writes them, for
// spreadsheets and programs to read.
package chart

import (
	"errors"
	"fmt"
	"html"
	"html/template"
	"iter"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/i18n"
)

// Kind is how a panel is drawn.
type Kind int

const (
	// Columns are vertical bars, the categories along the horizontal axis
	// in order: months.
	Columns Kind = iota
	// Bars are horizontal bars, one row per category: centres, organs,
	// rules, statuses.
	Bars
	// Lines are trend lines, one per series, the categories along the
	// horizontal axis in order (years, months); each point is marked, a
	// different mark and dash per series so that they read in greyscale.
	Lines
)

// Series is one set of values, one per category of its panel.
type Series struct {
	Name   string
	Values []float64
}

// Panel is one figure of a dashboard: a chart, its table and its CSV.
type Panel struct {
	// ID names the panel on its page and its CSV file: lower-case letters,
	// digits and hyphens, starting with the section's name.
	ID    string
	Title string
	// Desc says what the figure counts and over which period, in one
	// sentence: under the title, and the SVG's description.
	Desc string
	Kind Kind
	// Category is the header of the categories' column ("Month", "Centre").
	Category string
	// Unit is what the values count or measure ("donations", "hours"): the
	// value axis's label.
	Unit       string
	Categories []string
	Series     []Series
	// Decimals is the number of digits after the decimal point shown.
	Decimals int
	// Note is said under the chart: a caveat, or why it is empty.
	Note string
	// Fields are the names of the file's columns (Columns): the
	// categories' ("month", "organ"), then each series' ("donations"), as
	// codes that are the same in every language.
	Fields []string
	// Codes are the categories as the file writes them, one per category
	// ("kidney" where Categories has the reader's word for it); nil when
	// the categories are the same in every language (months, rules).
	Codes []string
}

var (
	idRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	fieldRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
)

// Check reports a panel that cannot be drawn or written as a file: a bad
// ID, no title, a series whose values do not match the categories one for
// one, or Fields and Codes that do not name every column and category as
// codes.
func (p *Panel) Check() error {
	if !idRE.MatchString(p.ID) {
		return fmt.Errorf("chart: panel id %q: want lower-case letters, digits and hyphens", p.ID)
	}
	if p.Title == "" {
		return fmt.Errorf("chart: panel %s has no title", p.ID)
	}
	if len(p.Fields) != 1+len(p.Series) {
		return fmt.Errorf("chart: panel %s has %d fields for the categories and %d series", p.ID, len(p.Fields), len(p.Series))
	}
	for _, f := range p.Fields {
		if !fieldRE.MatchString(f) {
			return fmt.Errorf("chart: panel %s: field %q: want lower-case letters, digits and underscores", p.ID, f)
		}
	}
	if p.Codes != nil && len(p.Codes) != len(p.Categories) {
		return fmt.Errorf("chart: panel %s has %d codes for %d categories", p.ID, len(p.Codes), len(p.Categories))
	}
	for _, s := range p.Series {
		if len(s.Values) != len(p.Categories) {
			return fmt.Errorf("chart: panel %s: series %q has %d values for %d categories", p.ID, s.Name, len(s.Values), len(p.Categories))
		}
		for _, v := range s.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				return fmt.Errorf("chart: panel %s: series %q has the value %v; values are finite and not negative", p.ID, s.Name, v)
			}
		}
	}
	return nil
}

// Empty tells whether the panel has no category or only zeros.
func (p *Panel) Empty() bool { return p.max() == 0 }

func (p *Panel) max() float64 {
	m := 0.0
	for _, s := range p.Series {
		for _, v := range s.Values {
			m = max(m, v)
		}
	}
	return m
}

// Format writes a value as the panel's file holds it: Decimals digits
// after a point, no grouping.
func (p *Panel) Format(v float64) string { return strconv.FormatFloat(v, 'f', p.Decimals, 64) }

// Shown writes a value as the chart and the table show it to the reader of
// l: Decimals digits after the language's decimal sign, its digits and its
// grouping.
func (p *Panel) Shown(l *i18n.Localizer, v float64) string { return l.Fixed(v, p.Decimals) }

// Value returns series s's value for category c, and whether both exist.
func (p *Panel) Value(s, c string) (float64, bool) {
	for _, se := range p.Series {
		if se.Name != s {
			continue
		}
		for i, cat := range p.Categories {
			if cat == c {
				return se.Values[i], true
			}
		}
	}
	return 0, false
}

// esc escapes text for XML and HTML alike.
func esc(s string) string { return html.EscapeString(s) }

// Table is the panel's figures as an HTML table for the reader of l: a row
// per category, a column per series, with the panel's title as its caption.
func (p *Panel) Table(l *i18n.Localizer) template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<table class="figures" id="%s-table"><caption>%s</caption><thead><tr><th scope="col">%s</th>`, esc(p.ID), esc(p.Title), esc(p.Category))
	for _, s := range p.Series {
		fmt.Fprintf(&b, `<th scope="col" class="num">%s</th>`, esc(s.Name))
	}
	b.WriteString("</tr></thead><tbody>")
	for i, c := range p.Categories {
		fmt.Fprintf(&b, `<tr><th scope="row">%s</th>`, esc(c))
		for _, s := range p.Series {
			fmt.Fprintf(&b, `<td class="num">%s</td>`, p.Shown(l, s.Values[i]))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	return template.HTML(b.String())
}

// Columns are the names of the columns of the panel's table as a file, the
// same in every language: its Fields.
func (p *Panel) Columns() []string { return slices.Clone(p.Fields) }

// Rows yields the panel's table as a file holds it (package export writes
// it), the same in every language: a row per category, its code (Codes,
// else the category as it is) then each series' value as Format writes it.
func (p *Panel) Rows() iter.Seq2[[]any, error] {
	return func(yield func([]any, error) bool) {
		for i, c := range p.Categories {
			if p.Codes != nil {
				c = p.Codes[i]
			}
			row := []any{c}
			for _, s := range p.Series {
				row = append(row, p.Format(s.Values[i]))
			}
			if !yield(row, nil) {
				return
			}
		}
	}
}

// ErrNoPanel is returned by Find for an id no panel has.
var ErrNoPanel = errors.New("chart: no such panel")

// Find returns the panel of ps with the id.
func Find(ps []Panel, id string) (*Panel, error) {
	for i := range ps {
		if ps[i].ID == id {
			return &ps[i], nil
		}
	}
	return nil, ErrNoPanel
}
