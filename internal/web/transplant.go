package web

import (
	"cmp"
	"embed"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation: the section ----
//
// Its pages are under /transplant/. The releases before sections served them
// at the root (/donors, /recipients, /organs, /transplant-authorizations,
// /transplants, /trace, /centres): those paths keep working (Legacy), a GET
// redirected to the new path, a POST answered where it is.

//go:embed templates/transplant/*.html
var transplantFS embed.FS

// transplantPages are the section's handlers.
type transplantPages struct {
	svc         *transplant.Service
	authorities *auth.Authorities // registers centres
}

// Transplant returns the section of the organ donation and transplantation
// registry, served by svc; the administrator registers centres through
// authorities.
func Transplant(svc *transplant.Service, authorities *auth.Authorities) Section {
	t := &transplantPages{svc: svc, authorities: authorities}
	sec := Section{
		Name:  transplant.Module.Name,
		Title: transplant.Module.Title,
		Roles: rolesOf(transplant.Module.Roles),
		Nav: func(p *auth.Principal) []Link {
			return append(append(transplantNav(p), traffickingNav(p)...), godtNav(p)...)
		},
		Home:      func(p *auth.Principal) *Card { return cmp.Or(transplantHome(p), traffickingHome(p)) },
		Dashboard: t.dashboard,
		Pages: append([]Page{
			get("/donors", t.donors).Allowed(transplant.Read),
			post("/donors", t.registerDonor).Allowed(transplant.Record),
			get("/donors/{id}", t.donor).Allowed(transplant.Read),
			post("/donors/{id}/consents", t.recordConsent).Allowed(transplant.Record),
			post("/donors/{id}/procurements", t.recordProcurement).Allowed(transplant.Record),
			post("/donors/{id}/personal-data", t.donorPersonalData).Allowed(transplant.ReadPersonalData),
			get("/recipients", t.recipients).Allowed(transplant.Read),
			post("/recipients", t.registerRecipient).Allowed(transplant.Record),
			get("/recipients/{id}", t.recipient).Allowed(transplant.Read),
			post("/recipients/{id}/personal-data", t.recipientPersonalData).Allowed(transplant.ReadPersonalData),
			get("/donors/export", t.export(transplant.ListDonors)).Allowed(transplant.Read),
			get("/recipients/export", t.export(transplant.ListRecipients)).Allowed(transplant.Read),
			get("/organs", t.organs).Allowed(transplant.Read),
			get("/organs/export", t.export(transplant.ListOrgans)).Allowed(transplant.Read),
			post("/transplant-authorizations", t.authorizeTransplant).Allowed(transplant.Record),
			get("/transplants/new", t.transplantForm).Allowed(transplant.Record),
			post("/transplants", t.recordTransplant).Allowed(transplant.Record),
			get("/trace", t.trace).Allowed(transplant.Read),
			get("/persons", t.persons).Allowed(transplant.ReadPersonalData),
			post("/persons", t.findPerson).Allowed(transplant.ReadPersonalData),
			get("/centres", t.centres).Allowed(transplant.Read),
			post("/centres", t.registerCentre).Allowed(auth.ManageAuthorities),
			post("/centres/{id}/authorizations", t.grantCentre).Allowed(transplant.AuthorizeCentres),
			post("/centres/{id}/authorizations/{aid}/revoke", t.revokeCentre).Allowed(transplant.AuthorizeCentres),
		}, append(append(t.traffickingPages(), t.unodcPages()...), t.godtPages()...)...),
		Templates: subFS(transplantFS, "templates/transplant"),
		Lists: map[string][]string{
			"organ":            transplant.OrganTypes,
			"donor_kind":       transplant.DonorKinds,
			"consent_kind":     transplant.ConsentKinds,
			"blood_group":      transplant.BloodGroups,
			"sex":              transplant.Sexes,
			"yes_no":           transplant.YesNo,
			"test_result":      transplant.TestResults,
			"activity":         transplant.Activities,
			"recipient_status": transplant.RecipientStatuses,
			"procedure_kind":   transplant.ProcedureKinds,
		},
		Labels: withLabels(transplantLabels, traffickingLabels),
		Legacy: true,
	}
	// Vigilance (transplant_vigilance.go): new pages, with no old path; the
	// home card reads the coordinator's open notifications.
	sec.Pages = append(sec.Pages, t.vigilancePages()...)
	sec.Pages = append(sec.Pages, t.procedurePages()...)
	sec.Pages = append(sec.Pages, t.subjectRightsPages()...)
	sec.Lists["erasure_ground"] = privacy.GroundNames()
	sec.Labels = withLabels(sec.Labels, groundLabels)
	sec.Pages = append(sec.Pages, t.crossBorderPages()...)
	sec.Lists = withVigilance(sec.Lists, vigilanceLists)
	sec.Lists = withVigilance(sec.Lists, crossBorderLists)
	sec.Lists = withVigilance(sec.Lists, assessmentLists)
	sec.Labels = withVigilance(sec.Labels, vigilanceLabels)
	sec.Labels = withVigilance(sec.Labels, assessmentLabels)
	nav := sec.Nav
	sec.Nav = func(p *auth.Principal) []Link {
		links := nav(p)
		if len(links) > 0 {
			links = append(links, vigilanceNav(p)...)
		}
		return links
	}
	sec.Home = func(p *auth.Principal) *Card {
		c := transplantHome(p)
		if c == nil {
			return nil
		}
		if d, ok := c.Data.(transplantCard); ok {
			d.Vigilance = vigilanceCard{svc, p}
			c.Data = d
		}
		return c
	}
	withHandoffs(&sec, t)
	withOversight(&sec, t)
	withAudits(&sec, t)
	return sec
}

// transplantCard is the data of the section's home card; Vigilance lists a
// coordinator's open notifications (vigilanceCard.Open).
type transplantCard struct {
	CanRecord, CanGrant, CanManage bool
	Vigilance                      vigilanceCard
}

// transplantLabels are the words of every value of the section's lists,
// shown by "label" and as the options of its selects, in the reader's
// language: no value falls back to its code capitalised.
var transplantLabels = map[string]string{
	"kidney":                           i18n.M("Kidney"),
	"liver":                            i18n.M("Liver"),
	"heart":                            i18n.M("Heart"),
	"lung":                             i18n.M("Lung"),
	"pancreas":                         i18n.M("Pancreas"),
	"intestine":                        i18n.M("Intestine"),
	"procurement":                      i18n.M("Procurement"),
	"transplantation":                  i18n.M("Transplantation"),
	transplant.DonorBrainDeath:         i18n.M("Deceased, after brain death (DBD)"),
	transplant.DonorCirculatoryDeath:   i18n.M("Deceased, after circulatory death (DCD)"),
	transplant.DonorLiving:             i18n.M("Living"),
	transplant.DonorDomino:             i18n.M("Domino (a recipient's explanted liver)"),
	transplant.ProcedureSingle:         i18n.M("one organ"),
	transplant.ProcedureDoubleKidney:   i18n.M("double kidney"),
	transplant.ProcedureEnBlocKidney:   i18n.M("en-bloc kidneys"),
	transplant.ProcedureDoubleLung:     i18n.M("double lung"),
	transplant.ProcedureKidneyPancreas: i18n.M("kidney-pancreas"),
	transplant.ProcedureHeartLung:      i18n.M("heart-lung"),
	transplant.ProcedureLiverKidney:    i18n.M("liver-kidney"),
	transplant.ProcedureLiverIntestine: i18n.M("liver-intestine"),
	transplant.ConsentLiving:           i18n.M("Living donor's informed consent"),
	transplant.ConsentFamily:           i18n.M("Family authorization"),
	transplant.ConsentRegistry:         i18n.M("Donor registry authorization"),
	"A":                                i18n.M("A"),
	"B":                                i18n.M("B"),
	"AB":                               i18n.M("AB"),
	"O":                                i18n.M("O"),
	"female":                           i18n.M("Female"),
	"male":                             i18n.M("Male"),
	"unknown":                          i18n.M("Unknown"),
	"yes":                              i18n.M("Yes"),
	"no":                               i18n.M("No"),
	"negative":                         i18n.M("Negative"),
	"positive":                         i18n.M("Positive"),
	"not_tested":                       i18n.M("Not tested"),
	"waiting":                          i18n.M("Waiting"),
	"transplanted":                     i18n.M("Transplanted"),
	"donor":                            i18n.M("Donor"),
	"recipient":                        i18n.M("Recipient"),
}

// The values the section's pages show as they are, lower case, in the
// reader's language ({{t .Status}}, {{t .Record}}, {{t .Organ}} in a
// sentence): the statuses of organs (an organ's final disposition is its
// status too, transplant.DispositionOutcomes; "exported" is marked with the
// pages that send an organ abroad) and recipients, what a person's record
// is, and the organs. Marked here so that the catalogue holds them: a
// status missing here is written in English in every language.
var _ = []i18n.Msg{i18n.M("procured"), i18n.M("transplanted"), i18n.M("discarded"), i18n.M("research"), i18n.M("waiting"), i18n.M("donor"), i18n.M("recipient"),
	i18n.M("kidney"), i18n.M("liver"), i18n.M("heart"), i18n.M("lung"), i18n.M("pancreas"), i18n.M("intestine")}

// transplantNav: a coordinator records; everyone else who reads the
// registry oversees it, centres first.
func transplantNav(p *auth.Principal) []Link {
	if !p.Can(transplant.Read) {
		return nil
	}
	var links []Link
	if p.Can(transplant.Record) {
		links = []Link{{"/transplant/donors", i18n.M("Donors")}, {"/transplant/recipients", i18n.M("Recipients")},
			{"/transplant/organs", i18n.M("Organs available")}, {"/transplant/trace", i18n.M("Trace")}}
	} else {
		links = []Link{{"/transplant/centres", i18n.M("Centres")}, {"/transplant/trace", i18n.M("Trace")}, {"/transplant/donors", i18n.M("Donors")},
			{"/transplant/recipients", i18n.M("Recipients")}, {"/transplant/organs", i18n.M("Organs available")}}
	}
	if p.Can(transplant.ReadPersonalData) {
		links = append(links, Link{"/transplant/persons", i18n.M("Find a person")})
	}
	return links
}

// transplantHome is the card of whoever reads the registry: the trace
// search, then the steps of recording a donation (a coordinator) or the
// pages of oversight.
func transplantHome(p *auth.Principal) *Card {
	if !p.Can(transplant.Read) {
		return nil
	}
	return &Card{Template: "home", Data: transplantCard{CanRecord: p.Can(transplant.Record), CanGrant: p.Can(transplant.AuthorizeCentres),
		CanManage: p.Can(auth.ManageAuthorities)}}
}

// today is the day of now in UTC, the day the rules read "the future"
// from (check.DateNotFuture): a form's default date and a date input's max.
func today(now time.Time) string { return now.UTC().Format(transplant.DateLayout) }
