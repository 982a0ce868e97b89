package hashmatch

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/ledger"
)

// The HMA-compatible surface: what Meta's Hasher-Matcher-Actioner
// (facebook/ThreatExchange, hasher-matcher-actioner/, OpenMediaMatch)
// answers on its hashing and matching routes, computed from custos's banks.
// The routes themselves are in internal/httpapi (hma.go); docs/hashmatch.md
// pins the HMA version mirrored and maps its concepts to custos's.

// The signal types of HMA (python-threatexchange's SignalType.get_name())
// that custos can answer.
const (
	HMAPDQ      = "pdq"
	HMAVPDQ     = "vpdq"
	HMAVideoMD5 = "video_md5"
)

// HMASignalTypes are the signal types, in the order index/status lists them.
var HMASignalTypes = []string{HMAPDQ, HMAVPDQ, HMAVideoMD5}

// HMA's content types, the field names of a /h/hash upload, and the signal
// types each gives.
var hmaContentSignals = map[string][]string{
	"photo": {HMAPDQ},
	"video": {HMAVideoMD5, HMAVPDQ},
}

// HMAMatch is one match of a lookup with distance, as HMA's
// MatchWithDistance: the matched bank content and the distance as HMA
// prints it (pretty_str: "9" for PDQ, "100%[50%]" for vPDQ, "0" for MD5).
type HMAMatch struct {
	BankContentID int64  `json:"bank_content_id"`
	Distance      string `json:"distance"`
}

// HMABankMatch is a match with the bank it was found in: HMA's bank name,
// which is custos's bank id.
type HMABankMatch struct {
	Bank string
	HMAMatch
}

// HMAIndexStatus is the status of one signal type's index, as HMA's
// /m/index/status gives it.
type HMAIndexStatus struct {
	Present bool  `json:"present"`
	BuiltTo int64 `json:"built_to"`
	Size    int   `json:"size"`
}

// HMAContentID is the integer HMA calls bank_content_id for an entry of a
// bank: custos's entries are named by their bank and entry id, HMA's by an
// integer, so custos derives a stable one, the first 53 bits of the FNV-1a
// hash of "BANK/ENTRY" (an integer every JSON reader keeps exactly). The
// same entry has the same number on every server and in every release.
func HMAContentID(bank, entry string) int64 {
	h := fnv.New64a()
	h.Write([]byte(entryKey(bank, entry)))
	return int64(h.Sum64() & (1<<53 - 1))
}

