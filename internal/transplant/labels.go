package transplant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-pdf/fpdf"
	qr "github.com/piglig/go-qr"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
)

// ---- Labels of organs and samples (docs/vigilance.md, "Labels and hand-offs") ----
//
// Every organ, and every donor sample shipped with it, travels with a label:
// a QR Code of the organ identifier, exactly as the scan form reads it, and
// the minimum shipping data. No personal data is printed.

// SampleKinds are the donor samples that travel with an organ, for typing
// and crossmatch at the transplant centre (as OPTN TransNet labels them).
// A sample has no record of its own: its label names the organ it travels
// with and carries that organ's identifier, and its hand-offs are the
// organ's.
var SampleKinds = []string{"blood", "lymph_node", "spleen"}

// LabelSizes are the label printers' sizes a PDF label is made in: 100 by
// 150 mm, the usual size of thermal shipping labels outside North America,
// and 4 by 6 inches (101.6 by 152.4 mm), the North American one.
var LabelSizes = []string{"100x150", "4x6"}

// labelMM is each size's width and height in millimetres.
var labelMM = map[string][2]float64{"100x150": {100, 150}, "4x6": {101.6, 152.4}}

// PDFLanguages are the languages a PDF label is written in: those whose
// script the embedded Go fonts draw without shaping (Latin, Cyrillic). A
// label in Arabic or Chinese is the HTML label, which the browser shapes
// and prints; the PDF of a reader of another language is in English.
var PDFLanguages = []string{"en", "es", "fr", "ru"}

// Label is what an organ's or a sample's label shows.
type Label struct {
	OrganID string `json:"organ_id"`
	Organ   string `json:"organ"`
	// Sample is the kind of sample for a sample's label, empty for the
	// organ's.
	Sample        string `json:"sample,omitempty"`
	Status        string `json:"status"`
	OriginID      string `json:"origin_centre_id"`
	Origin        string `json:"origin_centre"`
	ProcuredAt    string `json:"procured_at"`
	DestinationID string `json:"destination_centre_id,omitempty"`
	Destination   string `json:"destination_centre,omitempty"`
	BloodGroup    string `json:"blood_group,omitempty"`
}

// labelSQL reads an organ's label: the organ, its donor's blood group, the
// procuring centre, and the centre of its latest per-procedure
// authorization, where it is allocated.
const labelSQL = `SELECT o.id, o.organ, ` + organStatus + `, p.centre_id, COALESCE(pc.name, ''), p.procured_at, d.blood_group,
	COALESCE((SELECT ta.centre_id FROM transplant_authorizations ta WHERE ta.organ_id = o.id ORDER BY ta.log_index DESC LIMIT 1), '')
	FROM organs o JOIN procurements p ON p.id = o.procurement_id JOIN donors d ON d.id = o.donor_id
	LEFT JOIN authorities pc ON pc.id = p.centre_id WHERE o.id = ?`

