// Package zone shows the log's UTC times in a person's time zone and reads
// the local times people type back into UTC. The log, the database and the
// API keep UTC (RFC 3339); only what people read and type is local: the
// zone of the principal's preference, else the registry's (custos serve
// --zone), else UTC.
//
// The time zone database is embedded (time/tzdata), so that a machine
// without /usr/share/zoneinfo knows every IANA zone all the same.
//
// Local times that do not name their offset are ambiguous twice a year
// where clocks change. A time that does not exist (the hour skipped when
// clocks move forward, such as 02:30 on the last Sunday of March in
// Europe/Paris) is refused with rule time_gap, naming the field: it is
// never a time a clock showed, so it is a mistake, and guessing would put
// a wrong time in a record that cannot be changed silently. A time that
// happens twice (the hour repeated when clocks move back) is read as the
// first of the two, the one still on the earlier offset; who means the
// second can give it through the API, in RFC 3339 with its offset.
package zone

import (
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // every IANA zone, even without the system's database

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
)

// Field is the name of a time zone in requests, forms and refusals.
const Field = "time_zone"

// InputLayout is how an HTML datetime-local input writes a local time.
const InputLayout = "2006-01-02T15:04"

// storedLayouts are the layouts of the timestamps custos keeps: the
// ledger's (microseconds, Z) and RFC 3339.
var storedLayouts = []string{"2006-01-02T15:04:05.000000Z", time.RFC3339Nano}

var cache sync.Map // name -> *time.Location

// Load returns the zone of an IANA name such as Africa/Dakar or
// Europe/Paris; "" and "UTC" are UTC. A name that is not a zone of the
// time zone database, or is "Local" (the server's own, which nobody
// reading the page can know), is refused with rule time_zone on field.
func Load(field, name string) (*time.Location, error) {
	if name == "" || name == "UTC" {
		return time.UTC, nil
	}
	if l, ok := cache.Load(name); ok {
		return l.(*time.Location), nil
	}
	clean, err := check.Line(field, name, 64, false)
	if err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(clean)
	if err != nil || clean != name || name == "Local" {
		return nil, errs.Invalidf("time_zone", field, "%s is not a time zone: give an IANA name such as Africa/Dakar, Europe/Paris or UTC", quote(name))
	}
	cache.Store(name, loc)
	return loc, nil
}

// quote writes a refused value short and printable.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Format writes t for people, to the minute, in loc with the zone shown:
// "2026-12-02 09:15 WAT (UTC+1)"; in UTC "2026-12-02 09:15 UTC"; where the
// zone has no abbreviation, its offset alone: "2026-12-02 13:15 UTC+5".
func Format(t time.Time, loc *time.Location) string { return FormatLayout(t, loc, "2006-01-02 15:04") }

// FormatSeconds is Format to the second, for what happens within a minute
// (a verification that runs).
func FormatSeconds(t time.Time, loc *time.Location) string {
	return FormatLayout(t, loc, "2006-01-02 15:04:05")
}

// FormatLayout is Format with the layout of a language (i18n.Localizer's
// Layout: "02/01/2006 15:04" in French), the zone shown after it.
func FormatLayout(t time.Time, loc *time.Location, layout string) string {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	return t.Format(layout) + " " + abbrev(t)
}

// abbrev names the zone of t as Format shows it: "UTC", "CET (UTC+1)",
// "UTC+5:30" where the zone has no abbreviation of letters.
func abbrev(t time.Time) string {
	name, off := t.Zone()
	if off == 0 && (name == "UTC" || name == "") {
		return "UTC"
	}
	o := offset(off)
	if name == "" || strings.ContainsAny(name[:1], "+-0123456789") {
		return o
	}
	return name + " (" + o + ")"
}

// offset writes a UTC offset in seconds as UTC+1, UTC-3:30, UTC+0.
func offset(s int) string {
	sign := "+"
	if s < 0 {
		sign, s = "-", -s
	}
	h, m := s/3600, s%3600/60
	if m == 0 {
		return fmt.Sprintf("UTC%s%d", sign, h)
	}
	return fmt.Sprintf("UTC%s%d:%02d", sign, h, m)
}

// Stamp writes a stored timestamp (the ledger's layout or RFC 3339) as
// Format does; anything else, a date without a time or an empty value,
// stays as it is.
func Stamp(s string, loc *time.Location) string { return StampLayout(s, loc, "2006-01-02 15:04") }

// StampLayout is Stamp with the layout of a language (FormatLayout).
func StampLayout(s string, loc *time.Location, layout string) string {
	for _, stored := range storedLayouts {
		if t, err := time.Parse(stored, s); err == nil {
			return FormatLayout(t, loc, layout)
		}
	}
	return s
}

// Input writes t in loc as a datetime-local input shows it.
func Input(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format(InputLayout)
}

// localLayouts are the local times ParseInput reads: a datetime-local
// input's, with seconds or fractions as browsers may send them, and with a
// space for one typed by hand.
var localLayouts = []string{InputLayout, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// ParseInput reads a local time typed in loc (a datetime-local value) and
// returns it in UTC; a time with its offset (RFC 3339) is read as it says.
// An empty value is the zero time, for the registry to refuse as required.
// A malformed value is refused with rule time_format, a time that does not
// exist in loc (clocks moved forward over it) with rule time_gap; a time
// that happens twice is the first (see the package's documentation).
func ParseInput(field, s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range localLayouts {
		naive, err := time.Parse(layout, s) // the wall clock, read as if in UTC
		if err != nil {
			continue
		}
		t, ok := resolve(naive, loc)
		if !ok {
			return time.Time{}, errs.Invalidf("time_gap", field, "%s: %s does not exist in %s (the clocks moved forward over it); give the time the clocks showed",
				field, naive.Format("2006-01-02 15:04"), loc)
		}
		return t.UTC(), nil
	}
	return time.Time{}, errs.Invalidf("time_format", field, "%s must be a date and time in %s, such as 2026-03-01T14:30", field, loc)
}

// resolve finds the earliest instant whose wall clock in loc is naive's
// (naive's fields, its zone ignored); false when there is none. The
// offsets tried are loc's a day either side of it, which hold both sides
// of any change of offset.
func resolve(naive time.Time, loc *time.Location) (time.Time, bool) {
	var best time.Time
	found := false
	for _, probe := range []time.Duration{-24 * time.Hour, 0, 24 * time.Hour} {
		_, off := naive.Add(probe).In(loc).Zone()
		cand := naive.Add(-time.Duration(off) * time.Second)
		if !sameWall(cand.In(loc), naive) {
			continue
		}
		if !found || cand.Before(best) {
			best, found = cand, true
		}
	}
	return best, found
}

func sameWall(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd && a.Hour() == b.Hour() && a.Minute() == b.Minute() &&
		a.Second() == b.Second() && a.Nanosecond() == b.Nanosecond()
}
