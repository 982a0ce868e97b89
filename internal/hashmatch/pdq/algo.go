package pdq

import "math"

// This file holds the numerical core. Every function mirrors the operation
// order of the C++ reference (pdq/cpp/downscaling and pdq/cpp/hashing) so
// that float32 results are bit-identical; loops are only reordered where
// each output element still sees the same sequence of operations. Products
// that feed an addition are wrapped in float32(...) because the Go spec lets
// a compiler fuse x*y+z into one FMA unless an explicit conversion forces the
// intermediate rounding (amd64 does not fuse, arm64 and others may).

// MinDimension is the smallest width and height the reference hashes; for a
// smaller luma buffer it returns the zero hash with quality 0.
const MinDimension = 5

const (
	// dctSize is the side of the image-domain buffer the DCT runs on.
	dctSize = 64
	// hashSize is the side of the retained low-frequency DCT corner.
	hashSize = 16
	// jaroszPasses is the number of row+column box-filter passes; two box
	// passes make a tent filter.
	jaroszPasses = 2
)

// Luma weights, as float32 constants (C++ `const float x = 0.299;`).
const (
	lumaR float32 = 0.299
	lumaG float32 = 0.587
	lumaB float32 = 0.114
)

// dctMatrix is the 16x64 DCT-II basis without the DC row: row i, column j is
// sqrt(2/64) * cos(pi/2/64 * (i+1) * (2j+1)). As in the reference the scale
// factor is rounded to float32 first and the product is taken in float64,
// then rounded to float32. math.Cos need not be correctly rounded like
// glibc's: an ulp of float64 error almost never survives the rounding to
// float32, and TestLumaFloat256 checks every coefficient the matrix yields.
var dctMatrix = func() (d [hashSize * dctSize]float32) {
	scale := float32(math.Sqrt(2.0 / dctSize))
	for i := range hashSize {
		for j := range dctSize {
			arg := math.Pi / 2.0 / dctSize * float64(i+1) * float64(2*j+1)
			d[i*dctSize+j] = float32(float64(scale) * math.Cos(arg))
		}
	}
	return d
}()

// jaroszWindow returns the box-filter window for reducing oldDim to newDim:
// half of ceil(oldDim/newDim), because two passes together cover one output
// pixel's full footprint.
func jaroszWindow(oldDim, newDim int) int {
	return (oldDim + 2*newDim - 1) / (2 * newDim)
}

// boxPhases returns how many samples the box filter reads before its first
// write (p1), writes while the window grows (p2), writes with the full window
// (p3) and writes while the window shrinks at the far edge (p4). The output
// is centred: sample i averages the window around i, clipped at the edges.
func boxPhases(n, window int) (p1, p2, p3, p4 int) {
	half := (window + 2) / 2
	return half - 1, window - half + 1, n - window, half - 1
}

// boxRow runs the 1-D box filter over one contiguous row.
func boxRow(in, out []float32, window int) {
	n := len(in)
	out = out[:n]
	p1, p2, p3, p4 := boxPhases(n, window)
	var sum float32
	cnt := 0
	ri, li, oi := 0, 0, 0
	for range p1 {
		sum += in[ri]
		cnt++
		ri++
	}
	for range p2 {
		sum += in[ri]
		cnt++
		out[oi] = sum / float32(cnt)
		ri++
		oi++
	}
	fc := float32(cnt)
	// The reference adds the new sample, rounds, then subtracts the old one;
	// keeping two statements keeps the two roundings.
	for range p3 {
		sum += in[ri]
		sum -= in[li]
		out[oi] = sum / fc
		ri++
		li++
		oi++
	}
	for range p4 {
		sum -= in[li]
		cnt--
		out[oi] = sum / float32(cnt)
		li++
		oi++
	}
}

// boxRows filters every row of a rows x cols row-major buffer.
func boxRows(in, out []float32, rows, cols, window int) {
	for r := range rows {
		boxRow(in[r*cols:(r+1)*cols], out[r*cols:(r+1)*cols], window)
	}
}

