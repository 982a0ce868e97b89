package hashmatch_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// blocksHash is the PDQ hash of apptest.BlocksPNG(seed), as a bank entry
// holds it.
func blocksHash(t *testing.T, seed uint64) string {
	t.Helper()
	h, err := hashmatch.HashImage(bytes.NewReader(apptest.BlocksPNG(t, seed)), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return h.PDQ.String()
}

// uploadAs posts BlocksPNG(seed) to match/image with a user id and content
// reference, as the service principal token, and returns the answer.
func uploadAs(t *testing.T, w *apptest.HashmatchWorld, token string, seed uint64, user, ref string) *apptest.Response {
	t.Helper()
	out := w.Upload(t, "/api/v1/hashmatch/match/image", token, "image/png", apptest.BlocksPNG(t, seed),
		"Custos-User-Id", user, "Custos-Content-Ref", ref)
	if out.Status != 200 {
		t.Fatalf("upload: %d %s", out.Status, out.Raw)
	}
	return out
}

func verifyLog(t *testing.T, w *apptest.HashmatchWorld) {
	t.Helper()
	rep, err := ledger.Verify(context.Background(), w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("log verify: %q", rep.Problems)
	}
}

// TestFeedbackEndToEnd: two services reject matches as false positives and
// dispute them with the bank's owner; the owner sees the entries ranked by
// how many services disputed them, keeps one and withdraws the other; the
// next version deletes the withdrawn entry, and the service's later upload
// of the same image no longer matches. Each party sees only its own.
func TestFeedbackEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known images")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "logo-like", "pdq": blocksHash(t, 1), "classification": "A1"},
			{"entry_id": "second", "pdq": blocksHash(t, 2), "classification": "B1"},
		}})
		w.Subscribe(t, bank)
		w.SubscribeOther(t, bank)

		caseOf := func(token string, seed uint64, user string) string {
			m := uploadAs(t, w, token, seed, user, "photo/"+user)
			if m.Str("status") != "match" {
				t.Fatalf("upload of %d: %s", seed, m.Raw)
			}
			return m.Str("case_id")
		}
		c1, c2 := caseOf(w.Service, 1, "alice-31"), caseOf(w.Service, 2, "bob-32")
		o1 := caseOf(w.OtherService, 1, "carol-33")

		// Only a rejected case is disputed, with a note.
		if r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+c1+"/dispute", w.Reviewer, map[string]any{"note": "a logo"}); r.Status != 409 || r.Str("error.rule") != "not_rejected" {
			t.Fatalf("dispute of an open case: %d %s", r.Status, r.Raw)
		}
		for _, c := range []struct{ id, token string }{{c1, w.Reviewer}, {c2, w.Reviewer}, {o1, w.OtherReviewer}} {
			w.Must(t, 200, "POST", "/api/v1/hashmatch/cases/"+c.id+"/review", c.token, map[string]any{"decision": "reject", "note": "benign"})
		}
		if r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+c1+"/dispute", w.Reviewer, map[string]any{"note": "  "}); r.Status != 422 || r.Str("error.field") != "note" {
			t.Fatalf("dispute without a note: %d %s", r.Status, r.Raw)
		}
		// Another provider's case does not exist for this reviewer.
		if r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+o1+"/dispute", w.Reviewer, map[string]any{"note": "x"}); r.Status != 404 {
			t.Fatalf("dispute of another provider's case: %d %s", r.Status, r.Raw)
		}
		d1 := w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c1+"/dispute", w.Reviewer, map[string]any{"note": "our company logo, not abuse material"})
		if d1.Str("entry_id") != "logo-like" || d1.Str("status") != "open" || d1.Str("bank_id") != bank {
			t.Fatalf("dispute: %s", d1.Raw)
		}
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+c2+"/dispute", w.Reviewer, map[string]any{"note": "a landscape"})
		w.Must(t, 201, "POST", "/api/v1/hashmatch/cases/"+o1+"/dispute", w.OtherReviewer, map[string]any{"note": "the same logo on our site"})
		if r := w.Do(t, "POST", "/api/v1/hashmatch/cases/"+c1+"/dispute", w.Reviewer, map[string]any{"note": "again"}); r.Status != 409 || r.Str("error.rule") != "already_disputed" {
			t.Fatalf("second dispute of a case: %d %s", r.Status, r.Raw)
		}

		// Each service sees its own disputes only.
		var mine, theirs struct{ Disputes []hashmatch.Dispute }
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/disputes", w.Service, nil).Raw), &mine)
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/disputes", w.OtherReviewer, nil).Raw), &theirs)
		if len(mine.Disputes) != 2 || len(theirs.Disputes) != 1 || theirs.Disputes[0].CaseID != o1 {
			t.Fatalf("disputes: mine %+v, theirs %+v", mine.Disputes, theirs.Disputes)
		}
		for _, d := range mine.Disputes {
			if d.ProviderID != w.Provider {
				t.Errorf("the provider sees another's dispute %+v", d)
			}
		}

		// The owner sees the entries ranked by services, without the content.
		de := w.Must(t, 200, "GET", "/api/v1/hashmatch/disputed-entries", w.Analyst, nil)
		var ranked hashmatch.DisputedEntries
		jsonUnmarshal(t, string(de.Raw), &ranked)
		if len(ranked.Entries) != 2 || ranked.Entries[0].EntryID != "logo-like" || ranked.Entries[0].Services != 2 ||
			ranked.Entries[1].EntryID != "second" || ranked.Entries[1].Services != 1 || len(ranked.Entries[0].Open) != 2 {
			t.Fatalf("disputed entries: %s", de.Raw)
		}
		for _, leak := range []string{"alice-31", "carol-33", "photo/", c1, o1, "pseudonym"} {
			if strings.Contains(string(de.Raw), leak) {
				t.Errorf("the owner's view carries %q: %s", leak, de.Raw)
			}
		}
		if !strings.Contains(string(de.Raw), "our company logo") {
			t.Errorf("the owner's view lacks the note: %s", de.Raw)
		}
		// Another authority sees none of them, and not this bank's.
		var others hashmatch.DisputedEntries
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/disputed-entries", w.OtherAnalyst, nil).Raw), &others)
		if len(others.Entries) != 0 || len(others.PendingWithdrawals) != 0 {
			t.Errorf("another authority sees disputes: %+v", others)
		}
		if r := w.Do(t, "GET", "/api/v1/hashmatch/disputed-entries?bank_id="+bank, w.OtherAnalyst, nil); r.Status != 403 || r.Str("error.rule") != "own_bank" {
			t.Errorf("another authority's bank: %d %s", r.Status, r.Raw)
		}
		if r := w.Do(t, "GET", "/api/v1/hashmatch/disputed-entries", w.Service, nil); r.Status != 403 {
			t.Errorf("a service reads the owner's view: %d %s", r.Status, r.Raw)
		}

		// The owner keeps one entry and withdraws the other.
		review := func(token, entry, decision string) *apptest.Response {
			return w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/entries/"+entry+"/disputes/review", token,
				map[string]any{"decision": decision, "reason": "checked against the original report"})
		}
		if r := review(w.OtherAnalyst, "logo-like", "withdraw"); r.Status != 403 || r.Str("error.rule") != "own_bank" {
			t.Fatalf("another authority reviews: %d %s", r.Status, r.Raw)
		}
		if r := review(w.Analyst, "logo-like", "delete"); r.Status != 422 || r.Str("error.field") != "decision" {
			t.Fatalf("unknown decision: %d %s", r.Status, r.Raw)
		}
		if r := review(w.Analyst, "second", "keep"); r.Status != 200 {
			t.Fatalf("keep: %d %s", r.Status, r.Raw)
		}
		if r := review(w.Analyst, "logo-like", "withdraw"); r.Status != 200 {
			t.Fatalf("withdraw: %d %s", r.Status, r.Raw)
		}
		if r := review(w.Analyst, "logo-like", "withdraw"); r.Status != 409 || r.Str("error.rule") != "no_open_dispute" {
			t.Fatalf("second review: %d %s", r.Status, r.Raw)
		}
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/disputed-entries", w.Analyst, nil).Raw), &ranked)
		if len(ranked.Entries) != 0 || len(ranked.PendingWithdrawals) != 1 || ranked.PendingWithdrawals[0].EntryID != "logo-like" {
			t.Fatalf("after review: %+v", ranked)
		}
		// Until the next version, the entry still matches.
		if m := uploadAs(t, w, w.Service, 1, "dave-34", "photo/34"); m.Str("status") != "match" {
			t.Fatalf("before the next version: %s", m.Raw)
		}

		// The next version, with nothing else in it, deletes the entry.
		v := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{}, "deletes": []any{}})
		if v.Body["version"].(float64) != 2 || v.Body["deletes"].(float64) != 1 || v.Body["adds"].(float64) != 0 {
			t.Fatalf("version 2: %s", v.Raw)
		}
		pull := w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 1})
		if !strings.Contains(string(pull.Raw), `\"deletes\":[\"logo-like\"]`) {
			t.Fatalf("the signed delta does not delete the entry: %s", pull.Raw)
		}
		// An empty version with nothing pending is still refused.
		if r := w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{}}); r.Status != 422 || r.Str("error.rule") != "empty_version" {
			t.Fatalf("empty version: %d %s", r.Status, r.Raw)
		}
		if m := uploadAs(t, w, w.Service, 1, "erin-35", "photo/35"); m.Str("status") != "no_match" {
			t.Fatalf("after the next version: %s", m.Raw)
		}
		if m := uploadAs(t, w, w.Service, 2, "erin-35", "photo/36"); m.Str("status") != "match" {
			t.Fatalf("the kept entry: %s", m.Raw)
		}

		// The services read the outcome.
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/disputes", w.Reviewer, nil).Raw), &mine)
		got := map[string]hashmatch.Dispute{}
		for _, d := range mine.Disputes {
			got[d.EntryID] = d
		}
		if d := got["logo-like"]; d.Status != "withdrawn" || d.WithdrawnIn != 2 || d.Reason == "" {
			t.Errorf("withdrawn dispute: %+v", d)
		}
		if d := got["second"]; d.Status != "kept" || d.WithdrawnIn != 0 {
			t.Errorf("kept dispute: %+v", d)
		}
		verifyLog(t, w)
	})
}
