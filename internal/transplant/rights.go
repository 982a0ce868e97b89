package transplant

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// The data subjects' rights in this registry (docs/personal-data.md): who
// may erase, export and rectify a donor's or a recipient's personal data.
// Erasure is the regulator's, the controller of the national registry, on
// the decision its data-protection officer or a court took; a centre's
// coordinator, who answers the person at the bedside, exports and
// rectifies for their own centre's records, and the regulator for all.
var (
	ErasePersonalData   = auth.NewAction("erase personal data", auth.Regulator)
	ExportSubjectData   = auth.NewAction("export everything held about a data subject", RoleCoordinator, auth.Regulator)
	RectifyPersonalData = auth.NewAction("rectify personal data", RoleCoordinator, auth.Regulator)
)

// TypePersonalDataRectified records a correction of a donor's or a
// recipient's personal data: the fields corrected and why, the reference of
// the new sealed value (committed in the entry's Sealed), never a value.
const TypePersonalDataRectified = "transplant.personal_data_rectified"

// RetentionYears is how long transplant traceability data is kept: at least
// 30 years after donation (Directive 2010/53/EU, art. 10(4)).
const RetentionYears = 30

// rectified is the data of a TypePersonalDataRectified entry: the
// correction, and the record's new person pseudonym when the national
// identifier was corrected.
type rectified struct {
	privacy.Correction
	Pseudonym string `json:"pseudonym,omitempty"`
}

func projectRights(reg *ledger.Projections) {
	ledger.On(reg, TypePersonalDataRectified, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *rectified) error {
		table := "donors"
		if strings.HasPrefix(r.SubjectID, "RC-") {
			table = "recipients"
		}
		if _, err := q.Exec(ctx, "UPDATE "+table+" SET subject_ref = ? WHERE id = ?", r.NewRef, r.SubjectID); err != nil {
			return err
		}
		if r.Pseudonym != "" {
			if _, err := q.Exec(ctx, "UPDATE "+table+" SET person_pseudonym = ? WHERE id = ?", r.Pseudonym, r.SubjectID); err != nil {
				return err
			}
		}
		return privacy.ProjectCorrection(ctx, q, idx, e, &r.Correction)
	})
}

// subjectRecord is what the rights' commands read of a donor or recipient.
type subjectRecord struct {
	ID, Record, Ref, Centre, Pseudonym, DateOfBirth string
}

// subjectOf reads the donor or recipient id and checks that p may act on
// its personal data: a coordinator for their own centre's records only.
func subjectOf(ctx context.Context, q store.Queryer, p *auth.Principal, id string) (*subjectRecord, error) {
	r := subjectRecord{ID: id}
	var dob sql.NullString
	err := sql.ErrNoRows
	switch {
	case strings.HasPrefix(id, "DN-"):
		r.Record = "donor"
		err = q.QueryRow(ctx, "SELECT subject_ref, centre_id, person_pseudonym, date_of_birth FROM donors WHERE id = ?", id).Scan(&r.Ref, &r.Centre, &r.Pseudonym, &dob)
	case strings.HasPrefix(id, "RC-"):
		r.Record = "recipient"
		err = q.QueryRow(ctx, "SELECT subject_ref, centre_id, person_pseudonym, date_of_birth FROM recipients WHERE id = ?", id).Scan(&r.Ref, &r.Centre, &r.Pseudonym, &dob)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "id", "no donor or recipient %s", id)
	}
	if err != nil {
		return nil, err
	}
	if p.Role == RoleCoordinator && r.Centre != p.AuthorityID {
		return nil, errs.Alertf(errs.Forbidden, "own_centre", "id", "a coordinator sees the personal data of their own centre's donors and recipients only")
	}
	r.DateOfBirth = dob.String
	return &r, nil
}

// readableSubject is subjectOf for a read of the personal data (name is
// what it is, as a command's): another centre's subject is refused and
// alerted, as a command on it is.
func (s *Service) readableSubject(ctx context.Context, p *auth.Principal, id, name string) (*subjectRecord, error) {
	sub, err := subjectOf(ctx, s.DB.Read(), p, id)
	if err != nil {
		return nil, s.W.Refused(ctx, p.Actor(), name, err)
	}
	return sub, nil
}

