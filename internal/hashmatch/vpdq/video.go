package vpdq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// Limits applied when an [Options] field is zero.
const (
	// DefaultMaxDimension caps the width and the height of the video.
	DefaultMaxDimension = 8192
	// DefaultMaxPixels caps width*height: 8K (8192x4320). A frame costs
	// about 15 bytes per pixel per hashing goroutine.
	DefaultMaxPixels = 8192 * 4320
	// DefaultMaxFrames caps the number of frames hashed: over 9 hours at
	// 30 frames per second.
	DefaultMaxFrames = 1 << 20
	// DefaultMaxFileBytes caps the size of the video file.
	DefaultMaxFileBytes = 8 << 30
	// DefaultTimeout bounds the whole of HashVideo (probe and decoding).
	DefaultTimeout = 30 * time.Minute
	// DefaultMaxMemory bounds what ffprobe and ffmpeg may each allocate:
	// 2 GiB, over twice what decoding 8K frames (H.264, HEVC, VP9, AV1)
	// with maxDecodeThreads threads was measured to take.
	DefaultMaxMemory = 2 << 30
)

const (
	// minDimension is the smallest side the reference hashes (PDQ's
	// minimum).
	minDimension = pdq.MinDimension
	// maxWorkers caps the default number of hashing goroutines.
	maxWorkers = 4
	// maxDecodeThreads caps ffmpeg's decoding threads: a frame-threaded
	// decoder holds frames for each, so its memory grows with them (8K
	// H.264 took 0.6 GB with 4 threads, 1.9 GB with 16), and MaxMemory
	// must hold whatever the machine's cores.
	maxDecodeThreads = 4
	// workerMemory is the frame memory the default worker count is sized
	// to: fewer goroutines hash very large frames.
	workerMemory = 512 << 20
	// bytesPerPixel is the memory one hashing goroutine needs per pixel:
	// the RGB frame (3), its luma (4) and the PDQ blur buffers (8).
	bytesPerPixel = 15
	// probeOutputLimit caps what is read of ffprobe's output.
	probeOutputLimit = 1 << 20
	// stderrLimit is how much of the tools' standard error is kept for
	// error messages.
	stderrLimit = 4 << 10
)

// Errors returned (wrapped, test with errors.Is) by [HashVideo] and
// [Probe]. A missing file gives an error wrapping [io/fs.ErrNotExist], an
// expired context one wrapping the context's error.
var (
	// ErrNoFFmpeg means the ffmpeg or ffprobe program was not found.
	ErrNoFFmpeg = errors.New("vpdq: ffmpeg not found")
	// ErrNotVideo means the file is not a video FFmpeg can read: not a
	// regular file, empty, not a known container, no video stream, or no
	// frame rate.
	ErrNotVideo = errors.New("vpdq: not a video")
	// ErrFormat, which wraps [ErrNotVideo], means FFmpeg recognised the
	// file as something other than one of [Formats]: a playlist (HLS), a
	// concatenation list, an image sequence and the like, whose demuxers
	// open the other files or URLs the file names.
	ErrFormat = fmt.Errorf("%w: not a single-file video container", ErrNotVideo)
	// ErrTooLarge means the file, its frames or their number exceed a
	// limit of [Options].
	ErrTooLarge = errors.New("vpdq: video too large")
	// ErrTooSmall means the frames are narrower or shorter than PDQ's
	// 5-pixel minimum.
	ErrTooSmall = errors.New("vpdq: video frames too small")
	// ErrDecode means ffmpeg failed or produced no frame.
	ErrDecode = errors.New("vpdq: decoding failed")
	// ErrCorrupt means ffmpeg reported errors while decoding, as for a
	// truncated or damaged file, but produced frames: [HashVideo] returns
	// them along with the error, for callers that would rather hash what
	// can be seen than let a damaged file escape matching.
	ErrCorrupt = errors.New("vpdq: video truncated or corrupt")
	// ErrOptions means an [Options] field is out of range.
	ErrOptions = errors.New("vpdq: invalid options")
	// ErrMemory means ffprobe or ffmpeg failed for want of memory: it
	// said it could not allocate what the file needed, under
	// [Options.MaxMemory] or the machine's own limits.
	ErrMemory = errors.New("vpdq: decoder out of memory")
)

