package web

import "testing"

// TestHashmatchListsLabelled: every value of the hash-matching section's
// selects has its words, so that no select shows a value made into a word
// ("Te-csv", "Hma") untranslated, as the list formats' selects did for the
// ThreatExchange and HMA formats.
func TestHashmatchListsLabelled(t *testing.T) {
	for list, values := range hashmatchLists {
		for _, v := range values {
			if _, ok := hashmatchLabels[v]; !ok {
				t.Errorf("list %s: value %q has no label", list, v)
			}
		}
	}
}
