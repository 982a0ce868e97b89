package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// sendFile posts body, of type contentType, to base with an
// Idempotency-Key (none when key is empty) and returns its status, its raw
// body and its decoded body.
func sendFile(t *testing.T, base, path, token, key, contentType string, body []byte) (int, []byte, map[string]any) {
	t.Helper()
	req, err := http.NewRequest("POST", base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
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

// TestIdempotencyKeyUpload: a file uploaded with an Idempotency-Key (a
// statistics records file, over MaxBody so that it is received into a
// temporary file first) and sent again, to the same server or another of
// the registry, is imported once and every sending gets the first answer;
// the key with another file is refused naming the header, recording
// nothing; a POST that records nothing (a mapping's check of a file, an
// aggregate) refuses the header.
func TestIdempotencyKeyUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		second := e.SecondServer(t)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		if r := e.Upload(t, "/api/v1/stats/mappings/penal/file?name=Penal+code", token, "text/csv", []byte(statstest.Mapping)); r.Status != 201 {
			t.Fatalf("mapping: %d %s", r.Status, r.Raw)
		}
		imports := func() int {
			t.Helper()
			list, _ := e.Must(t, 200, "GET", "/api/v1/stats/imports", token, nil).Body["imports"].([]any)
			return len(list)
		}
		file := func(seed uint64, rows int) []byte {
			var b bytes.Buffer
			if err := statstest.Write(&b, rows, statstest.Options{Seed: seed}); err != nil {
				t.Fatal(err)
			}
			return b.Bytes()
		}
		big, other := file(1, 20000), file(2, 50)
		if len(big) <= httpapi.MaxBody {
			t.Fatalf("the file is %d bytes, want over MaxBody (%d)", len(big), httpapi.MaxBody)
		}
		const path = "/api/v1/stats/imports?mapping=penal&source=retried.csv"
		status, first, body := sendFile(t, e.URL, path, token, `"upload-1"`, "text/csv", big)
		if status != 201 || body["id"] == nil {
			t.Fatalf("first: %d %s", status, first)
		}
		size := e.LogSize(t)
		if imports() != 1 {
			t.Fatalf("imports after the first: %d", imports())
		}
		for _, base := range []string{e.URL, second} {
			status, again, _ := sendFile(t, base, path, token, `"upload-1"`, "text/csv", big)
			if status != 201 || !bytes.Equal(again, first) {
				t.Fatalf("retry to %s: %d %s, want 201 %s", base, status, truncate(again), truncate(first))
			}
		}
		if e.LogSize(t) != size || imports() != 1 {
			t.Fatalf("the retries recorded: log %d → %d, imports %d", size, e.LogSize(t), imports())
		}
		// The key with another file: refused, naming the rule and the header.
		status, raw, body := sendFile(t, second, path, token, `"upload-1"`, "text/csv", other)
		if e, _ := body["error"].(map[string]any); status != 422 || e["rule"] != "idempotency_key_reused" || e["field"] != httpapi.IdempotencyHeader {
			t.Fatalf("another file with the key: %d %s", status, raw)
		}
		if e.LogSize(t) != size || imports() != 1 {
			t.Fatalf("the refusal recorded: log %d → %d, imports %d", size, e.LogSize(t), imports())
		}
		// Another key, the other file: imported.
		if status, raw, _ := sendFile(t, e.URL, path, token, `"upload-2"`, "text/csv", other); status != 201 || imports() != 2 {
			t.Fatalf("another key: %d %s, imports %d", status, raw, imports())
		}

		// A POST that records nothing refuses the header, as GET does.
		size = e.LogSize(t)
		status, raw, body = sendFile(t, e.URL, "/api/v1/stats/mappings/penal/check", token, "check-1", "text/csv", other)
		if e, _ := body["error"].(map[string]any); status != 422 || e["rule"] != "idempotency_key" || e["field"] != httpapi.IdempotencyHeader {
			t.Errorf("a mapping's check with a key: %d %s", status, raw)
		}
		agg, _ := json.Marshal(map[string]any{"level": 1})
		status, raw, body = sendFile(t, e.URL, "/api/v1/stats/aggregate", token, "aggregate-1", "application/json", agg)
		if e, _ := body["error"].(map[string]any); status != 422 || e["rule"] != "idempotency_key" || e["field"] != httpapi.IdempotencyHeader {
			t.Errorf("an aggregate with a key: %d %s", status, raw)
		}
		if e.LogSize(t) != size {
			t.Errorf("the refusals recorded: log %d → %d", size, e.LogSize(t))
		}
	})
}

