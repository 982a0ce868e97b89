package httpapi_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// testClock is a server clock a test moves forward.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// misfiled is coordinator A registering a donor at centre B: refused by rule
// own_centre, which raises an alert.
func misfiled(t *testing.T, w *apptest.World) {
	t.Helper()
	r := w.Must(t, 403, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreB))
	if r.Str("error.rule") != "own_centre" {
		t.Fatalf("misfiled donor: %s", r.Raw)
	}
}

func alertList(t *testing.T, w *apptest.World, query string) []map[string]any {
	t.Helper()
	r := w.Must(t, 200, "GET", "/api/v1/alerts"+query, w.Regulator, nil)
	var out []map[string]any
	for _, a := range r.Body["alerts"].([]any) {
		out = append(out, a.(map[string]any))
	}
	return out
}

// TestAlertWork works an alert through the API: a refusal retried within the
// window is counted on its open alert, one after the window raises another;
// the regulator acknowledges, assigns, comments on and closes it; every
// refusal names its rule and field and leaves the log as it was; the filters
// select and refuse; and the log still verifies.
func TestAlertWork(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		clk := &testClock{t: time.Now().UTC()}
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) { c.Now = clk.Now })

		// A refusal, and its retry a minute later: one alert, one repeat.
		misfiled(t, w)
		size := logSize(t, w)
		clk.Add(time.Minute)
		misfiled(t, w)
		if got := logSize(t, w); got != size+1 {
			t.Fatalf("the retried refusal grew the log by %d leaves, want 1 (its alert.repeated)", got-size)
		}
		as := alertList(t, w, "")
		if len(as) != 1 || as[0]["repeats"].(float64) != 1 || as[0]["state"] != "open" {
			t.Fatalf("after a retry within the window: %v, want one open alert repeated once", as)
		}
		first := as[0]["id"].(string)

		base := "/api/v1/alerts/" + first
		type refusal struct {
			name, token, path string
			body              any
			status            int
			code, rule, field string
		}
		refuse := func(rs ...refusal) {
			t.Helper()
			for _, c := range rs {
				before := logSize(t, w)
				path := base + c.path
				if strings.HasPrefix(c.path, "/api/") {
					path = c.path
				}
				r := w.Do(t, "POST", path, c.token, c.body)
				if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
					t.Errorf("%s: %d %s, want %d %s rule %s field %s", c.name, r.Status, r.Raw, c.status, c.code, c.rule, c.field)
				}
				if after := logSize(t, w); after != before {
					t.Errorf("%s: the refusal grew the log from %d to %d", c.name, before, after)
				}
			}
		}
		refuse(
			refusal{"auditor acknowledges", w.Auditor, "/acknowledge", nil, 403, "forbidden", "role", ""},
			refusal{"coordinator comments", w.CoordA, "/comment", map[string]any{"text": "x"}, 403, "forbidden", "role", ""},
			refusal{"unknown alert", w.Regulator, "/api/v1/alerts/AL-0000000000/acknowledge", nil, 404, "not_found", "alert", "id"},
			refusal{"assign nobody", w.Regulator, "/assign", map[string]any{"assignee_id": ""}, 422, "invalid", "required", "assignee_id"},
			refusal{"assign a coordinator", w.Regulator, "/assign", map[string]any{"assignee_id": w.Principal(t, w.CoordA).ID}, 422, "invalid", "assignee_role", "assignee_id"},
			refusal{"assign an unknown principal", w.Regulator, "/assign", map[string]any{"assignee_id": "PR-0000000000"}, 404, "not_found", "principal", "assignee_id"},
			refusal{"empty comment", w.Regulator, "/comment", map[string]any{"text": "  "}, 422, "invalid", "required", "text"},
			refusal{"close without outcome", w.Regulator, "/close", map[string]any{"note": "n"}, 422, "invalid", "required", "outcome"},
			refusal{"close with an unknown outcome", w.Regulator, "/close", map[string]any{"outcome": "ignored", "note": "n"}, 422, "invalid", "enum", "outcome"},
			refusal{"close without a note", w.Regulator, "/close", map[string]any{"outcome": "no_action"}, 422, "invalid", "required", "note"},
		)

		regulator := w.Principal(t, w.Regulator)
		a := w.Must(t, 200, "POST", base+"/acknowledge", w.Regulator, nil)
		if a.Str("state") != "acknowledged" || a.Str("acknowledged_by") != regulator.ID {
			t.Fatalf("acknowledged: %s", a.Raw)
		}
		refuse(refusal{"acknowledge twice", w.Regulator, "/acknowledge", nil, 409, "conflict", "alert_state", "id"})
		if r := w.Must(t, 200, "POST", base+"/assign", w.Regulator, map[string]any{"assignee_id": regulator.ID}); r.Str("assignee_id") != regulator.ID {
			t.Fatalf("assigned: %s", r.Raw)
		}
		w.Must(t, 200, "POST", base+"/comment", w.Regulator, map[string]any{"text": "called the centre"})
		c := w.Must(t, 200, "POST", base+"/close", w.Regulator, map[string]any{"outcome": "corrected", "note": "registered at the right centre"})
		if c.Str("state") != "closed" || c.Str("outcome") != "corrected" || c.Str("close_note") != "registered at the right centre" {
			t.Fatalf("closed: %s", c.Raw)
		}
		refuse(
			refusal{"acknowledge a closed alert", w.Regulator, "/acknowledge", nil, 409, "conflict", "alert_state", "id"},
			refusal{"close a closed alert", w.Regulator, "/close", map[string]any{"outcome": "no_action", "note": "again"}, 409, "conflict", "alert_state", "id"},
			refusal{"assign a closed alert", w.Regulator, "/assign", map[string]any{"assignee_id": regulator.ID}, 409, "conflict", "alert_state", "id"},
		)
		// A closed alert may still be commented on; the auditor reads it all.
		w.Must(t, 200, "POST", base+"/comment", w.Regulator, map[string]any{"text": "centre retrained"})
		g := w.Must(t, 200, "GET", base, w.Auditor, nil)
		if cs, _ := g.Body["comments"].([]any); len(cs) != 2 || cs[0].(map[string]any)["text"] != "called the centre" {
			t.Fatalf("the alert's comments: %s", g.Raw)
		}

		// The same refusal again, within the window of the first raise: the
		// first alert is closed, so this one is new.
		misfiled(t, w)
		// Its retry 11 minutes later, after the window: another alert again.
		clk.Add(11 * time.Minute)
		misfiled(t, w)
		own := alertList(t, w, "?rule=own_centre")
		if len(own) != 3 || own[0]["repeats"].(float64) != 0 || own[1]["repeats"].(float64) != 0 {
			t.Fatalf("own_centre alerts after a closed one and after the window: %v, want three, the new ones not repeated", own)
		}

		// Filters.
		if got := alertList(t, w, "?state=closed"); len(got) != 1 || got[0]["id"] != first {
			t.Errorf("state=closed: %v", got)
		}
		if got := alertList(t, w, "?state=open"); len(got) != 2 {
			t.Errorf("state=open: %d alerts, want 2", len(got))
		}
		if got := alertList(t, w, "?authority_id="+w.CentreA+"&rule=own_centre&state=open"); len(got) != 2 {
			t.Errorf("authority, rule and state: %d alerts, want 2", len(got))
		}
		if got := alertList(t, w, "?authority_id="+w.CentreB); len(got) != 0 {
			t.Errorf("authority_id=centre B: %v, want none", got)
		}
		for _, c := range []struct{ query, code, rule, field string }{
			{"?state=pending", "invalid", "enum", "state"},
			{"?rule=no_such_rule", "invalid", "enum", "rule"},
			{"?authority_id=TC-0000000000", "invalid", "reference", "authority_id"},
			{"?limit=x", "malformed", "query", "limit"},
		} {
			r := w.Do(t, "GET", "/api/v1/alerts"+c.query, w.Regulator, nil)
			if r.Status/100 != 4 || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("GET /api/v1/alerts%s: %d %s, want %s rule %s field %s", c.query, r.Status, r.Raw, c.code, c.rule, c.field)
			}
		}

		rep, err := ledger.Verify(context.Background(), w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
		if err != nil || !rep.OK() {
			t.Fatalf("log verify: %v %v", err, rep)
		}
	})
}
