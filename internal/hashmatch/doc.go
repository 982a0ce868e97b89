// Package hashmatch is the registry of resolution III: common datasets of
// hashes of known child sexual abuse material, held by competent authorities,
// so that online services can detect, report and remove known images while
// protecting privacy. It never handles abuse material itself: only PDQ hashes
// (and optional MD5/SHA-256 digests), computed by whoever holds the content.
//
// A bank is a hash list owned by a competent authority. Each published
// version (its adds and deletes) is a signed document: the canonical JSON of
// a Doc, signed as a C2SP signed note with the registry's log key, chained to
// the previous version by its SHA-256. Services subscribe to banks, pull
// snapshots or deltas (every pull is a log entry, so who held which list is
// provable), and match hashes: through the API (the server keeps an
// in-memory index per bank) or offline with the custos CLI against a pulled
// snapshot. A match by a service opens a case for human review; a confirmed
// case becomes a report to the authority and a removal record. Every change
// is a log entry with a projector, so custos log verify covers all of it.
//
// See docs/hashmatch.md.
package hashmatch

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/strictjson"
)

// DocFormat names the format of signed bank documents.
const DocFormat = "custos-hashmatch/v1"

// Doc is a signed bank document: one published version (a delta of adds and
// deletes) or, when Snapshot is set, the whole live list at Version.
type Doc struct {
	Format    string     `json:"format"`
	Bank      string     `json:"bank"`
	Name      string     `json:"name"`
	Owner     string     `json:"owner"`
	Kind      string     `json:"kind"`
	Threshold int        `json:"threshold"`
	Version   int        `json:"version"`
	Previous  string     `json:"previous"` // SHA-256 of the previous version's document ("" for version 1); for a snapshot, that of Version's own delta
	Snapshot  bool       `json:"snapshot,omitempty"`
	Adds      []DocEntry `json:"adds"`
	Deletes   []string   `json:"deletes"`
	// Updates are new contents of entries the bank holds (a new hash, new
	// digests, a new classification: NCMEC sends an entry again when it
	// changes); each replaces the live entry of its id. Omitted when empty,
	// so the documents of versions without updates hash as before. A
	// snapshot has none: it lists every live entry's current content.
	Updates []DocEntry `json:"updates,omitempty"`
	// QueryMatchThresholdPct and IndexMatchThresholdPct are, in a snapshot,
	// the bank's vPDQ match percentages, so that an offline scan decides a
	// video match as the registry does. Each is omitted when it is
	// python-threatexchange's default (80 and 0), which is how a snapshot
	// without them reads, so snapshots of banks at the defaults are what
	// they were before the percentages were per bank.
	QueryMatchThresholdPct *float64 `json:"query_match_threshold_pct,omitempty"`
	IndexMatchThresholdPct *float64 `json:"index_match_threshold_pct,omitempty"`
}

// VideoPcts are the vPDQ match percentages a document gives, the defaults
// where it gives none.
func (d *Doc) VideoPcts() (queryPct, indexPct float64) {
	queryPct, indexPct = vpdq.DefaultQueryPct, vpdq.DefaultTargetPct
	if d.QueryMatchThresholdPct != nil {
		queryPct = *d.QueryMatchThresholdPct
	}
	if d.IndexMatchThresholdPct != nil {
		indexPct = *d.IndexMatchThresholdPct
	}
	return queryPct, indexPct
}

// DocEntry is one entry of a bank as distributed: an image's PDQ hash, or a
// video's vPDQ hash (its sampled frames), never both. Both fields are
// omitted when empty, so an image entry's canonical JSON is what it was
// before banks held videos. A video known only by its MD5 (NCMEC and HMA
// share such videos) is a video entry without frames, "video":{}, whose
// md5 is required: it matches an upload with the same MD5, exactly.
type DocEntry struct {
	EntryID        string     `json:"entry_id" api:"required"`
	PDQ            string     `json:"pdq,omitempty"`
	MD5            string     `json:"md5,omitempty"`
	SHA256         string     `json:"sha256,omitempty"`
	Classification string     `json:"classification"`
	Video          *VideoHash `json:"video,omitempty"`
}

// VideoHash is a video's vPDQ hash: the PDQ hashes of its sampled frames,
// in time order; none for a video known only by its MD5 (the frames are
// omitted then, and a video with frames is written as before).
type VideoHash struct {
	Frames []VideoFrame `json:"frames,omitempty"`
}

// VideoFrame is one sampled frame of a video: its PDQ hash, the quality the
// hasher reported (0..100; frames below the minimum quality are kept but
// never matched) and its time in seconds from the start.
type VideoFrame struct {
	PDQ     string  `json:"pdq"`
	Quality int     `json:"quality"`
	Seconds float64 `json:"seconds"`
}

// Canonical returns the document's canonical JSON: compact, fields in the
// order of the Go struct, lists in the order given (entries by entry id).
func (d *Doc) Canonical() ([]byte, error) {
	if d.Adds == nil {
		d.Adds = []DocEntry{}
	}
	if d.Deletes == nil {
		d.Deletes = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// DocSHA256 is the lower-case hex SHA-256 of a canonical document.
func DocSHA256(canonical []byte) string {
	h := sha256.Sum256(canonical)
	return hex.EncodeToString(h[:])
}

// SignDoc signs a canonical document as a note whose text is the JSON and a
// newline, and returns the signature block (the lines after the blank line).
// Ed25519 signatures are deterministic, so the same document always gets the
// same signature.
func SignDoc(signer note.Signer, canonical []byte) (string, error) {
	msg, err := note.Sign(&note.Note{Text: string(canonical) + "\n"}, signer)
	if err != nil {
		return "", err
	}
	_, sig, ok := strings.Cut(string(msg), "\n\n")
	if !ok {
		return "", errors.New("hashmatch: signed note has no signature block")
	}
	return sig, nil
}

// NoteText joins a canonical document and its signature block into the signed
// note a service stores and verifies.
func NoteText(canonical []byte, signature string) string {
	return string(canonical) + "\n\n" + signature
}

// OpenDoc verifies a signed bank note with the registry's verifier key and
// returns its document and SHA-256. It refuses a note not signed by that key
// or whose text is not a bank document.
func OpenDoc(signed []byte, verifierKey string) (*Doc, string, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, "", fmt.Errorf("the public key is not a note verifier key: %w", err)
	}
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return nil, "", fmt.Errorf("the bank file's signature does not verify with this key: %w", err)
	}
	text := strings.TrimSuffix(n.Text, "\n")
	var d Doc
	if err := strictjson.Unmarshal([]byte(text), &d); err != nil {
		return nil, "", fmt.Errorf("the signed text is not a bank document: %w", err)
	}
	if d.Format != DocFormat {
		return nil, "", fmt.Errorf("the signed document has format %q, want %q", d.Format, DocFormat)
	}
	for i, e := range d.Adds {
		if _, err := normalizeEntry(check.Index("adds", i), e); err != nil {
			return nil, "", fmt.Errorf("entry %s: %w", e.EntryID, err)
		}
	}
	if q, ix := d.VideoPcts(); !(q >= 0 && q <= 100 && ix >= 0 && ix <= 100) {
		return nil, "", fmt.Errorf("the document's vPDQ percentages %v and %v are not 0 to 100", q, ix)
	}
	for i, e := range d.Updates {
		if _, err := normalizeEntry(check.Index("updates", i), e); err != nil {
			return nil, "", fmt.Errorf("entry %s: %w", e.EntryID, err)
		}
	}
	return &d, DocSHA256([]byte(text)), nil
}
