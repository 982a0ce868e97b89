package hashmatch

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/strictjson"
)

// Import formats. The mappings are documented in docs/hashmatch.md.
const (
	FormatHex        = "hex"        // one PDQ hash per line, optional classification and entry id
	FormatNCMEC      = "ncmec"      // NCMEC hash-sharing v2 XML: images, videos, their deletions, paging
	FormatProjectVIC = "projectvic" // Project VIC / VICS style JSON (OData "value" array of media)
	FormatJSON       = "json"       // custos's own: the body of a publish request, image and video entries
	FormatTECSV      = "te-csv"     // python-threatexchange signal file: dataset --csv columns, comma-separated
	FormatTETSV      = "te-tsv"     // the same columns, tab-separated
	FormatHMA        = "hma"        // HMA bank content: a JSON array of HMA's bank-content objects
)

// Formats lists the import and export formats.
var Formats = []string{FormatHex, FormatNCMEC, FormatProjectVIC, FormatJSON, FormatTECSV, FormatTETSV, FormatHMA}

// MaxImport is the largest list accepted in one import.
const MaxImport = 64 << 20

// ImportStats says what an import read and what it left out. Skipped counts
// the records not imported; NotHeld says why, rule by rule, for them and for
// the values dropped from records that were imported (a SHA-1 or PhotoDNA
// fingerprint custos does not hold, say). Nothing is left out without being
// counted here.
type ImportStats struct {
	Adds    int `json:"adds"`
	Deletes int `json:"deletes"`
	// Updates counts the records of entries the bank holds with other
	// content: the version replaces those entries' content.
	Updates int       `json:"updates"`
	Skipped int       `json:"skipped"`
	NotHeld []NotHeld `json:"not_held"`
	// Next is an NCMEC page's paging/next, the address of the next page of
	// the same query: custos never fetches it; import that page next.
	Next string `json:"next,omitempty"`
}

// NotHeld is one reason an import left something out: Count records (Record
// true, counted in Skipped) or values of imported records (Record false),
// with the first few records' ids or lines.
type NotHeld struct {
	Rule    string   `json:"rule"`
	What    string   `json:"what,omitempty"`
	Record  bool     `json:"record"`
	Count   int      `json:"count"`
	First   []string `json:"first"`
	Message string   `json:"message"`
}

// Rules of NotHeld.
const (
	NotHeldImageWithoutPDQ  = "image_without_pdq"  // an image known by digests or other fingerprints only
	NotHeldVideoWithoutVPDQ = "video_without_vpdq" // a video known by neither vPDQ frames nor an MD5
	NotHeldFingerprint      = "fingerprint"        // a fingerprint type custos does not hold, dropped from an entry
	NotHeldExtraPDQ         = "extra_pdq"          // a second, different PDQ of one image, dropped: an entry holds one
	NotHeldSignalType       = "signal_type"        // a record of a signal type custos does not hold
	NotHeldNotPositive      = "not_positive"       // a ThreatExchange opinion other than POSITIVE_CLASS
	NotHeldDisabled         = "disabled"           // HMA content disabled for matching
	NotHeldDuplicate        = "duplicate"          // the same entry again in the list
	NotHeldSuperseded       = "superseded"         // an earlier record of an entry that the list changes again
	NotHeldTags             = "tags"               // tags beyond the first (the classification)
	NotHeldElement          = "element"            // an element of the document custos does not read
	NotHeldDeleteUnknown    = "delete_not_held"    // a deletion of an entry the bank does not hold
	NotHeldAlreadyHeld      = "already_held"       // an entry the bank holds already, the same
	NotHeldWithdrawn        = "withdrawn"          // a new record of an entry the bank deleted: ids are never reused
)

