package vpdq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// Frame is the vPDQ feature of one video frame.
type Frame struct {
	// Index is the frame's number in decoding order, from 0.
	Index int
	// Hash is the frame's PDQ hash.
	Hash pdq.Hash
	// Quality is the PDQ quality, 0..100; frames below 50 are unreliable
	// and ignored by [Match] by default.
	Quality int
	// Seconds is the frame's timestamp: Index divided by the frame rate.
	Seconds float64
}

// Limits of [ParseHashes].
const (
	// MaxParseFrames is the most lines ParseHashes accepts: more than 24
	// hours of video at 30 frames per second.
	MaxParseFrames = 1 << 22
	// maxLineLen bounds one line; a valid line is under 100 bytes.
	maxLineLen = 1024
	// maxSeconds bounds timestamps (about 31700 years), keeping their
	// decimal form short.
	maxSeconds = 1e12
)

// ErrSyntax is returned (wrapped, with the line number) by [ParseHashes]
// for input that is not in the hash file format.
var ErrSyntax = errors.New("vpdq: invalid hash file")

// ParseHashes reads frames in the reference's text format, one per line:
//
//	frameNumber,quality,pdqHex,timestampSeconds
//
// frameNumber is a non-negative integer, quality an integer in 0..100,
// pdqHex 64 hexadecimal digits and timestampSeconds a non-negative decimal
// number (digits and at most one point, no sign or exponent, at most 1e12).
// Lines may end in "\n" or "\r\n"; blank lines are skipped. Frame numbers
// need not be increasing. At most [MaxParseFrames] frames are read. Errors
// wrap [ErrSyntax], or are the reader's.
func ParseHashes(r io.Reader) ([]Frame, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLineLen)
	var frames []Frame
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSuffix(sc.Bytes(), []byte{'\r'})
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		if len(frames) >= MaxParseFrames {
			return nil, fmt.Errorf("%w: more than %d frames", ErrSyntax, MaxParseFrames)
		}
		f, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("%w: line %d: %v", ErrSyntax, line, err)
		}
		frames = append(frames, f)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%w: line %d: longer than %d bytes", ErrSyntax, line+1, maxLineLen)
		}
		return nil, err
	}
	return frames, nil
}

func parseLine(text []byte) (Frame, error) {
	var fields [4][]byte
	n := 0
	for f := range bytes.SplitSeq(text, []byte{','}) {
		if n == len(fields) {
			return Frame{}, errors.New("more than 4 fields")
		}
		fields[n] = f
		n++
	}
	if n != len(fields) {
		return Frame{}, fmt.Errorf("%d fields, want 4", n)
	}
	index, err := parseDigits(fields[0])
	if err != nil || index > math.MaxInt32 {
		return Frame{}, fmt.Errorf("invalid frame number %q", fields[0])
	}
	quality, err := parseDigits(fields[1])
	if err != nil || quality > 100 {
		return Frame{}, fmt.Errorf("invalid quality %q", fields[1])
	}
	hash, err := pdq.ParseHex(string(fields[2]))
	if err != nil {
		return Frame{}, err
	}
	secs, err := parseSeconds(fields[3])
	if err != nil {
		return Frame{}, err
	}
	return Frame{Index: index, Hash: hash, Quality: quality, Seconds: secs}, nil
}

// parseDigits parses a non-negative decimal integer of at most 10 digits,
// without the sign strconv.Atoi would accept.
func parseDigits(b []byte) (int, error) {
	if len(b) == 0 || len(b) > 10 {
		return 0, strconv.ErrSyntax
	}
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
		v = v*10 + int(c-'0')
	}
	return v, nil
}

// parseSeconds accepts a plain decimal number (digits, at most one point),
// not the exponents, signs, hex floats or infinities strconv also knows.
func parseSeconds(b []byte) (float64, error) {
	digits, points := 0, 0
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			points++
		default:
			return 0, fmt.Errorf("invalid timestamp %q", b)
		}
	}
	if digits <= 0 || points > 1 || len(b) > 32 {
		return 0, fmt.Errorf("invalid timestamp %q", b)
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || !(v <= maxSeconds) {
		return 0, fmt.Errorf("invalid timestamp %q", b)
	}
	return v, nil
}

// WriteHashes writes frames in the reference's text format (see
// [ParseHashes]), the timestamp rounded to three decimals, as
// vpdq-hash-video writes them. It refuses (with [ErrSyntax]) a frame that
// ParseHashes would not read back: a negative index, a quality outside
// 0..100, or a negative or non-finite timestamp.
func WriteHashes(w io.Writer, frames []Frame) error {
	bw := bufio.NewWriter(w)
	buf := make([]byte, 0, 128)
	for i, f := range frames {
		if f.Index < 0 || f.Index > math.MaxInt32 || f.Quality < 0 || f.Quality > 100 ||
			!(f.Seconds >= 0 && f.Seconds <= maxSeconds) {
			return fmt.Errorf("%w: frame %d (index %d, quality %d, seconds %v) cannot be written",
				ErrSyntax, i, f.Index, f.Quality, f.Seconds)
		}
		buf = appendLine(buf[:0], f)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func appendLine(buf []byte, f Frame) []byte {
	buf = strconv.AppendInt(buf, int64(f.Index), 10)
	buf = append(buf, ',')
	buf = strconv.AppendInt(buf, int64(f.Quality), 10)
	buf = append(buf, ',')
	buf = append(buf, f.Hash.String()...)
	buf = append(buf, ',')
	buf = strconv.AppendFloat(buf, f.Seconds, 'f', 3, 64)
	return append(buf, '\n')
}
