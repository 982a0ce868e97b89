package zone

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := Load(Field, name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		zone, at, want string
	}{
		{"", "2026-12-02T08:15:00Z", "2026-12-02 08:15 UTC"},
		{"UTC", "2026-12-02T08:15:59Z", "2026-12-02 08:15 UTC"},
		{"Africa/Lagos", "2026-12-02T08:15:00Z", "2026-12-02 09:15 WAT (UTC+1)"},
		{"Africa/Dakar", "2026-12-02T08:15:00Z", "2026-12-02 08:15 GMT (UTC+0)"},
		{"Europe/Paris", "2026-01-15T09:00:00Z", "2026-01-15 10:00 CET (UTC+1)"},
		{"Europe/Paris", "2026-07-01T09:00:00Z", "2026-07-01 11:00 CEST (UTC+2)"},
		{"Asia/Kolkata", "2026-12-02T08:15:00Z", "2026-12-02 13:45 IST (UTC+5:30)"},
		{"America/St_Johns", "2026-12-02T08:15:00Z", "2026-12-02 04:45 NST (UTC-3:30)"},
		{"Asia/Dubai", "2026-12-02T08:15:00Z", "2026-12-02 12:15 UTC+4"}, // tzdata names it "+04"
		{"America/Sao_Paulo", "2026-12-02T08:15:00Z", "2026-12-02 05:15 UTC-3"},
		{"Pacific/Kiritimati", "2026-12-31T23:30:00Z", "2027-01-01 13:30 UTC+14"},
	} {
		if got := Format(utc(c.at), mustLoad(t, c.zone)); got != c.want {
			t.Errorf("Format(%s in %q) = %q, want %q", c.at, c.zone, got, c.want)
		}
	}
	if got := FormatSeconds(utc("2026-07-01T09:00:07Z"), mustLoad(t, "Europe/Paris")); got != "2026-07-01 11:00:07 CEST (UTC+2)" {
		t.Errorf("FormatSeconds = %q", got)
	}
	if got := Format(utc("2026-07-01T09:00:07Z"), nil); got != "2026-07-01 09:00 UTC" {
		t.Errorf("Format with no zone = %q", got)
	}
}

