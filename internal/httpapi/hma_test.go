package httpapi_test

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"hash/fnv"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// flipBits flips the first n bits of a PDQ hex hash: a hash exactly n bits
// away.
func flipBits(t *testing.T, h string, n int) string {
	t.Helper()
	b, err := hex.DecodeString(h)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		b[i/8] ^= 1 << (i % 8)
	}
	return hex.EncodeToString(b)
}

// contentID is the bank_content_id the docs promise for an entry: the first
// 53 bits of FNV-1a of "BANK/ENTRY", computed here on its own.
func contentID(bank, entry string) float64 {
	h := fnv.New64a()
	h.Write([]byte(bank + "/" + entry))
	return float64(h.Sum64() & (1<<53 - 1))
}

// hmaGet sends a GET as HMA's tests do (client.get(path,
// query_string=...)), with the custos token.
func hmaGet(t *testing.T, e *apptest.HashmatchWorld, path, token string, query url.Values) (int, any) {
	t.Helper()
	if query != nil {
		path += "?" + query.Encode()
	}
	return hmaSend(t, e, "GET", path, token, "", nil)
}

// hmaSend sends a request as HMA's tests do, and checks the answer against
// the OpenAPI document, as apptest's Do does.
func hmaSend(t *testing.T, e *apptest.HashmatchWorld, method, path, token, contentType string, body []byte) (int, any) {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+"/hma"+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s %s: not JSON: %s", method, path, raw)
	}
	// HMA's answers are checked against the document as every other
	// answer of the tests (TestMain).
	checkAnswer(t, e.Env, method, "/hma"+path, &apptest.Response{Status: resp.StatusCode, Header: resp.Header, Raw: raw})
	return resp.StatusCode, v
}

// hmaFile is a multipart/form-data body with one file in the field name, as
// HMA's hash_media_from_form_data reads it ("Each file in a
// multipart/form-data body has a name as well as a filename ... We will
// require that the field name is one of the supported content types").
func hmaFile(t *testing.T, files ...string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(files); i += 2 {
		f, err := w.CreateFormFile(files[i], "upload.bin")
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte(files[i+1]))
	}
	w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

func asJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestHMACompatibleAPI drives the HMA-compatible routes with requests
// written from HMA's code and docs (facebook/ThreatExchange,
// hasher-matcher-actioner/src/OpenMediaMatch/blueprints/matching.py and
// hashing.py at the commit docs/hashmatch.md pins, and its tests
// test_match_api.py), and checks the answers' shapes and the matches, on
// banks published through custos's own API.
func TestHMACompatibleAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		known, other := e.Bank(t, "Known images"), e.Bank(t, "Other list")
		img := apptest.BlocksPNG(t, 7)
		ih, err := hashmatch.HashImage(bytes.NewReader(img), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		frames := func(first, n int) []any {
			out := make([]any, n)
			for i := range out {
				out[i] = map[string]any{"pdq": apptest.PDQHex(first + i), "quality": 90, "seconds": float64(i)}
			}
			return out
		}
		const videoMD5 = "0123456789abcdef0123456789abcdef"
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+known+"/versions", e.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-1", "pdq": apptest.PDQHex(1), "classification": "A1"},
			map[string]any{"entry_id": "photo-7", "pdq": ih.PDQ.String(), "classification": "A1"},
			map[string]any{"entry_id": "vid-1", "md5": videoMD5, "classification": "B1", "video": map[string]any{"frames": frames(100, 10)}},
		}})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+other+"/versions", e.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "x-1", "pdq": flipBits(t, apptest.PDQHex(1), 10), "classification": "A2"},
		}})
		e.Subscribe(t, known)
		e.Subscribe(t, other)
		before := logLen(t, e)

		// x-1 is img-1 with its first 10 bits flipped: 7 bits from img-1 with its
		// first 3 flipped.
		// raw_lookup: "query_str = {"signal": sig_str, "signal_type": sig_name};
		// resp = client.get("/m/raw_lookup", query_string=query_str)" and then
		// "query_str["include_distance"] = True" (test_match_api.py).
		q := url.Values{"signal": {flipBits(t, apptest.PDQHex(1), 3)}, "signal_type": {"pdq"}}
		status, got := hmaGet(t, e, "/m/raw_lookup", e.Service, q)
		want := map[string]any{"matches": []any{contentID(known, "img-1"), contentID(other, "x-1")}}
		if status != 200 || !reflect.DeepEqual(got, want) {
			t.Errorf("raw_lookup: %d %s, want %s", status, asJSON(got), asJSON(want))
		}
		q.Set("include_distance", "True") // what requests sends for Python's True
		status, got = hmaGet(t, e, "/m/raw_lookup", e.Service, q)
		want = map[string]any{"matches": []any{
			map[string]any{"bank_content_id": contentID(known, "img-1"), "distance": "3"},
			map[string]any{"bank_content_id": contentID(other, "x-1"), "distance": "7"}}}
		if status != 200 || !reflect.DeepEqual(got, want) {
			t.Errorf("raw_lookup with distance: %d %s, want %s", status, asJSON(got), asJSON(want))
		}
		// "banks: Comma-separated list of banks to search" (schemas/matching.py).
		q.Set("banks", other)
		if _, got = hmaGet(t, e, "/m/raw_lookup", e.Service, q); asJSON(got) != asJSON(map[string]any{"matches": []any{
			map[string]any{"bank_content_id": contentID(other, "x-1"), "distance": "7"}}}) {
			t.Errorf("raw_lookup in one bank: %s", asJSON(got))
		}

		// lookup: "Example output (with signal type set) {"BANK_A": [{"bank_content_id":
		// 1001, "distance": 4}, ...], "BANK_B": [...]}" (matching.py, lookup_get).
		status, got = hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {flipBits(t, apptest.PDQHex(1), 3)}, "signal_type": {"pdq"}})
		want = map[string]any{
			known: []any{map[string]any{"bank_content_id": contentID(known, "img-1"), "distance": "3"}},
			other: []any{map[string]any{"bank_content_id": contentID(other, "x-1"), "distance": "7"}}}
		if status != 200 || !reflect.DeepEqual(got, want) {
			t.Errorf("lookup: %d %s, want %s", status, asJSON(got), asJSON(want))
		}
		if _, got = hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {apptest.PDQHex(55)}, "signal_type": {"pdq"}}); asJSON(got) != "{}" {
			t.Errorf("lookup of an unlisted hash: %s, want {}", asJSON(got))
		}
		// A vPDQ signal is vpdq_to_json's list of "hex,quality,timestamp"
		// (vpdq_util.py): 8 frames, 6 of them frames of vid-1, is 75% of the
		// query, short of VPDQ_QUERY_MATCH_THRESHOLD_PERCENT (80); 8 of 10 frames
		// all of vid-1 match, 100% of the query and 80% of the entry's frames.
		vsig := func(hashes ...string) string {
			items := make([]string, len(hashes))
			for i, h := range hashes {
				items[i] = fmt.Sprintf("%s,90,%.1f", h, float64(i))
			}
			b, _ := json.Marshal(items)
			return string(b)
		}
		var part, whole []string
		for i := range 8 {
			whole = append(whole, flipBits(t, apptest.PDQHex(101+i), 5))
			if i < 6 {
				part = append(part, whole[i])
			} else {
				part = append(part, apptest.PDQHex(300+i))
			}
		}
		if _, got = hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {vsig(part...)}, "signal_type": {"vpdq"}}); asJSON(got) != "{}" {
			t.Errorf("vpdq lookup at 75%%: %s, want {}", asJSON(got))
		}
		_, got = hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {vsig(whole...)}, "signal_type": {"vpdq"}})
		if want := map[string]any{known: []any{map[string]any{"bank_content_id": contentID(known, "vid-1"), "distance": "100%[80%]"}}}; !reflect.DeepEqual(got, want) {
			t.Errorf("vpdq lookup: %s, want %s", asJSON(got), asJSON(want))
		}
		_, got = hmaGet(t, e, "/m/lookup", e.Service, url.Values{"signal": {strings.ToUpper(videoMD5)}, "signal_type": {"video_md5"}})
		if want := map[string]any{known: []any{map[string]any{"bank_content_id": contentID(known, "vid-1"), "distance": "0"}}}; !reflect.DeepEqual(got, want) {
			t.Errorf("video_md5 lookup: %s, want %s", asJSON(got), asJSON(want))
		}

		// Refusals in HMA's shape, {"message": ...} (flask_utils.api_error_handler),
		// with custos's rule and field beside it.
		for _, c := range []struct {
			path   string
			q      url.Values
			status int
			msg    string
		}{
			{"/m/lookup", url.Values{"signal": {"abc"}, "signal_type": {"pdq"}}, 400, "invalid signal"},
			{"/m/lookup", url.Values{"signal": {apptest.PDQHex(1)}, "signal_type": {"tmk"}}, 400, "No such SignalType 'tmk'"},
			{"/m/lookup", url.Values{"signal_type": {"pdq"}}, 400, "Either url or both signal and signal_type are required"},
			{"/m/raw_lookup", url.Values{"signal_type": {"pdq"}}, 422, "signal is required"},
			{"/m/index/status", url.Values{"signal_type": {"tmk"}}, 400, "No such signal type 'tmk'"},
			// Outside text is repeated through errs.Echo: cut, its
			// control characters escaped.
			{"/m/lookup", url.Values{"signal": {apptest.PDQHex(1)}, "signal_type": {"x'\n" + strings.Repeat("y", 200)}}, 400, `No such SignalType 'x'\n` + strings.Repeat("y", 61) + `…'`},
			{"/m/index/status", url.Values{"signal_type": {"x'\n" + strings.Repeat("y", 200)}}, 400, `No such signal type 'x'\n` + strings.Repeat("y", 61) + `…'`},
			// The variants that fetch a URL answer as an HMA without the hasher role.
			{"/m/lookup", url.Values{"url": {"https://example.org/a.jpg"}}, 403, "Hashing is disabled, missing role"},
			{"/h/hash", url.Values{"url": {"https://example.org/a.jpg"}}, 403, "Hashing is disabled, missing role"},
		} {
			status, got := hmaGet(t, e, c.path, e.Service, c.q)
			m, _ := got.(map[string]any)
			msg, _ := m["message"].(string)
			if status != c.status || !strings.Contains(msg, c.msg) || m["rule"] == nil || m["rule"] == "" {
				t.Errorf("%s?%s: %d %s, want %d with message %q", c.path, c.q.Encode(), status, asJSON(got), c.status, c.msg)
			}
		}

		// compare: "Example input: {"pdq": ["facd8b...", "facd8b..."]}" ->
		// {"pdq": [true, {"distance": 9}]} (matching.py, compare).
		pair := func(body string) (int, string) {
			status, got := hmaSend(t, e, "POST", "/m/compare", e.Service, "application/json", []byte(body))
			return status, asJSON(got)
		}
		a := apptest.PDQHex(1)
		if status, got := pair(asJSON(map[string]any{"pdq": []string{a, flipBits(t, a, 9)}})); status != 200 || got != `{"pdq":[true,{"distance":9}]}` {
			t.Errorf("compare: %d %s", status, got)
		}
		if _, got := pair(asJSON(map[string]any{"pdq": []string{a, flipBits(t, a, 40)}, "video_md5": []string{videoMD5, videoMD5}})); got != `{"pdq":[false,{"distance":40}],"video_md5":[true,{}]}` {
			t.Errorf("compare two types: %s", got)
		}
		if _, got := pair(asJSON(map[string]any{"vpdq": []string{vsig(whole...), vsig(whole[:6]...)}})); got != `{"vpdq":[true,{"compared_match_percent":100,"query_match_percent":75}]}` {
			t.Errorf("compare vpdq: %s", got)
		}
		if status, got := pair(`{"pdq": ["` + a + `"]}`); status != 400 || got != `{"field":"pdq","message":"Comparison hash list length must be exactly 2","rule":"hma"}` {
			t.Errorf("compare of one hash: %d %s", status, got)
		}
		if status, got := pair(`["` + a + `"]`); status != 400 || got != `{"message":"Request input was not a dict","rule":"hma"}` {
			t.Errorf("compare of a list: %d %s", status, got)
		}
		// What encoding/json takes silently is refused, as on custos's own
		// routes: a signal type given twice (the last pair compared
		// before), a key that is not UTF-8.
		if status, got := pair(`{"pdq":["` + a + `","` + a + `"],"pdq":["` + a + `","` + flipBits(t, a, 90) + `"]}`); status != 400 || got != `{"field":"pdq","message":"the key \"pdq\" is given twice in one object","rule":"duplicate_key"}` {
			t.Errorf("compare of pdq twice: %d %s", status, got)
		}
		if status, got := pair("{\"pdq\xff\":[\"" + a + "\",\"" + a + "\"]}"); status != 400 || !strings.Contains(got, `"rule":"utf8"`) {
			t.Errorf("compare of a key not UTF-8: %d %s", status, got)
		}

		// index/status: "Example Output: {"pdq": {"built_to": -1, "present":
		// false, "size": 0}, "video_md5": {"built_to": 1700146048, "present":
		// true, "size": 591}}" (matching.py, index_status).
		status, got = hmaGet(t, e, "/m/index/status", e.Service, nil)
		st, _ := got.(map[string]any)
		for typ, size := range map[string]float64{"pdq": 3, "vpdq": 1, "video_md5": 1} {
			s, _ := st[typ].(map[string]any)
			if status != 200 || len(s) != 3 || s["present"] != true || s["size"] != size || s["built_to"].(float64) < 1.7e9 {
				t.Errorf("index status of %s: %s", typ, asJSON(s))
			}
		}
		if status, got = hmaGet(t, e, "/m/index/status", e.OtherReviewer, nil); status != 403 {
			t.Errorf("index status for a reviewer: %d %s", status, asJSON(got))
		}

		// hash: one file whose field name is the content type (hashing.py).
		ct, body := hmaFile(t, "photo", string(img))
		status, got = hmaSend(t, e, "POST", "/h/hash", e.Service, ct, body)
		if want := map[string]any{"pdq": ih.PDQ.String()}; status != 200 || !reflect.DeepEqual(got, want) {
			t.Errorf("hash a photo: %d %s, want %s", status, asJSON(got), asJSON(want))
		}
		ct, body = hmaFile(t, "video", "not really a video")
		status, got = hmaSend(t, e, "POST", "/h/hash?types=video_md5", e.Service, ct, body)
		if status != 200 || asJSON(got) != `{"video_md5":"`+fmt.Sprintf("%x", md5sum("not really a video"))+`"}` {
			t.Errorf("hash a video's md5: %d %s", status, asJSON(got))
		}
		// Each refusal of the upload names its field: the files, their
		// content type (the field name), the body's Content-Type.
		for _, c := range []struct {
			files []string
			ct    string
			field string
		}{
			{[]string{"photo", string(img), "photo", string(img)}, "", "files"},
			{[]string{"photo", string(img), "video", "x"}, "", "files"},
			{[]string{"pdf", "x"}, "", "content_type"},
			{nil, "", "files"},
			{[]string{"photo", string(img)}, "application/octet-stream", "Content-Type"},
		} {
			ct, body := hmaFile(t, c.files...)
			if c.ct != "" {
				ct = c.ct
			}
			if status, got := hmaSend(t, e, "POST", "/h/hash", e.Service, ct, body); status != 400 || got.(map[string]any)["field"] != c.field {
				t.Errorf("hash %d files as %s: %d %s, want 400 at %s", len(c.files)/2, ct, status, asJSON(got), c.field)
			}
		}
		// A file cut short (its part never ended) is the request's fault.
		cut := []byte("--xyz\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a\"\r\n\r\nabc")
		for _, path := range []string{"/h/hash", "/m/lookup"} {
			if status, got := hmaSend(t, e, "POST", path, e.Service, "multipart/form-data; boundary=xyz", cut); status != 400 {
				t.Errorf("%s of a file cut short: %d %s, want 400", path, status, asJSON(got))
			}
		}
		// A photo that cannot be hashed names the file's field, as
		// custos's own upload routes name theirs (image, files[N]):
		// before, the refusal had a rule and no field.
		for _, c := range []struct {
			photo  []byte
			status int
			rule   string
		}{
			{[]byte("PK\x03\x04 a zip, not a photo"), 400, "image"},
			{pngClaiming(t, 60000, 60000), 413, "image_pixels"},
		} {
			for _, path := range []string{"/h/hash", "/m/lookup"} {
				ct, body := hmaFile(t, "photo", string(c.photo))
				status, got := hmaSend(t, e, "POST", path, e.Service, ct, body)
				if m, _ := got.(map[string]any); status != c.status || m["rule"] != c.rule || m["field"] != "photo" {
					t.Errorf("%s of %.12q: %d %s, want %d rule %s field photo", path, c.photo, status, asJSON(got), c.status, c.rule)
				}
			}
		}
		// lookup of an upload: {signal_type: {bank: [...]}} (lookup_post).
		ct, body = hmaFile(t, "photo", string(img))
		status, got = hmaSend(t, e, "POST", "/m/lookup", e.Service, ct, body)
		if want := map[string]any{"pdq": map[string]any{known: []any{map[string]any{"bank_content_id": contentID(known, "photo-7"), "distance": "0"}}}}; status != 200 || !reflect.DeepEqual(got, want) {
			t.Errorf("lookup an upload: %d %s, want %s", status, asJSON(got), asJSON(want))
		}

		// custos tokens: none is refused. A lookup that matched opened a
		// case for review, as custos's match does (the upload's matches one
		// case); raw lookups, lookups that matched nothing, hashing and
		// comparing stored nothing.
		if r := e.Do(t, "GET", "/hma/m/index/status", "", nil); r.Status != 401 {
			t.Errorf("no token: %d", r.Status)
		}
		r := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases", e.Service, nil)
		var opened []string
		cs, _ := r.Body["cases"].([]any)
		for _, c := range cs {
			m := c.(map[string]any)
			opened = append(opened, m["source"].(string)+":"+m["best_entry_id"].(string))
		}
		sort.Strings(opened)
		if got := strings.Join(opened, " "); got != "hash:img-1 upload:photo-7 video:vid-1 video:vid-1" {
			t.Errorf("HMA lookups opened cases %s", got)
		}
		if n := logLen(t, e); n != before+len(cs) {
			t.Errorf("HMA routes logged %d entries, want one a case (%d)", n-before, len(cs))
		}
	})
}

func md5sum(s string) [16]byte { return md5.Sum([]byte(s)) }

// pngClaiming is a PNG of a few dozen bytes whose header claims w x h
// pixels: a decompression bomb's header, with no pixel data.
func pngClaiming(t *testing.T, w, h uint32) []byte {
	t.Helper()
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	out := []byte("\x89PNG\r\n\x1a\n")
	out = binary.BigEndian.AppendUint32(out, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	out = append(out, chunk...)
	return binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(chunk))
}
