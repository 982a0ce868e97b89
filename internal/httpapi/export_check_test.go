package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"iter"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/storetest"
)

// completedOf reads the export.completed entry that names the export.made
// entry made, through the log's route as an auditor reads it: the leaves
// after made, one by one. ok is false when there is none.
func completedOf(t *testing.T, w *apptest.World, made int64) (c export.Completed, idx int64, ok bool) {
	t.Helper()
	for i := made + 1; i < int64(w.LogSize(t)); i++ {
		leaf := w.Must(t, 200, "GET", "/api/v1/log/entries/"+strconv.FormatInt(i, 10), w.Auditor, nil)
		var e struct {
			Type string           `json:"type"`
			Data export.Completed `json:"data"`
		}
		if err := json.Unmarshal([]byte(leaf.Str("data")), &e); err != nil {
			t.Fatal(err)
		}
		if e.Type == export.TypeCompleted && e.Data.Made == made {
			return e.Data, i, true
		}
	}
	return export.Completed{}, 0, false
}

// TestExportFileChecksAgainstTheLog: a list of personal data exported
// through the API, as CSV and as XLSX, is checked against the log
// (export.Check, what custos export check runs): its export.completed
// entry, read through the log's route, holds its rows, size and the
// SHA-256 of the bytes the client received; the file carries a salt the
// entry does not. One byte changed fails, saying the digest differs.
func TestExportFileChecksAgainstTheLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		for range 3 {
			if r := donorAt(t, w, w.CoordA, w.CentreA, "O"); r.Status != 201 {
				t.Fatalf("donor: %s", r.Raw)
			}
		}
		filter := url.Values{"centre_id": {w.CentreA}}
		for _, format := range []string{"csv", "xlsx"} {
			status, h, b := download(t, w.Env, w.Regulator, "/api/v1/transplant/donors?format="+format+"&"+filter.Encode())
			if status != 200 {
				t.Fatalf("%s: status %d: %s", format, status, b)
			}
			made, err := strconv.ParseInt(h.Get(export.LogEntryHeader), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			c, err := export.Check(context.Background(), w.App.DB.Read(), b)
			if err != nil {
				t.Fatal(err)
			}
			if !c.OK() || c.Made != made || c.Rows != 3 || c.Logged == nil {
				t.Fatalf("%s: the file as downloaded does not check: %+v", format, c)
			}
			got, idx, ok := completedOf(t, w, made)
			sum := sha256.Sum256(b)
			if !ok || idx != c.Completed || got.SHA256 != hex.EncodeToString(sum[:]) || got.Bytes != int64(len(b)) || got.Rows != 3 || got.ID != c.ID {
				t.Errorf("%s: the completed entry %d %+v; the file has %d bytes, sha256 %x", format, idx, got, len(b), sum)
			}
			if format == "csv" {
				salt := readCSV(t, b).header["digest salt"]
				if len(salt) != 32 {
					t.Errorf("a file of personal data has the salt %q", salt)
				}
				leaf := w.Must(t, 200, "GET", "/api/v1/log/entries/"+strconv.FormatInt(idx, 10), w.Auditor, nil)
				if strings.Contains(leaf.Str("data"), salt) {
					t.Errorf("the log holds the file's salt: %s", leaf.Str("data"))
				}
			}

			edited := bytes.Clone(b)
			edited[len(edited)/2] ^= 1
			c, err = export.Check(context.Background(), w.App.DB.Read(), edited)
			if err != nil {
				t.Fatal(err)
			}
			if c.OK() || !strings.Contains(strings.Join(c.Problems, "\n"), "sha256") {
				t.Errorf("%s: a byte changed: %+v", format, c)
			}
		}
	})
}

// TestExportCutShortIsNotCompleted: a client that closes the connection
// while a CSV export is still streaming leaves the export logged as made
// and never as completed, and the part it received does not check. The
// list is endless until the server sees the client gone, so that it is
// still streaming when the client goes whatever the buffers hold; a
// completed entry would fail the test.
func TestExportCutShortIsNotCompleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		actor := w.Principal(t, w.Regulator).Actor()
		const most = 5_000_000
		req := export.Request{Registry: "transplant", List: "endless", Format: export.CSV, Columns: []string{"n", "pad"},
			Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
				return func(yield func([]any, error) bool) {
					for i := range most {
						if err := ctx.Err(); err != nil {
							yield(nil, err)
							return
						}
						if !yield([]any{i, strings.Repeat("x", 64)}, nil) {
							return
						}
					}
				}
			}}
		done := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			defer close(done)
			if err := export.Serve(rw, r, w.App.DB, w.App.Writer, actor, req); err != nil {
				t.Errorf("export: %v", err)
			}
		}))
		defer srv.Close()
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		made, err := strconv.ParseInt(resp.Header.Get(export.LogEntryHeader), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(resp.Body)
		var got bytes.Buffer
		for range 20 { // the header, the columns and a few rows
			line, err := br.ReadBytes('\n')
			if err != nil {
				t.Fatal(err)
			}
			got.Write(line)
		}
		resp.Body.Close() // mid-stream: the connection is closed
		<-done

		if _, _, ok := completedOf(t, w, made); ok {
			t.Fatalf("an export cut short was logged as completed")
		}
		c, err := export.Check(context.Background(), w.App.DB.Read(), got.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if c.OK() || c.Made != made || c.Logged != nil || !strings.Contains(strings.Join(c.Problems, "\n"), "has no "+export.TypeCompleted) {
			t.Errorf("the part received: %+v", c)
		}
	})
}
