package pdq

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/custos-project/custos/internal/hashmatch/pdq/jpegdec"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
	"golang.org/x/image/webp"
)

// Limits applied when an [Options] field is zero.
const (
	// DefaultMaxBytes caps the size of an encoded image file.
	DefaultMaxBytes = 64 << 20
	// DefaultMaxPixels caps width*height as declared in the image header,
	// checked before any pixel is decoded: 100 megapixels, larger than any
	// camera photo.
	DefaultMaxPixels = 100_000_000
	// DefaultMaxDecodeBytes caps the memory a decode may take, as estimated
	// from the header before any pixel is decoded ([Header.DecodeBytes]):
	// 1 GiB. Pixels alone do not bound it: a decoder takes from 1 byte a
	// pixel (grey, palette) to 8 (16-bit RGBA PNG) and 15 (progressive
	// JPEG of full-resolution colour), so a 100-megapixel image may take
	// 100 MB or 1.5 GB.
	DefaultMaxDecodeBytes = 1 << 30
)

// Errors returned (wrapped, test with errors.Is) when an input is refused.
var (
	// ErrEmpty means the input has no bytes.
	ErrEmpty = errors.New("pdq: empty input")
	// ErrTooLarge means the encoded input exceeds the byte limit.
	ErrTooLarge = errors.New("pdq: input too large")
	// ErrUnknownFormat means the input is not PNG, JPEG, GIF, WebP, BMP or
	// TIFF.
	ErrUnknownFormat = errors.New("pdq: unknown image format")
	// ErrUnsupported means the format is known but the file uses a feature
	// its decoder lacks (e.g. arithmetic-coded JPEG).
	ErrUnsupported = errors.New("pdq: unsupported image feature")
	// ErrTruncated means the data ends before the image does: the decoder
	// ran out of data, or the format's end marker or announced size is
	// missing.
	ErrTruncated = errors.New("pdq: truncated image")
	// ErrCorrupt means the data is not a valid image of its format.
	ErrCorrupt = errors.New("pdq: corrupt image")
	// ErrTooManyPixels means the declared dimensions exceed the pixel limit.
	ErrTooManyPixels = errors.New("pdq: image dimensions too large")
	// ErrDecodeMemory means decoding the image would take more memory than
	// the limit, by its header.
	ErrDecodeMemory = errors.New("pdq: image needs too much memory to decode")
	// ErrTooSmall means the image is narrower or shorter than
	// [MinDimension] pixels, below which the reference returns a
	// meaningless all-zero hash.
	ErrTooSmall = errors.New("pdq: image too small to hash")
)

// Options controls decoding and hashing of encoded images. The zero value
// applies the default limits and hashes the pixels as stored, as the C++
// reference and every other PDQ tool do.
type Options struct {
	// MaxBytes refuses inputs larger than this many bytes; 0 means
	// DefaultMaxBytes.
	MaxBytes int64
	// MaxPixels refuses images whose header declares more than this many
	// pixels; 0 means DefaultMaxPixels.
	MaxPixels int64
	// MaxDecodeBytes refuses images whose decode would take more memory
	// than this, by the estimate of [Header.DecodeBytes]; 0 means
	// DefaultMaxDecodeBytes.
	MaxDecodeBytes int64
	// Orient applies a JPEG's EXIF Orientation before hashing, so that the
	// hash is that of the image as people see it. By default it is ignored,
	// as the C++ reference ignores it: hashes meant for other PDQ tools (hash
	// lists, exports) must be of the stored pixels.
	Orient bool
}

func (o Options) maxBytes() int64 {
	if o.MaxBytes <= 0 {
		return DefaultMaxBytes
	}
	return o.MaxBytes
}

func (o Options) maxDecodeBytes() int64 {
	if o.MaxDecodeBytes <= 0 {
		return DefaultMaxDecodeBytes
	}
	return o.MaxDecodeBytes
}

func (o Options) maxPixels() int64 {
	if o.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return o.MaxPixels
}

