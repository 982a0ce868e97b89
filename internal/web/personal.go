package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/privacy"
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

func (u *UI) donorPersonalData(w http.ResponseWriter, r *http.Request, s *session) {
	u.openPersonalData(w, r, s, "donor", "DN-", u.showDonor)
}

func (u *UI) recipientPersonalData(w http.ResponseWriter, r *http.Request, s *session) {
	u.openPersonalData(w, r, s, "recipient", "RC-", u.showRecipient)
}

// openPersonalData opens the sealed personal data of the donor or recipient
// of the path, which the registry records in the log with the purpose given,
// and shows it on the answer to the POST: never in a URL, a redirect or a log
// line. A refusal shows the donor's or recipient's page again.
func (u *UI) openPersonalData(w http.ResponseWriter, r *http.Request, s *session, kind, prefix string,
	page func(http.ResponseWriter, *http.Request, *session, *refusal)) {
	id := r.PathValue("id")
	v := r.PostForm
	var person *privacy.Person
	var err error
	if strings.HasPrefix(id, prefix) {
		person, err = u.Transplant.PersonalData(r.Context(), s.P, id, v.Get("purpose"))
	} else {
		err = errs.New(errs.NotFound, "reference", "id", "no %s %s", kind, id)
	}
	if err != nil {
		page(w, r, s, &refusal{form: "personal", values: v, err: err})
		return
	}
	pg := u.newPage(r, s, "Confidential: personal data")
	pg.Data = personalData{Kind: kind, Back: "/" + kind + "s/" + id, ID: id, Person: person,
		Purpose: strings.TrimSpace(v.Get("purpose")), OpenedAt: time.Now().UTC().Format("2006-01-02 15:04") + " UTC"}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	u.render(w, r, http.StatusOK, "personal", pg)
}
