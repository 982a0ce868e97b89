package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/storetest"
)

// TestPreferences sets a principal's time zone through the API, on SQLite
// and PostgreSQL: it is theirs only, a log entry, shown by /me, and reset
// by ""; an unknown zone, a missing one, a wrong type and an unknown field
// are refused with their rule and field, and change nothing.
func TestPreferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		ctx := context.Background()
		size := func() uint64 {
			h, _, err := ledger.ReadHead(ctx, w.App.DB.Read())
			if err != nil {
				t.Fatal(err)
			}
			return h.Size
		}
		if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil); got.Str("time_zone") != "" {
			t.Fatalf("a new principal's time zone: %s", got.Raw)
		}
		before := size()
		r := w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"time_zone": "Europe/Paris"})
		if r.Str("time_zone") != "Europe/Paris" || r.Str("name") != "Coordinator A" {
			t.Fatalf("set: %s", r.Raw)
		}
		if size() != before+1 {
			t.Errorf("setting the time zone wrote %d log entries, want 1", size()-before)
		}
		var leaf string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&leaf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(leaf, `"principal.preferences_set"`) || !strings.Contains(leaf, `"time_zone":"Europe/Paris"`) {
			t.Errorf("the last leaf: %s", leaf)
		}
		if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("time_zone"); got != "Europe/Paris" {
			t.Errorf("after setting, /me says %q", got)
		}
		if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordB, nil).Str("time_zone"); got != "" {
			t.Errorf("another principal's zone changed to %q", got)
		}
		// The API keeps UTC whatever the preference.
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA))
		if at := donor.Str("recorded_at"); at != "" && at[len(at)-1] != 'Z' {
			t.Errorf("recorded_at %q is not UTC", at)
		}

		before = size()
		for _, c := range []struct {
			body        any
			rule, field string
		}{
			{map[string]any{"time_zone": "Mars/Olympus_Mons"}, "time_zone", "time_zone"},
			{map[string]any{"time_zone": "Local"}, "time_zone", "time_zone"},
			{map[string]any{"time_zone": "europe/paris"}, "time_zone", "time_zone"},
			{map[string]any{"time_zone": "Europe/\u202eParis"}, "bidi_character", "time_zone"},
			{map[string]any{}, "required", "time_zone"},
			{map[string]any{"time_zone": nil}, "required", "time_zone"},
			{map[string]any{"time_zone": 1}, "json_type", "time_zone"},
			{map[string]any{"zone": "Europe/Paris"}, "unknown_field", "zone"},
			{`{"time_zone":"UTC","time_zone":"Europe/Paris"}`, "duplicate_key", "time_zone"},
		} {
			r := w.Do(t, "POST", "/api/v1/me/preferences", w.CoordA, c.body)
			if r.Status != 422 && r.Status != 400 || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%v: %d %s, want rule %s on field %s", c.body, r.Status, r.Raw, c.rule, c.field)
			}
		}
		if r := w.Do(t, "POST", "/api/v1/me/preferences", "", map[string]any{"time_zone": "UTC"}); r.Status != 401 {
			t.Errorf("without a token: %d %s", r.Status, r.Raw)
		}
		if size() != before {
			t.Errorf("refused preferences wrote %d log entries", size()-before)
		}
		if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("time_zone"); got != "Europe/Paris" {
			t.Errorf("after refusals, /me says %q", got)
		}
		if r := w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"time_zone": ""}); r.Str("time_zone") != "" {
			t.Errorf("reset: %s", r.Raw)
		}
		if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("time_zone"); got != "" {
			t.Errorf("after reset, /me says %q", got)
		}
	})
}

// TestLanguagePreference sets a principal's language through the API: a
// language of the deployment is kept (a log entry) and leaves the time
// zone as it was, one it does not speak is refused with rule language and
// changes nothing, "" is the browser's again.
func TestLanguagePreference(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		ctx := context.Background()
		w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"time_zone": "Africa/Dakar"})
		r := w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"language": "fr"})
		if r.Str("language") != "fr" || r.Str("time_zone") != "Africa/Dakar" {
			t.Fatalf("set the language: %s", r.Raw)
		}
		var leaf string
		if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&leaf); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(leaf, `"language":"fr"`) || !strings.Contains(leaf, `"time_zone":"Africa/Dakar"`) {
			t.Errorf("the leaf records the preferences as they are after it: %s", leaf)
		}
		me := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil)
		if me.Str("language") != "fr" || me.Str("time_zone") != "Africa/Dakar" {
			t.Errorf("/me: %s", me.Raw)
		}
		for _, lang := range []string{"de", "FR", "fr-x-\u202e", "en-US"} {
			r := w.Do(t, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"language": lang})
			if r.Status != 422 || r.Str("error.rule") == "" || r.Str("error.field") != "language" {
				t.Errorf("language %q: %d %s, want a refusal on field language", lang, r.Status, r.Raw)
			}
		}
		if got := w.Must(t, 200, "GET", "/api/v1/me", w.CoordA, nil).Str("language"); got != "fr" {
			t.Errorf("after refusals, /me says %q", got)
		}
		if r := w.Must(t, 200, "POST", "/api/v1/me/preferences", w.CoordA, map[string]any{"language": ""}); r.Str("language") != "" || r.Str("time_zone") != "Africa/Dakar" {
			t.Errorf("reset: %s", r.Raw)
		}
	})
}