// liveSubject is subjectOf for a command that changes the personal data: an
// erased subject is refused as its reads are.
func liveSubject(ctx context.Context, q store.Queryer, p *auth.Principal, id string) (*subjectRecord, error) {
	sub, err := subjectOf(ctx, q, p, id)
	if err != nil {
		return nil, err
	}
	done, err := privacy.ErasureOf(ctx, q, id)
	if err == nil && done != nil {
		err = privacy.ErasedRefusal(done)
	}
	return sub, err
}

// RetainedUntil is the day until which the law keeps a subject's
// traceability data: 30 years after the donor's last procurement (after
// their registration when nothing was procured), or after the recipient's
// last transplantation, of an organ of the registry's or of one received
// from abroad (recipientTransplantedSQL); "" for a recipient never
// transplanted, whom no traceability rule keeps.
func RetainedUntil(ctx context.Context, q store.Queryer, id string) (string, error) {
	var from sql.NullString
	var err error
	if strings.HasPrefix(id, "DN-") {
		err = q.QueryRow(ctx, `SELECT COALESCE((SELECT MAX(procured_at) FROM procurements WHERE donor_id = ?), recorded_at) FROM donors WHERE id = ?`, id, id).Scan(&from)
	} else {
		err = q.QueryRow(ctx, recipientTransplantedSQL, id, id).Scan(&from)
	}
	if err != nil || !from.Valid || len(from.String) < 10 {
		return "", err
	}
	t, err := time.Parse(time.DateOnly, from.String[:10])
	if err != nil {
		return "", err
	}
	return t.AddDate(RetentionYears, 0, 0).Format(time.DateOnly), nil
}

// recipientTransplantedSQL reads a recipient's last transplantation here:
// of an organ of the registry's, or of one received from abroad (its
// outcome transplanted, on its day), which counts as one (docs/transplant.md).
const recipientTransplantedSQL = `SELECT MAX(day) FROM (SELECT performed_at AS day FROM transplants WHERE recipient_id = ?
	UNION ALL SELECT outcome_on FROM organ_imports WHERE recipient_id = ? AND outcome = 'transplanted') t`

// Erase is the input of EraseSubject: the legal ground (privacy.Grounds)
// and the reference of the decision (a court order's, the data-protection
// officer's), which enters the log: never personal data.
type Erase struct {
	Ground    string `json:"ground"`
	Reference string `json:"reference"`
}

// EraseSubject erases the personal data of the donor or recipient id: every
// value ever sealed for it (the current one and those corrections
// replaced) and the index of its name. The records, their pseudonym and the
// trace stay; reads of the personal data answer that it was erased, and
// when. While the law keeps the traceability data (RetainedUntil) only a
// ground that overrides retention (privacy.Overrides) erases.
func (s *Service) EraseSubject(ctx context.Context, p *auth.Principal, id string, in Erase) (*privacy.Erasure, error) {
	if err := p.Require(ErasePersonalData); err != nil {
		return nil, err
	}
	if err := check.OneOf("ground", in.Ground, privacy.GroundNames()); err != nil {
		return nil, err
	}
	var err error
	if in.Reference, err = check.Line("reference", in.Reference, 200, true); err != nil {
		return nil, err
	}
	eid := s.W.IDs().New("ER")
	_, err = s.W.Submit(ctx, p.Actor(), "erase personal data", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		sub, err := liveSubject(ctx, tx, p, id)
		if err != nil {
			return nil, err
		}
		until, err := RetainedUntil(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if until <= day(now) {
			until = ""
		} else if !privacy.Overrides(in.Ground) {
			return nil, errs.New(errs.Conflict, "retention", "ground",
				"the traceability data of %s is kept until %s (Directive 2010/53/EU, art. 10: 30 years after donation or transplantation); the ground %s does not override retention: only unlawfully_processed or legal_obligation do",
				id, until, in.Ground)
		}
		refs, err := privacy.SubjectRefs(ctx, tx, id, sub.Ref)
		if err != nil {
			return nil, err
		}
		for _, ref := range refs {
			if err := s.Vault.Erase(ctx, tx, ref); err != nil {
				return nil, err
			}
			if _, err := tx.Exec(ctx, "DELETE FROM person_names WHERE subject_ref = ?", ref); err != nil {
				return nil, err
			}
		}
		return privacy.ErasureEntry(privacy.Erasure{ID: eid, SubjectID: id, Pseudonym: sub.Pseudonym,
			Ground: in.Ground, Reference: in.Reference, RetainedUntil: until}, refs)
	})
	if err != nil {
		return nil, err
	}
	return privacy.ErasureOf(ctx, s.DB.Read(), id)
}

