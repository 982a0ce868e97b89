// Package pdq computes Meta's PDQ perceptual image hash, bit-exact with the
// C++ reference implementation in facebook/ThreatExchange (pdq/cpp).
//
// PDQ turns an image into a 256-bit hash such that visually similar images
// have hashes at a small Hamming distance. The pipeline is:
//
//  1. luma: Y = 0.299 R + 0.587 G + 0.114 B in float32 (grey images use the
//     grey value directly);
//  2. a Jarosz tent filter (two passes of a box filter along rows, then
//     columns) whose windows are derived from the image dimensions, followed
//     by decimation to 64x64;
//  3. a quality score (0..100) from the sum of quantised gradients of the
//     64x64 image;
//  4. the 16x16 low-frequency corner of a 2-D DCT of the 64x64 image;
//  5. one bit per DCT coefficient: whether it exceeds the median.
//
// # Conformance
//
// For the same float32 luma buffer, [FromLuma] and [DihedralFromLuma] produce
// exactly the hash and quality of the C++ reference (-O3, no FMA): every
// floating-point operation is performed in the reference's order and
// rounded to float32 where the reference rounds, with explicit float32
// conversions so that no compiler may fuse a multiply and an add.
//
// For image files the luma buffer depends on the decoder, so hashes are only
// close, not identical: the upstream rule is a Hamming distance of at most 10
// from the C++ output when quality >= 80. The image path mimics the C++
// photo hasher: images wider or taller than 512 pixels are resized to exactly
// 512x512 (aspect ratio not kept) by CImg's nearest-neighbour rule before the
// luma conversion, and alpha is dropped without compositing.
//
// The C++ reference ignores EXIF orientation, and so does [HashFile] by
// default: a hash meant for a list or another PDQ tool is of the stored
// pixels. Set [Options].Orient to hash a JPEG as displayed, its EXIF
// Orientation applied; [Hasher.Variants] gives both, with the dihedral set,
// for matching against lists hashed either way.
//
// # Untrusted input
//
// [Decode] and [Options] are meant for uploads: the input is read up to a
// byte limit, the format is identified by its signature, the declared
// dimensions are checked against a pixel limit before any pixel is decoded,
// decoder panics are turned into errors, and the EXIF parser is bounded.
// Every refusal wraps one of the Err* sentinels. JPEGs are converted to RGB
// the way libjpeg does (fancy chroma upsampling, libjpeg's fixed-point
// colour conversion), only at the 512x512 points the resize samples, which
// keeps the reference photos within 4 bits of the C++ hashes; the remaining
// difference is the IDCT. Reading the luma straight from the Y plane (PDQ's
// weights are JPEG's) was measured and rejected: it moved the reference set
// from 10 to 26 bits in total and one photo from 4 to 10 bits.
//
// Sequential Huffman JPEGs (grey or YCbCr, the common kind) are decoded by
// package jpegdec, which returns exactly image/jpeg's image three to four
// times faster; every other JPEG, and any file jpegdec finds odd, is decoded
// by image/jpeg, whose errors are the ones classified here.
//
// Hashes with quality below 50 are considered unreliable by the PDQ authors;
// callers matching against hash lists usually discard them.
package pdq
