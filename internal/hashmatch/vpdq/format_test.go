package vpdq

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// TestHashFilesRoundTrip parses every reference hash file and writes it
// back: the output must be byte for byte the file.
func TestHashFilesRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(refDir(t), "sample-hashes", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample hashes: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		frames, err := ParseHashes(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(name), err)
		}
		if len(frames) == 0 {
			t.Fatalf("%s: no frames", filepath.Base(name))
		}
		for i, f := range frames {
			if f.Index != i {
				t.Fatalf("%s: line %d has frame number %d", filepath.Base(name), i+1, f.Index)
			}
		}
		var out bytes.Buffer
		if err := WriteHashes(&out, frames); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), data) {
			t.Errorf("%s: written form differs from the file", filepath.Base(name))
		}
	}
}

func TestParseHashes(t *testing.T) {
	const h = "dadb999c25266273529cadac89cb52c22324ad3bce99726c38668d93c799f07c"
	want, err := pdq.ParseHex(h)
	if err != nil {
		t.Fatal(err)
	}
	in := "0,100," + h + ",0.000\r\n\n  \n7,42," + strings.ToUpper(h) + ",12.5\n"
	frames, err := ParseHashes(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != 2 ||
		frames[0] != (Frame{Index: 0, Hash: want, Quality: 100, Seconds: 0}) ||
		frames[1] != (Frame{Index: 7, Hash: want, Quality: 42, Seconds: 12.5}) {
		t.Fatalf("got %+v", frames)
	}
	var out strings.Builder
	if err := WriteHashes(&out, frames); err != nil {
		t.Fatal(err)
	}
	if want := "0,100," + h + ",0.000\n7,42," + h + ",12.500\n"; out.String() != want {
		t.Errorf("WriteHashes = %q, want %q", out.String(), want)
	}
	if frames, err := ParseHashes(strings.NewReader("")); err != nil || len(frames) != 0 {
		t.Errorf("empty input: %v, %v", frames, err)
	}
}

func TestParseHashesErrors(t *testing.T) {
	const h = "dadb999c25266273529cadac89cb52c22324ad3bce99726c38668d93c799f07c"
	bad := []string{
		"0,100," + h,                      // 3 fields
		"0,100," + h + ",0.000,extra",     // 5 fields
		"-1,100," + h + ",0.000",          // negative frame
		"+1,100," + h + ",0.000",          // sign
		"x,100," + h + ",0.000",           // not a number
		"99999999999,100," + h + ",0.000", // too large
		"0,101," + h + ",0.000",           // quality > 100
		"0,-5," + h + ",0.000",            // quality < 0
		"0,100," + h[:63] + ",0.000",      // short hash
		"0,100," + h[:63] + "g,0.000",     // not hex
		"0,100, " + h + ",0.000",          // space
		"0,100," + h + ",-1.000",          // negative time
		"0,100," + h + ",1e3",             // exponent
		"0,100," + h + ",NaN",             // not a number
		"0,100," + h + ",Inf",             // infinity
		"0,100," + h + ",1.2.3",           // two points
		"0,100," + h + ",.",               // no digit
		"0,100," + h + ",",                // empty
		"0,100," + h + ",9999999999999",   // beyond 1e12
		strings.Repeat("1", 2000),         // line too long
	}
	for _, line := range bad {
		in := "0,100," + h + ",0.000\n" + line + "\n"
		_, err := ParseHashes(strings.NewReader(in))
		if !errors.Is(err, ErrSyntax) {
			t.Errorf("%.60q: err = %v, want ErrSyntax", line, err)
		} else if !strings.Contains(err.Error(), "line 2") {
			t.Errorf("%.60q: error %q does not name line 2", line, err)
		}
	}
}

func TestWriteHashesRefusesInvalidFrames(t *testing.T) {
	for _, f := range []Frame{
		{Index: -1},
		{Quality: 101},
		{Quality: -1},
		{Seconds: -0.5},
		{Seconds: math.NaN()},
		{Seconds: math.Inf(1)},
		{Seconds: 2e12},
	} {
		if err := WriteHashes(new(bytes.Buffer), []Frame{f}); !errors.Is(err, ErrSyntax) {
			t.Errorf("%+v: err = %v, want ErrSyntax", f, err)
		}
	}
}
