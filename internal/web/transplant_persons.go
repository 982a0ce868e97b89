package web

import (
	"net/http"

	"github.com/custos-project/custos/internal/transplant"
)

// ---- Finding a person: is this person already registered? ----

// personsData is the page of the person search: the records found, once a
// search was made.
type personsData struct {
	Searched bool
	Matches  []transplant.PersonMatch
	Centres  map[string]string
}

func (t *transplantPages) persons(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showPersons(w, r, s, nil, nil)
}

// findPerson searches by what the form gives: the registry records the
// search in the log with its purpose. The national identifier and the name
// travel in the POST only, never in a URL, and the answer is not kept by the
// browser.
func (t *transplantPages) findPerson(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	ms, err := t.svc.FindPerson(r.Context(), s.P, transplant.PersonQuery{NationalID: v.Get("national_id"), Name: v.Get("name"),
		DateOfBirth: v.Get("date_of_birth"), Purpose: v.Get("purpose")})
	if err != nil {
		t.showPersons(w, r, s, nil, &Refusal{Form: "person", Values: v, Err: err})
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	t.showPersons(w, r, s, &ms, nil)
}

func (t *transplantPages) showPersons(w http.ResponseWriter, r *http.Request, s *Session, ms *[]transplant.PersonMatch, ref *Refusal) {
	if err := s.P.Require(transplant.ReadPersonalData); err != nil {
		s.Fail(w, r, err)
		return
	}
	names, _, err := centreChoices(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Find a person")
	d := personsData{Centres: names}
	if ms != nil {
		d.Searched, d.Matches = true, *ms
		pg.SetForm("person", r.PostForm)
	}
	pg.Data = d
	s.Show(w, r, "persons", pg, ref)
}

// duplicatesOf returns the records a registration refused as a likely
// duplicate looks like (none for another refusal).
func duplicatesOf(ref *Refusal) []transplant.PersonMatch {
	if ref == nil {
		return nil
	}
	return transplant.LikelyDuplicates(ref.Err)
}
