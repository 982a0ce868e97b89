package transplant

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Procedures: several organs into one recipient, and the domino liver ----
//
// A transplantation recorded alone (transplants.go, transplant.transplant_recorded)
// is one organ into one recipient. A procedure (transplant.procedure_recorded,
// transplant migration 12) is one operation that transplants several organs
// of one donor into one recipient: a row in transplant_procedures, and a row in
// transplants per organ naming it. With DominoLiver the recipient's own
// explanted liver is donated: the procedure registers the recipient as a
// domino donor (a donor of kind domino, linked to the procedure) and records
// the explant as a procurement of one liver with its own organ identifier,
// which is then authorized and transplanted into a second recipient like any
// organ. The trace follows it both ways (trace.go).

// Procedure kinds.
const (
	ProcedureSingle         = "single"
	ProcedureDoubleKidney   = "double_kidney"
	ProcedureEnBlocKidney   = "en_bloc_kidney"
	ProcedureDoubleLung     = "double_lung"
	ProcedureKidneyPancreas = "kidney_pancreas"
	ProcedureHeartLung      = "heart_lung"
	ProcedureLiverKidney    = "liver_kidney"
	ProcedureLiverIntestine = "liver_intestine"
)

// ProcedureKinds lists the procedure kinds.
var ProcedureKinds = []string{ProcedureSingle, ProcedureDoubleKidney, ProcedureEnBlocKidney, ProcedureDoubleLung,
	ProcedureKidneyPancreas, ProcedureHeartLung, ProcedureLiverKidney, ProcedureLiverIntestine}

// DonorDomino is the kind of a donor registered by a procedure with a
// domino liver: the recipient whose explanted liver was donated. It is not a
// kind RegisterDonor takes.
const DonorDomino = "domino"

// organRange is how many organs of a type a procedure transplants.
type organRange struct{ min, max int }

// procedureOrgans is what each kind transplants, in the order its refusal
// names them; a single procedure transplants one organ of any type.
var procedureOrgans = map[string][]struct {
	organ string
	organRange
}{
	ProcedureDoubleKidney:   {{"kidney", organRange{2, 2}}},
	ProcedureEnBlocKidney:   {{"kidney", organRange{2, 2}}},
	ProcedureDoubleLung:     {{"lung", organRange{2, 2}}},
	ProcedureKidneyPancreas: {{"kidney", organRange{1, 1}}, {"pancreas", organRange{1, 1}}},
	ProcedureHeartLung:      {{"heart", organRange{1, 1}}, {"lung", organRange{1, 2}}},
	ProcedureLiverKidney:    {{"liver", organRange{1, 1}}, {"kidney", organRange{1, 2}}},
	ProcedureLiverIntestine: {{"liver", organRange{1, 1}}, {"intestine", organRange{1, 1}}},
}

// companion tells whether a recipient waiting for needed may be authorized
// an organ of type organ: the same type, or one that a procedure kind
// transplants with the organ it names first, which is the one its recipient
// waits for: a lung for a heart (heart-lung), a pancreas for a kidney
// (kidney-pancreas), a kidney or an intestine for a liver.
func companion(needed, organ string) bool {
	if needed == organ {
		return true
	}
	for _, kind := range procedureOrgans {
		if kind[0].organ != needed {
			continue
		}
		for _, c := range kind[1:] {
			if c.organ == organ {
				return true
			}
		}
	}
	return false
}

// composition is what a kind transplants, in words: "1 heart and 1 to 2 lungs".
func composition(kind string) string {
	if kind == ProcedureSingle {
		return "1 organ"
	}
	var parts []string
	for _, c := range procedureOrgans[kind] {
		if c.min == c.max {
			parts = append(parts, plural(c.min, c.organ))
		} else {
			parts = append(parts, fmt.Sprintf("%d to %s", c.min, plural(c.max, c.organ)))
		}
	}
	return strings.Join(parts, " and ")
}

// NewProcedure is the input of RecordProcedure.
type NewProcedure struct {
	Kind        string   `json:"kind"`
	OrganIDs    []string `json:"organ_ids"`
	RecipientID string   `json:"recipient_id"`
	CentreID    string   `json:"centre_id"`
	PerformedAt string   `json:"performed_at"`
	// DominoLiver says that the recipient's explanted liver is donated.
	DominoLiver bool `json:"domino_liver"`
	// DominoConsent is, with DominoLiver, the recipient's consent to
	// donating their explanted liver: a living donor's consent (kind
	// living_informed_consent, informed, voluntary, assessed by someone
	// independent of the recipient's team), given on or before the day.
	DominoConsent *NewConsent `json:"domino_consent,omitempty"`
}

