package hashmatch

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/custos-project/custos/internal/errs"
)

// NCMECNamespace is the XML namespace of NCMEC's hash-sharing API, version 2.
const NCMECNamespace = "https://hashsharing.ncmec.org/hashsharing/v2"

// A page of NCMEC's hash-sharing v2 entries (GET /v2/entries), as NCMEC
// documents it and python-threatexchange's client reads it:
//
//	<queryResult xmlns="https://hashsharing.ncmec.org/hashsharing/v2">
//	  <images count="2" maxTimestamp="2017-10-24T15:10:00Z">
//	    <image><member id="42">Example Member</member><timestamp>…</timestamp><id>image1</id>
//	      <classification>A1</classification>
//	      <fingerprints><md5>…</md5><sha1>…</sha1><pdna>…</pdna><pdq>…</pdq></fingerprints></image>
//	    <deletedImage><member id="43">…</member><id>image4</id><timestamp>…</timestamp></deletedImage>
//	  </images>
//	  <videos count="2" maxTimestamp="…">
//	    <video>… <fingerprints><md5>…</md5><sha1>…</sha1><tmk-pdqf rel="self" href="…"/></fingerprints></video>
//	    <deletedVideo>… <id>video4</id></deletedVideo>
//	  </videos>
//	  <paging><next>/v2/entries?from=…&amp;start=2001&amp;size=1000&amp;max=3000</next></paging>
//	</queryResult>
//
// An image is held with its pdq (and md5, sha256); a video with its vPDQ
// frames, which NCMEC's own fingerprints do not carry: custos writes them,
// and reads them, in a <vpdq> fingerprint of its own (the vPDQ signal string
// of python-threatexchange: a JSON array of "PDQHEX,QUALITY,SECONDS"), and
// with its md5 (and sha256); a video with an md5 and no vpdq is held by its
// MD5 alone. What cannot be held is counted in the stats, never dropped
// unsaid.
type ncmecResult struct {
	XMLName xml.Name     `xml:"queryResult"`
	Images  []ncmecGroup `xml:"images"`
	Videos  []ncmecGroup `xml:"videos"`
	Paging  []struct {
		Next string `xml:"next"`
	} `xml:"paging"`
	Other []ncmecAny `xml:",any"`
}

type ncmecGroup struct {
	Items []ncmecItem `xml:",any"`
}

type ncmecAny struct {
	XMLName xml.Name
}

type ncmecItem struct {
	XMLName xml.Name
	// ID and Classification are lists so that an element given twice is
	// refused, not read as its last copy.
	ID             []string `xml:"id"`
	Classification []string `xml:"classification"`
	Fingerprints   []struct {
		Values []ncmecFingerprint `xml:",any"`
	} `xml:"fingerprints"`
}

type ncmecFingerprint struct {
	XMLName xml.Name
	Href    string `xml:"href,attr"`
	Value   string `xml:",chardata"`
}

// ncmecOp is one image, video or deletion of a page, in document order.
type ncmecOp struct {
	id    string
	del   bool
	entry DocEntry
}

