package hashmatch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/index"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
)

// videoOptions decide a video match: frames below minQuality are not
// matched and frames within ownRadius of the service's own suppression list
// are dropped. A video entry matches when vPDQ's percentages reach its
// bank's query_match_threshold_pct and index_match_threshold_pct.
type videoOptions struct {
	minQuality, ownRadius int
}

// videoOutcome is what matching one video found.
type videoOutcome struct {
	frames     int     // distinct frames of sufficient quality
	usable     int     // of those, the ones not suppressed
	suppressed bool    // a suppressed frame hit a known entry
	matches    []Match // best first
	best       vpdq.Frame
	// matchedFrames are the distinct query frames within the threshold of
	// a matched entry, in the video's order: what a rejection suppresses.
	matchedFrames []pdq.Hash
	query         []vpdq.Frame            // the distinct frames matched
	hits          map[[2]string]*videoHit // bank, entry -> its hits, for the matches by frames
}

// settle orders the matches best first and derives from them the matched
// frames and the best frame (the closest pair of the best match by frames).
func (o *videoOutcome) settle() {
	sortMatches(o.matches)
	o.matchedFrames, o.best = nil, vpdq.Frame{}
	matched := make([]bool, len(o.query))
	found := false
	for _, m := range o.matches {
		h := o.hits[[2]string{m.BankID, m.EntryID}]
		if h == nil {
			continue // an MD5 match: no frame
		}
		if !found {
			o.best, found = o.query[h.bestQuery], true
		}
		for _, i := range h.frames {
			matched[i] = true
		}
	}
	for i, ok := range matched {
		if ok {
			o.matchedFrames = append(o.matchedFrames, o.query[i].Hash)
		}
	}
}

// drop removes the matches for which gone is true and settles the rest.
func (o *videoOutcome) drop(gone func(Match) bool) {
	o.matches = slices.DeleteFunc(o.matches, gone)
	o.settle()
}

// status is the answer to the query: match, suppressed (only suppressed
// frames matched), low_quality (no frame to match) or no_match.
func (o *videoOutcome) status() string {
	switch {
	case len(o.matches) > 0:
		return StatusMatch
	case o.suppressed:
		return StatusSuppressed
	case o.frames == 0:
		return StatusLowQuality
	}
	return StatusNoMatch
}

// distinctFrames keeps the frames of at least minQuality, each hash once (its
// first frame), in order: the query side of vPDQ matching.
func distinctFrames(frames []vpdq.Frame, minQuality int) []vpdq.Frame {
	seen := make(map[pdq.Hash]bool, len(frames))
	out := make([]vpdq.Frame, 0, len(frames))
	for _, f := range frames {
		if f.Quality < minQuality || seen[f.Hash] {
			continue
		}
		seen[f.Hash] = true
		out = append(out, f)
	}
	return out
}

// videoHit accumulates one entry's hits by a query video's frames.
type videoHit struct {
	bank      *loadedBank
	entry     int
	queried   int                 // distinct query frames within the threshold of the entry
	lastQuery int                 // the last query frame counted in queried
	targets   map[uint64]struct{} // the entry's distinct frames hit
	distance  int                 // closest pair
	bestQuery int                 // the query frame of the closest pair
	first     int                 // the first query frame that hit
	frames    []int               // the query frames that hit, in order
}

