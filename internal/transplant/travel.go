package transplant

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// ---- Residents' transplants and living donations abroad (resolution VI,
// para 6 i; docs/oversight.md) ----
//
// A resident who received a transplant, or gave an organ as a living
// donor, in another jurisdiction is recorded when it becomes known (the
// patient returns, a foreign registry tells, an insurer asks), with the
// standardized information the Declaration of Istanbul Custodian Group
// recommends registries hold on patients who travel for transplantation
// (Domínguez-Gil et al., Transplantation 2018;102(1):2-9): where, when,
// which organ, the donor's type, relation and nationality, whether a
// payment was reported, and whether medical records came back with the
// patient. The person's name and national identifier are sealed as a
// recipient's are; the centre at home that follows the patient up is
// named, and the follow-up schedule runs from the procedure.

// TypeAbroadRecorded is the entry of one record of treatment abroad.
const TypeAbroadRecorded = "transplant.abroad_recorded"

// What was done abroad.
const (
	AbroadTransplant     = "transplant"      // the resident received an organ
	AbroadLivingDonation = "living_donation" // the resident gave an organ as a living donor
)

// The value lists of a record of treatment abroad.
var (
	AbroadKinds = []string{AbroadTransplant, AbroadLivingDonation}
	// KnownThrough: how the registry learned of it.
	KnownThrough = []string{"returning_patient", "foreign_registry", "insurer", "other"}
	// AbroadDonorTypes: the donor of a transplant abroad (a living donation's
	// donor is the resident: living).
	AbroadDonorTypes = []string{"living", "deceased", Unknown}
	// DonorRelations: of a living donor and the recipient.
	DonorRelations = []string{"related", "unrelated", "not_applicable", Unknown}
)

// NewAbroad is the input of RecordAbroad.
type NewAbroad struct {
	Kind        string `json:"kind" api:"required"`
	CentreID    string `json:"centre_id"`    // the centre at home that follows the patient up
	RecipientID string `json:"recipient_id"` // optional: the waiting-list registration it ends
	// The person, sealed: name and national identifier; sex and date of
	// birth are kept as a recipient's are.
	Name        string `json:"name" api:"required"`
	NationalID  string `json:"national_id"`
	Sex         string `json:"sex" api:"required"`
	DateOfBirth string `json:"date_of_birth" api:"required"`
	// Where and when.
	Country       string `json:"country" api:"required"` // ISO 3166-1 alpha-2
	ForeignCentre string `json:"foreign_centre"`         // optional: the hospital, as known
	Organ         string `json:"organ" api:"required"`
	PerformedOn   string `json:"performed_on" api:"required"`
	ReturnedOn    string `json:"returned_on"` // optional
	KnownThrough  string `json:"known_through" api:"required"`
	// The DICG items on the donation.
	DonorType        string `json:"donor_type" api:"required"`
	DonorRelation    string `json:"donor_relation" api:"required"`
	DonorNationality string `json:"donor_nationality" api:"required"` // ISO 3166-1 alpha-2, or unknown
	PaymentReported  string `json:"payment_reported" api:"required"`  // yes, no, unknown: a payment for the organ
	MedicalRecords   string `json:"medical_records" api:"required"`   // yes, no: the foreign centre's records came back
}

// Abroad is a record of treatment abroad, without personal data.
type Abroad struct {
	ID               string `json:"id"`
	Kind             string `json:"kind"`
	SubjectRef       string `json:"subject_ref"`
	PersonPseudonym  string `json:"person_pseudonym"`
	CentreID         string `json:"centre_id"`
	RecipientID      string `json:"recipient_id,omitempty"`
	Sex              string `json:"sex"`
	DateOfBirth      string `json:"date_of_birth"`
	Country          string `json:"country"`
	ForeignCentre    string `json:"foreign_centre"`
	Organ            string `json:"organ"`
	PerformedOn      string `json:"performed_on"`
	ReturnedOn       string `json:"returned_on,omitempty"`
	KnownThrough     string `json:"known_through"`
	DonorType        string `json:"donor_type"`
	DonorRelation    string `json:"donor_relation"`
	DonorNationality string `json:"donor_nationality"`
	PaymentReported  string `json:"payment_reported"`
	MedicalRecords   string `json:"medical_records"`
	RecordedAt       string `json:"recorded_at,omitempty"`
}

