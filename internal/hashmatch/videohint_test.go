package hashmatch_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/storetest"
)

// TestImageRouteNamesVideoRoute: a video sent to the photo match route is
// refused (rule image) with a hint naming the video route when its bytes
// start as a video container (an MP4 ftyp box, WebM's EBML, RIFF AVI); an
// image in an ftyp box (HEIC) and other bytes keep "unknown image format".
// Nothing is logged.
func TestImageRouteNamesVideoRoute(t *testing.T) {
	pad := strings.Repeat("\x00", 64)
	cases := []struct {
		name, body, want string
	}{
		{"mp4", "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + pad, "looks like a video (MP4/QuickTime)"},
		{"mov", "\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00" + pad, "looks like a video (MP4/QuickTime)"},
		{"webm", "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm" + pad, "looks like a video (WebM/Matroska)"},
		{"avi", "RIFF\x10\x00\x00\x00AVI LIST" + pad, "looks like a video (AVI)"},
		{"heic", "\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + pad, "unknown image format"},
		{"text", "not an image at all" + pad, "unknown image format"},
	}
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		before := size()
		for _, c := range cases {
			r := w.Upload(t, "/api/v1/hashmatch/match/image", w.Service, "application/octet-stream", []byte(c.body))
			msg := r.Str("error.message")
			if r.Status/100 != 4 || r.Str("error.rule") != "image" || !strings.Contains(msg, c.want) {
				t.Errorf("%s: %d %s, want rule image and %q", c.name, r.Status, r.Raw, c.want)
			}
			if hint := strings.Contains(msg, "match/video-file"); hint != (c.want != "unknown image format") {
				t.Errorf("%s: hint of the video route %v: %s", c.name, hint, msg)
			}
		}
		if after := size(); after != before {
			t.Errorf("refused uploads changed the log: %v, was %v", after, before)
		}
	})
}

// TestExportVersionRange: an export of a version the bank does not have
// (negative, or past the current one) is refused naming the rule, the
// field and what is accepted (0 included: the current version), and
// nothing is logged; 0 exports the current version.
func TestExportVersionRange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewHashmatchWorld(t, dsn, hashmatch.Config{})
		bank := w.Bank(t, "Known")
		for i := 1; i <= 2; i++ {
			w.Must(t, 201, "POST", "/api/v1/hashmatch/banks/"+bank+"/versions", w.Analyst, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
				{EntryID: "img-" + strconv.Itoa(i), PDQ: apptest.PDQHex(i), Classification: "A1"}}})
		}
		size := func() any { return w.Must(t, 200, "GET", "/api/v1/log/checkpoint", "", nil).Body["size"] }
		before := size()
		for _, v := range []string{"-1", "3"} {
			r := w.Do(t, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?format=json&version="+v, w.Analyst, nil)
			want := "bank " + bank + " has versions 1 to 2: version takes one of them, or 0 (or none) for the current one, 2"
			if r.Status != 422 && r.Status != 400 || r.Str("error.rule") != "range" || r.Str("error.field") != "version" || r.Str("error.message") != want {
				t.Errorf("version %s: %d %s", v, r.Status, r.Raw)
			}
		}
		if after := size(); after != before {
			t.Errorf("refused exports changed the log: %v, was %v", after, before)
		}
		r := w.Must(t, 200, "GET", "/api/v1/hashmatch/banks/"+bank+"/export?format=json&version=0", w.Analyst, nil)
		var got hashmatch.NewVersion
		jsonUnmarshal(t, string(r.Raw), &got)
		if len(got.Adds) != 2 {
			t.Errorf("version 0 exports %d entries, want the current version's 2: %s", len(got.Adds), r.Raw)
		}
	})
}
