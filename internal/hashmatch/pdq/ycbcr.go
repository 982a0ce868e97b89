package pdq

import "image"

// The reference decodes JPEGs with ImageMagick, that is with libjpeg(-turbo)
// in its default mode: "fancy" (triangle-filter) chroma upsampling and
// libjpeg's fixed-point YCbCr to RGB conversion. Go's image/jpeg keeps the
// subsampled chroma and image/color converts with different rounding, which
// on small photos moved hashes by up to 22 bits; reproducing libjpeg's two
// steps here brings the reference photos to within 4 bits. Only the IDCT
// still differs (Go's is not libjpeg's islow).

// ycbcrFetcher returns a pixel reader for a YCbCr image that upsamples
// 4:2:0 and 4:2:2 chroma like libjpeg's h2v2 and h2v1 fancy upsamplers and
// converts like libjpeg's ycc_rgb_convert. Other subsampling ratios use the
// nearest chroma sample.
func ycbcrFetcher(m *image.YCbCr) func(x, y int) (uint8, uint8, uint8) {
	b := m.Rect
	// libjpeg's downsampled size: the edge sample is replicated past it.
	cw, ch := (b.Dx()+1)/2, (b.Dy()+1)/2
	switch {
	case b.Min != image.Point{}:
		// A sub-image: chroma sample phase is not libjpeg's; keep it simple.
	case m.SubsampleRatio == image.YCbCrSubsampleRatio420:
		return func(x, y int) (uint8, uint8, uint8) {
			return ycc420(m, cw, ch, x, y)
		}
	case m.SubsampleRatio == image.YCbCrSubsampleRatio422:
		return func(x, y int) (uint8, uint8, uint8) {
			yv := m.Y[y*m.YStride+x]
			return jpegYCbCrToRGB(yv, fancy422(m.Cb[y*m.CStride:], cw, x), fancy422(m.Cr[y*m.CStride:], cw, x))
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		ci := m.COffset(x, y)
		return jpegYCbCrToRGB(m.Y[m.YOffset(x, y)], m.Cb[ci], m.Cr[ci])
	}
}

// fancy420 is libjpeg's h2v2_fancy_upsample for output pixel (x, y): a
// 3:1 weighting of the nearest and next chroma rows, then a 3:1 weighting of
// the nearest and next column sums, with libjpeg's alternating rounding
// biases (8 for the left output of a pair, 7 for the right).
func fancy420(c []uint8, stride, cw, ch, x, y int) uint8 {
	cx, cy := x/2, y/2
	ny := cy - 1 // upper output row of a pair leans on the row above
	if y&1 == 1 {
		ny = cy + 1
	}
	ny = max(0, min(ny, ch-1))
	row, nrow := c[cy*stride:], c[ny*stride:]
	colSum := func(i int) int { return 3*int(row[i]) + int(nrow[i]) }
	t := colSum(cx)
	if x&1 == 0 {
		if cx == 0 {
			return uint8((4*t + 8) >> 4)
		}
		return uint8((3*t + colSum(cx-1) + 8) >> 4)
	}
	if cx == cw-1 {
		return uint8((4*t + 7) >> 4)
	}
	return uint8((3*t + colSum(cx+1) + 7) >> 4)
}

// ycc420 is fancy420 for both chroma planes at once followed by
// jpegYCbCrToRGB: the same arithmetic, with the neighbour indices computed
// once, no closure and no call per plane. TestYCC420 checks it against the
// two-step form.
func ycc420(m *image.YCbCr, cw, ch, x, y int) (uint8, uint8, uint8) {
	cx, cy := x/2, y/2
	ny := cy - 1
	if y&1 == 1 {
		ny = cy + 1
	}
	ny = max(0, min(ny, ch-1))
	r0, r1 := cy*m.CStride, ny*m.CStride
	i0 := r0 + cx
	n0 := r1 + cx
	tb := 3*int(m.Cb[i0]) + int(m.Cb[n0])
	tr := 3*int(m.Cr[i0]) + int(m.Cr[n0])
	var cb, cr int
	switch {
	case x&1 == 0 && cx == 0:
		cb, cr = (4*tb+8)>>4, (4*tr+8)>>4
	case x&1 == 0:
		cb = (3*tb + 3*int(m.Cb[i0-1]) + int(m.Cb[n0-1]) + 8) >> 4
		cr = (3*tr + 3*int(m.Cr[i0-1]) + int(m.Cr[n0-1]) + 8) >> 4
	case cx == cw-1:
		cb, cr = (4*tb+7)>>4, (4*tr+7)>>4
	default:
		cb = (3*tb + 3*int(m.Cb[i0+1]) + int(m.Cb[n0+1]) + 7) >> 4
		cr = (3*tr + 3*int(m.Cr[i0+1]) + int(m.Cr[n0+1]) + 7) >> 4
	}
	yy := int(m.Y[y*m.YStride+x])
	xb, xr := int(uint8(cb))-128, int(uint8(cr))-128
	return clamp8(yy + (fix1_40200*xr+oneHalf)>>16),
		clamp8(yy + (-fix0_34414*xb+oneHalf-fix0_71414*xr)>>16),
		clamp8(yy + (fix1_77200*xb+oneHalf)>>16)
}

// fancy422 is libjpeg's h2v1_fancy_upsample for output column x of one row.
func fancy422(row []uint8, cw, x int) uint8 {
	cx := x / 2
	v := int(row[cx])
	if x&1 == 0 {
		if cx == 0 {
			return uint8(v)
		}
		return uint8((3*v + int(row[cx-1]) + 1) >> 2)
	}
	if cx == cw-1 {
		return uint8(v)
	}
	return uint8((3*v + int(row[cx+1]) + 2) >> 2)
}

// libjpeg's conversion constants: FIX(x) = x*2^16 rounded.
const (
	fix1_40200 = 91881  // FIX(1.40200), Cr to R
	fix1_77200 = 116130 // FIX(1.77200), Cb to B
	fix0_71414 = 46802  // FIX(0.71414), Cr to G
	fix0_34414 = 22554  // FIX(0.34414), Cb to G
	oneHalf    = 1 << 15
)

// jpegYCbCrToRGB is libjpeg's ycc_rgb_convert for one pixel: each chroma
// term is rounded to an integer separately and added to Y, then clamped.
func jpegYCbCrToRGB(y, cb, cr uint8) (uint8, uint8, uint8) {
	xb, xr := int(cb)-128, int(cr)-128
	yy := int(y)
	r := yy + (fix1_40200*xr+oneHalf)>>16
	g := yy + (-fix0_34414*xb+oneHalf-fix0_71414*xr)>>16
	bl := yy + (fix1_77200*xb+oneHalf)>>16
	return clamp8(r), clamp8(g), clamp8(bl)
}

func clamp8(v int) uint8 {
	return uint8(max(0, min(v, 255)))
}
