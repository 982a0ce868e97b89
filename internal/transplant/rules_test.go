package transplant_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// ruleWorld is an apptest.World with the principals as the service sees
// them and a history to break rules against: a deceased donor at centre A
// with consent and three organs procured (two kidneys, a liver), the first
// kidney transplanted, recipients waiting at both centres, and a living
// donor without consent.
type ruleWorld struct {
	*apptest.World
	svc                                *transplant.Service
	coordA, coordB, regulator, auditor *auth.Principal
	donor, living                      string
	organs                             []string
	done                               string // the recipient of organs[0]
	waitingKidney, waitingKidneyB      string
	waitingLiverB                      string
	revoked                            string // a centre authorization of centre B, revoked
}

func daysAgo(n int) string { return time.Now().UTC().AddDate(0, 0, -n).Format(transplant.DateLayout) }

func intp(n int) *int { return &n }

// people counts the people deceasedDonor and recipient make: each has its
// own national identifier and date of birth, so that no registration looks
// like a duplicate.
var people int

func person() (nationalID, dateOfBirth string) {
	people++
	return fmt.Sprintf("XA%09d", 123456788+people), time.Date(1970, 5, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, people).Format(transplant.DateLayout)
}

func deceasedDonor(centre string) transplant.NewDonor {
	nid, dob := person()
	return transplant.NewDonor{Kind: transplant.DonorBrainDeath, CentreID: centre, Name: "Test Donor (synthetic)",
		NationalID: nid, Sex: "female", BloodGroup: "O", DateOfBirth: dob,
		CauseOfDeath: "cerebrovascular accident", DateOfDeath: daysAgo(2), IVDrugUse: "no", Malignancy: "no",
		TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative", OrganFunction: "normal creatinine"}
}

func livingDonor(centre string) transplant.NewDonor {
	d := deceasedDonor(centre) // another person
	d.Kind, d.CauseOfDeath, d.DateOfDeath = transplant.DonorLiving, "", ""
	return d
}

func recipient(centre, organ string) transplant.NewRecipient {
	nid, dob := person()
	return transplant.NewRecipient{CentreID: centre, Name: "Test Recipient (synthetic)", NationalID: nid + organ,
		Sex: "male", BloodGroup: "O", DateOfBirth: dob, Residence: "XA", OrganNeeded: organ, ListedOn: "2024-01-01"}
}

func authorization(organ, recipient, centre string) transplant.NewTransplantAuthorization {
	return transplant.NewTransplantAuthorization{OrganID: organ, RecipientID: recipient, CentreID: centre, AuthorizedBy: "Dr. M",
		CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}
}

func newRuleWorld(t *testing.T, dsn string) *ruleWorld {
	t.Helper()
	ctx := context.Background()
	w := &ruleWorld{World: apptest.NewWorld(t, dsn)}
	w.svc = w.App.Transplant
	w.coordA, w.coordB = w.Principal(t, w.CoordA), w.Principal(t, w.CoordB)
	w.regulator, w.auditor = w.Principal(t, w.Regulator), w.Principal(t, w.Auditor)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	d, err := w.svc.RegisterDonor(ctx, w.coordA, deceasedDonor(w.CentreA))
	must(err)
	w.donor = d.ID
	_, err = w.svc.RecordConsent(ctx, w.coordA, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2),
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true})
	must(err)
	pr, err := w.svc.RecordProcurement(ctx, w.coordA, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: apptest.Hours(10),
		Organs: []string{"kidney", "kidney", "liver"}})
	must(err)
	for _, o := range pr.Organs {
		w.organs = append(w.organs, o.ID)
	}
	r, err := w.svc.RegisterRecipient(ctx, w.coordA, recipient(w.CentreA, "kidney"))
	must(err)
	w.done = r.ID
	ta, err := w.svc.AuthorizeTransplant(ctx, w.coordA, authorization(w.organs[0], r.ID, w.CentreA))
	must(err)
	_, err = w.svc.RecordTransplant(ctx, w.coordA, transplant.NewTransplant{OrganID: w.organs[0], RecipientID: r.ID, CentreID: w.CentreA,
		PerformedAt: apptest.Hours(0), AuthorizationID: ta.ID})
	must(err)
	for _, x := range []struct {
		id          *string
		coord       *auth.Principal
		centre, org string
	}{{&w.waitingKidney, w.coordA, w.CentreA, "kidney"}, {&w.waitingKidneyB, w.coordB, w.CentreB, "kidney"}, {&w.waitingLiverB, w.coordB, w.CentreB, "liver"}} {
		r, err := w.svc.RegisterRecipient(ctx, x.coord, recipient(x.centre, x.org))
		must(err)
		*x.id = r.ID
	}
	l, err := w.svc.RegisterDonor(ctx, w.coordA, livingDonor(w.CentreA))
	must(err)
	w.living = l.ID
	ca, err := w.svc.AuthorizeCentre(ctx, w.regulator, w.CentreB, transplant.NewCentreAuthorization{Activity: "procurement", Organ: "pancreas", ValidFrom: "2020-01-01"})
	must(err)
	_, err = w.svc.RevokeCentreAuthorization(ctx, w.regulator, w.CentreB, ca.ID, "inspection found no theatre")
	must(err)
	w.revoked = ca.ID
	return w
}

