package hashmatch_test

import (
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/reftest"
)

// localBank is a known bank of one entry, matched offline.
func localBank(t *testing.T, entries ...hashmatch.DocEntry) *hashmatch.LocalBank {
	t.Helper()
	lb, err := hashmatch.NewLocalBank(&hashmatch.Doc{Bank: "HB-TEST", Kind: "known", Threshold: 31, Version: 1, Snapshot: true, Adds: entries})
	if err != nil {
		t.Fatal(err)
	}
	return lb
}

// TestEXIFListsEitherWay: an upload of an EXIF-rotated phone photo hashes
// its stored pixels as the C++ reference does (within 10 bits of its hash),
// keeps the displayed hash among its variants, and matches a list entry
// hashed either way: the reference's stored-pixel hash, or the hash another
// tool gave a rotated, shrunk and re-encoded copy of the image as people see
// it.
func TestEXIFListsEitherWay(t *testing.T) {
	photo := filepath.Join(refDir(t), "reg-test-input", "exif-rotn", "exif-rotn-6.jpg")
	want, err := pdq.ParseHex(reftest.PDQPhotoHash(t, "reg-test-input/exif-rotn/exif-rotn-6.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(photo)
	if err != nil {
		t.Fatal(err)
	}
	h, err := hashmatch.HashImage(f, hashmatch.DefaultMaxUpload)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if d := pdq.Distance(h.PDQ, want); d > 10 {
		t.Errorf("stored hash %d bits from the C++ reference, want <= 10", d)
	}
	if h.Orientation != pdq.OrientationRotate90 || h.Width != 4032 || h.Height != 3024 {
		t.Errorf("orientation %v, size %dx%d", h.Orientation, h.Width, h.Height)
	}
	if !slices.Contains(h.Variants(), h.Displayed) || h.Variants()[0] != h.PDQ {
		t.Errorf("variants %v lack the stored or displayed hash", h.Variants())
	}

	// The displayed image as another tool would see it: rotated clockwise
	// (EXIF 6), a quarter of the size, re-encoded.
	dir := t.TempDir()
	shownFile := filepath.Join(dir, "shown.jpg")
	writeJPEG(t, shownFile, rotated90(resized(decodeFile(t, photo), 25)), 85)
	shown, err := pdq.HashFile(shownFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("list entry hashed as displayed: %d bits from the upload's displayed hash, %d from its stored hash",
		pdq.Distance(shown.Hash, h.Displayed), pdq.Distance(shown.Hash, h.PDQ))
	if d := pdq.Distance(shown.Hash, h.PDQ); d <= 31 {
		t.Fatalf("the displayed copy is only %d bits from the stored hash: the test proves nothing", d)
	}
	for name, entry := range map[string]pdq.Hash{"stored (reference)": want, "displayed": shown.Hash} {
		ms, _, err := hashmatch.MatchLocal([]*hashmatch.LocalBank{localBank(t, hashmatch.DocEntry{EntryID: "e1", PDQ: entry.String(), Classification: "A1"})}, h.Variants())
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != 1 || ms[0].EntryID != "e1" {
			t.Errorf("list hashed %s: matches %+v, want e1", name, ms)
		}
	}
}

// TestScanAllCores: a scan hashes files on every core and answers exactly
// what a scan on one core does, in path order.
func TestScanAllCores(t *testing.T) {
	ref := refDir(t)
	dir := t.TempDir()
	var entries []hashmatch.DocEntry
	for i, name := range []string{"q0122", "q0291", "q0746", "q1050", "q2821"} {
		img := decodeFile(t, filepath.Join(ref, "reg-test-input", "labelme-subset", name+".jpg"))
		writeJPEG(t, filepath.Join(dir, name+"-copy.jpg"), img, 70)
		writeJPEG(t, filepath.Join(dir, name+"-rotated.jpg"), rotated90(img), 80)
		if i%2 == 0 {
			r, err := pdq.HashFile(filepath.Join(ref, "reg-test-input", "labelme-subset", name+".jpg"))
			if err != nil {
				t.Fatal(err)
			}
			entries = append(entries, hashmatch.DocEntry{EntryID: name, PDQ: r.Hash.String(), Classification: "A1"})
		}
	}
	writeJPEG(t, filepath.Join(dir, "flat.jpg"), image.NewGray(image.Rect(0, 0, 64, 64)), 90)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not an image"), 0o644)
	banks := []*hashmatch.LocalBank{localBank(t, entries...)}
	scan := func(procs int) []hashmatch.ScanResult {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		res, err := hashmatch.Scan(context.Background(), dir, banks, hashmatch.ScanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	one, many := scan(1), scan(8)
	if !reflect.DeepEqual(one, many) {
		t.Fatalf("one core:\n%+v\neight:\n%+v", one, many)
	}
	if len(one) != 12 || !slices.IsSortedFunc(one, func(a, b hashmatch.ScanResult) int { return strings.Compare(a.Path, b.Path) }) {
		t.Fatalf("%d results, sorted %v", len(one), one)
	}
	matched := 0
	for _, r := range one {
		if r.Status == hashmatch.StatusMatch {
			matched++
			if base := filepath.Base(r.Path); base[:5] != r.Matches[0].EntryID {
				t.Errorf("%s matched %s", base, r.Matches[0].EntryID)
			}
		}
	}
	if matched != 6 {
		t.Errorf("%d matches, want 6 (three entries, a copy and a rotated copy of each): %+v", matched, one)
	}
}

// TestScanDecodeBudget: a scan refuses an image whose decode alone would
// take more than its DecodeBudget, naming the limit, and hashes it under
// the default budget.
func TestScanDecodeBudget(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "rgba64.png")) // about 39 MiB to decode
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, image.NewNRGBA64(image.Rect(0, 0, 2000, 2000))); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, c := range []struct {
		budget int64
		status string
	}{{32 << 20, "error"}, {0, hashmatch.StatusLowQuality}} {
		res, err := hashmatch.Scan(context.Background(), dir, nil, hashmatch.ScanOptions{DecodeBudget: c.budget})
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || res[0].Status != c.status || (c.status == "error" && !strings.Contains(res[0].Error, "MiB of memory to decode")) {
			t.Errorf("budget %d: %+v, want %s", c.budget, res, c.status)
		}
	}
}
