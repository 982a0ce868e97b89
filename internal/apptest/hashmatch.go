package apptest

import (
	"bytes"
	"image"
	"image/png"
	"math/rand/v2"
	"testing"

	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/server"
)

// HashmatchWorld is a registry ready for hash matching, its parties created
// through the API as a user would: two competent authorities with an analyst
// each, two service providers (each with a service principal and a
// reviewer) and a regulator.
type HashmatchWorld struct {
	*Env
	Authority, Other, Provider, OtherProvider string            // authority ids
	Analyst, OtherAnalyst                     string            // tokens of the authorities' analysts
	Service, Reviewer                         string            // tokens of the first provider's principals
	OtherService, OtherReviewer               string            // tokens of the second provider's principals
	Regulator                                 string            // token
	Names                                     map[string]string // the authorities' names, by id, as pages show them
}

// NewHashmatchWorld builds a HashmatchWorld on a fresh registry whose hash
// matching is configured by hc (zero fields take the defaults).
func NewHashmatchWorld(t testing.TB, dsn string, hc hashmatch.Config) *HashmatchWorld {
	t.Helper()
	return NewHashmatchWorldWith(t, dsn, func(cfg *server.Config) { cfg.Hashmatch = hc })
}

// NewHashmatchWorldWith builds a HashmatchWorld on a fresh registry
// configured by set (a clock, hash matching's configuration).
func NewHashmatchWorldWith(t testing.TB, dsn string, set func(*server.Config)) *HashmatchWorld {
	t.Helper()
	return HashmatchParties(t, StartWith(t, dsn, set))
}

// HashmatchParties creates the parties of a HashmatchWorld on e, a
// registry started for other tests too, and returns that world.
func HashmatchParties(t testing.TB, e *Env) *HashmatchWorld {
	t.Helper()
	w := &HashmatchWorld{Env: e, Names: map[string]string{}}
	authority := func(name, kind string) string {
		id := e.Must(t, 201, "POST", "/api/v1/hashmatch/authorities", e.Admin, map[string]any{"name": name, "kind": kind}).Str("id")
		w.Names[id] = name
		return id
	}
	principal := func(name, role, authority string) string {
		return e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": name, "role": role, "authority_id": authority}).Str("token")
	}
	w.Authority, w.Other = authority("National Child Protection Hotline", "competent_authority"), authority("Other hotline", "competent_authority")
	w.Provider, w.OtherProvider = authority("Photo Sharing Service", "service_provider"), authority("Other service", "service_provider")
	w.Analyst, w.OtherAnalyst = principal("Analyst", "analyst", w.Authority), principal("Other analyst", "analyst", w.Other)
	w.Service, w.Reviewer = principal("Upload pipeline", "service", w.Provider), principal("Trust and safety reviewer", "reviewer", w.Provider)
	w.OtherService, w.OtherReviewer = principal("Other pipeline", "service", w.OtherProvider), principal("Other reviewer", "reviewer", w.OtherProvider)
	w.Regulator = principal("Regulator", "regulator", e.Must(t, 200, "GET", "/api/v1/me", e.Admin, nil).Str("authority_id"))
	return w
}

// Bank creates a known-content bank of the first authority, as its analyst,
// and returns its id.
func (w *HashmatchWorld) Bank(t testing.TB, name string) string {
	t.Helper()
	return w.Must(t, 201, "POST", "/api/v1/hashmatch/banks", w.Analyst, map[string]any{"name": name}).Str("id")
}

// Subscribe subscribes the first provider's service to bank.
func (w *HashmatchWorld) Subscribe(t testing.TB, bank string) {
	t.Helper()
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", w.Service, nil)
}

// SubscribeOther subscribes the second provider's service to bank.
func (w *HashmatchWorld) SubscribeOther(t testing.TB, bank string) {
	t.Helper()
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/subscriptions", w.OtherService, nil)
}

// SubscribedBank creates a bank named name, publishes a version of it that
// adds the entry img-1 (PDQHex(1), classification A1), subscribes the
// first provider's service to it and returns its id: the bank one lookup
// of PDQHex(1) matches.
func (w *HashmatchWorld) SubscribedBank(t testing.TB, name string) string {
	t.Helper()
	bank := w.Bank(t, name)
	w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, map[string]any{"adds": []any{
		map[string]any{"entry_id": "img-1", "pdq": PDQHex(1), "classification": "A1"}}})
	w.Subscribe(t, bank)
	return bank
}

// BlocksPNG is a synthetic 256x256 PNG of 16x16 blocks of grey levels drawn
// from seed: detailed enough for a high PDQ quality, and far from another
// seed's. Its PDQ hash is what hashmatch.HashImage gives.
func BlocksPNG(t testing.TB, seed uint64) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed^0x5DEECE66D))
	img := image.NewGray(image.Rect(0, 0, 256, 256))
	for by := range 16 {
		for bx := range 16 {
			g := uint8(rng.IntN(256))
			for y := by * 16; y < by*16+16; y++ {
				for x := bx * 16; x < bx*16+16; x++ {
					img.Pix[y*img.Stride+x] = g
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
