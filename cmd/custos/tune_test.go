package main

import (
	"flag"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/transplant"
)

// TestTuneFlagsSetTheConfig checks that each tuning flag lands, in its unit,
// in the configuration a server is opened with.
func TestTuneFlagsSetTheConfig(t *testing.T) {
	parse := func(args ...string) server.Config {
		t.Helper()
		fs := flag.NewFlagSet("serve", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var tf tuneFlags
		tf.add(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		var cfg server.Config
		if err := tf.apply(&cfg); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return cfg
	}
	want := hashmatch.Config{MinQuality: 60, SuppressionRadius: 8, QuarantineLimit: 10, QuarantineWindow: time.Hour,
		MaxUpload: 3 << 20, MaxPixels: 50_000_000, DecodeBudget: 200 << 20, MaxVideoUpload: 64 << 20,
		MaxBatchUpload: 10 << 20, VideoTimeout: time.Minute, VideoJobs: 3, VideoMemory: 512 << 20}
	cfg := parse("--hm-min-quality", "60", "--hm-suppression-radius", "8", "--hm-quarantine-limit", "10",
		"--hm-quarantine-window", "1h", "--hm-max-upload-mib", "3", "--hm-max-pixels-mp", "50", "--hm-decode-budget-mib", "200",
		"--hm-max-video-upload-mib", "64", "--hm-max-batch-upload-mib", "10", "--hm-video-timeout", "1m", "--hm-video-jobs", "3",
		"--hm-video-memory-mib", "512", "--large-bodies", "2")
	if cfg.Hashmatch != want || cfg.LargeBodies != 2 {
		t.Errorf("flags gave %+v, large bodies %d;\nwant %+v, 2", cfg.Hashmatch, cfg.LargeBodies, want)
	}
	// The pixel budget's flag of old still works, at 8 bytes a pixel.
	if cfg := parse("--hm-decode-budget-mp", "100"); cfg.Hashmatch.DecodeBudget != 800<<20 {
		t.Errorf("--hm-decode-budget-mp 100 gave a budget of %d bytes, want %d", cfg.Hashmatch.DecodeBudget, 800<<20)
	}
	// Without flags, the built-in values.
	cfg = parse()
	def := hashmatch.Config{MinQuality: hashmatch.DefaultMinQuality, SuppressionRadius: hashmatch.DefaultSuppressionRadius,
		QuarantineLimit: hashmatch.DefaultQuarantineLimit, QuarantineWindow: hashmatch.DefaultQuarantineWindow,
		MaxUpload: hashmatch.DefaultMaxUpload, MaxPixels: 100_000_000, DecodeBudget: hashmatch.DefaultDecodeBudget,
		MaxVideoUpload: hashmatch.DefaultMaxVideoUpload, MaxBatchUpload: hashmatch.DefaultMaxBatchUpload,
		VideoTimeout: hashmatch.DefaultVideoTimeout, VideoJobs: hashmatch.DefaultVideoJobs(), VideoMemory: vpdq.DefaultMaxMemory}
	if cfg.Hashmatch != def {
		t.Errorf("defaults gave %+v, want %+v", cfg.Hashmatch, def)
	}
	if cfg.Threshold() != disclosure.DefaultThreshold {
		t.Errorf("the disclosure threshold without the flag is %d, want %d", cfg.Threshold(), disclosure.DefaultThreshold)
	}
	if cfg = parse("--disclosure-threshold", "11"); cfg.Threshold() != 11 {
		t.Errorf("--disclosure-threshold 11 gave %d", cfg.Threshold())
	}
	if want := (transplant.Config{DispositionAfter: transplant.DefaultDispositionAfter, AcknowledgeWithin: transplant.DefaultAcknowledgeWithin,
		FollowUpMonths: transplant.DefaultFollowUpMonths, FollowUpWindow: transplant.DefaultFollowUpWindow}); !reflect.DeepEqual(cfg.Transplant, want) {
		t.Errorf("the vigilance deadlines without flags are %+v, want %+v", cfg.Transplant, want)
	}
	if cfg := parse("--disposition-after", "48h", "--sae-acknowledge-within", "2h", "--followup-months", "3,12", "--followup-window", "240h"); !reflect.DeepEqual(cfg.Transplant,
		transplant.Config{DispositionAfter: 48 * time.Hour, AcknowledgeWithin: 2 * time.Hour, FollowUpMonths: []int{3, 12}, FollowUpWindow: 240 * time.Hour}) {
		t.Errorf("--disposition-after 48h --sae-acknowledge-within 2h --followup-months 3,12 --followup-window 240h gave %+v", cfg.Transplant)
	}
	if cfg := parse("--reimburse-funeral"); !cfg.Transplant.FuneralExpenses {
		t.Errorf("--reimburse-funeral gave %+v", cfg.Transplant)
	}
	if cfg.Zone != time.UTC {
		t.Errorf("the default zone is %v, want UTC", cfg.Zone)
	}
	if cfg = parse("--zone", "Africa/Dakar"); cfg.Zone == nil || cfg.Zone.String() != "Africa/Dakar" {
		t.Errorf("--zone Africa/Dakar gave %v", cfg.Zone)
	}
}
