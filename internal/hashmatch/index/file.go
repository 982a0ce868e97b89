package index

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/custos-project/custos/internal/par"
)

// Index files
//
// An index file holds one segment as the arrays the search reads, so Open
// maps it and serves at once: no parsing, no sorting, and the kernel pages
// the arrays in (a restart costs one pass of its keyed MAC over the file,
// on every core, instead of a rebuild). Layout, all integers
// little-endian:
//
//	header, 128 bytes:
//	  0  magic "CUSTOSHX"
//	  8  version (3; version 1 had no groups, version 2 a CRC-32C of the
//	     payload instead of a keyed MAC: both are refused)
//	 12  byte-order mark 0x01020304, as the writing machine stores it
//	 16  flags: 1 dense ids (id i at position i, no id array), 2 tables
//	 20  slots (16), slot bits (16), part padding (partPad): uint16 each
//	 26  reserved, zero
//	 32  number of hashes n, uint64
//	 40  file size, uint64
//	 48  reserved, zero
//	 52  number of groups G, uint32 (0 without tables)
//	 56  number of grouped hashes m, uint32
//	 60  CRC-32C (Castagnoli) of header bytes 0..59
//	 64  keyed MAC (fileMAC), 32 bytes
//	 96  reserved, zero
//	payload, each array starting at a multiple of 64 bytes:
//	  hashes, n × 32 bytes ([4]uint64 each)
//	  ids, n × 8 bytes, strictly ascending (absent with dense ids)
//	  when G > 0, the groups (groups.go):
//	    centres (G × 32 bytes), bands (G × bandLen × uint32),
//	    grouped hashes (m × 32 bytes), their positions (m × uint32)
//	  per slot s = 0..15, when the file has tables, over the n - m
//	  hashes not in a group:
//	    off[s] (65537 × uint32), pos[s] ((n - m) × uint32),
//	    part[s] ((n - m + partPad) × uint16, the padding zero)
//
// Open refuses (ErrFile) a file whose magic, version, byte order, layout
// constants, size, header checksum or keyed MAC differ; the caller
// rebuilds then. The MAC is what makes the file safe to trust: the search
// believes its tables, so whoever could rewrite them with a valid checksum
// could hide a known hash from matching (HoldsExactly compares only the
// hashes). Without the key, no one can.

// ErrFile reports an index file that cannot be used: not an index file,
// another format version or byte order, truncated, or corrupted.
var ErrFile = errors.New("index: unusable index file")

const (
	fileMagic   = "CUSTOSHX"
	fileVersion = 3
	fileBOM     = 0x01020304
	headerSize  = 128
	macAt       = 64 // the MAC's offset in the header
	flagDense   = 1
	flagTables  = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// macChunk is the length of the payload's pieces whose SHA-256 digests
// the MAC covers: independent, so that Open hashes them on every core.
const macChunk = 16 << 20

// macLabel starts what the MAC covers, so that no other use of the key
// gives the same.
const macLabel = "custos pdq index file v3"

// fileMAC is an index file's keyed MAC: HMAC-SHA-256 under key of
// macLabel, the header's first 64 bytes (its fields and their checksum),
// and the SHA-256 digest of each macChunk bytes of the payload in order
// (the last piece shorter). SHA-256's collision resistance makes the
// digests stand for the payload; the key makes the whole unforgeable.
func fileMAC(key, head []byte, digests [][sha256.Size]byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(macLabel))
	m.Write(head[:macAt])
	for _, d := range digests {
		m.Write(d[:])
	}
	return m.Sum(nil)
}

// payloadDigests returns the SHA-256 digest of each macChunk bytes of p,
// computed on up to GOMAXPROCS goroutines (reading p also brings a mapped
// file into the page cache).
func payloadDigests(p []byte) [][sha256.Size]byte {
	n := (len(p) + macChunk - 1) / macChunk
	out := make([][sha256.Size]byte, n)
	par.For(n, func(i int) { out[i] = sha256.Sum256(p[i*macChunk : min(len(p), (i+1)*macChunk)]) })
	return out
}