func TestStamp(t *testing.T) {
	paris := mustLoad(t, "Europe/Paris")
	for in, want := range map[string]string{
		"2026-03-29T00:59:00.000000Z": "2026-03-29 01:59 CET (UTC+1)",
		"2026-03-29T01:00:00.000000Z": "2026-03-29 03:00 CEST (UTC+2)",
		"2026-10-25T00:30:00Z":        "2026-10-25 02:30 CEST (UTC+2)",
		"2026-10-25T01:30:00Z":        "2026-10-25 02:30 CET (UTC+1)",
		"2026-10-25T03:30:00+02:00":   "2026-10-25 02:30 CET (UTC+1)",
		"1980-05-01":                  "1980-05-01", // a date stays a date
		"":                            "",
		"soon":                        "soon",
	} {
		if got := Stamp(in, paris); got != want {
			t.Errorf("Stamp(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoad(t *testing.T) {
	for _, name := range []string{"", "UTC", "Europe/Paris", "Africa/Dakar", "America/Argentina/Buenos_Aires", "Etc/GMT-14"} {
		if _, err := Load(Field, name); err != nil {
			t.Errorf("Load(%q): %v", name, err)
		}
	}
	// The embedded database answers for a zone twice, from the cache.
	a, b := mustLoad(t, "Asia/Tokyo"), mustLoad(t, "Asia/Tokyo")
	if a != b {
		t.Error("Asia/Tokyo loaded twice gives two locations")
	}
	for name, rule := range map[string]string{
		"Mars/Olympus_Mons":            "time_zone",
		"Local":                        "time_zone",
		"europe/paris":                 "time_zone",
		"../../etc/passwd":             "time_zone",
		"/usr/share/zoneinf":           "time_zone",
		"Europe/Paris\n":               "time_zone",
		"Europe/\nParis":               "control_character",
		"Europe/\u202eParis":           "bidi_character",
		" Europe/Paris":                "time_zone",
		string(make([]byte, 65)) + "x": "control_character",
	} {
		_, err := Load("zone", name)
		e, ok := errs.As(err)
		if !ok || e.Code != errs.Invalid || e.Rule != rule || e.Field != "zone" {
			t.Errorf("Load(%q) = %v, want rule %s on field zone", name, err, rule)
		}
	}
}

func TestParseInput(t *testing.T) {
	paris, ny, lordHowe := mustLoad(t, "Europe/Paris"), mustLoad(t, "America/New_York"), mustLoad(t, "Australia/Lord_Howe")
	for _, c := range []struct {
		loc      *time.Location
		in, want string // want: RFC 3339 UTC, or the rule refused
	}{
		{time.UTC, "2026-03-01T14:30", "2026-03-01T14:30:00Z"},
		{paris, "2026-01-15T10:00", "2026-01-15T09:00:00Z"},
		{paris, "2026-07-01T10:00", "2026-07-01T08:00:00Z"},
		{paris, "2026-07-01T10:00:30", "2026-07-01T08:00:30Z"},
		{paris, "2026-07-01 10:00", "2026-07-01T08:00:00Z"},
		{paris, " 2026-07-01T10:00 ", "2026-07-01T08:00:00Z"},
		// Spring forward in Paris, 2026-03-29: 02:00 CET becomes 03:00 CEST.
		{paris, "2026-03-29T01:59", "2026-03-29T00:59:00Z"},
		{paris, "2026-03-29T02:00", "time_gap"},
		{paris, "2026-03-29T02:30", "time_gap"},
		{paris, "2026-03-29T02:59", "time_gap"},
		{paris, "2026-03-29T03:00", "2026-03-29T01:00:00Z"},
		// Fall back, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00 to 02:59
		// happen twice and are read as the first time (CEST).
		{paris, "2026-10-25T01:59", "2026-10-24T23:59:00Z"},
		{paris, "2026-10-25T02:00", "2026-10-25T00:00:00Z"},
		{paris, "2026-10-25T02:30", "2026-10-25T00:30:00Z"},
		{paris, "2026-10-25T03:00", "2026-10-25T02:00:00Z"},
		{ny, "2026-03-08T02:30", "time_gap"},
		{ny, "2026-11-01T01:30", "2026-11-01T05:30:00Z"},
		// Lord Howe Island moves its clocks by half an hour.
		{lordHowe, "2026-10-04T02:15", "time_gap"},
		{lordHowe, "2026-10-04T02:30", "2026-10-03T15:30:00Z"},
		// A time with its offset is read as it says, whatever the zone.
		{paris, "2026-10-25T02:30:00+01:00", "2026-10-25T01:30:00Z"},
		{paris, "2026-03-29T02:30:00Z", "2026-03-29T02:30:00Z"},
		{paris, "2026-13-01T10:00", "time_format"},
		{paris, "2026-02-30T10:00", "time_format"},
		{paris, "tomorrow", "time_format"},
		{paris, "2026-07-01", "time_format"},
	} {
		got, err := ParseInput("at", c.in, c.loc)
		if len(c.want) > 0 && c.want[0] != '2' {
			e, ok := errs.As(err)
			if !ok || e.Rule != c.want || e.Field != "at" {
				t.Errorf("ParseInput(%q, %s) = %v, %v; want rule %s on field at", c.in, c.loc, got, err, c.want)
			}
			continue
		}
		if err != nil || got.Format(time.RFC3339) != c.want || got.Location() != time.UTC {
			t.Errorf("ParseInput(%q, %s) = %v, %v; want %s", c.in, c.loc, got, err, c.want)
		}
	}
	if got, err := ParseInput("at", "", paris); err != nil || !got.IsZero() {
		t.Errorf("an empty value: %v, %v", got, err)
	}
}

// TestRoundTripAcrossDST shows every quarter hour of the days Paris and
// New York change clocks as a form would (Input) and reads it back
// (ParseInput): each comes back as itself, but for the second pass of the
// repeated hour, which a form cannot tell from the first and comes back an
// hour earlier.
func TestRoundTripAcrossDST(t *testing.T) {
	for _, c := range []struct {
		zone     string
		day      string
		repeated [2]string // the second pass of the repeated hour, in UTC: [from, to)
	}{
		{"Europe/Paris", "2026-03-28T22:00:00Z", [2]string{}},
		{"Europe/Paris", "2026-10-24T22:00:00Z", [2]string{"2026-10-25T01:00:00Z", "2026-10-25T02:00:00Z"}},
		{"America/New_York", "2026-11-01T04:00:00Z", [2]string{"2026-11-01T06:00:00Z", "2026-11-01T07:00:00Z"}},
	} {
		loc := mustLoad(t, c.zone)
		start := utc(c.day)
		for at := start; at.Before(start.Add(26 * time.Hour)); at = at.Add(15 * time.Minute) {
			back, err := ParseInput("at", Input(at, loc), loc)
			if err != nil {
				t.Fatalf("%s: %s shown as %s: %v", c.zone, at, Input(at, loc), err)
			}
			want := at
			if c.repeated[0] != "" && !at.Before(utc(c.repeated[0])) && at.Before(utc(c.repeated[1])) {
				want = at.Add(-time.Hour)
			}
			if !back.Equal(want) {
				t.Errorf("%s: %s shown as %s read back as %s, want %s", c.zone, at, Input(at, loc), back, want)
			}
		}
	}
}

func FuzzParseInput(f *testing.F) {
	for _, s := range []string{"2026-03-29T02:30", "2026-10-25T02:30", "2026-07-01T10:00:30.5", "2026-07-01 10:00", "2026-10-25T02:30:00+01:00", "", "x"} {
		f.Add(s, "Europe/Paris")
	}
	f.Add("2026-10-04T02:15", "Australia/Lord_Howe")
	f.Fuzz(func(t *testing.T, s, name string) {
		loc, err := Load(Field, name)
		if err != nil {
			return
		}
		got, err := ParseInput("at", s, loc)
		if err != nil {
			if e, ok := errs.As(err); !ok || (e.Rule != "time_format" && e.Rule != "time_gap") {
				t.Fatalf("ParseInput(%q) refused with %v", s, err)
			}
			return
		}
		if got.IsZero() || got.Year() < 1 || got.Year() > 9999 {
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("ParseInput(%q) = %v, not UTC", s, got)
		}
		// What a form shows of it reads back as the same wall clock, at
		// the same instant or, in a repeated hour, the first one: never
		// later.
		shown := Input(got, loc)
		again, err := ParseInput("at", shown, loc)
		if err != nil || Input(again, loc) != shown || again.After(got) {
			t.Fatalf("ParseInput(%q) = %v, shown %q, read back %v, %v", s, got, shown, again, err)
		}
	})
}