// OrganLabel returns the label of an organ, or of a sample of the kind
// given that travels with it.
func (s *Service) OrganLabel(ctx context.Context, p *auth.Principal, id, sample string) (*Label, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	oid, err := ParseScan(id)
	if err != nil {
		return nil, err
	}
	if sample != "" {
		if err := check.OneOf("sample", sample, SampleKinds); err != nil {
			return nil, err
		}
	}
	q := s.DB.Read()
	l := &Label{Sample: sample}
	err = q.QueryRow(ctx, labelSQL, oid.String()).Scan(&l.OrganID, &l.Organ, &l.Status, &l.OriginID, &l.Origin, &l.ProcuredAt, &l.BloodGroup, &l.DestinationID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noOrgan(oid.String())
	}
	if err != nil {
		return nil, err
	}
	if l.DestinationID != "" {
		if err := q.QueryRow(ctx, "SELECT name FROM authorities WHERE id = ?", l.DestinationID).Scan(&l.Destination); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// LabelQR is the QR Code of a label: the organ identifier as it is printed
// (ParseScan and the scan form read it back), in the QR Code's alphanumeric
// mode, with the highest error correction (30% of the symbol may be lost to
// frost, a crease or a smear).
func LabelQR(organID string) (*qr.QrCode, error) {
	return qr.EncodeText(organID, qr.High)
}

// The words of a label, translated where shown.
var (
	labelOrgans = map[string]i18n.Msg{"kidney": i18n.M("Kidney"), "liver": i18n.M("Liver"), "heart": i18n.M("Heart"),
		"lung": i18n.M("Lung"), "pancreas": i18n.M("Pancreas"), "intestine": i18n.M("Intestine")}
	// labelSamples are the words of the sample kinds.
	labelSamples = map[string]i18n.Msg{"blood": i18n.M("Donor blood"), "lymph_node": i18n.M("Donor lymph node"),
		"spleen": i18n.M("Donor spleen")}
)

// PDFLocalizer is the localizer a PDF label is written with: l, or English
// when l's script needs shaping or fonts the PDF does not embed.
func PDFLocalizer(l *i18n.Localizer) *i18n.Localizer {
	if slices.Contains(PDFLanguages, l.Code()) {
		return l
	}
	return l.Catalogue().English()
}

// LabelTime writes a label's time: in UTC, which reads the same in every
// time zone the organ crosses.
func LabelTime(at string) string {
	t, err := time.Parse(ledger.TimeLayout, at)
	if err != nil {
		return at
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// WriteLabelPDF writes the label as a one-page PDF of the size given (one
// of LabelSizes), in l's language when it is one of PDFLanguages (else in
// English), with the Go fonts embedded.
func WriteLabelPDF(w io.Writer, lb *Label, size string, l *i18n.Localizer) error {
	dim, ok := labelMM[size]
	if !ok {
		return fmt.Errorf("transplant: no label size %q", size)
	}
	l = PDFLocalizer(l)
	code, err := LabelQR(lb.OrganID)
	if err != nil {
		return err
	}
	wd, ht := dim[0], dim[1]
	pdf := fpdf.NewCustom(&fpdf.InitType{UnitStr: "mm", Size: fpdf.SizeType{Wd: wd, Ht: ht}})
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetTitle(lb.OrganID, true)
	pdf.SetLang(l.Code())
	pdf.SetMargins(5, 5, 5)
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.AddPage()
	inner := wd - 10

	// The band: what the package holds.
	pdf.SetFillColor(0, 0, 0)
	pdf.SetTextColor(255, 255, 255)
	pdf.SetFont("go", "B", 13)
	head := l.T("HUMAN ORGAN FOR TRANSPLANT")
	if lb.Sample != "" {
		head = l.T("DONOR SAMPLE FOR TRANSPLANT")
	}
	pdf.SetXY(5, 5)
	pdf.CellFormat(inner, 10, head, "", 1, "C", true, 0, "")
	pdf.SetTextColor(0, 0, 0)

	// The organ, or the sample and the organ it travels with.
	pdf.SetFont("go", "B", 22)
	pdf.SetXY(5, 18)
	title := l.T(labelOrgans[lb.Organ])
	if lb.Sample != "" {
		title = l.T(labelSamples[lb.Sample])
	}
	pdf.CellFormat(inner, 10, title, "", 1, "L", false, 0, "")
	if lb.Sample != "" {
		pdf.SetFont("go", "", 11)
		pdf.SetX(5)
		pdf.CellFormat(inner, 6, l.T("Travels with organ %s (%s)", lb.OrganID, l.T(labelOrgans[lb.Organ])), "", 1, "L", false, 0, "")
	}

	// The QR Code, 45 mm square with its quiet zone, and the identifier
	// written under it.
	const side, quiet = 45.0, 4
	n := code.Size()
	module := side / float64(n+2*quiet)
	x0, y0 := (wd-side)/2, 36.0
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if code.Module(x, y) {
				pdf.Rect(x0+float64(x+quiet)*module, y0+float64(y+quiet)*module, module, module, "F")
			}
		}
	}
	pdf.SetFont("go", "B", 18)
	pdf.SetXY(5, y0+side+1)
	pdf.CellFormat(inner, 9, lb.OrganID, "", 1, "C", false, 0, "")

	// The shipping data.
	rows := [][2]string{
		{l.T("Origin"), lb.Origin + " (" + lb.OriginID + ")"},
		{l.T("Procured at"), LabelTime(lb.ProcuredAt)},
	}
	if lb.DestinationID != "" {
		rows = append(rows, [2]string{l.T("Destination"), lb.Destination + " (" + lb.DestinationID + ")"})
	} else {
		rows = append(rows, [2]string{l.T("Destination"), l.T("not allocated yet")})
	}
	if lb.BloodGroup != "" {
		rows = append(rows, [2]string{l.T("Donor blood group (ABO)"), lb.BloodGroup})
	}
	pdf.SetY(y0 + side + 11)
	for _, r := range rows {
		pdf.SetX(5)
		pdf.SetFont("go", "", 9)
		pdf.CellFormat(inner, 4, r[0], "", 1, "L", false, 0, "")
		pdf.SetX(5)
		pdf.SetFont("go", "B", 11)
		pdf.MultiCell(inner, 5, r[1], "", "L", false)
		pdf.Ln(0.8)
	}

	// What to do with it.
	pdf.SetFont("go", "", 8)
	pdf.SetXY(5, ht-13)
	pdf.MultiCell(inner, 4, l.T("Scan this label at every hand-off. It holds no personal data."), "T", "C", false)
	return pdf.Output(w)
}

// LabelQuery reads the query of a label's address: sample (one of
// SampleKinds, empty for the organ's label) and size (one of LabelSizes,
// 100x150 when absent). Any other parameter, or one given twice, is refused.
func LabelQuery(q url.Values) (sample, size string, err error) {
	for k, v := range q {
		if k != "sample" && k != "size" {
			k = errs.Echo(k, errs.MaxEchoed)
			return "", "", errs.Invalidf("query", k, "a label has no parameter %s; it takes sample and size", k)
		}
		if len(v) > 1 {
			return "", "", errs.Invalidf("query", k, "%s is given more than once", k)
		}
	}
	sample, size = q.Get("sample"), q.Get("size")
	if sample != "" {
		if err := check.OneOf("sample", sample, SampleKinds); err != nil {
			return "", "", err
		}
	}
	if size == "" {
		size = LabelSizes[0]
	}
	if err := check.OneOf("size", size, LabelSizes); err != nil {
		return "", "", err
	}
	return sample, size, nil
}

// ServeLabel answers with the PDF of label l, of the size given, in loc's
// language where the PDF can be (WriteLabelPDF): the API's label and the
// web UI's.
func ServeLabel(w http.ResponseWriter, l *Label, size string, loc *i18n.Localizer) error {
	name := "label-" + l.OrganID
	if l.Sample != "" {
		name += "-" + l.Sample
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	return WriteLabelPDF(w, l, size, loc)
}
