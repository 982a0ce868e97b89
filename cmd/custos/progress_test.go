package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVerifyProgress checks what log verify prints of its stages where
// stderr is not a terminal: the leaves with their rate, the indexes built
// on the replay after them, then the tables compared, a line at most every
// ten seconds, but each stage's last always.
func TestVerifyProgress(t *testing.T) {
	var b bytes.Buffer
	p := verifyProgress(&b, false)
	p("leaves", 10, 10)
	p("indexes", 0, 2) // within ten seconds of the line before: not printed
	p("indexes", 1, 2)
	p("indexes", 2, 2)
	p("tables", 3, 3)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := []string{"leaves 10 of 10 (100%)", "indexes 2 of 2 built on the replay", "tables 3 of 3 compared"}
	if len(lines) != len(want) {
		t.Fatalf("printed:\n%s", b.String())
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("line %d: %q, want it to begin %q", i, lines[i], w)
		}
	}
}
