package privacy_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/storetest"
)

func vault(t *testing.T, seed byte) *privacy.Vault {
	t.Helper()
	v, err := privacy.NewVault(bytes.Repeat([]byte{seed}, privacy.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSealOpenEraseAndTamper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		db := storetest.Open(t, dsn)
		v := vault(t, 1)
		q := db.Read()
		p := privacy.Person{Name: "Ada Example", NationalID: "XA-42"}
		for _, ref := range []string{"SU-A", "SU-B"} {
			if _, err := v.Store(ctx, q, ref, p, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		got, err := v.Load(ctx, q, "SU-A")
		if err != nil || got != p {
			t.Fatalf("Load: %+v, %v", got, err)
		}
		var sealed []byte
		if err := q.QueryRow(ctx, "SELECT sealed FROM subjects WHERE ref = 'SU-A'").Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("Ada")) || bytes.Contains(sealed, []byte("XA-42")) {
			t.Fatal("the sealed row holds the plain text")
		}
		if _, err := vault(t, 2).Load(ctx, q, "SU-A"); err == nil {
			t.Error("another master key opened the subject")
		}
		// A sealed row moved onto another subject does not open: the
		// reference is bound into the ciphertext.
		if _, err := q.Exec(ctx, "UPDATE subjects SET sealed = (SELECT sealed FROM subjects WHERE ref = 'SU-A'), wrapped_key = (SELECT wrapped_key FROM subjects WHERE ref = 'SU-A') WHERE ref = 'SU-B'"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Load(ctx, q, "SU-B"); err == nil {
			t.Error("a sealed row copied to another subject opened")
		}
		if err := v.Erase(ctx, q, "SU-A"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Load(ctx, q, "SU-A"); !errors.Is(err, privacy.ErrErased) {
			t.Errorf("after erasure: %v", err)
		}
	})
}

func TestPseudonyms(t *testing.T) {
	v := vault(t, 1)
	a := v.Pseudonym("national-id:XA", "XA 123 456")
	if b := v.Pseudonym("national-id:XA", "xa123456"); a != b {
		t.Errorf("the same identifier typed differently gave %s and %s", a, b)
	}
	if b := v.Pseudonym("national-id:FR", "XA 123 456"); a == b {
		t.Error("two countries' identical numbers share a pseudonym")
	}
	if b := vault(t, 2).Pseudonym("national-id:XA", "XA 123 456"); a == b {
		t.Error("another master key gave the same pseudonym")
	}
}

func TestNormalizeNameAndBlindIndex(t *testing.T) {
	for _, c := range []struct{ a, b string }{
		{"Marie-Claire O'Neil", "oneil  MARIE claire"},
		{"José Álvarez", "JOSE ALVAREZ"},
		{"Zoë Ångström", "Angstrom, Zoe"},
		{"Nguyễn Văn An", "nguyen van an"},
		{"Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"},
		{"Eﬁe Brown", "efie brown"},
	} {
		na, nb := privacy.NormalizeName(c.a), privacy.NormalizeName(c.b)
		if na != nb {
			t.Errorf("%q normalises to %q, %q to %q: want them equal", c.a, na, c.b, nb)
		}
	}
	if n := privacy.NormalizeName(" -- '' "); n != "" {
		t.Errorf("a name without letters normalises to %q", n)
	}
	if a, b := privacy.NormalizeName("Anna Berg"), privacy.NormalizeName("Anna Bergman"); a == b {
		t.Error("two names normalise alike")
	}
	v := vault(t, 1)
	a := v.BlindIndex("person-name-dob", "anna berg", "1970-01-01")
	if b := v.BlindIndex("person-name-dob", "anna berg", "1970-01-02"); a == b {
		t.Error("another date of birth gave the same index")
	}
	if b := v.BlindIndex("person-name-dob", "anna berg1970-01-01"); a == b {
		t.Error("parts run together gave the same index")
	}
	if b := vault(t, 2).BlindIndex("person-name-dob", "anna berg", "1970-01-01"); a == b {
		t.Error("another master key gave the same index")
	}
	if a == v.Pseudonym("person-name-dob", "anna berg") {
		t.Error("the blind index and the pseudonym share a key")
	}
}

// FuzzNormalizeName: whatever a form or a request carries, the normalized
// name is valid UTF-8, words separated by single spaces, and normalizing it
// again changes nothing (so an index computed from it is stable).
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Marie-Claire O'Neil", "Zoë Ångström", "Ｊｏｈｎ", "ǅemal", "\xff\xfe", "a\u0301\u0301 b", "  "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := privacy.NormalizeName(s)
		if !utf8.ValidString(n) || strings.Contains(n, "  ") || strings.TrimSpace(n) != n {
			t.Fatalf("NormalizeName(%q) = %q", s, n)
		}
		if again := privacy.NormalizeName(n); again != n {
			t.Fatalf("NormalizeName(%q) = %q, normalized again %q", s, n, again)
		}
	})
}

// TestSealAnyValue: Seal and Open keep any JSON value (a report's text and
// linked records), out of the row in clear; an erased one is ErrErased.
func TestSealAnyValue(t *testing.T) {
	ctx := context.Background()
	db := storetest.Open(t, storetest.SQLite(t))
	v, q := vault(t, 3), db.Read()
	type content struct {
		Text  string   `json:"text"`
		Donor []string `json:"donor_ids"`
	}
	in := content{Text: "the broker kept the passport", Donor: []string{"DN-1", "DN-2"}}
	if _, err := v.Seal(ctx, q, "SJ-1", in, time.Now()); err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	if err := q.QueryRow(ctx, "SELECT sealed FROM subjects WHERE ref = 'SJ-1'").Scan(&sealed); err != nil || bytes.Contains(sealed, []byte("broker")) {
		t.Fatalf("the sealed row: %v, holds the text: %v", err, bytes.Contains(sealed, []byte("broker")))
	}
	var out content
	if err := v.Open(ctx, q, "SJ-1", &out); err != nil || out.Text != in.Text || strings.Join(out.Donor, ",") != "DN-1,DN-2" {
		t.Fatalf("Open: %+v, %v", out, err)
	}
	if err := v.Erase(ctx, q, "SJ-1"); err != nil {
		t.Fatal(err)
	}
	if err := v.Open(ctx, q, "SJ-1", &out); !errors.Is(err, privacy.ErrErased) {
		t.Errorf("an erased value opens: %v", err)
	}
}
