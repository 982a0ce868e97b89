package bods

import "hash/maphash"

// idSet is the statement ids of a file read so far, each with its
// position, holding no pointers the garbage collector must walk: a map
// from an id's hash to the first position with that hash, and the ids'
// bytes one after another in one arena. (A million ids as strings in a
// map[string]int are a million objects marked at every collection of an
// import.) It is exact: an id is compared with the one stored under its
// hash, and an id whose hash another id had first is kept in more.
type idSet struct {
	seed  maphash.Seed
	first map[uint64]int32
	ends  []int // ends[n] is where the id of statement n ends in arena
	arena []byte
	more  map[string]int
}

func newIDSet() *idSet {
	return &idSet{seed: maphash.MakeSeed(), first: map[uint64]int32{}, more: map[string]int{}}
}

// add adds the id of statement n (statements are added in order, from 0),
// or gives the position of the earlier statement with that id.
func (s *idSet) add(id string, n int) (prev int, dup bool) {
	h := maphash.String(s.seed, id)
	if p, ok := s.first[h]; !ok {
		s.first[h] = int32(n)
	} else if s.is(int(p), id) {
		prev, dup = int(p), true
	} else if q, ok := s.more[id]; ok {
		prev, dup = q, true
	} else {
		s.more[id] = n
	}
	s.arena = append(s.arena, id...)
	s.ends = append(s.ends, len(s.arena))
	return prev, dup
}

// is tells whether statement n's id is id.
func (s *idSet) is(n int, id string) bool {
	start := 0
	if n > 0 {
		start = s.ends[n-1]
	}
	return string(s.arena[start:s.ends[n]]) == id
}
