package httpapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// flip changes n bits of a hex hash.
func flip(h string, n int) string {
	b := []byte(h)
	for i := 0; i < n; i++ {
		c := b[i*2]
		if c == '0' {
			c = '8'
		} else {
			c = '0'
		}
		var orig, nw int
		fmt.Sscanf(string(b[i*2]), "%x", &orig)
		fmt.Sscanf(string(c), "%x", &nw)
		if d := orig ^ nw; d&(d-1) != 0 { // keep it one bit: toggle the top bit only
			c = "0123456789abcdef"[orig^8]
		}
		b[i*2] = c
	}
	return string(b)
}

func logLen(t *testing.T, e *apptest.HashmatchWorld) int {
	t.Helper()
	return int(e.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"].(float64))
}

func item(h string, q int) map[string]any { return map[string]any{"pdq": h, "quality": q} }

func results(t *testing.T, r *apptest.Response) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, x := range r.Body["results"].([]any) {
		out = append(out, x.(map[string]any))
	}
	return out
}

func TestHashmatchAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		// An entry is quarantined at its third match (two services').
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 3})
		ctx := context.Background()

		// Roles and authority kinds.
		e.Must(t, 422, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "x", "role": "analyst", "authority_id": e.Provider})
		e.Must(t, 422, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "x", "role": "reviewer", "authority_id": e.Authority})
		e.Must(t, 403, "POST", "/api/v1/hashmatch/banks", e.Service, map[string]any{"name": "b"})
		e.Must(t, 422, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "b", "threshold": 100})

		bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Known"}).Str("id")
		v1 := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "e1", "pdq": apptest.PDQHex(1), "classification": "A1"}, {"entry_id": "e2", "pdq": apptest.PDQHex(2)}, {"entry_id": "e3", "pdq": apptest.PDQHex(3)}}})
		// Only the owner publishes; a stranger's attempt is an alert.
		r := e.Must(t, 403, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.OtherAnalyst, map[string]any{"deletes": []string{"e1"}})
		if r.Body["error"].(map[string]any)["alert"] != true {
			t.Errorf("publishing to another's bank raised no alert: %s", r.Raw)
		}
		e.Must(t, 409, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(9)}}})
		e.Must(t, 409, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"deletes": []string{"nope"}})
		e.Must(t, 422, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "x", "pdq": "abc"}}})
		v2 := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/import", e.Analyst, map[string]any{"format": "hex", "content": apptest.PDQHex(4) + " B1 e4\n"})
		if v2.Body["version"].(map[string]any)["previous_sha256"] != v1.Str("doc_sha256") {
			t.Errorf("version 2 does not chain to version 1: %s", v2.Raw)
		}
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"deletes": []string{"e3"}})

		// Hash lists are for subscribers only; pulls are logged, except when
		// there is nothing new.
		e.Must(t, 403, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", e.Service, map[string]any{"since": 0})
		e.Must(t, 403, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", e.Reviewer, map[string]any{"since": 0})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
		e.Must(t, 409, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
		snap := e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", e.Service, map[string]any{"since": 0})
		d, _, err := hashmatch.OpenDoc([]byte(snap.Body["documents"].([]any)[0].(map[string]any)["note"].(string)), e.App.Keys.LogKey)
		if err != nil {
			t.Fatal(err)
		}
		if len(d.Adds) != 3 || d.Version != 3 {
			t.Errorf("snapshot at %d with %d entries, want version 3 with e1, e2, e4", d.Version, len(d.Adds))
		}
		delta := e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", e.Service, map[string]any{"since": 1})
		if n := len(delta.Body["documents"].([]any)); n != 2 || delta.Str("kind") != "delta" {
			t.Errorf("delta since 1: %s", delta.Raw)
		}
		size := logLen(t, e)
		none := e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", e.Service, map[string]any{"since": 3})
		if none.Str("kind") != "none" || logLen(t, e) != size {
			t.Errorf("an empty pull was logged or answered %s", none.Raw)
		}
		subs := e.Must(t, 200, "GET", "/api/v1/hashmatch/subscriptions", e.Service, nil)
		if c := subs.Body["subscriptions"].([]any)[0].(map[string]any)["cursor"]; c != float64(3) {
			t.Errorf("cursor %v", c)
		}

		// Matching: near hashes match, deleted entries and strangers do not,
		// low quality is refused; non-matches leave no trace.
		size = logLen(t, e)
		m := e.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{
			item(apptest.PDQHex(7), 90), item(apptest.PDQHex(3), 90), item(apptest.PDQHex(1), 10)}})
		rs := results(t, m)
		if rs[0]["status"] != "no_match" || rs[1]["status"] != "no_match" || rs[2]["status"] != "low_quality" {
			t.Fatalf("results %v", rs)
		}
		if logLen(t, e) != size {
			t.Error("queries without a match were logged")
		}
		e.Must(t, 403, "POST", "/api/v1/hashmatch/match", e.Reviewer, map[string]any{"items": []any{item(apptest.PDQHex(1), 90)}})
		e.Must(t, 422, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{map[string]any{"pdq": apptest.PDQHex(1)}}})
		m = e.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{
			map[string]any{"pdq": flip(apptest.PDQHex(1), 5), "quality": 80, "user_id": "alice", "uploaded_at": "2025-01-02T03:04:05Z"}, item(apptest.PDQHex(2), 100)}})
		rs = results(t, m)
		if rs[0]["status"] != "match" || rs[1]["status"] != "match" {
			t.Fatalf("results %v", rs)
		}
		best := rs[0]["matches"].([]any)[0].(map[string]any)
		if best["entry_id"] != "e1" || best["distance"] != float64(5) || best["classification"] != "A1" {
			t.Errorf("match %v", best)
		}
		case1, case2 := rs[0]["case_id"].(string), rs[1]["case_id"].(string)

		// A stranger's analyst does not see the cases; reviewers decide.
		e.Must(t, 403, "GET", "/api/v1/hashmatch/cases/"+case1, e.Analyst, nil)
		e.Must(t, 403, "POST", "/api/v1/hashmatch/cases/"+case2+"/review", e.Service, map[string]any{"decision": "reject"})
		e.Must(t, 422, "POST", "/api/v1/hashmatch/cases/"+case2+"/review", e.Reviewer, map[string]any{"decision": "confirm", "suppress": true})
		e.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+case2+"/review", e.Reviewer, map[string]any{"decision": "reject", "note": "false positive", "suppress": true})
		e.Must(t, 409, "POST", "/api/v1/hashmatch/cases/"+case2+"/review", e.Reviewer, map[string]any{"decision": "confirm"})
		e.Must(t, 409, "POST", "/api/v1/hashmatch/cases/"+case2+"/removal", e.Reviewer, map[string]any{"action": "removed"})
		// The rejected hash is now suppressed for this service.
		m = e.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{item(flip(apptest.PDQHex(2), 2), 90)}})
		if s := results(t, m)[0]["status"]; s != "suppressed" {
			t.Errorf("after a rejection with suppression: %v", s)
		}

		// An authority's suppression bank cancels matches too.
		sb := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.OtherAnalyst, map[string]any{"name": "Known false positives", "kind": "suppression", "threshold": 10}).Str("id")
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+sb+"/versions", e.OtherAnalyst, map[string]any{"adds": []map[string]any{{"entry_id": "fp1", "pdq": apptest.PDQHex(4)}}})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+sb+"/subscriptions", e.Service, nil)
		m = e.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{item(apptest.PDQHex(4), 90)}})
		if s := results(t, m)[0]["status"]; s != "suppressed" {
			t.Errorf("hit on a suppression bank: %v", s)
		}

		// Quarantine: e1 matched once above; its third match quarantines it,
		// raises an alert for its owner, and it stops matching. One
		// service's matches count up to half the limit (2 of 3), so the
		// third is another service's.
		e.SubscribeOther(t, bank)
		for i, token := range []string{e.Service, e.OtherService} {
			m = e.Must(t, 200, "POST", "/api/v1/hashmatch/match", token, map[string]any{"items": []any{item(apptest.PDQHex(1), 90)}})
			if s := results(t, m)[0]["status"]; s != "match" {
				t.Fatalf("match %d: %v", i, s)
			}
		}
		m = e.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{item(apptest.PDQHex(1), 90)}})
		if s := results(t, m)[0]["status"]; s != "no_match" {
			t.Errorf("a quarantined entry still matches: %v", s)
		}
		var alerts int
		e.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE rule = 'hashmatch_quarantine' AND authority_id = ?", e.Authority).Scan(&alerts)
		if alerts != 1 {
			t.Errorf("%d quarantine alerts for the owner", alerts)
		}
		b := e.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank, e.Analyst, nil)
		if q := b.Body["bank"].(map[string]any)["quarantined"]; q != float64(1) {
			t.Errorf("bank: %s", b.Raw)
		}
		e.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/entries/e1/release", e.Analyst, nil)
		e.Must(t, 409, "POST", "/api/v1/hashmatch/banks/"+bank+"/entries/e1/release", e.Analyst, nil)

		// Reports: only to the designated authority, once; acknowledged once.
		e.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+case1+"/review", e.Reviewer, map[string]any{"decision": "confirm"})
		e.Must(t, 422, "POST", "/api/v1/hashmatch/cases/"+case1+"/report", e.Reviewer, map[string]any{"incident_type": "rumour"})
		e.Must(t, 422, "POST", "/api/v1/hashmatch/cases/"+case1+"/report", e.Reviewer, map[string]any{"incident_type": "other", "authority_id": e.Provider})
		rep := e.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+case1+"/report", e.Reviewer, map[string]any{"incident_type": "child_sexual_abuse_material"})
		if rep.Str("incident_at") != "2025-01-02T03:04:05.000000Z" || rep.Str("user_pseudonym") == "" || rep.Str("authority_id") != e.Authority {
			t.Errorf("report %s", rep.Raw)
		}
		e.Must(t, 409, "POST", "/api/v1/hashmatch/cases/"+case1+"/report", e.Reviewer, map[string]any{"incident_type": "other"})
		e.Must(t, 404, "POST", "/api/v1/hashmatch/reports/"+rep.Str("id")+"/acknowledge", e.OtherAnalyst, map[string]any{"reference": "x"})
		if n := len(e.Must(t, 200, "GET", "/api/v1/hashmatch/reports", e.OtherAnalyst, nil).Body["reports"].([]any)); n != 0 {
			t.Errorf("another authority sees %d reports", n)
		}
		e.Must(t, 200, "POST", "/api/v1/hashmatch/reports/"+rep.Str("id")+"/acknowledge", e.Analyst, map[string]any{"reference": "R-1"})
		e.Must(t, 409, "POST", "/api/v1/hashmatch/reports/"+rep.Str("id")+"/acknowledge", e.Analyst, map[string]any{"reference": "R-1"})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+case1+"/removal", e.Reviewer, map[string]any{"action": "removed", "removed_at": "2025-01-02T04:00:00Z"})
		e.Must(t, 409, "POST", "/api/v1/hashmatch/cases/"+case1+"/removal", e.Reviewer, map[string]any{"action": "removed"})

		// Metadata is readable by oversight; hashes are not in it.
		bl := e.Must(t, 200, "GET", "/api/v1/hashmatch/banks", e.Admin, nil)
		if len(bl.Body["banks"].([]any)) != 2 {
			t.Errorf("banks %s", bl.Raw)
		}

		rep2, err := ledger.Verify(ctx, e.App.DB, server.NewProjections(), ledger.VerifyOptions{VerifierKey: e.App.Keys.LogKey})
		if err != nil {
			t.Fatal(err)
		}
		if !rep2.OK() {
			t.Fatalf("log verify: %v", rep2.Problems)
		}
	})
}

// A second server on the same database sees banks the first one published.
func TestHashmatchRefreshAcrossServers(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	ctx := context.Background()
	other, err := server.Open(ctx, e.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	srv := httptest.NewServer(other.Handler())
	defer srv.Close()
	o := &apptest.Env{App: other, URL: srv.URL}
	bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Known"}).Str("id")
	e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
	m := o.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{item(apptest.PDQHex(1), 90)}})
	if s := results(t, m)[0]["status"]; s != "no_match" {
		t.Fatalf("empty bank: %v", s)
	}
	e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []map[string]any{{"entry_id": "e1", "pdq": apptest.PDQHex(1)}}})
	m = o.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{item(apptest.PDQHex(1), 90)}})
	if s := results(t, m)[0]["status"]; s != "match" {
		t.Fatalf("the other server did not refresh: %v", s)
	}
}
