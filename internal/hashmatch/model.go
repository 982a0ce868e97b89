package hashmatch

import (
	"math"
	"math/bits"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/index"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
)

// Entry types of the registry.
const (
	TypeBankCreated        = "hashmatch.bank_created"
	TypeVersionPublished   = "hashmatch.version_published"
	TypeSubscribed         = "hashmatch.subscribed"
	TypePulled             = "hashmatch.pulled"
	TypeCaseOpened         = "hashmatch.case_opened"
	TypeCaseReviewed       = "hashmatch.case_reviewed"
	TypeReportSent         = "hashmatch.report_sent"
	TypeReportAcknowledged = "hashmatch.report_acknowledged"
	TypeRemovalRecorded    = "hashmatch.removal_recorded"
	TypeEntryReleased      = "hashmatch.entry_released"
	// TypeCaseReopened undoes a rejection: the case is open again and the
	// suppressions the rejection added are lifted.
	TypeCaseReopened = "hashmatch.case_reopened"
	// TypeVideoThresholdsSet sets a bank's vPDQ match percentages.
	TypeVideoThresholdsSet = "hashmatch.video_thresholds_set"
)

// Bank kinds.
const (
	KindKnown       = "known"       // hashes of known material: hits open cases
	KindSuppression = "suppression" // known false positives: hits cancel matches
)

// BankKinds are the kinds of bank CreateBank takes.
var BankKinds = []string{KindKnown, KindSuppression}

// Defaults of Config.
const (
	DefaultThreshold            = 31
	DefaultMinQuality           = 50
	DefaultSuppressionRadius    = 16
	DefaultQuarantineLimit      = 1000
	DefaultQuarantineWindow     = 24 * time.Hour
	DefaultMaxUpload            = 20 << 20
	DefaultDecodeBudget         = 1 << 30 // bytes
	DefaultMaxVideoUpload       = 512 << 20
	DefaultMaxBatchUpload       = 100 << 20
	DefaultVideoTimeout         = 10 * time.Minute
	DefaultVideoWait            = 10 * time.Second
	MaxVideoFrames              = 36000 // 10 hours at one frame a second
	MaxVideoSeconds             = 1e6   // a frame's time, about 11.5 days
	MaxBatch                    = 1000
	MaxImageBatch               = 100 // images in one batch upload
	MaxThreshold                = 64
	statusOpen, statusConfirmed = "open", "confirmed"
	statusRejected              = "rejected"
)

// DefaultVideoJobs is Config.VideoJobs' default: half the cores the
// process may use, at least one, so that hashing videos leaves cores to
// everything else.
func DefaultVideoJobs() int { return max(1, runtime.GOMAXPROCS(0)/2) }

// Match statuses of a query.
const (
	StatusMatch      = "match"
	StatusNoMatch    = "no_match"
	StatusLowQuality = "low_quality"
	StatusSuppressed = "suppressed"
	StatusError      = "error" // an image of a batch that could not be hashed
)

// IncidentTypes are the CyberTipline incident types a report may carry.
var IncidentTypes = []string{"child_sexual_abuse_material", "child_sex_trafficking", "online_enticement", "other"}

// RemovalActions say what a service did with the content.
var RemovalActions = []string{"removed", "blocked", "disabled_and_preserved"}

// Decisions of a review.
var Decisions = []string{"confirm", "reject"}

var (
	entryIDRE = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	classRE   = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)
)

// parsePDQ parses a 64-digit PDQ hex hash, in either case.
func parsePDQ(s string) (pdq.Hash, error) {
	return pdq.ParseHex(strings.TrimSpace(s))
}

// toIndex converts a PDQ hash to the index's Hash. Both keep the canonical hex
// form's most significant 64 bits in word 0, so the words carry over as is;
// a test checks the two hex forms agree.
func toIndex(h pdq.Hash) index.Hash { return index.Hash(h) }

