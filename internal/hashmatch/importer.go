package hashmatch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
)

// Import formats. The mappings are documented in docs/hashmatch.md.
const (
	FormatHex        = "hex"        // one PDQ hash per line, optional classification and entry id
	FormatNCMEC      = "ncmec"      // NCMEC hash-sharing style XML of images (adds) and deletedEntries
	FormatProjectVIC = "projectvic" // Project VIC / VICS style JSON (OData "value" array of media)
	FormatJSON       = "json"       // custos's own: the body of a publish request, image and video entries
)

// Formats lists the import formats.
var Formats = []string{FormatHex, FormatNCMEC, FormatProjectVIC, FormatJSON}

// MaxImport is the largest list accepted in one import.
const MaxImport = 64 << 20

// ImportStats says what an import read.
type ImportStats struct {
	Adds    int `json:"adds"`
	Deletes int `json:"deletes"`
	Skipped int `json:"skipped"` // records without a PDQ hash (MD5/SHA-only records)
}

// ParseList reads a hash list into the adds and deletes of a version. It
// refuses malformed input with the line or record at fault.
func ParseList(format string, data []byte) (NewVersion, *ImportStats, error) {
	if len(data) > MaxImport {
		return NewVersion{}, nil, errs.New(errs.TooLarge, "import_size", "content", "a list is at most %d bytes; split it into several versions", MaxImport)
	}
	var v NewVersion
	var st ImportStats
	var err error
	switch format {
	case FormatHex:
		v, err = parseHex(data)
	case FormatNCMEC:
		v, st.Skipped, err = parseNCMEC(data)
	case FormatProjectVIC:
		v, st.Skipped, err = parseProjectVIC(data)
	case FormatJSON:
		v, err = parseJSON(data)
	default:
		return v, nil, check.OneOf("format", format, Formats)
	}
	if err != nil {
		return NewVersion{}, nil, err
	}
	st.Adds, st.Deletes = len(v.Adds), len(v.Deletes)
	if st.Adds == 0 && st.Deletes == 0 {
		return NewVersion{}, nil, errs.Invalidf("empty_list", "content", "the list has no entry with a PDQ hash and no deletion")
	}
	return v, &st, nil
}

// parseHex reads lines "PDQHEX [CLASSIFICATION [ENTRY_ID]]" separated by
// spaces, tabs or commas; "#" starts a comment; blank lines are skipped. The
// entry id defaults to the hash itself.
func parseHex(data []byte) (NewVersion, error) {
	var v NewVersion
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 64*1024)
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
		}
		e, err := normalizeEntry("line "+strconv.Itoa(n), e)
		if err != nil {
			return v, lineErr(n, err)
		}
		v.Adds = append(v.Adds, e)
	}
	if err := sc.Err(); err != nil {
		return v, errs.Invalidf("hex_list", "content", "line %d: %v", n+1, err)
	}
	return v, nil
}

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

// NCMEC-style XML, modelled on NCMEC's hash-sharing API responses:
//
//	<queryResult>
//	  <images>
//	    <image><id>4711</id><classification>A1</classification>
//	      <fingerprints><md5>..</md5><sha1>..</sha1><pdq>..</pdq></fingerprints></image>
//	  </images>
//	  <deletedEntries><image><id>4700</id></image></deletedEntries>
//	</queryResult>
type ncmecResult struct {
	XMLName xml.Name     `xml:"queryResult"`
	Images  []ncmecImage `xml:"images>image"`
	Deleted []ncmecImage `xml:"deletedEntries>image"`
}

type ncmecImage struct {
	ID             string `xml:"id"`
	Classification string `xml:"classification"`
	MD5            string `xml:"fingerprints>md5"`
	SHA256         string `xml:"fingerprints>sha256"`
	PDQ            string `xml:"fingerprints>pdq"`
}

