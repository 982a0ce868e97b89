package vpdq

import (
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// upstreamMaxDistance is the regression tolerance of vpdq's
// tests/test_vpdq_hash.py: frames of quality >= 50 on both sides must be at
// Hamming distance < 31 from the sample hashes.
const upstreamMaxDistance = 31

// compareWithReference checks got against the reference hashes frame by
// frame (matched by frame number), the way upstream's regression test
// does, and logs the distances.
func compareWithReference(t *testing.T, got, want []Frame) {
	t.Helper()
	byIndex := make(map[int]Frame, len(want))
	for _, w := range want {
		byIndex[w.Index] = w
	}
	compared, skipped, sum, maxDist, exact := 0, 0, 0, 0, 0
	for i, g := range got {
		w, ok := byIndex[g.Index]
		if !ok {
			t.Fatalf("frame %d: index %d not in the reference", i, g.Index)
		}
		if math.Abs(g.Seconds-w.Seconds) > 0.0005+1e-9 {
			t.Errorf("frame %d: %.6f s, reference %.3f s", g.Index, g.Seconds, w.Seconds)
		}
		if g.Quality < 50 || w.Quality < 50 {
			skipped++
			continue
		}
		d := pdq.Distance(g.Hash, w.Hash)
		if d >= upstreamMaxDistance {
			t.Errorf("frame %d: distance %d from the reference (quality %d, reference %d)", g.Index, d, g.Quality, w.Quality)
		}
		if d == 0 {
			exact++
		}
		compared++
		sum += d
		maxDist = max(maxDist, d)
	}
	if compared == 0 {
		t.Fatal("no frame of quality >= 50 to compare")
	}
	t.Logf("%d frames compared (%d skipped for quality < 50): max distance %d, mean %.2f, %d identical",
		compared, skipped, maxDist, float64(sum)/float64(compared), exact)
}

// sampled reports whether the full-size reference tests hash only every
// sampleStep-th frame (at 30 fps), to keep -short and -race runs quick.
func sampled() bool { return testing.Short() || raceEnabled }

const sampleStep = 6

// sampledOptions returns the options hashing every frame, or every
// sampleStep-th one when sampled().
func sampledOptions() Options {
	if sampled() {
		return Options{SecondsPerHash: sampleStep / 30.0}
	}
	return Options{}
}

// doorknob returns the hashes of the doorknob sample's frames (every frame
// unless sampled()), computed once for all the tests.
func doorknob(t *testing.T) []Frame {
	t.Helper()
	path := refVideo(t, "doorknob-hd-no-bar.mp4")
	doorknobMu.Lock()
	defer doorknobMu.Unlock()
	if doorknobFrames == nil {
		frames, err := HashVideo(context.Background(), path, sampledOptions())
		if err != nil {
			t.Fatal(err)
		}
		doorknobFrames = frames
	}
	return doorknobFrames
}

var (
	doorknobMu     sync.Mutex
	doorknobFrames []Frame
)

func TestHashVideoMatchesReference(t *testing.T) {
	t.Run("doorknob-hd-no-bar", func(t *testing.T) {
		want := refHashes(t, "doorknob-hd-no-bar.txt")
		got := doorknob(t)
		checkCount(t, got, want)
		compareWithReference(t, got, want)
	})
	t.Run("doorknob-hd-no-bar-128x128", func(t *testing.T) {
		want := refHashes(t, "doorknob-hd-no-bar-128x128.txt")
		got, err := HashVideo(context.Background(), refVideo(t, "doorknob-hd-no-bar.mp4"), Options{Downsample: 128})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("%d frames, reference has %d", len(got), len(want))
		}
		compareWithReference(t, got, want)
	})
	t.Run("test-padded-dimensions", func(t *testing.T) {
		want := refHashes(t, "test-padded-dimensions.txt")
		got, err := HashVideo(context.Background(), refVideo(t, "test-padded-dimensions.mp4"), sampledOptions())
		if err != nil {
			t.Fatal(err)
		}
		checkCount(t, got, want)
		compareWithReference(t, got, want)
	})
}

// checkCount checks that got has a frame for each reference frame, or for
// every sampleStep-th one when sampled().
func checkCount(t *testing.T, got, want []Frame) {
	t.Helper()
	n := len(want)
	if sampled() {
		n = (n + sampleStep - 1) / sampleStep
		t.Logf("-short or -race: hashing every %dth frame only", sampleStep)
	}
	if len(got) != n {
		t.Fatalf("%d frames, want %d", len(got), n)
	}
}

