// Package moduletest is an example section of the web UI, defined outside
// package web as a registry's section from another package would be: its own
// templates, navigation entry, home card, a page and a form. Tests mount it in
// a real server to show that a registry brings its pages without a line
// changed in internal/web.
package moduletest

import (
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/web"
)

// Title names the example registry in the header of its principals' pages.
const Title = "Example registry"

//go:embed templates/*.html
var templateFS embed.FS

// colours is the section's value list of the note form's select.
var colours = []string{"sea_green", "amber"}

// Note is one note added with the form.
type Note struct{ Text, Colour string }

// notes are the section's state: the notes added, in memory.
type notes struct {
	mu   sync.Mutex
	list []Note
}

// Section returns the example section: a page of notes under /example/notes
// with a form that adds one; a navigation entry and a home card for whoever
// reads the registry; auditors are its principals (the header shows Title).
func Section() web.Section {
	n := &notes{}
	templates, err := fs.Sub(templateFS, "templates")
	if err != nil {
		panic(err)
	}
	return web.Section{
		Name:  "example",
		Title: Title,
		Roles: []auth.Role{auth.Auditor},
		Nav: func(p *auth.Principal) []web.Link {
			if !p.Can(transplant.Read) {
				return nil
			}
			return []web.Link{{Href: "/example/notes", Label: "Notes"}}
		},
		Home: func(p *auth.Principal) *web.Card {
			if !p.Can(transplant.Read) {
				return nil
			}
			return &web.Card{Template: "card", Data: struct{ Count int }{n.count()}}
		},
		Pages: []web.Page{
			{Method: http.MethodGet, Path: "/notes", Handler: n.page},
			{Method: http.MethodPost, Path: "/notes", Handler: n.add},
		},
		Templates: templates,
		Lists:     map[string][]string{"colour": colours},
		Labels:    map[string]string{"amber": "Amber, from the section's labels"},
	}
}

func (n *notes) count() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return len(n.list)
}

func (n *notes) page(w http.ResponseWriter, r *http.Request, s *web.Session) { n.show(w, r, s, nil) }

func (n *notes) show(w http.ResponseWriter, r *http.Request, s *web.Session, ref *web.Refusal) {
	v := s.View(r, "Notes")
	n.mu.Lock()
	v.Data = struct{ Notes []Note }{slices.Clone(n.list)}
	n.mu.Unlock()
	if s.Notice(r).Get("done") == "note" {
		v.Flash = "Note added."
	}
	v.SetForm("note", url.Values{"colour": {colours[0]}})
	s.Show(w, r, "notes", v, ref)
}

func (n *notes) add(w http.ResponseWriter, r *http.Request, s *web.Session) {
	if err := s.P.Require(transplant.Read); err != nil {
		s.Fail(w, r, err)
		return
	}
	v := r.PostForm
	note := Note{Text: strings.TrimSpace(v.Get("text")), Colour: v.Get("colour")}
	var err error
	switch {
	case note.Text == "":
		err = errs.Invalidf("required", "text", "write the note")
	case !slices.Contains(colours, note.Colour):
		err = errs.Invalidf("enum", "colour", "choose one of the colours")
	}
	if err != nil {
		n.show(w, r, s, &web.Refusal{Form: "note", Values: v, Err: err})
		return
	}
	n.mu.Lock()
	n.list = append(n.list, note)
	n.mu.Unlock()
	s.RedirectDone(w, r, "/example/notes", url.Values{"done": {"note"}})
}
