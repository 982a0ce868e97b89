package pdq

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/custos-project/custos/internal/reftest"
)

// TestDecodeBytesCoversTheDecoder decodes and hashes images of every
// format and layout the encoders at hand write, and every image of the
// reference data (progressive and CMYK JPEGs, lossy and lossless WebP),
// and checks that what the decode and the hashing allocate in all, a bound
// of their peak, is within the header's estimate and not far below it.
func TestDecodeBytesCoversTheDecoder(t *testing.T) {
	const w, h = 641, 403
	fill := func(img interface{ Set(int, int, color.Color) }) {
		for y := range h {
			for x := range w {
				img.Set(x, y, color.NRGBA64{uint16(x * 97), uint16(y * 211), uint16(x * y), uint16(65535 - x*13)})
			}
		}
	}
	encoded := map[string][]byte{}
	add := func(name string, img image.Image, enc func(*bytes.Buffer, image.Image) error) {
		fill(img.(interface{ Set(int, int, color.Color) }))
		var buf bytes.Buffer
		if err := enc(&buf, img); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		encoded[name] = buf.Bytes()
	}
	r := image.Rect(0, 0, w, h)
	pngEnc := func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }
	for name, m := range map[string]image.Image{"gray": image.NewGray(r), "gray16": image.NewGray16(r), "rgba": image.NewRGBA(r),
		"nrgba": image.NewNRGBA(r), "rgba64": image.NewRGBA64(r), "nrgba64": image.NewNRGBA64(r),
		"paletted": image.NewPaletted(r, color.Palette{color.Black, color.White, color.Gray{128}})} {
		add("png "+name, m, pngEnc)
		if name != "gray16" && name != "nrgba64" { // TIFF writes neither
			add("tiff "+name, m, func(b *bytes.Buffer, m image.Image) error {
				return tiff.Encode(b, m, &tiff.Options{Compression: tiff.Deflate})
			})
		}
	}
	add("jpeg 4:2:0", image.NewRGBA(r), func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
	add("jpeg grey", image.NewGray(r), func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) })
	add("gif", image.NewRGBA(r), func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) })
	add("bmp", image.NewRGBA(r), func(b *bytes.Buffer, m image.Image) error { return bmp.Encode(b, m) })
	add("bmp paletted", image.NewPaletted(r, color.Palette{color.Black, color.White}), func(b *bytes.Buffer, m image.Image) error { return bmp.Encode(b, m) })
	if dir, err := reftest.Lookup("pdq", "data"); err == nil {
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				if data, err := os.ReadFile(path); err == nil {
					rel, _ := filepath.Rel(dir, path)
					encoded[rel] = data
				}
			}
			return nil
		})
	}
	checked := 0
	for name, data := range encoded {
		e, err := Options{}.Open(data)
		if err != nil {
			continue // not an image, or too small
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		img, _, err := e.Decode()
		if err == nil {
			var hs Hasher
			_, err = hs.Variants(img, OrientationNormal)
		}
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := int64(after.TotalAlloc - before.TotalAlloc)
		if got > e.DecodeBytes || e.DecodeBytes > 6*got+hashScratch+int64(len(data)) {
			t.Errorf("%s (%s %dx%d): allocated %d bytes, estimated %d", name, e.Format, e.Width, e.Height, got, e.DecodeBytes)
		}
		checked++
	}
	t.Logf("%d images checked", checked)
}

// TestDecodeBytesRefuses checks that an image whose decode would take more
// than MaxDecodeBytes is refused from its header, whatever its pixels: a
// progressive 10000x10000 JPEG of three full-resolution components (the
// headers up to its scan, 34 bytes) takes 5 bytes a sample, its sequential
// twin 2, a grey one 2 a pixel.
func TestDecodeBytesRefuses(t *testing.T) {
	jpegOf := func(sof byte, comps ...byte) []byte {
		b := []byte{0xff, 0xd8, 0xff, sof, 0, byte(8 + 3*len(comps)), 8, 0x27, 0x10, 0x27, 0x10, byte(len(comps))}
		for i, hv := range comps {
			b = append(b, byte(i+1), hv, 0)
		}
		return append(b, 0xff, 0xda, 0, 8, 1, 1, 0, 0, 0x3f, 0)
	}
	const px = 100_000_000
	for _, c := range []struct {
		name string
		data []byte
		want int64 // bytes a pixel
	}{
		{"progressive 4:4:4", jpegOf(0xc2, 0x11, 0x11, 0x11), 15},
		{"sequential 4:4:4", jpegOf(0xc0, 0x11, 0x11, 0x11), 6},
		{"progressive 4:2:0", jpegOf(0xc2, 0x22, 0x11, 0x11), 7}, // 7.5
		{"sequential grey", jpegOf(0xc0, 0x11), 2},
		{"sequential CMYK", jpegOf(0xc0, 0x11, 0x11, 0x11, 0x11), 12},
	} {
		hd, err := Options{MaxDecodeBytes: 1 << 40}.Inspect(c.data)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if hd.DecodeBytes < c.want*px || hd.DecodeBytes > (c.want+1)*px {
			t.Errorf("%s: estimated %d bytes, want %d to %d", c.name, hd.DecodeBytes, c.want*px, (c.want+1)*px)
		}
		if _, err := (Options{MaxDecodeBytes: c.want * px}).Inspect(c.data); !errors.Is(err, ErrDecodeMemory) {
			t.Errorf("%s: limit %d: err = %v, want ErrDecodeMemory", c.name, c.want*px, err)
		}
		if _, err := (Options{MaxDecodeBytes: (c.want + 1) * px}).Inspect(c.data); err != nil {
			t.Errorf("%s: limit %d: %v", c.name, (c.want+1)*px, err)
		}
	}
}
