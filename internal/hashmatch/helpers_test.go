package hashmatch_test

import (
	"encoding/json"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
)

func jsonUnmarshal(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatal(err)
	}
}

// matchImage posts raw image bytes to the upload endpoint as the service.
func matchImage(t *testing.T, w *apptest.HashmatchWorld, img []byte, user string) *apptest.Response {
	t.Helper()
	return upload(t, w, "/api/v1/hashmatch/match/image", "image/jpeg", img, user)
}

// upload posts a file's raw bytes to an upload endpoint as the service and
// wants a 200 answer.
func upload(t *testing.T, w *apptest.HashmatchWorld, route, contentType string, body []byte, user string) *apptest.Response {
	t.Helper()
	out := w.Upload(t, route, w.Service, contentType, body, "Custos-User-Id", user, "Custos-Content-Ref", "upload/123")
	if out.Status != 200 {
		t.Fatalf("%s: %d %s", route, out.Status, out.Raw)
	}
	return out
}