// normalizeEntry validates one bank entry as published or imported.
func normalizeEntry(field string, e DocEntry) (DocEntry, error) {
	if !entryIDRE.MatchString(e.EntryID) {
		return e, errs.Invalidf("entry_id", field+".entry_id", "an entry id is 1 to 128 letters, digits or . _ : -")
	}
	var err error
	switch {
	case e.Video != nil && strings.TrimSpace(e.PDQ) != "":
		return e, errs.Invalidf("pdq_or_video", field+".video", "an entry is an image (pdq) or a video (video), not both")
	case e.Video != nil && len(e.Video.Frames) == 0:
		// A video known only by its MD5: it matches that file exactly.
		if strings.TrimSpace(e.MD5) == "" {
			return e, errs.Invalidf("video_frames", field+".video.frames", "a video entry has at least one frame, or none and an md5 (a video known by its MD5 alone)")
		}
		e.PDQ, e.Video = "", &VideoHash{}
	case e.Video != nil:
		frames, err := normalizeFrames(field+".video.frames", e.Video.Frames)
		if err != nil {
			return e, err
		}
		if !slices.ContainsFunc(frames, func(f VideoFrame) bool { return f.Quality >= DefaultMinQuality }) {
			return e, errs.Invalidf("video_quality", field+".video.frames",
				"a video entry needs at least one frame of quality %d or more, or it can never match", DefaultMinQuality)
		}
		e.PDQ, e.Video = "", &VideoHash{Frames: frames}
	default:
		h, err := parsePDQ(e.PDQ)
		if err != nil {
			return e, errs.Invalidf("pdq_hex", field+".pdq", "pdq must be a PDQ hash in 64 hexadecimal digits")
		}
		e.PDQ = h.String()
	}
	if e.MD5, err = check.HexDigest(field+".md5", e.MD5, 32); err != nil {
		return e, err
	}
	if e.SHA256, err = check.HexDigest(field+".sha256", e.SHA256, 64); err != nil {
		return e, err
	}
	if e.Classification == "" {
		e.Classification = "unspecified"
	}
	if !classRE.MatchString(e.Classification) {
		return e, errs.Invalidf("classification", field+".classification", "a classification is 1 to 64 letters, digits or . _ : -")
	}
	return e, nil
}

// MinHashBits is how many bits of an image entry's PDQ hash must be set,
// and how many clear. PDQ sets a bit where a DCT coefficient is above
// their median, so the hash of a real image has about half its 256 bits
// set (85 to 156 in the reference's test images and video frames). A
// blank or flat image hashes to all zeros, or to a few stray bits, at
// quality 0; an entry that close to all zeros (or to all ones) would match,
// within a usual threshold, the blank images that matching without a
// quality floor (HMA's lookups by hash) sends: no list of known content
// holds such a hash on purpose.
const MinHashBits = 32

// newEntry validates an entry that a publication or an import adds to a
// bank: normalizeEntry's rules, and an image's hash is not degenerate
// (MinHashBits). Signed documents already published are read with
// normalizeEntry alone, so that banks published before the rule still load.
func newEntry(field string, e DocEntry) (DocEntry, error) {
	e, err := normalizeEntry(field, e)
	if err != nil || e.Video != nil {
		return e, err
	}
	h, err := parsePDQ(e.PDQ)
	if err != nil {
		return e, err
	}
	set := 0
	for _, w := range h {
		set += bits.OnesCount64(w)
	}
	if set < MinHashBits || set > 256-MinHashBits {
		return e, errs.Invalidf("pdq_degenerate", field+".pdq",
			"pdq has %d of its 256 bits set; an entry's hash needs at least %d set and %d clear: a hash this close to all zeros or all ones is that of a blank or flat image (a real image's has about half its bits set) and would match every such image",
			set, MinHashBits, MinHashBits)
	}
	return e, nil
}

// normalizeFrames validates a video's frames (field names the list, e.g.
// adds[3].video.frames): 1 to MaxVideoFrames frames, each a PDQ hash with a
// quality from 0 to 100 and a time in seconds, not negative and never going
// back. Hashes come out in lower case and times rounded to the millisecond,
// as the vPDQ text format writes them.
func normalizeFrames(field string, in []VideoFrame) ([]VideoFrame, error) {
	if len(in) == 0 {
		return nil, errs.Invalidf("video_frames", field, "a video has at least one frame")
	}
	if len(in) > MaxVideoFrames {
		return nil, errs.Invalidf("video_frames", field,
			"a video has at most %d frames (10 hours at one frame a second); sample more sparsely or prune near-duplicate frames", MaxVideoFrames)
	}
	out := make([]VideoFrame, len(in))
	last := 0.0
	for i, f := range in {
		fi := check.Index(field, i)
		h, err := parsePDQ(f.PDQ)
		if err != nil {
			return nil, errs.Invalidf("pdq_hex", fi+".pdq", "pdq must be a PDQ hash in 64 hexadecimal digits")
		}
		if f.Quality < 0 || f.Quality > 100 {
			return nil, errs.Invalidf("range", fi+".quality", "quality is the PDQ quality the hasher reported, 0 to 100")
		}
		if !(f.Seconds >= 0 && f.Seconds <= MaxVideoSeconds) {
			return nil, errs.Invalidf("range", fi+".seconds", "seconds is the frame's time from the start, 0 to %d", int(MaxVideoSeconds))
		}
		secs := math.Round(f.Seconds*1000) / 1000
		if secs < last {
			return nil, errs.Invalidf("frame_order", fi+".seconds", "frames are in time order: %.3f s comes after %.3f s", secs, last)
		}
		last = secs
		out[i] = VideoFrame{PDQ: h.String(), Quality: f.Quality, Seconds: secs}
	}
	return out, nil
}

