package httpapi_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchImageDecodeMemory: an image whose decode alone would take
// more memory than the server's decode budget is refused by its header
// (413, rule image_memory, field image), on the upload routes and HMA's,
// however few bytes it has and however few pixels it declares: here the
// 34 bytes of headers of a progressive JPEG of 10000x10000 full-resolution
// colour, 100 megapixels (the pixel limit) that image/jpeg would decode
// into about 1.5 GB. Its sequential twin, a fifth of that, fits the default
// budget of 1 GiB and is decoded (and refused as cut short).
func TestHashmatchImageDecodeMemory(t *testing.T) {
	jpegHeaders := func(sof byte) []byte {
		return []byte{0xff, 0xd8, 0xff, sof, 0, 17, 8, 0x27, 0x10, 0x27, 0x10, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
			0xff, 0xda, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 0}
	}
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{})
	r := e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/jpeg", jpegHeaders(0xc2))
	if r.Status != 413 || r.Str("error.code") != "too_large" || errField(r) != "image_memory image" ||
		!strings.Contains(r.Str("error.message"), "(jpeg 10000x10000), limit 896 MiB") {
		t.Errorf("progressive: %d %s, want 413 too_large image_memory", r.Status, r.Raw)
	}
	ct, body := hmaFile(t, "photo", string(jpegHeaders(0xc2)))
	if status, got := hmaSend(t, e, "POST", "/h/hash", e.Service, ct, body); status != 413 {
		t.Errorf("HMA h/hash, progressive: %d %s, want 413", status, asJSON(got))
	}
	r = e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/jpeg", jpegHeaders(0xc0))
	if r.Status != 422 || errField(r) != "image image" {
		t.Errorf("sequential: %d %s, want 422 image (cut short)", r.Status, r.Raw)
	}

	// A smaller budget refuses smaller images: with 8 MiB, any image, whose
	// hashing alone takes 8 MiB beside its pixels.
	e = apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{DecodeBudget: 8 << 20})
	r = e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", apptest.BlocksPNG(t, 1))
	if r.Status != 413 || errField(r) != "image_memory image" {
		t.Errorf("8 MiB budget: %d %s, want 413 image_memory", r.Status, r.Raw)
	}
}
