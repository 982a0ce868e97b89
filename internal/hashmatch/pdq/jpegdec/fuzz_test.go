package jpegdec

import (
	"bytes"
	"errors"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to Decode: it must not panic, it may
// only refuse with ErrNotHandled, and whatever it decodes image/jpeg must
// decode too, to the same samples.
func FuzzDecode(f *testing.F) {
	m := photo(24, 17, 4)
	f.Add(encodeGo(f, m, 75))
	f.Add(encodeGo(f, grey(m), 50))
	f.Add(encodeGo(f, photo(9, 9, 5), 100))
	rng := rand.New(rand.NewPCG(1, 2))
	for i, l := range layouts {
		s := spec{w: 19, h: 11, comps: l.comps, ri: 1 + i%3, sof1: i%2 == 0, q16: i%3 == 0}
		for tq := range 2 {
			q := make([]int, 64)
			for k := range q {
				q[k] = 1 + k + tq
			}
			s.quant[tq] = q
		}
		s.coef = func(c, bx, by int) [64]int32 { return randomBlock(rng, 200) }
		f.Add(writeJPEG(f, s))
	}
	paths, _ := filepath.Glob("testdata/*.jpg")
	for _, p := range paths {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Decode(data, 1<<20)
		if err != nil {
			if !errors.Is(err, ErrNotHandled) || got != nil {
				t.Fatalf("got %T, %v", got, err)
			}
			return
		}
		want, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("decoded here, image/jpeg says %v", err)
		}
		if msg := diff(got, want); msg != "" {
			t.Fatal(msg)
		}
	})
}
