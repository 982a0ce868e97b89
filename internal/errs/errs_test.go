package errs

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestQuotedValueCut checks that an alert quotes at most MaxQuoted
// characters of a value, in its message and in the arguments a translation
// takes, and leaves shorter values, other arguments and refusals that raise
// no alert (whose messages custos may build long itself) as they are.
func TestQuotedValueCut(t *testing.T) {
	long := strings.Repeat("é", 5000)
	e := Alertf(Forbidden, "own_centre", "centre_id", "a coordinator records only for their own centre (%s), not %s (%d)", "TC-1", long, 7)
	want := "a coordinator records only for their own centre (TC-1), not " + strings.Repeat("é", MaxQuoted) + "… (7)"
	if e.Message != want {
		t.Errorf("message of %d characters, want %d", utf8.RuneCountInString(e.Message), utf8.RuneCountInString(want))
	}
	_, args := e.Sentence()
	if args[0] != "TC-1" || args[1] != strings.Repeat("é", MaxQuoted)+"…" || args[2] != 7 {
		t.Errorf("the translation's arguments: %q", args)
	}
	exact := strings.Repeat("x", MaxQuoted)
	if e := Alertf(Conflict, "r", "f", "%s", exact); e.Message != exact {
		t.Errorf("a value of exactly %d characters was changed: %q", MaxQuoted, e.Message)
	}
	if e := Invalidf("r", "f", "%s", long); e.Message != long {
		t.Errorf("a refusal without an alert was cut to %d characters", utf8.RuneCountInString(e.Message))
	}
}

// TestEcho checks what custos repeats of a name someone else wrote: a plain
// one as it is, a long one cut at the limit with an ellipsis, control
// characters, quotes, backslashes and bytes that are not UTF-8 escaped, even
// where the cut falls among them.
func TestEcho(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"limit", "limit"},
		{"centre_id", "centre_id"},
		{"héllo wörd", "héllo wörd"},
		{strings.Repeat("é", 10), strings.Repeat("é", 10)},
		{strings.Repeat("é", 11), strings.Repeat("é", 10) + "…"},
		{"a\x1b[2Jb", `a\x1b[2Jb`},
		{"line\nforge", `line\nforge`},
		{`say "hi"\o`, `say \"hi\"\\o`},
		{"bad\xffbyte", `bad\xffbyte`},
		{strings.Repeat("\xff", 12), strings.Repeat(`\xff`, 10) + "…"},
		{"\u202eevil", `\u202eevil`},
	} {
		if got := Echo(c.in, 10); got != c.want {
			t.Errorf("Echo(%q, 10) = %q, want %q", c.in, got, c.want)
		}
	}
	huge := strings.Repeat("x", 10<<10)
	if got := Echo(huge, MaxEchoed); got != strings.Repeat("x", MaxEchoed)+"…" {
		t.Errorf("a name of 10 kB echoed as %d bytes", len(got))
	}
}
