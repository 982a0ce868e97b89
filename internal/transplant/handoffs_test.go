package transplant_test

import (
	"bytes"
	"compress/zlib"
	"context"
	"image"
	"image/color"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	qr "github.com/piglig/go-qr"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// handoffWorld is a vigilWorld with a second donor of centre A whose two
// kidneys are procured: the first allocated to a recipient of centre B (an
// authorization on file), the second not allocated.
type handoffWorld struct {
	*vigilWorld
	travelling, staying, recipientB string
}

func newHandoffWorld(t *testing.T, dsn string) *handoffWorld {
	t.Helper()
	ctx := context.Background()
	w := &handoffWorld{vigilWorld: newVigilWorld(t, dsn)}
	s := w.svc
	d, err := s.RegisterDonor(ctx, w.coordA, deceasedDonor(w.CentreA))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordConsent(ctx, w.coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2),
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}); err != nil {
		t.Fatal(err)
	}
	pr, err := s.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: apptest.Hours(6), Organs: []string{"kidney", "kidney"}})
	if err != nil {
		t.Fatal(err)
	}
	w.travelling, w.staying = pr.Organs[0].ID, pr.Organs[1].ID
	r, err := s.RegisterRecipient(ctx, w.coordB, recipient(w.CentreB, "kidney"))
	if err != nil {
		t.Fatal(err)
	}
	w.recipientB = r.ID
	if _, err := s.AuthorizeTransplant(ctx, w.coordB, authorization(w.travelling, r.ID, w.CentreB)); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestHandoffs: scanning an organ's label at each step of its journey
