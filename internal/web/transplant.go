package web

import (
	"cmp"
	"embed"
	"time"

	"github.com/custos-project/custos/internal/auth"
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
	return Section{
		Name:      transplant.Module.Name,
		Title:     transplant.Module.Title,
		Roles:     rolesOf(transplant.Module.Roles),
		Nav:       func(p *auth.Principal) []Link { return append(transplantNav(p), traffickingNav(p)...) },
		Home:      func(p *auth.Principal) *Card { return cmp.Or(transplantHome(p), traffickingHome(p)) },
		Dashboard: t.dashboard,
		Pages: append([]Page{
			get("/donors", t.donors),
			post("/donors", t.registerDonor),
			get("/donors/{id}", t.donor),
			post("/donors/{id}/consents", t.recordConsent),
			post("/donors/{id}/procurements", t.recordProcurement),
			post("/donors/{id}/personal-data", t.donorPersonalData),
			get("/recipients", t.recipients),
			post("/recipients", t.registerRecipient),
			get("/recipients/{id}", t.recipient),
			post("/recipients/{id}/personal-data", t.recipientPersonalData),
			get("/donors/export", t.export(transplant.ListDonors)),
			get("/recipients/export", t.export(transplant.ListRecipients)),
			get("/organs", t.organs),
			get("/organs/export", t.export(transplant.ListOrgans)),
			post("/transplant-authorizations", t.authorizeTransplant),
			get("/transplants/new", t.transplantForm),
			post("/transplants", t.recordTransplant),
			get("/trace", t.trace),
			get("/persons", t.persons),
			post("/persons", t.findPerson),
			get("/centres", t.centres),
			post("/centres", t.registerCentre),
			post("/centres/{id}/authorizations", t.grantCentre),
			post("/centres/{id}/authorizations/{aid}/revoke", t.revokeCentre),
		}, t.traffickingPages()...),
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
		},
		Labels: withLabels(transplantLabels, traffickingLabels),
		Legacy: true,
	}
}

var transplantLabels = map[string]string{
	transplant.DonorBrainDeath:       "Deceased, after brain death (DBD)",
	transplant.DonorCirculatoryDeath: "Deceased, after circulatory death (DCD)",
	transplant.DonorLiving:           "Living",
	transplant.ConsentLiving:         "Living donor's informed consent",
	transplant.ConsentFamily:         "Family authorization",
	transplant.ConsentRegistry:       "Donor registry authorization",
	"not_tested":                     "Not tested",
}

// transplantNav: a coordinator records; everyone else who reads the
// registry oversees it, centres first.
func transplantNav(p *auth.Principal) []Link {
	if !p.Can(transplant.Read) {
		return nil
	}
	var links []Link
	if p.Can(transplant.Record) {
		links = []Link{{"/transplant/donors", "Donors"}, {"/transplant/recipients", "Recipients"},
			{"/transplant/organs", "Organs available"}, {"/transplant/trace", "Trace"}}
	} else {
		links = []Link{{"/transplant/centres", "Centres"}, {"/transplant/trace", "Trace"}, {"/transplant/donors", "Donors"},
			{"/transplant/recipients", "Recipients"}, {"/transplant/organs", "Organs available"}}
	}
	if p.Can(transplant.ReadPersonalData) {
		links = append(links, Link{"/transplant/persons", "Find a person"})
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
	return &Card{Template: "home", Data: struct{ CanRecord, CanGrant, CanManage bool }{
		p.Can(transplant.Record), p.Can(transplant.AuthorizeCentres), p.Can(auth.ManageAuthorities)}}
}

func today() string { return time.Now().UTC().Format(transplant.DateLayout) }