// Bank is a hash list's metadata (never its hashes).
type Bank struct {
	ID          string `json:"id"`
	OwnerID     string `json:"owner_id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Threshold   int    `json:"threshold"`
	Version     int    `json:"version"`
	HeadSHA256  string `json:"head_sha256"`
	Entries     int    `json:"entries"`
	Quarantined int    `json:"quarantined"`
	CreatedAt   string `json:"created_at,omitempty"`
	// QueryMatchThresholdPct and IndexMatchThresholdPct are the vPDQ
	// percentages a video needs to match one of the bank's video entries
	// (python-threatexchange's query_match_threshold_pct and
	// index_match_threshold_pct): the share of the query's frames that
	// match the entry's, and of the entry's frames that match the query's.
	QueryMatchThresholdPct float64 `json:"query_match_threshold_pct"`
	IndexMatchThresholdPct float64 `json:"index_match_threshold_pct"`
}

// bankCreated is the hashmatch.bank_created entry: a Bank as created,
// without the settings that later entries change (its shape is the Bank of
// the logs written before the video thresholds).
type bankCreated struct {
	ID          string `json:"id"`
	OwnerID     string `json:"owner_id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Threshold   int    `json:"threshold"`
	Version     int    `json:"version"`
	HeadSHA256  string `json:"head_sha256"`
	Entries     int    `json:"entries"`
	Quarantined int    `json:"quarantined"`
	CreatedAt   string `json:"created_at,omitempty"`
}

// VideoThresholds is the input of SetVideoThresholds: a bank's vPDQ match
// percentages, each from 0 to 100. A field left out keeps its value.
type VideoThresholds struct {
	QueryMatchThresholdPct *float64 `json:"query_match_threshold_pct"`
	IndexMatchThresholdPct *float64 `json:"index_match_threshold_pct"`
}

// videoThresholdsSet is the hashmatch.video_thresholds_set entry.
type videoThresholdsSet struct {
	BankID                 string  `json:"bank_id"`
	QueryMatchThresholdPct float64 `json:"query_match_threshold_pct"`
	IndexMatchThresholdPct float64 `json:"index_match_threshold_pct"`
}

// NewBank is the input of CreateBank.
type NewBank struct {
	Name      string `json:"name" api:"required"`
	Kind      string `json:"kind"`
	Threshold *int   `json:"threshold"`
}

// NewVersion is the input of Publish: entries to add, entry ids to delete,
// and new contents of live entries (updates, by entry id).
type NewVersion struct {
	Adds    []DocEntry `json:"adds"`
	Deletes []string   `json:"deletes"`
	Updates []DocEntry `json:"updates,omitempty"`
}

// Version is a published version of a bank.
type Version struct {
	BankID      string `json:"bank_id"`
	Version     int    `json:"version"`
	Previous    string `json:"previous_sha256"`
	DocSHA256   string `json:"doc_sha256"`
	Adds        int    `json:"adds"`
	Deletes     int    `json:"deletes"`
	Updates     int    `json:"updates"` // entries whose content the version replaced
	PublishedAt string `json:"published_at"`
	PublishedBy string `json:"published_by"`
	// Unchanged is set on the answer to a publication that would have
	// changed no entry: nothing was published, and the version is the
	// bank's current one.
	Unchanged bool `json:"unchanged,omitempty"`
}

type versionPublished struct {
	Doc       Doc    `json:"doc"`
	DocSHA256 string `json:"doc_sha256"`
	Signature string `json:"signature"`
}

// Subscription is a service provider's subscription to a bank.
type Subscription struct {
	ID         string `json:"id"`
	BankID     string `json:"bank_id"`
	ProviderID string `json:"provider_id"`
	Cursor     int    `json:"cursor"`
	PulledAt   string `json:"pulled_at,omitempty"`
	CreatedAt  string `json:"created_at,omitempty"`
}

type pulled struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscription_id"`
	BankID         string `json:"bank_id"`
	ProviderID     string `json:"provider_id"`
	Kind           string `json:"kind"`
	From           int    `json:"from"`
	To             int    `json:"to"`
	DocSHA256      string `json:"doc_sha256"`
}