// searchVideo matches a video's frames against the banks the vPDQ way,
// using each bank's index instead of comparing every pair of frames:
//
//   - the query keeps its distinct frames of quality >= minQuality;
//   - a frame within a suppression bank's threshold of one of its hashes
//     (an image entry, or a frame of a video entry of sufficient quality), or
//     within ownRadius of the service's own suppression list, is dropped: a
//     known false positive (a logo, a black frame) is not evidence;
//   - every remaining frame is searched in each known bank's index within
//     the bank's threshold. A hit on an image entry is a match (a known image
//     appears in the video). Hits on the frames of a video entry count
//     towards vPDQ's percentages: the share of the remaining query frames
//     with a hit in the entry, and the share of the entry's distinct frames
//     of sufficient quality hit by some query frame. The entry matches when
//     they reach the bank's query_match_threshold_pct and
//     index_match_threshold_pct, exactly as vpdq.Match would decide
//     on the same frames with the bank's threshold as distance (a test
//     checks it against brute force).
//
// Index search is exact, so the percentages are vpdq.Match's; the cost
// grows with the query's frames and the hits, not with the bank's size.
func searchVideo(banks []*loadedBank, frames []vpdq.Frame, own []pdq.Hash, opt videoOptions) (*videoOutcome, error) {
	q := distinctFrames(frames, opt.minQuality)
	out := &videoOutcome{frames: len(q), matches: []Match{}, query: q, hits: map[[2]string]*videoHit{}}
	hashes := make([]index.Hash, len(q))
	dropped := make([]bool, len(q))
	for i, f := range q {
		hashes[i] = toIndex(f.Hash)
		dropped[i] = nearAny(f.Hash, own, opt.ownRadius)
	}
	type bankHits struct {
		b  *loadedBank
		ms [][]index.Match
	}
	var known []bankHits
	for _, b := range banks {
		ms, err := b.idx.SearchBatch(hashes, b.threshold)
		if err != nil {
			return nil, err
		}
		if b.kind != KindSuppression {
			known = append(known, bankHits{b, ms})
			continue
		}
		for i, hits := range ms {
			for _, m := range hits {
				if b.matchable(m.ID, opt.minQuality) {
					dropped[i] = true
					break
				}
			}
		}
	}
	for _, d := range dropped {
		if !d {
			out.usable++
		}
	}
	type key struct {
		b     *loadedBank
		entry int
	}
	acc := map[key]*videoHit{}
	var order []*videoHit // first hit first, for a stable result
	for _, k := range known {
		for i, hits := range k.ms {
			for _, m := range hits {
				if !k.b.matchable(m.ID, opt.minQuality) {
					continue
				}
				if dropped[i] {
					out.suppressed = true
					continue
				}
				r := k.b.refs[m.ID]
				h := acc[key{k.b, r.entry}]
				if h == nil {
					h = &videoHit{bank: k.b, entry: r.entry, lastQuery: -1, targets: map[uint64]struct{}{}, distance: m.Distance, bestQuery: i, first: i}
					acc[key{k.b, r.entry}] = h
					order = append(order, h)
				}
				if h.lastQuery != i {
					h.queried++
					h.lastQuery = i
					h.frames = append(h.frames, i)
				}
				if r.frame {
					h.targets[m.ID] = struct{}{}
				}
				if m.Distance < h.distance {
					h.distance, h.bestQuery = m.Distance, i
				}
			}
		}
	}
	for _, h := range order {
		e := h.bank.entries[h.entry]
		at := q[h.first].Seconds
		m := Match{BankID: h.bank.id, BankVersion: h.bank.version, EntryID: e.EntryID, Classification: e.Classification, Distance: h.distance, AtSeconds: &at}
		if vq := h.bank.videoQ[h.entry]; vq != nil {
			total := 0
			for _, quality := range vq {
				if quality >= opt.minQuality {
					total++
				}
			}
			// The same arithmetic as vpdq.Match, so the thresholds decide alike.
			qp := float64(h.queried) * 100 / float64(out.usable)
			tp := float64(len(h.targets)) * 100 / float64(total)
			if !(h.queried > 0 && qp >= h.bank.queryPct && tp >= h.bank.indexPct) {
				continue
			}
			m.QueryMatchPct, m.TargetMatchPct = &qp, &tp
		}
		out.matches = append(out.matches, m)
		out.hits[[2]string{m.BankID, m.EntryID}] = h
	}
	out.settle()
	return out, nil
}

// md5Entries are the video entries of a bank whose MD5 is sum: a video
// known only by its MD5, or a video with frames whose file's MD5 the list
// gave.
func md5Entries(b *loadedBank, sum string) []int {
	var out []int
	for i, e := range b.entries {
		if b.videoQ[i] != nil && e.MD5 == sum {
			out = append(out, i)
		}
	}
	return out
}

