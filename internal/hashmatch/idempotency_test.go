package hashmatch_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// keyedAnswer is what a request sent with an Idempotency-Key got.
type keyedAnswer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// sendKeyed posts body to base+path (gets it when body is nil) with the
// Idempotency-Key key and the headers given as name, value pairs.
func sendKeyed(t *testing.T, base, path, token, key, contentType string, body []byte, headers ...string) keyedAnswer {
	t.Helper()
	method := "POST"
	if body == nil {
		method = "GET"
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set(httpapi.IdempotencyHeader, key)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := keyedAnswer{status: resp.StatusCode, header: resp.Header}
	a.raw, _ = io.ReadAll(resp.Body)
	_ = json.Unmarshal(a.raw, &a.body)
	return a
}

// multipartFile is a multipart/form-data body holding one file in field,
// with a boundary of its own (as a client draws one for each sending).
func multipartFile(t *testing.T, field string, content []byte) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	f, err := mw.CreateFormFile(field, "upload.png")
	if err != nil {
		t.Fatal(err)
	}
	f.Write(content)
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// TestIdempotencyKeyHashUploads: a trust-and-safety client whose upload lost
// its answer sends it again with its Idempotency-Key, to the same server or
// another of the registry: a hash list imported (a body over MaxBody,
// received into a temporary file), a file looked up on HMA's route
// (multipart/form-data, a new boundary each time) and an image matched (a
// raw body with the upload headers), and a signal looked up on HMA's GET
// route, each record once and every sending gets
// the first answer, the HMA lookup's case header included; the key with
// another file, or other upload headers, is refused naming the rule,
// recording nothing, in HMA's shape on HMA's route; HMA's hash, which
// stores nothing, refuses the header.
func TestIdempotencyKeyHashUploads(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		second := w.SecondServer(t)
		bank := newBank(t, w, "Known")
		cases := func() int {
			cs, _ := w.Must(t, 200, "GET", "/api/v1/hashmatch/cases", w.Service, nil).Body["cases"].([]any)
			return len(cs)
		}

		// A hash list over MaxBody.
		var list strings.Builder
		list.WriteString(blocksHash(t, 40) + " A1 img-40\n" + blocksHash(t, 42) + " A1 img-42\n")
		for i := 0; list.Len() <= httpapi.MaxBody; i++ {
			list.WriteString(apptest.PDQHex(1000+i) + " A1\n")
		}
		importBody := func(content string) []byte {
			b, err := json.Marshal(map[string]any{"format": hashmatch.FormatHex, "content": content})
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
		path := "/api/v1/hashmatch/banks/" + bank + "/import"
		first := sendKeyed(t, w.URL, path, w.Analyst, "list-1", "application/json", importBody(list.String()))
		if first.status != 201 {
			t.Fatalf("import: %d %.300s", first.status, first.raw)
		}
		size := w.LogSize(t)
		for _, base := range []string{w.URL, second} {
			if again := sendKeyed(t, base, path, w.Analyst, "list-1", "application/json", importBody(list.String())); again.status != 201 || !bytes.Equal(again.raw, first.raw) {
				t.Fatalf("import again to %s: %d %.300s, want the first answer", base, again.status, again.raw)
			}
		}
		other := sendKeyed(t, second, path, w.Analyst, "list-1", "application/json", importBody(apptest.PDQHex(7)+" A1\n"))
		if e, _ := other.body["error"].(map[string]any); other.status != 422 || e["rule"] != "idempotency_key_reused" || e["field"] != httpapi.IdempotencyHeader {
			t.Fatalf("another list with the key: %d %s", other.status, other.raw)
		}
		if w.LogSize(t) != size {
			t.Fatalf("the list sent again recorded: log %d → %d", size, w.LogSize(t))
		}
		w.Subscribe(t, bank)

		// HMA's lookup of a file, multipart/form-data: a new boundary
		// each sending.
		size = w.LogSize(t)
		ct, body := multipartFile(t, "photo", apptest.BlocksPNG(t, 40))
		look := sendKeyed(t, w.URL, "/hma/m/lookup", w.Service, "look-1", ct, body)
		caseID := look.header.Get(httpapi.HMACaseHeader)
		if look.status != 200 || caseID == "" || !strings.Contains(string(look.raw), `"pdq":{"`+bank+`"`) {
			t.Fatalf("lookup: %d %s, case %q", look.status, look.raw, caseID)
		}
		if w.LogSize(t) == size {
			t.Fatalf("the lookup that opened case %s recorded nothing", caseID)
		}
		size, opened := w.LogSize(t), cases()
		for _, base := range []string{w.URL, second} {
			ct, body := multipartFile(t, "photo", apptest.BlocksPNG(t, 40))
			again := sendKeyed(t, base, "/hma/m/lookup", w.Service, "look-1", ct, body)
			if again.status != 200 || !bytes.Equal(again.raw, look.raw) || again.header.Get(httpapi.HMACaseHeader) != caseID {
				t.Fatalf("lookup again to %s: %d %s, case %q; want %s, case %s", base, again.status, again.raw, again.header.Get(httpapi.HMACaseHeader), look.raw, caseID)
			}
		}
		ct, body = multipartFile(t, "photo", apptest.BlocksPNG(t, 41))
		refused := sendKeyed(t, second, "/hma/m/lookup", w.Service, "look-1", ct, body)
		if refused.status != 400 || refused.body["rule"] != "idempotency_key_reused" || refused.body["message"] == nil || refused.header.Get(httpapi.HMACaseHeader) != "" {
			t.Fatalf("another file with the key: %d %s, want HMA's 400 naming the rule", refused.status, refused.raw)
		}
		if w.LogSize(t) != size || cases() != opened {
			t.Fatalf("the lookups sent again recorded: log %d → %d, cases %d → %d", size, w.LogSize(t), opened, cases())
		}

		// HMA's lookup of a signal, a GET that opens a case.
		signal := "/hma/m/lookup?signal_type=pdq&signal=" + blocksHash(t, 40)
		get := sendKeyed(t, w.URL, signal, w.Service, "get-1", "", nil)
		if get.status != 200 || get.header.Get(httpapi.HMACaseHeader) == "" {
			t.Fatalf("GET lookup: %d %s, case %q", get.status, get.raw, get.header.Get(httpapi.HMACaseHeader))
		}
		size, opened = w.LogSize(t), cases()
		if again := sendKeyed(t, second, signal, w.Service, "get-1", "", nil); again.status != 200 || !bytes.Equal(again.raw, get.raw) ||
			again.header.Get(httpapi.HMACaseHeader) != get.header.Get(httpapi.HMACaseHeader) {
			t.Fatalf("GET lookup again: %d %s, case %q", again.status, again.raw, again.header.Get(httpapi.HMACaseHeader))
		}
		if w.LogSize(t) != size || cases() != opened {
			t.Fatalf("the GET lookup sent again recorded: log %d → %d, cases %d → %d", size, w.LogSize(t), opened, cases())
		}

		// An image matched, its raw bytes with the upload headers.
		img := apptest.BlocksPNG(t, 42)
		match := sendKeyed(t, w.URL, "/api/v1/hashmatch/match/image", w.Service, "match-1", "image/png", img, "Custos-Content-Ref", "ref-1")
		if match.status != 200 || match.body["case_id"] == nil {
			t.Fatalf("match: %d %s", match.status, match.raw)
		}
		size, opened = w.LogSize(t), cases()
		if again := sendKeyed(t, second, "/api/v1/hashmatch/match/image", w.Service, "match-1", "image/png", img, "Custos-Content-Ref", "ref-1"); again.status != 200 || !bytes.Equal(again.raw, match.raw) {
			t.Fatalf("match again: %d %s, want %s", again.status, again.raw, match.raw)
		}
		// The same image under another content reference is another
		// upload.
		again := sendKeyed(t, w.URL, "/api/v1/hashmatch/match/image", w.Service, "match-1", "image/png", img, "Custos-Content-Ref", "ref-2")
		if e, _ := again.body["error"].(map[string]any); again.status != 422 || e["rule"] != "idempotency_key_reused" {
			t.Fatalf("the key with another content reference: %d %s", again.status, again.raw)
		}
		if w.LogSize(t) != size || cases() != opened {
			t.Fatalf("the match sent again recorded: log %d → %d, cases %d → %d", size, w.LogSize(t), opened, cases())
		}

		// HMA's hash stores nothing: it takes no key.
		ct, body = multipartFile(t, "photo", img)
		if h := sendKeyed(t, w.URL, "/hma/h/hash", w.Service, "hash-1", ct, body); h.status != 400 || h.body["rule"] != "idempotency_key" {
			t.Errorf("HMA's hash with a key: %d %s", h.status, h.raw)
		}
	})
}
