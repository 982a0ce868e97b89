package vpdq

import (
	"testing"

	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// flip returns h with its first n bits inverted.
func flip(h pdq.Hash, n int) pdq.Hash {
	for k := range n {
		h[3-k/64] ^= 1 << (uint(k) % 64)
	}
	return h
}

func TestMatchCounts(t *testing.T) {
	a := pdq.Hash{0x0123456789abcdef, 0xfedcba9876543210, 0x0f0f0f0f0f0f0f0f, 0xf0f0f0f0f0f0f0f0}
	b := pdq.Hash{^a[0], ^a[1], a[2], a[3]} // 128 bits from a
	c := pdq.Hash{a[0], a[1], ^a[2], ^a[3]} // 128 bits from a, 256 from b
	query := []Frame{
		{Index: 0, Hash: a, Quality: 100},
		{Index: 1, Hash: a, Quality: 100},           // duplicate: counted once
		{Index: 2, Hash: b, Quality: 90},            // no partner in target
		{Index: 3, Hash: flip(c, 40), Quality: 10},  // low quality: ignored
		{Index: 4, Hash: flip(a, 31), Quality: 100}, // exactly at distance 31 of a
	}
	target := []Frame{
		{Index: 0, Hash: flip(a, 5), Quality: 80},
		{Index: 1, Hash: c, Quality: 80},
		{Index: 2, Hash: flip(b, 32), Quality: 80}, // just beyond 31 from b
	}
	r := Match(query, target, MatchOptions{})
	// Query frames compared: a, b, a31 -> a and a31 match a5 (distance 5 and 26).
	if r.QueryFrames != 3 || r.QueryMatched != 2 || r.TargetFrames != 3 || r.TargetMatched != 1 {
		t.Fatalf("counts %+v", r)
	}
	if r.QueryMatchPct != 200.0/3 || r.TargetMatchPct != 100.0/3 {
		t.Errorf("percentages %v, %v", r.QueryMatchPct, r.TargetMatchPct)
	}
	if r.Match { // 66.7% < 80%
		t.Error("matched below the default query threshold")
	}
	if r := Match(query, target, MatchOptions{QueryPct: 60, TargetPct: 30}); !r.Match {
		t.Errorf("no match with thresholds 60/30: %+v", r)
	}
	if r := Match(query, target, MatchOptions{QueryPct: 60, TargetPct: 40}); r.Match {
		t.Errorf("match with target threshold 40: %+v", r)
	}
	// Distance is inclusive: 31 bits apart match by default, not at 30.
	if r := Match([]Frame{{Hash: flip(a, 31), Quality: 100}}, []Frame{{Hash: a, Quality: 100}}, MatchOptions{Distance: 30}); r.QueryMatched != 0 {
		t.Errorf("distance 31 matched with Distance 30: %+v", r)
	}
	if r := Match([]Frame{{Hash: flip(a, 31), Quality: 100}}, []Frame{{Hash: a, Quality: 100}}, MatchOptions{}); !r.Match || r.QueryMatchPct != 100 {
		t.Errorf("distance 31 not matched by default: %+v", r)
	}
	// Negative options stand for zero.
	if r := Match([]Frame{{Hash: flip(a, 1), Quality: 100}}, []Frame{{Hash: a, Quality: 100}}, MatchOptions{Distance: -1}); r.QueryMatched != 0 {
		t.Errorf("Distance -1 matched different hashes: %+v", r)
	}
	if r := Match([]Frame{{Hash: a, Quality: 0}}, []Frame{{Hash: a, Quality: 0}}, MatchOptions{QualityMin: -1}); !r.Match {
		t.Errorf("QualityMin -1 dropped frames: %+v", r)
	}
}

func TestMatchEmpty(t *testing.T) {
	f := []Frame{{Hash: pdq.Hash{1, 2, 3, 4}, Quality: 100}}
	low := []Frame{{Hash: pdq.Hash{1, 2, 3, 4}, Quality: 49}}
	for _, c := range []struct{ q, t []Frame }{{nil, f}, {f, nil}, {nil, nil}, {low, f}, {f, low}} {
		r := Match(c.q, c.t, MatchOptions{QueryPct: -1})
		if r.Match || r.QueryMatchPct != 0 || r.TargetMatchPct != 0 {
			t.Errorf("Match(%v, %v) = %+v", c.q, c.t, r)
		}
	}
}

// TestMatchReferenceHashes compares reference hash files: each matches
// itself fully, variants of the same clip match, different clips do not.
func TestMatchReferenceHashes(t *testing.T) {
	cases := []struct {
		query, target string
		match         bool
	}{
		{"doorknob-hd-no-bar.txt", "doorknob-hd-no-bar.txt", true},
		{"doorknob-hd-no-bar.txt", "doorknob-hd-no-bar-128x128.txt", true},
		{"pattern-hd-no-bar.txt", "pattern-longer-no-bar.txt", true},
		{"chair-19-sd-bar.txt", "chair-22-sd-sepia-bar.txt", true},
		{"chair-19-sd-bar.txt", "chair-22-with-small-logo-bar.txt", true},
		{"doorknob-hd-no-bar.txt", "pattern-hd-no-bar.txt", false},
		{"pattern-hd-no-bar.txt", "chair-orig-22-hd-no-bar.txt", false},
		{"chair-19-sd-bar.txt", "chair-22-with-large-logo-bar.txt", false},
	}
	for _, c := range cases {
		r := Match(refHashes(t, c.query), refHashes(t, c.target), MatchOptions{})
		t.Logf("%s in %s: query %.2f%%, target %.2f%% (%d/%d, %d/%d frames)", c.query, c.target,
			r.QueryMatchPct, r.TargetMatchPct, r.QueryMatched, r.QueryFrames, r.TargetMatched, r.TargetFrames)
		if r.Match != c.match {
			t.Errorf("%s in %s: match %v, want %v", c.query, c.target, r.Match, c.match)
		}
		if c.query == c.target && (r.QueryMatchPct != 100 || r.TargetMatchPct != 100) {
			t.Errorf("%s against itself: %+v", c.query, r)
		}
	}
}

func TestPrune(t *testing.T) {
	a := pdq.Hash{1, 2, 3, 4}
	frames := []Frame{
		{Index: 0, Hash: a},
		{Index: 1, Hash: a},           // 0 from a: pruned
		{Index: 2, Hash: flip(a, 2)},  // 2 from a: pruned
		{Index: 3, Hash: flip(a, 3)},  // 3 from a: kept
		{Index: 4, Hash: flip(a, 5)},  // 2 from the last kept: pruned
		{Index: 5, Hash: flip(a, 12)}, // kept
	}
	got := Prune(frames, 2)
	var idx []int
	for _, f := range got {
		idx = append(idx, f.Index)
	}
	if len(idx) != 3 || idx[0] != 0 || idx[1] != 3 || idx[2] != 5 {
		t.Errorf("Prune kept frames %v, want [0 3 5]", idx)
	}
	if len(Prune(frames, -1)) != len(frames) {
		t.Error("Prune with a negative distance dropped frames")
	}
	if got := Prune(frames, 0); len(got) != 5 {
		t.Errorf("Prune(0) kept %d frames, want 5", len(got))
	}
	if Prune(nil, 5) != nil {
		t.Error("Prune(nil) != nil")
	}
}

// TestPruneKeepsMatch checks, on reference hashes, that a hash pruned at a
// distance within the match distance still matches its full form both
// ways: every pruned frame is close to a kept one.
func TestPruneKeepsMatch(t *testing.T) {
	for _, name := range []string{"doorknob-hd-no-bar.txt", "chair-22-sd-sepia-bar.txt"} {
		full := refHashes(t, name)
		for _, d := range []int{0, 10, 31} {
			pruned := Prune(full, d)
			r := Match(pruned, full, MatchOptions{QualityMin: -1})
			t.Logf("%s pruned at %d: %d of %d frames", name, d, len(pruned), len(full))
			if r.QueryMatchPct != 100 || r.TargetMatchPct != 100 {
				t.Errorf("%s pruned at %d: %+v", name, d, r)
			}
		}
	}
}
