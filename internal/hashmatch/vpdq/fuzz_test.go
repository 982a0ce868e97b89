package vpdq

import (
	"bytes"
	"testing"
)

// FuzzParseHashes checks that ParseHashes never panics and that whatever it
// accepts survives WriteHashes and a second parse unchanged, up to the
// timestamps' rounding to three decimals.
func FuzzParseHashes(f *testing.F) {
	const h = "dadb999c25266273529cadac89cb52c22324ad3bce99726c38668d93c799f07c"
	f.Add([]byte("0,100," + h + ",0.000\n1,99," + h + ",0.033\n"))
	f.Add([]byte("12,0," + h + ",1234.5678\r\n\n"))
	f.Add([]byte("0,100," + h + ",.5"))
	f.Add([]byte("0,100,zz,0\n"))
	f.Add([]byte(",,,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, err := ParseHashes(bytes.NewReader(data))
		if err != nil {
			return
		}
		var once bytes.Buffer
		if err := WriteHashes(&once, frames); err != nil {
			t.Fatalf("WriteHashes refused parsed frames: %v", err)
		}
		again, err := ParseHashes(bytes.NewReader(once.Bytes()))
		if err != nil {
			t.Fatalf("written form does not parse: %v\n%s", err, once.Bytes())
		}
		if len(again) != len(frames) {
			t.Fatalf("%d frames after round trip, want %d", len(again), len(frames))
		}
		for i := range frames {
			a, b := frames[i], again[i]
			if a.Index != b.Index || a.Quality != b.Quality || a.Hash != b.Hash {
				t.Fatalf("frame %d: %+v became %+v", i, a, b)
			}
			if d := a.Seconds - b.Seconds; d > 0.0005+1e-9*a.Seconds || d < -0.0005-1e-9*a.Seconds {
				t.Fatalf("frame %d: %v s became %v s", i, a.Seconds, b.Seconds)
			}
		}
		var twice bytes.Buffer
		if err := WriteHashes(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("written form not stable:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}
