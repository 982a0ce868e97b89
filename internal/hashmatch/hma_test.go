package hashmatch

import (
	"testing"
)

// TestPyFormat3 checks the timestamps of vPDQ signal strings against what
// Python prints for format(x, ".3") (vpdq_util.VpdqCompactFeature.__str__),
// values taken from CPython 3.11.
func TestPyFormat3(t *testing.T) {
	for x, want := range map[float64]string{
		0: "0.0", 1: "1.0", 2.5: "2.5", 12.25: "12.2", 59.999: "60.0", 100: "1e+02",
		123: "1.23e+02", 3600: "3.6e+03", 0.001: "0.001", 0.00001: "1e-05",
	} {
		if got := pyFormat3(x); got != want {
			t.Errorf("pyFormat3(%v) = %q, want %q", x, got, want)
		}
	}
}

// TestHMAVPDQString reads the signal string python-threatexchange writes
// (json.dumps of "hex,quality,timestamp" items) and writes it back the same.
func TestHMAVPDQString(t *testing.T) {
	h := "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	in := `["` + h + `,100,0.0", "` + h + `,87,1.0", "` + h + `,12,1.23e+02"]`
	fs, err := ParseHMAVPDQ(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 3 || fs[1].Quality != 87 || fs[2].Seconds != 123 || fs[0].Hash.String() != h {
		t.Fatalf("parsed %+v", fs)
	}
	if out := FormatHMAVPDQ(fs); out != in {
		t.Errorf("written back as %s", out)
	}
	for _, bad := range []string{`{}`, `["` + h + `,100"]`, `["` + h[:60] + `,100,0.0"]`, `["` + h + `,101,0.0"]`, `["` + h + `,50,-1"]`, `[1]`, `[]`, ` [ ] `, `null`, ``} {
		if _, err := ParseHMAVPDQ(bad); err == nil {
			t.Errorf("%s was accepted", bad)
		}
	}
}

// FuzzParseHMAVPDQ: any string is refused or parsed into frames that write
// back to a string parsed into the same hashes and qualities.
func FuzzParseHMAVPDQ(f *testing.F) {
	h := "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
	for _, s := range []string{"", "[]", `["` + h + `,100,0.0"]`, `["` + h + `,100,0.0", "` + h + `,3,1e+02"]`, `["x,1,2"]`, `[` + h + `]`, `["` + h + `,1,nan"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseHMAVPDQ(s)
		if err != nil {
			return
		}
		again, err := ParseHMAVPDQ(FormatHMAVPDQ(fs))
		if err != nil {
			t.Fatalf("%q written back does not parse: %v", s, err)
		}
		if len(again) != len(fs) {
			t.Fatalf("%q: %d frames, then %d", s, len(fs), len(again))
		}
		for i := range fs {
			if again[i].Hash != fs[i].Hash || again[i].Quality != fs[i].Quality {
				t.Fatalf("%q: frame %d changed", s, i)
			}
		}
	})
}