// Procedure is the data of a transplant.procedure_recorded entry: one
// operation, its transplantations (one per organ, each with its own
// identifier and per-procedure authorization) and the domino donation.
type Procedure struct {
	ID          string       `json:"id"`
	Kind        string       `json:"kind"`
	RecipientID string       `json:"recipient_id"`
	CentreID    string       `json:"centre_id"`
	DonorID     string       `json:"donor_id"`
	PerformedAt string       `json:"performed_at"`
	Transplants []Transplant `json:"transplants"`
	Domino      *Domino      `json:"domino,omitempty"`
}

// Domino is the donation of a recipient's explanted liver: the recipient
// registered as a donor of kind domino, and the explant's procurement with
// the liver's identifier.
type Domino struct {
	Donor       Donor       `json:"donor"`
	Procurement Procurement `json:"procurement"`
	// Consent is the domino donor's consent to the donation, recorded with
	// it (absent from the procedures recorded before it was required).
	Consent *Consent `json:"consent,omitempty"`
}

// TypeProcedureRecorded is the entry of a procedure.
const TypeProcedureRecorded = "transplant.procedure_recorded"

// maxProcedureOrgans is the most organs one procedure lists.
const maxProcedureOrgans = 4

// RecordProcedure records a procedure. Each organ is checked as a
// transplantation recorded alone is (procured, available, the centre
// authorized for its type, its per-procedure authorization on file, dates in
// order), naming it organ_ids[i]; then the procedure: organs of one donor
// (procedure_one_donor), what its kind transplants (procedure_organs), and a
// domino liver only from a recipient who receives a liver in it and has not
// (domino_liver). A recipient is authorized organs while waiting only
// (waiting_list), so they receive one procedure and give at most one
// domino liver.
func (s *Service) RecordProcedure(ctx context.Context, p *auth.Principal, in NewProcedure) (*Procedure, error) {
	const command = "record procedure"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	oids, at, consent, err := procedureInput(in)
	if err != nil {
		return nil, s.recipientFirst(ctx, p, command, centre, in.RecipientID, err)
	}
	id := s.W.IDs().New("TP")
	txIDs := make([]string, len(oids))
	for i := range oids {
		txIDs[i] = s.W.IDs().New("TX")
	}
	var dominoDonor, dominoProc, donorKind string
	if in.DominoLiver {
		dominoDonor, dominoProc = s.W.IDs().New("DN"), s.W.IDs().New("PC")
		consent.ID, consent.DonorID = s.W.IDs().New("CO"), dominoDonor
	}
	rec, err := ledger.SubmitAs[Procedure](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		pr := Procedure{ID: id, Kind: in.Kind, RecipientID: in.RecipientID, CentreID: centre, PerformedAt: ledger.FormatTime(at)}
		counts := map[string]int{}
		var donors []string
		for i, oid := range oids {
			field := check.Index("organ_ids", i)
			f, err := readProcedure(ctx, tx, centre, oid, in.RecipientID, day(at))
			if err != nil {
				return nil, err
			}
			if i == 0 {
				if err := centreRefusal("centre_id", centre, f.centreKind); err != nil {
					return nil, err
				}
				// Another centre's recipient is refused first, as in
				// RecordTransplant.
				if err := f.recipientRefusal(in.RecipientID, centre); err != nil {
					return nil, err
				}
				if err := check.NotFuture("performed_at", at, now); err != nil {
					return nil, err
				}
			}
			authID, err := f.refusal(field, oid, in.RecipientID, centre, "", at)
			if err != nil {
				return nil, err
			}
			donors = append(donors, f.organ.DonorID)
			donorKind = f.donorKind.String
			counts[f.organ.Organ]++
			pr.Transplants = append(pr.Transplants, Transplant{ID: txIDs[i], OrganID: oid, RecipientID: in.RecipientID, CentreID: centre,
				AuthorizationID: authID, PerformedAt: pr.PerformedAt})
		}
		if !composed(in.Kind, counts) {
			return nil, errs.Invalidf("procedure_organs", "organ_ids", "a %s procedure transplants %s; organ_ids lists %s", in.Kind, composition(in.Kind), listed(counts))
		}
		pr.DonorID = donors[0]
		for i, d := range donors {
			if d != pr.DonorID {
				return nil, errs.Invalidf("procedure_one_donor", check.Index("organ_ids", i), "organ %s is from donor %s, the procedure's other organs from donor %s: organs of two donors are two procedures",
					oids[i], d, pr.DonorID)
			}
		}
		if in.DominoLiver {
			d, err := dominoDonation(ctx, tx, &pr, counts, dominoDonor, dominoProc, at)
			if err != nil {
				return nil, err
			}
			if err := check.DateNotFuture("domino_consent.given_on", consent.GivenOn, now); err != nil {
				return nil, err
			}
			if consent.GivenOn > day(at) {
				return nil, errs.Invalidf("dates_in_order", "domino_consent.given_on", "the domino donor's consent (%s) is given on or before the procedure (%s)", consent.GivenOn, day(at))
			}
			// The domino donor is the recipient: a consent before they were
			// born is a date mistyped, as for any donor's (RecordConsent).
			if d.Donor.DateOfBirth != "" && consent.GivenOn < d.Donor.DateOfBirth {
				return nil, errs.Invalidf("dates_in_order", "domino_consent.given_on", "domino_consent.given_on is before the recipient's date of birth")
			}
			d.Consent = consent
			pr.Domino = d
		}
		return ledger.NewEntry(TypeProcedureRecorded, pr)
	})
	if err != nil {
		return nil, err
	}
	// As for a transplantation recorded alone, the screening for
	// trafficking indicators follows, once per organ (its rules are about
	// living donors; the procedure's organs are of one donor).
	for i := range rec.Transplants {
		if donorKind != DonorLiving {
			break
		}
		if err := s.screenTransplant(ctx, p, &rec.Transplants[i]); err != nil {
			return rec, err
		}
	}
	return rec, nil
}

