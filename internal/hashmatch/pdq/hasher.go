package pdq

import (
	"errors"
	"fmt"
	"sync"
)

// ErrInvalidLuma is returned (wrapped) when a luma buffer does not match its
// dimensions or holds values the algorithm cannot order (NaN, ±Inf or
// magnitudes near the float32 limit).
var ErrInvalidLuma = errors.New("pdq: invalid luma buffer")

// Hasher computes PDQ hashes, reusing its scratch buffers between calls so
// that steady-state hashing does not allocate. The zero value is ready to
// use. A Hasher is not safe for concurrent use; the package-level functions
// draw Hashers from a pool and are.
type Hasher struct {
	// blur1 and blur2 are full-size ping-pong buffers for the box filter.
	blur1, blur2 []float32
	// sums holds one running sum per column during the column pass.
	sums []float32
	// luma holds the luma of an image being hashed (at most 512x512).
	luma []float32
	// turned holds luma transformed by [Hasher.Variants].
	turned []float32
	// samples holds the RGB samples picked from an image (3 per pixel).
	samples []uint8
	// cols holds the sampled columns of a 4:2:0 image (fillYCC420).
	cols []yccColumn

	b64 [dctSize * dctSize]float32
	t16 [hashSize * dctSize]float32
	b16 [hashSize * hashSize]float32
	aux [hashSize * hashSize]float32
}

// FromLuma returns the PDQ hash and quality (0..100) of a width x height
// luma buffer in row-major order (luma[y*width+x]), with values normally in
// 0..255. The result is bit-identical to the reference's
// pdqHash256FromFloatLuma. luma is not modified.
//
// Like the reference, a buffer narrower or shorter than [MinDimension] gives
// the zero hash and quality 0 without error; an error is returned only when
// len(luma) != width*height or the values are not finite.
func (h *Hasher) FromLuma(luma []float32, width, height int) (Hash, int, error) {
	q, ok, err := h.float256(luma, width, height, false)
	if err != nil || !ok {
		return Hash{}, 0, err
	}
	return bitsFromDCT(&h.b16), q, nil
}

// DihedralFromLuma returns the hashes of the luma buffer in its eight
// orientations, in the reference's order: original, rotated 90°, 180°,
// 270°, flipped about the x axis, the y axis, the main diagonal and the
// anti-diagonal; and the quality. It matches the reference's
// pdqDihedralHash256esFromFloatLuma, which, unlike [Hasher.FromLuma], blurs
// even a 64x64 buffer, so its first hash may differ slightly from FromLuma's
// for that size.
func (h *Hasher) DihedralFromLuma(luma []float32, width, height int) ([8]Hash, int, error) {
	var out [8]Hash
	q, ok, err := h.float256(luma, width, height, true)
	if err != nil || !ok {
		return out, 0, err
	}
	out[0] = bitsFromDCT(&h.b16)
	for i := 1; i < len(dihedrals); i++ {
		dihedrals[i].apply(&h.b16, &h.aux)
		out[i] = bitsFromDCT(&h.aux)
	}
	return out, q, nil
}

// float256 fills h.b16 with the 16x16 DCT of the luma buffer and returns the
// quality. ok is false (with a nil error) when the buffer is too small to
// hash. alwaysBlur selects the dihedral entry point's behaviour for 64x64
// input.
func (h *Hasher) float256(luma []float32, width, height int, alwaysBlur bool) (q int, ok bool, err error) {
	if width <= 0 || height <= 0 || len(luma)/width != height || len(luma)%width != 0 {
		return 0, false, fmt.Errorf("%w: %d values for %dx%d", ErrInvalidLuma, len(luma), width, height)
	}
	if width < MinDimension || height < MinDimension {
		return 0, false, nil
	}
	if width == dctSize && height == dctSize && !alwaysBlur {
		// Already at the DCT size (e.g. video frames scaled by ffmpeg): the
		// reference skips the blur.
		copy(h.b64[:], luma)
	} else {
		h.downsample(luma, width, height)
	}
	q = quality(&h.b64)
	dct(&h.b64, &h.t16, &h.b16)
	if !finiteForMedian(h.b16[:]) {
		return 0, false, fmt.Errorf("%w: values are not finite", ErrInvalidLuma)
	}
	return q, true, nil
}

// downsample blurs luma with the Jarosz tent filter and decimates it into
// h.b64. The first pass reads luma directly, so the caller's buffer is never
// written.
func (h *Hasher) downsample(luma []float32, width, height int) {
	n := width * height
	h.blur1 = grow(h.blur1, n)
	h.blur2 = grow(h.blur2, n)
	h.sums = grow(h.sums, width)
	winRows := jaroszWindow(width, dctSize)  // window along each row
	winCols := jaroszWindow(height, dctSize) // window along each column
	src := luma
	for pass := range jaroszPasses {
		boxRows(src, h.blur2, height, width, winRows)
		if pass == jaroszPasses-1 {
			// Only the 64x64 samples decimate takes of the last pass count.
			boxColsDecimate(h.blur2, height, width, winCols, &h.b64)
			break
		}
		boxCols(h.blur2, h.blur1, height, width, winCols, h.sums)
		src = h.blur1
	}
}

// grow returns s resliced to n elements, reallocating only when its capacity
// is too small. The contents are not preserved.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// maxPooledFloats bounds the scratch a pooled Hasher may keep: enough for a
// 1024x1024 luma buffer, so that one huge input does not pin its buffers in
// the pool for the life of the process.
const maxPooledFloats = 1 << 20

var hasherPool = sync.Pool{New: func() any { return new(Hasher) }}

func getHasher() *Hasher { return hasherPool.Get().(*Hasher) }

func putHasher(h *Hasher) {
	if cap(h.blur1) > maxPooledFloats || cap(h.blur2) > maxPooledFloats {
		h.blur1, h.blur2, h.sums = nil, nil, nil
	}
	hasherPool.Put(h)
}

// FromLuma is [Hasher.FromLuma] with a pooled Hasher; it is safe for
// concurrent use.
func FromLuma(luma []float32, width, height int) (Hash, int, error) {
	h := getHasher()
	defer putHasher(h)
	return h.FromLuma(luma, width, height)
}

// DihedralFromLuma is [Hasher.DihedralFromLuma] with a pooled Hasher; it is
// safe for concurrent use.
func DihedralFromLuma(luma []float32, width, height int) ([8]Hash, int, error) {
	h := getHasher()
	defer putHasher(h)
	return h.DihedralFromLuma(luma, width, height)
}
