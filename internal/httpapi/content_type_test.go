package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestJSONContentType: a JSON body is read only under the media type
// application/json (in any case), with no parameter but charset=utf-8.
// Any other Content-Type, a missing one included, is refused with 415,
// code unsupported_media_type, rule content_type, field Content-Type, and
// nothing is written.
func TestJSONContentType(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	send := func(ct *string) *apptest.Response {
		t.Helper()
		return post(t, e.Env, "/api/v1/hashmatch/banks", e.Analyst, ct, []byte(`{"name": "Known"}`))
	}
	size := logLen(t, e)
	for _, ct := range []*string{nil, ptr(""), ptr("text/plain"), ptr("application/jsonx"), ptr("application/json; charset=latin1"),
		ptr("application/json; charset=utf-8; v=2"), ptr("application/x-www-form-urlencoded"), ptr("application/json;;"), ptr("application/merge-patch+json")} {
		r := send(ct)
		if r.Status != http.StatusUnsupportedMediaType || r.Str("error.code") != "unsupported_media_type" ||
			r.Str("error.rule") != "content_type" || r.Str("error.field") != "Content-Type" {
			t.Errorf("Content-Type %s: %d %s, want 415 content_type at Content-Type", show(ct), r.Status, r.Raw)
		}
	}
	if got := logLen(t, e); got != size {
		t.Errorf("refused bodies grew the log by %d entries", got-size)
	}
	for _, ct := range []string{"application/json", "application/json; charset=UTF-8", "Application/JSON;charset=utf-8"} {
		if r := send(&ct); r.Status != 201 {
			t.Errorf("Content-Type %q: %d %s, want 201", ct, r.Status, r.Raw)
		}
	}
}

func ptr(s string) *string { return &s }

func show(ct *string) string {
	if ct == nil {
		return "none"
	}
	b, _ := json.Marshal(*ct)
	return string(b)
}

// TestFileContentType: the imports whose body is a file, the statistics
// records' CSV and the BODS statements, read it only under a media type
// their route documents (in any case, with its parameters): none, or
// another, is refused with 415, code unsupported_media_type, rule
// content_type, field Content-Type, as a JSON body's is, and nothing is
// written.
func TestFileContentType(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		statistician := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		ca := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Central Authority", "kind": "central_authority"}).Str("id")
		officer := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Officer", "role": "central_authority_officer", "authority_id": ca}).Str("token")
		if r := e.Upload(t, "/api/v1/stats/mappings/penal/file?name=Penal+code", statistician, "text/csv", []byte(statstest.Mapping)); r.Status != 201 {
			t.Fatalf("mapping: %d %s", r.Status, r.Raw)
		}
		b := &bods.Builder{Prefix: "ct", Date: "2026-03-01", Publisher: "Demoland companies register"}
		var records bytes.Buffer
		if err := statstest.Write(&records, 20, statstest.Options{Seed: 1}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, path, token string
			body              []byte
			good              []string
		}{
			{"stats import", "/api/v1/stats/imports?mapping=penal&source=records.csv", statistician, records.Bytes(), []string{"Text/CSV; charset=utf-8"}},
			{"bods import", "/api/v1/assets/bods/imports?source=register.jsonl", officer, append(b.Entity("A", "Alpha Holdings Ltd", "DL", ""), '\n'),
				[]string{"application/x-ndjson"}},
		} {
			size := e.LogSize(t)
			for _, ct := range []*string{nil, ptr(""), ptr("text/plain"), ptr("text/csvx"), ptr("application/jsonl-x"), ptr("text/csv;;"), ptr("multipart/form-data; boundary=x")} {
				r := post(t, e, c.path, c.token, ct, c.body)
				if r.Status != http.StatusUnsupportedMediaType || r.Str("error.code") != "unsupported_media_type" ||
					r.Str("error.rule") != "content_type" || r.Str("error.field") != "Content-Type" {
					t.Errorf("%s, Content-Type %s: %d %s, want 415 content_type at Content-Type", c.name, show(ct), r.Status, r.Raw)
				}
			}
			if got := e.LogSize(t); got != size {
				t.Errorf("%s: refused files grew the log by %d entries", c.name, got-size)
			}
			for _, ct := range c.good {
				if r := post(t, e, c.path, c.token, &ct, c.body); r.Status != 201 {
					t.Errorf("%s, Content-Type %q: %d %s, want 201", c.name, ct, r.Status, r.Raw)
				}
			}
		}
	})
}

// post sends body to path with token, with the header Content-Type ct
// (none when nil).
func post(t *testing.T, e *apptest.Env, path, token string, ct *string, body []byte) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest("POST", e.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != nil {
		req.Header.Set("Content-Type", *ct)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	_ = json.Unmarshal(raw, &r.Body)
	return r
}