// TestHashVideoSampling checks SecondsPerHash: every int(s*fps)-th frame,
// numbered as in the full hash.
func TestHashVideoSampling(t *testing.T) {
	path := refVideo(t, "doorknob-hd-no-bar.mp4")
	want := refHashes(t, "doorknob-hd-no-bar-128x128.txt")
	got, err := HashVideo(context.Background(), path, Options{Downsample: 128, SecondsPerHash: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 8 { // 120 frames at 30 fps, every 15th
		t.Fatalf("%d frames, want 8", len(got))
	}
	for i, f := range got {
		if f.Index != 15*i {
			t.Fatalf("frame %d has index %d, want %d", i, f.Index, 15*i)
		}
	}
	compareWithReference(t, got, want)
}

// TestMatchVideo matches the hashes computed here against the reference
// files: fully against the same video, not at all against another.
func TestMatchVideo(t *testing.T) {
	got := doorknob(t)
	self := Match(got, refHashes(t, "doorknob-hd-no-bar.txt"), MatchOptions{})
	t.Logf("doorknob vs its reference hashes: query %.2f%%, target %.2f%%", self.QueryMatchPct, self.TargetMatchPct)
	if !self.Match || self.QueryMatchPct < 99 || (!sampled() && self.TargetMatchPct < 99) {
		t.Errorf("doorknob vs its reference hashes: %+v", self)
	}
	other := Match(got, refHashes(t, "pattern-hd-no-bar.txt"), MatchOptions{})
	t.Logf("doorknob vs pattern-hd-no-bar: query %.2f%%, target %.2f%%", other.QueryMatchPct, other.TargetMatchPct)
	if other.Match || other.QueryMatchPct > 5 || other.TargetMatchPct > 5 {
		t.Errorf("doorknob vs pattern-hd-no-bar: %+v", other)
	}
}

func TestProbe(t *testing.T) {
	info, err := Probe(context.Background(), refVideo(t, "doorknob-hd-no-bar.mp4"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if info.Width != 1280 || info.Height != 720 || info.FPS != 30 || info.Stream != 0 ||
		info.Codec != "h264" || math.Abs(info.Duration-4.3) > 0.1 {
		t.Errorf("Probe = %+v", info)
	}
}

func TestHashVideoErrors(t *testing.T) {
	needFFmpeg(t)
	video := refVideo(t, "doorknob-hd-no-bar.mp4")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noise := make([]byte, 64<<10)
	for i := range noise {
		noise[i] = byte(i*7919 + i>>8)
	}
	cases := []struct {
		name string
		path string
		opt  Options
		want error
	}{
		{"missing file", filepath.Join(dir, "missing.mp4"), Options{}, fs.ErrNotExist},
		{"directory", dir, Options{}, ErrNotVideo},
		{"empty file", write("empty.mp4", nil), Options{}, ErrNotVideo},
		{"noise", write("noise.mp4", noise), Options{}, ErrNotVideo},
		{"text", write("notes.bin", []byte("just some text, not a video\n")), Options{}, ErrNotVideo},
		{"bogus ffmpeg", video, Options{FFmpeg: filepath.Join(dir, "no-such-ffmpeg")}, ErrNoFFmpeg},
		{"bogus ffprobe", video, Options{FFprobe: "no-such-ffprobe-on-path"}, ErrNoFFmpeg},
		{"negative seconds", video, Options{SecondsPerHash: -1}, ErrOptions},
		{"NaN seconds", video, Options{SecondsPerHash: math.NaN()}, ErrOptions},
		{"tiny downsample", video, Options{Downsample: 4}, ErrOptions},
		{"negative limit", video, Options{MaxFrames: -1}, ErrOptions},
		{"negative memory", video, Options{MaxMemory: -1}, ErrOptions},
		{"too wide", video, Options{MaxDimension: 1000}, ErrTooLarge},
		{"too many pixels", video, Options{MaxPixels: 1280*720 - 1}, ErrTooLarge},
		{"too big a file", video, Options{MaxFileBytes: 1000}, ErrTooLarge},
		{"too many frames", video, Options{MaxFrames: 5, Downsample: 16}, ErrTooLarge},
		{"timeout", video, Options{Timeout: time.Nanosecond}, context.DeadlineExceeded},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frames, err := HashVideo(context.Background(), c.path, c.opt)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if frames != nil {
				t.Errorf("%d frames returned with the error", len(frames))
			}
			t.Log(err)
		})
	}
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := HashVideo(ctx, video, Options{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// TestHashVideoTruncated cuts the doorknob sample short: a file cut in its
// header is not a video; one cut in its frames gives the frames before the
// cut and ErrCorrupt.
func TestHashVideoTruncated(t *testing.T) {
	video := refVideo(t, "doorknob-hd-no-bar.mp4")
	data, err := os.ReadFile(video)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	head := filepath.Join(dir, "head.mp4")
	if err := os.WriteFile(head, data[:1000], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := HashVideo(context.Background(), head, Options{}); !errors.Is(err, ErrNotVideo) {
		t.Errorf("file cut in its header: err = %v, want ErrNotVideo", err)
	}
	half := filepath.Join(dir, "half.mp4")
	if err := os.WriteFile(half, data[:len(data)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	frames, err := HashVideo(context.Background(), half, Options{Downsample: 64})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("file cut in half: err = %v, want ErrCorrupt", err)
	}
	t.Log(err)
	if len(frames) == 0 || len(frames) >= 120 {
		t.Fatalf("file cut in half: %d frames", len(frames))
	}
	for i, f := range frames {
		if f.Index != i {
			t.Fatalf("frame %d has index %d", i, f.Index)
		}
	}
	t.Logf("file cut in half: %d frames", len(frames))
}

// TestHashVideoNoVideoStream hashes an audio-only file.
func TestHashVideoNoVideoStream(t *testing.T) {
	needFFmpeg(t)
	wav := filepath.Join(t.TempDir(), "tone.wav")
	out, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "sine=duration=0.1", wav).CombinedOutput()
	if err != nil {
		t.Skipf("cannot make a WAV file with ffmpeg: %v\n%s", err, out)
	}
	_, err = HashVideo(context.Background(), wav, Options{})
	if !errors.Is(err, ErrNotVideo) {
		t.Fatalf("err = %v, want ErrNotVideo", err)
	}
	t.Log(err)
}

// TestHashVideoRefusesOtherFiles hashes files whose formats name other
// files: an HLS playlist, an FFmpeg concatenation list and an image
// sequence's pattern, each naming a real video (or image) beside it. They
// are refused with ErrFormat before anything is decoded, as is a playlist
// naming a file that does not exist, with the same error: the refusal
// must not tell whether the file named exists.
func TestHashVideoRefusesOtherFiles(t *testing.T) {
	needFFmpeg(t)
	dir := t.TempDir()
	video := filepath.Join(dir, "real.mp4")
	png := filepath.Join(dir, "frame1.png")
	for _, args := range [][]string{
		{"-f", "lavfi", "-i", "testsrc2=size=64x48:rate=5", "-t", "2", "-pix_fmt", "yuv420p", video},
		{"-f", "lavfi", "-i", "testsrc2=size=64x48", "-frames:v", "1", png},
	} {
		out, err := exec.Command("ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-y"}, args...)...).CombinedOutput()
		if err != nil {
			t.Skipf("cannot make a test file with ffmpeg: %v\n%s", err, out)
		}
	}
	if frames, err := HashVideo(context.Background(), video, Options{}); err != nil || len(frames) == 0 {
		t.Fatalf("the real video: %d frames, %v", len(frames), err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	hls := func(target string) string {
		return "#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:3.0,\n" + target + "\n#EXT-X-ENDLIST\n"
	}
	cases := []struct{ name, path string }{
		{"hls playlist", write("playlist", hls(video))},
		{"hls playlist named .m3u8", write("playlist.m3u8", hls(video))},
		{"hls playlist, file: url", write("playlist-url", hls("file:"+video))},
		{"hls playlist, missing file", write("playlist-missing", hls(filepath.Join(dir, "missing.mp4")))},
		{"concat list", write("list", "ffconcat version 1.0\nfile '"+video+"'\n")},
		{"image", png},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			frames, err := HashVideo(context.Background(), c.path, Options{})
			if !errors.Is(err, ErrFormat) || !errors.Is(err, ErrNotVideo) {
				t.Fatalf("%d frames, err = %v, want ErrFormat", len(frames), err)
			}
			if _, err := Probe(context.Background(), c.path, Options{}); !errors.Is(err, ErrFormat) {
				t.Fatalf("Probe: err = %v, want ErrFormat", err)
			}
			t.Log(err)
		})
	}
}

func TestDemuxer(t *testing.T) {
	for name, want := range map[string]string{
		"mov,mp4,m4a,3gp,3g2,mj2": "mov",
		"matroska,webm":           "matroska",
		"mpegts":                  "mpegts",
		"asf":                     "asf",
		"hls":                     "",
		"concat":                  "",
		"image2":                  "",
		"png_pipe":                "",
		"":                        "",
		"mpegtsraw":               "",
	} {
		if got := demuxer(name); got != want {
			t.Errorf("demuxer(%q) = %q, want %q", name, got, want)
		}
	}
}
