package assets

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	isocurrency "github.com/bojanz/currency"
	"github.com/shopspring/decimal"
	"golang.org/x/text/language"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
)

var (
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	languageRE = regexp.MustCompile(`^[a-z]{2}$`)
	// amountRE is an amount's one written form: digits without a leading
	// zero (a single 0 before the point), then at most a point and 1 to 8
	// digits; no space, sign, exponent or separator.
	amountRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,17})(\.[0-9]{1,8})?$`)
)

// noMinorUnit are the codes of ISO 4217's List One whose minor unit is
// "N.A.": precious metals (XAG, XAU, XPD, XPT), the bond market units (XBA
// to XBD), the SDR (XDR), the Sucre (XSU), the ADB unit of account (XUA),
// testing (XTS) and no currency (XXX). Every other code beginning with X
// that github.com/bojanz/currency does not know (XYZ, XQQ) is made up, not
// one of these.
var noMinorUnit = []string{"XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU", "XTS", "XUA", "XXX"}

// validLanguage tells whether s is an ISO 639-1 code: two small letters
// that name a language (zz names none).
func validLanguage(s string) bool {
	if !languageRE.MatchString(s) {
		return false
	}
	_, err := language.ParseBase(s)
	return err == nil
}

// country refuses a value that is not an ISO 3166-1 alpha-2 code
// (auth.ValidCountry; rule country).
func country(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !auth.ValidCountry(s) {
		return "", errs.Invalidf("country", field, "%s must be a country code of two capital letters (ISO 3166-1)", field)
	}
	return s, nil
}

// currency refuses a value that is not the code of a currency of ISO
// 4217's current list, List One (rule currency): a made-up code (XYZ) would
// be counted in the statistics, which then have no rate for it. A code no
// longer in use (DEM, FRF, HRK, SLL) is refused too: an amount decided in it
// is recorded in the currency that replaced it. The list and the minor
// units are github.com/bojanz/currency's, generated from ISO 4217's List
// One (golang.org/x/text/currency's, from an old CLDR, lacks VES, SLE, ZWG
// and still lists HRK). Codes without a minor unit (XAU, XDR, XXX, XTS) are
// not in it.
func currency(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !currencyRE.MatchString(s) {
		return "", errs.Invalidf("currency", field, "%s must be a currency code of three capital letters (ISO 4217)", field)
	}
	if _, ok := isocurrency.GetDigits(s); !ok {
		if slices.Contains(noMinorUnit, s) {
			// ISO 4217's codes of precious metals, bond market units, the
			// SDR, testing and "no currency" have no minor unit; a made-up
			// code (XYZ) is told it is not in the list, not that it is.
			return "", errs.Invalidf("currency", field, "%s %s is an ISO 4217 code without a minor unit (a precious metal, a fund or unit of account, testing, no currency): record the value in a currency, at the rate of the day", field, s)
		}
		return "", errs.Invalidf("currency", field, "%s %s is not a currency in use in ISO 4217's list: a code no longer in use is recorded in the currency that replaced it", field, s)
	}
	return s, nil
}

// money reads an amount in a currency: the currency (rule currency, as
// currency does), then the amount (rule amount, as amount does), written
// with no more decimals than the currency's ISO 4217 minor unit: 1000.123
// EUR, 1000.120 EUR and 1000.5 JPY are refused, 1.125 KWD and 1000.10 EUR
// (kept as 1000.1) are not.
func money(amountField, amt, currencyField, cur string) (decimal.Decimal, string, error) {
	c, err := currency(currencyField, cur)
	if err != nil {
		return decimal.Decimal{}, "", err
	}
	d, err := amount(amountField, amt)
	if err != nil {
		return decimal.Decimal{}, "", err
	}
	digits, _ := isocurrency.GetDigits(c)
	if _, frac, ok := strings.Cut(amt, "."); ok && len(frac) > int(digits) {
		return decimal.Decimal{}, "", errs.Invalidf("amount", amountField, "%s %s has more decimals than %s has: its ISO 4217 minor unit is %s", amountField, amt, c, strconv.Itoa(int(digits)))
	}
	return d, c, nil
}

// written writes an amount as its currency writes it, with the digits of
// its ISO 4217 minor unit (2500000 EUR is written 2500000.00, 1000 JPY
// 1000, 1.5 KWD 1.500): the log and the tables keep the shortest form the
// command read (money), and every reader (the API, the pages, the files)
// gets the amount as a court order or a bank statement writes it. A value
// that does not read as an amount of that currency (a currency not in the
// list, more decimals than it has, from before these rules) is written as
// kept.
func written(value, cur string) string {
	digits, ok := isocurrency.GetDigits(cur)
	if !ok {
		return value
	}
	d, err := decimal.NewFromString(value)
	if err != nil || -d.Exponent() > int32(digits) {
		return value
	}
	return d.StringFixed(int32(digits))
}

// writtenIn writes a computed amount (a conversion, a sum) in its
// currency's minor unit, rounded half away from zero; a currency not in
// the list gets two decimals.
func writtenIn(d decimal.Decimal, cur string) string {
	digits, ok := isocurrency.GetDigits(cur)
	if !ok {
		digits = 2
	}
	return d.StringFixed(int32(digits))
}

// amount reads an exact, positive decimal in its one written form
// (amountRE: "1250000.50", "0.5"): no surrounding space, no leading zero
// but a single 0 before the point, no point without digits after it, no
// sign, exponent or thousands separator (rule amount); it returns it in its
// shortest form. A value copied with a space or padded with zeros is
// refused rather than read, as an amount is a court's or a bank's figure
// recorded as written.
func amount(field, s string) (decimal.Decimal, error) {
	if !amountRE.MatchString(s) {
		return decimal.Decimal{}, errs.Invalidf("amount", field, "%s must be an amount written with digits, without spaces or leading zeros, and at most one decimal point with digits after it: at most 18 digits before it and 8 after (1250000.50, 0.5)", field)
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
