package hashmatch_test

import (
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
