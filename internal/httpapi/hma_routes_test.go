package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHMAUnservedRoutes: an address under /hma that custos does not serve
// (HMA's curation routes, /c/…, a mistyped path) or a method a route does
// not take is refused in HMA's shape, JSON with the rule (route, method),
// as /api/ refuses them in custos's: before, the first got the web UI's
// HTML page, the second a bare "Method Not Allowed", which an HMA client
// cannot read.
func TestHMAUnservedRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		for _, c := range []struct {
			method, path string
			status       int
			rule, allow  string
		}{
			{"GET", "/c/banks", 404, "route", ""},
			{"POST", "/c/banks", 404, "route", ""},
			{"GET", "/m/lookup/", 404, "route", ""},
			{"GET", "/", 404, "route", ""},
			{"PUT", "/m/lookup", 405, "method", "GET, POST"},
			{"GET", "/m/compare", 405, "method", "POST"},
			{"DELETE", "/h/hash", 405, "method", "GET, POST"},
		} {
			for _, token := range []string{e.Service, ""} {
				req, err := http.NewRequest(c.method, e.URL+"/hma"+c.path, nil)
				if err != nil {
					t.Fatal(err)
				}
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var got map[string]any
				if json.Unmarshal(raw, &got) != nil || resp.StatusCode != c.status || got["rule"] != c.rule || got["message"] == nil || got["error"] != nil || resp.Header.Get("Allow") != c.allow {
					t.Errorf("%s /hma%s (token %t): %d Allow %q %.200s, want %d rule %s in HMA's shape, Allow %q", c.method, c.path, token != "", resp.StatusCode, resp.Header.Get("Allow"), raw, c.status, c.rule, c.allow)
					continue
				}
				checkAnswer(t, e.Env, c.method, "/hma"+c.path, &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw})
			}
		}
	})
}

// TestHMAQueryRefusals: a parameter an HMA route reads given twice
// (signal=A&signal=B) is refused, 400 rule query at its name, in HMA's
// shape, and nothing is looked up or stored: before, the lookup read the
// first signal alone and answered it, so a second signal that matched went
// unexamined behind a clean answer. A query that cannot be decoded is
// refused in HMA's shape too (before, custos's). A parameter HMA's routes
// do not read is still ignored, as HMA ignores it.
func TestHMAQueryRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		e.SubscribedBank(t, "Known images")
		before := logLen(t, e)
		for _, c := range []struct {
			path, query, field string
		}{
			{"/m/lookup", "signal=" + apptest.PDQHex(55) + "&signal=" + apptest.PDQHex(1) + "&signal_type=pdq", "signal"},
			{"/m/lookup", "signal=" + apptest.PDQHex(1) + "&signal_type=pdq&signal_type=vpdq", "signal_type"},
			{"/m/raw_lookup", "signal=" + apptest.PDQHex(55) + "&signal=" + apptest.PDQHex(1) + "&signal_type=pdq", "signal"},
			{"/m/raw_lookup", "signal=" + apptest.PDQHex(1) + "&signal_type=pdq&include_distance=false&include_distance=true", "include_distance"},
			{"/m/lookup", "signal=%zz&signal_type=pdq", ""},
		} {
			status, got := hmaSend(t, e, "GET", c.path+"?"+c.query, e.Service, "", nil)
			m, _ := got.(map[string]any)
			if field, _ := m["field"].(string); status != 400 || m["rule"] != "query" || field != c.field || m["error"] != nil {
				t.Errorf("%s?%s: %d %s, want 400 rule query at %q in HMA's shape", c.path, c.query, status, asJSON(got), c.field)
			}
		}
		if n := logLen(t, e); n != before {
			t.Errorf("refused lookups logged %d entries", n-before)
		}
		// What HMA's routes do not read passes; types, which they read
		// as a list, may be given again.
		if status, got := hmaSend(t, e, "GET", "/m/lookup?signal="+apptest.PDQHex(55)+"&signal_type=pdq&zz=1&zz=2", e.Service, "", nil); status != 200 || asJSON(got) != "{}" {
			t.Errorf("a parameter HMA does not read: %d %s", status, asJSON(got))
		}
		ct, body := hmaFile(t, "video", "not really a video")
		if status, got := hmaSend(t, e, "POST", "/h/hash?types=video_md5&types=video_md5", e.Service, ct, body); status != 200 {
			t.Errorf("types given again: %d %s", status, asJSON(got))
		}
	})
}

