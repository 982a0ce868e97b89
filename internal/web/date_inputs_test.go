package web_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestDateInputsNotAhead: a date input whose rule refuses a day in the
// future (a donor's birth and death, a recipient's birth and listing, a
// consent) offers no day after today (max), so the browser's picker and
// its own check agree with the rule before the form is sent.
func TestDateInputsNotAhead(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	c := newBrowser(t, w.URL)
	c.signIn(w.CoordA)
	max := `max="` + todayDate() + `"`
	mustContain(t, "the donors' form", c.get("/transplant/donors"),
		`name="date_of_birth" type="date" value="" `+max, `name="date_of_death" type="date" value="" `+max)
	mustContain(t, "the recipients' form", c.get("/transplant/recipients"),
		`name="date_of_birth" type="date" value="" `+max, `name="listed_on" type="date" value="`+todayDate()+`" `+max)
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	mustContain(t, "the donor's consent form", c.get("/transplant/donors/"+donor),
		`name="given_on" type="date" value="`+todayDate()+`" `+max)
}