// Decode reads one image of at most maxBytes bytes (DefaultMaxBytes when
// maxBytes <= 0) and decodes it, with the default pixel limit. It returns
// the image as stored and, for JPEG, its EXIF orientation
// (OrientationNormal otherwise). See [Options.Decode].
func Decode(r io.Reader, maxBytes int64) (image.Image, Orientation, error) {
	return Options{MaxBytes: maxBytes}.Decode(r)
}

// Decode reads and decodes one PNG, JPEG, GIF (first frame), WebP, BMP or
// TIFF image. The format is identified by its signature, not by a file
// name. The header is checked against the limits before any pixel is
// decoded, so a small file declaring huge dimensions costs nothing.
// Refusals wrap one of the package's Err* values.
func (o Options) Decode(r io.Reader) (image.Image, Orientation, error) {
	data, err := o.readAll(r, 0)
	if err != nil {
		return nil, 0, err
	}
	return o.decodeBytes(data)
}

// HashFile hashes the image in the file at path with the default options:
// see [Options.HashFile].
func HashFile(path string) (Result, error) {
	return Options{}.HashFile(path)
}

// HashFile decodes the image in the file at path and hashes its stored
// pixels (as displayed when Orient is set). The result also carries the MD5
// and SHA-256 of the file's bytes.
func (o Options) HashFile(path string) (Result, error) {
	data, err := o.ReadFile(path)
	if err != nil {
		return Result{}, err
	}
	return o.HashBytes(data)
}

// ReadFile reads the file at path within the byte limit, refusing a file
// larger than the limit before reading a byte of it.
func (o Options) ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if size = fi.Size(); size > o.maxBytes() {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, o.maxBytes())
		}
	}
	return o.readAll(f, size)
}

// HashReader is [Options.HashFile] for an io.Reader.
func (o Options) HashReader(r io.Reader) (Result, error) {
	data, err := o.readAll(r, 0)
	if err != nil {
		return Result{}, err
	}
	return o.HashBytes(data)
}

// HashBytes is [Options.HashFile] for an image already in memory.
func (o Options) HashBytes(data []byte) (Result, error) {
	img, orient, err := o.decodeBytes(data)
	if err != nil {
		return Result{}, err
	}
	apply := OrientationNormal
	if o.Orient {
		apply = orient
	}
	h := getHasher()
	defer putHasher(h)
	hash, q, err := h.FromImage(img, apply)
	if err != nil {
		return Result{}, err
	}
	w, ht := img.Bounds().Dx(), img.Bounds().Dy()
	if apply.swapsAxes() {
		w, ht = ht, w
	}
	md := md5.Sum(data)
	sh := sha256.Sum256(data)
	return Result{
		Hash:        hash,
		Quality:     q,
		Width:       w,
		Height:      ht,
		Orientation: orient,
		MD5:         hex.EncodeToString(md[:]),
		SHA256:      hex.EncodeToString(sh[:]),
	}, nil
}

