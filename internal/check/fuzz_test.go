package check

import (
	"strconv"
	"strings"
	"testing"
)

// FuzzWhole: what Whole reads is digits alone, no more of them than its
// maximum has, and the number strconv reads from them, within 0..max;
// anything with a sign, a space or another character is refused.
func FuzzWhole(f *testing.F) {
	for _, s := range []string{"5", "+5", "-0", " 5", "5 ", "05", "0005", "120", "121", "1e3", "٣", "9999999999999999999999"} {
		f.Add(s, 120)
	}
	f.Add("1000000000", 1_000_000_000)
	f.Fuzz(func(t *testing.T, s string, max int) {
		n, ok := Whole(s, max)
		if !ok {
			return
		}
		if strings.Trim(s, "0123456789") != "" || len(s) > len(strconv.Itoa(max)) {
			t.Fatalf("Whole(%q, %d) read %d", s, max, n)
		}
		if m, err := strconv.Atoi(s); err != nil || m != n || n < 0 || n > max {
			t.Fatalf("Whole(%q, %d) = %d; strconv reads %d, %v", s, max, n, m, err)
		}
	})
}

// TestWhole: the cases a query or a records file meets.
func TestWhole(t *testing.T) {
	for _, c := range []struct {
		s   string
		max int
		n   int
		ok  bool
	}{
		{"5", 1_000_000_000, 5, true},
		{"0", 4, 0, true},
		{"05", 120, 5, true},
		{"+5", 1_000_000_000, 0, false},
		{"-0", 4, 0, false},
		{" 5", 120, 0, false},
		{"5 ", 120, 0, false},
		{"0005", 120, 0, false},
		{"01", 4, 0, false},
		{"121", 120, 0, false},
		{"", 120, 0, false},
		{"1_000", 1_000_000_000, 0, false},
		{"99999999999999999999", int(^uint(0) >> 1), 0, false},
	} {
		if n, ok := Whole(c.s, c.max); n != c.n && c.ok || ok != c.ok {
			t.Errorf("Whole(%q, %d) = %d, %v; want %d, %v", c.s, c.max, n, ok, c.n, c.ok)
		}
	}
}
