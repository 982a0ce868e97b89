package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// sendKeyed sends a JSON request with an Idempotency-Key to base and returns
// its status, its raw body and its decoded body.
func sendKeyed(t *testing.T, base, method, path, token, key string, body any) (int, []byte, map[string]any) {
	t.Helper()
	buf, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(buf))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set(httpapi.IdempotencyHeader, key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, raw, out
}

// TestIdempotencyKey: a command sent again with its Idempotency-Key, to the
// same server or another of the registry, in turn or at once, is recorded
// once and every sending gets the first answer; the key with another body is
// refused naming the header, recording nothing; a route that changes
// nothing, or answers personal data, refuses the header.
func TestIdempotencyKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		second := w.SecondServer(t)
		donors := func() int {
			t.Helper()
			var n int
			if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM donors").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}

		donor := apptest.DeceasedDonor(w.CentreA)
		status, first, body := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/donors", w.CoordA, `"retry-1"`, donor)
		if status != 201 || body["id"] == nil {
			t.Fatalf("first: %d %s", status, first)
		}
		size, count := w.LogSize(t), donors()
		// A retry, to this server and to the other: the first answer, byte
		// for byte, and nothing recorded.
		for _, base := range []string{w.URL, second} {
			status, again, _ := sendKeyed(t, base, "POST", "/api/v1/transplant/donors", w.CoordA, `"retry-1"`, donor)
			if status != 201 || !bytes.Equal(again, first) {
				t.Fatalf("retry to %s: %d %s, want 201 %s", base, status, again, first)
			}
		}
		if w.LogSize(t) != size || donors() != count {
			t.Fatalf("the retries recorded: log %d → %d, donors %d → %d", size, w.LogSize(t), count, donors())
		}
		// The key with another body: refused, naming the rule and the header.
		status, raw, body := sendKeyed(t, second, "POST", "/api/v1/transplant/donors", w.CoordA, `"retry-1"`, with(donor, "blood_group", "A"))
		if e, _ := body["error"].(map[string]any); status != 422 || e["rule"] != "idempotency_key_reused" || e["field"] != httpapi.IdempotencyHeader {
			t.Fatalf("another body with the key: %d %s", status, raw)
		}
		// Another principal's same key is theirs.
		if status, raw, _ := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/donors", w.CoordB, `"retry-1"`, apptest.DeceasedDonor(w.CentreB)); status != 201 {
			t.Fatalf("another principal's key: %d %s", status, raw)
		}
		if w.LogSize(t) != size+1 {
			t.Fatalf("log %d, want %d: a refusal recorded something", w.LogSize(t), size+1)
		}

		// Sent at once, four times to each server: one donor, one answer.
		size, count = w.LogSize(t), donors()
		donor = apptest.DeceasedDonor(w.CentreA)
		var wg sync.WaitGroup
		answers := make([][]byte, 8)
		statuses := make([]int, 8)
		for i := range answers {
			base := w.URL
			if i%2 == 1 {
				base = second
			}
			wg.Go(func() {
				statuses[i], answers[i], _ = sendKeyed(t, base, "POST", "/api/v1/transplant/donors", w.CoordA, "at-once", donor)
			})
		}
		wg.Wait()
		for i := range answers {
			if statuses[i] != 201 || !bytes.Equal(answers[i], answers[0]) {
				t.Errorf("sending %d: %d %s, want 201 %s", i, statuses[i], answers[i], answers[0])
			}
		}
		if w.LogSize(t) != size+1 || donors() != count+1 {
			t.Fatalf("sent at once: log %d → %d, donors %d → %d; want one each", size, w.LogSize(t), count, donors())
		}

		// Routes that take no key refuse it.
		for _, rt := range []struct{ method, path, token string }{
			{"GET", "/api/v1/transplant/donors", w.CoordA},
			{"POST", "/api/v1/transplant/personal-data", w.CoordA},
			{"POST", "/api/v1/principals", w.Admin}, // its answer holds the token
		} {
			status, raw, body := sendKeyed(t, w.URL, rt.method, rt.path, rt.token, "k", map[string]any{"id": "DN-X", "purpose": "treatment"})
			if e, _ := body["error"].(map[string]any); status != 422 || e["rule"] != "idempotency_key" || e["field"] != httpapi.IdempotencyHeader {
				t.Errorf("%s %s with a key: %d %s", rt.method, rt.path, status, raw)
			}
		}
		// A key that is not a string of printable ASCII is refused.
		if status, raw, _ := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/donors", w.CoordA, "a\\b", donor); status != 422 {
			t.Errorf("a key with a backslash: %d %s", status, raw)
		}
	})
}