// matchMD5 adds to a video's outcome the video entries of the known banks
// whose MD5 is the video file's (sum, lower-case hex; "" when the query
// gave none): the same file, a match at distance 0 without percentages,
// whether or not its frames matched. The MD5 of a suppression bank's video
// entry marks the whole file as a known false positive: no match stands.
// The banks are scanned, not indexed: a video is matched rarely, and its
// decoding costs far more than a pass over the banks' entries.
func (o *videoOutcome) matchMD5(banks []*loadedBank, sum string) {
	if sum == "" {
		return
	}
	for _, b := range banks {
		if b.kind == KindSuppression && len(md5Entries(b, sum)) > 0 {
			o.suppressed, o.matches = true, []Match{}
			o.settle()
			return
		}
	}
	have := map[[2]string]bool{}
	for _, m := range o.matches {
		have[[2]string{m.BankID, m.EntryID}] = true
	}
	for _, b := range banks {
		if b.kind == KindSuppression {
			continue
		}
		for _, i := range md5Entries(b, sum) {
			e := b.entries[i]
			if !have[[2]string{b.id, e.EntryID}] {
				o.matches = append(o.matches, Match{BankID: b.id, BankVersion: b.version, EntryID: e.EntryID, Classification: e.Classification})
			}
		}
	}
	o.settle()
}

// MatchVideoLocal matches a video against banks held offline, as the
// registry matches a video: its frames as searchVideo does, with each
// bank's vPDQ percentages (a snapshot carries them; an older one without
// them, python-threatexchange's defaults, 80 and 0), and its file's MD5
// (sum, "" for none) with the banks' video entries. It returns the matches
// best first and the status: match, no_match, low_quality or suppressed.
func MatchVideoLocal(banks []*LocalBank, frames []vpdq.Frame, sum string, minQuality int) ([]Match, string, error) {
	lbs := make([]*loadedBank, len(banks))
	for i, b := range banks {
		lbs[i] = b.b
	}
	o, err := searchVideo(lbs, frames, nil, videoOptions{minQuality: minQuality})
	if err != nil {
		return nil, "", err
	}
	o.matchMD5(lbs, sum)
	return o.matches, o.status(), nil
}

// VPDQFrames converts a video's frames as listed in a bank entry or a query
// (already validated) to vpdq frames, numbered in order.
func VPDQFrames(fs []VideoFrame) ([]vpdq.Frame, error) {
	out := make([]vpdq.Frame, len(fs))
	for i, f := range fs {
		h, err := parsePDQ(f.PDQ)
		if err != nil {
			return nil, fmt.Errorf("frame %d: %w", i, err)
		}
		out[i] = vpdq.Frame{Index: i, Hash: h, Quality: f.Quality, Seconds: f.Seconds}
	}
	return out, nil
}

// VideoFrames converts vpdq frames to the frames of a bank entry or a query.
func VideoFrames(fs []vpdq.Frame) []VideoFrame {
	out := make([]VideoFrame, len(fs))
	for i, f := range fs {
		out[i] = VideoFrame{PDQ: f.Hash.String(), Quality: f.Quality, Seconds: f.Seconds}
	}
	return out
}

// MatchVideo matches a video's frames that a service hashed itself (content
// never leaves it) against the banks it subscribes to. A match opens a case
// for review; nothing is stored about a video that does not match, unless
// the provider opted in to retroactive matching (keepVideo).
func (s *Service) MatchVideo(ctx context.Context, p *auth.Principal, in VideoQuery) (*VideoResult, error) {
	if err := p.Require(MatchHashes); err != nil {
		return nil, err
	}
	fs, err := normalizeFrames("frames", in.Frames)
	if err != nil {
		return nil, err
	}
	c, err := s.caseFields("", Query{MD5: in.MD5, SHA256: in.SHA256, ContentRef: in.ContentRef, UserID: in.UserID, UploadedAt: in.UploadedAt})
	if err != nil {
		return nil, err
	}
	frames, err := VPDQFrames(fs)
	if err != nil {
		return nil, err
	}
	c.Source = "video"
	return s.matchVideo(ctx, p, frames, c, in.UserID)
}