// Rectification is the input of Rectify: the corrected values (those not
// given stay as they are) and why. The reason enters the log: it says what
// was wrong ("name misspelt at registration"), never the value.
type Rectification struct {
	Name       string `json:"name"`
	NationalID string `json:"national_id"`
	Reason     string `json:"reason"`
}

// Rectify corrects the personal data of the donor or recipient id (GDPR
// art. 16): the corrected value is sealed under a new reference, which the
// record takes; the old value stays sealed under its own (and goes with the
// subject's erasure). A corrected national identifier gives the record the
// new identifier's pseudonym.
func (s *Service) Rectify(ctx context.Context, p *auth.Principal, id string, in Rectification) (*privacy.Correction, error) {
	const command = "rectify personal data"
	if err := p.Require(RectifyPersonalData); err != nil {
		return nil, err
	}
	if err := s.scopeFirst(ctx, p, command, func(ctx context.Context, q store.Queryer) error {
		_, err := subjectOf(ctx, q, p, id)
		return err
	}); err != nil {
		return nil, err
	}
	var err error
	if in.Name, err = check.Line("name", in.Name, 200, false); err != nil {
		return nil, err
	}
	if in.NationalID, err = check.Line("national_id", in.NationalID, 64, false); err != nil {
		return nil, err
	}
	if in.Name == "" && in.NationalID == "" {
		return nil, errs.Invalidf("required", "name", "give the corrected name, the corrected national_id, or both")
	}
	if in.Reason, err = check.Text("reason", in.Reason, 500, true); err != nil {
		return nil, err
	}
	cid := s.W.IDs().New("PC")
	res, err := ledger.SubmitAs[rectified](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		sub, err := liveSubject(ctx, tx, p, id)
		if err != nil {
			return nil, err
		}
		person, err := s.Vault.Load(ctx, tx, sub.Ref)
		if err != nil {
			return nil, err
		}
		r := rectified{Correction: privacy.Correction{ID: cid, SubjectID: id, OldRef: sub.Ref, NewRef: "SU-" + cid, Reason: in.Reason}}
		if in.Name != "" && in.Name != person.Name {
			person.Name = in.Name
			r.Fields = append(r.Fields, "name")
		}
		if in.NationalID != "" && in.NationalID != person.NationalID {
			person.NationalID = in.NationalID
			r.Fields = append(r.Fields, "national_id")
			r.Pseudonym = s.nationalPseudonym(ctx, tx, in.NationalID)
		}
		if len(r.Fields) == 0 {
			field := "name" // the field given, or the first of the two
			if in.Name == "" {
				field = "national_id"
			}
			return nil, errs.Invalidf("unchanged", field, "the corrected values are those already recorded: nothing to rectify")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM person_names WHERE subject_ref = ?", sub.Ref); err != nil {
			return nil, err
		}
		sealed, err := s.storePerson(ctx, tx, id, r.NewRef, person, sub.DateOfBirth, now)
		if err != nil {
			return nil, err
		}
		return sealedEntry(TypePersonalDataRectified, r, sealed)
	})
	if e, ok := errs.As(err); ok && e.Rule == "unchanged" {
		// The refusal tells its caller that the values they gave are
		// those recorded: a read of the personal data, logged as one.
		if lerr := privacy.RecordRead(ctx, s.W, p.Actor(), id, "rectification refused as unchanged: the values given are those recorded"); lerr != nil {
			return nil, lerr
		}
	}
	if err != nil {
		return nil, err
	}
	return &res.Correction, nil
}

// sealedEntry is the entry of a command that sealed personal data: its
// data, and the commitments to the rows it sealed.
func sealedEntry(typ string, data any, sealed ...ledger.Sealed) (*ledger.Entry, error) {
	e, err := ledger.NewEntry(typ, data)
	if err != nil {
		return nil, err
	}
	e.Sealed = sealed
	return e, nil
}

