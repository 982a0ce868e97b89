package httpapi_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchBodyLimits: the routes that carry whole hash lists or long
// videos read JSON bodies up to LargeBody, as the OpenAPI document says; a
// larger body is refused (413, body_size) and changes nothing; every other
// route keeps MaxBody.
func TestHashmatchBodyLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		validate := openAPIValidator(t, e.Env)
		bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Long videos"}).Str("id")

		// A video entry of 20,000 frames (about 2 MB of JSON, over MaxBody).
		long := map[string]any{"adds": []any{map[string]any{"entry_id": "vid-long", "classification": "A1",
			"video": map[string]any{"frames": frames(1000, 20000, 0, 90, 0)}}}}
		validate("POST", "/api/v1/hashmatch/banks/{id}/versions", "request", long)
		v := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, long)
		if v.Body["adds"] != float64(1) {
			t.Errorf("published %s", v.Raw)
		}
		// Its frames match: the long query passes the same limit.
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
		size := logLen(t, e)
		m := e.Must(t, 200, "POST", "/api/v1/hashmatch/match/video", e.Service, map[string]any{"frames": frames(1000, 15000, 2, 80, 0)})
		if m.Str("status") != "match" || logLen(t, e) != size+1 {
			t.Errorf("a 15,000-frame query: %.300s", m.Raw)
		}

		// One byte over the limit: refused before it is decoded, and the
		// log does not move.
		size = logLen(t, e)
		over := `{"deletes":["vid-long"]` + strings.Repeat(" ", httpapi.LargeBody+1-len(`{"deletes":["vid-long"]}`)) + `}`
		r := e.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, over)
		if r.Status != 413 || r.Str("error.code") != "too_large" || r.Str("error.rule") != "body_size" {
			t.Errorf("a body over LargeBody: %d %s", r.Status, r.Raw)
		}
		if logLen(t, e) != size {
			t.Error("a refused body changed the log")
		}
		// The same body at the limit is accepted.
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, over[:len(over)-2]+"}")

		// Other routes keep MaxBody.
		small := `{"name":"b"` + strings.Repeat(" ", httpapi.MaxBody) + `}`
		if r := e.Do(t, "POST", "/api/v1/hashmatch/banks", e.Analyst, small); r.Status != 413 || r.Str("error.rule") != "body_size" {
			t.Errorf("a body over MaxBody on bank creation: %d %s", r.Status, r.Raw)
		}

		// The document states each route's limit.
		doc := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body["paths"].(map[string]any)
		desc := func(path string) string {
			op := doc[path].(map[string]any)["post"].(map[string]any)
			return op["requestBody"].(map[string]any)["description"].(string)
		}
		for _, p := range []string{"/api/v1/hashmatch/banks/{id}/versions", "/api/v1/hashmatch/banks/{id}/import", "/api/v1/hashmatch/match", "/api/v1/hashmatch/match/video"} {
			if !strings.Contains(desc(p), "(64 MiB)") {
				t.Errorf("%s: %q", p, desc(p))
			}
		}
		if d := desc("/api/v1/hashmatch/banks"); !strings.Contains(d, "(1 MiB)") {
			t.Errorf("bank creation: %q", d)
		}
	})
}
