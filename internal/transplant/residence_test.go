package transplant_test

import (
	"testing"

	"github.com/custos-project/custos/internal/apptest"
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
