package hashmatch

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
)

func frame(h string, q int, s float64) VideoFrame { return VideoFrame{PDQ: h, Quality: q, Seconds: s} }

func videoEntry(frames ...VideoFrame) DocEntry {
	return DocEntry{EntryID: "v1", Classification: "A1", Video: &VideoHash{Frames: frames}}
}

// TestVideoEntryValidation: every malformed video entry is refused with the
// rule and the field at fault; a good one comes out normalised.
func TestVideoEntryValidation(t *testing.T) {
	many := make([]VideoFrame, MaxVideoFrames+1)
	for i := range many {
		many[i] = frame(h1, 90, float64(i))
	}
	for _, tc := range []struct {
		name        string
		e           DocEntry
		rule, field string
	}{
		{"no frames", videoEntry(), "video_frames", "adds[3].video.frames"},
		{"too many frames", videoEntry(many...), "video_frames", "adds[3].video.frames"},
		{"bad hash", videoEntry(frame(h1, 90, 0), frame("abc", 90, 1)), "pdq_hex", "adds[3].video.frames[1].pdq"},
		{"quality above 100", videoEntry(frame(h1, 101, 0)), "range", "adds[3].video.frames[0].quality"},
		{"negative quality", videoEntry(frame(h1, 90, 0), frame(h2, -1, 1)), "range", "adds[3].video.frames[1].quality"},
		{"negative time", videoEntry(frame(h1, 90, -0.5)), "range", "adds[3].video.frames[0].seconds"},
		{"time too far", videoEntry(frame(h1, 90, MaxVideoSeconds+1)), "range", "adds[3].video.frames[0].seconds"},
		{"time going back", videoEntry(frame(h1, 90, 2), frame(h2, 90, 1)), "frame_order", "adds[3].video.frames[1].seconds"},
		{"no usable frame", videoEntry(frame(h1, 49, 0), frame(h2, 10, 1)), "video_quality", "adds[3].video.frames"},
		{"image and video", func() DocEntry { e := videoEntry(frame(h1, 90, 0)); e.PDQ = h2; return e }(), "pdq_or_video", "adds[3].video"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := normalizeEntry("adds[3]", tc.e)
			e, ok := errs.As(err)
			if !ok || e.Code != errs.Invalid || e.Rule != tc.rule || e.Field != tc.field {
				t.Errorf("got %v, want rule %s on %s", err, tc.rule, tc.field)
			}
		})
	}
	e, err := normalizeEntry("adds[0]", DocEntry{EntryID: "v1", Video: &VideoHash{Frames: []VideoFrame{
		frame(strings.ToUpper(h1), 90, 0.00049), frame(h2, 30, 0.0005), frame(h2, 70, 1.23456)}}})
	if err != nil {
		t.Fatal(err)
	}
	want := []VideoFrame{frame(h1, 90, 0), frame(h2, 30, 0.001), frame(h2, 70, 1.235)}
	if !slices.Equal(e.Video.Frames, want) || e.PDQ != "" || e.Classification != "unspecified" {
		t.Errorf("normalised %+v, want frames %+v", e, want)
	}
}

