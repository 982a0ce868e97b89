package web

import (
	"net/http"
	"strings"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/zone"
)

// ---- Personal data: opened on purpose, recorded in the log ----

// personalData is the confidential page: the name and national identifier
// of one donor or recipient.
type personalData struct {
	Kind     string // donor or recipient
	Back     string // the donor's or recipient's page
	ID       string
	Person   *privacy.Person
	Purpose  string
	OpenedAt string
}

func (t *transplantPages) donorPersonalData(w http.ResponseWriter, r *http.Request, s *Session) {
	t.openPersonalData(w, r, s, "donor", "DN-", t.showDonor)
}

func (t *transplantPages) recipientPersonalData(w http.ResponseWriter, r *http.Request, s *Session) {
	t.openPersonalData(w, r, s, "recipient", "RC-", t.showRecipient)
}

// openPersonalData opens the sealed personal data of the donor or recipient
// of the path, which the registry records in the log with the purpose given,
// and shows it on the answer to the POST: never in a URL, a redirect or a log
// line. A refusal shows the donor's or recipient's page again.
func (t *transplantPages) openPersonalData(w http.ResponseWriter, r *http.Request, s *Session, kind, prefix string,
	page func(http.ResponseWriter, *http.Request, *Session, *Refusal)) {
	id := r.PathValue("id")
	v := r.PostForm
	var person *privacy.Person
	var err error
	switch {
	case strings.HasPrefix(id, prefix):
		person, err = t.svc.PersonalData(r.Context(), s.P, id, v.Get("purpose"))
	case kind == "donor":
		err = errs.New(errs.NotFound, "reference", "id", "no donor %s", id)
	default:
		err = errs.New(errs.NotFound, "reference", "id", "no recipient %s", id)
	}
	if err != nil {
		page(w, r, s, &Refusal{Form: "personal", Values: v, Err: err})
		return
	}
	pg := s.View(r, "Confidential: personal data")
	pg.Data = personalData{Kind: kind, Back: "/transplant/" + kind + "s/" + id, ID: id, Person: person,
		Purpose: strings.TrimSpace(v.Get("purpose")), OpenedAt: zone.Format(s.Now(), s.Zone())}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	s.Show(w, r, "personal", pg, nil)
}