func parseNCMEC(data []byte) (NewVersion, int, error) {
	var v NewVersion
	var r ncmecResult
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&r); err != nil {
		return v, 0, errs.Invalidf("ncmec_xml", "content", "not NCMEC-style XML (<queryResult> with <images> and <deletedEntries>): %v", err)
	}
	skipped := 0
	for i, im := range r.Images {
		if strings.TrimSpace(im.PDQ) == "" {
			skipped++
			continue
		}
		e, err := normalizeEntry("image", DocEntry{EntryID: strings.TrimSpace(im.ID), PDQ: strings.TrimSpace(im.PDQ),
			MD5: im.MD5, SHA256: im.SHA256, Classification: strings.TrimSpace(im.Classification)})
		if err != nil {
			return v, 0, recordErr("image", i+1, im.ID, err)
		}
		v.Adds = append(v.Adds, e)
	}
	for i, im := range r.Deleted {
		id := strings.TrimSpace(im.ID)
		if !entryIDRE.MatchString(id) {
			return v, 0, recordErr("deleted image", i+1, id, errs.Invalidf("entry_id", "id", "an entry id is 1 to 128 letters, digits or . _ : -"))
		}
		v.Deletes = append(v.Deletes, id)
	}
	return v, skipped, nil
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
type vicDoc struct {
	Value []vicMedia `json:"value"`
}

type vicMedia struct {
	MediaID           json.RawMessage `json:"MediaID"`
	Category          *int            `json:"Category"`
	MD5               string          `json:"MD5"`
	SHA256            string          `json:"SHA256"`
	PDQ               string          `json:"PDQ"`
	Deleted           bool            `json:"Deleted"`
	AlternativeHashes []struct {
		HashName  string `json:"HashName"`
		HashValue string `json:"HashValue"`
	} `json:"AlternativeHashes"`
}

func parseProjectVIC(data []byte) (NewVersion, int, error) {
	var v NewVersion
	var d vicDoc
	if err := json.Unmarshal(data, &d); err != nil {
		return v, 0, errs.Invalidf("projectvic_json", "content", "not Project VIC-style JSON (an object with a \"value\" array of media): %v", err)
	}
	skipped := 0
	for i, m := range d.Value {
		id := strings.Trim(strings.TrimSpace(string(m.MediaID)), `"`)
		if !entryIDRE.MatchString(id) {
			return v, 0, recordErr("media", i+1, id, errs.Invalidf("entry_id", "MediaID", "MediaID must be a number or an id of 1 to 128 letters, digits or . _ : -"))
		}
		if m.Deleted {
			v.Deletes = append(v.Deletes, id)
			continue
		}
		h := m.PDQ
		for _, a := range m.AlternativeHashes {
			if strings.EqualFold(a.HashName, "PDQ") && h == "" {
				h = a.HashValue
			}
		}
		if strings.TrimSpace(h) == "" {
			skipped++
			continue
		}
		class := "vic-unspecified"
		if m.Category != nil {
			class = fmt.Sprintf("vic-%d", *m.Category)
		}
		e, err := normalizeEntry("media", DocEntry{EntryID: id, PDQ: h, MD5: m.MD5, SHA256: m.SHA256, Classification: class})
		if err != nil {
			return v, 0, recordErr("media", i+1, id, err)
		}
		v.Adds = append(v.Adds, e)
	}
	return v, skipped, nil
}

// parseJSON reads custos's own format, the body of a publish request:
//
//	{"adds": [{"entry_id": "..", "pdq": "..", "classification": ".."},
//	          {"entry_id": "..", "video": {"frames": [{"pdq": "..", "quality": 90, "seconds": 0}, ...]}}],
//	 "deletes": ["entry_id", ...]}
//
// It is the one import format that carries video entries. Unknown fields are
// refused; a refusal names the field at fault (adds[3].video.frames[12].pdq).
func parseJSON(data []byte) (NewVersion, error) {
	var v NewVersion
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return NewVersion{}, errs.Invalidf("custos_json", "content", "not a custos version (a JSON object with \"adds\" and \"deletes\"): %v", err)
	}
	if dec.More() {
		return NewVersion{}, errs.Invalidf("custos_json", "content", "send one JSON object, with nothing after it")
	}
	for i, a := range v.Adds {
		e, err := normalizeEntry(check.Index("adds", i), a)
		if err != nil {
			return NewVersion{}, fieldErr(err)
		}
		v.Adds[i] = e
	}
	for i, d := range v.Deletes {
		if !entryIDRE.MatchString(d) {
			return NewVersion{}, fieldErr(errs.Invalidf("entry_id", check.Index("deletes", i), "an entry id is 1 to 128 letters, digits or . _ : -"))
		}
	}
	return v, nil
}

// fieldErr reports a refusal inside an imported list as one of its content,
// naming the field within the list.
func fieldErr(err error) error {
	if e, ok := errs.As(err); ok {
		return errs.Invalidf(e.Rule, "content", "in %s: %s", e.Field, e.Message)
	}
	return err
}
