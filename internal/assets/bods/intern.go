package bods

import "hash/maphash"

// intern numbers strings in the order they are first seen, keeping their
// bytes one after another in one arena. Nothing it holds is a pointer but
// the few slices themselves, so the collector neither scans nor counts its
// strings however many it keeps: its index maps a 64-bit hash to the first
// string with that hash, and strings whose hashes collide are chained
// (next) and told apart by their bytes.
type intern struct {
	arena []byte
	ends  []int            // string i is arena[ends[i-1]:ends[i]] (from 0 for the first)
	first map[uint64]int32 // a hash -> the latest string with it
	next  []int32          // string -> the one before it with the same hash, -1 for none
	hash  func(string) uint64
}

// seededHash is a hash of strings with a seed of its own (hash/maphash):
// what an intern uses but in tests that make hashes collide.
func seededHash() func(string) uint64 {
	seed := maphash.MakeSeed()
	return func(s string) uint64 { return maphash.String(seed, s) }
}

func newIntern(hash func(string) uint64) intern {
	return intern{first: map[uint64]int32{}, hash: hash}
}

// len is how many strings it holds.
func (t *intern) len() int { return len(t.ends) }

// bytes are string i's bytes, the arena's own: not to be changed.
func (t *intern) bytes(i int32) []byte {
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.arena[start:t.ends[i]]
}

// string is a copy of string i.
func (t *intern) string(i int32) string { return string(t.bytes(i)) }

// find is the number of s, if it has one.
func (t *intern) find(s string) (int32, bool) {
	i, ok := t.first[t.hash(s)]
	for ok && i >= 0 {
		if string(t.bytes(i)) == s {
			return i, true
		}
		i = t.next[i]
	}
	return -1, false
}

// add is the number of s, giving it the next one if it has none; new says
// which.
func (t *intern) add(s string) (i int32, new bool) {
	h := t.hash(s)
	head, ok := t.first[h]
	for i := head; ok && i >= 0; i = t.next[i] {
		if string(t.bytes(i)) == s {
			return i, false
		}
	}
	if !ok {
		head = -1
	}
	i = int32(len(t.ends))
	t.arena = append(t.arena, s...)
	t.ends = append(t.ends, len(t.arena))
	t.next = append(t.next, head)
	t.first[h] = i
	return i, true
}
