package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// TestServeTuningFlags starts custos serve twice on one registry, with and
// without --hm-max-upload-mib 1, and uploads the same 1.5 MiB file to each:
// the flag's server refuses it for its size before looking at it, the other
// reads it and finds it is no image. Out-of-range values are refused at
// start, naming the flag.
func TestServeTuningFlags(t *testing.T) {
	reg := initRegistry(t, storetest.SQLite(t))

	for _, bad := range [][]string{{"--hm-min-quality", "0"}, {"--hm-suppression-radius", "300"}, {"--large-bodies", "-1"}} {
		_, stderr, code := cli(t, append([]string{"serve", "--db", reg.DSN, "--key-file", reg.Key, "--addr", "127.0.0.1:0"}, bad...)...)
		if code != 2 || !strings.Contains(stderr, bad[0]) {
			t.Errorf("serve %v: exit %d, stderr %q; want exit 2 naming the flag", bad, code, stderr)
		}
	}

	file := bytes.Repeat([]byte{0x42}, 3<<19) // 1.5 MiB, not an image
	upload := func(s *server) (int, string) {
		t.Helper()
		provider := must(t, 201, s.URL, "POST", "/api/v1/hashmatch/authorities", reg.Admin,
			map[string]any{"name": "Service " + s.URL, "kind": "service_provider"}).str("id")
		token := must(t, 201, s.URL, "POST", "/api/v1/principals", reg.Admin,
			map[string]any{"name": "service", "role": "service", "authority_id": provider}).str("token")
		req, err := http.NewRequest("POST", s.URL+"/api/v1/hashmatch/match/image", bytes.NewReader(file))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct {
			Error struct{ Rule string } `json:"error"`
		}
		b, _ := io.ReadAll(resp.Body)
		json.Unmarshal(b, &body)
		return resp.StatusCode, body.Error.Rule
	}

	small := startServer(t, reg, "--hm-max-upload-mib", "1")
	if status, rule := upload(small); status != 413 || rule != "image_size" {
		t.Errorf("with --hm-max-upload-mib 1: %d %s, want 413 image_size", status, rule)
	}
	small.stop()
	plain := startServer(t, reg)
	if status, rule := upload(plain); status == 413 || rule == "image_size" {
		t.Errorf("with the default 20 MiB: %d %s, want the file read and refused as no image", status, rule)
	}
}
