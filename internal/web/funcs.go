package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/transplant"
)

// option is one choice of a select.
type option struct{ Value, Label string }

// field describes one input for the "field" template.
type field struct {
	F        *form
	ID       string // the element id: the form's name, a dash, the field's name
	Name     string
	Label    string
	Type     string // text, date, number, datetime-local, select, textarea, checkbox
	Hint     string
	Required bool
	Min, Max string
	Options  []option
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

// lists are the value lists of the registry, by the name templates use.
var lists = map[string][]string{
	"organ":        transplant.OrganTypes,
	"donor_kind":   transplant.DonorKinds,
	"consent_kind": transplant.ConsentKinds,
	"blood_group":  transplant.BloodGroups,
	"sex":          transplant.Sexes,
	"yes_no":       transplant.YesNo,
	"test_result":  transplant.TestResults,
	"activity":     transplant.Activities,
}

var labels = map[string]string{
	transplant.DonorBrainDeath:       "Deceased, after brain death (DBD)",
	transplant.DonorCirculatoryDeath: "Deceased, after circulatory death (DCD)",
	transplant.DonorLiving:           "Living",
	transplant.ConsentLiving:         "Living donor's informed consent",
	transplant.ConsentFamily:         "Family authorization",
	transplant.ConsentRegistry:       "Donor registry authorization",
	"not_tested":                     "Not tested",
	"transplant_centre":              "Transplant centre",
}

// label turns a value of a list into words.
func label(v string) string {
	if l, ok := labels[v]; ok {
		return l
	}
	if v == "" {
		return ""
	}
	v = strings.ReplaceAll(v, "_", " ")
	return strings.ToUpper(v[:1]) + v[1:]
}

func optionsOf(values []string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: label(v)}
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

var funcs = template.FuncMap{
	"field": func(f *form, formName, name, label, typ string) field {
		return field{F: f, ID: formName + "-" + name, Name: name, Label: label, Type: typ}
	},
	"req":  func(f field) field { f.Required = true; return f },
	"hint": func(h string, f field) field { f.Hint = h; return f },
	"rng":  func(min, max string, f field) field { f.Min, f.Max = min, max; return f },
	"list": func(id string, f field) field { f.List = id; return f },
	"opts": func(name string, f field) field {
		f.Options = optionsOf(lists[name])
		if f.Type == "" || f.Type == "text" {
			f.Type = "select"
		}
		return f
	},
	"choices":   func(o []option, f field) field { f.Options = o; f.Type = "select"; return f },
	"label":     label,
	"roleLabel": roleLabel,
	// personalForm is what the "personal-form" template needs: the page, where
	// the form posts, and whose data it opens.
	"personalForm": func(pg *page, action, kind string) any {
		return struct {
			Page         *page
			Action, Kind string
		}{pg, action, kind}
	},
	"when": when,
	"optionsOf": func(name string) []option {
		return optionsOf(lists[name])
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
