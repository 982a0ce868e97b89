package transplant

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/errs"
)

// OrganID is the unique identifier of one procured organ, modelled on the
// ISBT 128 Donation Identification Number: the issuing registry's country
// (ISO 3166-1 alpha-2), the two-digit year of the donation, a six-digit
// donation sequence number within that registry and year, the two-digit
// number of the organ within the donation, and a check character computed
// with ISO/IEC 7064 MOD 37,36 over the preceding twelve characters.
//
// It is written in groups, e.g. "XA-26-000123-01-5". Parsing ignores case,
// spaces and hyphens, so a label typed back by hand is read the same; the
// check character catches every single-character error and every transposition
// of two adjacent characters. Unlike ISBT 128's MOD 37-2, MOD 37,36 never
// yields '*', so the whole identifier is letters and digits.
type OrganID struct {
	Country string // issuing registry, e.g. "XA"
	Year    int    // 0..99
	Seq     int    // 1..999999
	Organ   int    // 1..99
}

// String writes the identifier in its printed form.
func (o OrganID) String() string {
	body := o.body()
	return fmt.Sprintf("%s-%s-%s-%s-%c", body[:2], body[2:4], body[4:10], body[10:12], checkChar(body))
}

func (o OrganID) body() string {
	return fmt.Sprintf("%s%02d%06d%02d", o.Country, o.Year, o.Seq, o.Organ)
}

// ParseOrganID reads an identifier in any case, with or without spaces and
// hyphens, and refuses it when it is malformed or its check character is wrong.
func ParseOrganID(s string) (OrganID, error) {
	if len(s) > 64 {
		return OrganID{}, errs.Invalidf("organ_id_format", "organ_id", "an organ identifier is 13 letters and digits, such as XA-26-000123-01-5")
	}
	c, ok := compactID(s)
	if !ok {
		return OrganID{}, errs.Invalidf("organ_id_format", "organ_id", "an organ identifier has only letters, digits, spaces and hyphens")
	}
	if len(c) != 13 {
		return OrganID{}, errs.Invalidf("organ_id_format", "organ_id", "an organ identifier is 13 letters and digits, such as XA-26-000123-01-5; got %d", len(c))
	}
	if c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return OrganID{}, errs.Invalidf("organ_id_format", "organ_id", "an organ identifier starts with the registry's two-letter country code")
	}
	for i := 2; i < 12; i++ {
		if c[i] < '0' || c[i] > '9' {
			return OrganID{}, errs.Invalidf("organ_id_format", "organ_id", "characters 3 to 12 of an organ identifier are digits")
		}
	}
	if want := checkChar(c[:12]); c[12] != want {
		// Named as a label prints it, hyphens in place, so that the reader
		// compares it with the label part by part.
		shown := c[:2] + "-" + c[2:4] + "-" + c[4:10] + "-" + c[10:12] + "-" + c[12:]
		return OrganID{}, errs.Invalidf("organ_id_check", "organ_id", "the check character of organ identifier %s is wrong: it was mistyped or misread", shown)
	}
	year, _ := strconv.Atoi(c[2:4])
	seq, _ := strconv.Atoi(c[4:10])
	organ, _ := strconv.Atoi(c[10:12])
	if seq == 0 || organ == 0 {
		return OrganID{}, errs.Invalidf("organ_id_format", "organ_id", "the donation and organ numbers of an organ identifier start at 1")
	}
	return OrganID{Country: c[:2], Year: year, Seq: seq, Organ: organ}, nil
}

const alnum = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

// checkChar computes the ISO/IEC 7064 MOD 37,36 (hybrid system) check
// character of s, which holds only digits and upper-case letters.
func checkChar(s string) byte {
	const m = 36
	p := m
	for i := 0; i < len(s); i++ {
		v := strings.IndexByte(alnum, s[i])
		t := (p + v) % m
		if t == 0 {
			t = m
		}
		p = (t * 2) % (m + 1)
	}
	return alnum[(m+1-p)%m]
}

// Donation is a donation number: the first ten characters of the
// identifier of every organ of one donation (ISBT 128's Donation
// Identification Number without its product code), written e.g.
// "XA-26-000123".
type Donation struct {
	Country string
	Year    int
	Seq     int
}

// String writes the donation number in its printed form.
func (d Donation) String() string {
	return fmt.Sprintf("%s-%02d-%06d", d.Country, d.Year, d.Seq)
}

// ParseDonation reads a donation number as ParseOrganID reads an organ
// identifier: in any case, with or without spaces and hyphens. It has no
// check character of its own (the organ identifier's covers its organ
// number too), so a mistyped digit reads as another donation: a trace
// from it shows the number it read.
func ParseDonation(s string) (Donation, error) {
	refuse := errs.Invalidf("donation_number_format", "donation", "a donation number is the registry's two-letter country code, the year's two digits and the donation's six, such as XA-26-000123")
	if len(s) > 64 {
		return Donation{}, refuse
	}
	c, ok := compactID(s)
	if !ok || len(c) != 10 || c[0] < 'A' || c[0] > 'Z' || c[1] < 'A' || c[1] > 'Z' {
		return Donation{}, refuse
	}
	for i := 2; i < 10; i++ {
		if c[i] < '0' || c[i] > '9' {
			return Donation{}, refuse
		}
	}
	year, _ := strconv.Atoi(c[2:4])
	seq, _ := strconv.Atoi(c[4:10])
	if seq == 0 {
		return Donation{}, refuse
	}
	return Donation{Country: c[:2], Year: year, Seq: seq}, nil
}

// Donation is the donation number the organ identifier carries.
func (o OrganID) Donation() Donation { return Donation{Country: o.Country, Year: o.Year, Seq: o.Seq} }

// compactID writes an identifier typed in any case, with or without spaces
// and hyphens, in capitals without them; ok is false when it holds anything
// but ASCII letters, digits, spaces and hyphens.
func compactID(s string) (_ string, ok bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == ' ' || r == '-':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		case (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	return b.String(), true
}