// MatchVideoFile hashes an uploaded video with vPDQ, one frame a second, and
// matches it like MatchVideo. The video takes its turn (VideoJobs at once)
// before a byte of it is read; its bytes go to a file in memory for ffmpeg,
// removed before the answer; a server without ffmpeg refuses with
// unavailable.
func (s *Service) MatchVideoFile(ctx context.Context, p *auth.Principal, r io.Reader, meta Query) (*VideoResult, error) {
	if err := p.Require(MatchHashes); err != nil {
		return nil, err
	}
	c, err := s.caseFields("", meta)
	if err != nil {
		return nil, err
	}
	frames, md, sh, err := s.hashUpload(ctx, r)
	if err != nil {
		return nil, err
	}
	c.MD5, c.SHA256, c.Source = md, sh, "video_upload"
	return s.matchVideo(ctx, p, frames, c, meta.UserID)
}

// hashUpload takes one of the VideoJobs turns before it reads a byte of r,
// so that a video refused as busy has sent (and the server stored) nothing
// but its headers; then writes r to a file in memory (at
// most MaxVideoUpload bytes, within VideoTimeout, so that a sender too slow
// does not hold the turn for ever), hashes it with vPDQ and closes it. The
// turn is given back however it ends: refused, failed, or its sender gone.
func (s *Service) hashUpload(ctx context.Context, r io.Reader) ([]vpdq.Frame, string, string, error) {
	release, err := s.videoJob(ctx)
	if err != nil {
		return nil, "", "", err
	}
	defer release()
	// The file lives in memory, never on a disk nor under a name: what may
	// be abuse material is left nowhere, by a crash or on the disk's
	// blocks. ffprobe and ffmpeg read it by its descriptor
	// (vpdq.Options.File).
	f, err := vpdq.MemoryFile("custos-video")
	if err != nil {
		return nil, "", "", err
	}
	defer f.Close()
	m, h := md5.New(), sha256.New()
	rctx, cancel := context.WithTimeout(ctx, s.cfg.VideoTimeout)
	defer cancel()
	n, err := io.Copy(io.MultiWriter(f, m, h), io.LimitReader(&ctxReader{rctx, r}, s.cfg.MaxVideoUpload+1))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return nil, "", "", errs.New(errs.TooLarge, "video_time", "video", "receiving the video took longer than %s", s.cfg.VideoTimeout)
		}
		if ctx.Err() != nil {
			return nil, "", "", ctx.Err() // its sender gone: no one to refuse
		}
		return nil, "", "", errs.New(errs.Malformed, "video", "", "the video could not be read from the request body")
	}
	if n > s.cfg.MaxVideoUpload {
		return nil, "", "", errs.New(errs.TooLarge, "video_size", "", "the video is larger than %d bytes", s.cfg.MaxVideoUpload)
	}
	if n == 0 {
		return nil, "", "", errs.New(errs.Malformed, "video", "", "the request body is empty; send the video's bytes")
	}
	frames, err := vpdq.HashVideo(ctx, f.Name(), vpdq.Options{SecondsPerHash: VideoSecondsPerHash, MaxFrames: MaxVideoFrames,
		MaxFileBytes: s.cfg.MaxVideoUpload, Timeout: s.cfg.VideoTimeout, MaxMemory: s.cfg.VideoMemory, File: f})
	if err != nil && !(errors.Is(err, vpdq.ErrCorrupt) && len(frames) > 0) {
		// A damaged file that still shows frames is matched on what can be
		// seen, as an offline scan does.
		return nil, "", "", s.videoError(ctx, err)
	}
	return frames, hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader reads r until ctx is done: each read first checks ctx, so a
// body that keeps coming is cut off at ctx's deadline (a body that stops
// altogether is ended by the server's idle deadline).
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// videoJob takes one of the VideoJobs turns for an uploaded video, waiting
// up to VideoWait for one; without it the video is refused as busy. A
// sender that goes away while it waits gets ctx's error, which the API
// counts as the client gone, not as a fault.
func (s *Service) videoJob(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(s.cfg.VideoWait)
	defer t.Stop()
	select {
	case s.videos <- struct{}{}:
		return func() { <-s.videos }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, errs.New(errs.Unavailable, "busy", "",
			"the server is already hashing %d uploaded videos, as many as it hashes at once; try again in a few seconds", cap(s.videos))
	}
}

