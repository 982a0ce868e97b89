package hashmatch

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"

	"github.com/custos-project/custos/internal/hashmatch/index"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
)

// loadedBank is the in-memory index of one bank's matchable entries (live and
// not quarantined), tagged with the bank's generation. An image entry is one
// hash of the index; a video entry is each of its distinct frame hashes.
type loadedBank struct {
	id, kind, owner string
	threshold       int
	// queryPct and indexPct are the bank's vPDQ match percentages
	// (query_match_threshold_pct, index_match_threshold_pct).
	queryPct, indexPct float64
	generation         int64
	idx                *index.Index
	entries            []DocEntry // without their frames
	refs               []indexRef // index id i is refs[i]
	// videoQ[e] holds, for a video entry e, the quality of each of its
	// distinct frame hashes (the best of the frames sharing it); nil for
	// an image entry.
	videoQ [][]int
}

// indexRef is what one hash of a bank's index stands for: an image entry, or
// a distinct frame of a video entry with its quality.
type indexRef struct {
	entry   int
	frame   bool
	quality int
}

// newLoadedBank indexes the entries of one bank in memory.
func newLoadedBank(id, kind, owner string, threshold int, entries []DocEntry) (*loadedBank, error) {
	return loadBank(id, kind, owner, threshold, entries, "", 0)
}

// loadBank indexes the entries of one bank at generation gen; with dir
// set, through an index file there (see loadIndex).
func loadBank(id, kind, owner string, threshold int, entries []DocEntry, dir string, gen int64) (*loadedBank, error) {
	lb := &loadedBank{id: id, kind: kind, owner: owner, threshold: threshold,
		queryPct: vpdq.DefaultQueryPct, indexPct: vpdq.DefaultTargetPct,
		entries: make([]DocEntry, len(entries)), videoQ: make([][]int, len(entries))}
	var hashes []index.Hash
	for i, e := range entries {
		lb.entries[i] = e
		lb.entries[i].Video = nil
		if e.Video == nil {
			h, err := parsePDQ(e.PDQ)
			if err != nil {
				return nil, err
			}
			lb.refs = append(lb.refs, indexRef{entry: i})
			hashes = append(hashes, toIndex(h))
			continue
		}
		at := map[pdq.Hash]int{} // distinct hash -> its ref
		for _, f := range e.Video.Frames {
			h, err := parsePDQ(f.PDQ)
			if err != nil {
				return nil, err
			}
			if r, ok := at[h]; ok {
				lb.refs[r].quality = max(lb.refs[r].quality, f.Quality)
				continue
			}
			at[h] = len(lb.refs)
			lb.refs = append(lb.refs, indexRef{entry: i, frame: true, quality: f.Quality})
			hashes = append(hashes, toIndex(h))
		}
		q := make([]int, 0, len(at))
		for _, r := range at {
			q = append(q, lb.refs[r].quality)
		}
		lb.videoQ[i] = q
	}
	var err error
	lb.idx, err = loadIndex(dir, id, gen, hashes)
	return lb, err
}

// loadIndex returns the index of hashes, hashes[i] under id i. Without dir
// it builds it in memory. With dir it maps the bank's index file for this
// generation when that file holds exactly these hashes; otherwise (no file
// yet, another generation's, damaged, another format) it builds the file
// anew, removes the bank's older files and maps the new one. If the file
// cannot be written it falls back to the in-memory index, so a full or
// read-only disk slows a restart down but never stops matching.
func loadIndex(dir, bank string, gen int64, hashes []index.Hash) (*index.Index, error) {
	if dir != "" {
		prefix := "pdq-" + hex.EncodeToString([]byte(bank)) + "-"
		path := filepath.Join(dir, fmt.Sprintf("%s%d.idx", prefix, gen))
		if x, err := index.Open(path); err == nil && x.HoldsExactly(hashes) {
			return x, nil
		}
		if err := index.BuildFile(path, hashes); err == nil {
			if x, err := index.Open(path); err == nil && x.HoldsExactly(hashes) {
				old, _ := filepath.Glob(filepath.Join(dir, prefix+"*.idx"))
				for _, o := range old {
					if o != path {
						os.Remove(o)
					}
				}
				return x, nil
			}
		}
	}
	ids := make([]uint64, len(hashes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	return index.Build(ids, hashes)
}

// matchable tells whether an index hit counts at this quality minimum: image
// entries always, video frames of sufficient quality.
func (b *loadedBank) matchable(id uint64, minQuality int) bool {
	r := b.refs[id]
	return !r.frame || r.quality >= minQuality
}

// Load builds the index of every bank; the server calls it at start.
func (s *Service) Load(ctx context.Context) error {
	_, err := s.refresh(ctx)
	return err
}

// refresh rebuilds the index of every bank whose generation moved since it
// was loaded (another server on the same database may have published), and
// returns the current set.
func (s *Service) refresh(ctx context.Context) (map[string]*loadedBank, error) {
	q := s.DB.Read()
	rows, err := q.Query(ctx, "SELECT id, owner_id, kind, threshold, query_match_threshold_pct, index_match_threshold_pct, generation FROM hm_banks")
	if err != nil {
		return nil, err
	}
	type meta struct {
		owner, kind        string
		threshold          int
		queryPct, indexPct float64
		gen                int64
	}
	cur := map[string]meta{}
	for rows.Next() {
		var id string
		var m meta
		if err := rows.Scan(&id, &m.owner, &m.kind, &m.threshold, &m.queryPct, &m.indexPct, &m.gen); err != nil {
			rows.Close()
			return nil, err
		}
		cur[id] = m
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.banks {
		if _, ok := cur[id]; !ok {
			delete(s.banks, id)
		}
	}
	for id, m := range cur {
		if lb := s.banks[id]; lb != nil && lb.generation == m.gen {
			if lb.queryPct != m.queryPct || lb.indexPct != m.indexPct {
				// New percentages, same entries: a copy sharing the index,
				// since searches in flight may hold the old one.
				c := *lb
				c.queryPct, c.indexPct = m.queryPct, m.indexPct
				s.banks[id] = &c
			}
			continue
		}
		entries, err := liveEntries(ctx, q, id)
		if err != nil {
			return nil, err
		}
		lb, err := loadBank(id, m.kind, m.owner, m.threshold, entries, s.cfg.IndexDir, m.gen)
		if err != nil {
			return nil, err
		}
		lb.generation = m.gen
		lb.queryPct, lb.indexPct = m.queryPct, m.indexPct
		s.banks[id] = lb
	}
	out := make(map[string]*loadedBank, len(s.banks))
	for k, v := range s.banks {
		out[k] = v
	}
	return out, nil
}

// NewLocalBank builds a matchable bank from a verified document (a snapshot),
// for offline scans, with the vPDQ percentages the snapshot gives.
func NewLocalBank(d *Doc) (*LocalBank, error) {
	lb, err := newLoadedBank(d.Bank, d.Kind, d.Owner, d.Threshold, d.Adds)
	if err != nil {
		return nil, err
	}
	lb.queryPct, lb.indexPct = d.VideoPcts()
	return &LocalBank{lb}, nil
}

// LocalBank is a bank held by a service, matched offline.
type LocalBank struct{ b *loadedBank }