// TestSealedRoutesTakeNoKey: a route whose answer holds personal data in
// clear, or a secret custos keeps only as a hash, is marked Sealed, so that
// custos keeps no copy of its answer for an Idempotency-Key's retries.
func TestSealedRoutesTakeNoKey(t *testing.T) {
	personal := []reflect.Type{reflect.TypeFor[privacy.Person](), reflect.TypeFor[assets.NaturalPerson](),
		reflect.TypeFor[transplant.TraffickingContent](), reflect.TypeFor[transplant.TraffickingReporter](),
		reflect.TypeFor[auth.CreatedPrincipal]()}
	var holds func(t reflect.Type, seen map[reflect.Type]bool) bool
	holds = func(t reflect.Type, seen map[reflect.Type]bool) bool {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if seen[t] {
			return false
		}
		seen[t] = true
		for _, p := range personal {
			if t == p {
				return true
			}
		}
		if t.Kind() == reflect.Struct {
			for i := range t.NumField() {
				if holds(t.Field(i).Type, seen) {
					return true
				}
			}
		}
		return false
	}
	e := apptest.Start(t, storetest.SQLite(t))
	env := httpapi.Env{DB: e.App.DB, Writer: e.App.Writer, Log: e.App.Log, Catalogue: e.App.Catalogue, Authorities: e.App.Authorities}
	var all []httpapi.Route
	for _, r := range e.App.Modules {
		if o := e.App.Opened[r.Name]; o != nil && o.Routes != nil {
			all = append(all, o.Routes(env)...)
		}
	}
	routes := 0
	for _, rt := range all {
		if rt.Out == nil || rt.Method == "GET" || rt.Public {
			continue
		}
		if holds(reflect.TypeOf(rt.Out), map[reflect.Type]bool{}) {
			routes++
			if !rt.Sealed {
				t.Errorf("%s %s answers personal data or a secret but is not marked Sealed", rt.Method, rt.Path)
			}
		}
	}
	if routes < 5 {
		t.Errorf("found %d routes answering personal data or a secret, want at least 5", routes)
	}
}

// TestIdempotencyKeyOnTheRegistryClock: the writer stamps a key with the
// registry's clock, which need not be the machine's (a registry whose clock
// is set, as a test or a replay sets it): a retry looks the key up, and
// judges it lost or pruned, on that clock too, so it gets the first answer
// rather than a key taken for ever "in progress".
func TestIdempotencyKeyOnTheRegistryClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		// A day and more behind the machine's: past the key's window
		// on the machine's clock.
		clock := time.Now().Add(-30 * time.Hour)
		w := apptest.NewWorldWith(t, dsn, func(cfg *server.Config) {
			cfg.Now = func() time.Time { return clock }
		})
		donor := apptest.DeceasedDonor(w.CentreA)
		status, first, _ := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/donors", w.CoordA, `"clock-1"`, donor)
		if status != 201 {
			t.Fatalf("first: %d %s", status, first)
		}
		size := w.LogSize(t)
		status, again, _ := sendKeyed(t, w.URL, "POST", "/api/v1/transplant/donors", w.CoordA, `"clock-1"`, donor)
		if status != 201 || !bytes.Equal(again, first) || w.LogSize(t) != size {
			t.Fatalf("retry on a registry whose clock is %s: %d %s (log %d → %d), want the first answer and nothing recorded", clock, status, again, size, w.LogSize(t))
		}
	})
}
