package hashmatch_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
)

// TestScanFindsKnownImageInVideo plants the hash of one frame of the
// reference video, a few bits off, in a bank, and checks that an offline scan
// of a folder holding that video reports the match at that frame's time, and
// that the same scan against a bank of unrelated hashes reports no match.
func TestScanFindsKnownImageInVideo(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed (.ci/run installs it): video scanning not tested")
	}
	video := filepath.Join(refDir(t), "..", "..", "vpdq", "sample-videos", "doorknob-hd-no-bar.mp4")
	if _, err := os.Stat(video); err != nil {
		t.Skipf("reference video not found: %v", err)
	}
	ctx := context.Background()
	frames, err := vpdq.HashVideo(ctx, video, vpdq.Options{SecondsPerHash: hashmatch.VideoSecondsPerHash})
	if err != nil {
		t.Fatal(err)
	}
	var planted *vpdq.Frame
	for i := len(frames) - 1; i >= 0; i-- {
		if frames[i].Quality >= hashmatch.DefaultMinQuality {
			planted = &frames[i]
			break
		}
	}
	if planted == nil {
		t.Fatalf("no frame of quality >= 50 among the %d sampled", len(frames))
	}
	near := planted.Hash
	near[0] ^= 0b10110 // three bits off, as a re-encoded copy would be
	dir := t.TempDir()
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "upload.mp4"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	bank := func(pdqHex string) *hashmatch.LocalBank {
		lb, err := hashmatch.NewLocalBank(&hashmatch.Doc{Bank: "HB-TEST", Kind: "known", Threshold: 31, Version: 1, Snapshot: true,
			Adds: []hashmatch.DocEntry{{EntryID: "e1", PDQ: pdqHex, Classification: "test"}}})
		if err != nil {
			t.Fatal(err)
		}
		return lb
	}
	res, err := hashmatch.Scan(ctx, dir, []*hashmatch.LocalBank{bank(near.String())}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || res[0].Status != hashmatch.StatusMatch || !res[0].Video || res[0].AtSeconds == nil {
		t.Fatalf("scan of the video: %+v", res)
	}
	if got := *res[0].AtSeconds; got > planted.Seconds {
		t.Errorf("first match at %.2f s, after the planted frame at %.2f s", got, planted.Seconds)
	}
	if res[0].Matches[0].EntryID != "e1" || res[0].Matches[0].Distance > 31 {
		t.Errorf("match %+v", res[0].Matches[0])
	}
	// An unrelated hash: the bitwise complement of the planted frame.
	far := planted.Hash
	for i := range far {
		far[i] = ^far[i]
	}
	res, err = hashmatch.Scan(ctx, dir, []*hashmatch.LocalBank{bank(far.String())}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != hashmatch.StatusNoMatch || res[0].Frames == 0 {
		t.Errorf("scan against an unrelated bank: %+v", res[0])
	}
}
