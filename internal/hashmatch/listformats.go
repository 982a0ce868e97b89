package hashmatch

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/strictjson"
)

// The vPDQ signal string of python-threatexchange (VPDQSignal): a JSON array
// of "PDQHEX,QUALITY,SECONDS" strings, one a frame, in time order.
func parseVPDQSignal(s string) ([]VideoFrame, error) {
	var feats []string
	if err := strictjson.Unmarshal([]byte(s), &feats); err != nil {
		return nil, errs.Invalidf("vpdq_signal", "vpdq", "a vPDQ signal is a JSON array of \"PDQHEX,QUALITY,SECONDS\" strings")
	}
	frames := make([]VideoFrame, len(feats))
	for i, f := range feats {
		parts := strings.Split(f, ",")
		if len(parts) != 3 {
			return nil, errs.Invalidf("vpdq_signal", "vpdq", "frame %d: want PDQHEX,QUALITY,SECONDS, got %q", i+1, f)
		}
		q, err1 := strconv.Atoi(strings.TrimSpace(parts[1]))
		secs, err2 := strconv.ParseFloat(strings.TrimSpace(parts[2]), 64)
		if err1 != nil || err2 != nil {
			return nil, errs.Invalidf("vpdq_signal", "vpdq", "frame %d: want PDQHEX,QUALITY,SECONDS, got %q", i+1, f)
		}
		frames[i] = VideoFrame{PDQ: strings.TrimSpace(parts[0]), Quality: q, Seconds: secs}
	}
	return normalizeFrames("vpdq", frames)
}

// vpdqSignal writes a video's frames as python-threatexchange's vPDQ signal
// string.
func vpdqSignal(v *VideoHash) string {
	feats := make([]string, len(v.Frames))
	for i, f := range v.Frames {
		feats[i] = f.PDQ + "," + strconv.Itoa(f.Quality) + "," + strconv.FormatFloat(f.Seconds, 'f', 3, 64)
	}
	b, _ := json.Marshal(feats)
	return string(b)
}

// vpdqEntryID names a video imported from a format without entry ids: vpdq-
// and the first 32 hex digits of the SHA-256 of its vPDQ signal string.
func vpdqEntryID(v *VideoHash) string {
	h := sha256.Sum256([]byte(vpdqSignal(v)))
	return "vpdq-" + hex.EncodeToString(h[:16])
}

// ThreatExchange signal files: what `threatexchange dataset -P --csv`
// writes, a header and one row per signal and collaboration:
//
//	collab,signal_type,signal_str,category,tags
//	Sample Data,pdq,f8f8f0ce…,POSITIVE_CLASS,A1 media_priority_s1
//	Sample Data,vpdq,"[""f8f8…,100,0.000"", …]",POSITIVE_CLASS,
//
// te-tsv is the same with tabs. A pdq row is an image whose entry id is its
// hash (as in hex lists); a vpdq row a video named by vpdqEntryID; a
// video_md5 row a video known by its MD5, whose entry id is the MD5; the
// first tag is the classification. The collaboration is the bank: the column is
// read and not kept.
var teColumns = []string{"collab", "signal_type", "signal_str", "category", "tags"}

const tePositive = "POSITIVE_CLASS"

func parseTE(data []byte, comma rune, st *ImportStats) (NewVersion, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comma = comma
	r.LazyQuotes = comma == '\t' // a vPDQ signal has quotes, which a TSV does not escape
	r.ReuseRecord = true
	head, err := r.Read()
	if err != nil {
		return NewVersion{}, errs.Invalidf("te_signals", "content", "line 1: want the header %s: %v", strings.Join(teColumns, string(comma)), err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(teColumns, h) {
			return NewVersion{}, errs.Invalidf("te_signals", "content", "line 1: column %q is not one of %s", h, strings.Join(teColumns, ", "))
		}
		if _, dup := col[h]; dup {
			return NewVersion{}, errs.Invalidf("te_signals", "content", "line 1: column %q is given twice", h)
		}
		col[h] = i
	}
	if _, ok := col["signal_type"]; !ok {
		return NewVersion{}, errs.Invalidf("te_signals", "content", "line 1: the header needs signal_type and signal_str")
	}
	if _, ok := col["signal_str"]; !ok {
		return NewVersion{}, errs.Invalidf("te_signals", "content", "line 1: the header needs signal_type and signal_str")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok {
			return uncell(strings.TrimSpace(rec[i]))
		}
		return ""
	}
	var v NewVersion
	seen := map[string]bool{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			return NewVersion{}, errs.Invalidf("te_signals", "content", "line %d: %v", line, csvErr(err))
		}
		line, _ := r.FieldPos(0)
		where := "line " + strconv.Itoa(line)
		if cat := get(rec, "category"); cat != "" && cat != tePositive {
			st.leaveOut(NotHeldNotPositive, cat, true, where)
			continue
		}
		e := DocEntry{}
		tags := strings.Fields(get(rec, "tags"))
		if len(tags) > 0 {
			e.Classification = tags[0]
		}
		switch typ := strings.ToLower(get(rec, "signal_type")); typ {
		case "pdq":
			e.PDQ, e.EntryID = strings.ToLower(get(rec, "signal_str")), strings.ToLower(get(rec, "signal_str"))
		case "vpdq":
			frames, err := parseVPDQSignal(get(rec, "signal_str"))
			if err != nil {
				return NewVersion{}, lineErr(line, err)
			}
			e.Video = &VideoHash{Frames: frames}
			e.EntryID = vpdqEntryID(e.Video)
		case "video_md5":
			e.MD5, e.EntryID = strings.ToLower(get(rec, "signal_str")), strings.ToLower(get(rec, "signal_str"))
			e.Video = &VideoHash{}
		default:
			st.leaveOut(NotHeldSignalType, typ, true, where)
			continue
		}
		e, err = newEntry(where, e)
		if err != nil {
			return NewVersion{}, lineErr(line, err)
		}
		if seen[e.EntryID] {
			st.leaveOut(NotHeldDuplicate, "", true, where)
			continue
		}
		seen[e.EntryID] = true
		for range tags[min(1, len(tags)):] {
			st.leaveOut(NotHeldTags, "", false, where)
		}
		v.Adds = append(v.Adds, e)
	}
	return v, nil
}