// notHeldText says, rule by rule, what an import could not hold or an
// export left out: catalogue messages, written in the reader's language
// (ImportStats.Localize); the rule is the code machines read.
var notHeldText = map[string]i18n.Msg{
	NotHeldImageWithoutPDQ:  i18n.M("images without a PDQ hash (custos matches images by PDQ; their digests alone are not held)"),
	NotHeldVideoWithoutVPDQ: i18n.M("videos with neither vPDQ frames nor an MD5 (custos holds a video as its vPDQ frames or its file's MD5; other fingerprints alone are not held)"),
	NotHeldFingerprint:      i18n.M("fingerprints of a type custos does not hold, dropped from entries that were imported"),
	NotHeldExtraPDQ:         i18n.M("second PDQ hashes of an image, different from the one kept, dropped (an entry holds one PDQ: import them as entries of their own if they are wanted)"),
	NotHeldSignalType:       i18n.M("records of a signal type custos does not hold"),
	NotHeldNotPositive:      i18n.M("opinions other than POSITIVE_CLASS (a negative opinion is no known hash)"),
	NotHeldDisabled:         i18n.M("content disabled for matching"),
	NotHeldDuplicate:        i18n.M("the same entry again"),
	NotHeldSuperseded:       i18n.M("records superseded by a later record of the same entry in the list"),
	NotHeldTags:             i18n.M("tags beyond the first, which becomes the classification"),
	NotHeldElement:          i18n.M("elements custos does not read"),
	NotHeldDeleteUnknown:    i18n.M("deletions of entries the bank does not hold (never imported, or deleted already)"),
	NotHeldAlreadyHeld:      i18n.M("entries the bank holds already, unchanged"),
	NotHeldWithdrawn:        i18n.M("records of entries the bank deleted earlier: entry ids are never reused, so the entry is not restored; add it under a new id"),
	// what an export leaves out (bankexport.go)
	LeftOutVideo:          i18n.M("video entries, which this format does not carry"),
	LeftOutDigest:         i18n.M("digests this format does not carry"),
	LeftOutClassification: i18n.M("classifications this format does not carry"),
	LeftOutEntryID:        i18n.M("entry ids this format does not carry: an import names the entry by its hash"),
	LeftOutQuarantined:    i18n.M("entries in quarantine, which do not match and are not handed on"),
}

// notHeldFirst is how many record ids a NotHeld names.
const notHeldFirst = 5

// leaveOut counts one thing an import leaves out.
func (st *ImportStats) leaveOut(rule, what string, record bool, id string) {
	if record {
		st.Skipped++
	}
	for i := range st.NotHeld {
		n := &st.NotHeld[i]
		if n.Rule == rule && n.What == what && n.Record == record {
			n.Count++
			if len(n.First) < notHeldFirst {
				n.First = append(n.First, id)
			}
			return
		}
	}
	st.NotHeld = append(st.NotHeld, NotHeld{Rule: rule, What: what, Record: record, Count: 1, First: []string{id}, Message: notHeldText[rule]})
}

// Localize writes the stats' messages in l's language (nothing when l is
// nil: they stay in English). The rules stay as they are, for machines.
func (st *ImportStats) Localize(l *i18n.Localizer) *ImportStats {
	localizeNotHeld(l, st.NotHeld)
	return st
}

func localizeNotHeld(l *i18n.Localizer, ns []NotHeld) {
	if l == nil {
		return
	}
	for i := range ns {
		ns[i].Message = l.T(notHeldText[ns[i].Rule])
	}
}

// Summary is the stats' NotHeld in one line per reason, for the command
// line, in l's language (English when l is nil): "12 records not imported
// (md5,sha1): videos with neither … [video1, …]".
func (st *ImportStats) Summary(l *i18n.Localizer) []string {
	out := make([]string, 0, len(st.NotHeld))
	for _, n := range st.NotHeld {
		var what string
		switch {
		case l == nil && n.Record:
			what = fmt.Sprintf("%d records not imported", n.Count)
		case l == nil:
			what = fmt.Sprintf("%d values left out", n.Count)
		case n.Record:
			what = l.N("%d records not imported", n.Count)
		default:
			what = l.N("%d values left out", n.Count)
		}
		msg := notHeldText[n.Rule]
		if l != nil {
			msg = l.T(msg)
		}
		if n.What != "" {
			what += " (" + n.What + ")"
		}
		out = append(out, what+": "+msg+" ["+strings.Join(n.First, ", ")+"]")
	}
	return out
}

// ParseList reads a hash list into the adds and deletes of a version. It
// refuses malformed input with the line or record at fault, and counts in
// the stats whatever it leaves out.
func ParseList(format string, data []byte) (NewVersion, *ImportStats, error) {
	if len(data) > MaxImport {
		return NewVersion{}, nil, errs.New(errs.TooLarge, "import_size", "content", "a list is at most %d bytes; split it into several versions", MaxImport)
	}
	var v NewVersion
	st := &ImportStats{NotHeld: []NotHeld{}}
	var err error
	switch format {
	case FormatHex:
		v, err = parseHex(data)
	case FormatNCMEC:
		v, err = parseNCMEC(data, st)
	case FormatProjectVIC:
		v, err = parseProjectVIC(data, st)
	case FormatJSON:
		v, err = parseJSON(data)
	case FormatTECSV:
		v, err = parseTE(data, ',', st)
	case FormatTETSV:
		v, err = parseTE(data, '\t', st)
	case FormatHMA:
		v, err = parseHMA(data, st)
	default:
		return v, nil, check.OneOf("format", format, Formats)
	}
	if err != nil {
		return NewVersion{}, nil, err
	}
	st.Adds, st.Deletes, st.Updates = len(v.Adds), len(v.Deletes), len(v.Updates)
	if st.Adds == 0 && st.Deletes == 0 && st.Updates == 0 && st.Skipped == 0 {
		return NewVersion{}, nil, errs.Invalidf("empty_list", "content", "the list has no entry with a PDQ hash and no deletion")
	}
	return v, st, nil
}