// records the chain of custody, which the trace and the organ's custody
// show, the last hand-off saying where the organ is. Each refusal names its
// rule and field and records no hand-off.
func TestHandoffs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newHandoffWorld(t, dsn)
		s := w.svc
		hand := func(p *auth.Principal, organ, step string, f func(*transplant.NewHandoff)) error {
			in := transplant.NewHandoff{OrganID: organ, Step: step, Place: "Theatre 2"}
			if f != nil {
				f(&in)
			}
			_, err := s.RecordHandoff(ctx, p, in)
			return err
		}
		cases := []struct {
			name        string
			err         func() error
			code        errs.Code
			rule, field string
			alert       bool
		}{
			{"an unknown organ", func() error { return hand(w.coordA, ghostOrgan(t), transplant.StepProcurementTheatre, nil) }, errs.NotFound, "reference", "organ_id", false},
			{"a bad check character", func() error {
				return hand(w.coordA, mistyped(w.travelling), transplant.StepProcurementTheatre, nil)
			}, errs.Invalid, "organ_id_check", "organ_id", false},
			{"not an organ identifier", func() error { return hand(w.coordA, "DN-12", transplant.StepProcurementTheatre, nil) }, errs.Invalid, "organ_id_format", "organ_id", false},
			{"a step not in the list", func() error { return hand(w.coordA, w.travelling, "lost", nil) }, errs.Invalid, "enum", "step", false},
			{"an organ transplanted", func() error { return hand(w.coordA, w.kidneyA, transplant.StepTransport, nil) }, errs.Conflict, "organ_final", "organ_id", false},
			{"the procurement theatre of another centre", func() error {
				return hand(w.coordB, w.travelling, transplant.StepProcurementTheatre, nil)
			}, errs.Forbidden, "organ_holder", "organ_id", true},
			{"arrival where the organ is not allocated", func() error { return hand(w.coordA, w.staying, transplant.StepArrival, nil) }, errs.Forbidden, "organ_holder", "organ_id", true},
			{"transport by a centre that does not hold it", func() error { return hand(w.coordB, w.staying, transplant.StepTransport, nil) }, errs.Forbidden, "organ_holder", "organ_id", true},
			{"for another centre", func() error {
				return hand(w.coordA, w.travelling, transplant.StepTransport, func(h *transplant.NewHandoff) { h.CentreID = w.CentreB })
			}, errs.Forbidden, "own_centre", "centre_id", true},
			{"a regulator", func() error { return hand(w.regulator, w.travelling, transplant.StepTransport, nil) }, errs.Forbidden, "role", "", false},
			{"before the procurement", func() error {
				return hand(w.coordA, w.travelling, transplant.StepProcurementTheatre, func(h *transplant.NewHandoff) { h.HandedAt = apptest.Hours(8) })
			}, errs.Invalid, "dates_in_order", "handed_at", false},
			{"in the future", func() error {
				return hand(w.coordA, w.travelling, transplant.StepProcurementTheatre, func(h *transplant.NewHandoff) { h.HandedAt = "2999-01-01T00:00:00Z" })
			}, errs.Invalid, "dates_in_order", "handed_at", false},
			{"a place on two lines", func() error {
				return hand(w.coordA, w.travelling, transplant.StepProcurementTheatre, func(h *transplant.NewHandoff) { h.Place = "a\nb" })
			}, errs.Invalid, "control_character", "place", false},
		}
		for _, c := range cases {
			size := w.LogSize(t)
			w.refused(t, c.name, c.err(), c.code, c.rule, c.field, c.alert, size)
			if n := w.count(t, "SELECT COUNT(*) FROM organ_handoffs"); n != 0 {
				t.Fatalf("%s: %d hand-offs recorded", c.name, n)
			}
		}

		// The journey: the scanner types the label with its line end and
		// the AIM identifier of a QR Code.
		steps := []struct {
			p    *auth.Principal
			step string
		}{{w.coordA, transplant.StepProcurementTheatre}, {w.coordA, transplant.StepTransport}, {w.coordB, transplant.StepTransport},
			{w.coordB, transplant.StepArrival}}
		for i, st := range steps {
			scan := w.travelling
			if i == 1 {
				scan = "]Q1" + strings.ToLower(strings.ReplaceAll(scan, "-", "")) + "\r\n"
			}
			if err := hand(st.p, scan, st.step, func(h *transplant.NewHandoff) { h.Place = "place " + strconv.Itoa(i) }); err != nil {
				t.Fatalf("hand-off %d (%s): %v", i, st.step, err)
			}
		}
		size := w.LogSize(t)
		w.refused(t, "a step out of order", hand(w.coordB, w.travelling, transplant.StepTransport, nil), errs.Conflict, "handoff_order", "step", false, size)
		w.refused(t, "a step again", hand(w.coordB, w.travelling, transplant.StepArrival, nil), errs.Conflict, "handoff_order", "step", false, size)
		w.refused(t, "before the last hand-off", hand(w.coordB, w.travelling, transplant.StepTransplantTheatre,
			func(h *transplant.NewHandoff) { h.HandedAt = apptest.Hours(5) }), errs.Invalid, "dates_in_order", "handed_at", false, size)

		c, err := s.OrganCustody(ctx, w.auditor, strings.ToLower(w.travelling))
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Handoffs) != 4 || c.Location == nil || c.Location.Step != transplant.StepArrival || c.Location.CentreID != w.CentreB ||
			c.Location.Place != "place 3" || c.Handoffs[0].Step != transplant.StepProcurementTheatre || c.Handoffs[0].RecordedBy != w.coordA.ID {
			t.Fatalf("custody: %+v", c)
		}
		tr, err := s.TraceOrgan(ctx, w.auditor, w.travelling)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range tr.Donors[0].Organs {
			switch o.ID {
			case w.travelling:
				if len(o.Custody) != 4 || o.Location == nil || o.Location.Step != transplant.StepArrival {
					t.Errorf("trace of the travelling kidney: custody %+v, location %+v", o.Custody, o.Location)
				}
			case w.staying:
				if o.Custody != nil || o.Location != nil {
					t.Errorf("trace of the kidney not handed off: custody %+v", o.Custody)
				}
			}
		}

		if err := hand(w.coordB, w.travelling, transplant.StepTransplantTheatre, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RecordTransplant(ctx, w.coordB, transplant.NewTransplant{OrganID: w.travelling, RecipientID: w.recipientB,
			PerformedAt: apptest.Hours(0)}); err != nil {
			t.Fatal(err)
		}
		size = w.LogSize(t)
		w.refused(t, "after the transplantation", hand(w.coordB, w.travelling, transplant.StepTransplantTheatre, nil), errs.Conflict, "organ_final", "organ_id", false, size)
		if n := w.count(t, "SELECT COUNT(*) FROM organ_handoffs"); n != 5 {
			t.Errorf("%d hand-offs recorded, want 5", n)
		}
	})
}

