package hashmatch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/index"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// loadedBank is the in-memory index of one bank's matchable entries (live and
// not quarantined), tagged with the bank's generation. An image entry is one
// hash of the index; a video entry is each of its distinct frame hashes.
type loadedBank struct {
	id, kind, owner string
	threshold       int
	generation      int64
	idx             *index.Index
	entries         []DocEntry // without their frames
	refs            []indexRef // index id i is refs[i]
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

// newLoadedBank indexes the entries of one bank.
func newLoadedBank(id, kind, owner string, threshold int, entries []DocEntry) (*loadedBank, error) {
	lb := &loadedBank{id: id, kind: kind, owner: owner, threshold: threshold,
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
	ids := make([]uint64, len(hashes))
	for i := range ids {
		ids[i] = uint64(i)
	}
	var err error
	lb.idx, err = index.Build(ids, hashes)
	return lb, err
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
	rows, err := q.Query(ctx, "SELECT id, owner_id, kind, threshold, generation FROM hm_banks")
	if err != nil {
		return nil, err
	}
	type meta struct {
		owner, kind string
		threshold   int
		gen         int64
	}
	cur := map[string]meta{}
	for rows.Next() {
		var id string
		var m meta
		if err := rows.Scan(&id, &m.owner, &m.kind, &m.threshold, &m.gen); err != nil {
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
			continue
		}
		entries, err := liveEntries(ctx, q, id)
		if err != nil {
			return nil, err
		}
		lb, err := newLoadedBank(id, m.kind, m.owner, m.threshold, entries)
		if err != nil {
			return nil, err
		}
		lb.generation = m.gen
		s.banks[id] = lb
	}
	out := make(map[string]*loadedBank, len(s.banks))
	for k, v := range s.banks {
		out[k] = v
	}
	return out, nil
}

// NewLocalBank builds a matchable bank from a verified document (a snapshot),
// for offline scans.
func NewLocalBank(d *Doc) (*LocalBank, error) {
	lb, err := newLoadedBank(d.Bank, d.Kind, d.Owner, d.Threshold, d.Adds)
	return &LocalBank{lb}, err
}

// LocalBank is a bank held by a service, matched offline.
type LocalBank struct{ b *loadedBank }

// MatchLocal searches banks for any of the variants of one image: known banks
// within their threshold, minus hits on suppression banks. It returns the
// matches by distance and whether a suppression hit cancelled them. Images
// match image entries only: frames of video entries are matched as videos
// (see MatchVideoLocal).
func MatchLocal(banks []*LocalBank, variants []pdq.Hash) ([]Match, bool, error) {
	lbs := make([]*loadedBank, len(banks))
	for i, b := range banks {
		lbs[i] = b.b
	}
	return search(lbs, variants, nil, 0)
}

func search(banks []*loadedBank, variants []pdq.Hash, own []pdq.Hash, ownRadius int) ([]Match, bool, error) {
	best := map[[2]string]Match{}
	suppressed := false
	for _, h := range variants {
		suppressed = suppressed || nearAny(h, own, ownRadius)
	}
	for _, b := range banks {
		for _, h := range variants {
			ms, err := b.idx.Search(toIndex(h), b.threshold)
			if err != nil {
				return nil, false, err
			}
			for _, m := range ms {
				r := b.refs[m.ID]
				if r.frame {
					continue
				}
				if b.kind == KindSuppression {
					suppressed = true
					continue
				}
				e := b.entries[r.entry]
				k := [2]string{b.id, e.EntryID}
				if old, ok := best[k]; !ok || m.Distance < old.Distance {
					best[k] = Match{BankID: b.id, EntryID: e.EntryID, Classification: e.Classification, Distance: m.Distance}
				}
			}
		}
	}
	out := make([]Match, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sortMatches(out)
	return out, suppressed, nil
}

// nearAny tells whether h is within radius of one of the hashes of list (a
// service's own suppression list).
func nearAny(h pdq.Hash, list []pdq.Hash, radius int) bool {
	for _, o := range list {
		if pdq.Distance(h, o) <= radius {
			return true
		}
	}
	return false
}

// sortMatches orders matches best first: by distance, then bank and entry.
func sortMatches(ms []Match) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Distance != ms[j].Distance {
			return ms[i].Distance < ms[j].Distance
		}
		if ms[i].BankID != ms[j].BankID {
			return ms[i].BankID < ms[j].BankID
		}
		return ms[i].EntryID < ms[j].EntryID
	})
}