// SignedDoc is one signed document handed to a service.
type SignedDoc struct {
	Version int    `json:"version"`
	SHA256  string `json:"sha256"`
	Note    string `json:"note"`
}

// Pull is what a service receives: a snapshot (from 0) or the deltas after its
// cursor, each a signed note, and the registry's verifier key.
type Pull struct {
	BankID      string      `json:"bank_id"`
	Kind        string      `json:"kind"` // snapshot, delta or none
	From        int         `json:"from"`
	To          int         `json:"to"`
	Documents   []SignedDoc `json:"documents"`
	VerifierKey string      `json:"verifier_key"`
}

// Query is one hash a service computed itself, with what a report would need.
type Query struct {
	PDQ        string `json:"pdq" api:"required"`
	Quality    *int   `json:"quality" api:"required"`
	MD5        string `json:"md5"`
	SHA256     string `json:"sha256"`
	ContentRef string `json:"content_ref"` // the service's own reference to the content
	UserID     string `json:"user_id"`     // pseudonymized at once, never stored
	UploadedAt string `json:"uploaded_at"`
}

// Match is one bank entry a query matched. Distance is the Hamming distance
// of the closest pair of hashes (for videos, of frames). A video matched with
// a video entry carries vPDQ's percentages: the share of the query's distinct
// frames of sufficient quality within the bank's threshold of some frame of
// the entry, and the converse. A match in a query video carries the time of
// its first matching frame.
type Match struct {
	BankID string `json:"bank_id"`
	// BankVersion is the version of the bank that was searched, so that a
	// service can say afterwards which list made it act (a report, an
	// appeal). It is 0 for matches recorded before custos kept it.
	BankVersion    int      `json:"bank_version,omitempty"`
	EntryID        string   `json:"entry_id"`
	Classification string   `json:"classification"`
	Distance       int      `json:"distance"`
	QueryMatchPct  *float64 `json:"query_match_pct,omitempty"`
	TargetMatchPct *float64 `json:"target_match_pct,omitempty"`
	AtSeconds      *float64 `json:"at_seconds,omitempty"`
}

// VideoQuery is a video's frames as a service hashed them itself (vPDQ: PDQ
// hashes of frames sampled, say, one a second), with what a report would
// need.
type VideoQuery struct {
	Frames     []VideoFrame `json:"frames"`
	MD5        string       `json:"md5"`
	SHA256     string       `json:"sha256"`
	ContentRef string       `json:"content_ref"`
	UserID     string       `json:"user_id"`
	UploadedAt string       `json:"uploaded_at"`
}

// VideoResult is the outcome of matching one video. Frames counts the
// frames received or sampled; UsableFrames the distinct frames of
// sufficient quality, not suppressed, that were matched.
type VideoResult struct {
	Status       string  `json:"status"`
	Frames       int     `json:"frames"`
	UsableFrames int     `json:"usable_frames"`
	Matches      []Match `json:"matches"`
	CaseID       string  `json:"case_id,omitempty"`
}

// Result is the outcome of one query. In a batch of uploaded images, an
// image that could not be hashed (or whose fields are wrong) has status error
// and Error says why, naming the part (files[N]); nothing is stored for it.
type Result struct {
	Status  string      `json:"status"`
	PDQ     string      `json:"pdq,omitempty"`
	Quality int         `json:"quality"`
	Matches []Match     `json:"matches"`
	CaseID  string      `json:"case_id,omitempty"`
	Error   *errs.Error `json:"error,omitempty"`
}

// Case is a match awaiting or past human review.
type Case struct {
	ID            string  `json:"id"`
	ProviderID    string  `json:"provider_id"`
	PDQ           string  `json:"pdq"`
	Quality       int     `json:"quality"`
	MD5           string  `json:"md5,omitempty"`
	SHA256        string  `json:"sha256,omitempty"`
	Source        string  `json:"source"` // hash, upload, video or video_upload
	ContentRef    string  `json:"content_ref,omitempty"`
	UserPseudonym string  `json:"user_pseudonym,omitempty"`
	UploadedAt    string  `json:"uploaded_at,omitempty"`
	BestBankID    string  `json:"best_bank_id"`
	BestEntryID   string  `json:"best_entry_id"`
	BestDistance  int     `json:"best_distance"`
	Matches       []Match `json:"matches"`
	Status        string  `json:"status"`
	OpenedAt      string  `json:"opened_at,omitempty"`
	ReviewedAt    string  `json:"reviewed_at,omitempty"`
	ReviewedBy    string  `json:"reviewed_by,omitempty"`
	ReviewNote    string  `json:"review_note,omitempty"`
}