// SubjectReport is everything the registry holds about one donor or
// recipient (GDPR art. 15): the record and the records linked to the same
// person, the personal data (or its erasure), the trace, the corrections,
// and who opened the personal data, when and why (this export included).
type SubjectReport struct {
	SubjectID  string           `json:"subject_id"`
	Record     string           `json:"record"` // donor or recipient
	Pseudonym  string           `json:"person_pseudonym"`
	ExportedAt string           `json:"exported_at"`
	LogIndex   int64            `json:"log_index"` // the entry that records this export
	Person     *privacy.Person  `json:"personal_data,omitempty"`
	Erasure    *privacy.Erasure `json:"erasure,omitempty"`
	RetainedTo string           `json:"retained_until,omitempty"`
	Donor      *Donor           `json:"donor,omitempty"`
	Recipient  *Recipient       `json:"recipient,omitempty"`
	Linked     []PersonMatch    `json:"linked_records"`
	Trace      *Trace           `json:"trace"`
	// Imported are the organs from abroad a recipient received here; the
	// trace leaves them out (Trace.Imported names the origin's donor).
	Imported    []SubjectImport      `json:"imported_organs,omitempty"`
	Corrections []privacy.Correction `json:"corrections"`
	Reads       []privacy.ReadRow    `json:"personal_data_reads"`
}

// SubjectImport is what a recipient's subject-access export says of an
// organ received from abroad and transplanted into them here: the organ, its
// country of origin, the day and the centre. The rest of the import is the
// donor's and stays out: the origin's national donor id, which names the
// donor to whoever holds the origin's records, its characterization of the
// donor (their health data) and where and when they were procured
// (docs/personal-data.md, "Subject access").
type SubjectImport struct {
	OrganID       string `json:"organ_id"`
	Organ         string `json:"organ"`
	OriginCountry string `json:"origin_country"`
	On            string `json:"transplanted_on"`
	CentreID      string `json:"centre_id"`
}

// subjectImports is what a recipient's export says of the organs from
// abroad of their trace.
func subjectImports(list []Import) []SubjectImport {
	var out []SubjectImport
	for _, im := range list {
		out = append(out, SubjectImport{OrganID: im.OrganID, Organ: im.Organ, OriginCountry: im.OriginCountry, On: im.OutcomeOn, CentreID: im.CentreID})
	}
	return out
}

// ownTrace is what a subject-access export shows of the trace of subject
// id: the person's own part, not the other people's the trace reaches
// (GDPR art. 15(4): access must not adversely affect the rights of others;
// transplant law keeps donor and recipient unknown to each other). Of a
// donor (a domino donor too) it keeps every organ and what became of it,
// with the day and centre of a transplantation but not the recipient's
// record, blood group or residence, nor the national recipient id of a
// registry abroad. Of a recipient it keeps the organs they received, each
// with its donor's kind only (not the donor's record or procurement,
// blood group or centre), and leaves out the donor's other organs, which went to other
// people. docs/personal-data.md, "Subject access".
func ownTrace(tr *Trace, id string) *Trace {
	out := &Trace{From: tr.From, ID: tr.ID, Donors: []DonorTrace{}, Imported: tr.Imported, Abroad: tr.Abroad}
	for _, dt := range tr.Donors {
		own := dt.Donor.ID == id || dt.Donor.Domino != nil && dt.Donor.Domino.RecipientID == id
		d := DonorTrace{Donor: dt.Donor, Organs: []TraceOrgan{}}
		if !own {
			d.Donor = TraceDonor{Kind: dt.Donor.Kind}
		}
		for _, o := range dt.Organs {
			switch {
			case own:
				if o.Transplant != nil {
					t := *o.Transplant
					t.Recipient.ID, t.Recipient.BloodGroup, t.Recipient.Residence = "", "", ""
					o.Transplant = &t
				}
				if o.Export != nil {
					x := *o.Export
					x.RecipientRef = ""
					o.Export = &x
				}
			case o.Transplant == nil || o.Transplant.Recipient.ID != id:
				continue
			default:
				// The procurement is the donor's record.
				o.ProcurementID = ""
			}
			d.Organs = append(d.Organs, o)
		}
		if own || len(d.Organs) > 0 {
			out.Donors = append(out.Donors, d)
		}
	}
	return out
}

// Subject-access export formats.
const (
	AccessJSON = "json"
	AccessPage = "page"
)