// TestImageEntryCanonicalUnchanged: banks signed before video entries keep
// their bytes, so their signatures and hash chains still verify.
func TestImageEntryCanonicalUnchanged(t *testing.T) {
	d := Doc{Format: DocFormat, Bank: "HB-1", Name: "n", Owner: "CM-1", Kind: KindKnown, Threshold: 31, Version: 1,
		Adds: []DocEntry{{EntryID: "e1", PDQ: h1, MD5: strings.Repeat("a", 32), Classification: "A1"}}}
	b, err := d.Canonical()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"format":"custos-hashmatch/v1","bank":"HB-1","name":"n","owner":"CM-1","kind":"known","threshold":31,"version":1,"previous":"",` +
		`"adds":[{"entry_id":"e1","pdq":"` + h1 + `","md5":"` + strings.Repeat("a", 32) + `","classification":"A1"}],"deletes":[]}`
	if string(b) != want {
		t.Errorf("canonical\n%s\nwant\n%s", b, want)
	}
}

// TestParseJSONVideo: the json import format carries video entries and names
// the field at fault inside the list.
func TestParseJSONVideo(t *testing.T) {
	v, st, err := ParseList(FormatJSON, []byte(`{"adds":[{"entry_id":"img","pdq":"`+h1+`"},
		{"entry_id":"vid","classification":"B1","video":{"frames":[{"pdq":"`+h1+`","quality":90,"seconds":0},{"pdq":"`+h2+`","quality":80,"seconds":1}]}}],
		"deletes":["old"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if st.Adds != 2 || st.Deletes != 1 || v.Adds[1].Video == nil || len(v.Adds[1].Video.Frames) != 2 || v.Adds[0].Video != nil {
		t.Fatalf("parsed %+v %+v", st, v)
	}
	for in, want := range map[string]string{
		`{"adds":[{"entry_id":"vid","video":{"frames":[{"pdq":"` + h1 + `","quality":90,"seconds":0},{"pdq":"zz","quality":90,"seconds":1}]}}]}`: "adds[0].video.frames[1].pdq",
		`{"adds":[{"entry_id":"vid","video":{"frames":[{"pdq":"` + h1 + `","quality":90,"second":0}]}}]}`:                                        "custos version",
		`{"deletes":["a/b"]}`: "deletes[0]",
		`{"adds":[]} {}`:      "nothing after it",
	} {
		_, _, err := ParseList(FormatJSON, []byte(in))
		if e, ok := errs.As(err); !ok || e.Field != "content" || !strings.Contains(e.Message, want) {
			t.Errorf("%s: got %v, want a refusal naming %s", in, err, want)
		}
	}
}

// near returns h with n distinct random bits flipped.
func near(r *rand.Rand, h pdq.Hash, n int) pdq.Hash {
	for _, b := range r.Perm(256)[:n] {
		h[b/64] ^= 1 << (b % 64)
	}
	return h
}

// TestSearchVideoMatchesBruteForce: on random banks of image and video
// entries, with suppression banks, a suppression list, thresholds and
// percentages of every kind, the index-based video matcher finds exactly the
// entries that brute force finds with vpdq.Match (video entries) and frame
// by frame comparison (image entries), with the same percentages and
// distances.
func TestSearchVideoMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 7))
	randHash := func() pdq.Hash { return pdq.Hash{r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64()} }
	videos, images, suppressed := 0, 0, 0
	for round := range 60 {
		scenes := make([]pdq.Hash, 12)
		for i := range scenes {
			scenes[i] = randHash()
		}
		// A video's frames: runs of frames near a few scenes, repeats
		// included, qualities of every kind.
		video := func(n int) []vpdq.Frame {
			fs := make([]vpdq.Frame, n)
			for i := range fs {
				h := near(r, scenes[r.IntN(len(scenes))], r.IntN(40))
				if i > 0 && r.IntN(5) == 0 {
					h = fs[i-1].Hash
				}
				fs[i] = vpdq.Frame{Index: i, Hash: h, Quality: []int{0, 30, 49, 50, 80, 100}[r.IntN(6)], Seconds: float64(i)}
			}
			return fs
		}
		minQuality := []int{1, 50, 80}[r.IntN(3)]
		opt := videoOptions{minQuality: minQuality, ownRadius: 16}
		var banks []*loadedBank
		entryFrames := map[string][]vpdq.Frame{}
		for b := range 3 {
			kind := KindKnown
			if b == 2 {
				kind = KindSuppression
			}
			var entries []DocEntry
			for e := range 6 {
				id := fmt.Sprintf("b%d-e%d", b, e)
				if e%3 == 0 {
					entries = append(entries, DocEntry{EntryID: id, PDQ: near(r, scenes[r.IntN(len(scenes))], r.IntN(30)).String()})
					continue
				}
				fs := video(1 + r.IntN(15))
				if b == 2 && e > 1 {
					continue // a small suppression bank
				}
				entryFrames[id] = fs
				entries = append(entries, DocEntry{EntryID: id, Video: &VideoHash{Frames: VideoFrames(fs)}})
			}
			lb, err := newLoadedBank(fmt.Sprintf("HB-%d", b), kind, "CM-1", []int{0, 8, 31, 45}[r.IntN(4)], entries)
			if err != nil {
				t.Fatal(err)
			}
			// Each bank its own percentages, as its owner set them.
			lb.queryPct, lb.indexPct = []float64{0, 30, 80, 100}[r.IntN(4)], []float64{0, 20, 100}[r.IntN(3)]
			banks = append(banks, lb)
		}
		own := []pdq.Hash{near(r, scenes[0], 5)}
		for qn := range 10 {
			query := video(r.IntN(25))
			got, err := searchVideo(banks, query, own, opt)
			if err != nil {
				t.Fatal(err)
			}
			want := bruteVideo(banks, entryFrames, query, own, opt)
			for _, m := range want {
				if m.QueryMatchPct != nil {
					videos++
				} else {
					images++
				}
			}
			if got.suppressed {
				suppressed++
			}
			if g, w := describe(got.matches), describe(want); g != w {
				t.Fatalf("round %d query %d (min quality %d):\nindex: %s\nbrute: %s", round, qn, opt.minQuality, g, w)
			}
		}
	}
	// The cases must have come up, or the comparison proves little.
	t.Logf("%d video matches, %d image matches, %d queries with suppressed hits", videos, images, suppressed)
	if videos < 50 || images < 50 || suppressed < 10 {
		t.Errorf("too few cases: %d video matches, %d image matches, %d suppressed", videos, images, suppressed)
	}
}

