package hashmatch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

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
		c, err := s.caseFields(f, q)
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
		// The refusals of the image itself (image_size, image_pixels,
		// image) name it; those of the headers name theirs.
		return nil, fieldError("image", err)
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
//
// The images are read one after another (next may reuse its reader) and
// hashed by up to GOMAXPROCS goroutines at once, so that a batch uses every
// core while at most that many images beyond the one being read are held
// in memory; the decode budget still bounds the pixels decoded at once.
func (s *Service) MatchImages(ctx context.Context, p *auth.Principal, next func() (io.Reader, Query, error)) ([]Result, error) {
	if err := p.Require(MatchHashes); err != nil {
		return nil, err
	}
	type item struct {
		pr  prepared
		err error
	}
	var items []*item
	var wg sync.WaitGroup
	slots := make(chan struct{}, max(runtime.GOMAXPROCS(0), 1))
	defer wg.Wait()
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
		field := check.Index("files", i)
		it := &item{}
		items = append(items, it)
		u, err := s.readUpload(field, r, meta)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				return nil, err
			}
			it.err = err
			continue
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			it.pr, it.err = s.hashImageUpload(ctx, field, u)
		}()
	}
	wg.Wait()
	if len(items) == 0 {
		return nil, errs.Invalidf("batch_size", "files", "send 1 to %d images in one batch", MaxImageBatch)
	}
	out := make([]Result, len(items))
	var ps []prepared
	var at []int // at[k] is the result of ps[k]
	for i, it := range items {
		if e, ok := errs.As(it.err); ok {
			out[i] = Result{Status: StatusError, Matches: []Match{}, Error: e}
			continue
		}
		if it.err != nil {
			return nil, it.err
		}
		ps, at = append(ps, it.pr), append(at, i)
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
	u, err := s.readUpload(field, r, meta)
	if err != nil {
		return prepared{}, err
	}
	return s.hashImageUpload(ctx, field, u)
}

// upload is an uploaded image read into memory with its checked fields.
type upload struct {
	c      Case
	userID string
	data   []byte
}

// readUpload checks an upload's fields and reads its bytes.
func (s *Service) readUpload(field string, r io.Reader, meta Query) (upload, error) {
	c, err := s.caseFields(field, meta)
	if err != nil {
		return upload{}, err
	}
	data, err := readImage(r, s.imageOptions())
	if err != nil {
		return upload{}, fieldError(field, err)
	}
	return upload{c: c, userID: meta.UserID, data: data}, nil
}

// hashImageUpload hashes an upload read by readUpload for matching.
func (s *Service) hashImageUpload(ctx context.Context, field string, u upload) (prepared, error) {
	h, err := hashImageBytes(ctx, u.data, s.imageOptions(), s.decodes)
	if err != nil {
		return prepared{}, fieldError(field, err)
	}
	c := u.c
	c.PDQ, c.Quality, c.MD5, c.SHA256, c.Source = h.PDQ.String(), h.Quality, h.MD5, h.SHA256, "upload"
	return prepared{variants: h.Variants(), c: c, userID: u.userID}, nil
}

func (s *Service) imageOptions() pdq.Options {
	return pdq.Options{MaxBytes: s.cfg.MaxUpload, MaxPixels: s.cfg.MaxPixels, MaxDecodeBytes: decodeLimit(s.cfg.DecodeBudget)}
}

// fieldError points a refusal without a field at field (an upload of a
// batch); other errors are returned as they are.
func fieldError(field string, err error) error {
	if e, ok := errs.As(err); ok && field != "" && e.Field == "" {
		e2 := *e
		e2.Field = field
		return &e2
	}
	return err
}

func (s *Service) caseFields(prefix string, q Query) (Case, error) {
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
	if err := notBeforeOnline(dot("uploaded_at"), c.UploadedAt); err != nil {
		return c, err
	}
	// An upload from the future would become a report's incident time
	// (SendReport's default): refused, with a few minutes for a service's
	// clock that runs ahead.
	if c.UploadedAt != "" {
		at, err := time.Parse(time.RFC3339Nano, c.UploadedAt)
		if err != nil {
			return c, err
		}
		if err := check.NotFuture(dot("uploaded_at"), at, s.now()); err != nil {
			return c, err
		}
	}
	return c, nil
}

