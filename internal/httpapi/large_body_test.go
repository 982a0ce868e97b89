package httpapi_test

import (
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestLargeBodiesAreBounded holds requests with bodies over MaxBody open on
// a route that accepts LargeBody, their bodies still arriving, on a server
// with one large-body token. A slow sender holds no token while its body
// arrives: another large body, sent whole, is handled beside it. Receiving
// is bounded too: with LargeSpoolsPerToken bodies arriving, one more is
// refused as busy (503, Retry-After). Small bodies on the same route still
// pass, and large bodies pass again once the others are done.
func TestLargeBodiesAreBounded(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where the bodies are received
	e := apptest.NewHashmatchWorldWith(t, storetest.SQLite(t), func(cfg *server.Config) { cfg.LargeBodies = 1 })
	url := e.URL + "/api/v1/hashmatch/match"
	post := func(body io.Reader) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", url, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+e.Service)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return nil, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	// Each holder sends more than the loopback connection can buffer, then
	// stops without ending its body: once its write has returned, the
	// server has read its body past MaxBody and is receiving it.
	opening := `{"items":[` + strings.Repeat(" ", 16<<20)
	var held sync.WaitGroup
	var writers []*io.PipeWriter
	defer func() {
		for _, pw := range writers {
			pw.Close()
		}
		held.Wait()
	}()
	hold := func(k int) {
		var written sync.WaitGroup
		for range k {
			pr, pw := io.Pipe()
			writers = append(writers, pw)
			held.Add(1)
			written.Add(1)
			go func() {
				defer held.Done()
				post(pr)
			}()
			go func() {
				defer written.Done()
				io.WriteString(pw, opening)
			}()
		}
		written.Wait()
	}
	item := `{"pdq":"` + apptest.PDQHex(1) + `","quality":90}`
	large := `{"items":[` + item + strings.Repeat(" ", httpapi.MaxBody) + `]}`

	// One slow sender: the one token is free for a large body sent whole.
	hold(1)
	// The body it is receiving has no name in the temporary directory (a
	// crash leaves none behind); what it holds is written encrypted, and
	// read back whole (the large body sent whole is decoded: 200).
	if names, err := os.ReadDir(tmp); err != nil || len(names) != 0 {
		t.Fatalf("the temporary directory while a body is received: %v %v, want nothing named", names, err)
	}
	if resp, body := post(strings.NewReader(large)); resp == nil || resp.StatusCode != 200 {
		t.Fatalf("a large body while a slow one arrives: %v\n%s", resp, body)
	}

	// As many slow senders as a server receives at once: one more large
	// body is refused as busy.
	hold(httpapi.LargeSpoolsPerToken - 1)
	resp, body := post(strings.NewReader(large))
	if resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"rule": "busy"`) {
		t.Fatalf("a large body while %d are arriving: %v\n%s", httpapi.LargeSpoolsPerToken, resp, body)
	}
	// A small body on the same route does not wait for the large ones.
	if r := e.Do(t, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"items": []any{map[string]any{"pdq": apptest.PDQHex(1), "quality": 90}}}); r.Status == 503 {
		t.Errorf("a small body was refused as busy: %s", r.Raw)
	}

	for _, pw := range writers {
		pw.Close()
	}
	writers = nil
	held.Wait()
	if r := e.Do(t, "POST", "/api/v1/hashmatch/match", e.Service, large); r.Status != 200 {
		t.Fatalf("a large body after the others ended: %d %s", r.Status, r.Raw)
	}
}
