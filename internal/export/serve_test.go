package export

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestServeFile: the answer an export writes to can be flushed, as Export
// and File flush it before they log the export as completed (a client gone
// during the last bytes leaves it without that entry); HEAD makes nothing;
// an error once the file has begun aborts the answer.
func TestServeFile(t *testing.T) {
	rec := httptest.NewRecorder()
	err := ServeFile(rec, httptest.NewRequest("GET", "/", nil), func(start func(func(http.Header)), out io.Writer) error {
		start(func(h http.Header) { h.Set("Content-Type", "application/json") })
		if _, err := io.WriteString(out, "{}"); err != nil {
			return err
		}
		f, ok := out.(flusher)
		if !ok {
			t.Fatalf("the answer (%T) cannot be flushed before the export is logged as completed", out)
		}
		return f.Flush()
	})
	if err != nil || !rec.Flushed || rec.Code != http.StatusOK || rec.Body.String() != "{}" || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("err %v, flushed %v, code %d, body %q, headers %v", err, rec.Flushed, rec.Code, rec.Body, rec.Header())
	}

	rec = httptest.NewRecorder()
	made := false
	if err := ServeFile(rec, httptest.NewRequest("HEAD", "/", nil), func(func(func(http.Header)), io.Writer) error {
		made = true
		return nil
	}); err != nil || made || rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET" {
		t.Errorf("HEAD: err %v, made %v, code %d, Allow %q", err, made, rec.Code, rec.Header().Get("Allow"))
	}

	defer func() {
		if r := recover(); r != http.ErrAbortHandler {
			t.Errorf("an error after the first byte: recovered %v, want http.ErrAbortHandler", r)
		}
	}()
	_ = ServeFile(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil), func(start func(func(http.Header)), out io.Writer) error {
		start(func(http.Header) {})
		io.WriteString(out, "{")
		return errors.New("the rows ended early")
	})
}