// subscribed returns the loaded banks the provider subscribes to and its own
// suppression list.
func (s *Service) subscribed(ctx context.Context, provider string) ([]*loadedBank, []pdq.Hash, error) {
	all, err := s.refresh(ctx)
	if err != nil {
		return nil, nil, err
	}
	q := s.DB.Read()
	rows, err := q.Query(ctx, "SELECT bank_id FROM hm_subscriptions WHERE provider_id = ? ORDER BY bank_id", provider)
	if err != nil {
		return nil, nil, err
	}
	var banks []*loadedBank
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if b := all[id]; b != nil {
			banks = append(banks, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = q.Query(ctx, "SELECT pdq FROM hm_suppressions WHERE provider_id = ?", provider)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var own []pdq.Hash
	for rows.Next() {
		var hx string
		if err := rows.Scan(&hx); err != nil {
			return nil, nil, err
		}
		h, err := parsePDQ(hx)
		if err != nil {
			return nil, nil, err
		}
		own = append(own, h)
	}
	return banks, own, rows.Err()
}

type prepared struct {
	variants []pdq.Hash
	c        Case
	userID   string
}

// MatchHashes matches hashes a service computed itself, so content never
// leaves it. Low-quality hashes are refused as low_quality; a match opens a
// case for review; nothing is stored about queries that do not match.
func (s *Service) MatchHashes(ctx context.Context, p *auth.Principal, qs []Query) ([]Result, error) {
	if err := p.Require(auth.MatchHashes); err != nil {
		return nil, err
	}
	if len(qs) == 0 || len(qs) > MaxBatch {
		return nil, errs.Invalidf("batch_size", "items", "send 1 to %d hashes", MaxBatch)
	}
	ps := make([]prepared, len(qs))
	for i, q := range qs {
		f := fieldIndex("items", i)
		h, err := parsePDQ(q.PDQ)
		if err != nil {
			return nil, errs.Invalidf("pdq_hex", f+".pdq", "pdq must be a PDQ hash in 64 hexadecimal digits")
		}
		if q.Quality == nil || *q.Quality < 0 || *q.Quality > 100 {
			return nil, errs.Invalidf("required", f+".quality", "give the PDQ quality (0 to 100) the hasher reported")
		}
		c, err := caseFields(f, q)
		if err != nil {
			return nil, err
		}
		c.PDQ, c.Quality, c.Source = h.String(), *q.Quality, "hash"
		ps[i] = prepared{variants: []pdq.Hash{h}, c: c, userID: q.UserID}
	}
	return s.match(ctx, p, ps)
}

// MatchImage hashes uploaded image bytes (PDQ, and its eight dihedral
// variants so rotated or flipped copies match) and matches them like
// MatchHashes. The bytes are not kept.
func (s *Service) MatchImage(ctx context.Context, p *auth.Principal, r io.Reader, meta Query) (*Result, error) {
	if err := p.Require(auth.MatchHashes); err != nil {
		return nil, err
	}
	pr, err := s.prepareUpload(ctx, "", r, meta)
	if err != nil {
		return nil, err
	}
	res, err := s.match(ctx, p, []prepared{pr})
	if err != nil {
		return nil, err
	}
	return &res[0], nil
}

// MatchImages hashes and matches a batch of uploaded images, each as
// MatchImage does, and answers one result per image in order. next yields
// each image's bytes (at most MaxUpload) and fields, then io.EOF. An image
// that cannot be hashed, or whose fields are wrong, gets a result of status
// error naming files[N] (N from 0), and is not stored. Any other error, of
// next or of reading an image, and more than MaxImageBatch images, refuse the
// whole batch: every image is hashed before any case is opened, so a refused
// batch changes nothing.
func (s *Service) MatchImages(ctx context.Context, p *auth.Principal, next func() (io.Reader, Query, error)) ([]Result, error) {
	if err := p.Require(auth.MatchHashes); err != nil {
		return nil, err
	}
	var out []Result
	var ps []prepared
	var at []int // at[k] is the result of ps[k]
	for i := 0; ; i++ {
		r, meta, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if i == MaxImageBatch {
			return nil, errs.Invalidf("batch_size", "files", "send 1 to %d images in one batch", MaxImageBatch)
		}
		pr, err := s.prepareUpload(ctx, fieldIndex("files", i), r, meta)
		if e, ok := errs.As(err); ok {
			out = append(out, Result{Status: StatusError, Matches: []Match{}, Error: e})
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Result{})
		ps, at = append(ps, pr), append(at, i)
	}
	if len(out) == 0 {
		return nil, errs.Invalidf("batch_size", "files", "send 1 to %d images in one batch", MaxImageBatch)
	}
	if len(ps) == 0 {
		return out, nil
	}
	res, err := s.match(ctx, p, ps)
	if err != nil {
		return nil, err
	}
	for k, i := range at {
		out[i] = res[k]
	}
	return out, nil
}

// prepareUpload hashes one uploaded image for matching as a case of source
// upload. field is where refusals point ("" for a single upload); an error
// that is not an *errs.Error is a failure to read r.
func (s *Service) prepareUpload(ctx context.Context, field string, r io.Reader, meta Query) (prepared, error) {
	c, err := caseFields(field, meta)
	if err != nil {
		return prepared{}, err
	}
	h, err := hashImage(ctx, r, pdq.Options{MaxBytes: s.cfg.MaxUpload, MaxPixels: s.cfg.MaxPixels}, s.decodes)
	if e, ok := errs.As(err); ok && field != "" && e.Field == "" {
		e2 := *e
		e2.Field = field
		return prepared{}, &e2
	}
	if err != nil {
		return prepared{}, err
	}
	c.PDQ, c.Quality, c.MD5, c.SHA256, c.Source = h.PDQ.String(), h.Quality, h.MD5, h.SHA256, "upload"
	return prepared{variants: h.Variants(), c: c, userID: meta.UserID}, nil
}

func caseFields(prefix string, q Query) (Case, error) {
	var c Case
	var err error
	dot := func(f string) string {
		if prefix == "" {
			return f
		}
		return prefix + "." + f
	}
	if c.MD5, err = digest(dot("md5"), q.MD5, 32); err != nil {
		return c, err
	}
	if c.SHA256, err = digest(dot("sha256"), q.SHA256, 64); err != nil {
		return c, err
	}
	if c.ContentRef, err = text(dot("content_ref"), q.ContentRef, 500); err != nil {
		return c, err
	}
	if _, err = text(dot("user_id"), q.UserID, 500); err != nil {
		return c, err
	}
	if c.UploadedAt, err = parseTime(dot("uploaded_at"), q.UploadedAt); err != nil {
		return c, err
	}
	return c, nil
}

func (s *Service) match(ctx context.Context, p *auth.Principal, ps []prepared) ([]Result, error) {
	banks, own, err := s.subscribed(ctx, p.AuthorityID)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(ps))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	for i := range ps {
		pr := &ps[i]
		res := &out[i]
		res.PDQ, res.Quality, res.Matches = pr.c.PDQ, pr.c.Quality, []Match{}
		if pr.c.Quality < s.cfg.MinQuality {
			res.Status = StatusLowQuality
			continue
		}
		ms, sup, err := search(banks, pr.variants, own, s.cfg.SuppressionRadius)
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
			break
		}
		switch {
		case len(ms) == 0:
			res.Status = StatusNoMatch
			continue
		case sup:
			res.Status = StatusSuppressed
			continue
		}
		res.Status, res.Matches = StatusMatch, ms
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			id, err := s.openCase(ctx, p, pr, ms)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			res.CaseID = id
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// openCase records a match as a case for human review. It also counts the
// matched entries' recent matches and quarantines any entry past the limit.
func (s *Service) openCase(ctx context.Context, p *auth.Principal, pr *prepared, ms []Match) (string, error) {
	c := pr.c
	c.ID = s.W.IDs().New("HC")
	c.ProviderID = p.AuthorityID
	if pr.userID != "" {
		c.UserPseudonym = s.Vault.Pseudonym("hashmatch-user:"+p.AuthorityID, pr.userID)
	}
	c.BestBankID, c.BestEntryID, c.BestDistance = ms[0].BankID, ms[0].EntryID, ms[0].Distance
	c.Matches = ms
	alertIDs := make([]string, len(ms))
	for i := range alertIDs {
		alertIDs[i] = s.W.IDs().New("AL")
	}
	var out caseOpened
	err := s.submit(ctx, p, "open match case", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		since := ledger.FormatTime(now.Add(-s.cfg.QuarantineWindow))
		o := caseOpened{Case: c}
		for i, m := range ms {
			var n int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM hm_case_matches WHERE bank_id = ? AND entry_id = ? AND matched_at >= ?",
				m.BankID, m.EntryID, since).Scan(&n); err != nil {
				return nil, err
			}
			if n+1 < s.cfg.QuarantineLimit {
				continue
			}
			var quarantined int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM hm_entries WHERE id = ? AND quarantined_at IS NOT NULL", entryKey(m.BankID, m.EntryID)).Scan(&quarantined); err != nil {
				return nil, err
			}
			if quarantined == 0 {
				o.Quarantine = append(o.Quarantine, quarantine{BankID: m.BankID, EntryID: m.EntryID, AlertID: alertIDs[i], Count: n + 1})
			}
		}
		return ledger.NewEntry(TypeCaseOpened, o)
	}, &out)
	if err != nil {
		return "", err
	}
	if len(out.Quarantine) > 0 {
		if _, err := s.refresh(ctx); err != nil {
			return "", err
		}
	}
	return out.Case.ID, nil
}

