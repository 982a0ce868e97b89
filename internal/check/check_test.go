package check_test

import (
	"testing"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
)

func ptr(n int) *int { return &n }

// TestRefusals pins each check's rule, field and wording: clients match on
// the rule and show the message.
func TestRefusals(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	str := func(_ string, err error) error { return err }
	for _, c := range []struct {
		name      string
		err       error
		rule, msg string
	}{
		{"required", check.Required("donor_id", ""), "required", "donor_id is required"},
		{"enum", check.OneOf("sex", "other", []string{"female", "male"}), "enum", "sex must be one of female, male"},
		{"known state", check.RealState("f", "ZZ"), "known_state", "f must name a state: ZZ is ISO 3166-1's code for an unknown or unspecified state, which no registry or authority is of and nothing can be sent to, shared with or returned to"},
		{"trimmed too long", str(check.Trimmed("f", " abcd ", 3)), "too_long", "f is at most 3 characters"},
		{"text required", str(check.Text("f", " \t", 10, true)), "required", "f is required"},
		{"text too long", str(check.Text("f", "abcd", 3, false)), "too_long", "f is at most 3 characters"},
		{"text control", str(check.Text("f", "a\x01b", 10, false)), "control_character", "f contains a control character"},
		{"range", check.IntRange("f", ptr(0), 1, 400), "range", "f must be between 1 and 400"},
		{"date required", str(check.Date("f", "", true)), "required", "f is required (YYYY-MM-DD)"},
		{"date format", str(check.Date("f", "01/02/2020", false)), "date_format", "f must be a date written YYYY-MM-DD"},
		{"date range", str(check.Date("f", "1899-12-31", false)), "date_range", "f is before 1900"},
		{"date future", check.DateNotFuture("f", "2026-03-02", now), "dates_in_order", "f is in the future"},
		{"time required", func() error { _, err := check.Time("f", ""); return err }(), "required", "f is required (RFC 3339, e.g. 2026-03-01T14:30:00Z)"},
		{"time format", func() error { _, err := check.Time("f", "2026-03-01 14:30"); return err }(), "time_format", "f must be an RFC 3339 time such as 2026-03-01T14:30:00Z"},
		{"time range", func() error { _, err := check.Time("f", "1899-03-01T14:30:00Z"); return err }(), "date_range", "f is before 1900"},
		{"time future", check.NotFuture("f", now.Add(6*time.Minute), now), "dates_in_order", "f (2026-03-01T12:06:00Z) is in the future"},
		{"optional time", str(check.OptionalTime("f", "yesterday")), "rfc3339", "f must be an RFC 3339 time such as 2025-01-31T14:05:00Z"},
		{"digest length", str(check.HexDigest("f", "abc", 32)), "hex_digest", "f must be 32 hexadecimal digits"},
		{"email", str(check.Email("f", "not an address")), "email", "f is not an e-mail address"},
		{"email with two @", str(check.Email("f", `"@"@c.example`)), "email", "f is not an e-mail address"},
		{"email whose quotes hid a leading dot", str(check.Email("f", `".c"@c.example`)), "email", "f is not an e-mail address"},
		{"digest digits", str(check.HexDigest("f", "g0000000000000000000000000000000", 32)), "hex_digest", "f must be 32 hexadecimal digits"},
	} {
		e, ok := errs.As(c.err)
		if !ok {
			t.Errorf("%s: got %v, want a refusal", c.name, c.err)
			continue
		}
		want := "f"
		switch c.name {
		case "required":
			want = "donor_id"
		case "enum":
			want = "sex"
		}
		if e.Code != errs.Invalid || e.Rule != c.rule || e.Field != want || e.Message != c.msg {
			t.Errorf("%s: got %s %s %s %q, want invalid %s %s %q", c.name, e.Code, e.Rule, e.Field, e.Message, c.rule, want, c.msg)
		}
	}
}

