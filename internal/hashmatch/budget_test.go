package hashmatch

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetGray(x, y, color.Gray{uint8(x*7 + y*13)})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeBudget checks that an upload waits until the memory its header
// says its decode takes fits in the decode budget, gives up with its
// context, that the budget is given back, and that an image whose decode
// alone would take more than the options allow is refused before any
// waiting, naming the rule.
func TestDecodeBudget(t *testing.T) {
	small := pngOf(t, 100, 100)
	hd, err := pdq.Options{}.Inspect(small)
	if err != nil {
		t.Fatal(err)
	}
	cost := hd.DecodeBytes
	opt := pdq.Options{MaxBytes: 1 << 20, MaxDecodeBytes: cost}
	b := newDecodeBudget(cost) // room for the small image alone

	if !b.shared.TryAcquire(1) { // another decode holds one byte
		t.Fatal("fresh budget is full")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err = hashImage(ctx, bytes.NewReader(small), opt, b)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("decoded although the budget had no room: err = %v", err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := hashImage(context.Background(), bytes.NewReader(small), opt, b)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("did not wait for the budget: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	b.shared.Release(1)
	if err := <-done; err != nil {
		t.Fatalf("after the budget freed: %v", err)
	}
	if !b.shared.TryAcquire(decodeLimit(cost)) {
		t.Fatal("the budget was not given back")
	}
	b.shared.Release(decodeLimit(cost))

	// A larger image than the budget holds is refused at once, by its
	// header, even with the budget free.
	_, err = hashImage(context.Background(), bytes.NewReader(pngOf(t, 200, 200)), opt, b)
	if e, ok := errs.As(err); !ok || e.Code != errs.TooLarge || e.Rule != "image_memory" {
		t.Fatalf("image larger than the budget: err = %v, want too_large image_memory", err)
	}

	// The pixel limit is refused before any waiting, naming the rule.
	_, err = hashImage(context.Background(), bytes.NewReader(small), pdq.Options{MaxBytes: 1 << 20, MaxPixels: 9_999}, b)
	if e, ok := errs.As(err); !ok || e.Code != errs.TooLarge || e.Rule != "image_pixels" {
		t.Fatalf("MaxPixels 9,999: err = %v, want too_large image_pixels", err)
	}
	// Its sentence is the catalogue's, its numbers arguments.
	e, _ := errs.As(err)
	if f, args := e.Sentence(); e.Message != "the image's dimensions are too large: png 100x100 is 10000 pixels, limit 9999" ||
		f != "the image's dimensions are too large: %s %dx%d is %d pixels, limit %d" || len(args) != 5 {
		t.Errorf("MaxPixels 9,999: %q, sentence %q %v", e.Message, f, args)
	}
}

// TestDecodeBudgetLargeInTurn checks that a medium image does not wait
// behind large ones waiting for room: large images take their turn one at
// a time before they wait on the budget.
func TestDecodeBudgetLargeInTurn(t *testing.T) {
	ctx := context.Background()
	b := newDecodeBudget(1000)        // large over 250, small 62 or less
	first, err := b.acquire(ctx, 700) // a large image being decoded
	if err != nil {
		t.Fatal(err)
	}
	second := make(chan func(), 1)
	go func() { // another large image, which must wait for the first
		release, err := b.acquire(ctx, 700)
		if err != nil {
			t.Error(err)
		}
		second <- release
	}()
	time.Sleep(20 * time.Millisecond)
	medium, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	release, err := b.acquire(medium, 100)
	if err != nil {
		t.Fatalf("a medium image waited behind a large one: %v", err)
	}
	release()
	select {
	case <-second:
		t.Fatal("two large images decoded at once beyond the budget")
	default:
	}
	first()
	(<-second)()
	if !b.shared.TryAcquire(decodeLimit(1000)) || !b.small.TryAcquire(1000/8) {
		t.Fatal("the budget was not given back")
	}
}

// TestDecodeBudgetSmallBesideLarge checks that a small image is decoded at
// once beside a decode as large as the budget lets one image be.
func TestDecodeBudgetSmallBesideLarge(t *testing.T) {
	ctx := context.Background()
	b := newDecodeBudget(1600)
	large, err := b.acquire(ctx, b.size) // all one image may take
	if err != nil {
		t.Fatal(err)
	}
	defer large()
	small, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	release, err := b.acquire(small, 100)
	if err != nil {
		t.Fatalf("a small image waited for a large decode: %v", err)
	}
	release()
}

// TestDecodeBudgetSmallBesideFull checks the eighth of the budget kept for
// small images (a sixteenth of it or less): with the rest taken by one
// large decode, small images are decoded at once, up to the kept eighth,
// and then wait only for each other; an image above a sixteenth waits for
// the large one however free the kept eighth; and no image may take more
// than seven eighths.
func TestDecodeBudgetSmallBesideFull(t *testing.T) {
	ctx := context.Background()
	b := newDecodeBudget(1600) // kept 200, small 100 or less, one image at most 1400
	if decodeLimit(1600) != 1400 || decodeLimit(DefaultDecodeBudget) != 896<<20 {
		t.Fatalf("limits %d and %d", decodeLimit(1600), decodeLimit(DefaultDecodeBudget))
	}
	large, err := b.acquire(ctx, 5000) // past the limit: all of the rest
	if err != nil {
		t.Fatal(err)
	}
	waits := func(n int64) bool {
		c, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		release, err := b.acquire(c, n)
		if err == nil {
			release()
			return false
		}
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatal(err)
		}
		return true
	}
	s1, err := b.acquire(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := b.acquire(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if !waits(100) {
		t.Error("a third small image passed with the kept eighth full and the rest taken")
	}
	s1()
	if waits(100) {
		t.Error("a small image waited with room in the kept eighth")
	}
	s2()
	if !waits(101) {
		t.Error("an image over a sixteenth took the kept eighth")
	}
	large()
	// With the kept eighth full, a small image takes room in the rest.
	s1, _ = b.acquire(ctx, 100)
	s2, _ = b.acquire(ctx, 100)
	if waits(100) {
		t.Error("a small image waited with the kept eighth full and room in the rest")
	}
	s1()
	s2()
	if !b.shared.TryAcquire(1400) || !b.small.TryAcquire(200) {
		t.Fatal("the budget was not given back")
	}
}

// TestDecodeBudgetCountsBytes checks that the budget counts an image by
// its decoder's memory, not its pixels: a progressive JPEG of 10000x10000
// full-resolution colour, a few hundred bytes of header that decode into
// about 1.5 GB, is refused by the default budget, and the same image
// sequential, which takes a fifth of that, is not; with a budget of 2 GiB,
// the progressive one fits, and it is charged what it takes.
func TestDecodeBudgetCountsBytes(t *testing.T) {
	sof := func(marker byte) []byte { // the headers up to the scan's: what the budget reads
		return []byte{0xff, 0xd8, 0xff, marker, 0, 17, 8, 0x27, 0x10, 0x27, 0x10, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0,
			0xff, 0xda, 0, 12, 3, 1, 0, 2, 0, 3, 0, 0, 0, 0}
	}
	s := &Service{cfg: Config{}.withDefaults()}
	for _, c := range []struct {
		name   string
		data   []byte
		budget int64
		rule   string // of the refusal, "" when the budget holds it
	}{
		{"progressive", sof(0xc2), 0, "image_memory"},
		{"progressive, 2 GiB budget", sof(0xc2), 2 << 30, ""},
		{"sequential", sof(0xc0), 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s.cfg.DecodeBudget = orDefault(c.budget, DefaultDecodeBudget)
			opt := s.imageOptions()
			hd, err := opt.Inspect(c.data)
			if c.rule != "" {
				e, ok := errs.As(imageError(err, opt, c.data))
				if !ok || e.Code != errs.TooLarge || e.Rule != c.rule {
					t.Fatalf("err = %v, want too_large %s", err, c.rule)
				}
				t.Log(e.Message)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// 3 planes of 100 megapixels, 1 byte a sample: 5 bytes a
			// sample progressive (the coefficients), 2 sequential (the
			// planes again, should the fast decoder give up).
			per := map[byte]int64{0xc2: 5, 0xc0: 2}[c.data[3]]
			if want := per * 3 * 100_000_000; hd.DecodeBytes < want || hd.DecodeBytes > want+want/20 {
				t.Errorf("charged %d bytes, want %d to 5%% more", hd.DecodeBytes, want)
			}
		})
	}
}

// TestDecodeBudgetDefaults checks the service's defaults.
func TestDecodeBudgetDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.MaxPixels != pdq.DefaultMaxPixels || c.DecodeBudget != DefaultDecodeBudget {
		t.Fatalf("defaults: MaxPixels %d, DecodeBudget %d", c.MaxPixels, c.DecodeBudget)
	}
}
