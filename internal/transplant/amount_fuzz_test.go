package transplant_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/transplant"
)

// FuzzParseAmount: an amount typed by a coordinator is accepted only as a
// positive decimal with at most three places, kept exactly as its digits
// say; anything else is refused with rule amount on the field.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"1250.40", "0.1", "3000", "0", "-5", "1e3", "1E-2", "+4", "12.3456", ".5", "5.", "1_000", " 7 ", "NaN", "Inf",
		"0.000", "0.001", "999999999999999", "9999999999999999", "١٢٣", "1.2.3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := transplant.ParseAmount("amount", s)
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Rule != "amount" || e.Field != "amount" {
				t.Fatalf("%q: refused with %v", s, err)
			}
			return
		}
		if !d.IsPositive() || -d.Exponent() > 3 && !d.Equal(d.Truncate(3)) {
			t.Fatalf("%q accepted as %s", s, d)
		}
		if strings.ContainsAny(s, "eE+-") {
			t.Fatalf("%q accepted with an exponent or a sign", s)
		}
		again, err := transplant.ParseAmount("amount", d.StringFixed(max(0, -d.Exponent())))
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q: %s does not read back: %v, %v", s, d, again, err)
		}
	})
}