// TestLabel: an organ's label carries the shipping data and no personal
// data, a sample's names the organ it travels with; the PDF, in both sizes,
// parses, and its QR Code, drawn back from the PDF's rectangles, decodes to
// the organ identifier as the scan form reads it.
func TestLabel(t *testing.T) {
	ctx := context.Background()
	w := newHandoffWorld(t, storetest.SQLite(t))
	s := w.svc
	l, err := s.OrganLabel(ctx, w.auditor, w.travelling, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.OrganID != w.travelling || l.Organ != "kidney" || l.OriginID != w.CentreA || l.DestinationID != w.CentreB ||
		l.Destination == "" || l.BloodGroup != "O" || l.ProcuredAt == "" {
		t.Errorf("label: %+v", l)
	}
	if l2, err := s.OrganLabel(ctx, w.auditor, w.staying, "spleen"); err != nil || l2.DestinationID != "" || l2.Sample != "spleen" {
		t.Errorf("label of a sample of an organ not allocated: %+v, %v", l2, err)
	}
	if _, err := s.OrganLabel(ctx, w.auditor, w.staying, "urine"); ruleOf(err) != "enum" {
		t.Errorf("a sample not in the list: %v", err)
	}
	if _, err := s.OrganLabel(ctx, w.auditor, mistyped(w.staying), ""); ruleOf(err) != "organ_id_check" {
		t.Errorf("a mistyped organ: %v", err)
	}
	cat := w.App.Languages
	for _, size := range transplant.LabelSizes {
		for _, lang := range []string{"en", "ru", "ar"} {
			var b bytes.Buffer
			if err := transplant.WriteLabelPDF(&b, l, size, cat.Localizer(lang)); err != nil {
				t.Fatalf("%s %s: %v", size, lang, err)
			}
			pdf := b.Bytes()
			if !bytes.HasPrefix(pdf, []byte("%PDF-1.")) || !bytes.Contains(pdf, []byte("%%EOF")) || !bytes.Contains(pdf, []byte("/FontFile2")) {
				t.Fatalf("%s %s: not a PDF with an embedded TrueType font", size, lang)
			}
			text, img := pdfContent(t, pdf)
			if got, err := qr.Decode(img); err != nil || got != w.travelling {
				t.Errorf("%s %s: the QR Code decodes to %q (%v), want %s", size, lang, got, err, w.travelling)
			}
			if id, err := transplant.ParseScan(w.travelling); err != nil || id.String() != w.travelling {
				t.Errorf("the scan form does not read %s back: %v", w.travelling, err)
			}
			if !strings.Contains(text, "/MediaBox [0 0 "+map[string]string{"100x150": "283.46 425.20", "4x6": "288.00 432.00"}[size]) {
				t.Errorf("%s: the page is not of the label's size", size)
			}
			for _, personal := range []string{"Test Donor", "Test Recipient", w.recipientB} {
				if bytes.Contains(pdf, []byte(personal)) {
					t.Errorf("%s %s: the label holds %q", size, lang, personal)
				}
			}
		}
	}
	if l := transplant.PDFLocalizer(cat.Localizer("zh")); l.Code() != "en" {
		t.Errorf("a PDF for a reader of Chinese is in %s, want English (the HTML label is theirs)", l.Code())
	}
}

func ruleOf(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Rule
	}
	return ""
}

// pdfContent reads a PDF as fpdf writes it: its objects as text, with every
// stream inflated, and the filled rectangles of its page drawn into an
// image (one pixel a point) from which a QR Code can be read.
func pdfContent(t *testing.T, pdf []byte) (string, image.Image) {
	t.Helper()
	var text strings.Builder
	rest := pdf
	for {
		i := bytes.Index(rest, []byte("stream\n"))
		if i < 0 {
			text.Write(rest)
			break
		}
		text.Write(rest[:i])
		rest = rest[i+len("stream\n"):]
		j := bytes.Index(rest, []byte("\nendstream"))
		if j < 0 {
			t.Fatal("a stream without its end")
		}
		if zr, err := zlib.NewReader(bytes.NewReader(rest[:j])); err == nil {
			if b, err := io.ReadAll(zr); err == nil {
				text.Write(b)
			}
		}
		rest = rest[j+len("\nendstream"):]
	}
	s := text.String()
	// "x y w h re f", y from the page's foot and h negative; drawn four
	// pixels a point.
	re := regexp.MustCompile(`([0-9.]+) ([0-9.]+) ([0-9.]+) ([-0-9.]+) re f`)
	const px, w, h = 4, 300, 440
	img := image.NewGray(image.Rect(0, 0, w*px, h*px))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	n := 0
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		var v [4]float64
		for k := range v {
			v[k], _ = strconv.ParseFloat(m[k+1], 64)
		}
		if v[2] > 5 { // the band, not a module
			continue
		}
		n++
		top, bottom := h-v[1], h-(v[1]+v[3])
		for y := int(math.Round(top * px)); y < int(math.Round(bottom*px)); y++ {
			for x := int(math.Round(v[0] * px)); x < int(math.Round((v[0]+v[2])*px)); x++ {
				img.SetGray(x, y, color.Gray{})
			}
		}
	}
	if n == 0 {
		t.Fatal("no module of a QR Code in the PDF")
	}
	return s, img
}

// FuzzParseScan: whatever a scanner types, ParseScan never panics, and what
// it accepts is an identifier whose printed form it reads back the same.
func FuzzParseScan(f *testing.F) {
	for _, s := range []string{"XA-26-000123-02-K", "]Q1XA2600012302K\r\n", " xa 26 000123 02 k\t", "]d2", "]", "", "XA-26-000123-02-K\x00", "ÿ]Q1XA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := transplant.ParseScan(s)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("%q: a refusal that is not an errs.Error: %v", s, err)
			}
			return
		}
		back, err := transplant.ParseScan(id.String())
		if err != nil || back != id {
			t.Fatalf("%q read as %s, which reads back as %v, %v", s, id, back, err)
		}
	})
}
