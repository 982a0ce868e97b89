package hashmatch

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"strings"

	"golang.org/x/sync/semaphore"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// MatchHashes matches hashes a service computed itself, so content never
// leaves it. Low-quality hashes are refused as low_quality; a match opens a
// case for review; nothing is stored about queries that do not match.
func (s *Service) MatchHashes(ctx context.Context, p *auth.Principal, qs []Query) ([]Result, error) {
	if err := p.Require(MatchHashes); err != nil {
		return nil, err
	}
	if len(qs) == 0 || len(qs) > MaxBatch {
		return nil, errs.Invalidf("batch_size", "items", "send 1 to %d hashes", MaxBatch)
	}
	ps := make([]prepared, len(qs))
	for i, q := range qs {
		f := check.Index("items", i)
		h, err := parsePDQ(q.PDQ)
		if err != nil {
			return nil, errs.Invalidf("pdq_hex", f+".pdq", "pdq must be a PDQ hash in 64 hexadecimal digits")
		}
		if q.Quality == nil {
			return nil, errs.Invalidf("required", f+".quality", "give the PDQ quality (0 to 100) the hasher reported")
		}
		if *q.Quality < 0 || *q.Quality > 100 {
			return nil, errs.Invalidf("range", f+".quality", "quality %d is out of range: the PDQ quality the hasher reported is 0 to 100", *q.Quality)
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
	if err := p.Require(MatchHashes); err != nil {
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
	if err := p.Require(MatchHashes); err != nil {
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
		pr, err := s.prepareUpload(ctx, check.Index("files", i), r, meta)
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
	if c.MD5, err = check.HexDigest(dot("md5"), q.MD5, 32); err != nil {
		return c, err
	}
	if c.SHA256, err = check.HexDigest(dot("sha256"), q.SHA256, 64); err != nil {
		return c, err
	}
	if c.ContentRef, err = check.Line(dot("content_ref"), q.ContentRef, 500, false); err != nil {
		return c, err
	}
	if _, err = check.Line(dot("user_id"), q.UserID, 500, false); err != nil {
		return c, err
	}
	if c.UploadedAt, err = check.OptionalTime(dot("uploaded_at"), q.UploadedAt); err != nil {
		return c, err
	}
	return c, nil
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
			return nil, imageError(err, opt, data)
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
		return nil, imageError(err, opt, data)
	}
	var hs pdq.Hasher
	hash, q, err := hs.FromImage(img, orient)
	if err != nil {
		return nil, imageError(err, opt, data)
	}
	// The eight EXIF orientations are the eight dihedral transforms, so
	// hashing the stored pixels in each, through PDQ's own pipeline, gives
	// the dihedral set bit-exactly.
	var dih [8]pdq.Hash
	for o := pdq.Orientation(1); o <= 8; o++ {
		if dih[o-1], _, err = hs.FromImage(img, o); err != nil {
			return nil, imageError(err, opt, data)
		}
	}
	md := md5.Sum(data)
	sh := sha256.Sum256(data)
	return &ImageHash{PDQ: hash, Quality: q, MD5: hex.EncodeToString(md[:]), SHA256: hex.EncodeToString(sh[:]),
		Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Dihedral: dih}, nil
}

// imageError is the refusal of an image (data) that opt's limits or PDQ's
// decoder refused.
func imageError(err error, opt pdq.Options, data []byte) error {
	switch {
	case errors.Is(err, pdq.ErrTooLarge):
		return errs.New(errs.TooLarge, "image_size", "", "the image is larger than %d bytes", orDefault(opt.MaxBytes, pdq.DefaultMaxBytes))
	case errors.Is(err, pdq.ErrTooManyPixels):
		limit := orDefault(opt.MaxPixels, pdq.DefaultMaxPixels)
		// the header again, without the pixel limit, for its dimensions
		opt.MaxPixels = math.MaxInt64
		hd, herr := opt.Inspect(data)
		if herr != nil {
			return errs.New(errs.TooLarge, "image_pixels", "", "the image's dimensions are too large: more than %d pixels", limit)
		}
		return errs.New(errs.TooLarge, "image_pixels", "", "the image's dimensions are too large: %s %dx%d is %d pixels, limit %d",
			hd.Format, hd.Width, hd.Height, hd.Pixels(), limit)
	}
	return errs.Invalidf("image", "", "the image cannot be hashed: %s", strings.TrimPrefix(err.Error(), "pdq: "))
}

// orDefault is n, or def when n is not positive (pdq.Options' zero values).
func orDefault(n, def int64) int64 {
	if n <= 0 {
		return def
	}
	return n
}
