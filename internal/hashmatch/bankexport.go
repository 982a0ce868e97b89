package hashmatch

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ListMeta is what a list file says of the bank it comes from.
type ListMeta struct {
	Bank        string
	Name        string
	Owner       string
	Version     int
	PublishedAt string // RFC 3339 UTC
}

// ExportStats says what an export of a bank wrote and what its format could
// not carry: whole entries (Record, counted in Skipped; a video in a format
// of images, say) or values of entries written (an image's MD5 in a format
// without digests, say).
type ExportStats struct {
	Format  string    `json:"format"`
	Version int       `json:"version"`
	Entries int       `json:"entries"`
	Skipped int       `json:"skipped"`
	LeftOut []NotHeld `json:"left_out"`
}

// Rules of an export's LeftOut, besides the import's.
const (
	LeftOutVideo          = "video_entry"    // a video entry in a format of images
	LeftOutDigest         = "digest"         // an MD5 or SHA-256 the format does not carry
	LeftOutClassification = "classification" // a classification the format does not carry
	LeftOutEntryID        = "entry_id"       // an entry id the format does not carry (an import names the entry by its hash)
	LeftOutQuarantined    = "quarantined"    // an entry in quarantine: it does not match, and is not handed on
)

func (st *ExportStats) leaveOut(rule, what string, record bool, id string) {
	is := ImportStats{Skipped: st.Skipped, NotHeld: st.LeftOut}
	is.leaveOut(rule, what, record, id)
	st.Skipped, st.LeftOut = is.Skipped, is.NotHeld
}

// Summary is the stats' LeftOut in one line per reason, in l's language
// (English when l is nil).
func (st *ExportStats) Summary(l *i18n.Localizer) []string {
	return (&ImportStats{NotHeld: st.LeftOut}).Summary(l)
}

// ExportList writes entries (a bank's list at a version, by entry id) in one
// of Formats. Reading the file back with ParseList gives the same entries,
// except for what the stats say the format could not carry.
func ExportList(format string, m ListMeta, entries []DocEntry) ([]byte, *ExportStats, error) {
	st := &ExportStats{Format: format, Version: m.Version, LeftOut: []NotHeld{}}
	var b []byte
	var err error
	switch format {
	case FormatHex:
		b = exportHex(m, entries, st)
	case FormatNCMEC:
		b, err = exportNCMEC(m, entries, st)
	case FormatProjectVIC:
		b, err = exportProjectVIC(entries, st)
	case FormatJSON:
		b, err = jsonBytes(NewVersion{Adds: entries, Deletes: []string{}})
		st.Entries = len(entries)
	case FormatTECSV, FormatTETSV:
		b, err = exportTE(format, m, entries, st)
	case FormatHMA:
		b, err = exportHMA(m, entries, st)
	default:
		return nil, nil, check.OneOf("format", format, Formats)
	}
	if err != nil {
		return nil, nil, err
	}
	return b, st, nil
}

func jsonBytes(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	err := enc.Encode(v)
	return buf.Bytes(), err
}

// imageDigests counts an image's digests that a format does not carry.
func imageDigests(e DocEntry, st *ExportStats) {
	if e.MD5 != "" {
		st.leaveOut(LeftOutDigest, "md5", false, e.EntryID)
	}
	if e.SHA256 != "" {
		st.leaveOut(LeftOutDigest, "sha256", false, e.EntryID)
	}
}

func exportHex(m ListMeta, entries []DocEntry, st *ExportStats) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# custos bank %s version %d: PDQHEX CLASSIFICATION ENTRY_ID\n", m.Bank, m.Version)
	for _, e := range entries {
		if e.Video != nil {
			st.leaveOut(LeftOutVideo, "", true, e.EntryID)
			fmt.Fprintf(&b, "# video entry %s (%d frames) is not carried by the hex format\n", e.EntryID, len(e.Video.Frames))
			continue
		}
		imageDigests(e, st)
		fmt.Fprintf(&b, "%s %s %s\n", e.PDQ, e.Classification, e.EntryID)
		st.Entries++
	}
	return []byte(b.String())
}

// The NCMEC v2 document custos writes: the elements python-threatexchange's
// client requires (member, maxTimestamp) with the bank's owner and the
// version's time.
type ncmecOut struct {
	XMLName xml.Name       `xml:"queryResult"`
	NS      string         `xml:"xmlns,attr"`
	Images  *ncmecOutGroup `xml:"images,omitempty"`
	Videos  *ncmecOutGroup `xml:"videos,omitempty"`
}

type ncmecOutGroup struct {
	Count        int           `xml:"count,attr"`
	MaxTimestamp string        `xml:"maxTimestamp,attr"`
	Images       []ncmecOutRec `xml:"image"`
	Videos       []ncmecOutRec `xml:"video"`
}