// Formats are the FFmpeg demuxers [HashVideo] and [Probe] accept: the
// containers that hold their streams in the one file read, named as in
// FFmpeg's -format_whitelist (a name matches a demuxer any of whose names
// it is). They are MP4, QuickTime, M4V, 3GP and 3G2 (mov: its external
// data references, which FFmpeg follows only with -enable_drefs, stay
// off); Matroska and WebM (matroska); AVI; Flash Video (flv); MPEG
// transport streams, M2TS included (mpegts); MPEG program streams, VOB
// included (mpeg); Ogg; and ASF, WMV (asf). Anything else is refused with
// [ErrFormat] before it is decoded, above all the demuxers that read other
// files: hls, dash, concat, image2 and their kind, which would make
// whoever supplies the file able to have other local files hashed (and
// learn whether they exist). Raw elementary streams (a bare .h264) and
// animated images are refused too.
var Formats = []string{"mov", "matroska", "avi", "flv", "mpegts", "mpeg", "ogg", "asf"}

// formatWhitelist is Formats as FFmpeg's -format_whitelist takes it.
var formatWhitelist = strings.Join(Formats, ",")

// demuxer returns the name of Formats that FFmpeg's format_name (a
// comma-separated list of a demuxer's names, "mov,mp4,m4a,3gp,3g2,mj2")
// matches, or "" when it matches none.
func demuxer(formatName string) string {
	for _, name := range strings.Split(formatName, ",") {
		for _, f := range Formats {
			if name == f {
				return f
			}
		}
	}
	return ""
}

// Options configures [HashVideo] and [Probe]. The zero value hashes every
// frame at its full size with the default limits, running the ffmpeg and
// ffprobe found on $PATH.
type Options struct {
	// SecondsPerHash selects the frames hashed: 0 hashes every frame;
	// otherwise every k-th decoded frame, k = int(SecondsPerHash * fps)
	// (at least 1), as the reference does. Must be >= 0.
	SecondsPerHash float64
	// Downsample, when positive, resizes frames to Downsample x Downsample
	// (aspect ratio not kept) before hashing, like the reference's
	// -d/--downsample-width and -height options (its sample hashes
	// *-128x128.txt use 128). 0 hashes frames at their size. Must be 0 or
	// in [5, MaxDimension].
	Downsample int
	// MaxFrames caps the number of frames hashed; a longer video is
	// refused with [ErrTooLarge]. Default [DefaultMaxFrames].
	MaxFrames int
	// MaxDimension caps the width and the height of the video, MaxPixels
	// their product. Defaults [DefaultMaxDimension], [DefaultMaxPixels].
	MaxDimension int
	MaxPixels    int
	// MaxFileBytes caps the file's size. Default [DefaultMaxFileBytes].
	MaxFileBytes int64
	// Timeout bounds the whole call, on top of the context's deadline.
	// Default [DefaultTimeout].
	Timeout time.Duration
	// MaxMemory bounds, in bytes, what each of ffprobe and ffmpeg may
	// allocate (on Linux, its RLIMIT_DATA, set as it starts; elsewhere it
	// is not enforced): a file that would take more is refused with
	// [ErrMemory]. Default [DefaultMaxMemory]. ffmpeg decodes with at most
	// 4 threads, whatever the cores, so that its memory does not grow with
	// them.
	MaxMemory int64
	// Workers is the number of goroutines hashing frames while ffmpeg
	// decodes. Default: GOMAXPROCS, at most 4, fewer for frames so large
	// that the buffers would pass 512 MiB.
	Workers int
	// FFmpeg and FFprobe are the programs to run, looked up on $PATH when
	// they contain no slash. Defaults "ffmpeg" and "ffprobe".
	FFmpeg  string
	FFprobe string
	// File, when set, is the video as an open file, which need have no
	// name: a server unlinks an uploaded video as soon as it makes its
	// file, so that a crash leaves nothing of it behind. ffprobe and
	// ffmpeg are handed it as their descriptor 3 and read it by
	// /proc/self/fd/3 (Linux); the path HashVideo is given then only
	// names the video in errors.
	File *os.File
}

