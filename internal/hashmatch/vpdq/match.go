package vpdq

import "github.com/custos-project/custos/internal/hashmatch/pdq"

// Defaults of [MatchOptions], those of python-threatexchange's vPDQ signal
// type (VPDQ_DISTANCE_THRESHOLD, VPDQ_QUALITY_THRESHOLD,
// VPDQ_QUERY_MATCH_THRESHOLD_PERCENT, VPDQ_INDEX_MATCH_THRESHOLD_PERCENT).
const (
	DefaultDistance   = 31
	DefaultQualityMin = 50
	DefaultQueryPct   = 80.0
	DefaultTargetPct  = 0.0
)

// MatchOptions configures [Match]. A zero field takes its default; a
// negative one stands for zero (Distance -1: identical hashes only;
// QualityMin -1: keep every frame; QueryPct -1: no requirement on the
// query).
type MatchOptions struct {
	// Distance is the largest Hamming distance at which two frames match
	// (inclusive, as in python-threatexchange and the vPDQ description;
	// the C++ match-hashes-brute tool's "< 31" is Distance 30). Default 31.
	Distance int
	// QualityMin drops frames of lower PDQ quality from both sides before
	// matching. Default 50.
	QualityMin int
	// QueryPct is the query match percentage (0..100) needed for a match.
	// Default 80.
	QueryPct float64
	// TargetPct is the target match percentage (0..100) needed for a
	// match. Default 0: a query may contain the target among other content.
	TargetPct float64
}

func (o MatchOptions) withDefaults() MatchOptions {
	o.Distance = orDefault(o.Distance, DefaultDistance)
	o.QualityMin = orDefault(o.QualityMin, DefaultQualityMin)
	o.QueryPct = orDefault(o.QueryPct, DefaultQueryPct)
	o.TargetPct = orDefault(o.TargetPct, DefaultTargetPct)
	return o
}

func orDefault[T int | float64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Result is the outcome of [Match].
type Result struct {
	// QueryMatchPct is the percentage (0..100) of the query's unique
	// frames of sufficient quality within Distance of some such target
	// frame; TargetMatchPct is the converse.
	QueryMatchPct  float64
	TargetMatchPct float64
	// Match reports whether both percentages reach the thresholds and at
	// least one frame matched.
	Match bool
	// QueryFrames and TargetFrames count the unique frames of sufficient
	// quality compared on each side; QueryMatched and TargetMatched how
	// many of them matched.
	QueryFrames, TargetFrames   int
	QueryMatched, TargetMatched int
}

// Match compares a query video's frames with a target video's, the vPDQ
// way (python-threatexchange's match_VPDQ_hash_brute): frames below
// QualityMin are dropped, then repeated hashes (only the first occurrence
// of each hash counts); each remaining query frame is matched when some
// remaining target frame is within Distance, and conversely. Frame numbers
// and timestamps play no part. When either side has no frame left, both
// percentages are 0 and there is no match.
//
// The cost is one Hamming distance per pair of unique frames.
func Match(query, target []Frame, opt MatchOptions) Result {
	opt = opt.withDefaults()
	q := uniqueHashes(query, opt.QualityMin)
	t := uniqueHashes(target, opt.QualityMin)
	res := Result{QueryFrames: len(q), TargetFrames: len(t)}
	if len(q) == 0 || len(t) == 0 {
		return res
	}
	tMatched := make([]bool, len(t))
	for _, qh := range q {
		found := false
		for j, th := range t {
			if pdq.Distance(qh, th) <= opt.Distance {
				found = true
				tMatched[j] = true
			}
		}
		if found {
			res.QueryMatched++
		}
	}
	for _, m := range tMatched {
		if m {
			res.TargetMatched++
		}
	}
	res.QueryMatchPct = float64(res.QueryMatched) * 100 / float64(len(q))
	res.TargetMatchPct = float64(res.TargetMatched) * 100 / float64(len(t))
	res.Match = res.QueryMatched > 0 &&
		res.QueryMatchPct >= opt.QueryPct && res.TargetMatchPct >= opt.TargetPct
	return res
}

// uniqueHashes returns the distinct hashes of the frames of at least the
// given quality, in order of first appearance.
func uniqueHashes(frames []Frame, qualityMin int) []pdq.Hash {
	seen := make(map[pdq.Hash]struct{}, len(frames))
	out := make([]pdq.Hash, 0, len(frames))
	for _, f := range frames {
		if f.Quality < qualityMin {
			continue
		}
		if _, ok := seen[f.Hash]; ok {
			continue
		}
		seen[f.Hash] = struct{}{}
		out = append(out, f.Hash)
	}
	return out
}

// Prune returns the frames left after dropping each frame within distance
// (inclusive) of the last frame kept, the first frame always being kept:
// the "pruning frames" step of the vPDQ description, which shrinks a hash
// made of runs of near-identical frames. A distance of 0 drops only exact
// repeats of the previous kept hash. frames is not modified.
func Prune(frames []Frame, distance int) []Frame {
	if len(frames) == 0 {
		return nil
	}
	out := []Frame{frames[0]}
	last := frames[0].Hash
	for _, f := range frames[1:] {
		if pdq.Distance(f.Hash, last) <= distance {
			continue
		}
		out = append(out, f)
		last = f.Hash
	}
	return out
}