type ncmecOutRec struct {
	Member struct {
		ID   string `xml:"id,attr"`
		Name string `xml:",chardata"`
	} `xml:"member"`
	Timestamp      string `xml:"timestamp"`
	ID             string `xml:"id"`
	Classification string `xml:"classification"`
	Fingerprints   struct {
		MD5    string `xml:"md5,omitempty"`
		SHA256 string `xml:"sha256,omitempty"`
		PDQ    string `xml:"pdq,omitempty"`
		VPDQ   string `xml:"vpdq,omitempty"`
	} `xml:"fingerprints"`
}

func exportNCMEC(m ListMeta, entries []DocEntry, st *ExportStats) ([]byte, error) {
	out := ncmecOut{NS: NCMECNamespace}
	var images, videos ncmecOutGroup
	for _, e := range entries {
		var r ncmecOutRec
		r.Member.ID, r.Member.Name = "0", m.Owner
		r.Timestamp, r.ID, r.Classification = m.PublishedAt, e.EntryID, e.Classification
		r.Fingerprints.MD5, r.Fingerprints.SHA256 = e.MD5, e.SHA256
		if e.Video != nil {
			if len(e.Video.Frames) > 0 {
				r.Fingerprints.VPDQ = vpdqSignal(e.Video)
			}
			videos.Videos = append(videos.Videos, r)
		} else {
			r.Fingerprints.PDQ = e.PDQ
			images.Images = append(images.Images, r)
		}
		st.Entries++
	}
	if len(images.Images) > 0 {
		images.Count, images.MaxTimestamp = len(images.Images), m.PublishedAt
		out.Images = &images
	}
	if len(videos.Videos) > 0 {
		videos.Count, videos.MaxTimestamp = len(videos.Videos), m.PublishedAt
		out.Videos = &videos
	}
	b, err := xml.MarshalIndent(out, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}

var vicClassRE = regexp.MustCompile(`^vic-([0-9]{1,9})$`)

func exportProjectVIC(entries []DocEntry, st *ExportStats) ([]byte, error) {
	type media struct {
		MediaID  any    `json:"MediaID"`
		Category *int   `json:"Category,omitempty"`
		MD5      string `json:"MD5,omitempty"`
		SHA256   string `json:"SHA256,omitempty"`
		PDQ      string `json:"PDQ"`
	}
	doc := struct {
		Meta  string  `json:"odata.metadata"`
		Value []media `json:"value"`
	}{Meta: "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media", Value: []media{}}
	for _, e := range entries {
		if e.Video != nil {
			st.leaveOut(LeftOutVideo, "", true, e.EntryID)
			continue
		}
		md := media{MediaID: mediaID(e.EntryID), MD5: e.MD5, SHA256: e.SHA256, PDQ: e.PDQ}
		if m := vicClassRE.FindStringSubmatch(e.Classification); m != nil {
			n, _ := strconv.Atoi(m[1])
			md.Category = &n
		} else if e.Classification != "vic-unspecified" {
			st.leaveOut(LeftOutClassification, e.Classification, false, e.EntryID)
		}
		doc.Value = append(doc.Value, md)
		st.Entries++
	}
	return jsonBytes(doc)
}

// mediaID writes an entry id as a JSON number when it is one (Project VIC
// and HMA number their media), as a string otherwise.
func mediaID(id string) any {
	if n, err := strconv.ParseInt(id, 10, 64); err == nil && strconv.FormatInt(n, 10) == id && n < 1<<53 {
		return json.Number(id)
	}
	return id
}

func exportTE(format string, m ListMeta, entries []DocEntry, st *ExportStats) ([]byte, error) {
	var buf bytes.Buffer
	rows := [][]string{teColumns}
	// Every text cell that a spreadsheet would read as a formula is quoted,
	// as in custos's other CSV files: the bank's name (a cell of every row)
	// and the tags (a classification may start with -) above all
	// (tab-separated files are not opened by spreadsheets as formulas, but
	// are written the same, one way for both). ParseList removes the quote.
	collab := export.Cell(strings.Join(strings.Fields(m.Name), " "))
	for _, e := range entries {
		typ, sig, id := "pdq", e.PDQ, e.PDQ
		switch {
		case e.Video != nil && len(e.Video.Frames) == 0:
			typ, sig, id = "video_md5", e.MD5, e.MD5
		case e.Video != nil:
			typ, sig, id = "vpdq", vpdqSignal(e.Video), vpdqEntryID(e.Video)
		}
		if e.EntryID != id {
			st.leaveOut(LeftOutEntryID, "", false, e.EntryID)
		}
		if typ == "video_md5" {
			e.MD5 = "" // the signal itself
		}
		imageDigests(e, st)
		tags := e.Classification
		if tags == "unspecified" {
			tags = ""
		}
		rows = append(rows, []string{collab, export.Cell(typ), export.Cell(sig), export.Cell(tePositive), export.Cell(tags)})
		st.Entries++
	}
	if format == FormatTETSV {
		for _, r := range rows {
			buf.WriteString(strings.Join(r, "\t") + "\n")
		}
		return buf.Bytes(), nil
	}
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(rows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func exportHMA(m ListMeta, entries []DocEntry, st *ExportStats) ([]byte, error) {
	type content struct {
		ID               any               `json:"id"`
		Bank             string            `json:"bank"`
		Enabled          bool              `json:"enabled"`
		OriginalMediaURI *string           `json:"original_media_uri"`
		Signals          map[string]string `json:"signals"`
	}
	out := []content{}
	for _, e := range entries {
		c := content{ID: mediaID(e.EntryID), Bank: m.Name, Enabled: true, Signals: map[string]string{}}
		if e.Video != nil {
			if len(e.Video.Frames) > 0 {
				c.Signals["vpdq"] = vpdqSignal(e.Video)
			}
			if e.MD5 != "" {
				c.Signals["video_md5"] = e.MD5
			}
			if e.SHA256 != "" {
				st.leaveOut(LeftOutDigest, "sha256", false, e.EntryID)
			}
		} else {
			c.Signals["pdq"] = e.PDQ
			imageDigests(e, st)
		}
		if e.Classification != "unspecified" {
			st.leaveOut(LeftOutClassification, e.Classification, false, e.EntryID)
		}
		out = append(out, c)
		st.Entries++
	}
	return jsonBytes(out)
}

// ListBank is the list an export of a bank's list names in its
// export.made entry (registry hashmatch), its filter the bank and the
// version (bank_id, version).
const ListBank = "bank"

// ExportBank writes a bank's list at a version (0: the current one) in one
// of Formats to out, for its owner's analysts. The export is recorded as
// every export of custos is (export.File): its export.made entry, written
// before the file, names the bank and the version (filter bank_id,
// version), the format and the log checkpoint whose snapshot the entries
// are read in; once the file is written, its export.completed entry holds
// the entries written, the bytes and their SHA-256, so that the file checks
// against the log (export.Check finds it by its digest). A refusal (the
// bank not the principal's, no such version) is made before anything is
// logged. start, when not nil, is called with the export's Meta and what
// the format could not carry before the first byte is written; an error
// before it leaves out untouched. Entries in quarantine are left out and
// counted.
func (s *Service) ExportBank(ctx context.Context, p *auth.Principal, bankID string, version int, format string, start func(export.Meta, *ExportStats), out io.Writer) (*ExportStats, error) {
	if err := p.Require(PublishBanks); err != nil {
		return nil, err
	}
	if err := check.OneOf("format", format, Formats); err != nil {
		return nil, err
	}
	b, err := getBank(ctx, s.DB.Read(), bankID)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != p.AuthorityID {
		return nil, errs.New(errs.Forbidden, "own_bank", "bank_id", "bank %s belongs to %s; only its owner reads its hashes", bankID, b.OwnerID)
	}
	if b.Version == 0 {
		return nil, errs.New(errs.Conflict, "unpublished", "bank_id", "bank %s has no published version yet", bankID)
	}
	if version == 0 {
		version = b.Version
	}
	if version < 0 || version > b.Version {
		return nil, errs.Invalidf("range", "version", "bank %s has versions 1 to %d: version takes one of them, or 0 (or none) for the current one, %d", bankID, b.Version, b.Version)
	}
	// A version once published stays: the snapshot the export reads,
	// taken after these checks, holds it.
	req := export.Request{Registry: Module.Name, List: ListBank, Format: export.Format(format),
		Filter: url.Values{"bank_id": {bankID}, "version": {strconv.Itoa(version)}}}
	var st *ExportStats
	err = export.File(ctx, s.DB, s.W, p.Actor(), req, out, func(ctx context.Context, em export.Meta, out io.Writer) (int, error) {
		q := s.DB.Read() // the export's snapshot, under ctx
		m := ListMeta{Bank: b.ID, Name: b.Name, Owner: b.OwnerID, Version: version}
		var at string
		if err := q.QueryRow(ctx, "SELECT published_at FROM hm_versions WHERE bank_id = ? AND version = ?", bankID, version).Scan(&at); err != nil {
			return 0, err
		}
		if t, err := time.Parse(ledger.TimeLayout, at); err == nil {
			m.PublishedAt = t.UTC().Format(time.RFC3339)
		}
		entries, quarantined, err := entriesAt(ctx, q, bankID, version)
		if err != nil {
			return 0, err
		}
		var data []byte
		if data, st, err = ExportList(format, m, entries); err != nil {
			return 0, err
		}
		for _, id := range quarantined {
			st.leaveOut(LeftOutQuarantined, "", true, id)
		}
		localizeNotHeld(i18n.FromContext(ctx), st.LeftOut)
		if start != nil {
			start(em, st)
		}
		_, err = out.Write(data)
		return st.Entries, err
	})
	return st, err
}

// entriesAt reads the entries of a bank live at a version, by entry id, and
// the ids of those in quarantine now.
func entriesAt(ctx context.Context, q store.Queryer, bankID string, version int) ([]DocEntry, []string, error) {
	rows, err := q.Query(ctx, `SELECT entry_id, pdq, md5, sha256, classification, video, quarantined_at FROM hm_entries
		WHERE bank_id = ? AND added_version <= ? AND (deleted_version IS NULL OR deleted_version > ?) ORDER BY entry_id`, bankID, version, version)
	if err != nil {
		return nil, nil, err
	}
	var quarantined []string
	inQuarantine := map[string]bool{}
	all, err := store.Rows(rows, func(r store.Scanner, e *DocEntry) error {
		var video string
		var qa sql.NullString
		if err := r.Scan(&e.EntryID, &e.PDQ, &e.MD5, &e.SHA256, &e.Classification, &video, &qa); err != nil {
			return err
		}
		if qa.Valid {
			quarantined = append(quarantined, e.EntryID)
			inQuarantine[e.EntryID] = true
		}
		if video != "" {
			e.Video = new(VideoHash)
			if err := json.Unmarshal([]byte(video), e.Video); err != nil {
				return fmt.Errorf("entry %s of bank %s: frames: %w", e.EntryID, bankID, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	out := all[:0]
	for _, e := range all {
		if !inQuarantine[e.EntryID] {
			out = append(out, e)
		}
	}
	if err := contentAt(ctx, q, bankID, version, out); err != nil {
		return nil, nil, err
	}
	return out, quarantined, nil
}

// contentAt gives the entries of a bank live at a version the content they
// had then: a row holds an entry's current content, and a later version
// may have updated it. The documents of the later versions name the
// entries they updated; for those, the documents up to the version give
// the content of the last add or update. Without later updates (an export
// of the current version, say) nothing is read beyond one query.
func contentAt(ctx context.Context, q store.Queryer, bankID string, version int, entries []DocEntry) error {
	later, err := docs(ctx, q, "SELECT doc FROM hm_versions WHERE bank_id = ? AND version > ? ORDER BY version", bankID, version)
	if err != nil {
		return err
	}
	changed := map[string]bool{}
	for _, d := range later {
		for _, u := range d.Updates {
			changed[u.EntryID] = true
		}
	}
	if len(changed) == 0 {
		return nil
	}
	before, err := docs(ctx, q, "SELECT doc FROM hm_versions WHERE bank_id = ? AND version <= ? ORDER BY version", bankID, version)
	if err != nil {
		return err
	}
	then := map[string]DocEntry{}
	for _, d := range before {
		for _, e := range append(slices.Clip(d.Adds), d.Updates...) {
			if changed[e.EntryID] {
				then[e.EntryID] = e
			}
		}
	}
	for i, e := range entries {
		if old, ok := then[e.EntryID]; ok {
			entries[i] = old
		}
	}
	return nil
}

// docs reads the version documents a query selects.
func docs(ctx context.Context, q store.Queryer, query string, args ...any) ([]Doc, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, d *Doc) error {
		var text string
		if err := r.Scan(&text); err != nil {
			return err
		}
		return json.Unmarshal([]byte(text), d)
	})
}

// FormatMediaType is the media type of a list file of format f.
func FormatMediaType(f string) string {
	switch f {
	case FormatNCMEC:
		return "application/xml"
	case FormatProjectVIC, FormatJSON, FormatHMA:
		return "application/json"
	case FormatTECSV:
		return "text/csv; charset=utf-8"
	case FormatTETSV:
		return "text/tab-separated-values; charset=utf-8"
	}
	return "text/plain; charset=utf-8"
}

// ExportFileName names the file of a bank's export: bank, version, format.
func ExportFileName(bankID string, st *ExportStats) string {
	ext := map[string]string{FormatHex: "txt", FormatNCMEC: "xml", FormatProjectVIC: "json", FormatJSON: "json",
		FormatTECSV: "csv", FormatTETSV: "tsv", FormatHMA: "json"}[st.Format]
	return fmt.Sprintf("%s-v%d-%s.%s", bankID, st.Version, st.Format, ext)
}
