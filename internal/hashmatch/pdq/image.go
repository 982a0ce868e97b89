package pdq

import (
	"fmt"
	"image"
	"image/color"
)

// ResizeDim is the side of the square the photo path resizes large images
// to. The reference's Jarosz filter is too slow on full-size photos, so any
// image wider or taller than this is first resized to exactly ResizeDim x
// ResizeDim with nearest-neighbour sampling, aspect ratio not kept.
const ResizeDim = 512

// Result describes one hashed image.
type Result struct {
	// Hash is the PDQ hash.
	Hash Hash `json:"hash"`
	// Quality is the PDQ quality, 0..100; hashes below 50 are unreliable.
	Quality int `json:"quality"`
	// Width and Height are the image's dimensions as hashed: after applying
	// Orientation, before the resize to 512x512.
	Width  int `json:"width"`
	Height int `json:"height"`
	// Orientation is the EXIF orientation found in the file (1 when there is
	// none), whether or not it was applied.
	Orientation Orientation `json:"orientation"`
	// MD5 and SHA256 are lower-case hex digests of the file's bytes, exact
	// match signals that complement the perceptual hash. They are empty when
	// the hash was computed from an image.Image.
	MD5    string `json:"md5,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
}

// HashImage hashes img as stored, the way the reference's photo hasher
// would hash the same pixels: resized to 512x512 by nearest neighbour when
// larger than 512 in either dimension, then converted to luma (grey images
// by their grey value, colour images by 0.299 R + 0.587 G + 0.114 B), alpha
// ignored. It is safe for concurrent use.
//
// Images smaller than [MinDimension] in either direction are refused with
// [ErrTooSmall]: the reference would return a meaningless zero hash.
func HashImage(img image.Image) (Result, error) {
	h := getHasher()
	defer putHasher(h)
	hash, q, err := h.FromImage(img, OrientationNormal)
	if err != nil {
		return Result{}, err
	}
	b := img.Bounds()
	return Result{Hash: hash, Quality: q, Width: b.Dx(), Height: b.Dy(), Orientation: OrientationNormal}, nil
}

// FromImage hashes img as displayed with orientation o (use
// [OrientationNormal] to hash the stored pixels). See [HashImage].
func (h *Hasher) FromImage(img image.Image, o Orientation) (Hash, int, error) {
	w, ht, err := h.fillLuma(img, o)
	if err != nil {
		return Hash{}, 0, err
	}
	return h.FromLuma(h.luma, w, ht)
}

// fillLuma writes the luma the reference would compute for img into h.luma
// and returns its dimensions.
//
// The reference decodes with ImageMagick into 8-bit RGB (or 8-bit grey for
// images whose pixels are all grey), resizes with CImg and converts to luma.
// CImg's nearest-neighbour resize from n to 512 samples source index
// floor(x*n/512) for output x (it accumulates the differences of
// floor((x+1)*n/512), exact in float64), in both directions; orientation is
// applied before sampling, so the resize happens in display coordinates.
func (h *Hasher) fillLuma(img image.Image, o Orientation) (width, height int, err error) {
	if !o.Valid() {
		return 0, 0, fmt.Errorf("pdq: invalid orientation %d", o)
	}
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	if sw < MinDimension || sh < MinDimension {
		return 0, 0, fmt.Errorf("%w: %dx%d, need at least %dx%d", ErrTooSmall, sw, sh, MinDimension, MinDimension)
	}
	dw, dh := sw, sh // display size
	if o.swapsAxes() {
		dw, dh = sh, sw
	}
	width, height = dw, dh
	if dw > ResizeDim || dh > ResizeDim {
		width, height = ResizeDim, ResizeDim
	}
	n := width * height
	h.luma = grow(h.luma, n)
	if m, ok := img.(*image.YCbCr); ok && !o.swapsAxes() && h.fillYCC420(m, o, width, height) {
		return width, height, nil
	}
	return width, height, h.fillSampled(img, o, width, height)
}

// fillSampled is fillLuma for any image and orientation: each sampled pixel
// is read through a pixelFetcher into h.samples, then converted.
func (h *Hasher) fillSampled(img image.Image, o Orientation, width, height int) error {
	b := img.Bounds()
	sw, sh := b.Dx(), b.Dy()
	dw, dh := sw, sh
	if o.swapsAxes() {
		dw, dh = sh, sw
	}
	n := width * height

	// Display pixel (x, y) comes from stored pixel
	// (x0 + x*xx + y*xy, y0 + x*yx + y*yy), relative to b.Min.
	x0, xx, xy, y0, yx, yy := o.toStored(sw, sh)
	h.samples = grow(h.samples, 3*n)
	fetch := pixelFetcher(img)
	grey := isGreyModel(img)
	s := h.samples
	for y := range height {
		dy := y * dh / height // identity unless resized
		for x := range width {
			dx := x * dw / width
			px := b.Min.X + x0 + dx*xx + dy*xy
			py := b.Min.Y + y0 + dx*yx + dy*yy
			s[0], s[1], s[2] = fetch(px, py)
			s = s[3:]
		}
	}
	// ImageMagick hands CImg a one-channel image when every pixel is grey,
	// and the reference then uses the grey value itself as luma instead of
	// the weighted sum (which can differ from it in the last bit).
	// ImageMagick checks every pixel, this only the sampled ones; they
	// disagree only when all colour pixels fall between samples.
	if !grey {
		grey = allGrey(h.samples)
	}
	s = h.samples
	for i := range h.luma {
		r, g, bl := s[3*i], s[3*i+1], s[3*i+2]
		if grey {
			h.luma[i] = float32(r)
		} else {
			h.luma[i] = lumaFromRGB(r, g, bl)
		}
	}
	return nil
}

// fillYCC420 is fillLuma's loop for a 4:2:0 YCbCr image (what image/jpeg
// returns for most colour photos) in an orientation that keeps the axes: the
// same libjpeg arithmetic as ycc420, with each sampled column's chroma
// neighbours and rounding bias and each row's chroma rows worked out once
// instead of for every pixel, and the luma written directly. When every
// sampled pixel is grey it writes the grey values instead, as fillSampled
// does. It reports false, leaving the work to fillSampled, for any other
// layout. TestFillYCC420 checks it against fillSampled.
func (h *Hasher) fillYCC420(m *image.YCbCr, o Orientation, width, height int) bool {
	if m.SubsampleRatio != image.YCbCrSubsampleRatio420 || m.Rect.Min != (image.Point{}) {
		return false
	}
	sw, sh := m.Rect.Dx(), m.Rect.Dy()
	cw, ch := (sw+1)/2, (sh+1)/2
	x0, xx, _, y0, _, yy := o.toStored(sw, sh)
	h.cols = grow(h.cols, width)
	for x := range h.cols {
		sx := x0 + x*sw/width*xx
		c := sx / 2
		col := yccColumn{y: int32(sx), c: int32(c), n: int32(c), bias: 7}
		if sx&1 == 0 {
			col.bias = 8
			col.n = int32(max(c-1, 0))
		} else {
			col.n = int32(min(c+1, cw-1))
		}
		h.cols[x] = col
	}
	grey := true
	h.samples = grow(h.samples, width*height) // the red samples, for a grey image
	for y := range height {
		sy := y0 + y*sh/height*yy
		cy := sy / 2
		ny := cy - 1 // upper output row of a pair leans on the row above
		if sy&1 == 1 {
			ny = cy + 1
		}
		ny = max(0, min(ny, ch-1))
		yrow := m.Y[sy*m.YStride : sy*m.YStride+sw]
		cb0, cb1 := m.Cb[cy*m.CStride:cy*m.CStride+cw], m.Cb[ny*m.CStride:ny*m.CStride+cw]
		cr0, cr1 := m.Cr[cy*m.CStride:cy*m.CStride+cw], m.Cr[ny*m.CStride:ny*m.CStride+cw]
		out := h.luma[y*width : (y+1)*width]
		reds := h.samples[y*width : (y+1)*width]
		for x, col := range h.cols[:len(out)] {
			c, n := col.c, col.n
			tb := 3*int(cb0[c]) + int(cb1[c])
			tr := 3*int(cr0[c]) + int(cr1[c])
			xb := (3*tb+3*int(cb0[n])+int(cb1[n])+col.bias)>>4 - 128
			xr := (3*tr+3*int(cr0[n])+int(cr1[n])+col.bias)>>4 - 128
			yv := int(yrow[col.y])
			r := clamp8(yv + (fix1_40200*xr+oneHalf)>>16)
			g := clamp8(yv + (-fix0_34414*xb+oneHalf-fix0_71414*xr)>>16)
			bl := clamp8(yv + (fix1_77200*xb+oneHalf)>>16)
			grey = grey && r == g && g == bl
			out[x] = lumaFromRGB(r, g, bl)
			reds[x] = r
		}
	}
	if grey {
		for i, r := range h.samples {
			h.luma[i] = float32(r)
		}
	}
	return true
}

// yccColumn is one sampled column of fillYCC420: its Y index, its chroma
// sample and the neighbour libjpeg's fancy upsampling blends in (the same
// sample at the image's edges), and the rounding bias.
type yccColumn struct {
	y, c, n int32
	bias    int
}

// lumaFromRGB is the reference's fillFloatLumaFromRGB for one pixel: three
// float32 products added left to right, each rounded (no FMA).
func lumaFromRGB(r, g, b uint8) float32 {
	return float32(float32(lumaR*float32(r))+float32(lumaG*float32(g))) + float32(lumaB*float32(b))
}

func allGrey(rgb []uint8) bool {
	for i := 0; i+2 < len(rgb); i += 3 {
		if rgb[i] != rgb[i+1] || rgb[i] != rgb[i+2] {
			return false
		}
	}
	return true
}

// isGreyModel reports whether img can only hold grey pixels.
func isGreyModel(img image.Image) bool {
	switch img.(type) {
	case *image.Gray, *image.Gray16:
		return true
	}
	return false
}

// pixelFetcher returns a function reading the 8-bit RGB of a pixel of img,
// with fast paths for the concrete types the decoders produce. Alpha is
// dropped without compositing, as ImageMagick does when writing the PPM the
// reference reads: non-premultiplied colour is used as is.
func pixelFetcher(img image.Image) func(x, y int) (r, g, b uint8) {
	switch m := img.(type) {
	case *image.YCbCr:
		return ycbcrFetcher(m)
	case *image.NYCbCrA:
		return pixelFetcher(&m.YCbCr)
	case *image.Gray:
		return func(x, y int) (uint8, uint8, uint8) {
			v := m.Pix[m.PixOffset(x, y)]
			return v, v, v
		}
	case *image.Gray16:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			v := to8(p[0], p[1])
			return v, v, v
		}
	case *image.RGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	case *image.NRGBA:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return p[0], p[1], p[2]
		}
	case *image.RGBA64:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return to8(p[0], p[1]), to8(p[2], p[3]), to8(p[4], p[5])
		}
	case *image.NRGBA64:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return to8(p[0], p[1]), to8(p[2], p[3]), to8(p[4], p[5])
		}
	case *image.CMYK:
		return func(x, y int) (uint8, uint8, uint8) {
			p := m.Pix[m.PixOffset(x, y):]
			return color.CMYKToRGB(p[0], p[1], p[2], p[3])
		}
	case *image.Paletted:
		var pal [256][3]uint8
		for i, c := range m.Palette {
			if i == len(pal) {
				break
			}
			pal[i] = rgbOf(c)
		}
		return func(x, y int) (uint8, uint8, uint8) {
			p := &pal[m.Pix[m.PixOffset(x, y)]]
			return p[0], p[1], p[2]
		}
	}
	return func(x, y int) (uint8, uint8, uint8) {
		c := rgbOf(img.At(x, y))
		return c[0], c[1], c[2]
	}
}

// to8 scales a 16-bit sample (big-endian bytes hi, lo) to 8 bits as
// ImageMagick does when it writes the 8-bit image the reference reads:
// round(v/257), not the high byte.
func to8(hi, lo uint8) uint8 {
	return uint8((uint32(hi)<<8 | uint32(lo) + 128) / 257)
}

// rgbOf returns the non-premultiplied 8-bit RGB of c.
func rgbOf(c color.Color) [3]uint8 {
	switch c := c.(type) {
	case color.NRGBA:
		return [3]uint8{c.R, c.G, c.B}
	case color.RGBA:
		if c.A == 0xff {
			return [3]uint8{c.R, c.G, c.B}
		}
	}
	n := color.NRGBAModel.Convert(c).(color.NRGBA)
	return [3]uint8{n.R, n.G, n.B}
}

// Variants are an image's hashes for matching against lists hashed either
// way: of the stored pixels as the reference hashes them, as displayed, and
// in the eight dihedral orientations.
type Variants struct {
	// Hash and Quality are of the stored pixels, EXIF orientation ignored:
	// the hash the C++ reference and other PDQ tools give, the one to
	// publish or export.
	Hash    Hash
	Quality int
	// Displayed and DisplayedQuality are of the image with its EXIF
	// orientation applied ([Options].Orient's hash); Hash and Quality when
	// it has none.
	Displayed        Hash
	DisplayedQuality int
	// Dihedral[k-1] is the hash of the stored image transformed as EXIF
	// orientation k would transform it (the eight rotations and flips), so
	// that a rotated or mirrored copy matches; Dihedral[0] is Hash. Each is
	// exactly [Hasher.FromImage]'s hash of that orientation: the four
	// orientations that keep the axes are sampled and converted to luma
	// once each, and the other four are their luma buffers transposed.
	// (The reference's DCT-domain variants, pdqDihedralHash256esFromFloatLuma,
	// cost one blur instead of eight but ignore the blur's asymmetry: a
	// rotated copy of a 256x256 photo fell outside the match threshold with
	// them.)
	Dihedral [8]Hash
}

// Variants hashes img, stored with EXIF orientation o: the stored pixels,
// as displayed, and the dihedral set. See [Variants].
func (h *Hasher) Variants(img image.Image, o Orientation) (Variants, error) {
	var v Variants
	if !o.Valid() {
		return v, fmt.Errorf("pdq: invalid orientation %d", o)
	}
	// The orientations that swap the axes, by the one whose luma buffer
	// they transpose (see toStored: the same signs along each stored axis).
	transposed := [5]Orientation{1: OrientationTranspose, 2: OrientationRotate270, 3: OrientationTransverse, 4: OrientationRotate90}
	for k := OrientationNormal; k <= OrientationFlipV; k++ {
		w, ht, err := h.fillLuma(img, k)
		if err != nil {
			return v, err
		}
		hash, q, err := h.FromLuma(h.luma, w, ht)
		if err != nil {
			return v, err
		}
		v.Dihedral[k-1] = hash
		if k == OrientationNormal {
			v.Hash, v.Quality = hash, q
		}
		if k == o {
			v.Displayed, v.DisplayedQuality = hash, q
		}
		h.turned = grow(h.turned, w*ht)
		transpose(h.luma, h.turned, w, ht)
		t := transposed[k]
		if hash, q, err = h.FromLuma(h.turned, ht, w); err != nil {
			return v, err
		}
		v.Dihedral[t-1] = hash
		if t == o {
			v.Displayed, v.DisplayedQuality = hash, q
		}
	}
	return v, nil
}

// transpose writes into dst the transpose of the w x h buffer src.
func transpose(src, dst []float32, w, h int) {
	for y := range h {
		row := src[y*w : (y+1)*w]
		for x, f := range row {
			dst[x*h+y] = f
		}
	}
}
