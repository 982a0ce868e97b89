package transplant

import (
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/custos-project/custos/internal/auth"
)

// DemoAssessor is the name of the demo's assessor of the designated
// authority for trafficking reports, whose token the demo prints.
const DemoAssessor = "Assessor, Demoland Rapporteur on Organ Trafficking"

// demoAddress is a demo authority's notification address: a functional
// address on a reserved domain (RFC 2606), made of its name.
func demoAddress(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return "vigilance@" + strings.TrimSuffix(b.String(), "-") + ".example"
}

// demoLanguages are the languages of some demo centres' e-mails; the others
// take the registry's.
var demoLanguages = map[int]string{2: "fr", 6: "es", 9: "ar"}

// contact gives a demo authority its notification address, in the language
// chosen for it.
func (g *demoGen) contact(id, name, language string) error {
	_, err := g.d.Authorities.SetContact(g.ctx, g.d.Admin, id, auth.Contact{Email: demoAddress(name), Language: language})
	return err
}

// trafficking creates the designated authority for trafficking reports and
// its assessor, and four reports filed by coordinators, which the assessor
// works: one confirmed, assessed and referred to law enforcement (the
// UNODC return counts it), one under assessment, one just received, one
// assessed as not confirmed and closed as unfounded (docs/trafficking.md).
func (g *demoGen) trafficking(at time.Time) error {
	ctx := g.ctx
	da, err := g.d.Authorities.CreateAuthority(ctx, g.d.Admin, auth.NewAuthority{Name: "Demoland Rapporteur on Organ Trafficking", Kind: KindTraffickingAuthority})
	if err != nil {
		return err
	}
	assessor, err := g.d.Principal(ctx, DemoAssessor, RoleTraffickingAssessor, da.ID)
	if err != nil {
		return err
	}
	g.assessor = assessor
	reports := []struct {
		centre     int
		indicators []string
		text       string
		statuses   []string
		assessment *TraffickingAssessment
	}{
		{0, []string{"recruitment.intermediary", "travel.donor_brought", "finance.payment_to_donor"},
			"A living kidney donor said in the pre-donation interview that a man who arranged her travel was paid for the 'match'; the recipient's family paid the fare (synthetic).",
			[]string{TraffickingUnderAssessment, TraffickingReferred},
			&TraffickingAssessment{Conclusion: AssessmentConfirmed, Year: at.Year(), Organ: "kidney",
				Donor:     CasePerson{Nationality: "XB", Sex: "female", AgeBand: "25-34"},
				Recipient: CasePerson{Nationality: "XA", Sex: "male", AgeBand: "55-64"}}},
		{1, []string{"travel.for_transplant", "travel.returned_without_records"},
			"A recipient presented for follow-up after a kidney transplantation abroad, with no discharge letter and no information on the donor (synthetic).",
			[]string{TraffickingUnderAssessment}, nil},
		{3, []string{"documents.held_by_other"}, "The interpreter accompanying a prospective living donor kept the donor's passport throughout the visit (synthetic).", nil, nil},
		{5, []string{"recruitment.relationship"},
			"The relationship declared between a living donor and the recipient (cousins) could not be checked at the first visit (synthetic).",
			[]string{TraffickingUnderAssessment, TraffickingUnfounded},
			&TraffickingAssessment{Conclusion: AssessmentNotConfirmed, Year: at.Year(), Organ: "kidney",
				Donor:     CasePerson{Nationality: "XA", Sex: "male", AgeBand: "35-44"},
				Recipient: CasePerson{Nationality: "XA", Sex: "male", AgeBand: "35-44"}}},
	}
	for i, r := range reports {
		g.d.SetClock(at.Add(time.Duration(i) * 24 * time.Hour))
		rc, err := g.svc.FileTraffickingReport(ctx, g.centres[r.centre].coord, NewTraffickingReport{Indicators: r.indicators, Text: r.text})
		if err != nil {
			return fmt.Errorf("demo trafficking report %d: %w", i+1, err)
		}
		for k, st := range r.statuses {
			g.d.SetClock(at.Add(time.Duration(i)*24*time.Hour + time.Duration(k+1)*time.Hour))
			if k == len(r.statuses)-1 && r.assessment != nil {
				if _, err := g.svc.AssessTraffickingReport(ctx, assessor, rc.Reference, *r.assessment); err != nil {
					return fmt.Errorf("demo trafficking assessment %d: %w", i+1, err)
				}
				if r.assessment.Conclusion == AssessmentConfirmed {
					g.confirmed = rc.Reference
				}
			}
			if _, err := g.svc.SetTraffickingStatus(ctx, assessor, rc.Reference, st); err != nil {
				return fmt.Errorf("demo trafficking report %d: %w", i+1, err)
			}
		}
	}
	g.d.Progress(fmt.Sprintf("demo: %d suspected-trafficking reports filed, one confirmed", len(reports)))
	return nil
}