// fdInput is the input argument of ffprobe and ffmpeg for Options.File:
// their descriptor 3 (exec.Cmd.ExtraFiles), opened anew by its /proc
// link, so that each seeks on its own.
const fdInput = "file:/proc/self/fd/3"

// extraFiles is what ffprobe and ffmpeg are handed beside their standard
// streams: Options.File, when set.
func (o Options) extraFiles() []*os.File {
	if o.File == nil {
		return nil
	}
	return []*os.File{o.File}
}

func (o Options) withDefaults() (Options, error) {
	if !(o.SecondsPerHash >= 0) || math.IsInf(o.SecondsPerHash, 1) {
		return o, fmt.Errorf("%w: SecondsPerHash %v", ErrOptions, o.SecondsPerHash)
	}
	if o.MaxFrames < 0 || o.MaxDimension < 0 || o.MaxPixels < 0 || o.MaxFileBytes < 0 ||
		o.Timeout < 0 || o.Workers < 0 || o.MaxMemory < 0 {
		return o, fmt.Errorf("%w: negative limit", ErrOptions)
	}
	if o.MaxFrames == 0 {
		o.MaxFrames = DefaultMaxFrames
	}
	if o.MaxDimension == 0 {
		o.MaxDimension = DefaultMaxDimension
	}
	if o.MaxPixels == 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	if o.MaxFileBytes == 0 {
		o.MaxFileBytes = DefaultMaxFileBytes
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxMemory == 0 {
		o.MaxMemory = DefaultMaxMemory
	}
	if o.Downsample != 0 && (o.Downsample < minDimension || o.Downsample > o.MaxDimension ||
		o.Downsample*o.Downsample > o.MaxPixels) {
		return o, fmt.Errorf("%w: Downsample %d", ErrOptions, o.Downsample)
	}
	if o.FFmpeg == "" {
		o.FFmpeg = "ffmpeg"
	}
	if o.FFprobe == "" {
		o.FFprobe = "ffprobe"
	}
	return o, nil
}

// Info describes the video stream [HashVideo] hashes.
type Info struct {
	// Stream is the index of the stream in the file: the first video
	// stream that is not an attached picture (cover art).
	Stream int
	// Codec is FFmpeg's name for the stream's codec, Format the
	// container's (its demuxer's names, "mov,mp4,m4a,3gp,3g2,mj2").
	Codec  string
	Format string
	// demuxer is the name of [Formats] that Format matched, which the
	// decoding forces.
	demuxer string
	// Width and Height are the coded frame size, before any rotation
	// metadata (which, like the reference, HashVideo ignores).
	Width, Height int
	// FPS is the average frame rate (the real base frame rate when the
	// average is unknown), which converts frame numbers to timestamps.
	FPS float64
	// Duration is the container's duration in seconds, 0 when unknown.
	Duration float64
}

// Probe runs ffprobe on the file at path and describes its video stream,
// checking it against the limits of opt.
func Probe(ctx context.Context, path string, opt Options) (Info, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return Info{}, err
	}
	ffprobe, err := lookTool(opt.FFprobe)
	if err != nil {
		return Info{}, err
	}
	input, err := checkFile(path, opt.MaxFileBytes)
	if err != nil {
		return Info{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	return probe(ctx, ffprobe, input, path, opt)
}

// HashVideo hashes the video at path as the reference vpdq-hash-video does
// (see the package documentation), returning its frames in order.
//
// When ffmpeg reports decoding errors (a truncated file, say) but still
// produces frames, HashVideo returns those frames together with an error
// wrapping [ErrCorrupt]; on any other error it returns no frames.
//
// The file is read by ffprobe and ffmpeg (opt.FFprobe, opt.FFmpeg), which
// are killed when ctx is done or opt.Timeout has passed. Decoded frames are
// streamed from ffmpeg and never all held in memory. Errors wrap
// [ErrNoFFmpeg], [ErrNotVideo], [ErrTooLarge], [ErrTooSmall], [ErrDecode],
// [ErrOptions], [io/fs.ErrNotExist] or the context's error.
func HashVideo(ctx context.Context, path string, opt Options) ([]Frame, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	ffprobe, err := lookTool(opt.FFprobe)
	if err != nil {
		return nil, err
	}
	ffmpeg, err := lookTool(opt.FFmpeg)
	if err != nil {
		return nil, err
	}
	var input string
	if opt.File != nil {
		fi, err := opt.File.Stat()
		if err != nil {
			return nil, fmt.Errorf("vpdq: %w", err)
		}
		if err := checkInfo(fi, path, opt.MaxFileBytes); err != nil {
			return nil, err
		}
		input = fdInput
	} else if input, err = checkFile(path, opt.MaxFileBytes); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opt.Timeout)
	defer cancel()
	info, err := probe(ctx, ffprobe, input, path, opt)
	if err != nil {
		return nil, err
	}
	return decode(ctx, ffmpeg, input, path, info, opt)
}

// lookTool resolves a program name or path.
func lookTool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrNoFFmpeg, err)
	}
	return p, nil
}