// ImageHash is an image's PDQ hash of its stored pixels (EXIF orientation
// ignored, as Meta's reference and every other PDQ tool hash: the hash that
// leaves custos, in cases, reports and the CLI), its quality, its file
// digests, its hash as displayed (EXIF orientation applied), and the hashes
// of its eight dihedral transforms (Dihedral[k-1] as EXIF orientation k
// would show it: rotations by 0, 90, 180 and 270 degrees and four flips), so
// that a rotated or mirrored copy, or a list that hashed the displayed
// image, still matches.
type ImageHash struct {
	PDQ     pdq.Hash
	Quality int
	MD5     string
	SHA256  string
	// Width and Height are the stored image's.
	Width  int
	Height int
	// Orientation is the JPEG's EXIF orientation (1 when it has none);
	// Displayed and DisplayedQuality the hash with it applied.
	Orientation      pdq.Orientation
	Displayed        pdq.Hash
	DisplayedQuality int
	Dihedral         [8]pdq.Hash
}

// Variants are the hashes to search for: the stored pixels', as displayed,
// then the dihedral set, each once.
func (h *ImageHash) Variants() []pdq.Hash {
	out := []pdq.Hash{h.PDQ}
	for _, d := range append([]pdq.Hash{h.Displayed}, h.Dihedral[:]...) {
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// decodeBudget bounds the memory of the images being decoded at once, in
// bytes, each counted by what its header says its decode takes
// (pdq.Header.DecodeBytes).
//
// An eighth of it is kept for small images (a sixteenth of it or less,
// 64 MiB of the default 1 GiB: a 16-megapixel photo), so that a small image
// never waits for large decodes that fill the rest: images larger than
// that share the other seven eighths, the most one image may take
// (decodeLimit), and small ones take the kept eighth, or when it is full
// room in the rest if there is some at once, waiting only for other small
// ones. The
// semaphores serve in turn, so an image waiting for room holds back every
// later one of its share, however small: large images (over a quarter of
// the budget) therefore also take their turn one at a time before they
// wait for room, so that a medium image waits at most for the large one
// being decoded, not for a queue of them one service sent.
type decodeBudget struct {
	shared *semaphore.Weighted // every image's: size - size/8
	small  *semaphore.Weighted // small images' only: size/8
	size   int64
	large  chan struct{}
}

func newDecodeBudget(bytes int64) *decodeBudget {
	return &decodeBudget{shared: semaphore.NewWeighted(decodeLimit(bytes)), small: semaphore.NewWeighted(bytes / 8),
		size: bytes, large: make(chan struct{}, 1)}
}

// decodeLimit is the most one image's decode may take of a budget of
// bytes: what is left when the small images' eighth is kept. An image
// that would take more is refused (pdq.Options.MaxDecodeBytes).
func decodeLimit(bytes int64) int64 { return bytes - bytes/8 }

// acquire waits until the budget has room for n bytes, or ctx is done.
func (b *decodeBudget) acquire(ctx context.Context, n int64) (release func(), err error) {
	if n <= b.size/16 {
		for _, sem := range []*semaphore.Weighted{b.small, b.shared} {
			if sem.TryAcquire(n) {
				return func() { sem.Release(n) }, nil
			}
		}
		if err := b.small.Acquire(ctx, n); err != nil {
			return nil, err
		}
		return func() { b.small.Release(n) }, nil
	}
	// A caller's options may let an image past the limit: it waits for all
	// of the shared part rather than forever.
	n = min(n, decodeLimit(b.size))
	var leave func()
	if n > b.size/4 {
		select {
		case b.large <- struct{}{}:
			leave = func() { <-b.large }
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := b.shared.Acquire(ctx, n); err != nil {
		if leave != nil {
			leave()
		}
		return nil, err
	}
	return func() {
		b.shared.Release(n)
		if leave != nil {
			leave()
		}
	}, nil
}

// decode runs fn, a decode that takes cost bytes, once the budget has room
// for it, holding the room until the decoded image is garbage (collected
// and handed back to the system when large). opt.MaxDecodeBytes
// (decodeLimit) refuses what the budget cannot hold. The error is ctx's,
// or fn's.
func (b *decodeBudget) decode(ctx context.Context, cost int64, fn func() error) error {
	release, err := b.acquire(ctx, cost)
	if err != nil {
		return err
	}
	defer release()
	err = fn()
	if cost >= freeAfter {
		debug.FreeOSMemory()
	}
	return err
}

// freeAfter is the decode, in bytes, after which the memory is handed back
// to the system before the budget is: the Go runtime would otherwise keep
// it as garbage until its heap grew to twice what it last held, so that
// decodes the budget runs one after another would each add their size to
// the process's memory. A collection costs milliseconds, a decode this
// large hundreds of them.
const freeAfter = 64 << 20

// ImageHasher hashes images outside a server (custos hashmatch hash and
// scan) as a server hashes uploads: each of at most a number of bytes,
// the images decoded at once within a decode budget (Config.DecodeBudget's
// meaning), an image whose decode alone would take more than the budget
// refused (image_memory) and one that does not fit beside the others
// waiting for them. It is safe for use by several goroutines.
type ImageHasher struct {
	opt    pdq.Options
	budget *decodeBudget
}

// NewImageHasher returns a hasher of images of at most maxBytes (default
// DefaultMaxUpload) whose decodes share budget bytes (default
// DefaultDecodeBudget).
func NewImageHasher(maxBytes, budget int64) *ImageHasher {
	budget = orDefault(budget, DefaultDecodeBudget)
	return &ImageHasher{opt: pdq.Options{MaxBytes: orDefault(maxBytes, DefaultMaxUpload), MaxDecodeBytes: decodeLimit(budget)},
		budget: newDecodeBudget(budget)}
}

// HashImage reads one image (at most maxBytes) and hashes it, alone in a
// decode budget of DefaultDecodeBudget.
func HashImage(r io.Reader, maxBytes int64) (*ImageHash, error) {
	return NewImageHasher(maxBytes, 0).Hash(context.Background(), r)
}

// Hash reads one image and hashes it (ImageHash), waiting for room in the
// budget or for ctx.
func (h *ImageHasher) Hash(ctx context.Context, r io.Reader) (*ImageHash, error) {
	return hashImage(ctx, r, h.opt, h.budget)
}

// HashOne reads one image and hashes it once, the way a hash list wants
// it: its stored pixels, as Meta's reference does, or as displayed (its
// EXIF orientation applied) when orient is set; without the variants
// matching needs, so at a quarter of Hash's cost. Refusals are Hash's.
func (h *ImageHasher) HashOne(ctx context.Context, r io.Reader, orient bool) (pdq.Result, error) {
	opt := h.opt
	opt.Orient = orient
	data, err := readImage(r, opt)
	if err != nil {
		return pdq.Result{}, err
	}
	enc, err := opt.Open(data)
	if err != nil {
		return pdq.Result{}, imageError(err, opt, data)
	}
	var res pdq.Result
	err = h.budget.decode(ctx, enc.DecodeBytes, func() (err error) {
		if res, err = opt.HashBytes(data); err != nil {
			return imageError(err, opt, data)
		}
		return nil
	})
	return res, err
}

// hashImage reads one image within opt's limits and hashes it.
func hashImage(ctx context.Context, r io.Reader, opt pdq.Options, budget *decodeBudget) (*ImageHash, error) {
	data, err := readImage(r, opt)
	if err != nil {
		return nil, err
	}
	return hashImageBytes(ctx, data, opt, budget)
}

// readImage reads one image's bytes, at most opt.MaxBytes.
func readImage(r io.Reader, opt pdq.Options) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, opt.MaxBytes+1))
	if err != nil {
		// A body cut short (its sender gone, a multipart part unended) is
		// the request's fault, not the server's.
		return nil, errs.New(errs.Malformed, "image_read", "", "the image could not be read to its end: its upload was cut short")
	}
	if int64(len(data)) > opt.MaxBytes {
		return nil, errs.New(errs.TooLarge, "image_size", "", "the image is larger than %d bytes", opt.MaxBytes)
	}
	return data, nil
}

// hashImageBytes hashes one image read by readImage. Its header is parsed
// once: with a budget, the hashing waits (or gives up with ctx) until the
// budget has room for the memory the header says its decode takes, holding
// it until the decoded image is garbage (collected and handed back to the
// system when large), and the decode reuses the parsed header.
func hashImageBytes(ctx context.Context, data []byte, opt pdq.Options, budget *decodeBudget) (*ImageHash, error) {
	enc, err := opt.Open(data)
	if err != nil {
		return nil, imageError(err, opt, data)
	}
	if budget == nil {
		return hashEncoded(enc, opt)
	}
	var h *ImageHash
	err = budget.decode(ctx, enc.DecodeBytes, func() (err error) {
		h, err = hashEncoded(enc, opt)
		return err
	})
	return h, err
}

// hashEncoded decodes and hashes an image whose header has been read.
func hashEncoded(enc *pdq.Encoded, opt pdq.Options) (*ImageHash, error) {
	data := enc.Bytes()
	img, orient, err := enc.Decode()
	if err != nil {
		return nil, imageError(err, opt, data)
	}
	var hs pdq.Hasher
	v, err := hs.Variants(img, orient)
	if err != nil {
		return nil, imageError(err, opt, data)
	}
	md := md5.Sum(data)
	sh := sha256.Sum256(data)
	return &ImageHash{PDQ: v.Hash, Quality: v.Quality, MD5: hex.EncodeToString(md[:]), SHA256: hex.EncodeToString(sh[:]),
		Width: img.Bounds().Dx(), Height: img.Bounds().Dy(), Orientation: orient,
		Displayed: v.Displayed, DisplayedQuality: v.DisplayedQuality, Dihedral: v.Dihedral}, nil
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
	case errors.Is(err, pdq.ErrDecodeMemory):
		limit := orDefault(opt.MaxDecodeBytes, pdq.DefaultMaxDecodeBytes)
		opt.MaxDecodeBytes = math.MaxInt64
		hd, herr := opt.Inspect(data)
		if herr != nil {
			return errs.New(errs.TooLarge, "image_memory", "", "the image would take more than %d MiB of memory to decode", limit>>20)
		}
		return errs.New(errs.TooLarge, "image_memory", "", "the image would take about %d MiB of memory to decode (%s %dx%d), limit %d MiB",
			(hd.DecodeBytes+1<<20-1)>>20, hd.Format, hd.Width, hd.Height, limit>>20)
	case errors.Is(err, pdq.ErrUnknownFormat):
		// A video sent to a photo route: say where videos go, rather
		// than only that the format is unknown.
		if c := videoContainer(data); c != "" {
			return errs.Invalidf("image", "", "the image cannot be hashed: the file looks like a video (%s), not an image; send videos to POST /api/v1/hashmatch/match/video-file", c)
		}
	}
	return errs.Invalidf("image", "", "the image cannot be hashed: %s", strings.TrimPrefix(err.Error(), "pdq: "))
}

// videoContainer names the video container data starts with (an ISO base
// media ftyp box: MP4, QuickTime, 3GP; EBML: WebM, Matroska; RIFF AVI), or
// is empty. An ftyp box of an image brand (HEIF, AVIF) is not a video.
func videoContainer(data []byte) string {
	switch {
	case len(data) >= 12 && string(data[4:8]) == "ftyp":
		switch string(data[8:12]) {
		case "heic", "heix", "heim", "heis", "hevc", "hevx", "hevm", "hevs", "mif1", "msf1", "avif", "avis":
			return ""
		}
		return "MP4/QuickTime"
	case len(data) >= 4 && string(data[:4]) == "\x1a\x45\xdf\xa3":
		return "WebM/Matroska"
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "AVI ":
		return "AVI"
	}
	return ""
}

// orDefault is n, or def when n is not positive (pdq.Options' zero values).
func orDefault(n, def int64) int64 {
	if n <= 0 {
		return def
	}
	return n
}