type quarantine struct {
	BankID  string `json:"bank_id"`
	EntryID string `json:"entry_id"`
	AlertID string `json:"alert_id"`
	Count   int    `json:"count"`
}

// flood is one service's matches of an entry within the quarantine window
// reaching the quarantine limit on their own: the entry is not quarantined
// (one service's matches count up to half the limit), and the bank's owner
// is alerted, the service named (the case's provider). Count is that
// service's matches.
type flood struct {
	BankID  string `json:"bank_id"`
	EntryID string `json:"entry_id"`
	AlertID string `json:"alert_id"`
	Count   int    `json:"count"`
}

type caseOpened struct {
	Case       Case         `json:"case"`
	Quarantine []quarantine `json:"quarantine,omitempty"`
	// Floods are absent from leaves written before one service's matches
	// stopped quarantining an entry alone.
	Floods []flood `json:"floods,omitempty"`
	// MatchedFrames are, for a video case, the distinct query frames (PDQ
	// hex) within the threshold of a matched entry: a rejection with
	// suppress suppresses them all. Absent in image cases and in leaves
	// written before it, which read as before.
	MatchedFrames []string `json:"matched_frames,omitempty"`
}

// Review is the input of ReviewCase.
type Review struct {
	Decision string `json:"decision" api:"required"`
	Note     string `json:"note"`
	Suppress bool   `json:"suppress"` // on reject: add the hash to the service's suppression list
}

type suppression struct {
	ID  string `json:"id"`
	PDQ string `json:"pdq"`
}

type caseReviewed struct {
	ID          string       `json:"id"`
	ProviderID  string       `json:"provider_id"`
	Status      string       `json:"status"`
	Note        string       `json:"note"`
	Suppression *suppression `json:"suppression,omitempty"`
	// Suppressions are a rejected video case's suppressed frames, every
	// matched frame of the video, one row each (Suppression is nil then);
	// absent in image cases and in leaves written before it.
	Suppressions []suppression `json:"suppressions,omitempty"`
}

// caseReopened undoes a case's rejection. Lifted are the ids of the
// suppressions the rejection added, deleted from the service's list.
type caseReopened struct {
	ID         string   `json:"id"`
	ProviderID string   `json:"provider_id"`
	Reason     string   `json:"reason"`
	Lifted     []string `json:"lifted,omitempty"`
}

// NewReport is the input of SendReport.
type NewReport struct {
	IncidentType string `json:"incident_type" api:"required"`
	IncidentAt   string `json:"incident_at"`
	AuthorityID  string `json:"authority_id"` // default: the owner of the best-matching bank
	Notes        string `json:"notes"`
}

// Report is a confirmed case sent to a competent authority, with the fields of
// a CyberTipline report that a hash registry can carry.
type Report struct {
	ID                 string `json:"id"`
	CaseID             string `json:"case_id"`
	ProviderID         string `json:"provider_id"`
	AuthorityID        string `json:"authority_id"`
	IncidentType       string `json:"incident_type"`
	IncidentAt         string `json:"incident_at"`
	UploadedAt         string `json:"uploaded_at,omitempty"`
	PDQ                string `json:"pdq"`
	MD5                string `json:"md5,omitempty"`
	SHA256             string `json:"sha256,omitempty"`
	Classification     string `json:"classification"`
	UserPseudonym      string `json:"user_pseudonym,omitempty"`
	ContentRef         string `json:"content_ref,omitempty"`
	Notes              string `json:"notes,omitempty"`
	SentAt             string `json:"sent_at,omitempty"`
	AcknowledgedAt     string `json:"acknowledged_at,omitempty"`
	AuthorityReference string `json:"authority_reference,omitempty"`
	// Status is sent or acknowledged, as the reports' list filters by it:
	// given on reads, never in the log entry (which is a report sent).
	Status string `json:"status,omitempty"`
}

type reportAcknowledged struct {
	ID        string `json:"id"`
	Reference string `json:"reference"`
}

// NewRemoval is the input of RecordRemoval.
type NewRemoval struct {
	Action     string `json:"action" api:"required"`
	RemovedAt  string `json:"removed_at"`
	ContentRef string `json:"content_ref"`
}

// Removal records what a service removed and when.
type Removal struct {
	ID         string `json:"id"`
	CaseID     string `json:"case_id"`
	ProviderID string `json:"provider_id"`
	ContentRef string `json:"content_ref"`
	Action     string `json:"action"`
	RemovedAt  string `json:"removed_at"`
	RecordedAt string `json:"recorded_at,omitempty"`
}

type entryReleased struct {
	BankID  string `json:"bank_id"`
	EntryID string `json:"entry_id"`
}