// boxCols filters every column of a rows x cols row-major buffer. The
// reference walks one column at a time with a stride; here all columns
// advance together one row at a time, which touches memory sequentially
// while giving each column's running sum exactly the same operations.
// sums must hold at least cols elements.
func boxCols(in, out []float32, rows, cols, window int, sums []float32) {
	sums = sums[:cols]
	clear(sums)
	p1, p2, p3, p4 := boxPhases(rows, window)
	cnt := 0
	ri, li, oi := 0, 0, 0
	row := func(i int) []float32 { return in[i*cols : (i+1)*cols] }
	for range p1 {
		add := row(ri)
		for j := range sums {
			sums[j] += add[j]
		}
		cnt++
		ri++
	}
	for range p2 {
		add := row(ri)
		cnt++
		fc := float32(cnt)
		dst := out[oi*cols : (oi+1)*cols]
		for j := range sums {
			s := sums[j] + add[j]
			sums[j] = s
			dst[j] = s / fc
		}
		ri++
		oi++
	}
	fc := float32(cnt)
	for range p3 {
		add, sub := row(ri), row(li)
		dst := out[oi*cols : (oi+1)*cols]
		for j := range sums {
			s := sums[j] + add[j]
			s -= sub[j]
			sums[j] = s
			dst[j] = s / fc
		}
		ri++
		li++
		oi++
	}
	for range p4 {
		sub := row(li)
		cnt--
		fc := float32(cnt)
		dst := out[oi*cols : (oi+1)*cols]
		for j := range sums {
			s := sums[j] - sub[j]
			sums[j] = s
			dst[j] = s / fc
		}
		li++
		oi++
	}
}

// boxColsDecimate is boxCols fused with decimate, for the last pass of the
// blur: it keeps running sums for the 64 columns decimate samples only and
// writes only the 64 rows it samples. Each of those columns goes through
// exactly boxCols's operations, so the result is bit for bit that of boxCols
// then decimate (TestBoxColsDecimate), at about an eighth of the work on a
// 512-wide buffer. The samples are at the centres of a 64x64 grid: the
// reference computes int(((i+0.5)*n)/64) in float64, every step of which is
// exact (n < 2^31, division by a power of two), so the integer form
// ((2i+1)*n)/128 gives the same index.
func boxColsDecimate(in []float32, rows, cols, window int, out *[dctSize * dctSize]float32) {
	var colIdx, rowIdx [dctSize]int
	for j := range colIdx {
		colIdx[j] = (2*j + 1) * cols / (2 * dctSize)
		rowIdx[j] = (2*j + 1) * rows / (2 * dctSize)
	}
	var sums [dctSize]float32
	p1, p2, p3, p4 := boxPhases(rows, window)
	cnt := 0
	ri, li, oi := 0, 0, 0
	next := 0 // the next decimated row
	keep := func(fc float32) {
		for ; next < dctSize && rowIdx[next] == oi; next++ {
			dst := out[next*dctSize : (next+1)*dctSize]
			for j, s := range sums {
				dst[j] = s / fc
			}
		}
		oi++
	}
	for range p1 {
		add := in[ri*cols:]
		for j, c := range colIdx {
			sums[j] += add[c]
		}
		cnt++
		ri++
	}
	for range p2 {
		add := in[ri*cols:]
		cnt++
		for j, c := range colIdx {
			sums[j] += add[c]
		}
		keep(float32(cnt))
		ri++
	}
	fc := float32(cnt)
	for range p3 {
		add, sub := in[ri*cols:], in[li*cols:]
		for j, c := range colIdx {
			s := sums[j] + add[c]
			s -= sub[c]
			sums[j] = s
		}
		keep(fc)
		ri++
		li++
	}
	for range p4 {
		sub := in[li*cols:]
		cnt--
		for j, c := range colIdx {
			sums[j] -= sub[c]
		}
		keep(float32(cnt))
		li++
	}
}