func parseNCMEC(data []byte, st *ImportStats) (NewVersion, error) {
	var r ncmecResult
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	if err := dec.Decode(&r); err != nil {
		return NewVersion{}, errs.Invalidf("ncmec_xml", "content", "not NCMEC hash-sharing v2 XML (a <queryResult> of <images> and <videos>): %v", err)
	}
	if ns := r.XMLName.Space; ns != "" && ns != NCMECNamespace {
		return NewVersion{}, errs.Invalidf("ncmec_xml", "content", "the <queryResult> is in namespace %q; NCMEC's v2 namespace is %s", ns, NCMECNamespace)
	}
	for _, o := range r.Other {
		if o.XMLName.Local == "deletedEntries" {
			return NewVersion{}, errs.Invalidf("ncmec_xml", "content",
				"<deletedEntries> is not NCMEC's v2 format: a deletion is an <images>/<deletedImage> or a <videos>/<deletedVideo>")
		}
		st.leaveOut(NotHeldElement, o.XMLName.Local, false, "queryResult/"+o.XMLName.Local)
	}
	if len(r.Paging) > 1 {
		return NewVersion{}, errs.Invalidf("ncmec_xml", "content", "a page has one <paging>, this one has %d", len(r.Paging))
	}
	if len(r.Paging) == 1 {
		st.Next = strings.TrimSpace(r.Paging[0].Next)
	}
	var ops []ncmecOp
	for _, g := range []struct {
		groups     []ncmecGroup
		add, del   string
		isVideo    bool
		parentPath string
	}{{r.Images, "image", "deletedImage", false, "images"}, {r.Videos, "video", "deletedVideo", true, "videos"}} {
		n := 0
		for _, grp := range g.groups {
			for _, it := range grp.Items {
				n++
				where := fmt.Sprintf("%s/%s[%d]", g.parentPath, it.XMLName.Local, n)
				if it.XMLName.Local != g.add && it.XMLName.Local != g.del {
					return NewVersion{}, errs.Invalidf("ncmec_xml", "content", "%s: <%s> has <%s> and <%s> only", where, g.parentPath, g.add, g.del)
				}
				if len(it.ID) > 1 {
					return NewVersion{}, errs.Invalidf("ncmec_xml", "content", "%s: one <id>, not %d", where, len(it.ID))
				}
				id := ""
				if len(it.ID) == 1 {
					id = strings.TrimSpace(it.ID[0])
				}
				if !entryIDRE.MatchString(id) {
					return NewVersion{}, errs.Invalidf("entry_id", "content", "%s: the <id> %q is not an entry id (1 to 128 letters, digits or . _ : -)", where, id)
				}
				if it.XMLName.Local == g.del {
					ops = append(ops, ncmecOp{id: id, del: true})
					continue
				}
				e, ok, err := ncmecEntry(it, id, g.isVideo, st)
				if err != nil {
					return NewVersion{}, errs.Invalidf("ncmec_xml", "content", "%s (id %q): %s", where, id, errText(err))
				}
				if ok {
					ops = append(ops, ncmecOp{id: id, entry: e})
				}
			}
		}
	}
	// A later record of the same id supersedes an earlier one.
	last := map[string]int{}
	for i, o := range ops {
		last[o.id] = i
	}
	var v NewVersion
	for i, o := range ops {
		switch {
		case last[o.id] != i:
			st.leaveOut(NotHeldSuperseded, "", true, o.id)
		case o.del:
			v.Deletes = append(v.Deletes, o.id)
		default:
			v.Adds = append(v.Adds, o.entry)
		}
	}
	return v, nil
}

// ncmecEntry reads one image or video; ok is false when it cannot be held
// (counted in st).
func ncmecEntry(it ncmecItem, id string, video bool, st *ImportStats) (DocEntry, bool, error) {
	e := DocEntry{EntryID: id}
	if len(it.Classification) > 1 {
		return e, false, errs.Invalidf("ncmec_xml", "classification", "one <classification>, not %d", len(it.Classification))
	}
	if len(it.Classification) == 1 {
		e.Classification = strings.TrimSpace(it.Classification[0])
	}
	if len(it.Fingerprints) > 1 {
		return e, false, errs.Invalidf("ncmec_xml", "fingerprints", "one <fingerprints>, not %d", len(it.Fingerprints))
	}
	var other []string
	seen := map[string]bool{}
	if len(it.Fingerprints) == 1 {
		for _, f := range it.Fingerprints[0].Values {
			name := strings.ToLower(f.XMLName.Local)
			val := strings.TrimSpace(f.Value)
			if seen[name] {
				return e, false, errs.Invalidf("ncmec_xml", "fingerprints", "the fingerprint <%s> is given twice", name)
			}
			seen[name] = true
			switch {
			case name == "md5":
				e.MD5 = val
			case name == "sha256":
				e.SHA256 = val
			case name == "pdq" && !video:
				e.PDQ = val
			case name == "vpdq" && video:
				frames, err := parseVPDQSignal(val)
				if err != nil {
					return e, false, err
				}
				e.Video = &VideoHash{Frames: frames}
			default:
				other = append(other, name)
			}
		}
	}
	if video && e.Video == nil && e.MD5 != "" {
		// A video known by its MD5 only (NCMEC's own video fingerprints
		// are no vPDQ): held as such, it matches that file exactly.
		e.Video = &VideoHash{}
	}
	if (!video && e.PDQ == "") || (video && e.Video == nil) {
		rule := NotHeldImageWithoutPDQ
		if video {
			rule = NotHeldVideoWithoutVPDQ
		}
		st.leaveOut(rule, strings.Join(append(fingerprintNames(e), other...), ","), true, id)
		return e, false, nil
	}
	e, err := newEntry("entry", e)
	if err != nil {
		return e, false, err
	}
	for _, o := range other {
		st.leaveOut(NotHeldFingerprint, o, false, id)
	}
	return e, true, nil
}

// fingerprintNames names the digests an entry that cannot be held has.
func fingerprintNames(e DocEntry) []string {
	var out []string
	if e.MD5 != "" {
		out = append(out, "md5")
	}
	if e.SHA256 != "" {
		out = append(out, "sha256")
	}
	return out
}

// errText is the message of a refusal, without its field.
func errText(err error) string {
	if e, ok := errs.As(err); ok {
		if e.Field != "" && e.Field != "content" {
			return e.Field + ": " + e.Message
		}
		return e.Message
	}
	return err.Error()
}