// procedureInput checks a procedure's fields and returns its organs'
// identifiers, when it was performed and the domino donor's consent.
func procedureInput(in NewProcedure) ([]string, time.Time, *Consent, error) {
	if err := check.OneOf("kind", in.Kind, ProcedureKinds); err != nil {
		return nil, time.Time{}, nil, err
	}
	if err := check.Required("recipient_id", in.RecipientID); err != nil {
		return nil, time.Time{}, nil, err
	}
	if len(in.OrganIDs) == 0 || len(in.OrganIDs) > maxProcedureOrgans {
		return nil, time.Time{}, nil, errs.Invalidf("procedure_organs", "organ_ids", "a procedure lists 1 to %d organs", maxProcedureOrgans)
	}
	oids := make([]string, len(in.OrganIDs))
	for i, s := range in.OrganIDs {
		oid, err := ParseOrganID(s)
		if err != nil {
			if e, ok := errs.As(err); ok {
				e.Field = check.Index("organ_ids", i)
				return nil, time.Time{}, nil, e
			}
			return nil, time.Time{}, nil, err
		}
		oids[i] = oid.String()
		for j := range i {
			if oids[j] == oids[i] {
				return nil, time.Time{}, nil, errs.Invalidf("procedure_organs", check.Index("organ_ids", i), "organ %s is listed twice", oids[i])
			}
		}
	}
	at, err := check.Time("performed_at", in.PerformedAt)
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	consent, err := dominoConsentOf(in)
	return oids, at, consent, err
}

// dominoConsentOf checks the domino donor's consent of a procedure: none
// without a domino liver; with one, a living donor's consent as
// RecordConsent and a living donation's procurement require it (informed,
// voluntary, independently assessed), whose absence is refused and alerted
// as a living donation without consent is (living_consent). The domino
// donor is a living donor: the Declaration of Istanbul and resolution VI
// para 6 b ask the same free, informed consent of them (docs/oversight.md).
func dominoConsentOf(in NewProcedure) (*Consent, error) {
	c := in.DominoConsent
	if !in.DominoLiver {
		if c != nil {
			return nil, errs.Invalidf("domino_consent", "domino_consent", "a domino donor's consent goes with a domino liver (domino_liver)")
		}
		return nil, nil
	}
	if c == nil {
		return nil, errs.Alertf(errs.Forbidden, "living_consent", "domino_consent",
			"a domino liver is a living donation: it needs the recipient's informed, voluntary, independently assessed consent to donating their explanted liver")
	}
	if c.Kind == "" {
		c.Kind = ConsentLiving
	}
	if c.Kind != ConsentLiving {
		return nil, errs.Invalidf("consent_kind", "domino_consent.kind", "a living donor gives %s", ConsentLiving)
	}
	given, err := check.Date("domino_consent.given_on", c.GivenOn, true)
	if err != nil {
		return nil, err
	}
	assessor, err := check.Line("domino_consent.assessed_by", c.AssessedBy, 200, true)
	if err != nil {
		return nil, err
	}
	if !c.Informed || !c.Voluntary {
		return nil, errs.Alertf(errs.Forbidden, "living_consent", "domino_consent.voluntary", "a living donor's consent must be informed and voluntary")
	}
	if !c.AssessorIndependent {
		return nil, errs.Alertf(errs.Forbidden, "living_consent", "domino_consent.assessor_independent",
			"a living donor's consent must be assessed by someone independent of the recipient's team")
	}
	return &Consent{Kind: ConsentLiving, GivenOn: given, AssessedBy: assessor, AssessorIndependent: true, Voluntary: true, Informed: true}, nil
}

