package httpapi_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestHashmatchRefusalsInLanguages: the registry's refusals are written in
// the request's Accept-Language, their code, rule and field as they are,
// the numbers of the image limits filled in.
func TestHashmatchRefusalsInLanguages(t *testing.T) {
	e := apptest.NewHashmatchWorld(t, storetest.SQLite(t), hashmatch.Config{MaxPixels: 10_000})
	refusal := func(r *apptest.Response) (code, rule, field, message string) {
		er, _ := r.Body["error"].(map[string]any)
		code, _ = er["code"].(string)
		rule, _ = er["rule"].(string)
		field, _ = er["field"].(string)
		message, _ = er["message"].(string)
		return
	}
	for lang, want := range map[string]string{
		"ru":    "threshold — расстояние Хэмминга от 0 до 64 (обычное значение PDQ — 31)",
		"fr-CA": "threshold est une distance de Hamming de 0 à 64 (la valeur habituelle de PDQ est 31)",
		"en":    "threshold is a Hamming distance from 0 to 64 (PDQ's usual value is 31)",
	} {
		r := e.Upload(t, "/api/v1/hashmatch/banks", e.Analyst, "application/json", []byte(`{"name":"Known","kind":"known","threshold":100}`),
			"Accept-Language", lang)
		if code, rule, field, msg := refusal(r); r.Status != 422 || code != "invalid" || rule != "range" || field != "threshold" || msg != want {
			t.Errorf("%s: %d %s %s %s %q, want 422 invalid range threshold %q", lang, r.Status, code, rule, field, msg, want)
		}
	}

	// An image of 256x256 pixels over a limit of 10,000: the sentence of
	// image_pixels, in Chinese.
	r := e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", apptest.BlocksPNG(t, 1), "Accept-Language", "zh")
	if code, rule, field, msg := refusal(r); r.Status != 413 || code != "too_large" || rule != "image_pixels" || field != "image" ||
		msg != "图像尺寸过大：png 256x256 共 65536 像素，上限为 10000" {
		t.Errorf("image_pixels in Chinese: %d %s %s %s %q", r.Status, code, rule, field, msg)
	}
	// Bytes that are no image: rule image, field image; a bad header
	// keeps its own field.
	r = e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", []byte("not an image"))
	if _, rule, field, _ := refusal(r); r.Status != 422 || rule != "image" || field != "image" {
		t.Errorf("not an image: %d %s", r.Status, r.Raw)
	}
	r = e.Upload(t, "/api/v1/hashmatch/match/image", e.Service, "image/png", apptest.BlocksPNG(t, 1), "Custos-Uploaded-At", "yesterday")
	if _, _, field, _ := refusal(r); field != "uploaded_at" {
		t.Errorf("bad header: %d %s", r.Status, r.Raw)
	}
}