// quality is the reference's image-domain quality metric: the sum of
// vertical and horizontal neighbour differences, each scaled to percent of
// full scale and truncated to an integer, divided by 90 and capped at 100.
// Flat or nearly flat images score low.
func quality(b *[dctSize * dctSize]float32) int {
	sum := 0
	for i := range dctSize - 1 {
		for j := range dctSize {
			u, v := b[i*dctSize+j], b[(i+1)*dctSize+j]
			sum += absInt(int(float32(float32(u-v)*100) / 255))
		}
	}
	for i := range dctSize {
		for j := range dctSize - 1 {
			u, v := b[i*dctSize+j], b[i*dctSize+j+1]
			sum += absInt(int(float32(float32(u-v)*100) / 255))
		}
	}
	return min(sum/90, 100)
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// dct computes out = D * a * D^T for the 16x64 matrix D, keeping only the
// 16x16 low-frequency corner without the DC terms. tmp holds D * a.
//
// The reference accumulates each element over k = 0..63 in order, starting
// from 0, with one float32 rounding per product and per addition. The first
// product below is an i-k-j loop, which streams rows of a and still adds the
// k terms of each tmp element in increasing k.
func dct(a *[dctSize * dctSize]float32, tmp *[hashSize * dctSize]float32, out *[hashSize * hashSize]float32) {
	d := &dctMatrix
	for i := range hashSize {
		t := (*[dctSize]float32)(tmp[i*dctSize : (i+1)*dctSize])
		*t = [dctSize]float32{}
		for k := range dctSize {
			dik := d[i*dctSize+k]
			ak := (*[dctSize]float32)(a[k*dctSize : (k+1)*dctSize])
			for j := range t {
				t[j] += float32(dik * ak[j])
			}
		}
	}
	for i := range hashSize {
		t := (*[dctSize]float32)(tmp[i*dctSize : (i+1)*dctSize])
		for j := range hashSize {
			dj := (*[dctSize]float32)(d[j*dctSize : (j+1)*dctSize])
			var sum float32
			for k := range t {
				sum += float32(t[k] * dj[k])
			}
			out[i*hashSize+j] = sum
		}
	}
}

// torben returns the median of m (the lower median for an even count) by
// Torben Mogensen's bisection, which is what the reference uses; it matters
// which of the two middle values is returned, so a sort-based median would
// not be bit-compatible. m must be finite and satisfy |v| <= MaxFloat32/2 so
// that min+max cannot overflow, or the loop would not terminate.
func torben(m []float32) float32 {
	n := len(m)
	lo, hi := m[0], m[0]
	// Explicit comparisons, not min/max: the builtins order -0 before +0
	// and the reference keeps whichever zero it saw first.
	for _, v := range m[1:] {
		if v < lo {
			lo = v
		}
		if v > hi {
			hi = v
		}
	}
	half := (n + 1) / 2
	var less, greater, equal int
	var guess, maxLT, minGT float32
	for {
		guess = (lo + hi) / 2
		less, greater, equal = 0, 0, 0
		maxLT, minGT = lo, hi
		for _, v := range m {
			switch {
			case v < guess:
				less++
				if v > maxLT {
					maxLT = v
				}
			case v > guess:
				greater++
				if v < minGT {
					minGT = v
				}
			default:
				equal++
			}
		}
		if less <= half && greater <= half {
			break
		}
		if less > greater {
			hi = maxLT
		} else {
			lo = minGT
		}
	}
	switch {
	case less >= half:
		return maxLT
	case less+equal >= half:
		return guess
	default:
		return minGT
	}
}

// finiteForMedian reports whether every value is finite and small enough for
// torben. Only pathological luma (NaN, ±Inf, |v| near MaxFloat32) fails.
func finiteForMedian(m []float32) bool {
	const limit = math.MaxFloat32 / 2
	for _, v := range m {
		if !(v >= -limit && v <= limit) { // also false for NaN
			return false
		}
	}
	return true
}

// bitsFromDCT sets bit i*16+j when coefficient (i, j) exceeds the median.
func bitsFromDCT(b *[hashSize * hashSize]float32) Hash {
	med := torben(b[:])
	var h Hash
	for k, v := range b {
		if v > med {
			h.setBit(k)
		}
	}
	return h
}

// dihedral is one of the eight symmetries of the square, applied to the DCT
// coefficients instead of the pixels: mirroring an axis negates the odd
// frequencies along it, and a transposition swaps the axes. Coefficient
// (i, j) of the transformed image is sign(i, j) * a(i, j) of the original,
// stored at (j, i) when transpose is set.
type dihedral struct {
	transpose bool
	// negate reports whether coefficient (i, j) changes sign; i and j are
	// zero-based indices of frequencies 1..16.
	negate func(i, j int) bool
}

// dihedrals lists the variants in the reference's order: original, rotate
// 90, rotate 180, rotate 270, flip x, flip y, flip about the main diagonal
// (flipplus1) and about the anti-diagonal (flipminus1).
var dihedrals = [8]dihedral{
	{false, func(i, j int) bool { return false }},
	{true, func(i, j int) bool { return j&1 == 0 }},
	{false, func(i, j int) bool { return (i+j)&1 == 1 }},
	{true, func(i, j int) bool { return i&1 == 0 }},
	{false, func(i, j int) bool { return i&1 == 0 }},
	{false, func(i, j int) bool { return j&1 == 0 }},
	{true, func(i, j int) bool { return false }},
	{true, func(i, j int) bool { return (i+j)&1 == 1 }},
}

// apply writes the transformed coefficients of a into b.
func (t dihedral) apply(a, b *[hashSize * hashSize]float32) {
	for i := range hashSize {
		for j := range hashSize {
			v := a[i*hashSize+j]
			if t.negate(i, j) {
				v = -v
			}
			if t.transpose {
				b[j*hashSize+i] = v
			} else {
				b[i*hashSize+j] = v
			}
		}
	}
}
