package assets

import (
	"regexp"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
)

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	languageRE = regexp.MustCompile(`^[a-z]{2}$`)
	amountRE   = regexp.MustCompile(`^[0-9]{1,18}(\.[0-9]{1,8})?$`)
)

// country refuses a value that is not an ISO 3166-1 alpha-2 code (rule
// country).
func country(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !auth.ValidCountry(s) {
		return "", errs.Invalidf("country", field, "%s must be a country code of two capital letters (ISO 3166-1)", field)
	}
	return s, nil
}

// currency refuses a value that is not an ISO 4217 code (rule currency).
func currency(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !currencyRE.MatchString(s) {
		return "", errs.Invalidf("currency", field, "%s must be a currency code of three capital letters (ISO 4217)", field)
	}
	return s, nil
}

// amount reads an exact, positive decimal written with digits and at most
// one point ("1250000.50"): no sign, exponent or thousands separator (rule
// amount), and returns it in its shortest form.
func amount(field, s string) (decimal.Decimal, error) {
	s = strings.TrimSpace(s)
	if !amountRE.MatchString(s) {
		return decimal.Decimal{}, errs.Invalidf("amount", field, "%s must be an amount written with digits and a decimal point, at most 8 decimals (1250000.50)", field)
	}
	d, err := decimal.NewFromString(s)
	if err != nil || !d.IsPositive() {
		return decimal.Decimal{}, errs.Invalidf("amount", field, "%s must be more than zero", field)
	}
	return d, nil
}

// list reads a list written with spaces, commas or semicolons between its
// items, keeping each once.
func list(s string) []string {
	out := []string{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == ';' }) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