// ghostOrgan is a well-formed organ identifier that was never procured: its
// check character is right.
func ghostOrgan(t *testing.T) string {
	t.Helper()
	for _, c := range "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" {
		if id, err := transplant.ParseOrganID("XA-26-999999-01-" + string(c)); err == nil {
			return id.String()
		}
	}
	t.Fatal("no check character makes XA2699999901 valid")
	return ""
}

// mistyped changes the check character of an organ identifier.
func mistyped(id string) string {
	last := id[len(id)-1]
	if last == '0' {
		return id[:len(id)-1] + "1"
	}
	return id[:len(id)-1] + "0"
}

// TestRules drives the registry's rules through the service, on SQLite and
// PostgreSQL: each refusal names its code, rule and field, leaves the log as
// it was, and raises exactly one alert, naming the same rule and field, when
// the rule alerts the regulator. (TestRefusals in internal/httpapi checks the
// same refusals as the API answers them.)
func TestRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		s := w.svc
		donor := func(f func(*transplant.NewDonor)) func() error {
			return func() error {
				in := deceasedDonor(w.CentreA)
				f(&in)
				_, err := s.RegisterDonor(ctx, w.coordA, in)
				return err
			}
		}
		rcpt := func(f func(*transplant.NewRecipient)) func() error {
			return func() error {
				in := recipient(w.CentreA, "kidney")
				f(&in)
				_, err := s.RegisterRecipient(ctx, w.coordA, in)
				return err
			}
		}
		consent := func(donorID string, in transplant.NewConsent) func() error {
			return func() error { _, err := s.RecordConsent(ctx, w.coordA, donorID, in); return err }
		}
		procure := func(p *auth.Principal, donorID, at string, organs ...string) func() error {
			return func() error {
				_, err := s.RecordProcurement(ctx, p, transplant.NewProcurement{DonorID: donorID, ProcuredAt: at, Organs: organs})
				return err
			}
		}
		authorize := func(p *auth.Principal, in transplant.NewTransplantAuthorization, f func(*transplant.NewTransplantAuthorization)) func() error {
			return func() error {
				if f != nil {
					f(&in)
				}
				_, err := s.AuthorizeTransplant(ctx, p, in)
				return err
			}
		}
		record := func(p *auth.Principal, organ, recipient, centre, at string) func() error {
			return func() error {
				_, err := s.RecordTransplant(ctx, p, transplant.NewTransplant{OrganID: organ, RecipientID: recipient, CentreID: centre, PerformedAt: at})
				return err
			}
		}
		listAs := func(p *auth.Principal, centre string) func() error {
			return func() error { _, err := s.RegisterRecipient(ctx, p, recipient(centre, "kidney")); return err }
		}
		revoke := func(centre, reason string) func() error {
			return func() error {
				_, err := s.RevokeCentreAuthorization(ctx, w.regulator, centre, w.revoked, reason)
				return err
			}
		}
		licence := func(p *auth.Principal, centre string, in transplant.NewCentreAuthorization) func() error {
			return func() error { _, err := s.AuthorizeCentre(ctx, p, centre, in); return err }
		}
		independent := transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: daysAgo(1), AssessedBy: "Ethics board",
			AssessorIndependent: true, Voluntary: true, Informed: true}
		ghost := ghostOrgan(t)
		cases := []refusalCase{
			// Who may record.
			{"an auditor may not record", listAs(w.auditor, w.CentreA), errs.Forbidden, "role", "", false},
			{"a coordinator may not authorize centres", licence(w.coordA, w.CentreA, transplant.NewCentreAuthorization{Activity: "procurement", Organ: "heart", ValidFrom: "2020-01-01"}),
				errs.Forbidden, "role", "", false},
			{"a coordinator records only for their own centre", listAs(w.coordA, w.CentreB), errs.Forbidden, "own_centre", "centre_id", true},
			{"a coordinator registers donors only at their own centre", donor(func(d *transplant.NewDonor) { d.CentreID = w.CentreB }),
				errs.Forbidden, "own_centre", "centre_id", true},
			// Donors.
			{"a deceased donor needs a date of death", donor(func(d *transplant.NewDonor) { d.DateOfDeath = "" }), errs.Invalid, "required", "date_of_death", false},
			{"a deceased donor needs a cause of death", donor(func(d *transplant.NewDonor) { d.CauseOfDeath = " " }), errs.Invalid, "required", "cause_of_death", false},
			{"blood group from the list", donor(func(d *transplant.NewDonor) { d.BloodGroup = "Z" }), errs.Invalid, "enum", "blood_group", false},
			{"a donor has a name", donor(func(d *transplant.NewDonor) { d.Name = "" }), errs.Invalid, "required", "name", false},
			{"a name has no control character", donor(func(d *transplant.NewDonor) { d.Name = "Ann\x00" }), errs.Invalid, "control_character", "name", false},
			{"death before birth", donor(func(d *transplant.NewDonor) { d.DateOfDeath = "1960-01-01" }), errs.Invalid, "dates_in_order", "date_of_death", false},
			{"death in the future", donor(func(d *transplant.NewDonor) { d.DateOfDeath = daysAgo(-2) }), errs.Invalid, "dates_in_order", "date_of_death", false},
			{"birth in the future", donor(func(d *transplant.NewDonor) { d.DateOfBirth, d.DateOfDeath = daysAgo(-2), "" }), errs.Invalid, "dates_in_order", "date_of_birth", false},
			{"a date written otherwise", donor(func(d *transplant.NewDonor) { d.DateOfBirth = "01/05/1970" }), errs.Invalid, "date_format", "date_of_birth", false},
			{"a birth date or an age", donor(func(d *transplant.NewDonor) { d.DateOfBirth = "" }), errs.Invalid, "required", "date_of_birth", false},
			{"weight within range", donor(func(d *transplant.NewDonor) { d.WeightKg = intp(0) }), errs.Invalid, "range", "weight_kg", false},
			{"a living donor has not died", donor(func(d *transplant.NewDonor) { d.Kind = transplant.DonorLiving }), errs.Invalid, "living_donor", "date_of_death", false},
			// Consent.
			{"a living donor's consent is assessed independently", consent(w.living, func() transplant.NewConsent { c := independent; c.AssessorIndependent = false; return c }()),
				errs.Invalid, "independent_assessment", "assessor_independent", false},
			{"a living donor's consent is informed and voluntary", consent(w.living, func() transplant.NewConsent { c := independent; c.Voluntary = false; return c }()),
				errs.Invalid, "informed_voluntary", "voluntary", false},
			{"a living donor gives living consent", consent(w.living, func() transplant.NewConsent { c := independent; c.Kind = transplant.ConsentFamily; return c }()),
				errs.Invalid, "consent_kind", "kind", false},
			{"a deceased donation is not consented as living", consent(w.donor, independent), errs.Invalid, "consent_kind", "kind", false},
			{"consent given in the future", consent(w.living, func() transplant.NewConsent { c := independent; c.GivenOn = daysAgo(-1); return c }()),
				errs.Invalid, "dates_in_order", "given_on", false},
			{"consent given before the donor was born", consent(w.living, func() transplant.NewConsent { c := independent; c.GivenOn = "1960-01-01"; return c }()),
				errs.Invalid, "dates_in_order", "given_on", false},
			{"consent of an unknown donor", consent("DN-NOPE", independent), errs.NotFound, "reference", "donor_id", false},
			{"a consent on file already", consent(w.donor, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2),
				AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}), errs.Conflict, "duplicate_consent", "given_on", false},
			// Recipients.
			{"residence is a country code", rcpt(func(r *transplant.NewRecipient) { r.Residence = "Atlantis" }), errs.Invalid, "iso3166", "residence", false},
			{"residence is a known country", rcpt(func(r *transplant.NewRecipient) { r.Residence = "ZZ" }), errs.Invalid, "known_state", "residence", false},
			{"listed before birth", rcpt(func(r *transplant.NewRecipient) { r.ListedOn = "1960-01-01" }), errs.Invalid, "dates_in_order", "listed_on", false},
			{"listed in the future", rcpt(func(r *transplant.NewRecipient) { r.ListedOn = daysAgo(-3) }), errs.Invalid, "dates_in_order", "listed_on", false},
			{"an organ type from the list", rcpt(func(r *transplant.NewRecipient) { r.OrganNeeded = "spleen" }), errs.Invalid, "enum", "organ_needed", false},
			// Procurement.
			{"a living donation needs consent", procure(w.coordA, w.living, apptest.Hours(2), "kidney"), errs.Forbidden, "living_consent", "donor_id", true},
			{"procurement at an unauthorized centre", procure(w.coordB, w.living, apptest.Hours(2), "kidney"), errs.Forbidden, "centre_authorization", "organs[0]", true},
			{"procurement under a revoked authorization", procure(w.coordB, w.living, daysAgo(0)+"T00:00:00Z", "pancreas"), errs.Forbidden, "centre_authorization", "organs[0]", true},
			{"procurement of an organ type the centre may not procure", procure(w.coordA, w.donor, apptest.Hours(2), "heart"), errs.Forbidden, "centre_authorization", "organs[0]", true},
			{"procurement of an unknown donor", procure(w.coordA, "DN-NOPE", apptest.Hours(2), "kidney"), errs.NotFound, "reference", "donor_id", false},
			{"procurement names its donor", procure(w.coordA, "", apptest.Hours(2), "kidney"), errs.Invalid, "required", "donor_id", false},
			{"procurement before death", procure(w.coordA, w.donor, "2001-01-01T00:00:00Z", "kidney"), errs.Invalid, "dates_in_order", "procured_at", false},
			{"procurement in the future", procure(w.coordA, w.donor, "2999-01-01T00:00:00Z", "kidney"), errs.Invalid, "dates_in_order", "procured_at", false},
			{"procurement time written otherwise", procure(w.coordA, w.donor, "yesterday", "kidney"), errs.Invalid, "time_format", "procured_at", false},
			{"a third kidney", procure(w.coordA, w.donor, apptest.Hours(2), "kidney"), errs.Invalid, "organ_count", "organs[0]", false},
			{"no organ", procure(w.coordA, w.donor, apptest.Hours(2)), errs.Invalid, "organ_count", "organs", false},
			{"an unknown organ type", procure(w.coordA, w.donor, apptest.Hours(2), "liver", "spleen"), errs.Invalid, "enum", "organs[1]", false},
			// Per-procedure authorization.
			{"an authorization declares no payment", authorize(w.coordA, authorization(w.organs[1], w.waitingKidney, w.CentreA), func(a *transplant.NewTransplantAuthorization) { a.NoPaymentDeclared = false }),
				errs.Forbidden, "no_payment", "no_payment_declared", true},
			{"an authorization documents compatibility", authorize(w.coordA, authorization(w.organs[1], w.waitingKidney, w.CentreA), func(a *transplant.NewTransplantAuthorization) { a.CompatibilityDocumented = false }),
				errs.Invalid, "compatibility", "compatibility_documented", false},
			{"an authorization names who authorized", authorize(w.coordA, authorization(w.organs[1], w.waitingKidney, w.CentreA), func(a *transplant.NewTransplantAuthorization) { a.AuthorizedBy = "" }),
				errs.Invalid, "required", "authorized_by", false},
			{"an authorization names its recipient", authorize(w.coordA, authorization(w.organs[1], "", w.CentreA), nil), errs.Invalid, "required", "recipient_id", false},
			{"an authorization of another organ type than awaited", authorize(w.coordA, authorization(w.organs[2], w.waitingKidney, w.CentreA), nil), errs.Invalid, "organ_type", "organ_id", false},
			{"an authorization for a recipient no longer waiting", authorize(w.coordA, authorization(w.organs[1], w.done, w.CentreA), nil), errs.Invalid, "waiting_list", "recipient_id", false},
			{"an authorization at a centre not authorized for the organ type", authorize(w.coordB, authorization(w.organs[2], w.waitingLiverB, w.CentreB), nil),
				errs.Forbidden, "centre_authorization", "centre_id", true},
			{"an authorization of an organ already transplanted", authorize(w.coordA, authorization(w.organs[0], w.waitingKidney, w.CentreA), nil),
				errs.Conflict, "organ_available", "organ_id", true},
			{"an authorization of an unknown organ", authorize(w.coordA, authorization(ghost, w.waitingKidney, w.CentreA), nil), errs.NotFound, "reference", "organ_id", false},
			// Transplantation.
			{"a malformed organ id", record(w.coordA, "XA-26-12", w.waitingKidney, w.CentreA, apptest.Hours(1)), errs.Invalid, "organ_id_format", "organ_id", false},
			{"an organ id with a wrong check character", record(w.coordA, mistyped(w.organs[1]), w.waitingKidney, w.CentreA, apptest.Hours(1)), errs.Invalid, "organ_id_check", "organ_id", false},
			{"a transplant of an organ never procured", record(w.coordA, ghost, w.waitingKidney, w.CentreA, apptest.Hours(1)), errs.NotFound, "organ_procured", "organ_id", true},
			{"a transplant of an organ already transplanted", record(w.coordA, w.organs[0], w.waitingKidney, w.CentreA, apptest.Hours(1)), errs.Conflict, "organ_available", "organ_id", true},
			{"a transplant without its authorization", record(w.coordA, w.organs[1], w.waitingKidney, w.CentreA, apptest.Hours(1)), errs.Forbidden, "procedure_authorization", "authorization_id", true},
			{"a transplant at a centre not authorized for the organ type", record(w.coordB, w.organs[2], w.waitingLiverB, w.CentreB, apptest.Hours(1)), errs.Forbidden, "centre_authorization", "centre_id", true},
			{"a transplant dated before procurement", record(w.coordB, w.organs[1], w.waitingKidneyB, w.CentreB, apptest.Hours(30)), errs.Invalid, "dates_in_order", "performed_at", false},
			{"a transplant in the future", record(w.coordA, w.organs[1], w.waitingKidney, w.CentreA, "2999-01-01T00:00:00Z"), errs.Invalid, "dates_in_order", "performed_at", false},
			{"a transplant is dated", record(w.coordA, w.organs[1], w.waitingKidney, w.CentreA, ""), errs.Invalid, "required", "performed_at", false},
			{"a transplant of an unknown recipient", record(w.coordA, w.organs[1], "RC-NOPE", w.CentreA, apptest.Hours(1)), errs.NotFound, "reference", "recipient_id", false},
			{"a transplant for another centre", record(w.coordA, w.organs[1], w.waitingKidneyB, w.CentreB, apptest.Hours(1)), errs.Forbidden, "own_centre", "centre_id", true},
			// Centre authorizations.
			{"an authorization ends after it starts", licence(w.regulator, w.CentreB, transplant.NewCentreAuthorization{Activity: "procurement", Organ: "heart", ValidFrom: "2020-01-01", ValidTo: "2019-12-31"}),
				errs.Invalid, "dates_in_order", "valid_to", false},
			{"an activity from the list", licence(w.regulator, w.CentreB, transplant.NewCentreAuthorization{Activity: "storage", Organ: "heart", ValidFrom: "2020-01-01"}),
				errs.Invalid, "enum", "activity", false},
			{"an authorization has a start", licence(w.regulator, w.CentreB, transplant.NewCentreAuthorization{Activity: "procurement", Organ: "heart"}),
				errs.Invalid, "required", "valid_from", false},
			{"only a centre is authorized", licence(w.regulator, w.RegulatorAuthority, transplant.NewCentreAuthorization{Activity: "procurement", Organ: "heart", ValidFrom: "2020-01-01"}),
				errs.Invalid, "reference", "centre_id", false},
			{"an unknown centre", licence(w.regulator, "AU-NOPE", transplant.NewCentreAuthorization{Activity: "procurement", Organ: "heart", ValidFrom: "2020-01-01"}),
				errs.NotFound, "reference", "centre_id", false},
			{"a revocation has a reason", revoke(w.CentreB, " "), errs.Invalid, "required", "reason", false},
			{"an authorization is revoked once", revoke(w.CentreB, "again"), errs.Conflict, "already_revoked", "id", false},
			{"a revocation of another centre's authorization", revoke(w.CentreA, "wrong centre"), errs.NotFound, "reference", "id", false},
		}
		checkRefusals(t, w, cases)
	})
}