// TestReadOnlyPostsTakeNoKey: the routes that record nothing though their
// method is POST are marked Reads, and are these: a new one is added here
// once it is known to record nothing (takesKey refuses its key, as GET's).
// Every other authenticated route that writes takes a key, uploads and
// HMA's routes included (its GET lookup, which opens a case, too), and the
// document lists the header on it. A key sent where none is taken is
// refused (rule idempotency_key) with the reason of the route's kind: a
// read, a POST that records nothing, a public route other deployments
// post to, an answer custos keeps for no retry.
func TestReadOnlyPostsTakeNoKey(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	env := httpapi.Env{DB: e.App.DB, Writer: e.App.Writer, Log: e.App.Log, Catalogue: e.App.Catalogue, Authorities: e.App.Authorities}
	var reads []string
	keyed := map[string]bool{}
	for _, r := range e.App.Modules {
		if o := e.App.Opened[r.Name]; o != nil && o.Routes != nil {
			for _, rt := range o.Routes(env) {
				if rt.Reads {
					reads = append(reads, rt.Method+" "+rt.Path)
				}
				if (rt.Method != "GET" || rt.Records) && !rt.Public && !rt.Sealed && !rt.Reads {
					keyed[rt.Method+" "+rt.Path] = true
				}
			}
		}
	}
	slices.Sort(reads)
	want := []string{"POST /api/v1/stats/aggregate", "POST /api/v1/stats/mappings/{id}/check", "POST /hma/h/hash", "POST /hma/m/compare"}
	if !slices.Equal(reads, want) {
		t.Errorf("the routes marked Reads: %v, want %v", reads, want)
	}
	paths := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body["paths"].(map[string]any)
	documented := map[string]bool{}
	for path, item := range paths {
		for method, op := range item.(map[string]any) {
			params, _ := op.(map[string]any)["parameters"].([]any)
			for _, p := range params {
				if p := p.(map[string]any); p["in"] == "header" && p["name"] == httpapi.IdempotencyHeader {
					documented[map[string]string{"post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE", "get": "GET"}[method]+" "+path] = true
				}
			}
		}
	}
	for _, rt := range []string{"POST /api/v1/stats/imports", "POST /api/v1/assets/bods/imports", "POST /api/v1/hashmatch/banks/{id}/import",
		"POST /api/v1/hashmatch/match/images", "POST /api/v1/hashmatch/match/video-file", "POST /hma/m/lookup", "GET /hma/m/lookup"} {
		if !keyed[rt] {
			t.Errorf("%s is not among the routes that take a key", rt)
		}
	}
	for rt := range keyed {
		if !documented[rt] {
			t.Errorf("%s takes an Idempotency-Key, but the document does not list the header on it", rt)
		}
	}
	for _, rt := range want {
		if documented[rt] {
			t.Errorf("%s records nothing, but the document lists the header on it", rt)
		}
	}

	// A key sent to a route that takes none is refused under one rule, in
	// words that say why this kind of route takes none, and nothing is
	// recorded.
	office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
	statistician := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
	const (
		aRead    = "it reads and changes nothing, so it can be sent again as it is"
		noRecord = "it records nothing (it answers from the body it is sent), so it can be sent again as it is"
		public   = "other deployments and witnesses post to it with no principal here to keep a key for; sent again, a peer's message is known by its id and a cosignature by its checkpoint"
		private  = "its answer holds personal data or a secret, which custos keeps for no retry"
	)
	size := e.LogSize(t)
	for _, c := range []struct{ method, path, token, why string }{
		{"GET", "/api/v1/me", e.Admin, aRead},
		{"GET", "/api/v1/log/checkpoint", "", aRead}, // public, and a read
		{"POST", "/api/v1/stats/aggregate", statistician, noRecord},
		{"POST", exchange.InboxPath, "", public}, // other deployments deliver to it
		{"POST", "/api/v1/log/cosignatures", "", public},
		{"POST", "/api/v1/principals", e.Admin, private}, // its answer holds the token
	} {
		status, raw, body := sendKeyed(t, e.URL, c.method, c.path, c.token, "k-1", map[string]any{"level": 1})
		want := c.method + " " + c.path + " takes no header " + httpapi.IdempotencyHeader + ": " + c.why
		if e, _ := body["error"].(map[string]any); status != 422 || e["rule"] != "idempotency_key" || e["field"] != httpapi.IdempotencyHeader || e["message"] != want {
			t.Errorf("%s %s with a key: %d %s, want 422 %q", c.method, c.path, status, raw, want)
		}
	}
	if e.LogSize(t) != size {
		t.Errorf("the refusals recorded: log %d → %d", size, e.LogSize(t))
	}
}
