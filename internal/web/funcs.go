package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/zone"
)

// field describes one input for the "field" template.
type field struct {
	F        *Form
	ID       string // the element id: the form's name, a dash, the field's name
	Name     string
	Label    string
	Type     string // text, date, number, datetime-local, select, textarea, checkbox
	Hint     string
	Required bool
	Min, Max string
	Options  []Option
	List     string // a datalist id
}

// Described is the value of aria-describedby.
func (f field) Described() string {
	var ids []string
	if f.Hint != "" {
		ids = append(ids, f.ID+"-hint")
	}
	if f.F.Bad(f.Name) {
		ids = append(ids, f.ID+"-error")
	}
	return strings.Join(ids, " ")
}

// labelOf turns a value into words: its label, else the value capitalised,
// its underscores as spaces.
func labelOf(labels map[string]string, v string) string {
	if l, ok := labels[v]; ok {
		return l
	}
	if v == "" {
		return ""
	}
	v = strings.ReplaceAll(v, "_", " ")
	return strings.ToUpper(v[:1]) + v[1:]
}

func optionsOf(labels map[string]string, values []string) []Option {
	out := make([]Option, len(values))
	for i, v := range values {
		out[i] = Option{Value: v, Label: labelOf(labels, v)}
	}
	return out
}

// zoneName names a time zone for people: its IANA name, "UTC" for UTC.
func zoneName(loc *time.Location) string {
	if loc == nil || loc == time.UTC {
		return "UTC"
	}
	return loc.String()
}

// funcs are the templates' functions; "opts", "optionsOf" and "label" read
// the lists and labels given (a section's). "when" writes a stored
// timestamp for people in loc, the zone shown ("2026-12-02 09:15 WAT
// (UTC+1)"), and leaves a date without a time, or an empty value, as it
// is: every page shows times through it. It escapes what it writes itself
// (html/template would write the offset's "+" as "&#43;"). "zone" names loc, for the labels
// of the inputs that take a local time.
func funcs(lists map[string][]string, labels map[string]string, loc *time.Location, l *i18n.Localizer) template.FuncMap {
	optionsOf := func(labels map[string]string, values []string) []Option {
		out := optionsOf(labels, values)
		for i := range out {
			out[i].Label = l.T(out[i].Label)
		}
		return out
	}
	return template.FuncMap{
		// t writes a message in the page's language, tn one with a count
		// (the first argument); "field"'s label and "hint" are messages too.
		"t":  l.T,
		"tn": l.N,
		// num writes a whole number in the language's digits and grouping.
		"num": func(n any) string {
			switch v := n.(type) {
			case int:
				return l.Number(int64(v))
			case int64:
				return l.Number(v)
			}
			return fmt.Sprint(n)
		},
		"field": func(f *Form, formName, name, label, typ string) field {
			return field{F: f, ID: formName + "-" + name, Name: name, Label: l.T(label), Type: typ}
		},
		"req":  func(f field) field { f.Required = true; return f },
		"hint": func(h string, f field) field { f.Hint = l.T(h); return f },
		"rng":  func(min, max string, f field) field { f.Min, f.Max = min, max; return f },
		"list": func(id string, f field) field { f.List = id; return f },
		"opts": func(name string, f field) field {
			f.Options = optionsOf(labels, lists[name])
			if f.Type == "" || f.Type == "text" {
				f.Type = "select"
			}
			return f
		},
		"choices":   func(o []Option, f field) field { f.Options = o; f.Type = "select"; return f },
		"label":     func(v string) string { return l.T(labelOf(labels, v)) },
		"roleLabel": func(r auth.Role) string { return l.T(roleLabel(r)) },
		// personalForm is what the "personal-form" template needs: the page, where
		// the form posts, and whose data it opens.
		"personalForm": func(v *View, action, kind string) any {
			return struct {
				Page         *View
				Action, Kind string
			}{v, action, kind}
		},
		"when": func(s string) template.HTML {
			return template.HTML(html.EscapeString(zone.StampLayout(s, loc, l.Layout(false))))
		},
		"zone": func() string { return zoneName(loc) },
		"optionsOf": func(name string) []Option {
			return optionsOf(labels, lists[name])
		},
		// fmtf formats an optional number ("" when absent).
		"fmtf": func(format string, p *float64) string {
			if p == nil {
				return ""
			}
			return fmt.Sprintf(format, *p)
		},
		"deref": func(p *int) any {
			if p == nil {
				return ""
			}
			return *p
		},
	}
}