// SubjectAccess exports everything the registry holds about the donor or
// recipient id, for the person's request under GDPR art. 15. The export
// opens the personal data, so it is logged first (privacy.TypeSubjectAccess,
// with the format and purpose) and lists itself among the reads.
func (s *Service) SubjectAccess(ctx context.Context, p *auth.Principal, id, format, purpose string) (*SubjectReport, error) {
	if err := p.Require(ExportSubjectData); err != nil {
		return nil, err
	}
	// Whose subject it is comes before the input's checks: another
	// centre's coordinator is refused whatever the input.
	sub, err := s.readableSubject(ctx, p, id, "export a data subject's records")
	if err != nil {
		return nil, err
	}
	if err := check.OneOf("format", format, []string{AccessJSON, AccessPage}); err != nil {
		return nil, err
	}
	purpose, err = check.Text("purpose", purpose, 500, true)
	if err != nil {
		return nil, err
	}
	res, err := privacy.RecordSubjectAccess(ctx, s.W, p.Actor(), id, format, purpose)
	if err != nil {
		return nil, err
	}
	q := s.DB.Read()
	rep := &SubjectReport{SubjectID: id, Record: sub.Record, Pseudonym: sub.Pseudonym, ExportedAt: res.Entry.At, LogIndex: res.Index}
	if rep.Erasure, err = privacy.ErasureOf(ctx, q, id); err != nil {
		return nil, err
	}
	if rep.Erasure == nil {
		person, err := s.Vault.Load(ctx, q, sub.Ref)
		if err != nil {
			return nil, err
		}
		rep.Person = &person
	}
	if rep.RetainedTo, err = RetainedUntil(ctx, q, id); err != nil {
		return nil, err
	}
	if sub.Record == "donor" {
		if rep.Donor, err = getDonor(ctx, q, id); err != nil {
			return nil, err
		}
		rep.Trace, err = s.TraceDonor(ctx, p, id)
	} else {
		if rep.Recipient, err = getRecipient(ctx, q, id); err != nil {
			return nil, err
		}
		if rep.Trace, err = s.TraceRecipient(ctx, p, id); err == nil {
			rep.Imported, rep.Trace.Imported = subjectImports(rep.Trace.Imported), nil
		}
	}
	if err == nil {
		rep.Trace = ownTrace(rep.Trace, id)
	}
	if err != nil {
		return nil, err
	}
	if rep.Linked, err = s.matchesBoth(ctx, q, personKeys{pseudonym: sub.Pseudonym}); err != nil {
		return nil, err
	}
	if rep.Corrections, err = privacy.Corrections(ctx, q, id); err != nil {
		return nil, err
	}
	if rep.Reads, err = privacy.ReadsOf(ctx, q, id); err != nil {
		return nil, err
	}
	return rep, nil
}

// ErasurePlan is what an erasure of a subject would do, for the page that
// asks to confirm it: the references whose sealed values become unreadable,
// the pseudonym the records keep, and until when the law keeps the
// traceability data ("" when it no longer does). Erasure is set when the
// subject is already erased.
type ErasurePlan struct {
	SubjectID     string           `json:"subject_id"`
	Record        string           `json:"record"`
	Pseudonym     string           `json:"person_pseudonym"`
	Refs          []string         `json:"refs"`
	Corrections   int              `json:"corrections"`
	RetainedUntil string           `json:"retained_until,omitempty"`
	Erasure       *privacy.Erasure `json:"erasure,omitempty"`
}

// PlanErasure reads what EraseSubject would erase, without erasing, for
// whoever may erase.
func (s *Service) PlanErasure(ctx context.Context, p *auth.Principal, id string) (*ErasurePlan, error) {
	if err := p.Require(ErasePersonalData); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	sub, err := subjectOf(ctx, q, p, id)
	if err != nil {
		return nil, err
	}
	plan := &ErasurePlan{SubjectID: id, Record: sub.Record, Pseudonym: sub.Pseudonym}
	if plan.Erasure, err = privacy.ErasureOf(ctx, q, id); err != nil || plan.Erasure != nil {
		return plan, err
	}
	if plan.Refs, err = privacy.SubjectRefs(ctx, q, id, sub.Ref); err != nil {
		return nil, err
	}
	plan.Corrections = len(plan.Refs) - 1
	until, err := RetainedUntil(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if until > day(s.now()) {
		plan.RetainedUntil = until
	}
	return plan, nil
}

// Erased returns the erasure of the donor or recipient id, nil when its
// personal data was not erased: what its pages show instead.
func (s *Service) Erased(ctx context.Context, id string) (*privacy.Erasure, error) {
	return privacy.ErasureOf(ctx, s.DB.Read(), id)
}
