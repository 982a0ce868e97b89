package httpapi_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestInputHygiene sends bodies that encoding/json alone would accept, with
// a key given twice or bytes that are not UTF-8, and bodies whose names hold
// control or bidirectional-override characters, to routes of the core and
// of a registry. Each is refused with the usual error body, its rule and its
// field, and the registry is as it was; a name written decomposed is stored
// in NFC.
func TestInputHygiene(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		size := func() int {
			r := w.Must(t, 200, "GET", "/api/v1/log/checkpoint", w.Auditor, nil)
			return int(r.Body["size"].(float64))
		}
		before := size()
		for _, c := range []struct {
			name, path, body string
			rule, field      string
		}{
			{"duplicate key", "/api/v1/transplant/centres", `{"name":"Centre C","city":"Port Aster","name":"Centre D"}`, "duplicate_key", "name"},
			{"duplicate key, spelled with an escape", "/api/v1/transplant/centres", `{"name":"Centre C","city":"Port Aster","\u0063ity":"Northgate"}`, "duplicate_key", "city"},
			{"duplicate key of the core", "/api/v1/principals", `{"name":"P","role":"auditor","role":"regulator","authority_id":"` + w.RegulatorAuthority + `"}`, "duplicate_key", "role"},
			{"invalid UTF-8", "/api/v1/transplant/centres", "{\"name\":\"Centre \xe9\",\"city\":\"Port Aster\"}", "utf8", "name"},
			{"half a surrogate pair in a name", "/api/v1/transplant/centres", `{"name":"Centre \ud800C","city":"Port Aster"}`, "utf8", "name"},
			{"control character in a name", "/api/v1/transplant/centres", `{"name":"Centre\u0007C","city":"Port Aster"}`, "control_character", "name"},
			{"newline in a name", "/api/v1/transplant/centres", `{"name":"Centre\nC","city":"Port Aster"}`, "control_character", "name"},
			{"bidi override in a name", "/api/v1/transplant/centres", `{"name":"Centre \u202eC","city":"Port Aster"}`, "bidi_character", "name"},
			{"bidi isolate in a city", "/api/v1/transplant/centres", `{"name":"Centre C","city":"Port \u2067Aster"}`, "bidi_character", "city"},
		} {
			r := w.Do(t, "POST", c.path, w.Admin, c.body)
			code, status := "invalid", 422
			if c.rule == "duplicate_key" || c.rule == "utf8" {
				code, status = "malformed", 400
			}
			if r.Status != status || r.Str("error.code") != code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Raw)
			}
		}
		if after := size(); after != before {
			t.Errorf("the log grew from %d to %d leaves on refused bodies", before, after)
		}
		decomposed := "Cafe\u0301 Centre"
		r := w.Must(t, 201, "POST", "/api/v1/transplant/centres", w.Admin, map[string]any{"name": decomposed, "city": "Port Aster"})
		got := w.Must(t, 200, "GET", "/api/v1/transplant/centres/"+r.Str("id"), w.Admin, nil)
		if name := got.Str("centre.name"); name != "Caf\u00e9 Centre" {
			t.Errorf("name stored as %q, want NFC %q", name, "Caf\u00e9 Centre")
		}
		if strings.Contains(string(got.Raw), "\u0301") {
			t.Errorf("decomposed accent kept: %s", got.Raw)
		}
	})
}

// TestRangeRefusalsSayOutOfRange checks that a value refused for being
// outside its range says so, with rule range, not that it is required.
func TestRangeRefusalsSayOutOfRange(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	long := strings.Repeat("n", 201)
	for _, c := range []struct {
		path string
		body map[string]any
	}{
		{"/api/v1/principals", map[string]any{"name": long, "role": "auditor", "authority_id": w.RegulatorAuthority}},
		{"/api/v1/transplant/centres", map[string]any{"name": long, "city": "Port Aster"}},
		{"/api/v1/authorities", map[string]any{"name": long, "kind": "regulator"}},
	} {
		r := w.Do(t, "POST", c.path, w.Admin, c.body)
		if r.Status != 422 || r.Str("error.rule") != "range" || r.Str("error.field") != "name" || !strings.Contains(r.Str("error.message"), "out of range") {
			t.Errorf("%s: %d %s", c.path, r.Status, r.Raw)
		}
	}
}

// TestMatchQualityOutOfRange checks the PDQ quality of a match request:
// missing is required, present but outside 0..100 is out of range.
func TestMatchQualityOutOfRange(t *testing.T) {
	w := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	pdq := apptest.PDQHex(1)
	for _, c := range []struct {
		item map[string]any
		rule string
	}{
		{map[string]any{"pdq": pdq}, "required"},
		{map[string]any{"pdq": pdq, "quality": 101}, "range"},
		{map[string]any{"pdq": pdq, "quality": -1}, "range"},
	} {
		r := w.Do(t, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []map[string]any{c.item}})
		if r.Status != 422 || r.Str("error.rule") != c.rule || r.Str("error.field") != "items[0].quality" {
			t.Errorf("%v: %d %s", c.item, r.Status, r.Raw)
		}
		if c.rule == "range" && !strings.Contains(r.Str("error.message"), "out of range") {
			t.Errorf("%v: %s", c.item, r.Raw)
		}
	}
}
