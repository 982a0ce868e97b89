package bods

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestIDSet: every repeat is found with the position of its first
// statement, and two ids whose hashes collide (made so here) are told
// apart.
func TestIDSet(t *testing.T) {
	s := newIDSet()
	for n := 0; n < 1000; n++ {
		if _, dup := s.add(fmt.Sprintf("id-%d", n), n); dup {
			t.Fatalf("id-%d called a repeat", n)
		}
	}
	if prev, dup := s.add("id-417", 1000); !dup || prev != 417 {
		t.Fatalf("repeat of id-417: %d, %v", prev, dup)
	}
	// "other" collides with statement 3's id: its hash points there.
	s.first[maphash.String(s.seed, "other")] = 3
	if _, dup := s.add("other", 1001); dup {
		t.Fatal("an id whose hash collides with another's was called a repeat")
	}
	if prev, dup := s.add("other", 1002); !dup || prev != 1001 {
		t.Fatalf("repeat of a colliding id: %d, %v", prev, dup)
	}
	if prev, dup := s.add("id-3", 1003); !dup || prev != 3 {
		t.Fatalf("repeat of id-3 after the collision: %d, %v", prev, dup)
	}
}