// align64 rounds n up to a multiple of 64.
func align64(n int64) int64 { return (n + 63) &^ 63 }

// fileLayout gives the byte offset of each array of a file holding n
// hashes, and the file size.
type fileLayout struct {
	hashes, ids    int64
	centre, band   int64 // the groups' arrays
	gh, gpos       int64
	off, pos, part [numSlots]int64
	size           int64
	dense, tables  bool
	n              int64
	ngroups, m     int64 // groups, grouped hashes
}

func layoutFor(n int64, dense, tables bool, ngroups, m int64) fileLayout {
	l := fileLayout{n: n, dense: dense, tables: tables, ngroups: ngroups, m: m}
	at := int64(headerSize)
	l.hashes = at
	at = align64(at + n*32)
	if !dense {
		l.ids = at
		at = align64(at + n*8)
	}
	if ngroups > 0 {
		l.centre = at
		at = align64(at + ngroups*32)
		l.band = at
		at = align64(at + ngroups*bandLen*4)
		l.gh = at
		at = align64(at + m*32)
		l.gpos = at
		at = align64(at + m*4)
	}
	if tables {
		k := n - m // hashes in the tables
		for s := range numSlots {
			l.off[s] = at
			at = align64(at + (slotValues+1)*4)
			l.pos[s] = at
			at = align64(at + k*4)
			l.part[s] = at
			at = align64(at + (k+partPad)*2)
		}
	}
	l.size = at
	return l
}

// fileWriter writes a file's payload in layout order, padding to each
// array's offset and digesting it in macChunk pieces as it goes.
type fileWriter struct {
	f       *os.File
	at      int64
	err     error
	chunk   hash.Hash // the current piece's digest
	inChunk int       // its bytes so far
	digests [][sha256.Size]byte
}

// digest adds b to the payload's digests.
func (w *fileWriter) digest(b []byte) {
	for len(b) > 0 {
		if w.chunk == nil {
			w.chunk = sha256.New()
		}
		k := min(len(b), macChunk-w.inChunk)
		w.chunk.Write(b[:k])
		w.inChunk += k
		b = b[k:]
		if w.inChunk == macChunk {
			w.endChunk()
		}
	}
}

// endChunk closes the current piece, if it has bytes.
func (w *fileWriter) endChunk() {
	if w.inChunk == 0 {
		return
	}
	var d [sha256.Size]byte
	w.chunk.Sum(d[:0])
	w.digests = append(w.digests, d)
	w.chunk.Reset()
	w.inChunk = 0
}

func (w *fileWriter) writeAt(off int64, b []byte) {
	if w.err != nil {
		return
	}
	if off < w.at {
		w.err = fmt.Errorf("index: file layout out of order at %d", off)
		return
	}
	var zero [64]byte
	for w.at < off {
		k := min(off-w.at, 64)
		w.put(zero[:k])
	}
	w.put(b)
}

func (w *fileWriter) put(b []byte) {
	if w.err != nil {
		return
	}
	// Write in pieces of at most 64 MiB: one write(2) of several
	// gigabytes is cut short by the kernel anyway.
	for len(b) > 0 && w.err == nil {
		k := min(len(b), 64<<20)
		w.digest(b[:k])
		_, w.err = w.f.Write(b[:k])
		w.at += int64(k)
		b = b[k:]
	}
}

// asBytes views a slice of fixed-size integers as its bytes.
func asBytes[T any](a []T) []byte {
	if len(a) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(a))), len(a)*int(unsafe.Sizeof(a[0])))
}

