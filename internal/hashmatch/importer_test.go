package hashmatch

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"
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
	// A line without an entry id names its hash as what is wrong, even when
	// the hash could not be an entry id either (it is the id by default).
	for _, bad := range []string{"é A1\n", strings.Repeat("x", 200) + "\n", "hash/1 A1\n"} {
		if _, _, err := ParseList(FormatHex, []byte(bad)); err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: want a refusal of line 1, got %v", bad, err)
		} else if e, _ := errs.As(err); e.Rule != "pdq_hex" {
			t.Errorf("%q: want rule pdq_hex on line 1, got %v", bad, err)
		}
	}
}

// TestParseNCMECv2 reads the synthetic pages of NCMEC's documented v2
// shape under testdata/ncmec: adds, deletions of images and videos, videos
// with and without vPDQ, fingerprints custos does not hold, and paging.
func TestParseNCMECv2(t *testing.T) {
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join("testdata", "ncmec", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	v, st, err := ParseList(FormatNCMEC, read("page1.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Adds != 3 || st.Deletes != 2 || st.Skipped != 1 {
		t.Fatalf("stats %+v", st)
	}
	if e := v.Adds[0]; e.EntryID != "image1" || e.Classification != "A1" || e.MD5 != "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1" ||
		e.PDQ != "53ea76ff5f9e8683a57576b6f6980ac7cb88939f4f566d4df368af2f4f4f272b" || e.Video != nil {
		t.Errorf("image %+v", e)
	}
	// A video known by its MD5 alone is held as such.
	if e := v.Adds[1]; e.EntryID != "video1" || e.MD5 != "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1" || e.Video == nil || len(e.Video.Frames) != 0 || e.PDQ != "" {
		t.Errorf("video known by its MD5 %+v", e)
	}
	if e := v.Adds[2]; e.EntryID != "video2" || e.MD5 != "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1" || e.Video == nil || len(e.Video.Frames) != 2 ||
		e.Video.Frames[1] != (VideoFrame{PDQ: "cdd08d18c82695b4e23a8e272ea527bfcc9e06602cb208674a047e80d58d4f78", Quality: 90, Seconds: 1}) {
		t.Errorf("video %+v", e)
	}
	if strings.Join(v.Deletes, " ") != "image4 video4" {
		t.Errorf("deletes %v", v.Deletes)
	}
	want := map[string]string{
		"image_without_pdq md5,sha1,pdna record": "image2",
		"fingerprint sha1 value":                 "image1,video1",
		"fingerprint pdna value":                 "image1",
	}
	if len(st.NotHeld) != len(want) {
		t.Errorf("not held %+v", st.NotHeld)
	}
	for _, n := range st.NotHeld {
		key := n.Rule + " " + n.What + map[bool]string{true: " record", false: " value"}[n.Record]
		if want[key] != strings.Join(n.First, ",") || n.Count != len(n.First) || n.Message == "" {
			t.Errorf("not held %+v, want %s", n, want[key])
		}
	}
	if st.Next != "/v2/entries?from=2017-10-20T00%3A00%3A00.000Z&to=2017-10-30T00%3A00%3A00.000Z&start=2001&size=1000&max=3000" {
		t.Errorf("next %q", st.Next)
	}
	_, st, err = ParseList(FormatNCMEC, read("page4.xml"))
	if err != nil || st.Adds != 1 || st.Deletes != 1 || st.Next != "" {
		t.Errorf("last page: %+v %v", st, err)
	}
	// A video with an MD5 and fingerprints given as links: held by its
	// MD5, the links named.
	v, st, err = ParseList(FormatNCMEC, read("large-fingerprints.xml"))
	if err != nil || len(v.Adds) != 1 || v.Adds[0].MD5 != "facefacefacefacefacefacefaceface" || st.Skipped != 0 || len(st.NotHeld) != 2 ||
		st.NotHeld[0].What != "tmk-pdqf" || st.NotHeld[1].What != "videntifier" {
		t.Errorf("links: %+v %v", st, err)
	}
	// One with neither vPDQ nor an MD5 cannot be held, and is named.
	_, st, err = ParseList(FormatNCMEC, []byte(ncmecVideoSHA1Only))
	if err != nil || st.Skipped != 1 || st.NotHeld[0].Rule != NotHeldVideoWithoutVPDQ || st.NotHeld[0].What != "sha1,tmk-pdqf" {
		t.Errorf("sha1 only: %+v %v", st, err)
	}

	// The namespace may be left out; another one is refused, and so is the
	// old <deletedEntries>, which was never NCMEC's.
	bad := map[string]string{
		`<queryResult xmlns="urn:other"><images/></queryResult>`:                                                                    "namespace",
		`<queryResult><images/><deletedEntries><image><id>4700</id></image></deletedEntries></queryResult>`:                         "deletedEntries",
		`<queryResult><images><video><id>v</id></video></images></queryResult>`:                                                     "images/video[1]",
		`<queryResult><images><image><id>a b</id></image></images></queryResult>`:                                                   "images/image[1]",
		`<queryResult><images><image><id>1</id><fingerprints><pdq>zz</pdq></fingerprints></image></images></queryResult>`:           "images/image[1]",
		`<queryResult><videos><video><id>1</id><fingerprints><vpdq>["zz,1,0"]</vpdq></fingerprints></video></videos></queryResult>`: "videos/video[1]",
		`{}`: "not NCMEC",
		// An element a record has once, given twice, is refused rather than
		// read as its last copy (the first id or classification dropped
		// unsaid).
		`<queryResult><images><image><id>n3</id><id>n4</id><fingerprints><pdq>` + h1 + `</pdq></fingerprints></image></images></queryResult>`:                                                                                "images/image[1]: one <id>, not 2",
		`<queryResult><images><deletedImage><id>n3</id><id>n4</id></deletedImage></images></queryResult>`:                                                                                                                    "images/deletedImage[1]: one <id>, not 2",
		`<queryResult><images><image><id>n2</id><classification>A1</classification><classification>B1</classification></image></images></queryResult>`:                                                                       "one <classification>, not 2",
		`<queryResult><videos><video><id>v</id><classification>A1</classification><classification>B1</classification><fingerprints><md5>` + strings.Repeat("a", 32) + `</md5></fingerprints></video></videos></queryResult>`: "videos/video[1]",
	}
	for in, where := range bad {
		if _, _, err := ParseList(FormatNCMEC, []byte(in)); errs.CodeOf(err) != errs.Invalid || !strings.Contains(err.Error(), where) {
			t.Errorf("%s: want a refusal naming %s, got %v", in, where, err)
		}
	}
	// A later record of an id supersedes an earlier one of the same page.
	v, st, err = ParseList(FormatNCMEC, []byte(`<queryResult><images><image><id>x</id><fingerprints><pdq>`+h1+
		`</pdq></fingerprints></image><deletedImage><id>x</id></deletedImage></images></queryResult>`))
	if err != nil || len(v.Adds) != 0 || len(v.Deletes) != 1 || st.NotHeld[0].Rule != NotHeldSuperseded {
		t.Errorf("superseded: %+v %+v %v", v, st, err)
	}
}

func TestParseProjectVIC(t *testing.T) {
	j := `{"odata.metadata":"http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Cases","value":[
	 {"MediaID": 17, "Category": 1, "MD5": "0123456789abcdef0123456789abcdef", "PDQ": "` + h1 + `"},
	 {"MediaID": "m-18", "Category": 2, "AlternativeHashes": [{"HashName": "pdq", "HashValue": "` + h2 + `"}]},
	 {"MediaID": 19, "Category": 1, "SHA1": "0123456789abcdef0123456789abcdef01234567"},
	 {"MediaID": 5, "Deleted": true}]}`
	v, st, err := ParseList(FormatProjectVIC, []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if st.Adds != 2 || st.Skipped != 1 || st.Deletes != 1 || st.NotHeld[0].Rule != NotHeldImageWithoutPDQ || st.NotHeld[0].First[0] != "19" {
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

	// A second PDQ of one media is counted where it differs from the one
	// kept (PDQ first, else the first alternative), not where it repeats it.
	j = `{"value":[
	 {"MediaID": 1, "PDQ": "` + h1 + `", "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "` + h2 + `"}]},
	 {"MediaID": 2, "PDQ": "` + h1 + `", "AlternativeHashes": [{"HashName": "pdq", "HashValue": "` + strings.ToUpper(h1) + `"}]},
	 {"MediaID": 3, "AlternativeHashes": [{"HashName": "PDQ", "HashValue": "` + h2 + `"}, {"HashName": "PDQ", "HashValue": "` + h1 + `"}]}]}`
	v, st, err = ParseList(FormatProjectVIC, []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Adds) != 3 || v.Adds[0].PDQ != h1 || v.Adds[2].PDQ != h2 {
		t.Errorf("adds %+v", v.Adds)
	}
	if len(st.NotHeld) != 1 || st.NotHeld[0].Rule != NotHeldExtraPDQ || st.NotHeld[0].Count != 2 || !slices.Equal(st.NotHeld[0].First, []string{"1", "3"}) || st.Skipped != 0 {
		t.Errorf("a second PDQ counted as %+v", st.NotHeld)
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
		if (format == FormatJSON || format == FormatHMA || format == FormatProjectVIC) && !jsontext.Value(b).IsValid() {
			t.Fatalf("accepted JSON with a key twice or bytes that are not UTF-8: %q", b)
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
	seeds := []string{`<queryResult><images><image><id>1</id><fingerprints><pdq>` + h1 + `</pdq></fingerprints></image><deletedImage><id>2</id></deletedImage></images></queryResult>`,
		`<queryResult xmlns="` + NCMECNamespace + `"><videos><video><id>v</id><fingerprints><md5>` + strings.Repeat("a", 32) +
			`</md5><vpdq>["` + h2 + `,90,0.5"]</vpdq></fingerprints></video><deletedVideo><id>w</id></deletedVideo></videos><paging><next>/v2?x</next></paging></queryResult>`}
	for _, name := range []string{"page1.xml", "page2.xml", "page3.xml", "page4.xml", "large-fingerprints.xml"} {
		b, err := os.ReadFile(filepath.Join("testdata", "ncmec", name))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, string(b))
	}
	fuzzList(f, FormatNCMEC, seeds...)
}

func FuzzParseTE(f *testing.F) {
	fuzzList(f, FormatTECSV, "collab,signal_type,signal_str,category,tags\nc,pdq,"+h1+",POSITIVE_CLASS,A1 x\n",
		"signal_type,signal_str\nvpdq,\"[\"\""+h2+",90,0.000\"\"]\"\nvideo_md5,"+strings.Repeat("b", 32)+"\nphotodna,x\n",
		"collab,signal_type,signal_str,category,tags\nc,pdq,"+h1+",NEGATIVE_CLASS,\nc,pdq,"+h1+",POSITIVE_CLASS,\nc,pdq,"+h1+",,\n")
}

func FuzzParseTETSV(f *testing.F) {
	fuzzList(f, FormatTETSV, "collab\tsignal_type\tsignal_str\tcategory\ttags\nc\tpdq\t"+h1+"\tPOSITIVE_CLASS\tA1\n",
		"signal_type\tsignal_str\nvpdq\t[\""+h2+",90,0.000\",\""+h1+",20,1.5\"]\n")
}

func FuzzParseHMA(f *testing.F) {
	fuzzList(f, FormatHMA, `[{"id":1,"bank":"B","enabled":true,"original_media_uri":null,"signals":{"pdq":"`+h1+`"}}]`,
		`[{"id":1,"ENABLED":false,"signals":{"pdq":"`+h1+`"}}]`, `[{"id":1,"signals":{"pdq":"`+h1+`","pdq":"`+h2+`"}}]`,
		`[{"id":"v","signals":{"vpdq":"[\"`+h2+`,90,0.000\"]","video_md5":"`+strings.Repeat("c", 32)+`"}},{"id":3,"enabled":false,"signals":{"pdq":"`+h1+`"}},{"id":4,"signals":{"video_md5":"`+strings.Repeat("d", 32)+`"}}]`)
}

func FuzzParseProjectVIC(f *testing.F) {
	fuzzList(f, FormatProjectVIC, `{"value":[{"MediaID":1,"Category":1,"PDQ":"`+h1+`"},{"MediaID":2,"Deleted":true}]}`,
		`{"odata.metadata":"x","value":[{"MediaID":1,"IsDistributed":true,"AlternativeHashes":[{"HashName":"PDQ","HashValue":"`+h1+`","Extra":1}]}]}`,
		`{"value":[{"MediaID":1,"PDQ":"`+h1+`","deleted":true}]}`, `{"value":[{"MediaID":1,"PDQ":"`+h1+`","MediaID":2}]}`)
}

func FuzzParseJSON(f *testing.F) {
	fuzzList(f, FormatJSON, `{"adds":[{"entry_id":"i","pdq":"`+h1+`"},{"entry_id":"v","video":{"frames":[{"pdq":"`+h2+`","quality":90,"seconds":0.5}]}}],"deletes":["d"]}`,
		`{"adds":[{"entry_id":"v","video":{"frames":[{"pdq":"`+h2+`","quality":90,"seconds":2},{"pdq":"`+h1+`","quality":9,"seconds":1}]}}]}`,
		`{"adds":[{"entry_id":"i","PDQ":"`+h1+`"}]}`, `{"adds":[{"entry_id":"i","pdq":"`+h1+`","pdq":"`+h2+`"}]}`, "{\"deletes\":[\"\xff\"]}")
}

// TestListsReadStrictly: a JSON list is read as it is written. encoding/json
// took a key in another case than its field's for the field ("PDQ",
// "deleted", the Kelvin sign for a k) and kept the last of a key given
// twice, each silently: such a list, and one that is not UTF-8, is refused,
// naming the rule and the path within the list.
func TestListsReadStrictly(t *testing.T) {
	for _, c := range []struct {
		name, format, list, rule, has string
	}{
		{"custos, a key twice", FormatJSON, `{"adds":[{"entry_id":"a","pdq":"` + h1 + `","classification":"A1","pdq":"` + h2 + `"}]}`, "duplicate_key", `in adds[0].pdq: the key "pdq" is given twice`},
		{"custos, a key in capitals", FormatJSON, `{"adds":[{"entry_id":"a","PDQ":"` + h1 + `"}]}`, "custos_json", `adds[0].PDQ: the field "PDQ" is not part of this document: names are written as documented, here "pdq"`},
		{"custos, a deletion twice", FormatJSON, `{"adds":[],"deletes":["a"],"deletes":["b"]}`, "duplicate_key", `in deletes: the key "deletes"`},
		{"custos, not UTF-8", FormatJSON, "{\"adds\":[{\"entry_id\":\"a\",\"classification\":\"A\xff\",\"pdq\":\"" + h1 + "\"}]}", "utf8", "in adds[0].classification: the document is not valid UTF-8"},
		{"HMA, a signal twice", FormatHMA, `[{"id":1,"signals":{"pdq":"` + h1 + `","pdq":"` + h2 + `"}}]`, "duplicate_key", `in [0].signals.pdq: the key "pdq"`},
		{"HMA, enabled in capitals", FormatHMA, `[{"id":1,"Enabled":false,"signals":{"pdq":"` + h1 + `"}}]`, "hma_json", `[0].Enabled: the field "Enabled" is not part of this document: names are written as documented, here "enabled"`},
		{"Project VIC, a deletion in lower case", FormatProjectVIC, `{"value":[{"MediaID":1,"PDQ":"` + h1 + `","deleted":true}]}`, "projectvic_json", `value[0].deleted: the field "deleted" is not part of this document: names are written as documented, here "Deleted"`},
		{"Project VIC, a hash name in another case", FormatProjectVIC, `{"value":[{"MediaID":1,"AlternativeHashes":[{"hashName":"PDQ","HashValue":"` + h1 + `"}]}]}`, "projectvic_json", `value[0].AlternativeHashes[0].hashName`},
		{"Project VIC, an id twice", FormatProjectVIC, `{"value":[{"MediaID":1,"PDQ":"` + h1 + `","MediaID":2}]}`, "duplicate_key", `in value[0].MediaID: the key "MediaID"`},
		{"Project VIC, a member it does not read twice", FormatProjectVIC, `{"value":[{"MediaID":1,"PDQ":"` + h1 + `","Series":"a","Series":"b"}]}`, "duplicate_key", `in value[0].Series`},
	} {
		_, _, err := ParseList(c.format, []byte(c.list))
		if e, ok := errs.As(err); !ok || e.Rule != c.rule || e.Field != "content" || !strings.Contains(e.Message, c.has) {
			t.Errorf("%s: got %v, want rule %s and %q", c.name, err, c.rule, c.has)
		}
	}
	// What a VIC export carries beyond what custos reads still passes.
	if _, st, err := ParseList(FormatProjectVIC, []byte(`{"odata.metadata":"x","value":[{"MediaID":1,"PDQ":"`+h1+`","IsDistributed":true,"Series":"s","AlternativeHashes":[{"HashName":"PhotoDNA","HashValue":"x","Source":"y"}]}]}`)); err != nil || st.Adds != 1 {
		t.Errorf("a VIC export with members custos does not read: %+v, %v", st, err)
	}
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
	// A signed text is read as written: a key in another case than its
	// field's, or given twice, is refused even under a good signature
	// (encoding/json read "Threshold" as threshold and kept the last of
	// two thresholds).
	for text, want := range map[string]string{
		strings.Replace(string(canon), `"threshold":31`, `"Threshold":31`, 1):                         `unknown_field: the field "Threshold" is not part of this document: names are written as documented, here "threshold" (field Threshold)`,
		strings.Replace(string(canon), `"threshold":31`, `"threshold":31,"threshold":0`, 1):           `duplicate_key: the key "threshold" is given twice in one object (field threshold)`,
		strings.Replace(string(canon), `"classification":"A1"`, `"classification":"A1","Pdq":"x"`, 1): `(field adds[0].Pdq)`,
	} {
		sig, err := SignDoc(signer, []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := OpenDoc([]byte(NoteText([]byte(text), sig)), vkey); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", text, err, want)
		}
	}
}

// ncmecVideoSHA1Only is a page whose one video has neither vPDQ nor an MD5.
const ncmecVideoSHA1Only = `<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><videos count="1" maxTimestamp="2019-11-24T15:10:00Z">
<video><member id="101">TX Example</member><timestamp>2019-11-24T15:10:00Z</timestamp><id>sha1only</id>
<fingerprints><sha1>b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1</sha1><tmk-pdqf rel="self" href="/v2/entries/1/fingerprints/TMK_PDQF"/></fingerprints></video>
</videos></queryResult>`

// withBits is a PDQ hash with its n lowest bits set.
func withBits(n int) string {
	var h pdq.Hash
	for k := range n {
		h[3-k/64] |= 1 << (k % 64)
	}
	return h.String()
}

// TestDegenerateHashRefused: an image entry whose hash has fewer than
// MinHashBits bits set, or fewer clear (a blank image's all-zero hash, an
// all-one hash), is refused by every import format that carries PDQ
// hashes, naming the line or record, and by newEntry; 32 bits either way
// are accepted, and signed documents already published still verify.
func TestDegenerateHashRefused(t *testing.T) {
	zero, ones := strings.Repeat("0", 64), strings.Repeat("f", 64)
	for n, ok := range map[int]bool{0: false, 1: false, 31: false, MinHashBits: true, 128: true, 256 - MinHashBits: true, 225: false, 256: false} {
		_, err := newEntry("adds[3]", DocEntry{EntryID: "e", PDQ: withBits(n)})
		if e, _ := errs.As(err); ok != (err == nil) || !ok && (e == nil || e.Rule != "pdq_degenerate" || e.Field != "adds[3].pdq") {
			t.Errorf("%d bits set: err = %v, want accepted %v", n, err, ok)
		}
	}
	lists := []struct{ format, list, where string }{
		{FormatHex, h1 + "\n" + zero + " A1 blank\n", "line 2"},
		{FormatHex, h1 + "\n\n" + ones + "\n", "line 3"},
		{FormatJSON, `{"adds":[{"entry_id":"a","pdq":"` + h1 + `"},{"entry_id":"b","pdq":"` + zero + `"}]}`, "adds[1]"},
		{FormatProjectVIC, `{"value":[{"MediaID": 17, "Category": 1, "PDQ": "` + zero + `"}]}`, "media 1"},
		{FormatTECSV, "collab,signal_type,signal_str,category,tags\nSample Data,pdq," + h1 + ",POSITIVE_CLASS,A1\nSample Data,pdq," + zero + ",POSITIVE_CLASS,A1\n", "line 3"},
	}
	for _, l := range lists {
		_, _, err := ParseList(l.format, []byte(l.list))
		e, _ := errs.As(err)
		if e == nil || e.Rule != "pdq_degenerate" || !strings.Contains(e.Field+" "+e.Message, l.where) {
			t.Errorf("%s list with a degenerate hash at %s: err = %v", l.format, l.where, err)
		}
	}
	// A document signed before the rule still opens.
	skey, vkey, err := note.GenerateKey(rand.Reader, "custos/XA")
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := note.NewSigner(skey)
	d := Doc{Format: DocFormat, Bank: "HB-1", Name: "n", Owner: "CM-1", Kind: KindKnown, Threshold: 31, Version: 1,
		Adds: []DocEntry{{EntryID: "blank", PDQ: zero, Classification: "unspecified"}}}
	canon, err := d.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := SignDoc(signer, canon)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := OpenDoc([]byte(NoteText(canon, sig)), vkey); err != nil {
		t.Errorf("a published document holding an all-zero hash: %v", err)
	}
}

// TestParseProjectVICTypes: a media field of the wrong type is refused
// naming the document's field as every refusal names it (value[0].Category),
// not Go's types.
func TestParseProjectVICTypes(t *testing.T) {
	for j, want := range map[string]string{
		`{"value":[{"MediaID": 17, "Category": "one", "PDQ": "` + h1 + `"}]}`: `value\[0\]\.Category must be a JSON number, not string`,
		`{"value":[{"MediaID": 17, "Category": 1.5}]}`:                        `value\[0\]\.Category must be a whole number within range, not 1\.5`,
		`{"value":{"MediaID": 17}}`:                                           `value must be a JSON array, not object`,
		`[{"MediaID": 17}]`:                                                   `the document must be a JSON object, not array`,
	} {
		_, _, err := ParseList(FormatProjectVIC, []byte(j))
		e, _ := errs.As(err)
		if e == nil || e.Rule != "projectvic_json" || !regexp.MustCompile(want).MatchString(e.Message) || strings.Contains(e.Message, "vicMedia") || strings.Contains(e.Message, "Go ") {
			t.Errorf("%s: %v, want %q", j, err, want)
		}
	}
}