var (
	hmaPDQRe = regexp.MustCompile(`^[0-9a-f]{64}$`)
	hmaMD5Re = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

// HMAError is a refusal in HMA's words. HMA's messages are part of its
// protocol (clients read them, as they read codes), so they stay in English
// whatever the reader's language, and are not catalogue messages: the
// error is built without errs.New, its Message its only sentence.
func HMAError(code errs.Code, field, format string, args ...any) error {
	return &errs.Error{Code: code, Rule: "hma", Field: field, Message: fmt.Sprintf(format, args...)}
}

// hmaBad is HMA's refusal of a request (abort(400, message)).
func hmaBad(field, format string, args ...any) error {
	return HMAError(errs.Malformed, field, format, args...)
}

// HMASignalType checks a signal type name as HMA does
// (_validate_and_transform_signal_type); its refusal names field, what
// held the name: the query parameter signal_type, or in a body whose keys
// are signal types (/m/compare's) the key itself (HMACompareField).
func HMASignalType(field, name string) error {
	for _, t := range HMASignalTypes {
		if t == name {
			return nil
		}
	}
	return hmaBad(field, "No such SignalType '%s'", errs.Echo(name, errs.MaxEchoed))
}

// HMACompareField is the field a refusal of /m/compare's pair of a signal
// type names: its key, escaped and cut as custos echoes any name a client
// wrote (a signal type's name is as it is).
func HMACompareField(signalType string) string {
	return errs.Echo(signalType, errs.MaxEchoed)
}

// ParseHMAPDQ reads a PDQ signal string (64 hexadecimal digits; case and
// surrounding space are ignored, as PdqSignal.validate_signal_str does).
func ParseHMAPDQ(s string) (pdq.Hash, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !hmaPDQRe.MatchString(s) {
		return pdq.Hash{}, hmaBad("signal", "invalid signal: invalid PDQ hash")
	}
	return parsePDQ(s)
}

// ParseHMAVideoMD5 reads a video_md5 signal string (32 hexadecimal digits).
func ParseHMAVideoMD5(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if !hmaMD5Re.MatchString(s) {
		return "", hmaBad("signal", "invalid signal: invalid MD5 hash")
	}
	return s, nil
}

// ParseHMAVPDQ reads a vPDQ signal string as python-threatexchange writes
// it (vpdq_util.vpdq_to_json): a JSON array of "PDQHEX,QUALITY,SECONDS"
// strings, one a sampled frame in order. The frames are numbered in order.
// A signal without a frame ([], or nothing) is refused as a malformed one
// is: it is no video's hash (hashing a video that shows no frame fails),
// and matched it would answer as if nothing matched.
func ParseHMAVPDQ(s string) ([]vpdq.Frame, error) {
	var items []string
	if strings.TrimSpace(s) == "" {
		s = "[]"
	}
	if err := json.Unmarshal([]byte(s), &items); err != nil {
		return nil, hmaBad("signal", "invalid signal: a vpdq signal is a JSON array of \"PDQHEX,QUALITY,SECONDS\" strings")
	}
	if len(items) == 0 {
		return nil, hmaBad("signal", "invalid signal: no frames: a vpdq signal is a JSON array of one or more \"PDQHEX,QUALITY,SECONDS\" strings")
	}
	if len(items) > MaxVideoFrames {
		return nil, hmaBad("signal", "invalid signal: more than %d frames", MaxVideoFrames)
	}
	out := make([]vpdq.Frame, len(items))
	for i, it := range items {
		parts := strings.Split(it, ",")
		if len(parts) != 3 {
			return nil, hmaBad("signal", "invalid signal: invalid VpdqCompactFeature serialization: frame %d", i)
		}
		if len(parts[0]) != 64 {
			return nil, hmaBad("signal", "invalid signal: malformed pdq hash: frame %d", i)
		}
		h, err := parsePDQ(strings.ToLower(parts[0]))
		if err != nil {
			return nil, hmaBad("signal", "invalid signal: malformed pdq hash: frame %d", i)
		}
		q, err := strconv.Atoi(parts[1])
		if err != nil || q < 0 || q > 100 {
			return nil, hmaBad("signal", "invalid signal: invalid VPDQ quality: frame %d", i)
		}
		sec, err := strconv.ParseFloat(parts[2], 64)
		if err != nil || !(sec >= 0 && sec <= 1e6) {
			return nil, hmaBad("signal", "invalid signal: invalid timestamp: frame %d", i)
		}
		out[i] = vpdq.Frame{Index: i, Hash: h, Quality: q, Seconds: sec}
	}
	return out, nil
}

// FormatHMAVPDQ writes frames as python-threatexchange's vPDQ signal string
// (json.dumps of "hex,quality,timestamp" strings, the timestamp formatted
// with Python's ".3" format: three significant digits).
func FormatHMAVPDQ(frames []vpdq.Frame) string {
	items := make([]string, len(frames))
	for i, f := range frames {
		items[i] = f.Hash.String() + "," + strconv.Itoa(f.Quality) + "," + pyFormat3(f.Seconds)
	}
	// Python's json.dumps separates items with ", ".
	b, _ := json.Marshal(items)
	return strings.ReplaceAll(string(b), `","`, `", "`)
}

// pyFormat3 is Python's format(x, ".3") for a float (the format type None):
// three significant digits, trailing zeros removed, exponent notation when
// the rounded exponent is below -4 or at least 2 (p - 1), and at least one
// digit after the point in fixed notation.
func pyFormat3(x float64) string {
	e := strconv.FormatFloat(x, 'e', 2, 64) // d.dde±XX, rounded
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	if exp < -4 || exp >= 2 {
		mant = strings.TrimSuffix(strings.TrimRight(mant, "0"), ".")
		sign := "+"
		if exp < 0 {
			sign, exp = "-", -exp
		}
		return fmt.Sprintf("%se%s%02d", mant, sign, exp)
	}
	s := strconv.FormatFloat(x, 'f', 2-exp, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(s, "0")
	}
	if strings.HasSuffix(s, ".") || !strings.Contains(s, ".") {
		s = strings.TrimSuffix(s, ".") + ".0"
	}
	return s
}

// hmaBanks returns the provider's subscribed banks and own suppression list.
func (s *Service) hmaBanks(ctx context.Context, p *auth.Principal) ([]*loadedBank, []pdq.Hash, error) {
	if err := p.Require(MatchHashes); err != nil {
		return nil, nil, err
	}
	return s.subscribed(ctx, p.AuthorityID)
}

// HMALookup looks a signal up in the banks the principal's provider
// subscribes to, as HMA's lookup and raw_lookup do. Only known banks report
// matches. A lookup (raw false) is how a platform acts on an upload, so it
// is matched as custos's own match route matches: it applies the
// suppression banks and the service's own suppression list (a suppressed
// signal answers nothing), and a match opens a case for human review,
// counted for quarantine (source hash for a pdq signal, video for vpdq and
// video_md5); a signal that matches nothing leaves no trace. A raw lookup
// answers the index hits alone and stores nothing: a diagnostic, not a way
// to act. only, when not nil, keeps the matches of the banks it names (and
// the case records those). The matches are best first, with the id of the
// case they opened (empty when none was).
//
// A PDQ signal carries no quality, so none is required (HMA's index has no
// quality floor either; the case's quality is 0, unknown); vPDQ frames
// below the minimum quality are not matched, as in HMA
// (VPDQ_QUALITY_THRESHOLD).
func (s *Service) HMALookup(ctx context.Context, p *auth.Principal, signalType, signal string, only map[string]bool, raw bool) ([]HMABankMatch, string, error) {
	if err := HMASignalType("signal_type", signalType); err != nil {
		return nil, "", err
	}
	banks, own, err := s.hmaBanks(ctx, p)
	if err != nil {
		return nil, "", err
	}
	if err := hmaOnly(banks, only); err != nil {
		return nil, "", err
	}
	f, err := s.hmaSearch(banks, own, signalType, signal, only, raw)
	if err != nil {
		return nil, "", err
	}
	caseID := ""
	if !raw {
		source := "video"
		if signalType == HMAPDQ {
			source = "hash"
		}
		if caseID, err = s.hmaCase(ctx, p, Case{Source: source}, f); err != nil {
			return nil, "", err
		}
	}
	return f.bankMatches(), caseID, nil
}

// HMALookupFile looks up the signals of one uploaded file (as POST
// /hma/m/lookup does, after HMAHash) and answers each signal type's
// matches; the file's matches, whatever signal found them, open one case
// (source upload for a photo, whose signal is pdq; video_upload for a
// video), whose id it returns (empty when nothing matched). The case
// records the file's MD5 and SHA-256 (and a photo's PDQ quality), as
// custos's own upload routes record them.
func (s *Service) HMALookupFile(ctx context.Context, p *auth.Principal, file *HMAFile, only map[string]bool) (map[string][]HMABankMatch, string, error) {
	banks, own, err := s.hmaBanks(ctx, p)
	if err != nil {
		return nil, "", err
	}
	if err := hmaOnly(banks, only); err != nil {
		return nil, "", err
	}
	signals := file.Signals
	types := make([]string, 0, len(signals))
	for t := range signals {
		if err := HMASignalType("types", t); err != nil {
			return nil, "", err
		}
		types = append(types, t)
	}
	slices.Sort(types)
	out := map[string][]HMABankMatch{}
	var found []*hmaFound
	for _, t := range types {
		f, err := s.hmaSearch(banks, own, t, signals[t], only, false)
		if err != nil {
			return nil, "", err
		}
		if f.fileSuppressed {
			// The file itself is a known false positive (its MD5 is in a
			// suppression bank): nothing of it matches, whatever its other
			// signals found, as custos's own upload route decides.
			for _, t := range types {
				out[t] = nil
			}
			return out, "", nil
		}
		out[t] = f.bankMatches()
		found = append(found, f)
	}
	source := "video_upload"
	if _, ok := signals[HMAPDQ]; ok {
		source = "upload"
	}
	caseID, err := s.hmaCase(ctx, p, Case{Source: source, MD5: file.MD5, SHA256: file.SHA256, Quality: file.Quality}, found...)
	if err != nil {
		return nil, "", err
	}
	return out, caseID, nil
}

// hmaFound is what the lookup of one signal found: the matches in custos's
// terms, best first, each with the distance as HMA prints it, and what a
// case records of the signal.
type hmaFound struct {
	matches  []Match
	distance map[[2]string]string // bank, entry -> HMA's distance
	c        Case                 // the signal's hash: PDQ (a frame for vPDQ) or MD5
	frames   []string             // a vPDQ signal's matched frames
	// fileSuppressed: the signal is a file's MD5 that a suppression bank
	// lists, so the whole file is a known false positive.
	fileSuppressed bool
}

func (f *hmaFound) add(m Match, distance string, only map[string]bool) {
	if only == nil || only[m.BankID] {
		f.matches = append(f.matches, m)
		f.distance[[2]string{m.BankID, m.EntryID}] = distance
	}
}

// bankMatches are the matches as HMA names them.
func (f *hmaFound) bankMatches() []HMABankMatch {
	var out []HMABankMatch
	for _, m := range f.matches {
		out = append(out, HMABankMatch{m.BankID, HMAMatch{HMAContentID(m.BankID, m.EntryID), f.distance[[2]string{m.BankID, m.EntryID}]}})
	}
	return out
}

// hmaSearch matches one signal against the banks (see HMALookup).
func (s *Service) hmaSearch(banks []*loadedBank, own []pdq.Hash, signalType, signal string, only map[string]bool, raw bool) (*hmaFound, error) {
	if raw {
		own = nil
		var known []*loadedBank
		for _, b := range banks {
			if b.kind != KindSuppression {
				known = append(known, b)
			}
		}
		banks = known
	}
	f := &hmaFound{distance: map[[2]string]string{}}
	switch signalType {
	case HMAPDQ:
		h, err := ParseHMAPDQ(signal)
		if err != nil {
			return nil, err
		}
		f.c.PDQ = h.String()
		ms, sup, err := search(banks, []pdq.Hash{h}, own, s.cfg.SuppressionRadius)
		if err != nil {
			return nil, err
		}
		if sup && !raw {
			return f, nil
		}
		for _, m := range ms {
			f.add(m, strconv.Itoa(m.Distance), only)
		}
	case HMAVPDQ:
		frames, err := ParseHMAVPDQ(signal)
		if err != nil {
			return nil, err
		}
		o, err := searchVideo(banks, frames, own, s.videoOptions())
		if err != nil {
			return nil, err
		}
		for _, m := range o.matches {
			if m.QueryMatchPct == nil {
				continue // an image entry seen in the video: not a vpdq match
			}
			f.add(m, fmt.Sprintf("%.0f%%[%.0f%%]", *m.QueryMatchPct, *m.TargetMatchPct), only)
		}
		if len(f.matches) > 0 {
			f.c.PDQ, f.c.Quality = o.best.Hash.String(), o.best.Quality
			for _, h := range o.matchedFrames {
				f.frames = append(f.frames, h.String())
			}
		}
	case HMAVideoMD5:
		sum, err := ParseHMAVideoMD5(signal)
		if err != nil {
			return nil, err
		}
		f.c.MD5 = sum
		o := &videoOutcome{matches: []Match{}}
		o.matchMD5(banks, sum)
		f.fileSuppressed = o.suppressed
		for _, m := range o.matches {
			f.add(m, "0", only)
		}
	}
	return f, nil
}

// hmaCase opens one case for what the lookups of one content found, as
// custos's match route would (see openCase): its matches, the best
// distance of each entry first; the hashes the signals gave, beside what c
// holds already (its source; an uploaded file's digests and quality). It
// returns the case's id; nothing is stored, and the id is empty, when
// nothing matched.
func (s *Service) hmaCase(ctx context.Context, p *auth.Principal, c Case, found ...*hmaFound) (string, error) {
	pr := &prepared{c: c}
	best := map[[2]string]int{} // bank, entry -> index in ms
	var ms []Match
	for _, f := range found {
		if pr.c.PDQ == "" {
			pr.c.PDQ = f.c.PDQ
			if pr.c.Quality == 0 {
				pr.c.Quality = f.c.Quality
			}
		}
		if pr.c.MD5 == "" {
			pr.c.MD5 = f.c.MD5
		}
		pr.frames = append(pr.frames, f.frames...)
		for _, m := range f.matches {
			k := [2]string{m.BankID, m.EntryID}
			if i, ok := best[k]; ok {
				if m.Distance < ms[i].Distance {
					ms[i] = m
				}
				continue
			}
			best[k] = len(ms)
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 {
		return "", nil
	}
	sortMatches(ms)
	return s.openCase(ctx, p, pr, ms)
}

// HMAFile is what hashing one uploaded file gives: its signals, keyed by
// HMA's signal type names, and what a case opened by its lookup records of
// the file, as custos's own upload routes record it: its MD5 and SHA-256,
// and a photo's PDQ quality (0 for a video).
type HMAFile struct {
	Signals     map[string]string
	MD5, SHA256 string
	Quality     int
}

// HMAHash hashes one uploaded file of an HMA content type ("photo" or
// "video") into the signal types asked for (all of the content type's when
// types is empty), as HMA's POST /h/hash does, with the file's digests, by
// the same code as custos's own upload routes; nothing is stored. A photo
// gives pdq; a video video_md5 and vpdq (the latter needs ffmpeg).
func (s *Service) HMAHash(ctx context.Context, p *auth.Principal, contentType string, types []string, r io.Reader) (*HMAFile, error) {
	if err := p.Require(MatchHashes); err != nil {
		return nil, err
	}
	avail, ok := hmaContentSignals[contentType]
	if !ok {
		return nil, hmaBad("content_type", "no such content_type: '%s'", errs.Echo(contentType, errs.MaxEchoed))
	}
	want := map[string]bool{}
	for _, t := range types {
		found := false
		for _, a := range avail {
			found = found || a == t
		}
		if !found {
			return nil, hmaBad("types", "signal type '%s' doesn't exist or is disabled", errs.Echo(t, errs.MaxEchoed))
		}
		want[t] = true
	}
	if len(types) == 0 {
		for _, a := range avail {
			want[a] = true
		}
	}
	out := &HMAFile{Signals: map[string]string{}}
	if contentType == "photo" {
		h, err := hashImage(ctx, r, s.imageOptions(), s.decodes)
		if err != nil {
			// named by the file's field, as custos's own upload
			// routes name theirs (image, files[N])
			return nil, fieldError(contentType, err)
		}
		out.Signals[HMAPDQ] = h.PDQ.String()
		out.MD5, out.SHA256, out.Quality = h.MD5, h.SHA256, h.Quality
		return out, nil
	}
	if !want[HMAVPDQ] {
		// The digests alone need no decoder: read the bytes within the
		// video limit.
		m, h := md5.New(), sha256.New()
		n, err := io.Copy(io.MultiWriter(m, h), io.LimitReader(r, s.cfg.MaxVideoUpload+1))
		if err != nil {
			return nil, errs.New(errs.Malformed, "video", contentType, "the video could not be read from the request body")
		}
		if n > s.cfg.MaxVideoUpload {
			return nil, errs.New(errs.TooLarge, "video_size", contentType, "the video is larger than %d bytes", s.cfg.MaxVideoUpload)
		}
		out.MD5, out.SHA256 = hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(h.Sum(nil))
		out.Signals[HMAVideoMD5] = out.MD5
		return out, nil
	}
	frames, md, sh, err := s.hashUpload(ctx, r)
	if err != nil {
		return nil, fieldError(contentType, err)
	}
	out.MD5, out.SHA256 = md, sh
	out.Signals[HMAVPDQ] = FormatHMAVPDQ(frames)
	if want[HMAVideoMD5] {
		out.Signals[HMAVideoMD5] = md
	}
	return out, nil
}

// HMACheckBanks refuses a selection of banks (HMA's banks parameter) that
// names a bank the principal's provider does not subscribe to, as a lookup
// would refuse it: so that a lookup of an uploaded file refuses it before
// the file is read.
func (s *Service) HMACheckBanks(ctx context.Context, p *auth.Principal, only map[string]bool) error {
	if only == nil {
		return nil
	}
	banks, _, err := s.hmaBanks(ctx, p)
	if err != nil {
		return err
	}
	return hmaOnly(banks, only)
}

// hmaOnly refuses a selection of banks naming one that is not among the
// provider's subscribed banks: HMA keeps the matches of the banks named
// and ignores a name it does not know, so a mistyped bank answers {} as if
// nothing matched; custos names it instead (the first in order). A bank
// that exists but that the provider does not subscribe to gets the same
// refusal, so that the refusal tells nothing of other providers' banks.
func hmaOnly(banks []*loadedBank, only map[string]bool) error {
	names := make([]string, 0, len(only))
	for n := range only {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !slices.ContainsFunc(banks, func(b *loadedBank) bool { return b.id == n }) {
			return hmaBad("banks", "No such bank '%s': banks takes the ids of the banks this service subscribes to", errs.Echo(n, errs.MaxEchoed))
		}
	}
	return nil
}

// HMAIndexStatus answers HMA's /m/index/status for the principal's
// provider: for each signal type, the number of signals its subscribed
// banks hold (size: image entries for pdq, video entries with frames for
// vpdq, video entries with an MD5 for video_md5), and the time (Unix seconds) of the
// newest version published in them (built_to: custos's indexes follow every
// publication at once). A provider subscribed to no published bank has no
// index: present false, built_to -1, size 0, as HMA answers before its
// first build.
func (s *Service) HMAIndexStatus(ctx context.Context, p *auth.Principal) (map[string]HMAIndexStatus, error) {
	banks, _, err := s.hmaBanks(ctx, p)
	if err != nil {
		return nil, err
	}
	var newest string
	if err := s.DB.Read().QueryRow(ctx, `SELECT COALESCE(MAX(v.published_at), '') FROM hm_versions v
		JOIN hm_subscriptions s ON s.bank_id = v.bank_id WHERE s.provider_id = ?`, p.AuthorityID).Scan(&newest); err != nil {
		return nil, err
	}
	out := map[string]HMAIndexStatus{}
	for _, t := range HMASignalTypes {
		out[t] = HMAIndexStatus{BuiltTo: -1}
	}
	if newest == "" {
		return out, nil
	}
	at, err := time.Parse(ledger.TimeLayout, newest)
	if err != nil {
		return nil, err
	}
	sizes := map[string]int{}
	for _, b := range banks {
		if b.kind == KindSuppression {
			continue
		}
		for i, e := range b.entries {
			if b.videoQ[i] == nil {
				sizes[HMAPDQ]++
				continue
			}
			if e.MD5 != "" {
				sizes[HMAVideoMD5]++
			}
			if len(b.videoQ[i]) > 0 {
				sizes[HMAVPDQ]++
			}
		}
	}
	for _, t := range HMASignalTypes {
		out[t] = HMAIndexStatus{Present: true, BuiltTo: at.Unix(), Size: sizes[t]}
	}
	return out, nil
}

// HMACompare compares two signals of one type, as HMA's /m/compare does
// with the signal type's compare_hash, and returns its result as HMA
// serializes a SignalComparisonResult: [match, similarity]. PDQ: match
// within 31 bits (PdqSignal's threshold), similarity {"distance": N}.
// vPDQ: python-threatexchange's brute-force match at distance 31 and
// quality 50, match when the larger percentage reaches 80, similarity
// {"query_match_percent", "compared_match_percent"}. video_md5: equality,
// similarity {}.
func HMACompare(signalType, left, right string) ([2]any, error) {
	if err := HMASignalType(HMACompareField(signalType), signalType); err != nil {
		return [2]any{}, err
	}
	var res [2]any
	var err error
	switch signalType {
	case HMAPDQ:
		err = comparePair(ParseHMAPDQ, left, right, func(a, b pdq.Hash) {
			d := pdq.Distance(a, b)
			res = [2]any{d <= DefaultThreshold, map[string]int{"distance": d}}
		})
	case HMAVPDQ:
		err = comparePair(ParseHMAVPDQ, left, right, func(a, b []vpdq.Frame) {
			r := vpdq.Match(a, b, vpdq.MatchOptions{Distance: vpdq.DefaultDistance, QualityMin: vpdq.DefaultQualityMin, QueryPct: -1, TargetPct: -1})
			res = [2]any{max(r.QueryMatchPct, r.TargetMatchPct) >= vpdq.DefaultQueryPct,
				map[string]float64{"query_match_percent": r.QueryMatchPct, "compared_match_percent": r.TargetMatchPct}}
		})
	default:
		err = comparePair(ParseHMAVideoMD5, left, right, func(a, b string) { res = [2]any{a == b, map[string]any{}} })
	}
	if err != nil {
		msg := err.Error()
		if e, ok := errs.As(err); ok {
			msg = strings.TrimPrefix(e.Message, "invalid signal: ")
		}
		return [2]any{}, hmaBad(signalType, "Invalid %s hash: %s", signalType, msg)
	}
	return res, nil
}

// comparePair parses both signals and compares them.
func comparePair[T any](parse func(string) (T, error), left, right string, compare func(a, b T)) error {
	a, err := parse(left)
	if err != nil {
		return err
	}
	b, err := parse(right)
	if err != nil {
		return err
	}
	compare(a, b)
	return nil
}
