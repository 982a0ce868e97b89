package web

import (
	"fmt"
	"html"
	"html/template"
	"slices"
	"strconv"
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
	// Autofocus puts the cursor in the field when the page opens: the
	// field a barcode scanner types into.
	Autofocus bool
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

// Choose tells whether a select offers "Choose…", the empty value: unless
// one of its options is the empty value itself (a choice such as "the
// browser's language").
func (f field) Choose() bool {
	return !slices.ContainsFunc(f.Options, func(o Option) bool { return o.Value == "" })
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

// localOptions are optionsOf in the language of l: each label (a message)
// translated.
func localOptions(l *i18n.Localizer, labels map[string]string, values []string) []Option {
	out := optionsOf(labels, values)
	for i := range out {
		out[i].Label = l.T(out[i].Label)
	}
	return out
}

// markup writes a message with args (write fills it in): plain text when
// no argument is HTML, else HTML, the message and its other arguments
// escaped and the HTML arguments kept as they are, wherever the
// language puts them.
func markup(args []any, write func(args ...any) string) any {
	if !slices.ContainsFunc(args, func(a any) bool { _, ok := a.(template.HTML); return ok }) {
		return write(args...)
	}
	held := make([]any, len(args))
	var keep []string
	for i, a := range args {
		held[i] = a
		if h, ok := a.(template.HTML); ok {
			held[i] = "\x00" + strconv.Itoa(len(keep)) + "\x00"
			keep = append(keep, string(h))
		}
	}
	out := html.EscapeString(write(held...))
	for i, h := range keep {
		out = strings.Replace(out, "\x00"+strconv.Itoa(i)+"\x00", h, 1)
	}
	return template.HTML(out)
}

// countOf reads the count of a message with a count: any integer.
func countOf(n any) int {
	switch v := n.(type) {
	case int:
		return v
	case int64:
		return int(v)
	case uint64:
		return int(v)
	case int32:
		return int(v)
	}
	return 0
}

// tag writes text inside an element, for a message's argument: name is
// strong, code, em or small (else span), with a class after a dot and an
// id after a hash ("code.fingerprint#next-fingerprint"). text is escaped,
// unless it is HTML already.
func tag(name string, text any) template.HTML {
	name, id, _ := strings.Cut(name, "#")
	el, class, _ := strings.Cut(name, ".")
	switch el {
	case "strong", "code", "em", "small":
	default:
		el = "span"
	}
	open := el
	if class != "" {
		open += ` class="` + html.EscapeString(class) + `"`
	}
	if id != "" {
		open += ` id="` + html.EscapeString(id) + `"`
	}
	return template.HTML("<" + open + ">" + inner(text) + "</" + el + ">")
}

// link writes a link to a page of the UI (a path, or a fragment), for a
// message's argument.
func link(href string, text any) template.HTML {
	if !strings.HasPrefix(href, "/") && !strings.HasPrefix(href, "#") || strings.HasPrefix(href, "//") {
		href = "#"
	}
	return template.HTML(`<a href="` + html.EscapeString(href) + `">` + inner(text) + "</a>")
}

func inner(text any) string {
	if h, ok := text.(template.HTML); ok {
		return string(h)
	}
	return html.EscapeString(fmt.Sprint(text))
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
// (UTC+1)"), a date without a time in the language's layout, no zone
// (Localizer.Date: "31/10/2026" in French), and leaves an empty value as
// it is: every page shows times and dates through it. It escapes what it writes itself
// (html/template would write the offset's "+" as "&#43;"). "zone" names loc, for the labels
// of the inputs that take a local time. "today" reads the clock now (UI.Now).
func funcs(lists map[string][]string, labels map[string]string, loc *time.Location, l *i18n.Localizer, now func() time.Time) template.FuncMap {
	return template.FuncMap{
		// t writes a message in the page's language, tn one with a count
		// (the first argument); "field"'s label and "hint" are messages too.
		// A message whose arguments include HTML (a "tag", a "link", a
		// time of "when") is written as HTML, so that a sentence keeps its
		// markup in any language (markup).
		"t": func(id string, args ...any) any {
			return markup(args, func(a ...any) string { return l.T(id, a...) })
		},
		"tn": func(id string, n any, args ...any) any {
			return markup(args, func(a ...any) string { return l.N(id, countOf(n), a...) })
		},
		// sentence writes in the page's language an English sentence
		// kept as text, an alert's message, as the catalogue reads it
		// back (i18n.Catalogue.Sentence): its values (identifiers, codes,
		// times) isolated and left to right as an identifier is, within
		// a sentence that may read right to left. A text no message made
		// is written as it is.
		"sentence": func(text string) any {
			id, args, ok := l.Catalogue().Sentence(text)
			if !ok {
				return text
			}
			for i, a := range args {
				if v, isValue := a.(string); isValue {
					args[i] = tag("span.value", v)
				}
			}
			return markup(args, func(a ...any) string { return l.T(id, a...) })
		},
		// sep is what the language writes between the items of a list
		// (", "; Arabic "، ", Chinese "、"): every list a page joins.
		"sep":  l.ListSeparator,
		"tag":  tag,
		"link": link,
		// who writes a principal as the reader may see it, its id as the
		// title (who).
		"who": func(names people, id string) template.HTML { return who(l, names, id) },
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
		"req":   func(f field) field { f.Required = true; return f },
		"hint":  func(h string, f field) field { f.Hint = l.T(h); return f },
		"rng":   func(min, max string, f field) field { f.Min, f.Max = min, max; return f },
		"list":  func(id string, f field) field { f.List = id; return f },
		"focus": func(f field) field { f.Autofocus = true; return f },
		// today is the day in UTC on the UI's clock, the day the rules
		// read "the future" from: the max of a date input whose rule
		// refuses a day ahead.
		"today": func() string { return today(now()) },
		"opts": func(name string, f field) field {
			f.Options = localOptions(l, labels, lists[name])
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
		// holders is what the "import-holders" template needs: the page's
		// centres by id, the principals who assigned the organ (who), and
		// the organ received from abroad whose holders it lists.
		"holders": func(centres map[string]string, names people, im any) any {
			return struct {
				Centres map[string]string
				People  people
				Import  any
			}{centres, names, im}
		},
		"when": func(s string) template.HTML {
			if d, err := time.Parse(time.DateOnly, s); err == nil {
				return template.HTML(html.EscapeString(l.Date(d)))
			}
			return template.HTML(html.EscapeString(zone.StampLayout(s, loc, l.Layout(false))))
		},
		"zone": func() string { return zoneName(loc) },
		"optionsOf": func(name string) []Option {
			return localOptions(l, labels, lists[name])
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
