package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// endlessLine is a CSV body: a header line, then one line that never
// ends, up to size bytes; read counts what the server took of it.
type endlessLine struct {
	head []byte
	size int64
	read atomic.Int64
}

func (l *endlessLine) Read(b []byte) (int, error) {
	at := l.read.Load()
	if at >= l.size {
		return 0, io.EOF
	}
	n := int(min(int64(len(b)), l.size-at))
	for i := range n {
		if at+int64(i) < int64(len(l.head)) {
			b[i] = l.head[at+int64(i)]
		} else {
			b[i] = 'A'
		}
	}
	l.read.Add(int64(n))
	return n, nil
}

// TestCSVRecordSize posts CSV files whose second line never ends to every
// route that reads a statistics CSV file: each is refused with rule
// line_size once a record passes stats.MaxRecordBytes, long before the
// server has read the body (encoding/csv would hold the line whole: a
// records file may be 8 GiB), and nothing is stored.
func TestCSVRecordSize(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		if r := e.Upload(t, "/api/v1/stats/mappings/penal/file?name=Penal+code", token, "text/csv", []byte(statstest.Mapping)); r.Status != 201 {
			t.Fatalf("mapping: %d %s", r.Status, r.Raw)
		}
		const size = 48 << 20
		for _, c := range []struct{ path, head string }{
			{"/api/v1/stats/imports?mapping=penal&source=long.csv", statstest.Header + "\n"},
			{"/api/v1/stats/mappings/penal/check", statstest.Header + "\n"},
			{"/api/v1/stats/mappings/penal/file?name=Penal+code", "national_code,national_label,iccs\n"},
		} {
			body := &endlessLine{head: []byte(c.head), size: size}
			req, err := http.NewRequest("POST", e.URL+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = size
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "text/csv")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", c.path, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out struct {
				Error struct{ Rule, Field, Message string }
			}
			_ = json.Unmarshal(raw, &out)
			if resp.StatusCode != 422 || out.Error.Rule != "line_size" || out.Error.Field != "file" ||
				!strings.Contains(out.Error.Message, "line 2: a record is over 65536 bytes") {
				t.Errorf("%s: %d %s, want 422 line_size on file, line 2", c.path, resp.StatusCode, truncate(raw))
			}
			if n := body.read.Load(); n > size/2 {
				t.Errorf("%s: the server read %d bytes of the body before refusing it", c.path, n)
			}
		}
		imports := e.Must(t, 200, "GET", "/api/v1/stats/imports", token, nil)
		if list, _ := imports.Body["imports"].([]any); len(list) != 0 {
			t.Errorf("imports after the refusals: %s", imports.Raw)
		}
		mapping := e.Must(t, 200, "GET", "/api/v1/stats/mappings/penal", token, nil)
		if v := mapping.Body["version"]; v != float64(1) {
			t.Errorf("the mapping is at version %v after a refused file, want 1", v)
		}
		// A record up to the limit still passes.
		long := strings.Repeat("x", stats.MaxRecordBytes-200)
		var ok bytes.Buffer
		ok.WriteString(statstest.Mapping)
		ok.WriteString("N999," + long + ",0101\n")
		if r := e.Upload(t, "/api/v1/stats/mappings/penal/file?name=Penal+code", token, "text/csv", ok.Bytes()); r.Status != 201 && r.Str("error.rule") == "line_size" {
			t.Errorf("a record of %d bytes was refused: %s", len(long), truncate(r.Raw))
		}
	})
}