// composed tells whether counts (organs by type) is what kind transplants.
func composed(kind string, counts map[string]int) bool {
	if kind == ProcedureSingle {
		n := 0
		for _, c := range counts {
			n += c
		}
		return n == 1
	}
	want := procedureOrgans[kind]
	if len(counts) != len(want) {
		return false
	}
	for _, c := range want {
		if n := counts[c.organ]; n < c.min || n > c.max {
			return false
		}
	}
	return true
}

// listed is organs by type in words, in the registry's order of types.
func listed(counts map[string]int) string {
	var parts []string
	for _, o := range OrganTypes {
		if counts[o] > 0 {
			parts = append(parts, plural(counts[o], o))
		}
	}
	return strings.Join(parts, " and ")
}

// dominoDonation checks and builds the donation of the recipient's
// explanted liver in the procedure pr.
func dominoDonation(ctx context.Context, tx *store.Tx, pr *Procedure, counts map[string]int, donorID, procID string, at time.Time) (*Domino, error) {
	if counts["liver"] == 0 {
		return nil, errs.Invalidf("domino_liver", "domino_liver", "a domino liver is the explanted liver of a recipient who receives a liver; this %s procedure transplants %s",
			pr.Kind, listed(counts))
	}
	r, err := getRecipient(ctx, tx, pr.RecipientID) // with the sealed record's reference and the pseudonym a domino donor shares
	if err != nil {
		return nil, err
	}
	country, year, seq, err := nextDonation(ctx, tx, "performed_at", at)
	if err != nil {
		return nil, err
	}
	d := &Domino{
		Donor: Donor{ID: donorID, Kind: DonorDomino, SubjectRef: r.SubjectRef, PersonPseudonym: r.PersonPseudonym, CentreID: pr.CentreID,
			Sex: r.Sex, BloodGroup: r.BloodGroup, DateOfBirth: r.DateOfBirth,
			// The characterisation of a domino donor is the recipient's own
			// file at the centre; the registry does not know it.
			IVDrugUse: "unknown", Malignancy: "unknown", TransmissibleDisease: "unknown",
			HIV: "not_tested", HCV: "not_tested", HBV: "not_tested", OrganFunction: "domino explant"},
		Procurement: Procurement{ID: procID, DonorID: donorID, CentreID: pr.CentreID, ProcuredAt: pr.PerformedAt, DonationYear: year, DonationSeq: seq,
			Organs: []ProcuredOrgan{{ID: OrganID{Country: country, Year: year, Seq: seq, Organ: 1}.String(), Organ: "liver"}}},
	}
	return d, nil
}

// projectProcedures adds the projector of procedures and their table.
func projectProcedures(reg *ledger.Projections) {
	ledger.On(reg, TypeProcedureRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, pr *Procedure) error {
		var dominoDonor, dominoOrgan string
		if d := pr.Domino; d != nil {
			if err := insertDonor(ctx, q, idx, e, &d.Donor); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, "UPDATE donors SET domino_procedure_id = ? WHERE id = ?", pr.ID, d.Donor.ID); err != nil {
				return err
			}
			if d.Consent != nil {
				if err := insertConsent(ctx, q, idx, e, d.Consent); err != nil {
					return err
				}
			}
			if err := insertProcurement(ctx, q, idx, e, &d.Procurement); err != nil {
				return err
			}
			dominoDonor, dominoOrgan = d.Donor.ID, d.Procurement.Organs[0].ID
		}
		if _, err := q.Exec(ctx, `INSERT INTO transplant_procedures (id, kind, recipient_id, centre_id, donor_id, performed_at,
			domino_donor_id, domino_organ_id, recorded_at, recorded_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			pr.ID, pr.Kind, pr.RecipientID, pr.CentreID, pr.DonorID, pr.PerformedAt, nullable(dominoDonor), nullable(dominoOrgan), e.At, e.By, idx); err != nil {
			return err
		}
		for i := range pr.Transplants {
			if err := insertTransplant(ctx, q, idx, e, &pr.Transplants[i], pr.ID, pr.Kind); err != nil {
				return err
			}
		}
		return nil
	})
	reg.Tables(ledger.Table{Name: "transplant_procedures", Order: "id"})
}
