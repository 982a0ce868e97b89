package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/zone"
)

// tuneFlags are the limits and thresholds an operator may change on a
// server (serve, demo), and the registry's time zone. Each flag's default
// is the built-in value, so that --help shows what a server runs with.
type tuneFlags struct {
	zone                                     string
	minQuality, suppression, quarantineLimit int
	quarantineWindow, videoTimeout           time.Duration
	maxUploadMiB, maxVideoMiB, maxBatchMiB   int64
	maxPixelsMP, decodeBudgetMiB             int64
	decodeBudgetMP                           int64 // deprecated: --hm-decode-budget-mib
	videoJobs                                int
	videoMemoryMiB                           int64
	largeBodies                              int
	disclosureThreshold                      int
	sdmxAgency                               string
	dispositionAfter, acknowledgeWithin      time.Duration
	followUpMonths                           string
	followUpWindow                           time.Duration
	reimburseFuneral                         bool
	indexDir                                 string
}

func (t *tuneFlags) add(fs *flag.FlagSet) {
	fs.IntVar(&t.minQuality, "hm-min-quality", hashmatch.DefaultMinQuality, "hash matching: refuse PDQ hashes of lower quality (1-100)")
	fs.IntVar(&t.suppression, "hm-suppression-radius", hashmatch.DefaultSuppressionRadius, "hash matching: distance within which a service's own suppression list cancels a match (1-256)")
	fs.IntVar(&t.quarantineLimit, "hm-quarantine-limit", hashmatch.DefaultQuarantineLimit, "hash matching: matches of one bank entry within the quarantine window that quarantine it, each service's counted up to half of it (at least 2)")
	fs.DurationVar(&t.quarantineWindow, "hm-quarantine-window", hashmatch.DefaultQuarantineWindow, "hash matching: the window of --hm-quarantine-limit")
	fs.Int64Var(&t.maxUploadMiB, "hm-max-upload-mib", hashmatch.DefaultMaxUpload>>20, "hash matching: largest uploaded image, in MiB")
	fs.Int64Var(&t.maxPixelsMP, "hm-max-pixels-mp", pdq.DefaultMaxPixels/1_000_000, "hash matching: refuse an uploaded image that declares more megapixels")
	fs.Int64Var(&t.decodeBudgetMiB, "hm-decode-budget-mib", hashmatch.DefaultDecodeBudget>>20, "hash matching: MiB of decoder memory for the uploaded images decoded at once, each counted by what its header says its decoder takes; more wait; an eighth is kept for images of a sixteenth or less, and an image that would take more than seven eighths alone is refused")
	fs.Int64Var(&t.decodeBudgetMP, "hm-decode-budget-mp", 0, "deprecated, use --hm-decode-budget-mib: N megapixels set it to 8N MiB, 8 bytes a pixel being the most the old pixel budget's documentation allowed for")
	fs.IntVar(&t.videoJobs, "hm-video-jobs", hashmatch.DefaultVideoJobs(), "hash matching: uploaded videos received and hashed at once (default half the cores); one more waits 10 s for a turn before its body is read, then is refused with 503 busy")
	fs.Int64Var(&t.videoMemoryMiB, "hm-video-memory-mib", vpdq.DefaultMaxMemory>>20, "hash matching: MiB that each ffprobe and ffmpeg hashing an uploaded video may allocate (Linux: its RLIMIT_DATA; ffmpeg decodes on at most 4 threads); a video that needs more is refused (413 video_memory)")
	fs.Int64Var(&t.maxVideoMiB, "hm-max-video-upload-mib", hashmatch.DefaultMaxVideoUpload>>20, "hash matching: largest uploaded video, in MiB")
	fs.Int64Var(&t.maxBatchMiB, "hm-max-batch-upload-mib", hashmatch.DefaultMaxBatchUpload>>20, "hash matching: largest body of a batch of uploaded images, in MiB")
	fs.DurationVar(&t.videoTimeout, "hm-video-timeout", hashmatch.DefaultVideoTimeout, "hash matching: longest time receiving one uploaded video may take, and then hashing it")
	fs.StringVar(&t.indexDir, "hm-index-dir", "", "hash matching: directory where each bank's PDQ index is saved and memory-mapped from, so a restart maps it instead of rebuilding (empty: build in memory at start)")
	fs.IntVar(&t.disclosureThreshold, "disclosure-threshold", disclosure.DefaultThreshold, "published aggregates: counts from 1 to one less than this are suppressed, with the cells that would reveal them (docs/exports.md)")
	fs.StringVar(&t.sdmxAgency, "sdmx-agency", stats.SDMXAgency, "statistics: the SDMX agency id that maintains the structure and dataflow the SDMX files name, the statistics office's own (XA_NSO, or a sub-agency UNODC.XA; docs/stats.md)")
	zoneDef := "UTC"
	if env := os.Getenv("CUSTOS_ZONE"); env != "" {
		zoneDef = env
	}
	fs.StringVar(&t.zone, "zone", zoneDef, "the registry's time zone, an IANA name such as Africa/Dakar: the web pages show times in it, for principals who chose none (env CUSTOS_ZONE); the log and the API keep UTC")
	fs.DurationVar(&t.dispositionAfter, "disposition-after", transplant.DefaultDispositionAfter, "organ registry: list an organ procured this long ago with neither a transplantation nor a final disposition as awaiting one (docs/vigilance.md)")
	fs.DurationVar(&t.acknowledgeWithin, "sae-acknowledge-within", transplant.DefaultAcknowledgeWithin, "organ registry: escalate to the regulator, as an alert, a notification of a serious adverse event or reaction not acknowledged this long after it was sent")
	fs.StringVar(&t.followUpMonths, "followup-months", "6,12,24", "organ registry: the months after a transplantation or living donation at which follow-up falls due, then every 12 months after the last (docs/oversight.md)")
	fs.DurationVar(&t.followUpWindow, "followup-window", transplant.DefaultFollowUpWindow, "organ registry: a follow-up is on time within this long either side of its due date; after it, overdue")
	fs.BoolVar(&t.reimburseFuneral, "reimburse-funeral", false, "organ registry: the law allows reimbursing a deceased donor's funeral to their family; without it such a reimbursement is refused and alerted (docs/oversight.md)")
	fs.IntVar(&t.largeBodies, "large-bodies", server.DefaultLargeBodies, "API request bodies over 1 MiB handled at once, each received whole into a temporary file first; 4 times as many are received at once; more are refused with 503 and Retry-After")
}

