package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

var onceRE = regexp.MustCompile(`name="once" value="([^"]+)"`)

// formOnce returns the value a form of the page at path carries in its
// "once" field, and checks every form of the page has its own.
func (b *browser) formOnce(path string) string {
	b.t.Helper()
	ms := onceRE.FindAllStringSubmatch(b.get(path).Body, -1)
	if len(ms) == 0 {
		b.t.Fatalf("no form of %s carries a once value", path)
	}
	seen := map[string]bool{}
	for _, m := range ms {
		if seen[m[1]] {
			b.t.Fatalf("two forms of %s carry the once value %q", path, m[1])
		}
		seen[m[1]] = true
	}
	return ms[0][1]
}

// procurementForm registers a deceased donor of centre A with the family's
// authorization on file and signs centre A's coordinator in: the browser,
// the donor, where the donor page's procurement form posts, the count of
// centre A's organs, and the form's values for one kidney with a once value.
func procurementForm(t *testing.T, w *apptest.World) (a *browser, donor, path string, organs func() int, form func(once string) url.Values) {
	t.Helper()
	donor = w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
		"given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "Dr Ines Marlow", "informed": true, "voluntary": true})
	organs = func() int {
		r := w.Must(t, 200, "GET", "/api/v1/transplant/organs?centre_id="+w.CentreA, w.CoordA, nil)
		os, _ := r.Body["organs"].([]any)
		return len(os)
	}
	a = newBrowser(t, w.URL)
	a.signIn(w.CoordA)
	path = "/transplant/donors/" + donor + "/procurements"
	form = func(once string) url.Values {
		return url.Values{"csrf": {a.csrf()}, "once": {once}, "procured_at": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}, "count_kidney": {"1"}}
	}
	return a, donor, path, organs, form
}

// TestFormSentTwice posts the procurement form of a donor's page twice with
// the value the page gave it, as a double click does, one after the other
// and at the same time: the second is sent where the first was, and one
// procurement of one kidney is recorded, one leaf; a form refused is
// answered again, not remembered; a form of a page loaded again, or the
// same value from another session, records. Both engines.
func TestFormSentTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		a, donor, path, organs, form := procurementForm(t, w)

		// One after the other.
		f := form(a.formOnce("/transplant/donors/" + donor))
		first := a.do("POST", path, f)
		wantStatus(t, "the procurement form", first, http.StatusSeeOther)
		size := w.LogSize(t)
		again := a.do("POST", path, f)
		wantStatus(t, "the procurement form sent again", again, http.StatusSeeOther)
		if again.Header.Get("Location") != first.Header.Get("Location") {
			t.Errorf("the form sent again is sent to %q, the first to %q", again.Header.Get("Location"), first.Header.Get("Location"))
		}
		if n := organs(); n != 1 {
			t.Fatalf("%d organs after the form sent twice, want 1", n)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the form sent again wrote %d leaves", got-size)
		}

		// At the same time: both are sent on, one records.
		f = form(a.formOnce("/transplant/donors/" + donor))
		var wg sync.WaitGroup
		status := make([]int, 2)
		for i := range status {
			wg.Go(func() {
				req, _ := http.NewRequest("POST", w.URL+path, strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(a.cookie)
				resp, err := a.c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				status[i] = resp.StatusCode
			})
		}
		wg.Wait()
		if status[0] != http.StatusSeeOther || status[1] != http.StatusSeeOther {
			t.Errorf("two clicks at once answered %v, want 303 twice", status)
		}
		if n := organs(); n != 2 {
			t.Fatalf("%d organs after a second procurement sent twice at once, want 2", n)
		}

		// A refusal is not remembered: the form is answered again.
		f = form(a.formOnce("/transplant/donors/" + donor))
		f.Set("procured_at", "")
		for i := range 2 {
			p := a.do("POST", path, f)
			wantStatus(t, "the procurement form without its time", p, http.StatusUnprocessableEntity)
			mustContain(t, "the refusal", p, `id="refusal-rule">required<`)
			if i == 1 && strings.Contains(p.Body, `value="`+f.Get("once")+`"`) {
				t.Error("the form shown again carries the value it was sent with")
			}
		}

		// The same value from another session is that session's form (of
		// another donor: a body has two kidneys).
		donor2 := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
		w.Must(t, 201, "POST", "/api/v1/transplant/donors/"+donor2+"/consents", w.CoordA, map[string]any{"kind": "family_authorization",
			"given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "Dr Ines Marlow", "informed": true, "voluntary": true})
		path = "/transplant/donors/" + donor2 + "/procurements"
		f = form(a.formOnce("/transplant/donors/" + donor2))
		wantStatus(t, "the procurement form", a.do("POST", path, f), http.StatusSeeOther)
		b := newBrowser(t, w.URL)
		b.signIn(w.CoordA)
		f.Set("csrf", b.csrf())
		wantStatus(t, "the same value in another session", b.do("POST", path, f), http.StatusSeeOther)
		if n := organs(); n != 4 {
			t.Fatalf("%d organs, want 4", n)
		}
	})
}

// TestFormSentToTwoServers posts the procurement form to two servers of one
// registry, as a load balancer would send a double click: one after the
// other and at the same time. The value is kept in the database with the
// procurement it keys, so one kidney is recorded, one leaf, and every
// sending is sent where the first was. Both engines.
func TestFormSentToTwoServers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		second := w.SecondServer(t)
		a, donor, path, organs, form := procurementForm(t, w)
		// The same session on the second server.
		b := &browser{t: t, base: second, c: a.c, cookie: a.cookie}

		f := form(a.formOnce("/transplant/donors/" + donor))
		first := a.do("POST", path, f)
		wantStatus(t, "the procurement form", first, http.StatusSeeOther)
		size := w.LogSize(t)
		again := b.do("POST", path, f)
		wantStatus(t, "the procurement form sent again to the other server", again, http.StatusSeeOther)
		if again.Header.Get("Location") != first.Header.Get("Location") {
			t.Errorf("the other server sends the form to %q, the first to %q", again.Header.Get("Location"), first.Header.Get("Location"))
		}
		if n := organs(); n != 1 {
			t.Fatalf("%d organs after the form sent to two servers, want 1", n)
		}
		if got := w.LogSize(t); got != size {
			t.Errorf("the form sent again to the other server wrote %d leaves", got-size)
		}

		// At the same time, twice to each server: one records, all are
		// sent to the same place.
		f = form(a.formOnce("/transplant/donors/" + donor))
		size = w.LogSize(t)
		var wg sync.WaitGroup
		status := make([]int, 4)
		location := make([]string, 4)
		for i := range status {
			base := w.URL
			if i%2 == 1 {
				base = second
			}
			wg.Go(func() {
				req, _ := http.NewRequest("POST", base+path, strings.NewReader(f.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.AddCookie(a.cookie)
				resp, err := a.c.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				status[i], location[i] = resp.StatusCode, resp.Header.Get("Location")
			})
		}
		wg.Wait()
		for i := range status {
			if status[i] != http.StatusSeeOther || location[i] != location[0] {
				t.Errorf("sending %d answered %d to %q, want 303 to %q", i, status[i], location[i], location[0])
			}
		}
		if n := organs(); n != 2 {
			t.Fatalf("%d organs after a second procurement sent to two servers at once, want 2", n)
		}
		if got := w.LogSize(t); got != size+1 {
			t.Errorf("the form sent four times at once wrote %d leaves, want 1", got-size)
		}
	})
}