// readAll reads r to the end, refusing more than the byte limit; it never
// buffers more than one byte past the limit. sizeHint, when known (a file's
// size), avoids regrowing the buffer.
func (o Options) readAll(r io.Reader, sizeHint int64) ([]byte, error) {
	limit := o.maxBytes()
	buf := bytes.NewBuffer(make([]byte, 0, min(max(sizeHint, 0), limit)+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, fmt.Errorf("pdq: reading image: %w", err)
	}
	data := buf.Bytes()
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	if len(data) == 0 {
		return nil, ErrEmpty
	}
	return data, nil
}

// format is one supported image format.
type format struct {
	name   string
	magic  func([]byte) bool
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
	// cut reports whether the data visibly stops short of its end (a
	// missing end marker, or less data than a size field announces). The
	// decoders word truncation in many ways, so when one fails this tells a
	// truncated file from a corrupt one. nil when the format has no such
	// marker.
	cut func([]byte) bool
}

// formats are tried in order by signature. The decoders are called directly
// rather than through image.Decode so that what this package accepts does
// not depend on which other packages registered formats.
var formats = []format{
	{"jpeg", hasPrefix("\xff\xd8"), jpeg.DecodeConfig, jpeg.Decode,
		func(b []byte) bool { return !bytes.HasSuffix(b, []byte{0xff, 0xd9}) }}, // EOI
	{"png", hasPrefix("\x89PNG\r\n\x1a\n"), png.DecodeConfig, png.Decode,
		func(b []byte) bool { return !bytes.Contains(b[max(0, len(b)-64):], []byte("IEND")) }},
	{"gif", func(b []byte) bool { return hasPrefix("GIF87a")(b) || hasPrefix("GIF89a")(b) }, gif.DecodeConfig, gif.Decode,
		func(b []byte) bool { return b[len(b)-1] != 0x3b }}, // trailer
	{"webp", func(b []byte) bool { return len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP" }, webp.DecodeConfig, webp.Decode,
		func(b []byte) bool { return uint64(binary.LittleEndian.Uint32(b[4:]))+8 > uint64(len(b)) }}, // RIFF size
	{"bmp", hasPrefix("BM"), bmp.DecodeConfig, bmp.Decode,
		func(b []byte) bool { return len(b) < 6 || uint64(binary.LittleEndian.Uint32(b[2:])) > uint64(len(b)) }}, // file size
	{"tiff", func(b []byte) bool { return hasPrefix("II*\x00")(b) || hasPrefix("MM\x00*")(b) }, tiff.DecodeConfig, tiff.Decode, nil},
}

func hasPrefix(p string) func([]byte) bool {
	return func(b []byte) bool { return len(b) >= len(p) && string(b[:len(p)]) == p }
}

// Header is what an image's header declares, read without decoding a pixel.
type Header struct {
	Format        string // jpeg, png, gif, webp, bmp or tiff
	Width, Height int
	// DecodeBytes estimates, on the high side, the most memory decoding and
	// hashing the image takes, from what its header says of its layout:
	// format, JPEG components, sampling and progressive coding, PNG bit
	// depth, colour type and interlacing.
	DecodeBytes int64
}

// Pixels is the declared width times height.
func (h Header) Pixels() int64 { return int64(h.Width) * int64(h.Height) }

// Inspect reads an encoded image's header and checks it against the limits
// (format, byte size, minimum dimensions, MaxPixels, MaxDecodeBytes) without decoding a
// pixel, so that a caller can reserve memory for the decode first. Refusals
// are those of [Options.Decode]. [Options.Open] does the same and keeps the
// parsed header for the decode.
func (o Options) Inspect(data []byte) (Header, error) {
	e, err := o.Open(data)
	if err != nil {
		return Header{}, err
	}
	return e.Header, nil
}

// Encoded is an encoded image in memory whose header has been read and
// checked against the limits: its decode does not parse the header again.
type Encoded struct {
	Header
	data []byte
	f    *format
}

// Open checks data as [Options.Inspect] does and returns it with its parsed
// header, ready for [Encoded.Decode].
func (o Options) Open(data []byte) (*Encoded, error) {
	if int64(len(data)) > o.maxBytes() {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(data), o.maxBytes())
	}
	f, cfg, cost, err := o.header(data)
	if err != nil {
		return nil, err
	}
	return &Encoded{Header: Header{Format: f.name, Width: cfg.Width, Height: cfg.Height, DecodeBytes: cost}, data: data, f: f}, nil
}

// Bytes returns the encoded image.
func (e *Encoded) Bytes() []byte { return e.data }

func (o Options) header(data []byte) (*format, image.Config, int64, error) {
	var cfg image.Config
	if len(data) == 0 {
		return nil, cfg, 0, ErrEmpty
	}
	var f *format
	for i := range formats {
		if formats[i].magic(data) {
			f = &formats[i]
			break
		}
	}
	if f == nil {
		return nil, cfg, 0, ErrUnknownFormat
	}
	err := guard(func() (err error) {
		cfg, err = f.config(bytes.NewReader(data))
		return err
	})
	if err != nil {
		return nil, cfg, 0, f.decodeError(data, err)
	}
	if cfg.Width < MinDimension || cfg.Height < MinDimension {
		return nil, cfg, 0, fmt.Errorf("%w: %s %dx%d, need at least %dx%d", ErrTooSmall, f.name, cfg.Width, cfg.Height, MinDimension, MinDimension)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > o.maxPixels() {
		return nil, cfg, 0, fmt.Errorf("%w: %s %dx%d is %d pixels, limit %d", ErrTooManyPixels, f.name, cfg.Width, cfg.Height, px, o.maxPixels())
	}
	cost := decodeCost(f, cfg, data)
	if cost > o.maxDecodeBytes() {
		return nil, cfg, 0, fmt.Errorf("%w: %s %dx%d needs about %d MiB, limit %d MiB", ErrDecodeMemory, f.name, cfg.Width, cfg.Height,
			mib(cost), o.maxDecodeBytes()>>20)
	}
	return f, cfg, cost, nil
}

// mib is n bytes in MiB, rounded up.
func mib(n int64) int64 { return (n + 1<<20 - 1) >> 20 }

func (o Options) decodeBytes(data []byte) (image.Image, Orientation, error) {
	e, err := o.Open(data)
	if err != nil {
		return nil, 0, err
	}
	return e.Decode()
}

// Decode decodes the image, returning it as stored and, for JPEG, its EXIF
// orientation (OrientationNormal otherwise). Refusals are those of
// [Options.Decode].
func (e *Encoded) Decode() (image.Image, Orientation, error) {
	f, data := e.f, e.data
	img := fastJPEG(f, data, e.Pixels())
	if img == nil {
		err := guard(func() (err error) {
			img, err = f.decode(bytes.NewReader(data))
			return err
		})
		if err != nil {
			return nil, 0, f.decodeError(data, err)
		}
	}
	b := img.Bounds()
	if b.Dx() > e.Width || b.Dy() > e.Height {
		// The limits were checked on the header; refuse an image that does
		// not keep its header's promise.
		return nil, 0, fmt.Errorf("%w: %s header says %dx%d, image is %dx%d", ErrCorrupt, f.name, e.Width, e.Height, b.Dx(), b.Dy())
	}
	if b.Dx() < MinDimension || b.Dy() < MinDimension {
		// A GIF's first frame may be smaller than its logical screen.
		return nil, 0, fmt.Errorf("%w: %s %dx%d, need at least %dx%d", ErrTooSmall, f.name, b.Dx(), b.Dy(), MinDimension, MinDimension)
	}
	orient := OrientationNormal
	if f.name == "jpeg" {
		orient = jpegOrientation(data)
	}
	return img, orient, nil
}

// fastJPEG decodes a JPEG with jpegdec when it handles the file, which
// gives the same image as image/jpeg faster; it returns nil for anything
// else (other formats, JPEGs jpegdec leaves to image/jpeg, a panic), and
// the caller decodes with image/jpeg, whose errors users see.
func fastJPEG(f *format, data []byte, maxPixels int64) image.Image {
	if f.name != "jpeg" {
		return nil
	}
	var img image.Image
	if guard(func() (err error) {
		img, err = jpegdec.Decode(data, maxPixels)
		return err
	}) != nil {
		return nil
	}
	return img
}

// guard runs a third-party decoder, turning a panic on hostile input into
// an error so that one bad upload cannot take a server down.
func guard(fn func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: decoder panic: %v", ErrCorrupt, r)
		}
	}()
	return fn()
}

// decodeError classifies a decoder's error under the package's sentinels.
func (f *format) decodeError(data []byte, err error) error {
	var (
		jpegUnsupported jpeg.UnsupportedError
		pngUnsupported  png.UnsupportedError
		tiffUnsupported tiff.UnsupportedError
	)
	switch {
	case errors.Is(err, ErrCorrupt):
		return err
	case errors.As(err, &jpegUnsupported), errors.As(err, &pngUnsupported),
		errors.As(err, &tiffUnsupported), errors.Is(err, bmp.ErrUnsupported):
		return fmt.Errorf("%w: %s: %s", ErrUnsupported, f.name, f.detail(err))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF), f.cut != nil && f.cut(data):
		return fmt.Errorf("%w: %s: %s", ErrTruncated, f.name, f.detail(err))
	}
	return fmt.Errorf("%w: %s: %s", ErrCorrupt, f.name, f.detail(err))
}

// detail is a decoder's error without the format's name, which most of
// them (png, gif, bmp, tiff, webp) begin with: decodeError names it once.
func (f *format) detail(err error) string {
	return strings.TrimPrefix(err.Error(), f.name+": ")
}
