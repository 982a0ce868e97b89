package assets_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/storetest"
)

// TestRequestDeadline: a request's deadline is from its own day (today) to
// five years ahead. Through the API, a draft or a change of one with a
// deadline before today (1901-01-01, yesterday) is refused (dates_in_order),
// one after five years ahead (9999-12-31, the day after the last) is
// refused (date_range), each naming deadline and writing no leaf; today
// and the last day are taken. The web form refuses the same, naming the
// field, with what was typed kept. A draft whose deadline passed before it
// is sent is refused at sending, and stays a draft; with a new deadline it
// is sent. The form's date input offers today to the last day (min, max).
func TestRequestDeadline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		now := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
		w.S.Now = func() time.Time { return now }
		body := func(deadline string) map[string]any {
			in := complete(caseID, central)
			return map[string]any{"type": in.Type, "requested_state": in.RequestedState, "requested_authority": in.RequestedAuthority,
				"legal_basis": in.LegalBasis, "assistance": in.Assistance, "offences": in.Offences, "facts": in.Facts, "purpose": in.Purpose,
				"nexus": in.Nexus, "urgent": true, "urgency_reasons": in.UrgencyReasons, "deadline": deadline, "confidentiality": in.Confidentiality,
				"dual_criminality": in.DualCriminality, "language": in.Language, "use_purposes": in.UsePurposes, "case_ids": in.CaseIDs}
		}
		first := w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, body("2026-03-10")) // today
		id := first.Str("id")
		if got := first.Str("deadline"); got != "2026-03-10" {
			t.Errorf("a deadline of today: %q", got)
		}
		w.Must(t, 201, "POST", "/api/v1/assets/requests", w.CAToken, body("2031-03-10")) // five years ahead, the last day
		size := w.LogSize(t)
		for _, c := range []struct{ deadline, rule string }{
			{"1901-01-01", "dates_in_order"}, {"2026-03-09", "dates_in_order"},
			{"2031-03-11", "date_range"}, {"9999-12-31", "date_range"},
		} {
			for _, r := range []struct{ method, path string }{{"POST", "/api/v1/assets/requests"}, {"PUT", "/api/v1/assets/requests/" + id}} {
				got := w.Do(t, r.method, r.path, w.CAToken, body(c.deadline))
				if got.Status != 422 || got.Str("error.rule") != c.rule || got.Str("error.field") != "deadline" || !strings.Contains(got.Str("error.message"), c.deadline) {
					t.Errorf("%s %s with deadline %s: %d %s, want 422 %s naming deadline", r.method, r.path, c.deadline, got.Status, got.Raw, c.rule)
				}
			}
		}
		if n := w.LogSize(t) - size; n != 0 {
			t.Errorf("the refused deadlines wrote %d leaves", n)
		}
		if got := w.Must(t, 200, "GET", "/api/v1/assets/requests/"+id, w.CAToken, nil).Str("deadline"); got != "2026-03-10" {
			t.Errorf("after the refused changes the draft's deadline is %q", got)
		}

		// The web form.
		browser := w.signin(t, w.CAToken)
		resp, err := browser.Get(w.URL + "/assets/requests/new")
		if err != nil {
			t.Fatal(err)
		}
		form := readAll(t, resp)
		if !strings.Contains(form, `id="request-deadline" name="deadline" type="date" value="" min="2026-03-10" max="2031-03-10"`) {
			t.Errorf("the deadline's input is not bounded by today and five years ahead:\n%s", form)
		}
		m := csrfRE.FindStringSubmatch(form)
		if m == nil {
			t.Fatalf("the request form lacks its token:\n%s", form)
		}
		resp, err = browser.PostForm(w.URL+"/assets/requests", url.Values{"csrf": {m[1]}, "type": {"mla"}, "requested_state": {"XB"},
			"requested_authority": {central}, "urgent": {"1"}, "deadline": {"9999-12-31"}, "facts": {"Typed facts."}})
		if err != nil {
			t.Fatal(err)
		}
		page := readAll(t, resp)
		if !strings.Contains(page, `class="form-error"`) || !strings.Contains(page, "date_range") || !strings.Contains(page, "deadline") ||
			!strings.Contains(page, "9999-12-31") || !strings.Contains(page, "Typed facts.") {
			t.Errorf("the form with deadline 9999-12-31:\n%s", page)
		}
		if n := w.LogSize(t) - size; n != 0 {
			t.Errorf("the refused form wrote %d leaves", n)
		}

		// Sent after its deadline passed: refused, still a draft.
		now = now.AddDate(0, 0, 1)
		got := w.Do(t, "POST", "/api/v1/assets/requests/"+id+"/send", w.CAToken, nil)
		if got.Status != 422 || got.Str("error.rule") != "dates_in_order" || got.Str("error.field") != "deadline" {
			t.Errorf("a draft sent after its deadline: %d %s", got.Status, got.Raw)
		}
		if st := w.Must(t, 200, "GET", "/api/v1/assets/requests/"+id, w.CAToken, nil).Str("status"); st != "draft" {
			t.Errorf("after the refused sending the request is %s", st)
		}
		w.Must(t, 200, "PUT", "/api/v1/assets/requests/"+id, w.CAToken, body("2026-03-20"))
		w.Must(t, 200, "POST", "/api/v1/assets/requests/"+id+"/send", w.CAToken, nil)
		w.Verify(t)
	})
}

// readAll reads and closes an answer's body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