// ImageHash is an image's PDQ hash as displayed, its quality, its file
// digests, and the hashes of its eight dihedral transforms (rotations by 0,
// 90, 180 and 270 degrees and four flips), so a rotated or mirrored copy
// still matches.
type ImageHash struct {
	PDQ      pdq.Hash
	Quality  int
	MD5      string
	SHA256   string
	Width    int
	Height   int
	Dihedral [8]pdq.Hash
}

// Variants are the hashes to search for: as displayed, then the dihedral set.
func (h *ImageHash) Variants() []pdq.Hash {
	out := []pdq.Hash{h.PDQ}
	for _, d := range h.Dihedral {
		if d != h.PDQ {
			out = append(out, d)
		}
	}
	return out
}

// decodeBudget bounds the pixels being decoded at once.
type decodeBudget struct {
	sem  *semaphore.Weighted
	size int64
}

func newDecodeBudget(pixels int64) *decodeBudget {
	return &decodeBudget{sem: semaphore.NewWeighted(pixels), size: pixels}
}

// HashImage reads one image (at most maxBytes) and hashes it.
func HashImage(r io.Reader, maxBytes int64) (*ImageHash, error) {
	return hashImage(context.Background(), r, pdq.Options{MaxBytes: maxBytes}, nil)
}

// hashImage reads one image within opt's limits and hashes it. With a
// budget, it first reads the image's header and waits (or gives up with
// ctx) until the budget has room for the pixels it declares, holding them
// until the hashing is done.
func hashImage(ctx context.Context, r io.Reader, opt pdq.Options, budget *decodeBudget) (*ImageHash, error) {
	data, err := io.ReadAll(io.LimitReader(r, opt.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > opt.MaxBytes {
		return nil, errs.New(errs.TooLarge, "image_size", "", "the image is larger than %d bytes", opt.MaxBytes)
	}
	if budget != nil {
		hd, err := opt.Inspect(data)
		if err != nil {
			return nil, imageError(err)
		}
		// An image larger than the whole budget (MaxPixels above
		// DecodeBudget) waits for all of it rather than forever.
		n := min(hd.Pixels(), budget.size)
		if err := budget.sem.Acquire(ctx, n); err != nil {
			return nil, err
		}
		defer budget.sem.Release(n)
	}
	img, orient, err := opt.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, imageError(err)
	}
	var hs pdq.Hasher
	hash, q, err := hs.FromImage(img, orient)
	if err != nil {
		return nil, imageError(err)
	}
	// The eight EXIF orientations are the eight dihedral transforms, so
	// hashing the stored pixels in each, through PDQ's own pipeline, gives
	// the dihedral set bit-exactly.
	var dih [8]pdq.Hash
	for o := pdq.Orientation(1); o <= 8; o++ {
		if dih[o-1], _, err = hs.FromImage(img, o); err != nil {
			return nil, imageError(err)
		}
	}
	md := md5.Sum(data)
	sh := sha256.Sum256(data)
	return &ImageHash{PDQ: hash, Quality: q, MD5: hex.EncodeToString(md[:]), SHA256: hex.EncodeToString(sh[:]),
		Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Dihedral: dih}, nil
}

func imageError(err error) error {
	switch {
	case errors.Is(err, pdq.ErrTooLarge):
		return errs.New(errs.TooLarge, "image_size", "", "%s", err.Error())
	case errors.Is(err, pdq.ErrTooManyPixels):
		return errs.New(errs.TooLarge, "image_pixels", "", "%s", strings.TrimPrefix(err.Error(), "pdq: "))
	}
	return errs.Invalidf("image", "", "the image cannot be hashed: %s", strings.TrimPrefix(err.Error(), "pdq: "))
}