// videoError names why an uploaded video could not be hashed. The
// refusal says what is wrong in words of the request: err itself names the
// server's temporary file and quotes ffprobe's and ffmpeg's error output,
// which are logged here and never sent to the client.
func (s *Service) videoError(ctx context.Context, err error) error {
	var refusal *errs.Error
	switch {
	case errors.Is(err, vpdq.ErrNoFFmpeg):
		refusal = errs.New(errs.Unavailable, "ffmpeg", "", "this server cannot decode videos: ffmpeg and ffprobe are not installed; hash the frames yourself and send them to /api/v1/hashmatch/match/video")
	case errors.Is(err, vpdq.ErrTooLarge):
		refusal = errs.New(errs.TooLarge, "video_size", "video", "the video is too large to hash: at most %d frames are hashed (one a second), of at most %d pixels and %d pixels a side",
			MaxVideoFrames, vpdq.DefaultMaxPixels, vpdq.DefaultMaxDimension)
	case errors.Is(err, vpdq.ErrMemory):
		refusal = errs.New(errs.TooLarge, "video_memory", "video", "the video needs more memory to decode than this server gives a decoder (%d MiB)", s.cfg.VideoMemory>>20)
	case errors.Is(err, context.DeadlineExceeded):
		refusal = errs.New(errs.TooLarge, "video_time", "video", "hashing the video took longer than %s", s.cfg.VideoTimeout)
	case errors.Is(err, vpdq.ErrFormat):
		refusal = errs.Invalidf("video", "video", "the video's format is not accepted: send one video file in MP4, QuickTime, 3GP, Matroska, WebM, AVI, FLV, MPEG-TS, MPEG-PS, Ogg or ASF (WMV); playlists, concatenation lists and images are refused")
	case errors.Is(err, vpdq.ErrNotVideo):
		refusal = errs.Invalidf("video", "video", "the file is not a video that can be read: its container is not recognised, or it holds no video stream")
	case errors.Is(err, vpdq.ErrTooSmall):
		refusal = errs.Invalidf("video", "video", "the video's frames are smaller than %d pixels a side", pdq.MinDimension)
	case errors.Is(err, vpdq.ErrDecode), errors.Is(err, vpdq.ErrCorrupt):
		refusal = errs.Invalidf("video", "video", "the video could not be decoded: the file is damaged, or its codec is not supported")
	default:
		return err
	}
	if s.Log != nil {
		s.Log.InfoContext(ctx, "video refused", "rule", refusal.Rule, "err", err)
	}
	return refusal
}

// videoOptions are the server's settings of video matching.
func (s *Service) videoOptions() videoOptions {
	return videoOptions{minQuality: s.cfg.MinQuality, ownRadius: s.cfg.SuppressionRadius}
}

// matchVideo matches frames for the principal's provider and opens a case
// when they match.
func (s *Service) matchVideo(ctx context.Context, p *auth.Principal, frames []vpdq.Frame, c Case, userID string) (*VideoResult, error) {
	banks, own, err := s.subscribed(ctx, p.AuthorityID)
	if err != nil {
		return nil, err
	}
	o, err := searchVideo(banks, frames, own, s.videoOptions())
	if err != nil {
		return nil, err
	}
	o.matchMD5(banks, c.MD5)
	res := &VideoResult{Status: o.status(), Frames: len(frames), UsableFrames: o.usable, Matches: o.matches}
	if res.Status != StatusMatch {
		res.Matches = []Match{}
		// A provider that opted in to retroactive matching keeps a video
		// that matched nothing, for its retention (retro.go).
		if err := s.keepVideo(ctx, p, res.Status, frames, &c, userID); err != nil {
			return nil, err
		}
		return res, nil
	}
	// The case carries the query frame of the closest pair: what a reviewer
	// looks at first, and what a rejection may suppress. A video matched
	// by its MD5 alone has none.
	if len(o.matchedFrames) > 0 {
		c.PDQ, c.Quality = o.best.Hash.String(), o.best.Quality
	}
	matched := make([]string, len(o.matchedFrames))
	for i, h := range o.matchedFrames {
		matched[i] = h.String()
	}
	res.CaseID, err = s.openCase(ctx, p, &prepared{c: c, userID: userID, frames: matched}, o.matches)
	if err != nil {
		return nil, err
	}
	return res, nil
}
