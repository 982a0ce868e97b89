package hashmatch_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
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
	res, err := hashmatch.Scan(ctx, dir, []*hashmatch.LocalBank{bank(near.String())}, hashmatch.ScanOptions{})
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
	res, err = hashmatch.Scan(ctx, dir, []*hashmatch.LocalBank{bank(far.String())}, hashmatch.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Status != hashmatch.StatusNoMatch || res[0].Frames == 0 {
		t.Errorf("scan against an unrelated bank: %+v", res[0])
	}
}

// TestScanVideoJobs: a scan of a folder of videos on four cores hashes at
// most VideoJobs of them at once. Each video's ffprobe is a script that
// notes how many are running beside it, waits a moment and runs the real
// one.
func TestScanVideoJobs(t *testing.T) {
	var real string
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Skipf("%s not installed (Debian package ffmpeg): the scan's video cap not tested", tool)
		}
		real = p // ffprobe's, the last
	}
	dir, runs, bin := t.TempDir(), t.TempDir(), t.TempDir()
	video := filepath.Join(t.TempDir(), "v.mp4")
	if out, err := exec.Command("ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "2", "-pix_fmt", "yuv420p", video).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, out)
	}
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"a.mp4", "b.mp4", "c.mp4", "d.mp4"} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	script := "#!/bin/sh\n: > '" + runs + "/running.'$$\nls '" + runs + "' | grep -c '^running' >> '" + runs + "/counts'\n" +
		"/bin/sleep 0.3\nrm -f '" + runs + "/running.'$$\nexec '" + real + "' \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "ffprobe"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))

	for _, jobs := range []int{1, 2} {
		os.Remove(filepath.Join(runs, "counts"))
		res, err := hashmatch.Scan(context.Background(), dir, nil, hashmatch.ScanOptions{VideoJobs: jobs})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Status != hashmatch.StatusNoMatch || r.Frames == 0 {
				t.Errorf("VideoJobs %d: %s: %+v", jobs, r.Path, r)
			}
		}
		counts, err := os.ReadFile(filepath.Join(runs, "counts"))
		if err != nil {
			t.Fatal(err)
		}
		most := 0
		for _, c := range strings.Fields(string(counts)) {
			n, _ := strconv.Atoi(c)
			most = max(most, n)
		}
		if most > jobs || len(strings.Fields(string(counts))) != 4 {
			t.Errorf("VideoJobs %d: ffprobes running at once, as each started: %s", jobs, strings.Fields(string(counts)))
		}
	}
}
