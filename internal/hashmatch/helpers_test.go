package hashmatch_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
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
func (w *hmWorld) matchImage(t *testing.T, img []byte, user string) *apptest.Response {
	t.Helper()
	req, err := http.NewRequest("POST", w.URL+"/api/v1/hashmatch/match/image", bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.Service)
	req.Header.Set("Content-Type", "image/jpeg")
	req.Header.Set("X-Custos-User-Id", user)
	req.Header.Set("X-Custos-Content-Ref", "upload/123")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := &apptest.Response{Status: resp.StatusCode, Raw: raw}
	json.Unmarshal(raw, &out.Body)
	if out.Status != 200 {
		t.Fatalf("match image: %d %s", out.Status, raw)
	}
	return out
}