// parseHex reads lines "PDQHEX [CLASSIFICATION [ENTRY_ID]]" separated by
// spaces, tabs or commas; "#" starts a comment; blank lines are skipped. The
// entry id defaults to the hash itself.
func parseHex(data []byte) (NewVersion, error) {
	var v NewVersion
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxHexLine)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		f := strings.FieldsFunc(line, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '\r' })
		if len(f) == 0 {
			continue
		}
		if len(f) > 3 {
			return v, errs.Invalidf("hex_list", "content", "line %d: want PDQHEX [CLASSIFICATION [ENTRY_ID]], got %d fields", n, len(f))
		}
		e := DocEntry{PDQ: strings.ToLower(f[0])}
		if len(f) > 1 {
			e.Classification = f[1]
		}
		e.EntryID = e.PDQ
		if len(f) > 2 {
			e.EntryID = f[2]
		} else if _, err := parsePDQ(e.PDQ); err != nil {
			// The hash is the entry id too: say what is wrong with it as a
			// hash, not as an id.
			return v, lineErr(n, errs.Invalidf("pdq_hex", "pdq", "pdq must be a PDQ hash in 64 hexadecimal digits"))
		}
		e, err := newEntry("line "+strconv.Itoa(n), e)
		if err != nil {
			return v, lineErr(n, err)
		}
		v.Adds = append(v.Adds, e)
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return v, errs.Invalidf("hex_list", "content", "line %d is longer than %d bytes", n+1, maxHexLine)
	} else if err != nil {
		return v, err
	}
	return v, nil
}

// maxHexLine is the longest line of a hex list: a hash, a classification
// and an entry id take a few hundred bytes.
const maxHexLine = 64 << 10

func lineErr(n int, err error) error {
	if e, ok := errs.As(err); ok {
		return errs.Invalidf(e.Rule, "content", "line %d: %s", n, e.Message)
	}
	return err
}

func recordErr(kind string, n int, id string, err error) error {
	if e, ok := errs.As(err); ok {
		return errs.Invalidf(e.Rule, "content", "%s %d (id %q): %s", kind, n, id, e.Message)
	}
	return err
}

// Project VIC / VICS-style JSON (OData):
//
//	{"odata.metadata": "...", "value": [
//	  {"MediaID": 17, "Category": 1, "MD5": "..", "SHA1": "..", "PDQ": "..",
//	   "IsDistributed": true, "Deleted": false}, ...]}
//
// MediaID is the entry id, Category N becomes classification "vic-N", and a
// media with "Deleted": true deletes that entry. A PDQ hash may also come as
// an element of "AlternativeHashes": [{"HashName": "PDQ", "HashValue": ".."}].
// The members a VIC export carries that custos does not read
// ("odata.metadata", "IsDistributed", "Series", …) are kept aside unread
// (Other), and refused when one is a read member's name in another case
// ("mediaid", "pdq"): encoding/json would have read it as that member.
type vicDoc struct {
	Value []vicMedia     `json:"value"`
	Other jsontext.Value `json:",embed"`
}

type vicMedia struct {
	MediaID           json.RawMessage `json:"MediaID"`
	Category          *int            `json:"Category"`
	MD5               string          `json:"MD5"`
	SHA256            string          `json:"SHA256"`
	SHA1              string          `json:"SHA1"`
	PDQ               string          `json:"PDQ"`
	Deleted           bool            `json:"Deleted"`
	AlternativeHashes []vicHash       `json:"AlternativeHashes"`
	Other             jsontext.Value  `json:",embed"`
}

type vicHash struct {
	HashName  string         `json:"HashName"`
	HashValue string         `json:"HashValue"`
	Other     jsontext.Value `json:",embed"`
}

