package pdq

import (
	"image"
	"testing"
)

// TestYCC420 checks the one-step 4:2:0 conversion against libjpeg's two
// steps (fancy420 on each chroma plane, then jpegYCbCrToRGB) on every pixel
// of random images of even and odd sizes, edges included.
func TestYCC420(t *testing.T) {
	s := uint32(12345)
	rnd := func() uint8 {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return uint8(s)
	}
	for _, sz := range [][2]int{{5, 5}, {6, 7}, {17, 16}, {64, 33}} {
		m := image.NewYCbCr(image.Rect(0, 0, sz[0], sz[1]), image.YCbCrSubsampleRatio420)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = rnd()
			}
		}
		cw, ch := (sz[0]+1)/2, (sz[1]+1)/2
		for y := range sz[1] {
			for x := range sz[0] {
				r, g, b := jpegYCbCrToRGB(m.Y[y*m.YStride+x], fancy420(m.Cb, m.CStride, cw, ch, x, y), fancy420(m.Cr, m.CStride, cw, ch, x, y))
				r2, g2, b2 := ycc420(m, cw, ch, x, y)
				if r != r2 || g != g2 || b != b2 {
					t.Fatalf("%dx%d at (%d,%d): %d,%d,%d, want %d,%d,%d", sz[0], sz[1], x, y, r2, g2, b2, r, g, b)
				}
			}
		}
	}
}

// TestFillYCC420 checks fillLuma's 4:2:0 loop against the general sampling
// path, value for value, on random images smaller and larger than the
// resize size, odd and even, in the four orientations that keep the axes,
// and on a grey one (every sample grey: the grey values are the luma).
func TestFillYCC420(t *testing.T) {
	s := uint32(2463534242)
	rnd := func() uint8 {
		s ^= s << 13
		s ^= s >> 17
		s ^= s << 5
		return uint8(s)
	}
	for _, tc := range []struct {
		w, h int
		grey bool
	}{{5, 5, false}, {17, 16, false}, {300, 201, false}, {1001, 515, false}, {1600, 1004, false}, {640, 480, true}} {
		m := image.NewYCbCr(image.Rect(0, 0, tc.w, tc.h), image.YCbCrSubsampleRatio420)
		for _, p := range [][]uint8{m.Y, m.Cb, m.Cr} {
			for i := range p {
				p[i] = rnd()
				if tc.grey && (&p[0] != &m.Y[0]) {
					p[i] = 128
				}
			}
		}
		var fast, slow Hasher
		for o := OrientationNormal; o <= OrientationFlipV; o++ {
			w, h, err := fast.fillLuma(m, o)
			if err != nil {
				t.Fatal(err)
			}
			if !fast.fillYCC420(m, o, w, h) {
				t.Fatalf("%dx%d orientation %d: fillYCC420 refused a 4:2:0 image", tc.w, tc.h, o)
			}
			slow.luma = grow(slow.luma, w*h)
			if err := slow.fillSampled(m, o, w, h); err != nil {
				t.Fatal(err)
			}
			for i := range slow.luma {
				if fast.luma[i] != slow.luma[i] {
					t.Fatalf("%dx%d orientation %d: luma[%d] = %v, want %v", tc.w, tc.h, o, i, fast.luma[i], slow.luma[i])
				}
			}
		}
	}
}