// writeFile writes a file of layout l at path, atomically (a temporary
// file renamed into place), calling body to write the payload, and seals
// it with its MAC under key.
func writeFile(path string, key []byte, l fileLayout, body func(w *fileWriter)) (err error) {
	if len(key) == 0 {
		return errNoKey
	}
	if !littleEndian() {
		return errors.New("index: index files are written on little-endian machines only")
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	w := &fileWriter{f: tmp}
	if _, err := tmp.Seek(headerSize, io.SeekStart); err != nil {
		return err
	}
	w.at = headerSize
	body(w)
	w.writeAt(l.size, nil)
	if w.err != nil {
		return w.err
	}
	w.endChunk()
	hdr := makeHeader(l)
	copy(hdr[macAt:], fileMAC(key, hdr[:], w.digests))
	if _, err := tmp.WriteAt(hdr[:], 0); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// errNoKey refuses to write or open an index file without a key: an
// unkeyed file would be trusted on a checksum anyone can recompute.
var errNoKey = errors.New("index: index files need a key")

func makeHeader(l fileLayout) [headerSize]byte {
	var h [headerSize]byte
	copy(h[0:], fileMagic)
	le := binary.LittleEndian
	le.PutUint32(h[8:], fileVersion)
	le.PutUint32(h[12:], fileBOM)
	flags := uint32(0)
	if l.dense {
		flags |= flagDense
	}
	if l.tables {
		flags |= flagTables
	}
	le.PutUint32(h[16:], flags)
	le.PutUint16(h[20:], numSlots)
	le.PutUint16(h[22:], slotBits)
	le.PutUint16(h[24:], partPad)
	le.PutUint64(h[32:], uint64(l.n))
	le.PutUint64(h[40:], uint64(l.size))
	le.PutUint32(h[52:], uint32(l.ngroups))
	le.PutUint32(h[56:], uint32(l.m))
	le.PutUint32(h[60:], crc32c(h[:60]))
	return h
}

func littleEndian() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}

// WriteFile writes the index to path as an index file that Open maps,
// sealed with a MAC under key (which Open needs). It folds pending
// additions and removals in first (see Compact). The file is written to a
// temporary name and renamed, so a reader never sees half of it.
func (x *Index) WriteFile(path string, key []byte) error {
	x.Compact()
	x.mu.RLock()
	defer x.mu.RUnlock()
	seg := x.main
	if seg == nil {
		seg = &segment{}
	}
	l := layoutFor(int64(len(seg.hashes)), seg.ids == nil, seg.indexed, int64(seg.grp.count()), int64(seg.grp.grouped()))
	return writeFile(path, key, l, func(w *fileWriter) {
		w.writeAt(l.hashes, asBytes(seg.hashes))
		if !l.dense {
			w.writeAt(l.ids, asBytes(seg.ids))
		}
		writeGroups(w, l, seg.grp)
		if l.tables {
			pad := make([]uint16, partPad)
			for s := range numSlots {
				w.writeAt(l.off[s], asBytes(seg.off[s]))
				w.writeAt(l.pos[s], asBytes(seg.pos[s]))
				w.writeAt(l.part[s], asBytes(seg.part[s]))
				w.put(asBytes(pad))
			}
		}
	})
}

// BuildFile writes the index of hashes, hashes[i] under id i, to path as
// an index file sealed under key, without holding the whole index in
// memory: it builds one
// pair of slot tables at a time and writes it out, so that besides hashes
// it needs about 34 bytes per hash (with 2 cores), against 96 for Build's
// tables. On clustered data it also holds the groups (36 bytes a grouped
// hash) and, while finding them, about 13 bytes a hash and 4 a grouped
// one. Open then maps the file. It is the way to index 100 million hashes
// on a machine that cannot hold the index twice.
func BuildFile(path string, hashes []Hash, key []byte) error {
	n := int64(len(hashes))
	if n > 1<<32-1 {
		return fmt.Errorf("index: %d hashes exceed the limit of %d", n, uint32(1<<32-1))
	}
	var cfg config
	tables := cfg.indexed(len(hashes))
	var grp *groups
	var sparse []uint32
	if tables {
		grp, sparse = partition(hashes)
	}
	l := layoutFor(n, true, tables, int64(grp.count()), int64(grp.grouped()))
	return writeFile(path, key, l, func(w *fileWriter) {
		w.writeAt(l.hashes, asBytes(hashes))
		if !l.tables {
			return
		}
		writeGroups(w, l, grp)
		var even, odd []uint16
		var tmp [2]sortBuffers
		pad := make([]uint16, partPad)
		for p := range numSupers {
			even, odd = extractPair(hashes, sparse, 2*p, even, odd)
			var t [2]struct {
				off, pos []uint32
				part     []uint16
			}
			var wg sync.WaitGroup
			wg.Go(func() { t[0].off, t[0].pos, t[0].part = countingSort(even, odd, &tmp[0]) })
			t[1].off, t[1].pos, t[1].part = countingSort(odd, even, &tmp[1])
			wg.Wait()
			toPositions(t[0].pos, sparse)
			toPositions(t[1].pos, sparse)
			for k := range 2 {
				s := 2*p + k
				w.writeAt(l.off[s], asBytes(t[k].off))
				w.writeAt(l.pos[s], asBytes(t[k].pos))
				w.writeAt(l.part[s], asBytes(t[k].part))
				w.put(asBytes(pad))
			}
		}
	})
}

// Open maps the index file at path (written by WriteFile or BuildFile
// under the same key) and returns an index serving from it. It reads the
// file once, on every core, to check its MAC under key, which also brings
// it into the page cache. The index can be updated like any other; the
// first merge moves it to ordinary memory. The mapping is released when
// the index's segment is no longer used. A file that is not a valid index
// file, or not one sealed under key, is refused with an error wrapping
// ErrFile.
func Open(path string, key []byte) (*Index, error) {
	if len(key) == 0 {
		return nil, errNoKey
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < headerSize {
		return nil, fmt.Errorf("%w: %s: %d bytes, shorter than a header", ErrFile, path, st.Size())
	}
	m, err := mapFile(f, st.Size())
	if err != nil {
		return nil, err
	}
	seg, err := segmentFromFile(m.data, key)
	if err != nil {
		m.unmap()
		return nil, fmt.Errorf("%w: %s: %v", ErrFile, path, err)
	}
	seg.mapped = m
	runtime.AddCleanup(seg, func(m *mapping) { m.unmap() }, m)
	return &Index{main: seg}, nil
}

// segmentFromFile checks a mapped file and returns a segment viewing it.
func segmentFromFile(b []byte, key []byte) (*segment, error) {
	le := binary.LittleEndian
	h := b[:headerSize]
	switch {
	case string(h[:8]) != fileMagic:
		return nil, errors.New("not an index file")
	case le.Uint32(h[60:]) != crc32c(h[:60]):
		return nil, errors.New("header checksum mismatch")
	case le.Uint32(h[8:]) != fileVersion:
		return nil, fmt.Errorf("format version %d, want %d", le.Uint32(h[8:]), fileVersion)
	case *(*uint32)(unsafe.Pointer(&h[12])) != fileBOM:
		return nil, errors.New("written with another byte order")
	case le.Uint16(h[20:]) != numSlots || le.Uint16(h[22:]) != slotBits || le.Uint16(h[24:]) != partPad:
		return nil, errors.New("another slot layout")
	}
	flags := le.Uint32(h[16:])
	n := le.Uint64(h[32:])
	ng, m := uint64(le.Uint32(h[52:])), uint64(le.Uint32(h[56:]))
	if flags&^(flagDense|flagTables) != 0 || n > 1<<32-1 || m > n || (ng > 0 && flags&flagTables == 0) || (ng == 0 && m != 0) {
		return nil, errors.New("bad flags or count")
	}
	l := layoutFor(int64(n), flags&flagDense != 0, flags&flagTables != 0, int64(ng), int64(m))
	if le.Uint64(h[40:]) != uint64(l.size) || int64(len(b)) != l.size {
		return nil, fmt.Errorf("size %d, want %d for %d hashes", len(b), l.size, n)
	}
	if !hmac.Equal(fileMAC(key, h, payloadDigests(b[headerSize:])), h[macAt:macAt+sha256.Size]) {
		return nil, errors.New("keyed MAC mismatch: the file was not written under this registry's key, or was changed since")
	}
	s := &segment{indexed: l.tables}
	s.hashes = view[Hash](b, l.hashes, n)
	if !l.dense {
		s.ids = view[uint64](b, l.ids, n)
		for i := 1; i < len(s.ids); i++ {
			if s.ids[i] <= s.ids[i-1] {
				return nil, errors.New("ids not strictly ascending")
			}
		}
	}
	if ng > 0 {
		g, err := groupsFromFile(b, l)
		if err != nil {
			return nil, err
		}
		s.grp = g
	}
	if l.tables {
		k := n - m // hashes in the tables
		for sl := range numSlots {
			s.off[sl] = view[uint32](b, l.off[sl], slotValues+1)
			s.pos[sl] = view[uint32](b, l.pos[sl], k)
			s.part[sl] = view[uint16](b, l.part[sl], k+partPad)[:k]
			// The search trusts the tables: check that the offsets
			// ascend to n and that positions are in range, so that a
			// file with a valid checksum but wrong content cannot send
			// it out of bounds.
			off := s.off[sl]
			if off[0] != 0 || uint64(off[slotValues]) != k || !slices.IsSorted(off) {
				return nil, fmt.Errorf("slot %d: bad bucket offsets", sl)
			}
			for _, p := range s.pos[sl] {
				if uint64(p) >= n {
					return nil, fmt.Errorf("slot %d: position %d out of range", sl, p)
				}
			}
		}
	}
	return s, nil
}

// writeGroups writes the groups' arrays of layout l; g may be nil.
func writeGroups(w *fileWriter, l fileLayout, g *groups) {
	if l.ngroups == 0 {
		return
	}
	w.writeAt(l.centre, asBytes(g.centre))
	w.writeAt(l.band, asBytes(g.band))
	w.writeAt(l.gh, asBytes(g.h))
	w.writeAt(l.gpos, asBytes(g.pos))
}

// groupsFromFile returns the groups viewing a mapped file of layout l,
// checking that their bands tile the grouped hashes in order and that
// their positions are in range, so that the search stays in bounds.
func groupsFromFile(b []byte, l fileLayout) (*groups, error) {
	ng, m, n := uint64(l.ngroups), uint64(l.m), uint64(l.n)
	g := &groups{
		centre: view[Hash](b, l.centre, ng),
		band:   view[uint32](b, l.band, ng*bandLen),
		h:      view[Hash](b, l.gh, m),
		pos:    view[uint32](b, l.gpos, m),
	}
	end := uint32(0)
	for i := range g.centre {
		bd := g.bands(i)
		if bd[0] != end || !slices.IsSorted(bd) {
			return nil, fmt.Errorf("group %d: bad bands", i)
		}
		end = bd[bandLen-1]
	}
	if uint64(end) != m {
		return nil, errors.New("groups do not cover the grouped hashes")
	}
	for _, p := range g.pos {
		if uint64(p) >= n {
			return nil, fmt.Errorf("group position %d out of range", p)
		}
	}
	g.setRadii()
	return g, nil
}

// view returns the n elements of type T at byte offset at of b.
func view[T any](b []byte, at int64, n uint64) []T {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[at])), n)
}

// HoldsExactly reports whether the index holds exactly hashes[i] under id
// i for each i and nothing else. A caller that opened a saved index file
// checks with it that the file is the index of the data it has.
func (x *Index) HoldsExactly(hashes []Hash) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if len(x.dh) != 0 || x.ndead != 0 {
		return false
	}
	if x.main == nil {
		return len(hashes) == 0
	}
	return x.main.ids == nil && slices.Equal(x.main.hashes, hashes)
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