// regionRE is a region's code: ISO 3166-2 (XA-NO) or the deployment's own
// short code.
var regionRE = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{0,15}$`)

// checkRegion reads an optional region code, in upper case.
func checkRegion(field, s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s != "" && !regionRE.MatchString(s) {
		return "", errs.Invalidf("region", field, "%s must be a region code such as XA-NO (ISO 3166-2): letters, digits and hyphens, 16 at most", field)
	}
	return s, nil
}

// country reads a country code, or unknown when unknownOK: a recipient's
// residence, a treatment abroad's country and its donor's nationality, a
// trafficking case's donor's and recipient's nationality (CasePerson). No
// field takes ZZ (rule known_state), ISO 3166-1's code for an unknown or
// unspecified state (check.UnknownState): one that does not take unknown
// would pass it for a country other than the registry's (a recipient's
// residence, in the trafficking screening), and one that does writes
// unknown, so that an unknown nationality is counted once, not twice (the
// UNODC return's nationalities, the screening of records abroad). The
// other user-assigned codes pass, as everywhere in custos: a deployment
// names states of its own with them (the demo's Demoland is XA).
func country(field, s string, unknownOK bool) (string, error) {
	s = strings.TrimSpace(s)
	if unknownOK && strings.EqualFold(s, Unknown) {
		return Unknown, nil
	}
	s = strings.ToUpper(s)
	switch {
	case !auth.ValidCountry(s) && unknownOK:
		return "", errs.Invalidf("iso3166", field, "%s must be an ISO 3166-1 alpha-2 code such as FR, or unknown", field)
	case !auth.ValidCountry(s):
		return "", errs.Invalidf("iso3166", field, "%s must be an ISO 3166-1 alpha-2 country code such as FR", field)
	case s == check.UnknownState && unknownOK:
		return "", errs.Invalidf("known_state", field, "%s must name a country, or be unknown: ZZ is ISO 3166-1's code for an unknown or unspecified one, which this field writes unknown", field)
	case s == check.UnknownState:
		return "", errs.Invalidf("known_state", field, "%s must name a country: ZZ is ISO 3166-1's code for an unknown or unspecified one", field)
	}
	return s, nil
}

// validate checks a record of treatment abroad before anything is read.
func (in *NewAbroad) validate() error {
	var err error
	if err = check.OneOf("kind", in.Kind, AbroadKinds); err != nil {
		return err
	}
	if in.Name, err = check.Line("name", in.Name, 200, true); err != nil {
		return err
	}
	if in.NationalID, err = check.Line("national_id", in.NationalID, 64, false); err != nil {
		return err
	}
	if err = check.OneOf("sex", in.Sex, Sexes); err != nil {
		return err
	}
	if in.DateOfBirth, err = check.Date("date_of_birth", in.DateOfBirth, true); err != nil {
		return err
	}
	if in.Country, err = country("country", in.Country, false); err != nil {
		return err
	}
	if in.ForeignCentre, err = check.Line("foreign_centre", in.ForeignCentre, 200, false); err != nil {
		return err
	}
	if err = check.OneOf("organ", in.Organ, OrganTypes); err != nil {
		return err
	}
	if in.PerformedOn, err = check.Date("performed_on", in.PerformedOn, true); err != nil {
		return err
	}
	if in.ReturnedOn, err = check.Date("returned_on", in.ReturnedOn, false); err != nil {
		return err
	}
	if err = check.OneOf("known_through", in.KnownThrough, KnownThrough); err != nil {
		return err
	}
	if err = check.OneOf("donor_type", in.DonorType, AbroadDonorTypes); err != nil {
		return err
	}
	if err = check.OneOf("donor_relation", in.DonorRelation, DonorRelations); err != nil {
		return err
	}
	if in.DonorNationality, err = country("donor_nationality", in.DonorNationality, true); err != nil {
		return err
	}
	if err = check.OneOf("payment_reported", in.PaymentReported, YesNo); err != nil {
		return err
	}
	if err = check.OneOf("medical_records", in.MedicalRecords, RecordsReturned); err != nil {
		return err
	}
	if in.PerformedOn < in.DateOfBirth {
		return errs.Invalidf("dates_in_order", "performed_on", "performed_on (%s) is before date_of_birth (%s)", in.PerformedOn, in.DateOfBirth)
	}
	if in.ReturnedOn != "" && in.ReturnedOn < in.PerformedOn {
		return errs.Invalidf("dates_in_order", "returned_on", "returned_on (%s) is before performed_on (%s)", in.ReturnedOn, in.PerformedOn)
	}
	if in.Kind == AbroadLivingDonation {
		if in.DonorType != "living" {
			return errs.Invalidf("abroad_donor", "donor_type", "a living donation abroad has a living donor: the resident")
		}
		if in.RecipientID != "" {
			return errs.Invalidf("abroad_donor", "recipient_id", "a living donation abroad ends no waiting-list registration")
		}
	}
	if in.DonorType != "living" && in.DonorRelation != "not_applicable" && in.DonorRelation != Unknown {
		return errs.Invalidf("abroad_donor", "donor_relation", "donor_relation is a living donor's: not_applicable for a %s donor", in.DonorType)
	}
	return nil
}

// RecordAbroad records a resident's transplant or living donation
// performed in another jurisdiction. It is refused with dates out of order
// or in the future, a living donation whose donor is not living, for a
// centre that is not the coordinator's (an alert), and with a waiting-list
// registration that is another centre's, needs another organ, was listed
// after the procedure, or is already closed; in the registry's own country
// (abroad_country); or recorded already by the centre (abroad_recorded).
// A transplant recorded is then screened (screenAbroad): a payment reported
// or an unrelated foreign living donor raises an alert.
func (s *Service) RecordAbroad(ctx context.Context, p *auth.Principal, in NewAbroad) (*Abroad, error) {
	const command = "record treatment abroad"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	if err := s.scopeFirst(ctx, p, command, func(ctx context.Context, q store.Queryer) error {
		if in.RecipientID == "" {
			return nil
		}
		_, err := ownRegistration(ctx, q, in.RecipientID, centre)
		return err
	}); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	// Treated abroad is treated in another country: a transplant at home
	// is a transplantation, and counted here it would swell the travel
	// figure of the GODT return.
	home, err := s.Jurisdiction(ctx)
	if err != nil {
		return nil, err
	}
	if in.Country == home {
		return nil, errs.Invalidf("abroad_country", "country", "country is where the resident was treated abroad, not this registry's own (%s): record a transplant here as a transplantation", home)
	}
	id := s.W.IDs().New("AB")
	a, err := ledger.SubmitAs[Abroad](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		for f, d := range map[string]string{"date_of_birth": in.DateOfBirth, "performed_on": in.PerformedOn, "returned_on": in.ReturnedOn} {
			if d != "" {
				if err := check.DateNotFuture(f, d, now); err != nil {
					return nil, err
				}
			}
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		if in.RecipientID != "" {
			if err := abroadRegistration(ctx, tx, in.RecipientID, centre, in.Organ, in.PerformedOn); err != nil {
				return nil, err
			}
		}
		a := Abroad{ID: id, Kind: in.Kind, SubjectRef: "SU-" + id[3:], CentreID: centre, RecipientID: in.RecipientID, Sex: in.Sex,
			DateOfBirth: in.DateOfBirth, Country: in.Country, ForeignCentre: in.ForeignCentre, Organ: in.Organ, PerformedOn: in.PerformedOn,
			ReturnedOn: in.ReturnedOn, KnownThrough: in.KnownThrough, DonorType: in.DonorType, DonorRelation: in.DonorRelation,
			DonorNationality: in.DonorNationality, PaymentReported: in.PaymentReported, MedicalRecords: in.MedicalRecords}
		a.PersonPseudonym = s.pseudonym(ctx, tx, in.NationalID, a.SubjectRef)
		// The same procedure reported again (the patient, then an insurer)
		// is one procedure: counted twice it would swell the travel figures.
		// Known by the person's national identifier, kind, organ and day,
		// among the centre's own records: another centre's would tell a
		// coordinator what they may not read (that a person was treated
		// abroad, and where it is recorded).
		if in.NationalID != "" {
			var other string
			err := tx.QueryRow(ctx, `SELECT id FROM abroad_procedures WHERE person_pseudonym = ? AND kind = ? AND organ = ? AND performed_on = ? AND centre_id = ?`,
				a.PersonPseudonym, a.Kind, a.Organ, a.PerformedOn, centre).Scan(&other)
			if err == nil {
				return nil, errs.New(errs.Conflict, "abroad_recorded", "performed_on", "this person's %s abroad of %s is recorded already (%s)", a.Organ, a.PerformedOn, other)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
		}
		sealed, err := s.storePerson(ctx, tx, a.ID, a.SubjectRef, privacy.Person{Name: in.Name, NationalID: in.NationalID}, in.DateOfBirth, now)
		if err != nil {
			return nil, err
		}
		return sealedEntry(TypeAbroadRecorded, a, sealed)
	})
	if err != nil {
		return nil, err
	}
	return a, s.screenAbroad(ctx, p, a, home)
}

// ownRegistration reads the recipient id, refused when it is on another
// centre's waiting list than centre.
func ownRegistration(ctx context.Context, q store.Queryer, id, centre string) (*Recipient, error) {
	r, err := getRecipient(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if r.CentreID != centre {
		return nil, errs.New(errs.Forbidden, "own_centre", "recipient_id", "recipient %s is on the waiting list of centre %s, not %s", id, r.CentreID, centre)
	}
	return r, nil
}

// abroadRegistration checks the waiting-list registration a transplant
// abroad ends: the centre's, for the organ, listed on or before the
// procedure, and still open.
func abroadRegistration(ctx context.Context, tx *store.Tx, id, centre, organ, on string) error {
	r, err := ownRegistration(ctx, tx, id, centre)
	if err != nil {
		return err
	}
	if r.OrganNeeded != organ {
		return errs.Invalidf("abroad_registration", "organ", "recipient %s is waiting for a %s, not a %s", id, r.OrganNeeded, organ)
	}
	if on < r.ListedOn {
		return errs.Invalidf("dates_in_order", "performed_on", "performed_on (%s) is before recipient %s was listed (%s)", on, id, r.ListedOn)
	}
	st, err := waitlistState(ctx, tx, id)
	if err != nil {
		return err
	}
	if st.closed() {
		return errs.New(errs.Conflict, "waitlist_closed", "recipient_id", "the registration of recipient %s is closed (%s)", id, st.status)
	}
	return nil
}

const abroadCols = `a.id, a.kind, a.subject_ref, a.person_pseudonym, a.centre_id, COALESCE(a.recipient_id, ''), a.sex, a.date_of_birth, a.country,
	a.foreign_centre, a.organ, a.performed_on, COALESCE(a.returned_on, ''), a.known_through, a.donor_type, a.donor_relation,
	a.donor_nationality, a.payment_reported, a.medical_records, a.recorded_at`

func scanAbroad(r store.Scanner, a *Abroad) error {
	return r.Scan(&a.ID, &a.Kind, &a.SubjectRef, &a.PersonPseudonym, &a.CentreID, &a.RecipientID, &a.Sex, &a.DateOfBirth, &a.Country,
		&a.ForeignCentre, &a.Organ, &a.PerformedOn, &a.ReturnedOn, &a.KnownThrough, &a.DonorType, &a.DonorRelation,
		&a.DonorNationality, &a.PaymentReported, &a.MedicalRecords, &a.RecordedAt)
}

// AbroadRecords lists the records of treatment abroad a centre follows (a
// coordinator's own; everyone's for the regulator and the auditor when
// centre is ""), newest procedure first.
func (s *Service) AbroadRecords(ctx context.Context, p *auth.Principal, centre string) ([]Abroad, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	centre, err := centreOf(p, centre)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+abroadCols+" FROM abroad_procedures a WHERE (? = '' OR a.centre_id = ?) ORDER BY a.performed_on DESC, a.id",
		centre, centre)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanAbroad)
}

// abroadOfSQL reads the records of treatment abroad of a recipient's
// registration and of the same person (their pseudonym): what a trace from
// the recipient shows. Its arguments are the recipient's id, twice.
const abroadOfSQL = "SELECT " + abroadCols + ` FROM abroad_procedures a WHERE a.recipient_id = ?
	OR a.person_pseudonym = (SELECT r.person_pseudonym FROM recipients r WHERE r.id = ?) ORDER BY a.performed_on, a.id`

// ---- Travel for transplantation: counts ----

// Travel counts, for one country of destination and year, the residents
// who travelled there for transplantation: the transplants they received
// (by organ, and those with a payment reported) and the living donations
// they gave.
type Travel struct {
	Country          string         `json:"country"`
	Year             int            `json:"year"`
	Transplants      int            `json:"transplants"`
	LivingDonations  int            `json:"living_donations"`
	ByOrgan          map[string]int `json:"by_organ"`
	PaymentsReported int            `json:"payments_reported"`
}

// abroadProcedures are the residents' procedures abroad performed from
// its first argument (a date) to before its second, each counted once: the
// same person's procedure of one kind, organ and day recorded by two
// centres (the patient followed by both, or moved between them) is one
// procedure. A centre's own second record is refused (abroad_recorded);
// another centre's is not, since telling its coordinator would disclose
// that the person was treated abroad. Where the records differ, a payment
// reported by either counts ("yes" sorts after "unknown" and "no") and
// the first country in sort order is the destination. A record without a
// national identifier has a pseudonym of its own and counts alone.
const abroadProcedures = `SELECT MIN(country) AS country, kind, organ, MAX(payment_reported) AS payment_reported
	FROM abroad_procedures WHERE performed_on >= ? AND performed_on < ?
	GROUP BY person_pseudonym, kind, organ, performed_on`

// TravelForTransplantation counts the residents' transplants and living
// donations performed in country (all countries for "") in year (by the
// date of the procedure): the "travel for transplantation" of a GODT
// return. It reads with q and checks no principal: its caller does. The
// counts are raw: a report that publishes them protects them
// (disclosure.Protect), as TravelReport does.
func TravelForTransplantation(ctx context.Context, q store.Queryer, country string, year int) (*Travel, error) {
	from, end := strconv.Itoa(year)+"-01-01", strconv.Itoa(year+1)+"-01-01"
	rows, err := q.Query(ctx, `SELECT kind, organ, payment_reported, COUNT(*) FROM (`+abroadProcedures+`) p
		WHERE (? = '' OR country = ?) GROUP BY kind, organ, payment_reported`, from, end, country, country)
	if err != nil {
		return nil, err
	}
	type row struct {
		kind, organ, paid string
		n                 int
	}
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.kind, &x.organ, &x.paid, &x.n) })
	if err != nil {
		return nil, err
	}
	t := &Travel{Country: country, Year: year, ByOrgan: map[string]int{}}
	for _, r := range rs {
		if r.kind == AbroadLivingDonation {
			t.LivingDonations += r.n
			continue
		}
		t.Transplants += r.n
		t.ByOrgan[r.organ] += r.n
		if r.paid == "yes" {
			t.PaymentsReported += r.n
		}
	}
	return t, nil
}

// ReadOversight is reading the oversight reports (travel for
// transplantation, equity of access, follow-up on time): counts, no record.
var ReadOversight = auth.NewAction("read the oversight reports: travel for transplantation, equity of access, follow-up on time", auth.Regulator, auth.Auditor)

// TravelColumns are the columns of the per-country report's lines: one per
// country and what is counted, the counts protected.
var TravelColumns = []string{"country", "measure", "count"}

// TravelMeasures are what the per-country report counts, each a column of
// its table: transplants by organ, living donations, payments reported.
func TravelMeasures() []string {
	out := []string{}
	for _, o := range OrganTypes {
		out = append(out, "transplant_"+o)
	}
	return append(out, "living_donation", "payment_reported")
}

// TravelReport is the per-country report of travel for transplantation:
// the residents' procedures abroad in the years from to end-1, by country
// of destination, protected by the core's disclosure control. Payments
// reported are a column apart, outside the row total (they count
// transplants already counted): the total counts procedures.
type TravelReport struct {
	From, End int
	Table     disclosure.Published
	Payments  disclosure.Published // by country: transplants with a payment reported
}

// TravelReport counts the residents' procedures abroad performed from the
// year from to the year end-1, by country of destination.
func (s *Service) TravelReport(ctx context.Context, p *auth.Principal, from, end int) (*TravelReport, error) {
	if err := p.Require(ReadOversight); err != nil {
		return nil, err
	}
	if err := check.IntRange("from", &from, firstCaseYear, 9998); err != nil {
		return nil, err
	}
	if err := check.IntRange("end", &end, from+1, 9999); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT country, kind, organ, payment_reported, COUNT(*) FROM (`+abroadProcedures+`) p
		GROUP BY country, kind, organ, payment_reported ORDER BY country`,
		strconv.Itoa(from)+"-01-01", strconv.Itoa(end)+"-01-01")
	if err != nil {
		return nil, err
	}
	type row struct {
		country, kind, organ, paid string
		n                          int
	}
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.country, &x.kind, &x.organ, &x.paid, &x.n) })
	if err != nil {
		return nil, err
	}
	var countries []string
	for _, r := range rs {
		if !slices.Contains(countries, r.country) {
			countries = append(countries, r.country)
		}
	}
	measures := TravelMeasures()
	main := disclosure.Table{Title: "travel", Corner: "country", Rows: countries, Cols: measures[:len(measures)-1], Counts: make([][]int, len(countries))}
	paid := disclosure.Table{Title: "payments", Corner: "country", Rows: countries, Cols: []string{"payment_reported", "no_payment_reported"}, Counts: make([][]int, len(countries))}
	for i := range countries {
		main.Counts[i] = make([]int, len(main.Cols))
		paid.Counts[i] = make([]int, 2)
	}
	for _, r := range rs {
		i := slices.Index(countries, r.country)
		if r.kind == AbroadLivingDonation {
			main.Counts[i][len(main.Cols)-1] += r.n
			continue
		}
		main.Counts[i][slices.Index(main.Cols, "transplant_"+r.organ)] += r.n
		if r.paid == "yes" {
			paid.Counts[i][0] += r.n
		} else {
			paid.Counts[i][1] += r.n
		}
	}
	out := &TravelReport{From: from, End: end}
	if out.Table, err = disclosure.Protect(main, s.DisclosureThreshold()); err != nil {
		return nil, err
	}
	if out.Payments, err = disclosure.Protect(paid, s.DisclosureThreshold()); err != nil {
		return nil, err
	}
	return out, nil
}

