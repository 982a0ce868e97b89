package pdq

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/bits"
)

// HashBits is the number of bits in a PDQ hash.
const HashBits = 256

// Hash is a 256-bit PDQ hash.
//
// Bit k (0..255) is the bit for DCT coefficient (k/16, k%16) of the 16x16
// output, row-major, exactly as the reference numbers them. The hash is kept
// as four 64-bit words, most significant first: bit k lives in word 3-k/64 at
// position k%64. With that layout the reference's hex form (64 digits, bit
// 255 first) is the four words printed big-endian one after another, and the
// Hamming distance is four popcounts.
type Hash [4]uint64

// ErrInvalidHex is returned (wrapped) by [ParseHex] for text that is not a
// PDQ hash.
var ErrInvalidHex = errors.New("pdq: invalid hash hex")

// ParseHex parses the 64-digit hexadecimal form of a hash, as printed by
// [Hash.String] and by the reference tools. Upper- and lower-case digits are
// accepted; nothing else (no prefix, no spaces).
func ParseHex(s string) (Hash, error) {
	if len(s) != 64 {
		return Hash{}, fmt.Errorf("%w: want 64 hex digits, got %d characters", ErrInvalidHex, len(s))
	}
	var b [32]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("%w: %v", ErrInvalidHex, err)
	}
	var h Hash
	for w := range h {
		for i := range 8 {
			h[w] = h[w]<<8 | uint64(b[w*8+i])
		}
	}
	return h, nil
}

// String returns the 64-digit lower-case hexadecimal form used by the
// reference implementation.
func (h Hash) String() string {
	var b [32]byte
	for w, v := range h {
		for i := range 8 {
			b[w*8+i] = byte(v >> (56 - 8*i))
		}
	}
	return hex.EncodeToString(b[:])
}

// MarshalText implements [encoding.TextMarshaler] with the hex form, so a
// Hash reads naturally in JSON.
func (h Hash) MarshalText() ([]byte, error) {
	return []byte(h.String()), nil
}

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseHex].
func (h *Hash) UnmarshalText(text []byte) error {
	v, err := ParseHex(string(text))
	if err != nil {
		return err
	}
	*h = v
	return nil
}

// Bit reports whether bit k (0..255, see [Hash]) is set.
func (h Hash) Bit(k int) bool {
	return h[3-k/64]>>(uint(k)%64)&1 == 1
}

// setBit sets bit k (0..255, see [Hash]).
func (h *Hash) setBit(k int) {
	h[3-k/64] |= 1 << (uint(k) % 64)
}

// IsZero reports whether no bit is set; the reference returns the zero hash
// for images too small to hash.
func (h Hash) IsZero() bool {
	return h == Hash{}
}

// Distance returns the Hamming distance between a and b: the number of bits
// in which they differ, 0..256.
func Distance(a, b Hash) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}
