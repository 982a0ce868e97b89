package httpapi_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"mime/multipart"
	"net/textproto"
	"runtime"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/storetest"
)

// blocks is a synthetic 256x256 picture of 16x16 blocks of grey levels drawn
// from seed: detailed enough for a high PDQ quality, and far from another
// seed's.
func blocks(seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, seed^0x5DEECE66D))
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for by := 0; by < 16; by++ {
		for bx := 0; bx < 16; bx++ {
			g := uint8(rng.IntN(256))
			for y := by * 16; y < by*16+16; y++ {
				for x := bx * 16; x < bx*16+16; x++ {
					img.Set(x, y, color.RGBA{g, g, g, 255})
				}
			}
		}
	}
	return img
}

// noise is a w x h picture of random pixels: a PNG that hardly compresses.
func noise(seed uint64, w, h int) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.IntN(256))
	}
	return img
}

func rotate90(src *image.RGBA) *image.RGBA {
	b := src.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dy(), b.Dx()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(b.Dy()-1-y, x, src.At(x, y))
		}
	}
	return out
}

func encodePNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pdqOf(t *testing.T, b []byte) string {
	t.Helper()
	h, err := hashmatch.HashImage(bytes.NewReader(b), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return h.PDQ.String()
}

// part is one part of a batch upload: its form name, bytes and headers
// (name, value, ...).
type part struct {
	name    string
	body    []byte
	headers []string
}

func file(body []byte, headers ...string) part { return part{"files", body, headers} }

// batch encodes parts as a multipart/form-data body.
func batch(t *testing.T, parts ...part) (body []byte, contentType string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i, p := range parts {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename="f%d"`, p.name, i))
		h.Set("Content-Type", "application/octet-stream")
		for j := 0; j+1 < len(p.headers); j += 2 {
			h.Set(p.headers[j], p.headers[j+1])
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// TestHashmatchImageBatch: a batch upload answers one result per part in
// order: matches (rotated copies too) open cases with their part's fields,
// other parts leave no trace, and a part that cannot be hashed gets its own
// error naming it. A batch refused as a whole (malformed, too many parts,
// too large, wrong role) opens no case, even for the images before the fault.
func TestHashmatchImageBatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{MaxUpload: 200 << 10, MaxBatchUpload: 1 << 20})
		validate := openAPIValidator(t, e.Env)
		a, b := encodePNG(t, blocks(1)), encodePNG(t, blocks(2))
		bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Known"}).Str("id")
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": []any{
			map[string]any{"entry_id": "img-a", "pdq": pdqOf(t, a), "classification": "A1"},
			map[string]any{"entry_id": "img-b", "pdq": pdqOf(t, b), "classification": "B2"}}})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
		post := func(token string, body []byte, ct string) *apptest.Response {
			t.Helper()
			return e.Upload(t, "/api/v1/hashmatch/match/images", token, ct, body)
		}
		cases := func() int {
			t.Helper()
			return len(e.Must(t, 200, "GET", "/api/v1/hashmatch/cases", e.Reviewer, nil).Body["cases"].([]any))
		}

		aJPEG := encodeJPEG(t, blocks(1))
		big := encodePNG(t, noise(9, 300, 300))
		if len(big) <= 200<<10 {
			t.Fatalf("the big image has only %d bytes", len(big))
		}
		body, ct := batch(t,
			file(aJPEG, "Custos-Content-Ref", "up/0", "Custos-User-Id", "alice", "Custos-Uploaded-At", "2025-03-01T10:00:00Z"),
			file(encodePNG(t, blocks(3))), // unrelated
			file([]byte("this is not an image")),
			file(encodePNG(t, rotate90(blocks(2))), "Custos-Content-Ref", "up/3"), // a rotated copy of b
			file(big),
			file(a, "Custos-Uploaded-At", "yesterday"),
			file(encodePNG(t, image.NewGray(image.Rect(0, 0, 64, 64)))), // flat
		)
		size := logLen(t, e)
		r := post(e.Service, body, ct)
		if r.Status != 200 {
			t.Fatalf("batch: %d %s", r.Status, r.Raw)
		}
		validate("POST", "/api/v1/hashmatch/match/images", "response", r.Body)
		rs := results(t, r)
		want := []string{"match", "no_match", "error", "match", "error", "error", "low_quality"}
		if len(rs) != len(want) {
			t.Fatalf("%d results for %d parts: %s", len(rs), len(want), r.Raw)
		}
		for i, w := range want {
			if rs[i]["status"] != w {
				t.Errorf("part %d: %v, want %s", i, rs[i], w)
			}
		}
		for i, w := range map[int]string{2: "invalid image files[2]", 4: "too_large image_size files[4]", 5: "invalid rfc3339 files[5].uploaded_at"} {
			e, _ := rs[i]["error"].(map[string]any)
			if got := fmt.Sprint(e["code"], " ", e["rule"], " ", e["field"]); got != w {
				t.Errorf("part %d: error %v, want %s", i, rs[i]["error"], w)
			}
		}
		if m := rs[3]["matches"].([]any)[0].(map[string]any); m["entry_id"] != "img-b" {
			t.Errorf("the rotated copy matched %v", m)
		}
		for i, x := range rs {
			if _, has := x["case_id"]; has != (x["status"] == "match") {
				t.Errorf("part %d: case %v with status %v", i, x["case_id"], x["status"])
			}
		}
		if got := logLen(t, e); got != size+2 {
			t.Errorf("the log grew by %d, want 2 (one case per match)", got-size)
		}
		// The case carries its own part's fields, as a single upload's does.
		c := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+rs[0]["case_id"].(string), e.Reviewer, nil)
		sum := md5.Sum(aJPEG)
		if c.Str("source") != "upload" || c.Str("content_ref") != "up/0" || c.Str("user_pseudonym") == "" ||
			c.Str("uploaded_at") != "2025-03-01T10:00:00.000000Z" || c.Str("md5") != hex.EncodeToString(sum[:]) || c.Str("best_entry_id") != "img-a" {
			t.Errorf("case of part 0: %s", c.Raw)
		}
		if c := e.Must(t, 200, "GET", "/api/v1/hashmatch/cases/"+rs[3]["case_id"].(string), e.Reviewer, nil); c.Str("content_ref") != "up/3" || c.Str("user_pseudonym") != "" {
			t.Errorf("case of part 3: %s", c.Raw)
		}
		// The single upload hashes and matches the same way.
		one := e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/jpeg", aJPEG)
		if one.Str("pdq") != rs[0]["pdq"] || one.Body["quality"] != rs[0]["quality"] || fmt.Sprint(one.Body["matches"]) != fmt.Sprint(rs[0]["matches"]) {
			t.Errorf("single upload %s, in a batch %v", one.Raw, rs[0])
		}

		// Refusals of the whole batch: each names its rule, and none opens
		// a case for the matching image before the fault.
		size, open := logLen(t, e), cases()
		good, gct := batch(t, file(aJPEG))
		var many []part
		for range hashmatch.MaxImageBatch {
			many = append(many, file([]byte("x")))
		}
		tooMany, mct := batch(t, append([]part{file(aJPEG)}, many...)...)
		huge := []part{file(aJPEG)}
		for i := range 8 {
			huge = append(huge, file(bytes.Repeat([]byte{byte(i)}, 150_000)))
		}
		hugeBody, hct := batch(t, huge...)
		named, nct := batch(t, file(aJPEG), part{"image", aJPEG, nil})
		empty, ect := batch(t)
		// A file name holding a control character: Go's reader refuses the
		// header line, and the refusal (the web UI's, check.PartHeader) does
		// not repeat it; nor a header line malformed otherwise, without a
		// colon.
		ctrl := append(append([]byte("--xyz\r\nContent-Disposition: form-data; name=\"files\"; filename=\"Jane Roe\x01.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"),
			aJPEG...), "\r\n--xyz--\r\n"...)
		noColon := append(append([]byte("--xyz\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.jpg\"\r\nphoto of Jane Roe\r\n\r\n"),
			aJPEG...), "\r\n--xyz--\r\n"...)
		for _, c := range []struct {
			name, token, ct string
			body            []byte
			status          int
			rule, field     string
		}{
			{"garbage", e.Service, "multipart/form-data; boundary=xyz", []byte("not multipart at all"), 400, "multipart", ""},
			{"cut short", e.Service, gct, good[:len(good)-40], 400, "multipart", ""},
			{"a file name with a control character", e.Service, "multipart/form-data; boundary=xyz", ctrl, 400, "part_header", "files"},
			{"a part header line without a colon", e.Service, "multipart/form-data; boundary=xyz", noColon, 400, "part_header", "files"},
			{"not multipart", e.Service, "image/png", a, 415, "content_type", "Content-Type"},
			{"no boundary", e.Service, "multipart/form-data", good, 415, "content_type", "Content-Type"},
			{"a part not named files", e.Service, nct, named, 400, "multipart", "image"},
			{"too many parts", e.Service, mct, tooMany, 422, "batch_size", "files"},
			{"no parts", e.Service, ect, empty, 422, "batch_size", "files"},
			{"over MaxBatchUpload", e.Service, hct, hugeBody, 413, "body_size", ""},
			{"a reviewer", e.Reviewer, gct, good, 403, "role", ""},
			{"an analyst", e.Analyst, gct, good, 403, "role", ""},
		} {
			r := post(c.token, c.body, c.ct)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s, want %d %s %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
			if bytes.Contains(r.Raw, []byte("Jane Roe")) {
				t.Errorf("%s: the refusal repeats the file name: %s", c.name, r.Raw)
			}
			if want := "the upload cannot be read: a part's header line is malformed (a file name with a control character does this); rename the file chosen for files and send it again"; c.rule == "part_header" && r.Str("error.message") != want {
				t.Errorf("%s: %q, want the web UI's refusal %q", c.name, r.Str("error.message"), want)
			}
		}
		if logLen(t, e) != size || cases() != open {
			t.Errorf("refused batches changed the registry: log %d -> %d, cases %d -> %d", size, logLen(t, e), open, cases())
		}
		// The same image alone goes through.
		if r := post(e.Service, good, gct); r.Status != 200 || results(t, r)[0]["status"] != "match" {
			t.Errorf("one image: %d %s", r.Status, r.Raw)
		}
	})
}

// TestOpenAPIImageBatch: the document describes the batch route's body as
// multipart/form-data parts named files with the upload headers, and the raw
// upload routes' bodies and headers.
func TestOpenAPIImageBatch(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	paths := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).Body["paths"].(map[string]any)
	op := func(path string) map[string]any { return paths[path].(map[string]any)["post"].(map[string]any) }
	content := op("/api/v1/hashmatch/match/images")["requestBody"].(map[string]any)["content"].(map[string]any)
	mp, ok := content["multipart/form-data"].(map[string]any)
	if !ok || len(content) != 1 {
		t.Fatalf("batch body: %v", content)
	}
	files := mp["schema"].(map[string]any)["properties"].(map[string]any)["files"].(map[string]any)
	headers := mp["encoding"].(map[string]any)["files"].(map[string]any)["headers"].(map[string]any)
	if files["maxItems"] != float64(hashmatch.MaxImageBatch) || len(headers) != 3 || headers["Custos-User-Id"] == nil {
		t.Errorf("batch body: %v", mp)
	}
	// The three upload headers, and the Idempotency-Key an upload takes.
	for _, path := range []string{"/api/v1/hashmatch/match/image", "/api/v1/hashmatch/match/video-file"} {
		o := op(path)
		var names []string
		for _, p := range o["parameters"].([]any) {
			names = append(names, p.(map[string]any)["name"].(string))
		}
		if _, json := o["requestBody"].(map[string]any)["content"].(map[string]any)["application/json"]; json || len(names) != 4 || !slices.Contains(names, httpapi.IdempotencyHeader) {
			t.Errorf("%s: %v", path, o)
		}
	}
}

// TestHashmatchImageBatchAllCores: a batch is hashed on every core and
// answers what it answers on one, part by part in order; each match names
// its own part's entry.
func TestHashmatchImageBatchAllCores(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		var adds []any
		var parts []part
		for i := range 12 {
			img := encodePNG(t, blocks(uint64(100+i)))
			if i%3 == 0 {
				adds = append(adds, map[string]any{"entry_id": fmt.Sprintf("img-%d", i), "pdq": pdqOf(t, img), "classification": "A1"})
			}
			if i == 5 {
				img = []byte("not an image")
			}
			parts = append(parts, file(img, "Custos-Content-Ref", fmt.Sprintf("up/%d", i)))
		}
		bank := e.Must(t, 201, "POST", "/api/v1/hashmatch/banks", e.Analyst, map[string]any{"name": "Known"}).Str("id")
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", e.Analyst, map[string]any{"adds": adds})
		e.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", e.Service, nil)
		body, ct := batch(t, parts...)
		post := func(procs int) []string {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			r := e.Upload(t, "/api/v1/hashmatch/match/images", e.Service, ct, body)
			if r.Status != 200 {
				t.Fatalf("batch: %d %s", r.Status, r.Raw)
			}
			var out []string
			for _, x := range results(t, r) {
				s := fmt.Sprint(x["status"])
				if ms, _ := x["matches"].([]any); len(ms) > 0 {
					m := ms[0].(map[string]any)
					s += fmt.Sprint(" ", m["entry_id"], " ", m["distance"])
				}
				if er, ok := x["error"].(map[string]any); ok {
					s += fmt.Sprint(" ", er["field"])
				}
				out = append(out, s)
			}
			return out
		}
		one, many := post(1), post(8)
		if !slices.Equal(one, many) {
			t.Fatalf("one core: %q\neight: %q", one, many)
		}
		for i, s := range one {
			want := "no_match"
			switch {
			case i == 5:
				want = "error files[5]"
			case i%3 == 0:
				want = fmt.Sprintf("match img-%d 0", i)
			}
			if s != want {
				t.Errorf("part %d: %s, want %s", i, s, want)
			}
		}
	})
}