// ListTravel is the per-country report as exports name it.
const ListTravel = "travel"

// yearsQuery reads the from and end years of a report's query (the last
// full year when absent), refusing any other parameter.
func yearsQuery(q url.Values, now time.Time) (from, end int, err error) {
	from, end = now.Year()-1, now.Year()
	for k := range q {
		if k != "from" && k != "end" {
			return 0, 0, errs.Invalidf("query", k, "the report takes from and end (years), not %s", k)
		}
	}
	for _, f := range []struct {
		name string
		v    *int
	}{{"from", &from}, {"end", &end}} {
		if s := strings.TrimSpace(q.Get(f.name)); s != "" {
			if *f.v, err = strconv.Atoi(s); err != nil {
				return 0, 0, errs.Invalidf("year", f.name, "%s must be a year such as 2025", f.name)
			}
		}
	}
	return from, end, nil
}

// TravelExport reads the export of the per-country report the query asks
// for: format (csv or xlsx), from and end (years).
func (s *Service) TravelExport(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(ReadOversight); err != nil {
		return export.Request{}, err
	}
	format, filter, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	from, end, err := yearsQuery(filter, s.now())
	if err != nil {
		return export.Request{}, err
	}
	return export.Request{Registry: Module.Name, List: ListTravel, Format: format, Filter: filter, Columns: TravelColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				r, err := s.TravelReport(ctx, p, from, end)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, t := range []disclosure.Published{r.Table, r.Payments} {
					for line := range publishedLines(t) {
						if !yield(line, nil) {
							return
						}
					}
				}
			}
		}}, nil
}

