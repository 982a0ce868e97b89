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

// TestDecodeBudget checks that an upload waits until the pixels its header
// declares fit in the decode budget, gives up with its context, and that an
// image larger than the whole budget still gets decoded alone.
func TestDecodeBudget(t *testing.T) {
	opt := pdq.Options{MaxBytes: 1 << 20}
	b := newDecodeBudget(10_000)
	small := pngOf(t, 100, 100) // 10,000 pixels: the whole budget

	if !b.sem.TryAcquire(1) { // another decode holds one pixel
		t.Fatal("fresh budget is full")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	_, err := hashImage(ctx, bytes.NewReader(small), opt, b)
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
	b.sem.Release(1)
	if err := <-done; err != nil {
		t.Fatalf("after the budget freed: %v", err)
	}

	// 40,000 pixels against a 10,000-pixel budget: decoded, holding all of it.
	if _, err := hashImage(context.Background(), bytes.NewReader(pngOf(t, 200, 200)), opt, b); err != nil {
		t.Fatalf("image larger than the budget: %v", err)
	}
	if !b.sem.TryAcquire(10_000) {
		t.Fatal("the budget was not given back")
	}
	b.sem.Release(10_000)

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

// TestDecodeBudgetDefaults checks the service's defaults.
func TestDecodeBudgetDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.MaxPixels != pdq.DefaultMaxPixels || c.DecodeBudget != DefaultDecodeBudget {
		t.Fatalf("defaults: MaxPixels %d, DecodeBudget %d", c.MaxPixels, c.DecodeBudget)
	}
}
