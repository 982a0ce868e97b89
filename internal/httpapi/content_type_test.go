package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
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
		req, err := http.NewRequest("POST", e.URL+"/api/v1/hashmatch/banks", bytes.NewReader([]byte(`{"name": "Known"}`)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.Analyst)
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
