package httpapi_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// TestLargeBodiesAreBounded holds DefaultLargeBodies requests with bodies over
// MaxBody open on a route that accepts LargeBody, their bodies still arriving,
// and checks that one more large body is refused as busy (503, Retry-After),
// that small bodies on the same route still pass, and that large bodies pass
// again once the others are done.
func TestLargeBodiesAreBounded(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
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
	// stops without ending its body: once every write has returned, the
	// server has read each body past MaxBody, so each holds a token.
	opening := `{"hashes":[` + strings.Repeat(" ", 16<<20)
	var held, written sync.WaitGroup
	var writers []*io.PipeWriter
	defer func() {
		for _, pw := range writers {
			pw.Close()
		}
		held.Wait()
	}()
	for range httpapi.DefaultLargeBodies {
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

	large := `{"hashes":[` + strings.Repeat(" ", httpapi.MaxBody) + `]}`
	resp, body := post(strings.NewReader(large))
	if resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" ||
		!strings.Contains(string(body), `"rule": "busy"`) {
		t.Fatalf("a large body while %d are being read: %v\n%s", httpapi.DefaultLargeBodies, resp, body)
	}
	// A small body on the same route does not wait for the large ones.
	if r := e.Do(t, "POST", "/api/v1/hashmatch/match", e.Service, map[string]any{"hashes": []any{}}); r.Status == 503 {
		t.Errorf("a small body was refused as busy: %s", r.Raw)
	}

	for _, pw := range writers {
		pw.Close()
	}
	writers = nil
	held.Wait()
	if r := e.Do(t, "POST", "/api/v1/hashmatch/match", e.Service, large); r.Status == 503 {
		t.Fatalf("a large body after the others ended: %s", r.Raw)
	}
}
