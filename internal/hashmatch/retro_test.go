package hashmatch_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// testClock is a clock the test moves forward.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestRetroactiveMatching: nothing is kept for a provider that did not opt
// in; a provider that opts in keeps its unmatched uploads for its
// retention; a version adding entries opens retro cases for the uploads in
// the window; rows past the retention expire (sweep, and before each
// retroactive match); opting out deletes the window at once.
func TestRetroactiveMatching(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		clock := &testClock{now: time.Now().UTC().Truncate(time.Second)}
		w := apptest.NewHashmatchWorldWith(t, dsn, func(cfg *server.Config) { cfg.Now = clock.Now })
		db := w.App.DB.Read()
		kept := func(provider string) int {
			t.Helper()
			var n int
			if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM hm_retro_uploads WHERE provider_id = ?", provider).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		bank := w.Bank(t, "Known images")
		publish := func(entry string, seed uint64) {
			t.Helper()
			w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
				map[string]any{"adds": []map[string]any{{"entry_id": entry, "pdq": blocksHash(t, seed)}}})
		}
		publish("first", 10)
		w.Subscribe(t, bank)
		w.SubscribeOther(t, bank)

		// By default, an upload that matches nothing is stored nowhere.
		if m := uploadAs(t, w, w.Service, 20, "user-7", "photo/7"); m.Str("status") != "no_match" {
			t.Fatalf("upload: %s", m.Raw)
		}
		if n := kept(w.Provider); n != 0 {
			t.Fatalf("%d uploads kept without opting in", n)
		}
		if r := w.Must(t, 200, "GET", "/api/v1/hashmatch/retro", w.Service, nil); r.Body["retention_days"].(float64) != 0 {
			t.Fatalf("setting: %s", r.Raw)
		}

		// Bad settings are refused; an analyst has none to set.
		for _, bad := range []map[string]any{{}, {"retention_days": 91}, {"retention_days": -1}} {
			if r := w.Do(t, "POST", "/api/v1/hashmatch/retro", w.Service, bad); r.Status != 422 || r.Str("error.field") != "retention_days" {
				t.Errorf("%v: %d %s", bad, r.Status, r.Raw)
			}
		}
		if r := w.Do(t, "POST", "/api/v1/hashmatch/retro", w.Analyst, map[string]any{"retention_days": 7}); r.Status != 403 {
			t.Errorf("analyst: %d %s", r.Status, r.Raw)
		}

		// The provider opts in for 7 days; the other does not.
		if r := w.Must(t, 200, "POST", "/api/v1/hashmatch/retro", w.Reviewer, map[string]any{"retention_days": 7}); r.Body["retention_days"].(float64) != 7 {
			t.Fatalf("opt in: %s", r.Raw)
		}
		if r := w.Do(t, "POST", "/api/v1/hashmatch/retro", w.Service, map[string]any{"retention_days": 7}); r.Status != 409 || r.Str("error.rule") != "unchanged" {
			t.Errorf("same setting again: %d %s", r.Status, r.Raw)
		}
		uploadAs(t, w, w.Service, 20, "user-7", "photo/7")      // day 0
		uploadAs(t, w, w.Service, 10, "user-8", "photo/8")      // matches: a case, not kept
		uploadAs(t, w, w.OtherService, 21, "user-9", "other/9") // not opted in
		clock.Advance(3 * 24 * time.Hour)
		uploadAs(t, w, w.Service, 21, "user-10", "photo/10") // day 3
		if n, o := kept(w.Provider), kept(w.OtherProvider); n != 2 || o != 0 {
			t.Fatalf("kept %d uploads of the provider (want 2) and %d of the other (want 0)", n, o)
		}
		var raw, pseudonym string
		if err := db.QueryRow(ctx, "SELECT content_ref || ' ' || uploaded_at || ' ' || source, user_pseudonym FROM hm_retro_uploads WHERE content_ref = 'photo/7'").Scan(&raw, &pseudonym); err != nil {
			t.Fatal(err)
		}
		if pseudonym == "" || pseudonym == "user-7" {
			t.Fatalf("the window keeps user id %q", pseudonym)
		}

		// A row written into the window behind custos's back (a copy of a
		// real one under another id and content reference, its MAC with
		// it) opens no case.
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO hm_retro_uploads (id, provider_id, pdq, variants, video, quality, md5, sha256, source, content_ref, user_pseudonym, uploaded_at, seen_at, mac)
			SELECT 'HU-FORGED', provider_id, pdq, variants, video, quality, md5, sha256, source, 'forged/7', user_pseudonym, uploaded_at, seen_at, mac
			FROM hm_retro_uploads WHERE content_ref = 'photo/7'`); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		// Day 5: a version adds both images; retro cases open for the
		// provider only, with the pseudonym a case at upload would have.
		clock.Advance(2 * 24 * time.Hour)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "twenty", "pdq": blocksHash(t, 20)}, {"entry_id": "twenty-one", "pdq": blocksHash(t, 21)}}})
		var cases struct{ Cases []hashmatch.QueueCase }
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/cases?status=open", w.Reviewer, nil).Raw), &cases)
		retro := map[string]hashmatch.QueueCase{}
		for _, c := range cases.Cases {
			if c.ContentRef == "forged/7" {
				t.Fatalf("a row written behind custos's back opened a case: %+v", c)
			}
			if c.Source == "retro" {
				retro[c.BestEntryID] = c
			}
		}
		if len(retro) != 2 || retro["twenty"].ContentRef != "photo/7" || retro["twenty"].UserPseudonym != pseudonym ||
			retro["twenty-one"].ContentRef != "photo/10" || retro["twenty"].BestDistance != 0 {
			t.Fatalf("retro cases: %+v", cases.Cases)
		}
		var others struct{ Cases []hashmatch.QueueCase }
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.OtherReviewer, nil).Raw), &others)
		if len(others.Cases) != 0 {
			t.Fatalf("the provider that did not opt in has cases: %+v", others.Cases)
		}

		// Day 8: the day-0 upload (and the forged copy of it) is past 7
		// days and expires; the day-3 one stays.
		clock.Advance(3 * 24 * time.Hour)
		n, err := w.App.Hashmatch.SweepRecent(ctx)
		if err != nil || n != 2 || kept(w.Provider) != 1 {
			t.Fatalf("sweep deleted %d (%v), %d left", n, err, kept(w.Provider))
		}
		// An upload on day 8 expires by day 16 without a sweep of its own:
		// the publication sweeps before it matches, so no case opens.
		uploadAs(t, w, w.Service, 22, "user-11", "photo/11")
		clock.Advance(8 * 24 * time.Hour)
		publish("twenty-two", 22)
		jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/cases?status=open", w.Reviewer, nil).Raw), &cases)
		for _, c := range cases.Cases {
			if c.BestEntryID == "twenty-two" {
				t.Fatalf("an expired upload matched: %+v", c)
			}
		}
		if n := kept(w.Provider); n != 0 {
			t.Fatalf("%d uploads kept past the retention", n)
		}

		// Opting out deletes the window at once, and nothing is kept after.
		uploadAs(t, w, w.Service, 23, "user-12", "photo/12")
		if kept(w.Provider) != 1 {
			t.Fatal("the upload after the sweep was not kept")
		}
		if r := w.Must(t, 200, "POST", "/api/v1/hashmatch/retro", w.Service, map[string]any{"retention_days": 0}); r.Body["kept"].(float64) != 0 {
			t.Fatalf("opt out: %s", r.Raw)
		}
		if n := kept(w.Provider); n != 0 {
			t.Fatalf("%d uploads kept after opting out", n)
		}
		uploadAs(t, w, w.Service, 24, "user-13", "photo/13")
		if n := kept(w.Provider); n != 0 {
			t.Fatalf("%d uploads kept after opting out", n)
		}
		verifyLog(t, w)
	})
}

// TestRetroactiveMatchingUpdates: a version that updates an entry so that
// it now matches an upload in the window opens a retro case, as an add
// does; an update of an entry in quarantine opens none, and an update that
// changes only the classification (the hash matched the upload already)
// opens no second case.
func TestRetroactiveMatchingUpdates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{QuarantineLimit: 2})
		bank := w.Bank(t, "Known images")
		versions := "/api/v1/hashmatch/banks/" + bank + "/versions"
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "first", "pdq": blocksHash(t, 10), "classification": "A1"}, {"entry_id": "second", "pdq": blocksHash(t, 11)}}})
		w.Subscribe(t, bank)
		w.Must(t, 200, "POST", "/api/v1/hashmatch/retro", w.Service, map[string]any{"retention_days": 7})
		for _, seed := range []uint64{20, 31} {
			if m := uploadAs(t, w, w.Service, seed, "user-1", "photo/"+strconv.FormatUint(seed, 10)); m.Str("status") != "no_match" {
				t.Fatalf("upload: %s", m.Raw)
			}
		}
		// A match of "second" by each service puts it in quarantine (the
		// limit is 2, one service's matches count up to half of it).
		w.SubscribeOther(t, bank)
		for _, token := range []string{w.Service, w.OtherService} {
			if m := uploadAs(t, w, token, 11, "user-2", "photo/11"); m.Str("status") != "match" {
				t.Fatalf("upload: %s", m.Raw)
			}
		}
		retro := func() []hashmatch.QueueCase {
			t.Helper()
			var cases struct{ Cases []hashmatch.QueueCase }
			jsonUnmarshal(t, string(w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.Reviewer, nil).Raw), &cases)
			var out []hashmatch.QueueCase
			for _, c := range cases.Cases {
				if c.Source == "retro" {
					out = append(out, c)
				}
			}
			return out
		}

		// Version 2 moves "first" onto one uploaded image and "second", in
		// quarantine, onto the other: one retro case, for "first".
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"updates": []map[string]any{
			{"entry_id": "first", "pdq": blocksHash(t, 20), "classification": "A1"}, {"entry_id": "second", "pdq": blocksHash(t, 31)}}})
		cs := retro()
		if len(cs) != 1 || cs[0].BestEntryID != "first" || cs[0].BestBankID != bank || cs[0].ContentRef != "photo/20" || cs[0].BestDistance != 0 {
			t.Fatalf("retro cases after the update: %+v", cs)
		}

		// Version 3 changes only its classification: the upload was matched
		// already, and no second case opens.
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"updates": []map[string]any{
			{"entry_id": "first", "pdq": blocksHash(t, 20), "classification": "B1"}}})
		if cs := retro(); len(cs) != 1 {
			t.Fatalf("a classification-only update opened a second case: %+v", cs)
		}
		verifyLog(t, w)
	})
}
