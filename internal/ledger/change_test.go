package ledger

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestChangeText: a changed long column (an inbox message, a JSON document)
// is shown by where it first differs, a bounded window of each value, their
// lengths and SHA-256, never cut inside a UTF-8 character; a short one whole.
func TestChangeText(t *testing.T) {
	// Far from the change, so that no window reaches them.
	head, tail := `{"start":"FAR-BEFORE",`+strings.Repeat(`"k":"ß",`, 300), strings.Repeat(`"z":"ø",`, 300)+`"end":"FAR-AFTER"}`
	for _, c := range []struct {
		name    string
		db, log any
		want    []string
		far     string // a part of the values no window reaches
	}{
		{"short values whole", "99", "2", []string{`is "99" in the database but "2" in the log`}, "FAR"},
		// é is C3 A9, è is C3 A8: the bytes first differ inside the
		// character, the offset and the windows start at it.
		{"a character changed in a long document", head + `"x":"é"` + tail, head + `"x":"è"` + tail, []string{
			"is a value of 5448 bytes (sha256 ", "in the database but of 5448 bytes (sha256 ",
			"they first differ at byte 2727:", `\"x\":\"é\"\"z\"`, `\"x\":\"è\"\"z\"`, "…"}, "FAR-BEFORE"},
		{"text appended", head + tail + "!", head + tail, []string{"they first differ at byte 5440:", "in the database but of 5440 bytes", `ø\",\"end\":\"FAR-AFTER\"}!"`}, "FAR-BEFORE"},
		{"a long blob", []byte(head + "A" + tail), []byte(head + "B" + tail), []string{"they first differ at byte 2722:", "where the log has …x'", "42"}, "FAR-BEFORE"},
		{"a long value set to NULL", nil, head + tail, []string{"is a value of NULL in the database but of 5440 bytes", "the database has NULL where the log has \"{\\\"start"}, "FAR-AFTER"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := changeText(c.db, c.log)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("changeText = %s\nwant it to say %s", got, w)
				}
			}
			if !utf8.ValidString(got) {
				t.Errorf("changeText cut a UTF-8 character: %q", got)
			}
			if len(got) > 800 || strings.Contains(got, c.far) {
				t.Errorf("changeText showed %d bytes, %s included: %s", len(got), c.far, got)
			}
		})
	}
	// Different lengths' hashes differ: they tell the values apart even where
	// the windows look alike.
	a := changeText(head+"1"+tail, head+"2"+tail)
	if i := strings.Index(a, "sha256 "); i < 0 || strings.Count(a, a[i:i+19]) != 1 {
		t.Errorf("the two values' SHA-256 prefixes are not told apart: %s", a)
	}
}