// checkFile checks that path names a non-empty regular file within the size
// limit and returns the input argument for FFmpeg: the absolute path with
// the file: protocol, so that no name is taken for an option, for standard
// input or for another protocol.
func checkFile(path string, maxBytes int64) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("vpdq: %w", err)
	}
	if err := checkInfo(fi, path, maxBytes); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("vpdq: %w", err)
	}
	return "file:" + abs, nil
}

// checkInfo checks that fi, of the video path names, is a non-empty
// regular file within the size limit.
func checkInfo(fi os.FileInfo, path string, maxBytes int64) error {
	switch {
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%w: %s is not a regular file", ErrNotVideo, path)
	case fi.Size() == 0:
		return fmt.Errorf("%w: %s is empty", ErrNotVideo, path)
	case fi.Size() > maxBytes:
		return fmt.Errorf("%w: %s has %d bytes, limit %d", ErrTooLarge, path, fi.Size(), maxBytes)
	}
	return nil
}

// probeOutput is the part of ffprobe's JSON output read.
type probeOutput struct {
	Streams []struct {
		Index        int    `json:"index"`
		CodecName    string `json:"codec_name"`
		CodecType    string `json:"codec_type"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		Disposition  struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// probe runs ffprobe on the file. Only the file protocol and the
// demuxers of Formats are allowed, so that a playlist or a concatenation
// list is refused when its format is recognised, before its demuxer reads
// the files it names.
func probe(ctx context.Context, ffprobe, input, path string, opt Options) (Info, error) {
	cmd := exec.CommandContext(ctx, ffprobe,
		"-v", "error", "-hide_banner",
		"-protocol_whitelist", "file",
		"-format_whitelist", formatWhitelist,
		"-select_streams", "v",
		"-show_entries", "stream=index,codec_name,codec_type,width,height,avg_frame_rate,r_frame_rate"+
			":stream_disposition=attached_pic:format=format_name,duration",
		"-of", "json",
		input)
	stdout := &limitedBuffer{limit: probeOutputLimit}
	stderr := &limitedBuffer{limit: stderrLimit}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.ExtraFiles = opt.extraFiles()
	cmd.WaitDelay = time.Second
	if err := start(cmd, opt.MaxMemory); err != nil {
		return Info{}, fmt.Errorf("vpdq: running ffprobe: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return Info{}, fmt.Errorf("vpdq: probing %s: %w", path, ctxErr)
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			kind := ErrNotVideo
			switch {
			case bytes.Contains(stderr.buf, []byte("not on whitelist")):
				kind = ErrFormat
			case outOfMemory(stderr.buf):
				kind = ErrMemory
			}
			return Info{}, fmt.Errorf("%w: %s: ffprobe: %s", kind, path, stderr.message(err))
		}
		return Info{}, fmt.Errorf("vpdq: running ffprobe: %w", err)
	}
	if stdout.truncated {
		return Info{}, fmt.Errorf("%w: %s: ffprobe output too long", ErrNotVideo, path)
	}
	var out probeOutput
	if err := json.Unmarshal(stdout.buf, &out); err != nil {
		return Info{}, fmt.Errorf("vpdq: reading ffprobe output for %s: %w", path, err)
	}
	// The whitelist already refused other formats; an ffprobe that
	// ignored it is caught here, before anything is decoded.
	dmx := demuxer(out.Format.FormatName)
	if dmx == "" {
		return Info{}, fmt.Errorf("%w: %s: format %q", ErrFormat, path, out.Format.FormatName)
	}
	for _, s := range out.Streams {
		if s.CodecType != "video" || s.Disposition.AttachedPic != 0 {
			continue
		}
		info := Info{
			Stream: s.Index, Codec: s.CodecName, Format: out.Format.FormatName, demuxer: dmx,
			Width: s.Width, Height: s.Height,
		}
		if d, err := strconv.ParseFloat(out.Format.Duration, 64); err == nil && d > 0 && !math.IsInf(d, 0) {
			info.Duration = d
		}
		info.FPS = parseRate(s.AvgFrameRate)
		if info.FPS == 0 {
			info.FPS = parseRate(s.RFrameRate)
		}
		switch {
		case info.Width <= 0 || info.Height <= 0:
			return Info{}, fmt.Errorf("%w: %s: video stream has no frame size", ErrNotVideo, path)
		case info.Width > opt.MaxDimension || info.Height > opt.MaxDimension ||
			int64(info.Width)*int64(info.Height) > int64(opt.MaxPixels):
			return Info{}, fmt.Errorf("%w: %s: frames are %dx%d, limit %d per side and %d pixels",
				ErrTooLarge, path, info.Width, info.Height, opt.MaxDimension, opt.MaxPixels)
		case info.Width < minDimension || info.Height < minDimension:
			return Info{}, fmt.Errorf("%w: %s: frames are %dx%d", ErrTooSmall, path, info.Width, info.Height)
		case info.FPS == 0:
			return Info{}, fmt.Errorf("%w: %s: video stream has no frame rate", ErrNotVideo, path)
		}
		return info, nil
	}
	return Info{}, fmt.Errorf("%w: %s has no video stream", ErrNotVideo, path)
}

// parseRate parses an FFmpeg rational "num/den", returning 0 for anything
// that is not a positive finite rate.
func parseRate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.ParseInt(num, 10, 64)
	d, err2 := strconv.ParseInt(den, 10, 64)
	if err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// frameStep is the reference's frameMod: hash every frameStep-th frame.
func frameStep(secondsPerHash, fps float64) int {
	v := secondsPerHash * fps
	if !(v >= 1) {
		return 1
	}
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(v)
}

// ffmpegArgs returns the arguments that make ffmpeg write every step-th
// decoded frame of the stream as packed RGB24 frames of width x height on
// its standard output, converted the way the reference's sws_scale call
// does: no automatic rotation, BT.601 coefficients whatever the stream's
// tags, and SWS_LANCZOS, the method the reference used for its sample
// hashes (its *-128x128.txt files are reproduced bit for bit; upstream has
// since moved to SWS_AREA). SWS_ACCURATE_RND avoids libswscale's inexact
// SIMD YUV-to-RGB shortcut, whose output varies with the CPU and the FFmpeg
// version: with it the full-size doorknob sample hashes are reproduced bit
// for bit too (every frame of quality >= 50), and those of the newer
// test-padded-dimensions sample, made with the shortcut, stay within 4
// bits. The explicit scale keeps every frame at the same size even if the
// stream changes size midway. The input is read with the demuxer the probe
// found (-f), and only with it and the file protocol, so that ffmpeg reads
// nothing but the file probed.
//
// The decoder runs on at most maxDecodeThreads threads and the output's
// (a copy of each frame) on one, so that ffmpeg's memory stays within
// MaxMemory whatever the machine's cores; the threads do not change the
// decoded frames.
func ffmpegArgs(input string, info Info, width, height, step, maxFrames int) []string {
	vf := fmt.Sprintf("scale=%d:%d:flags=lanczos+accurate_rnd:in_color_matrix=bt601,format=rgb24", width, height)
	if step > 1 {
		vf = fmt.Sprintf(`select=not(mod(n\,%d)),`, step) + vf
	}
	return []string{
		"-nostdin", "-hide_banner", "-loglevel", "error",
		"-protocol_whitelist", "file",
		"-format_whitelist", formatWhitelist,
		"-f", info.demuxer,
		"-noautorotate",
		"-threads", strconv.Itoa(min(runtime.GOMAXPROCS(0), maxDecodeThreads)),
		"-i", input,
		"-map", "0:" + strconv.Itoa(info.Stream),
		"-an", "-sn", "-dn",
		"-vsync", "passthrough",
		"-vf", vf,
		"-frames:v", strconv.Itoa(maxFrames + 1),
		"-pix_fmt", "rgb24",
		"-threads", "1",
		"-f", "rawvideo",
		"-",
	}
}

func decode(ctx context.Context, ffmpeg, input, path string, info Info, opt Options) ([]Frame, error) {
	width, height := info.Width, info.Height
	if opt.Downsample > 0 {
		width, height = opt.Downsample, opt.Downsample
	}
	step := frameStep(opt.SecondsPerHash, info.FPS)
	workers := opt.Workers
	if workers == 0 {
		workers = min(runtime.GOMAXPROCS(0), maxWorkers, max(1, workerMemory/(bytesPerPixel*width*height)))
	}

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(runCtx, ffmpeg, ffmpegArgs(input, info, width, height, step, opt.MaxFrames)...)
	stderr := &limitedBuffer{limit: stderrLimit}
	cmd.Stderr = stderr
	cmd.ExtraFiles = opt.extraFiles()
	cmd.WaitDelay = time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("vpdq: %w", err)
	}
	if err := start(cmd, opt.MaxMemory); err != nil {
		return nil, fmt.Errorf("vpdq: starting ffmpeg: %w", err)
	}

	h := &frameHasher{width: width, height: height, step: step, fps: info.FPS}
	readErr := h.run(stdout, workers, opt.MaxFrames)
	if readErr != nil {
		cancel() // stop ffmpeg rather than wait for it to finish
	}
	waitErr := cmd.Wait()
	switch {
	case ctx.Err() != nil: // the caller's context or opt.Timeout
		return nil, fmt.Errorf("vpdq: hashing %s: %w", path, ctx.Err())
	case readErr != nil && !errors.Is(readErr, errPipe):
		return nil, fmt.Errorf("%w (%s)", readErr, path)
	case waitErr != nil && outOfMemory(stderr.buf):
		return nil, fmt.Errorf("%w: %s: ffmpeg: %s", ErrMemory, path, stderr.message(waitErr))
	case waitErr != nil:
		return nil, fmt.Errorf("%w: %s: ffmpeg: %s", ErrDecode, path, stderr.message(waitErr))
	case readErr != nil:
		return nil, fmt.Errorf("%w: %s: %v", ErrDecode, path, readErr)
	case len(h.frames) == 0:
		return nil, fmt.Errorf("%w: %s: no frame decoded: ffmpeg: %s", ErrDecode, path, stderr.message(nil))
	case len(bytes.TrimSpace(stderr.buf)) > 0:
		return h.frames, fmt.Errorf("%w: %s: ffmpeg: %s", ErrCorrupt, path, stderr.message(nil))
	}
	return h.frames, nil
}

// start starts cmd and bounds its memory to max bytes (limitMemory); a
// process whose memory cannot be bounded is killed.
func start(cmd *exec.Cmd, max int64) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := limitMemory(cmd.Process.Pid, max); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("bounding its memory: %w", err)
	}
	return nil
}

// memoryWords are what ffprobe, ffmpeg and the dynamic loader print when
// an allocation fails, as they were seen to under RLIMIT_DATA: "Cannot
// allocate memory" (ENOMEM), "Could not allocate ...", "Failed to allocate
// packet", "get_buffer() failed" (a decoder's frame pool), "Resource
// temporarily unavailable" (a thread not created), "failed to map segment
// from shared object" (a library not loaded). Lower case.
var memoryWords = []string{"alloc", "out of memory", "get_buffer", "resource temporarily unavailable", "failed to map segment"}

// outOfMemory tells whether a tool's error output says it ran out of
// memory.
func outOfMemory(stderr []byte) bool {
	s := strings.ToLower(string(stderr))
	for _, w := range memoryWords {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

// errPipe marks a failure to read ffmpeg's output, which ffmpeg's exit
// status usually explains better.
var errPipe = errors.New("reading ffmpeg output")

// frameHasher hashes the RGB24 frames read from ffmpeg with a few
// goroutines, each with its own PDQ hasher and luma buffer.
type frameHasher struct {
	width, height, step int
	fps                 float64

	mu     sync.Mutex
	frames []Frame
	err    error
	failed atomic.Bool
}

type frameJob struct {
	seq int
	rgb []byte
}

// run reads frames from r until EOF, hashing them on workers goroutines,
// and returns the first error.
func (h *frameHasher) run(r io.Reader, workers, maxFrames int) error {
	size := h.width * h.height * 3
	free := make(chan []byte, workers+1)
	for range workers + 1 {
		free <- nil // allocated on first use
	}
	jobs := make(chan frameJob)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var hasher pdq.Hasher
			luma := make([]float32, h.width*h.height)
			for job := range jobs {
				if !h.failed.Load() {
					h.hash(&hasher, luma, job)
				}
				free <- job.rgb
			}
		})
	}

	var err error
	for seq := 0; ; seq++ {
		buf := <-free
		if buf == nil {
			buf = make([]byte, size)
		}
		_, rerr := io.ReadFull(r, buf)
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			if rerr == io.ErrUnexpectedEOF {
				rerr = errors.New("ffmpeg output ends in the middle of a frame")
			}
			err = fmt.Errorf("%w: %w", errPipe, rerr)
			break
		}
		if seq >= maxFrames {
			err = fmt.Errorf("%w: more than %d frames", ErrTooLarge, maxFrames)
			break
		}
		if h.failed.Load() {
			break
		}
		jobs <- frameJob{seq: seq, rgb: buf}
	}
	close(jobs)
	wg.Wait()
	if h.err != nil {
		return h.err
	}
	return err
}

// lumaTable holds the three float32 products of the reference's
// fillFloatLumaFromRGB for each 8-bit value; it sums them left to right, so
// a pixel's luma is float32(R[r]+G[g]) + B[b], bit for bit.
var lumaTable = func() (t [3][256]float32) {
	const r, g, b float32 = 0.299, 0.587, 0.114
	for i := range 256 {
		v := float32(i)
		t[0][i] = r * v
		t[1][i] = g * v
		t[2][i] = b * v
	}
	return t
}()

func (h *frameHasher) hash(hasher *pdq.Hasher, luma []float32, job frameJob) {
	tr, tg, tb := &lumaTable[0], &lumaTable[1], &lumaTable[2]
	rgb := job.rgb[:len(luma)*3]
	for i := range luma {
		p := rgb[3*i : 3*i+3 : 3*i+3]
		luma[i] = float32(tr[p[0]]+tg[p[1]]) + tb[p[2]]
	}
	hash, quality, err := hasher.FromLuma(luma, h.width, h.height)
	index := job.seq * h.step

	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if h.err == nil {
			h.err = fmt.Errorf("vpdq: hashing frame %d: %w", index, err)
			h.failed.Store(true)
		}
		return
	}
	for len(h.frames) <= job.seq {
		h.frames = append(h.frames, Frame{})
	}
	h.frames[job.seq] = Frame{
		Index:   index,
		Hash:    hash,
		Quality: quality,
		Seconds: float64(index) / h.fps,
	}
}

// limitedBuffer is an io.Writer keeping the first limit bytes written.
type limitedBuffer struct {
	limit     int
	buf       []byte
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if room := b.limit - len(b.buf); len(p) > room {
		p = p[:max(room, 0)]
		b.truncated = true
	}
	b.buf = append(b.buf, p...)
	return n, nil
}

// message returns the first lines of the tool's error output on one line,
// or err's text when there is none.
func (b *limitedBuffer) message(err error) string {
	lines := strings.Split(strings.TrimSpace(string(b.buf)), "\n")
	if lines[0] == "" {
		if err == nil {
			return "no error output"
		}
		return err.Error()
	}
	const maxLines = 3
	if len(lines) > maxLines {
		lines, b.truncated = lines[:maxLines], true
	}
	msg := strings.Join(lines, "; ")
	if b.truncated {
		msg += "; ..."
	}
	return msg
}