// refusalCase is a command that must be refused: its code, rule and
// field, and whether the refusal alerts the regulator.
type refusalCase struct {
	name        string
	do          func() error
	code        errs.Code
	rule, field string
	alert       bool
}

// checkRefusals runs each case: its refusal names its code, rule and field,
// leaves the log as it was, and raises exactly one alert, naming the same
// rule and field, when the rule alerts the regulator.
func checkRefusals(t *testing.T, w *ruleWorld, cases []refusalCase) {
	t.Helper()
	ctx := context.Background()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			size, alerts := w.LogSize(t), alertCount(t, w)
			err := c.do()
			e, ok := errs.As(err)
			if !ok {
				t.Fatalf("got %v, want a refusal %s/%s on %q", err, c.code, c.rule, c.field)
			}
			if e.Code != c.code || e.Rule != c.rule || e.Field != c.field || e.Alert != c.alert {
				t.Fatalf("got %s/%s on %q (alert %t): %s; want %s/%s on %q (alert %t)", e.Code, e.Rule, e.Field, e.Alert, e.Message, c.code, c.rule, c.field, c.alert)
			}
			if e.Message == "" {
				t.Error("the refusal has no message")
			}
			want := 0
			if c.alert {
				want = 1
			}
			// An alert is a leaf, or a repeat of an open one: a leaf too,
			// unless the alert had one less than a minute ago (the repeat
			// is then counted outside the log, ledger.RepeatPeriod).
			grew := w.LogSize(t) - size
			if grew > want || !c.alert && grew != 0 {
				t.Errorf("the log grew by %d leaves, want %d (only the alert)", grew, want)
			}
			if d := alertCount(t, w) - alerts; d != want {
				t.Errorf("alerts (and repeats) grew by %d, want %d", d, want)
			}
			if c.alert && grew == 1 {
				// The last leaf raised the alert, or counted the refusal on
				// the open alert it repeats (the same refusal by the same
				// coordinator a moment ago).
				var data string
				if err := w.App.DB.Read().QueryRow(ctx, "SELECT data FROM log_leaves ORDER BY idx DESC LIMIT 1").Scan(&data); err != nil {
					t.Fatal(err)
				}
				var leaf struct {
					Data struct {
						ID      string `json:"id"`
						AlertID string `json:"alert_id"`
					} `json:"data"`
				}
				if err := json.Unmarshal([]byte(data), &leaf); err != nil {
					t.Fatal(err)
				}
				var rule, field string
				if err := w.App.DB.Read().QueryRow(ctx, "SELECT rule, field FROM alerts WHERE id = ?", leaf.Data.ID+leaf.Data.AlertID).Scan(&rule, &field); err != nil {
					t.Fatal(err)
				}
				if rule != c.rule || field != c.field {
					t.Errorf("the alert names %s on %q, want %s on %q", rule, field, c.rule, c.field)
				}
			}
		})
	}
}

// alertCount counts the refusals recorded for oversight: the alerts raised
// and the retries counted on them, in the log or not yet (alert_repeats).
func alertCount(t *testing.T, w *ruleWorld) int {
	t.Helper()
	var n int
	if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) + COALESCE(SUM(repeats), 0) + (SELECT COALESCE(SUM(count), 0) FROM alert_repeats) FROM alerts").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