// apply checks every value, naming the flag of the first one out of range,
// and sets them on cfg.
func (t *tuneFlags) apply(cfg *server.Config) error {
	positive := []struct {
		name string
		v    int64
	}{
		{"hm-min-quality", int64(t.minQuality)}, {"hm-suppression-radius", int64(t.suppression)},
		{"hm-quarantine-limit", int64(t.quarantineLimit)}, {"hm-quarantine-window", int64(t.quarantineWindow)},
		{"hm-max-upload-mib", t.maxUploadMiB}, {"hm-max-pixels-mp", t.maxPixelsMP}, {"hm-decode-budget-mib", t.decodeBudgetMiB},
		{"hm-video-jobs", int64(t.videoJobs)}, {"hm-video-memory-mib", t.videoMemoryMiB},
		{"hm-max-video-upload-mib", t.maxVideoMiB}, {"hm-max-batch-upload-mib", t.maxBatchMiB},
		{"hm-video-timeout", int64(t.videoTimeout)}, {"large-bodies", int64(t.largeBodies)},
		{"disclosure-threshold", int64(t.disclosureThreshold)},
		{"disposition-after", int64(t.dispositionAfter)}, {"sae-acknowledge-within", int64(t.acknowledgeWithin)},
	}
	for _, p := range positive {
		if p.v <= 0 {
			return &exitError{2, fmt.Sprintf("--%s must be positive", p.name)}
		}
	}
	budget := t.decodeBudgetMiB << 20
	switch {
	case t.decodeBudgetMP < 0:
		return &exitError{2, "--hm-decode-budget-mp must be positive"}
	case t.decodeBudgetMP > 0 && t.decodeBudgetMiB != hashmatch.DefaultDecodeBudget>>20:
		return &exitError{2, "give --hm-decode-budget-mib alone: --hm-decode-budget-mp is its deprecated form"}
	case t.decodeBudgetMP > 0:
		budget = t.decodeBudgetMP * 8 << 20
	}
	switch {
	case t.minQuality > 100:
		return &exitError{2, "--hm-min-quality must be at most 100"}
	case t.quarantineLimit < 2:
		return &exitError{2, "--hm-quarantine-limit must be at least 2: one service's matches count for at most half of it"}
	case t.suppression > 256:
		return &exitError{2, "--hm-suppression-radius must be at most 256, the bits of a PDQ hash"}
	}
	cfg.Hashmatch = hashmatch.Config{
		MinQuality: t.minQuality, SuppressionRadius: t.suppression,
		QuarantineLimit: t.quarantineLimit, QuarantineWindow: t.quarantineWindow,
		MaxUpload: t.maxUploadMiB << 20, MaxPixels: t.maxPixelsMP * 1_000_000, DecodeBudget: budget,
		MaxVideoUpload: t.maxVideoMiB << 20, MaxBatchUpload: t.maxBatchMiB << 20, VideoTimeout: t.videoTimeout,
		VideoJobs: t.videoJobs, VideoMemory: t.videoMemoryMiB << 20,
		IndexDir: t.indexDir,
	}
	cfg.LargeBodies = t.largeBodies
	cfg.DisclosureThreshold = t.disclosureThreshold
	if err := stats.CheckSDMXAgency(t.sdmxAgency); err != nil {
		return &exitError{2, "--sdmx-agency: " + err.Error()}
	}
	cfg.SDMXAgency = t.sdmxAgency
	months, err := transplant.ParseFollowUpMonths(t.followUpMonths)
	if err != nil {
		return &exitError{2, "--followup-months: " + err.Error()}
	}
	if t.followUpWindow <= 0 || t.followUpWindow > 183*24*time.Hour {
		return &exitError{2, fmt.Sprintf("--followup-window must be from 1s to 4392h (six months), not %s", t.followUpWindow)}
	}
	cfg.Transplant = transplant.Config{DispositionAfter: t.dispositionAfter, AcknowledgeWithin: t.acknowledgeWithin,
		FollowUpMonths: months, FollowUpWindow: t.followUpWindow, FuneralExpenses: t.reimburseFuneral}
	loc, err := zone.Load("zone", t.zone)
	if err != nil {
		return &exitError{2, fmt.Sprintf("--zone must be an IANA time zone such as Africa/Dakar or Europe/Paris, not %q", t.zone)}
	}
	cfg.Zone = loc
	return nil
}