// publishedLines yields a published table as lines (row, column, count),
// its totals included (row or column "total").
func publishedLines(p disclosure.Published) iter.Seq[[]any] {
	return func(yield func([]any) bool) {
		for line := range unodcLines("", p) {
			if !yield(line[1:]) {
				return
			}
		}
	}
}

// projectAbroad adds the projector and table of the records of treatment
// abroad.
func projectAbroad(reg *ledger.Projections) {
	ledger.On(reg, TypeAbroadRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *Abroad) error {
		_, err := q.Exec(ctx, `INSERT INTO abroad_procedures (id, kind, subject_ref, person_pseudonym, centre_id, recipient_id, sex, date_of_birth,
			country, foreign_centre, organ, performed_on, returned_on, known_through, donor_type, donor_relation, donor_nationality,
			payment_reported, medical_records, recorded_at, recorded_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Kind, a.SubjectRef, a.PersonPseudonym, a.CentreID, nullable(a.RecipientID), a.Sex, a.DateOfBirth, a.Country,
			a.ForeignCentre, a.Organ, a.PerformedOn, nullable(a.ReturnedOn), a.KnownThrough, a.DonorType, a.DonorRelation,
			a.DonorNationality, a.PaymentReported, a.MedicalRecords, e.At, e.By, idx)
		if err != nil || a.RecipientID == "" {
			return err
		}
		_, err = q.Exec(ctx, "UPDATE equity_registrations SET abroad = 1 WHERE recipient_id = ?", a.RecipientID)
		return err
	})
	reg.Tables(ledger.Table{Name: "abroad_procedures", Order: "id"})
}

// projectOversight adds the projectors and tables of treatment abroad,
// follow-up and the waiting list.
func projectOversight(reg *ledger.Projections) {
	projectAbroad(reg)
	projectFollowUps(reg)
	projectWaitlist(reg)
}