// TestAccepts checks what each check returns for a good value.
func TestAccepts(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name, got, want string
	}{
		{"index", check.Index("organs", 3), "organs[3]"},
		{"trimmed", must(check.Trimmed("f", " a\tb ", 3)), "a\tb"},
		{"text", must(check.Text("f", "  two\nlines\t ", 20, true)), "two\nlines"},
		{"date", must(check.Date("f", "2026-03-01", true)), "2026-03-01"},
		{"no date", must(check.Date("f", "", false)), ""},
		{"optional time", must(check.OptionalTime("f", " 2026-03-01T15:30:00.5+01:00 ")), "2026-03-01T14:30:00.500000Z"},
		{"no time", must(check.OptionalTime("f", "")), ""},
		{"digest", must(check.HexDigest("f", " D41D8CD98F00B204E9800998ECF8427E ", 32)), "d41d8cd98f00b204e9800998ecf8427e"},
		{"no digest", must(check.HexDigest("f", "", 32)), ""},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, c.got, c.want)
		}
	}
	tm, err := check.Time("f", "2026-03-01T15:30:00+01:00")
	if err != nil || !tm.Equal(time.Date(2026, 3, 1, 14, 30, 0, 0, time.UTC)) || tm.Location() != time.UTC {
		t.Errorf("time: got %v, %v", tm, err)
	}
	for _, err := range []error{
		check.Required("f", " "), check.OneOf("f", "b", []string{"a", "b"}), check.IntRange("f", nil, 1, 2),
		check.IntRange("f", ptr(2), 1, 2), check.DateNotFuture("f", "2026-03-01", now), check.DateNotFuture("f", "", now),
		check.NotFuture("f", now.Add(5*time.Minute), now),
	} {
		if err != nil {
			t.Errorf("refused a good value: %v", err)
		}
	}
}

func must(s string, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return s
}

// TestTimeLayout keeps OptionalTime writing times as the ledger does.
func TestTimeLayout(t *testing.T) {
	at := time.Date(2026, 3, 1, 14, 30, 0, 500_000_000, time.UTC)
	got, err := check.OptionalTime("f", at.Format(time.RFC3339Nano))
	if err != nil || got != ledger.FormatTime(at) {
		t.Errorf("got %q, %v; want %q", got, err, ledger.FormatTime(at))
	}
}

func TestCleanTexts(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   func(string) (string, error)
		in   string
		want string
		rule string
	}{
		{"line NFC", func(s string) (string, error) { return check.Line("name", s, 200, true) }, " Cafe\u0301 ", "Caf\u00e9", ""},
		{"line newline", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\nb", "", "control_character"},
		{"line tab", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\tb", "", "control_character"},
		{"line separator", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\u2028b", "", "control_character"},
		{"line DEL", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\x7fb", "", "control_character"},
		{"line C1", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\u0085b", "", "control_character"},
		{"line override", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "abc\u202Egpj.exe", "", "bidi_character"},
		{"line isolate", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\u2066b\u2069", "", "bidi_character"},
		{"line RTL mark passes", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "\u05d3\u05e0\u05d4\u200f 2", "\u05d3\u05e0\u05d4\u200f 2", ""},
		{"line required", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "  ", "", "required"},
		{"line too long", func(s string) (string, error) { return check.Line("name", s, 3, true) }, "abcd", "", "too_long"},
		{"line of 3 characters in 9 bytes", func(s string) (string, error) { return check.Line("name", s, 3, true) }, "王小明", "王小明", ""},
		{"line of 4 characters in 12 bytes", func(s string) (string, error) { return check.Line("name", s, 3, true) }, "王小明明", "", "too_long"},
		{"text of 3 characters in 6 bytes", func(s string) (string, error) { return check.Text("notes", s, 3, true) }, "Жук", "Жук", ""},
		{"line not UTF-8", func(s string) (string, error) { return check.Line("name", s, 200, true) }, "a\xffb", "", "utf8"},
		{"text newline", func(s string) (string, error) { return check.Text("notes", s, 200, true) }, "a\nb\tc", "a\nb\tc", ""},
		{"text bell", func(s string) (string, error) { return check.Text("notes", s, 200, true) }, "a\x07b", "", "control_character"},
		{"text override", func(s string) (string, error) { return check.Text("notes", s, 200, false) }, "a\u202Db", "", "bidi_character"},
		{"text NFC", func(s string) (string, error) { return check.Text("notes", s, 200, false) }, "A\u030a", "\u00c5", ""},
		{"trimmed override", func(s string) (string, error) { return check.Trimmed("note", s, 200) }, "a\u2067b", "", "bidi_character"},
		{"trimmed newline", func(s string) (string, error) { return check.Trimmed("note", s, 200) }, " a\nb ", "a\nb", ""},
	} {
		got, err := c.fn(c.in)
		e, _ := errs.As(err)
		switch {
		case c.rule == "" && (err != nil || got != c.want):
			t.Errorf("%s: %q, %v; want %q", c.name, got, err, c.want)
		case c.rule != "" && (e == nil || e.Rule != c.rule || e.Field == ""):
			t.Errorf("%s: %q, %v; want rule %s", c.name, got, err, c.rule)
		}
	}
}

// TestRealStatePasses: the codes of states, the other user-assigned codes
// (the demo's XA, XB) and an empty value (the caller's rule for a field
// not given) pass; ZZ alone is refused, as TestRefusals pins.
func TestRealStatePasses(t *testing.T) {
	for _, code := range []string{"FR", "XA", "XB", "AA", "QM", ""} {
		if err := check.RealState("state", code); err != nil {
			t.Errorf("%q: %v", code, err)
		}
	}
}