func parseProjectVIC(data []byte, st *ImportStats) (NewVersion, error) {
	var v NewVersion
	var d vicDoc
	notVIC := func(reason string) error {
		return errs.Invalidf("projectvic_json", "content", "not Project VIC-style JSON (an object with a \"value\" array of media): %v", reason)
	}
	if err := strictjson.Unmarshal(data, &d); err != nil {
		return v, jsonRefusal(err, notVIC)
	}
	if err := strictjson.CaseVariant(reflect.TypeFor[vicDoc](), d.Other, ""); err != nil {
		return v, jsonRefusal(err, notVIC)
	}
	for i, m := range d.Value {
		at := check.Index("value", i)
		err := strictjson.CaseVariant(reflect.TypeFor[vicMedia](), m.Other, at)
		for j, h := range m.AlternativeHashes {
			if err == nil {
				err = strictjson.CaseVariant(reflect.TypeFor[vicHash](), h.Other, check.Index(at+".AlternativeHashes", j))
			}
		}
		if err != nil {
			return v, jsonRefusal(err, notVIC)
		}
	}
	for i, m := range d.Value {
		id := strings.Trim(strings.TrimSpace(string(m.MediaID)), `"`)
		if !entryIDRE.MatchString(id) {
			return v, recordErr("media", i+1, id, errs.Invalidf("entry_id", "MediaID", "MediaID must be a number or an id of 1 to 128 letters, digits or . _ : -"))
		}
		if m.Deleted {
			v.Deletes = append(v.Deletes, id)
			continue
		}
		h := m.PDQ
		for _, a := range m.AlternativeHashes {
			if strings.EqualFold(a.HashName, "PDQ") && strings.TrimSpace(h) == "" {
				h = a.HashValue
			}
		}
		if strings.TrimSpace(h) == "" {
			st.leaveOut(NotHeldImageWithoutPDQ, "", true, id)
			continue
		}
		for _, a := range m.AlternativeHashes {
			switch {
			case !strings.EqualFold(a.HashName, "PDQ"):
				st.leaveOut(NotHeldFingerprint, strings.ToLower(a.HashName), false, id)
			case !strings.EqualFold(strings.TrimSpace(a.HashValue), strings.TrimSpace(h)):
				// A second PDQ of the image: the entry keeps the first
				// (PDQ, else the first alternative), and the count says
				// which media had another, rather than dropping it unsaid.
				st.leaveOut(NotHeldExtraPDQ, "", false, id)
			}
		}
		if m.SHA1 != "" {
			st.leaveOut(NotHeldFingerprint, "sha1", false, id)
		}
		class := "vic-unspecified"
		if m.Category != nil {
			class = fmt.Sprintf("vic-%d", *m.Category)
		}
		e, err := newEntry("media", DocEntry{EntryID: id, PDQ: h, MD5: m.MD5, SHA256: m.SHA256, Classification: class})
		if err != nil {
			return v, recordErr("media", i+1, id, err)
		}
		v.Adds = append(v.Adds, e)
	}
	return v, nil
}

// parseJSON reads custos's own format, the body of a publish request:
//
//	{"adds": [{"entry_id": "..", "pdq": "..", "classification": ".."},
//	          {"entry_id": "..", "video": {"frames": [{"pdq": "..", "quality": 90, "seconds": 0}, ...]}}],
//	 "deletes": ["entry_id", ...],
//	 "updates": [{"entry_id": "..", "pdq": "..", "classification": ".."}]}
//
// It is the one import format that carries video entries. Unknown fields are
// refused; a refusal names the field at fault (adds[3].video.frames[12].pdq).
func parseJSON(data []byte) (NewVersion, error) {
	var v NewVersion
	if err := strictjson.Unmarshal(data, &v); err != nil {
		return NewVersion{}, jsonRefusal(err, func(reason string) error {
			return errs.Invalidf("custos_json", "content", "not a custos version (a JSON object with \"adds\" and \"deletes\"): %v", reason)
		})
	}
	for _, list := range []struct {
		name    string
		entries []DocEntry
	}{{"adds", v.Adds}, {"updates", v.Updates}} {
		for i, a := range list.entries {
			e, err := newEntry(check.Index(list.name, i), a)
			if err != nil {
				return NewVersion{}, fieldErr(err)
			}
			list.entries[i] = e
		}
	}
	for i, d := range v.Deletes {
		if !entryIDRE.MatchString(d) {
			return NewVersion{}, fieldErr(errs.Invalidf("entry_id", check.Index("deletes", i), "an entry id is 1 to 128 letters, digits or . _ : -"))
		}
	}
	return v, nil
}