// TestHMARefusalsOnOneLine: every answer under /hma is JSON on one line, as
// HMA's server writes it, the refusals made before the handler included: a
// role refused the route, an Idempotency-Key refused, an address custos
// does not serve. Before, the first two were written as custos's own
// answers are, indented over several lines.
func TestHMARefusalsOnOneLine(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		for _, c := range []struct {
			name, method, path, token, key string
			status                         int
			want                           string
		}{
			{"role", "GET", "/m/index/status", e.Analyst, "", 403,
				`{"message":"the analyst role may not match hashes against hash banks","rule":"role"}`},
			{"key on a route that takes none", "GET", "/m/index/status", e.Service, "k1", 400,
				`{"message":"GET /hma/m/index/status takes no header Idempotency-Key: it reads and changes nothing, so it can be sent again as it is","rule":"idempotency_key","field":"Idempotency-Key"}`},
			{"key malformed", "POST", "/m/lookup", e.Service, `"unterminated`, 400,
				`{"message":"the header Idempotency-Key must be a string of 1 to 255 printable ASCII characters, without quotes or backslashes inside","rule":"idempotency_key","field":"Idempotency-Key"}`},
			{"unserved", "GET", "/c/banks", e.Service, "", 404,
				`{"message":"no API route GET /hma/c/banks; see /api/v1/openapi.json","rule":"route"}`},
		} {
			req, err := http.NewRequest(c.method, e.URL+"/hma"+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+c.token)
			if c.key != "" {
				req.Header.Set("Idempotency-Key", c.key)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			checkAnswer(t, e.Env, c.method, "/hma"+c.path, &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw})
			if resp.StatusCode != c.status || string(raw) != c.want+"\n" || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d %q (Content-Type %q, Cache-Control %q), want %d %q on one line", c.name, resp.StatusCode, raw, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), c.status, c.want)
			}
		}
	})
}

// TestHMAEmptyVPDQ: a vPDQ signal without a frame ([]) is refused as a
// malformed one is, 400 rule hma at the field that holds it (signal; in
// compare, vpdq), and nothing is looked up or stored: before, it was
// answered {} (no match), as if a video had been searched.
func TestHMAEmptyVPDQ(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		e.SubscribedBank(t, "Known images")
		before := logLen(t, e)
		const msg = `invalid signal: no frames: a vpdq signal is a JSON array of one or more "PDQHEX,QUALITY,SECONDS" strings`
		for _, c := range []struct {
			method, path, body, field, message string
		}{
			{"GET", "/m/lookup?signal=%5B%5D&signal_type=vpdq", "", "signal", msg},
			{"GET", "/m/lookup?signal=+%5B+%5D+&signal_type=vpdq", "", "signal", msg},
			{"GET", "/m/raw_lookup?signal=%5B%5D&signal_type=vpdq", "", "signal", msg},
			{"GET", "/m/raw_lookup?signal=&signal_type=vpdq", "", "signal", msg},
			{"POST", "/m/compare", `{"vpdq": ["[]", "[]"]}`, "vpdq", "Invalid vpdq hash: " + strings.TrimPrefix(msg, "invalid signal: ")},
		} {
			ct := ""
			if c.body != "" {
				ct = "application/json"
			}
			status, got := hmaSend(t, e, c.method, c.path, e.Service, ct, []byte(c.body))
			m, _ := got.(map[string]any)
			if status != 400 || m["rule"] != "hma" || m["field"] != c.field || m["message"] != c.message {
				t.Errorf("%s %s %s: %d %s, want 400 rule hma at %s: %s", c.method, c.path, c.body, status, asJSON(got), c.field, c.message)
			}
		}
		if n := logLen(t, e); n != before {
			t.Errorf("refused lookups logged %d entries", n-before)
		}
	})
}
