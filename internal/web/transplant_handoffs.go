package web

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation: labels and hand-offs (docs/vigilance.md) ----
//
// The label of an organ or of a sample travelling with it, as an HTML page
// that prints on a label printer in every language (the browser shapes
// Arabic and has the Chinese fonts) and as a PDF; the scan form, into which
// a USB barcode scanner types an organ identifier and Enter, each scan a
// hand-off; an optional script adds the camera where the browser reads
// barcodes (BarcodeDetector).

// handoffPages are the section's pages of labels and hand-offs.
func (t *transplantPages) handoffPages() []Page {
	return []Page{
		get("/handoffs", t.handoffs).Allowed(transplant.Record),
		post("/handoffs", t.recordHandoff).Allowed(transplant.Record),
		get("/organs/{id}/label", t.label).Allowed(transplant.Read),
		get("/organs/{id}/label.pdf", t.labelPDF).Allowed(transplant.Read),
	}
}

// withHandoffs adds the pages, lists, words and navigation of labels and
// hand-offs to the section.
func withHandoffs(sec *Section, t *transplantPages) {
	sec.Pages = append(sec.Pages, t.handoffPages()...)
	sec.Lists = withVigilance(sec.Lists, map[string][]string{"handoff_step": transplant.HandoffSteps})
	sec.Labels = withVigilance(sec.Labels, handoffLabels)
	nav := sec.Nav
	sec.Nav = func(p *auth.Principal) []Link {
		links := nav(p)
		if p.Can(transplant.Record) {
			links = append(links, Link{"/transplant/handoffs", i18n.M("Scan a hand-off")})
		}
		return links
	}
}

var handoffLabels = map[string]string{
	transplant.StepProcurementTheatre: i18n.M("Leaving the procurement theatre"),
	transplant.StepTransport:          i18n.M("Handed to transport"),
	transplant.StepArrival:            i18n.M("Arrived at the transplant centre"),
	transplant.StepTransplantTheatre:  i18n.M("In the transplant theatre"),
	"blood":                           i18n.M("Donor blood"),
	"lymph_node":                      i18n.M("Donor lymph node"),
	"spleen":                          i18n.M("Donor spleen"),
	"100x150":                         i18n.M("100 × 150 mm"),
	"4x6":                             i18n.M("4 × 6 in"),
}

// ---- The scan form ----

type handoffsData struct {
	Done    *transplant.Custody // the organ of the hand-off just recorded
	Centres map[string]string
	People  people // who recorded Done's hand-offs (who)
}

func (t *transplantPages) handoffs(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showHandoffs(w, r, s, nil)
}

func (t *transplantPages) showHandoffs(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	if err := s.P.Require(transplant.Record); err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(r.Context(), t.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Scan a hand-off")
	data := handoffsData{Centres: names}
	q := r.URL.Query()
	if n := s.Notice(r); n.Get("done") == "handoff" && ref == nil {
		// the organ the notice names, in the custody the registry holds now
		if c, err := t.svc.OrganCustody(r.Context(), s.P, n.Get("id")); err == nil && c.Location != nil {
			if data.People, err = principalNames(r.Context(), t.svc.DB.Read(), s.P, recorders(c.Handoffs)...); err != nil {
				s.Fail(w, r, err)
				return
			}
			data.Done = c
			pg.Flash = s.T("Hand-off recorded: organ %s, %s.", c.OrganID, s.T(handoffLabels[c.Location.Step]))
		}
	}
	// The step and the place stay as they were, for the next scan.
	step := q.Get("step")
	if !slices.Contains(transplant.HandoffSteps, step) {
		step = transplant.StepProcurementTheatre
	}
	pg.SetForm("handoff", url.Values{"step": {step}, "place": {q.Get("place")}})
	pg.Data = data
	s.Show(w, r, "handoffs", pg, ref)
}

// recorders are the principals who recorded hs.
func recorders(hs []transplant.Handoff) []string {
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.RecordedBy)
	}
	return ids
}

func (t *transplantPages) recordHandoff(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	at, err := localTime(s, "handed_at", v.Get("handed_at"))
	var h *transplant.Handoff
	if err == nil {
		h, err = t.svc.RecordHandoff(r.Context(), s.P, transplant.NewHandoff{OrganID: v.Get("organ_id"), Step: v.Get("step"),
			Place: v.Get("place"), HandedAt: at})
	}
	if err != nil {
		// The scan field is emptied, ready for the next scan.
		kept := url.Values{"step": {v.Get("step")}, "place": {v.Get("place")}, "handed_at": {v.Get("handed_at")}}
		t.showHandoffs(w, r, s, &Refusal{Form: "handoff", Values: kept, Err: err})
		return
	}
	// The step and the place, for the next scan, are the page's query; the
	// organ handed off is the notice's.
	s.RedirectDone(w, r, "/transplant/handoffs?"+url.Values{"step": {h.Step}, "place": {h.Place}}.Encode(),
		url.Values{"done": {"handoff"}, "id": {h.OrganID}})
}

// ---- The label ----

type labelData struct {
	Label   *transplant.Label
	QR      template.HTML // the QR Code, as SVG
	At      string        // the procurement time, in UTC
	Sheet   string        // the label's size: 100x150 or 4x6
	Sizes   []string
	Samples []string
	PDF     bool // the PDF is in the reader's language
}

func (t *transplantPages) label(w http.ResponseWriter, r *http.Request, s *Session) {
	sample, size, err := transplant.LabelQuery(r.URL.Query())
	var l *transplant.Label
	if err == nil {
		l, err = t.svc.OrganLabel(r.Context(), s.P, r.PathValue("id"), sample)
	}
	var svg template.HTML
	if err == nil {
		svg, err = qrSVG(l.OrganID, s.T("QR Code of organ %s", l.OrganID))
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Label")
	pg.Title = s.T("Label of %s", l.OrganID)
	pg.Data = labelData{Label: l, QR: svg, At: transplant.LabelTime(l.ProcuredAt), Sheet: size, Sizes: transplant.LabelSizes,
		Samples: transplant.SampleKinds, PDF: transplant.PDFLocalizer(s.L()) == s.L()}
	s.Show(w, r, "label", pg, nil)
}

func (t *transplantPages) labelPDF(w http.ResponseWriter, r *http.Request, s *Session) {
	sample, size, err := transplant.LabelQuery(r.URL.Query())
	var l *transplant.Label
	if err == nil {
		l, err = t.svc.OrganLabel(r.Context(), s.P, r.PathValue("id"), sample)
	}
	if err == nil {
		err = transplant.ServeLabel(w, l, size, s.L())
	}
	if err != nil {
		s.Fail(w, r, err)
	}
}

// qrSVG draws the QR Code of a label (transplant.LabelQR) as an SVG path,
// one square a dark module, with its quiet zone of four modules.
func qrSVG(organID, alt string) (template.HTML, error) {
	code, err := transplant.LabelQR(organID)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := code.Size()
	var d strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if code.Module(x, y) {
				fmt.Fprintf(&d, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	side := n + 2*quiet
	// Only numbers and the escaped alternative text are written into the
	// markup.
	return template.HTML(fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" class="label-qr" viewBox="0 0 %d %d" role="img" aria-label="%s" shape-rendering="crispEdges"><rect width="%d" height="%d" fill="#fff"/><path d="%s" fill="#000"/></svg>`,
		side, side, template.HTMLEscapeString(alt), side, side, d.String())), nil
}
