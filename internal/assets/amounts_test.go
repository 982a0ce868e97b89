package assets_test

import (
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/storetest"
)

// TestAmountsWrittenInTheirCurrency: an amount recorded in its shortest
// form (2500000 EUR, as a court order may be typed) is read back as its
// currency writes it, with the digits of its ISO 4217 minor unit (EUR two,
// JPY none, KWD three), from the command's answer and from the case file
// alike, so that a court file does not show 1000000.5 EUR where the order
// says 1000000.50.
func TestAmountsWrittenInTheirCurrency(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newWorld(t, dsn)
		c, err := w.S.OpenCase(ctx, w.Prosecutor, assets.NewCase{Reference: "AMOUNTS", Title: "Amounts as written",
			Kind: assets.CaseOutgoing, Offences: []string{"07032"}, OpenedOn: "2024-03-01"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{}
		for _, v := range []struct{ value, currency, want string }{
			{"2500000", "EUR", "2500000.00"},
			{"1000000.5", "EUR", "1000000.50"},
			{"1000", "JPY", "1000"},
			{"1.5", "KWD", "1.500"},
		} {
			a, err := w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "bank_account", Jurisdiction: "XB", Description: "Account",
				Value: v.value, Currency: v.currency, IdentifiedOn: "2024-03-10", Instrument: "Tracing order", Authority: "Asset Recovery Office"})
			if err != nil {
				t.Fatal(err)
			}
			if a.Value != v.want || a.Measures[0].Amount != v.want {
				t.Errorf("%s %s identified: value %q, measure %q, want %q", v.value, v.currency, a.Value, a.Measures[0].Amount, v.want)
			}
			want[a.ID] = v.want
			m := measure(assets.StepFrozen, "2024-04-01", v.value)
			m.Currency = v.currency
			got, err := w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, m)
			if err != nil {
				t.Fatal(err)
			}
			if got.Amount != v.want {
				t.Errorf("%s %s frozen: amount %q, want %q", v.value, v.currency, got.Amount, v.want)
			}
		}
		f, err := w.S.CaseFile(ctx, w.Prosecutor, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(f.Assets) != len(want) {
			t.Fatalf("the case file holds %d assets, want %d", len(f.Assets), len(want))
		}
		for _, a := range f.Assets {
			if a.Value != want[a.ID] {
				t.Errorf("case file: %s value %q, want %q", a.ID, a.Value, want[a.ID])
			}
			for _, m := range a.Measures {
				if m.Amount != want[a.ID] {
					t.Errorf("case file: %s step %s amount %q, want %q", a.ID, m.Step, m.Amount, want[a.ID])
				}
			}
		}
	})
}
