package hashmatch

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
)

// LoadBankFile reads a signed bank document (as custos hashmatch pull writes
// it), verifies it with the registry's verifier key, and builds its index.
func LoadBankFile(path, verifierKey string) (*Doc, *LocalBank, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	d, _, err := OpenDoc(b, verifierKey)
	if err != nil {
		return nil, nil, err
	}
	lb, err := NewLocalBank(d)
	return d, lb, err
}

// ScanResult is the outcome for one file of an offline scan.
type ScanResult struct {
	Path    string  `json:"path"`
	PDQ     string  `json:"pdq,omitempty"`
	Quality int     `json:"quality"`
	MD5     string  `json:"md5,omitempty"`
	SHA256  string  `json:"sha256,omitempty"`
	Status  string  `json:"status"` // match, no_match, low_quality, suppressed or error
	Matches []Match `json:"matches,omitempty"`
	Error   string  `json:"error,omitempty"`
	// Video files are sampled one frame a second; a match names the frame's time.
	Video     bool     `json:"video,omitempty"`
	Frames    int      `json:"frames,omitempty"`
	AtSeconds *float64 `json:"at_seconds,omitempty"`
}

// ScanOptions tune an offline scan. Zero fields take the defaults.
type ScanOptions struct {
	// MinQuality: hashes of lower quality are not matched (default
	// DefaultMinQuality).
	MinQuality int
	// VideoJobs caps the videos hashed at once (default DefaultVideoJobs:
	// half the cores, at least one), as the server's Config.VideoJobs does:
	// each runs an ffmpeg that keeps a core busy and takes memory of its
	// own, so a folder of videos does not start one per core.
	VideoJobs int
	// DecodeBudget bounds, in bytes, the decoder memory of the images
	// decoded at once (default DefaultDecodeBudget), as the server's
	// Config.DecodeBudget does (ImageHasher).
	DecodeBudget int64
	// VideoMemory bounds, in bytes, what each ffprobe and ffmpeg hashing a
	// video may allocate (default vpdq.DefaultMaxMemory), as the server's
	// Config.VideoMemory does; a video that needs more is not hashed.
	VideoMemory int64
	// Progress, when set, is called after each file.
	Progress func(done, total int)
}

// Scan hashes every regular file under dir and matches it against the banks,
// offline: images with their dihedral variants, videos (by file name, see
// IsVideo) one frame a second with vPDQ, each frame matched as an image.
// Files are hashed on every core, at most opt.VideoJobs of them videos.
// Files that cannot be hashed are reported with status error.
func Scan(ctx context.Context, dir string, banks []*LocalBank, opt ScanOptions) ([]ScanResult, error) {
	if opt.MinQuality <= 0 {
		opt.MinQuality = DefaultMinQuality
	}
	if opt.VideoJobs <= 0 {
		opt.VideoJobs = DefaultVideoJobs()
	}
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := make([]ScanResult, len(paths))
	images := NewImageHasher(DefaultMaxUpload, opt.DecodeBudget)
	jobs := make(chan int)
	videos := make(chan struct{}, opt.VideoJobs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range max(runtime.GOMAXPROCS(0), 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if IsVideo(paths[i]) {
					videos <- struct{}{}
					out[i] = scanVideo(ctx, paths[i], banks, opt.MinQuality, opt.VideoMemory)
					<-videos
				} else {
					out[i] = scanFile(ctx, images, paths[i], banks, opt.MinQuality)
				}
				if opt.Progress != nil {
					mu.Lock()
					done++
					opt.Progress(done, len(paths))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range paths {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return out, ctx.Err()
}

func scanFile(ctx context.Context, images *ImageHasher, path string, banks []*LocalBank, minQuality int) ScanResult {
	r := ScanResult{Path: path}
	f, err := os.Open(path)
	if err != nil {
		r.Status, r.Error = "error", err.Error()
		return r
	}
	defer f.Close()
	h, err := images.Hash(ctx, f)
	if err != nil {
		r.Status, r.Error = "error", err.Error()
		return r
	}
	r.PDQ, r.Quality, r.MD5, r.SHA256 = h.PDQ.String(), h.Quality, h.MD5, h.SHA256
	if h.Quality < minQuality {
		r.Status = StatusLowQuality
		return r
	}
	ms, sup, err := MatchLocal(banks, h.Variants())
	switch {
	case err != nil:
		r.Status, r.Error = "error", err.Error()
	case len(ms) == 0:
		r.Status = StatusNoMatch
	case sup:
		r.Status = StatusSuppressed
	default:
		r.Status, r.Matches = StatusMatch, ms
	}
	return r
}
