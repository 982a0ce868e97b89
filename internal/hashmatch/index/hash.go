package index

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
)

// Hash is a 256-bit PDQ hash held as four 64-bit words.
//
// Bit layout: read the canonical 64-digit PDQ hex string (most significant
// nibble first) as one 256-bit big-endian integer. Hash[0] holds its most
// significant 64 bits (hex digits 0-15), Hash[3] its least significant 64
// bits (hex digits 48-63), and within each word bit 63 is the most
// significant. For the 32-byte big-endian form b (b[0] is the first two hex
// digits), Hash[i] == binary.BigEndian.Uint64(b[8*i:]). HashFromBytes,
// Bytes, ParseHex and String convert between these forms, so an adapter
// from another PDQ type needs only its hex string or its 32 bytes.
//
// Hamming distance does not depend on how bits are numbered, so any
// one-to-one mapping gives the same search results; this one is fixed so
// that hashes round-trip.
type Hash [4]uint64

// HashFromBytes returns the Hash whose big-endian 32-byte form is b.
func HashFromBytes(b [32]byte) Hash {
	return Hash{
		binary.BigEndian.Uint64(b[0:]),
		binary.BigEndian.Uint64(b[8:]),
		binary.BigEndian.Uint64(b[16:]),
		binary.BigEndian.Uint64(b[24:]),
	}
}

// Bytes returns the big-endian 32-byte form of h; it is the inverse of
// HashFromBytes.
func (h Hash) Bytes() [32]byte {
	var b [32]byte
	for i, w := range h {
		binary.BigEndian.PutUint64(b[8*i:], w)
	}
	return b
}

// ParseHex parses a PDQ hash written as exactly 64 hexadecimal digits,
// most significant nibble first, in either case.
func ParseHex(s string) (Hash, error) {
	if len(s) != 64 {
		return Hash{}, fmt.Errorf("index: PDQ hex hash must have 64 digits, got %d", len(s))
	}
	var b [32]byte
	if _, err := hex.Decode(b[:], []byte(s)); err != nil {
		return Hash{}, fmt.Errorf("index: bad PDQ hex hash %q: %w", s, err)
	}
	return HashFromBytes(b), nil
}

// String returns h as 64 lower-case hexadecimal digits, most significant
// nibble first, the canonical PDQ text form.
func (h Hash) String() string {
	b := h.Bytes()
	return hex.EncodeToString(b[:])
}

// Distance returns the Hamming distance between a and b, from 0 to 256.
func Distance(a, b Hash) int {
	return bits.OnesCount64(a[0]^b[0]) + bits.OnesCount64(a[1]^b[1]) +
		bits.OnesCount64(a[2]^b[2]) + bits.OnesCount64(a[3]^b[3])
}
