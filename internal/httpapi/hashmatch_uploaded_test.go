package httpapi_test

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestUploadedAtNotFuture: a service's upload time hours ahead of the
// registry's clock is refused (it would become a report's incident time),
// naming the field, on the hash route and the image route's header alike,
// and nothing is logged; a few minutes ahead (a clock that runs fast) is
// taken.
func TestUploadedAtNotFuture(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		size := logLen(t, e)
		later := time.Now().UTC().Add(2 * time.Hour).Format(time.RFC3339)
		r := e.Do(t, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{
			item(apptest.PDQHex(1), 90), map[string]any{"pdq": apptest.PDQHex(2), "quality": 90, "uploaded_at": later}}})
		if r.Status != 422 || r.Str("error.rule") != "dates_in_order" || r.Str("error.field") != "items[1].uploaded_at" {
			t.Errorf("an upload two hours ahead: %d %s", r.Status, r.Raw)
		}
		r = e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", apptest.BlocksPNG(t, 1), "Custos-Uploaded-At", later)
		if r.Status != 422 || r.Str("error.rule") != "dates_in_order" || r.Str("error.field") != "uploaded_at" {
			t.Errorf("an image uploaded two hours ahead: %d %s", r.Status, r.Raw)
		}
		if logLen(t, e) != size {
			t.Error("a refused upload was logged")
		}
		soon := time.Now().UTC().Add(2 * time.Minute).Format(time.RFC3339)
		e.Must(t, 200, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{
			map[string]any{"pdq": apptest.PDQHex(2), "quality": 90, "uploaded_at": soon}}})
	})
}
