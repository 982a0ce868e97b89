package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/ledger"
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

// when writes a stored timestamp for people: minutes, UTC.
func when(s string) string {
	for _, layout := range []string{ledger.TimeLayout, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format("2006-01-02 15:04") + " UTC"
		}
	}
	return s
}

// funcs are the templates' functions; "opts", "optionsOf" and "label" read
// the lists and labels given (a section's).
func funcs(lists map[string][]string, labels map[string]string) template.FuncMap {
	return template.FuncMap{
		"field": func(f *Form, formName, name, label, typ string) field {
			return field{F: f, ID: formName + "-" + name, Name: name, Label: label, Type: typ}
		},
		"req":  func(f field) field { f.Required = true; return f },
		"hint": func(h string, f field) field { f.Hint = h; return f },
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
		"label":     func(v string) string { return labelOf(labels, v) },
		"roleLabel": roleLabel,
		// personalForm is what the "personal-form" template needs: the page, where
		// the form posts, and whose data it opens.
		"personalForm": func(v *View, action, kind string) any {
			return struct {
				Page         *View
				Action, Kind string
			}{v, action, kind}
		},
		"when": when,
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
