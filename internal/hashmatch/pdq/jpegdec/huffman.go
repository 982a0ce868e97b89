package jpegdec

// lookBits is how many bits of the stream one table lookup examines. Codes
// up to this length are resolved by the lookup; when the code and the
// coefficient's extra bits together fit too, the entry also carries the
// coefficient's value.
const lookBits = 10

// A table entry packs, from the low bits up:
//
//	bits  0-7   the symbol (for AC tables RRRRSSSS: zero run, bit size)
//	bits  8-12  the code's length, 0 when the code is longer than lookBits
//	bits 13-17  code plus extra bits, non-zero only for a "full" entry
//	bits 18-31  a full entry's coefficient value, signed
const (
	entCodeShift  = 8
	entTotalShift = 13
	entValueShift = 18
)

// huffTable is one Huffman table in the decoder's form.
type huffTable struct {
	defined bool
	fast    [1 << lookBits]uint32
	// For codes longer than lookBits: the largest code of each length
	// (-1 when there is none), the first code of each length and the index
	// of its symbol in vals.
	maxCode [17]int32
	minCode [17]int32
	valIdx  [17]int32
	vals    [256]byte
}

// build sets t from a DHT table's code counts per length (1..16) and its
// symbols. It refuses an over-subscribed code (more codes of a length than
// the code space holds), which image/jpeg would decode inconsistently, and
// dc says how a symbol's size is read: the whole byte for a DC table, its
// low four bits for an AC table. Symbols no sequential decoder can use are
// refused when they are met in the data, as image/jpeg does.
func (t *huffTable) build(counts *[17]int, vals []byte, dc bool) bool {
	*t = huffTable{}
	n := 0
	for l := 1; l <= 16; l++ {
		n += counts[l]
	}
	if n == 0 || n > 256 || n != len(vals) {
		return false
	}
	copy(t.vals[:], vals)
	code, idx := 0, 0
	for l := 1; l <= 16; l++ {
		t.maxCode[l] = -1
		c := counts[l]
		if c == 0 {
			code <<= 1
			continue
		}
		if code+c > 1<<l {
			return false
		}
		t.minCode[l] = int32(code)
		t.maxCode[l] = int32(code + c - 1)
		t.valIdx[l] = int32(idx)
		for range c {
			if l <= lookBits {
				// A DC size over 16 gets no value here; the decoder
				// refuses it when it meets it, as image/jpeg does.
				t.fillFast(code, l, vals[idx], dc)
			}
			code++
			idx++
		}
		code <<= 1
	}
	t.defined = true
	return true
}

// fillFast writes the lookup entries of one code of length l.
func (t *huffTable) fillFast(code, l int, sym byte, dc bool) {
	free := lookBits - l
	size := int(sym & 15)
	if dc {
		size = int(sym)
	}
	base := code << free
	for i := range 1 << free {
		e := uint32(sym) | uint32(l)<<entCodeShift
		full := size <= free && (dc || size != 0)
		if full {
			var v int32
			if size > 0 {
				extra := int32(i>>(free-size)) & (1<<size - 1)
				v = extend(extra, uint(size))
			}
			e |= uint32(l+size)<<entTotalShift | uint32(v)<<entValueShift
		}
		t.fast[base+i] = e
	}
}

// extend turns the size-bit field x into the signed value it codes
// (section F.2.2.1 of the standard).
func extend(x int32, size uint) int32 {
	if x < 1<<(size-1) {
		return x - (1<<size - 1)
	}
	return x
}
