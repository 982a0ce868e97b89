package vpdq

import (
	"context"
	"testing"
)

// BenchmarkHashVideo hashes every frame of the doorknob sample (1280x720,
// 120 frames of H.264), decoding by ffmpeg included, and reports frames
// per second.
func BenchmarkHashVideo(b *testing.B) {
	path := refVideo(b, "doorknob-hd-no-bar.mp4")
	frames := 0
	for b.Loop() {
		got, err := HashVideo(context.Background(), path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		frames += len(got)
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
}