// jsonRefusal reports strictjson's refusal of an imported list: a key given
// twice or bytes that are not UTF-8 (rules duplicate_key, utf8) as fieldErr
// does, the path within the list in the message (in adds[3].pdq: …);
// anything else (not JSON, a value of another type, an unknown key or one in
// another case than its field's, something after the document) as the
// format's own refusal, notFormat, given the reason, which names the path.
func jsonRefusal(err error, notFormat func(reason string) error) error {
	e, ok := errs.As(err)
	switch {
	case !ok:
		return notFormat(err.Error())
	case (e.Rule == "duplicate_key" || e.Rule == "utf8") && e.Field != "":
		return fieldErr(e)
	case e.Rule == "unknown_field":
		return notFormat(e.Field + ": " + e.Message)
	}
	return notFormat(e.Message)
}

// fieldErr reports a refusal inside an imported list as one of its content,
// naming the field within the list.
func fieldErr(err error) error {
	if e, ok := errs.As(err); ok {
		return errs.Invalidf(e.Rule, "content", "in %s: %s", e.Field, e.Message)
	}
	return err
}

// reconcile fits an imported list to the bank it goes into, for lists that
// restate entries (an NCMEC feed sends an entry again when it changes, and
// deletions of entries this bank may never have held): an add of an entry
// the bank holds with other content becomes an update of that entry (the
// version replaces its content; counted in Updates). An add of an entry the
// bank holds unchanged is counted already_held, one of an entry it deleted
// earlier withdrawn (entry ids are never reused, and an entry withdrawn
// after disputes must not come back unseen); a deletion of an entry it does
// not hold is counted delete_not_held. Those are left out of the version.
// Publish checks the bank again in its transaction.
//
// held says that nothing is left and the list restates what the bank holds
// (an entry held unchanged, a deletion of an entry the bank deleted
// already): the same list imported again, which publishes nothing and is
// answered unchanged. A list with nothing left and nothing of the bank's in
// it (every record one a bank cannot hold, or none at all) is refused
// empty_version, naming what it held: importing it again would not help.
func (s *Service) reconcile(ctx context.Context, p *auth.Principal, bankID string, v NewVersion, st *ImportStats) (_ NewVersion, held bool, _ error) {
	b, err := getBank(ctx, s.DB.Read(), bankID)
	if err != nil {
		return v, false, err
	}
	if b.OwnerID != p.AuthorityID {
		return v, false, errs.Alertf(errs.Forbidden, "own_bank", "bank_id", "bank %s belongs to %s; only its owner publishes to it", bankID, b.OwnerID)
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+heldColumns+" FROM hm_entries WHERE bank_id = ?", bankID)
	if err != nil {
		return v, false, err
	}
	list, err := store.Rows(rows, scanHeld)
	if err != nil {
		return v, false, fmt.Errorf("bank %s: %w", bankID, err)
	}
	have := make(map[string]heldEntry, len(list))
	for _, h := range list {
		have[h.e.EntryID] = h
	}
	var out NewVersion
	for _, a := range append(slices.Clip(v.Adds), v.Updates...) {
		h, ok := have[a.EntryID]
		switch {
		case !ok:
			out.Adds = append(out.Adds, a)
		case !h.live:
			st.leaveOut(NotHeldWithdrawn, "", true, a.EntryID)
		case sameEntry(h.e, a):
			st.leaveOut(NotHeldAlreadyHeld, "", true, a.EntryID)
			held = true
		default:
			out.Updates = append(out.Updates, a)
		}
	}
	for _, d := range v.Deletes {
		h, ok := have[d]
		if h.live {
			out.Deletes = append(out.Deletes, d)
			continue
		}
		st.leaveOut(NotHeldDeleteUnknown, "", true, d)
		held = held || ok // deleted already: the bank is as the list says
	}
	st.Adds, st.Deletes, st.Updates = len(out.Adds), len(out.Deletes), len(out.Updates)
	switch {
	case st.Adds > 0 || st.Deletes > 0 || st.Updates > 0:
		return out, false, nil
	case held:
		return out, true, nil
	}
	return out, false, errs.Invalidf("empty_version", "content", "nothing to publish: the list's %d records are not imported (%s)", st.Skipped, strings.Join(st.Summary(i18n.FromContext(ctx)), "; "))
}

// sameEntry tells whether two normalized entries hold the same.
func sameEntry(a, b DocEntry) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
