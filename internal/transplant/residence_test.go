package transplant_test

import (
	"context"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
)

// TestRecipientResidenceAnyCase checks, through the API on both engines,
// that a recipient's country of residence is read as the registry's other
// countries are (a treatment abroad's, an export's): in any case, with
// spaces around it, and kept in capitals. "xa" was refused iso3166 while
// the same person's treatment abroad took it.
func TestRecipientResidenceAnyCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		in := apptest.Recipient(w.CentreA, "kidney")
		in["residence"] = " xa "
		r := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, in)
		if got := r.Str("residence"); got != "XA" {
			t.Errorf("residence %q, want XA", got)
		}
		in = apptest.Recipient(w.CentreA, "kidney")
		in["residence"] = "X1"
		r = w.Must(t, 422, "POST", "/api/v1/transplant/recipients", w.CoordA, in)
		if r.Str("error.rule") != "iso3166" || r.Str("error.field") != "residence" {
			t.Errorf("residence X1: %s; want iso3166 at residence", r.Raw)
		}
	})
}

// TestRecipientResidenceKnown checks, through the API on both engines, the
// codes a residence takes as the rest of custos takes them (check.RealState,
// docs/assets.md): one ISO 3166-1 assigns (XK as the EU and UN use it), or
// another user-assigned one that a deployment names a state of its own with
// (the demo's Demoland is XA, QQ here), but not ZZ, the unknown state, nor
// a code that names nothing (AB): ZZ was taken, and the trafficking
// screening read the recipient as resident abroad. A treatment abroad's
// country, which takes no unknown either, refuses ZZ likewise.
func TestRecipientResidenceKnown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		for code, rule := range map[string]string{"FR": "", "XK": "", "QQ": "", "zz": "known_state", "ZZ": "known_state", "AB": "iso3166"} {
			in := apptest.Recipient(w.CentreA, "kidney")
			in["residence"] = code
			r := w.Do(t, "POST", "/api/v1/transplant/recipients", w.CoordA, in)
			switch {
			case rule == "" && r.Status != 201:
				t.Errorf("residence %s: status %d, want 201: %s", code, r.Status, r.Raw)
			case rule != "" && (r.Status != 422 || r.Str("error.rule") != rule || r.Str("error.field") != "residence"):
				t.Errorf("residence %s: %d %s; want 422 %s at residence", code, r.Status, r.Raw, rule)
			}
		}
		in := abroadIn(w.CentreA, 100)
		in.Country = "ZZ"
		_, err := w.App.Transplant.RecordAbroad(context.Background(), w.Principal(t, w.CoordA), in)
		if e, ok := errs.As(err); !ok || e.Rule != "known_state" || e.Field != "country" {
			t.Errorf("a treatment abroad in ZZ: %v; want known_state at country", err)
		}
	})
}
