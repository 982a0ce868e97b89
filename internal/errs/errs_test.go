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
