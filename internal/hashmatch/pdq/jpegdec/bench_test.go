package jpegdec

import (
	"bytes"
	"image/jpeg"
	"os"
	"testing"

	"github.com/custos-project/custos/internal/reftest"
)

// BenchmarkDecode decodes the reference's 1600x1004 bridge photo (4:2:0,
// no restart markers) with this package and with image/jpeg.
func BenchmarkDecode(b *testing.B) {
	data, err := os.ReadFile(reftest.Path(b, "pdq", "data", "bridge-mods", "aaa-orig.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jpegdec", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Decode(data, testMaxPixels); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("image-jpeg", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