// bruteVideo is the reference: drop suppressed query frames, then compare
// every query frame with every image entry and run vpdq.Match against every
// video entry.
func bruteVideo(banks []*loadedBank, entryFrames map[string][]vpdq.Frame, query []vpdq.Frame, own []pdq.Hash, opt videoOptions) []Match {
	hashOf := func(e DocEntry) pdq.Hash { h, _ := parsePDQ(e.PDQ); return h }
	var kept []vpdq.Frame
	for _, f := range query {
		if f.Quality < opt.minQuality {
			continue
		}
		sup := false
		for _, o := range own {
			sup = sup || pdq.Distance(f.Hash, o) <= opt.ownRadius
		}
		for _, b := range banks {
			if b.kind != KindSuppression {
				continue
			}
			for _, e := range b.entries {
				if fs, ok := entryFrames[e.EntryID]; ok {
					for _, g := range fs {
						sup = sup || (g.Quality >= opt.minQuality && pdq.Distance(f.Hash, g.Hash) <= b.threshold)
					}
				} else {
					sup = sup || pdq.Distance(f.Hash, hashOf(e)) <= b.threshold
				}
			}
		}
		if !sup {
			kept = append(kept, f)
		}
	}
	var out []Match
	for _, b := range banks {
		if b.kind == KindSuppression {
			continue
		}
		for _, e := range b.entries {
			m := Match{BankID: b.id, EntryID: e.EntryID, Distance: 257}
			fs, isVideo := entryFrames[e.EntryID]
			for _, f := range kept {
				if isVideo {
					for _, g := range fs {
						if g.Quality >= opt.minQuality {
							m.Distance = min(m.Distance, pdq.Distance(f.Hash, g.Hash))
						}
					}
				} else if d := pdq.Distance(f.Hash, hashOf(e)); d <= b.threshold {
					m.Distance = min(m.Distance, d)
				}
			}
			if !isVideo {
				if m.Distance <= b.threshold {
					out = append(out, m)
				}
				continue
			}
			dist := b.threshold
			if dist == 0 {
				dist = -1 // vpdq's "identical only"
			}
			res := vpdq.Match(kept, fs, vpdq.MatchOptions{Distance: dist, QualityMin: opt.minQuality,
				QueryPct: orNone(b.queryPct), TargetPct: orNone(b.indexPct)})
			if res.Match {
				m.QueryMatchPct, m.TargetMatchPct = &res.QueryMatchPct, &res.TargetMatchPct
				out = append(out, m)
			}
		}
	}
	sortMatches(out)
	return out
}

// orNone maps a required percentage of 0 to vpdq's "no requirement" (-1).
func orNone(p float64) float64 {
	if p == 0 {
		return -1
	}
	return p
}

func describe(ms []Match) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s/%s@%d", m.BankID, m.EntryID, m.Distance)
		if m.QueryMatchPct != nil {
			fmt.Fprintf(&b, "(%v%%,%v%%)", *m.QueryMatchPct, *m.TargetMatchPct)
		}
		b.WriteString(" ")
	}
	js, _ := json.Marshal(len(ms))
	return string(js) + ": " + b.String()
}
