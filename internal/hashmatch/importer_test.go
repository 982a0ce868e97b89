package hashmatch

import (
	"crypto/rand"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/index"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

const (
	h1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	h2 = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
)

func TestParseHex(t *testing.T) {
	v, st, err := ParseList(FormatHex, []byte("# a list\n"+strings.ToUpper(h1)+"\n\n"+h2+", A1, img-2  # trailing\n"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Adds != 2 || v.Adds[0].PDQ != h1 || v.Adds[0].EntryID != h1 || v.Adds[0].Classification != "unspecified" {
		t.Errorf("first entry %+v", v.Adds[0])
	}
	if e := v.Adds[1]; e.EntryID != "img-2" || e.Classification != "A1" || e.PDQ != h2 {
		t.Errorf("second entry %+v", e)
	}
	for _, bad := range []string{"abc\n", h1 + " A1 id extra\n", h1 + " bad/class\n", "\n# nothing\n"} {
		if _, _, err := ParseList(FormatHex, []byte(bad)); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%q: want invalid, got %v", bad, err)
		}
	}
	if _, _, err := ParseList(FormatHex, []byte("x\n"+h1+" A1 ok\nzz\n")); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("want the line at fault, got %v", err)
	}
}

func TestParseNCMEC(t *testing.T) {
	x := `<?xml version="1.0"?><queryResult><images count="3">
	<image><id>4711</id><classification>A1</classification><fingerprints><md5>0123456789ABCDEF0123456789abcdef</md5><sha1>x</sha1><pdq>` + h1 + `</pdq></fingerprints></image>
	<image><id>4712</id><classification>B1</classification><fingerprints><md5>0123456789abcdef0123456789abcdef</md5></fingerprints></image>
	<image><id>4713</id><fingerprints><pdq>` + h2 + `</pdq></fingerprints></image>
	</images><deletedEntries><image><id>4700</id></image></deletedEntries></queryResult>`
	v, st, err := ParseList(FormatNCMEC, []byte(x))
	if err != nil {
		t.Fatal(err)
	}
	if st.Adds != 2 || st.Skipped != 1 || st.Deletes != 1 || v.Deletes[0] != "4700" {
		t.Fatalf("stats %+v, deletes %v", st, v.Deletes)
	}
	if e := v.Adds[0]; e.EntryID != "4711" || e.Classification != "A1" || e.MD5 != "0123456789abcdef0123456789abcdef" || e.PDQ != h1 {
		t.Errorf("entry %+v", e)
	}
	if _, _, err := ParseList(FormatNCMEC, []byte("<queryResult><images><image><id>1</id><fingerprints><pdq>zz</pdq></fingerprints></image></images></queryResult>")); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("bad pdq: %v", err)
	}
	if _, _, err := ParseList(FormatNCMEC, []byte("{}")); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("not xml: %v", err)
	}
}

func TestParseProjectVIC(t *testing.T) {
	j := `{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases","value":[
	 {"MediaID": 17, "Category": 1, "MD5": "0123456789abcdef0123456789abcdef", "PDQ": "` + h1 + `"},
	 {"MediaID": "m-18", "Category": 2, "AlternativeHashes": [{"HashName": "pdq", "HashValue": "` + h2 + `"}]},
	 {"MediaID": 19, "Category": 1, "SHA1": "ignored"},
	 {"MediaID": 5, "Deleted": true}]}`
	v, st, err := ParseList(FormatProjectVIC, []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if st.Adds != 2 || st.Skipped != 1 || st.Deletes != 1 {
		t.Fatalf("stats %+v", st)
	}
	if e := v.Adds[0]; e.EntryID != "17" || e.Classification != "vic-1" || e.PDQ != h1 {
		t.Errorf("entry %+v", e)
	}
	if e := v.Adds[1]; e.EntryID != "m-18" || e.Classification != "vic-2" || e.PDQ != h2 {
		t.Errorf("entry %+v", e)
	}
	if _, _, err := ParseList("csv", []byte("x")); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("unknown format: %v", err)
	}
}

// The parsers take lists from outside: they must refuse, never panic, and
// whatever they accept must be valid entries.
func fuzzList(f *testing.F, format string, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, _, err := ParseList(format, b)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("refusal is not an errs.Error: %v", err)
			}
			return
		}
		for _, e := range v.Adds {
			if _, err := normalizeEntry("x", e); err != nil {
				t.Fatalf("accepted an invalid entry %+v: %v", e, err)
			}
		}
		for _, d := range v.Deletes {
			if !entryIDRE.MatchString(d) {
				t.Fatalf("accepted an invalid delete %q", d)
			}
		}
	})
}

func FuzzParseHex(f *testing.F) {
	fuzzList(f, FormatHex, h1+"\n", h2+" A1 id\n# c\n", "zz\n")
}

func FuzzParseNCMEC(f *testing.F) {
	fuzzList(f, FormatNCMEC, `<queryResult><images><image><id>1</id><fingerprints><pdq>`+h1+`</pdq></fingerprints></image></images><deletedEntries><image><id>2</id></image></deletedEntries></queryResult>`)
}

func FuzzParseProjectVIC(f *testing.F) {
	fuzzList(f, FormatProjectVIC, `{"value":[{"MediaID":1,"Category":1,"PDQ":"`+h1+`"},{"MediaID":2,"Deleted":true}]}`)
}

func FuzzParseJSON(f *testing.F) {
	fuzzList(f, FormatJSON, `{"adds":[{"entry_id":"i","pdq":"`+h1+`"},{"entry_id":"v","video":{"frames":[{"pdq":"`+h2+`","quality":90,"seconds":0.5}]}}],"deletes":["d"]}`,
		`{"adds":[{"entry_id":"v","video":{"frames":[{"pdq":"`+h2+`","quality":90,"seconds":2},{"pdq":"`+h1+`","quality":9,"seconds":1}]}}]}`)
}

func TestIndexLayoutMatchesPDQ(t *testing.T) {
	for _, s := range []string{h1, h2} {
		p, err := pdq.ParseHex(s)
		if err != nil {
			t.Fatal(err)
		}
		x, err := index.ParseHex(s)
		if err != nil {
			t.Fatal(err)
		}
		if toIndex(p) != x || toIndex(p).String() != p.String() {
			t.Errorf("layouts differ for %s", s)
		}
	}
}

func TestSignedDoc(t *testing.T) {
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos/XA")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	d := Doc{Format: DocFormat, Bank: "HB-1", Name: "n", Owner: "CM-1", Kind: KindKnown, Threshold: 31, Version: 1,
		Adds: []DocEntry{{EntryID: "a", PDQ: h1, Classification: "A1"}}}
	canon, err := d.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := SignDoc(signer, canon)
	if err != nil {
		t.Fatal(err)
	}
	sig2, _ := SignDoc(signer, canon)
	if sig != sig2 {
		t.Error("signatures are not deterministic")
	}
	got, sum, err := OpenDoc([]byte(NoteText(canon, sig)), vkey)
	if err != nil {
		t.Fatal(err)
	}
	if sum != DocSHA256(canon) || got.Adds[0].PDQ != h1 {
		t.Errorf("opened %+v %s", got, sum)
	}
	tampered := strings.Replace(NoteText(canon, sig), `"A1"`, `"B1"`, 1)
	if _, _, err := OpenDoc([]byte(tampered), vkey); err == nil {
		t.Error("a tampered document verified")
	}
	_, other, _ := note.GenerateKey(rand.Reader, "custos/XA")
	if _, _, err := OpenDoc([]byte(NoteText(canon, sig)), other); err == nil {
		t.Error("verified with another key")
	}
}
