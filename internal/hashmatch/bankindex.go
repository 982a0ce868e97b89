package hashmatch

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

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
	// version is the bank's published version these entries are of,
	// named in each match (Match.BankVersion).
	version int
	idx     *index.Index
	entries []DocEntry // without their frames
	refs    []indexRef // index id i is refs[i]
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
	return loadBank(id, kind, owner, threshold, entries, indexFiles{}, 0)
}

// loadBank indexes the entries of one bank at generation gen; with
// files.dir set, through an index file there (see indexFiles.load).
func loadBank(id, kind, owner string, threshold int, entries []DocEntry, files indexFiles, gen int64) (*loadedBank, error) {
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
	start := time.Now()
	var how string
	var err error
	lb.idx, how, err = files.load(id, gen, hashes)
	if err == nil && files.log != nil {
		files.log.Info("hash bank indexed", "bank", id, "generation", gen, "hashes", len(hashes), "how", how, "took", time.Since(start).Round(time.Millisecond))
	}
	return lb, err
}

// indexFiles is where and how banks' PDQ indexes are saved as files: dir
// (Config.IndexDir; empty, none), the key that seals each file (derived
// from the registry's master key: Service.IndexKey) and the log that hears
// of a file refused.
type indexFiles struct {
	dir string
	key []byte
	log *slog.Logger
}

// load returns the index of hashes, hashes[i] under id i, and how it came
// to be (mapped, built, in memory). Without a directory or a key it builds
// it in memory: an unkeyed file would be trusted on a checksum anyone who
// can write the directory can recompute. Otherwise it maps the bank's index
// file for this generation when its MAC holds under the key and it holds
// exactly these hashes; a file that fails either is logged (a warning: it
// was damaged, or changed by someone without the key) and never used. Then
// (no file yet, another generation's, refused) it builds the file anew
// from the hashes, read from the database that the log verifies, removes
// the bank's older files and maps the new one. If the file cannot be
// written it falls back to the in-memory index, so a full or read-only
// disk slows a restart down but never stops matching.
func (f indexFiles) load(bank string, gen int64, hashes []index.Hash) (*index.Index, string, error) {
	if f.dir != "" && len(f.key) > 0 {
		prefix := "pdq-" + hex.EncodeToString([]byte(bank)) + "-"
		path := filepath.Join(f.dir, fmt.Sprintf("%s%d.idx", prefix, gen))
		x, err := index.Open(path, f.key)
		switch {
		case err == nil && x.HoldsExactly(hashes):
			return x, "mapped", nil
		case err == nil:
			err = errors.New("it holds other hashes than the bank's")
		}
		if !errors.Is(err, fs.ErrNotExist) && f.log != nil {
			f.log.Warn("hash bank index file refused; rebuilt from the database", "bank", bank, "file", path, "err", err)
		}
		if err := index.BuildFile(path, hashes, f.key); err == nil {
			if x, err := index.Open(path, f.key); err == nil && x.HoldsExactly(hashes) {
				old, _ := filepath.Glob(filepath.Join(f.dir, prefix+"*.idx"))
				for _, o := range old {
					if o != path {
						os.Remove(o)
					}
				}
				return x, "built", nil
			}
		}
	}
	ids := make([]uint64, len(hashes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	x, err := index.Build(ids, hashes)
	return x, "in memory", err
}

// matchable tells whether an index hit counts at this quality minimum: image
// entries always, video frames of sufficient quality.
func (b *loadedBank) matchable(id uint64, minQuality int) bool {
	r := b.refs[id]
	return !r.frame || r.quality >= minQuality
}

// Load builds or maps the index of every bank. A server calls it before it
// serves (server.App.Serve), so that no match waits for it. Nothing else
// needs to: the indexes are loaded when first needed, by the first match,
// so that a command that opens the registry without matching (listing
// disputes, setting thresholds, importing a list) never builds them.
func (s *Service) Load(ctx context.Context) error {
	_, err := s.refresh(ctx)
	return err
}

// refreshLoaded brings the indexes up to date after a change to the banks
// when they are loaded; a process that has not matched yet loads none (the
// next match's refresh finds the change by its generation).
func (s *Service) refreshLoaded(ctx context.Context) error {
	s.mu.Lock()
	loaded := s.loaded
	s.mu.Unlock()
	if !loaded {
		return nil
	}
	_, err := s.refresh(ctx)
	return err
}

// refresh rebuilds the index of every bank whose generation moved since it
// was loaded (another server on the same database may have published), and
// returns the current set; the first call loads every bank.
func (s *Service) refresh(ctx context.Context) (map[string]*loadedBank, error) {
	q := s.DB.Read()
	rows, err := q.Query(ctx, "SELECT id, owner_id, kind, threshold, query_match_threshold_pct, index_match_threshold_pct, generation, version FROM hm_banks")
	if err != nil {
		return nil, err
	}
	type meta struct {
		owner, kind        string
		threshold          int
		queryPct, indexPct float64
		gen                int64
		version            int
	}
	cur := map[string]meta{}
	for rows.Next() {
		var id string
		var m meta
		if err := rows.Scan(&id, &m.owner, &m.kind, &m.threshold, &m.queryPct, &m.indexPct, &m.gen, &m.version); err != nil {
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
	s.loaded = true
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
		lb, err := loadBank(id, m.kind, m.owner, m.threshold, entries, indexFiles{s.cfg.IndexDir, s.IndexKey, s.Log}, m.gen)
		if err != nil {
			return nil, err
		}
		lb.generation, lb.version = m.gen, m.version
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
	lb.version = d.Version
	return &LocalBank{lb}, nil
}

// LocalBank is a bank held by a service, matched offline.
type LocalBank struct{ b *loadedBank }