// csvErr is a CSV reader's error without its own line prefix.
func csvErr(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// HMA bank content: HMA (facebook/ThreatExchange hasher-matcher-actioner)
// has no file format of its own for a bank; its curation API shows one
// content item of a bank as
//
//	{"id": 1234, "bank": "TEST_BANK", "enabled": true,
//	 "original_media_uri": null, "signals": {"pdq": "f8f8…"}}
//
// (GET /c/bank/<bank>/content/<id>?signal_type=…) and takes the "signals"
// object to bank a hash (POST /c/bank/<bank>/signal). The hma format is a
// JSON array of those objects. Signal types: pdq (a photo), vpdq (a video,
// the vPDQ signal string), video_md5 (a video's MD5, kept with its vPDQ, or
// alone: a video known by its MD5).
type hmaContent struct {
	ID               json.RawMessage   `json:"id"`
	Bank             string            `json:"bank"`
	Enabled          *bool             `json:"enabled"`
	OriginalMediaURI *string           `json:"original_media_uri"`
	DisableUntilTS   *int64            `json:"disable_until_ts,omitempty"`
	Signals          map[string]string `json:"signals"`
}

func parseHMA(data []byte, st *ImportStats) (NewVersion, error) {
	var cs []hmaContent
	if err := strictjson.Unmarshal(data, &cs); err != nil {
		return NewVersion{}, jsonRefusal(err, func(reason string) error {
			return errs.Invalidf("hma_json", "content", "not HMA bank content (a JSON array of {\"id\", \"bank\", \"enabled\", \"signals\"}): %v", reason)
		})
	}
	var v NewVersion
	for i, c := range cs {
		id := strings.Trim(strings.TrimSpace(string(c.ID)), `"`)
		if !entryIDRE.MatchString(id) {
			return NewVersion{}, recordErr("content", i+1, id, errs.Invalidf("entry_id", "id", "id must be a number or an id of 1 to 128 letters, digits or . _ : -"))
		}
		if c.Enabled != nil && !*c.Enabled {
			st.leaveOut(NotHeldDisabled, "", true, id)
			continue
		}
		e := DocEntry{EntryID: id}
		var other []string
		for name, val := range c.Signals {
			switch name {
			case "pdq":
				e.PDQ = val
			case "vpdq":
				frames, err := parseVPDQSignal(val)
				if err != nil {
					return NewVersion{}, recordErr("content", i+1, id, err)
				}
				e.Video = &VideoHash{Frames: frames}
			case "video_md5":
				e.MD5 = val
			default:
				other = append(other, name)
			}
		}
		if e.PDQ != "" && e.Video != nil {
			return NewVersion{}, recordErr("content", i+1, id, errs.Invalidf("pdq_or_video", "signals", "a content is a photo (pdq) or a video (vpdq), not both"))
		}
		if e.PDQ != "" && e.MD5 != "" {
			return NewVersion{}, recordErr("content", i+1, id, errs.Invalidf("pdq_or_video", "signals", "video_md5 is a video's signal; this content has a photo's pdq"))
		}
		slices.Sort(other)
		switch {
		case e.PDQ == "" && e.Video == nil && e.MD5 != "":
			e.Video = &VideoHash{} // a video known by its MD5 alone
		case e.PDQ == "" && e.Video == nil:
			st.leaveOut(NotHeldSignalType, strings.Join(other, ","), true, id)
			continue
		}
		e, err := newEntry("signals", e)
		if err != nil {
			return NewVersion{}, recordErr("content", i+1, id, err)
		}
		for _, o := range other {
			st.leaveOut(NotHeldFingerprint, o, false, id)
		}
		v.Adds = append(v.Adds, e)
	}
	return v, nil
}

// uncell undoes export.Cell: the quote custos's ThreatExchange export puts
// before a cell a spreadsheet would read as a formula (a classification
// starting with -), so that an exported list reads back the same.
func uncell(v string) string {
	if len(v) > 1 && v[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(v[1])) {
		return v[1:]
	}
	return v
}
