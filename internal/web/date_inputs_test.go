package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
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

// TestDateInputsOnTheClock: the pages read "today" from the services'
// clock (server.Config.Now), not the machine's. With the clock set to
// 2025-03-14 23:30 UTC, already the 15th in the registry's zone
// (Pacific/Auckland, UTC+13), the consent form offers 2025-03-14, the day
// the rule reads "the future" from (UTC), as its default and its max; the
// procurement form is filled with the clock's time in Auckland; the
// centres' form bounds valid_from a year after the clock's day. The rule
// agrees: the day offered is taken, the next refused. On SQLite and
// PostgreSQL.
func TestDateInputsOnTheClock(t *testing.T) {
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Date(2025, 3, 14, 23, 30, 0, 0, time.UTC)
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
			cfg.Zone = auckland
			cfg.Now = func() time.Time { return clock }
		})
		c := newBrowser(t, w.URL)
		c.signIn(w.CoordA)
		max := `max="2025-03-14"`
		mustContain(t, "the donors' form", c.get("/transplant/donors"),
			`name="date_of_birth" type="date" value="" `+max, `name="date_of_death" type="date" value="" `+max)
		mustContain(t, "the recipients' form", c.get("/transplant/recipients"), `name="listed_on" type="date" value="2025-03-14" `+max)
		in := apptest.DeceasedDonor(w.CentreA)
		in["date_of_death"] = "2025-03-13"
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, in).Str("id")
		p := c.get("/transplant/donors/" + donor)
		mustContain(t, "the donor's consent form", p, `name="given_on" type="date" value="2025-03-14" `+max)
		// 23:30 UTC is 12:30 the next day in Auckland (NZDT, UTC+13).
		mustContain(t, "the procurement form", p, `value="2025-03-15T12:30"`)
		if today := time.Now().UTC().Format("2006-01-02"); strings.Contains(p.Body, `max="`+today+`"`) {
			t.Errorf("the donor's page offers the machine's day %s, not the clock's", today)
		}
		r := newBrowser(t, w.URL)
		r.signIn(w.Regulator)
		mustContain(t, "the centres' form", r.get("/transplant/centres"), `value="2025-03-14" max="2026-03-14"`)

		consent := func(on string) map[string]any {
			return map[string]any{"kind": "family_authorization", "given_on": on, "assessed_by": "Dr Test", "voluntary": true, "informed": true}
		}
		if rsp := w.Do(t, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, consent("2025-03-15")); rsp.Status != 422 || rsp.Str("error.rule") != "dates_in_order" {
			t.Errorf("a consent on the registry zone's day, after the clock's day in UTC: %d %s", rsp.Status, rsp.Str("error.rule"))
		}
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, consent("2025-03-14"))
	})
}
