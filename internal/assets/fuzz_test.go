package assets_test

import (
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/errs"
)

// FuzzParseDirectory: any file is read or refused with an errs error;
// every entry read passes the checks of a form; every refused line names
// its line, rule and field.
func FuzzParseDirectory(f *testing.F) {
	f.Add(directoryCSV)
	f.Add("state,kind,name,legal_bases,languages,email\nXA,central_authority,\"Quoted, name\",uncac_46,en,a@b.example\n")
	f.Add("\ufeffname,state,kind,legal_bases,languages,phone\nN,XA,contact_point,reciprocity;uncac_46,en fr,+1\n")
	f.Add("state,kind,name,legal_bases,languages\nXA,central_authority,\"unterminated\n")
	f.Add("state,kind,name,legal_bases,languages,available_24_7\nXA,central_authority,N,uncac_46,en,maybe\n")
	f.Add("state,kind,name,legal_bases,languages\n\n")
	f.Add("")
	f.Fuzz(func(t *testing.T, data string) {
		entries, refused, err := assets.ParseDirectory(strings.NewReader(data))
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("not an errs error: %v", err)
			}
			return
		}
		for _, c := range entries {
			if c.State == "" || c.Name == "" || len(c.LegalBases) == 0 || len(c.Languages) == 0 {
				t.Fatalf("an entry read without its required fields: %+v", c)
			}
		}
		for _, l := range refused {
			if l.Line < 2 || l.Rule == "" || l.Field == "" || l.Message == "" {
				t.Fatalf("a refused line without its line, rule or field: %+v", l)
			}
		}
	})
}

// TestDirectoryFileNotUTF8: a UTF-16 file is refused as such, and a header
// the directory does not know is named with its control bytes escaped,
// never written raw to a terminal.
func TestDirectoryFileNotUTF8(t *testing.T) {
	utf16 := []byte{0xff, 0xfe, 's', 0, 't', 0, 'a', 0, 't', 0, 'e', 0, '\n', 0}
	_, _, err := assets.ParseDirectory(strings.NewReader(string(utf16)))
	if e, ok := errs.As(err); !ok || e.Rule != "utf8" || e.Field != "file" || !strings.Contains(e.Message, "UTF-16") {
		t.Errorf("a UTF-16 file: %v", err)
	}
	_, _, err = assets.ParseDirectory(strings.NewReader("s\x00t\x1b[31m,kind\n"))
	if e, ok := errs.As(err); !ok || e.Rule != "column" || strings.ContainsAny(e.Message, "\x00\x1b") || !strings.Contains(e.Message, `"s\x00t\x1b[31m"`) {
		t.Errorf("a header with control bytes: %q", err)
	}
}

// FuzzMoney: an amount is read only in its one written form (digits with
// no leading zero but a single 0 before the point, at most one point with
// digits after it, no more decimals than the currency's minor unit, no
// space, sign or exponent) and is more than zero; anything else is refused
// naming the rule and the field; what is read writes back as a form read
// again to the same value.
func FuzzMoney(f *testing.F) {
	for _, s := range []string{"100", " 100", "100 ", "00100", "0100.5", "100.", ".5", "0.5", "0", "0.00", "1250000.50", "1000.120", "1000.123",
		"1.125", "1e3", "-5", "+5", "1,000", "1_000", "١٠٠", "100\u00a0", "999999999999999999", "9999999999999999999", "0.000000001"} {
		for _, c := range []string{"EUR", "JPY", "KWD", "CLF"} {
			f.Add(s, c)
		}
	}
	minor := map[string]int{"EUR": 2, "JPY": 0, "KWD": 3, "CLF": 4}
	f.Fuzz(func(t *testing.T, amt, cur string) {
		d, c, err := assets.Money("amount", amt, "currency", cur)
		digits, known := minor[cur]
		if !known {
			if err == nil {
				return // another currency in use: its minor unit is not this test's
			}
			if e, ok := errs.As(err); !ok || (e.Field != "currency" && e.Field != "amount") {
				t.Fatalf("%q %q refused without a rule and a field: %v", amt, cur, err)
			}
			return
		}
		// The written form, checked by hand, not by the parser's pattern.
		whole, frac, point := strings.Cut(amt, ".")
		canonical := whole != "" && len(whole) <= 18 && (!point || frac != "" && len(frac) <= 8 && len(frac) <= digits) &&
			(whole == "0" || whole[0] != '0')
		for _, r := range whole + frac {
			if r < '0' || r > '9' {
				canonical = false
			}
		}
		positive := strings.Trim(whole+frac, "0") != ""
		if err != nil {
			e, ok := errs.As(err)
			if !ok || e.Rule != "amount" || e.Field != "amount" {
				t.Fatalf("%q %s refused without rule amount at amount: %v", amt, cur, err)
			}
			if canonical && positive {
				t.Fatalf("%q %s is an amount in its written form, refused: %v", amt, cur, err)
			}
			return
		}
		if !canonical || !positive {
			t.Fatalf("%q %s read as %s, though it is not an amount in its written form above zero", amt, cur, d)
		}
		if c != cur || !d.IsPositive() {
			t.Fatalf("%q %s read as %s %s", amt, cur, d, c)
		}
		again, _, err := assets.Money("amount", d.String(), "currency", cur)
		if err != nil || !again.Equal(d) {
			t.Fatalf("%q %s read as %s, which reads back as %s, %v", amt, cur, d, again, err)
		}
	})
}
