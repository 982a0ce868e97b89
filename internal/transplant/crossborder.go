package transplant

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Across borders: organs sent to and received from foreign registries ----
//
// An organ of this registry allocated to a foreign registry (a registered
// exchange peer) is exported: one log entry, then two messages, its
// characterization and its traceability data. The destination records it as
// an imported organ, keyed by its identifier (which names its country), with
// the origin's national donor id; a coordinator there records its outcome
// (transplanted to a recipient of theirs, discarded, used for research), and
// the outcome goes back to the origin at once. Each side's trace follows the
// organ as far as the messages carry it: docs/vigilance.md, "Across borders".

// ImportOutcomes are what becomes of an imported organ.
var ImportOutcomes = []string{"transplanted", DispositionDiscarded, DispositionResearch}

// NewExport allocates an organ to a foreign registry.
type NewExport struct {
	OrganID string `json:"organ_id" api:"required"`
	PeerID  string `json:"peer_id" api:"required"`
	// DestinationCentre is the centre there that receives it, as the
	// destination registry names it (its identifier there, or its name).
	DestinationCentre string `json:"destination_centre"`
}

// Export is an organ sent to a foreign registry and, once it answered, what
// became of it there.
type Export struct {
	ID                 string `json:"id"`
	OrganID            string `json:"organ_id"`
	PeerID             string `json:"peer_id"`
	DestinationCountry string `json:"destination_country"`
	DestinationCentre  string `json:"destination_centre"`
	ExportedAt         string `json:"exported_at"`
	Outcome            string `json:"outcome,omitempty"`
	OutcomeOn          string `json:"outcome_on,omitempty"`
	RecipientRef       string `json:"recipient_ref,omitempty"` // the national recipient id there
	OutcomeCentre      string `json:"outcome_centre,omitempty"`
	OutcomeReason      string `json:"outcome_reason,omitempty"`
	// Messages are the exchange messages the export sent (read only from
	// ExportOrgan's answer).
	Messages []string `json:"messages,omitempty"`
}

// Import is an organ received from a foreign registry.
type Import struct {
	OrganID           string            `json:"organ_id"`
	PeerID            string            `json:"peer_id"`
	OriginCountry     string            `json:"origin_country"`
	DonorRef          string            `json:"donor_ref"` // the origin's national donor id
	Organ             string            `json:"organ"`
	Characterization  *Characterization `json:"characterization,omitempty"`
	CharacterizedAt   string            `json:"characterized_at,omitempty"`
	ProcuredAt        string            `json:"procured_at,omitempty"`
	ProcurementCentre string            `json:"procurement_centre,omitempty"`
	ShippedAt         string            `json:"shipped_at,omitempty"`
	DestinationCentre string            `json:"destination_centre"`
	// DestinationCentreID is the centre here that DestinationCentre
	// named when the organ was received (by its identifier, or as the one
	// centre of that name then), which holds the organ; "" when it named
	// none. ReceivedAt is when the organ was recorded received here (its
	// first message), from which its disposition deadline runs.
	DestinationCentreID string `json:"destination_centre_id,omitempty"`
	ReceivedAt          string `json:"received_at,omitempty"`
	Outcome             string `json:"outcome,omitempty"`
	OutcomeOn           string `json:"outcome_on,omitempty"`
	RecipientID         string `json:"recipient_id,omitempty"`
	CentreID            string `json:"centre_id,omitempty"`
	OutcomeReason       string `json:"outcome_reason,omitempty"`
	// AssignedCentre is the centre a regulator assigned the organ to, when
	// the registry of origin named none here (AssignImport); AssignedAt is
	// when, AssignedBy the principal who did (a user id, as a hand-off's
	// RecordedBy: no personal data of a donor or recipient).
	AssignedCentre string `json:"assigned_centre,omitempty"`
	AssignedAt     string `json:"assigned_at,omitempty"`
	AssignedBy     string `json:"assigned_by,omitempty"`
	// Assignments are the centres here that held the organ, oldest first:
	// the destination the registry of origin named (ByOrigin), then each
	// regulator's assignment, with who held it before each, when, by whom
	// and why. Every answer that shows an import has them (the import, its
	// lists, the traces), none while no centre ever held it. Centres,
	// times and principals only: no personal data.
	Assignments []ImportAssignment `json:"assignments,omitempty"`
}

// ImportAssignment is one centre here holding an organ received from
// abroad: the destination the registry of origin named, resolved when its
// characterization was recorded (ByOrigin, recorded by the registry itself,
// so AssignedBy is empty), or an assignment by a regulator (AssignImport,
// ReassignImport). The centre, and for a reassignment the centre that held
// the organ before (From: the destination the origin named, or the centre
// of an earlier assignment) and the reason; when (AssignedAt), by whom
// (AssignedBy, a user id, as Import's AssignedBy) and the log entry that
// recorded it (LogIndex). A projection of transplant.import_assigned and of
// the characterization's transplant.exchange_message_applied
// (organ_import_assignments).
type ImportAssignment struct {
	CentreID   string `json:"centre_id"`
	From       string `json:"from,omitempty"`
	Reason     string `json:"reason,omitempty"`
	ByOrigin   bool   `json:"by_origin,omitempty"`
	AssignedAt string `json:"assigned_at"`
	AssignedBy string `json:"assigned_by,omitempty"`
	LogIndex   int64  `json:"log_index"`
}

// NewImportOutcome is what became of an imported organ here.
type NewImportOutcome struct {
	Outcome     string `json:"outcome" api:"required"`
	RecipientID string `json:"recipient_id"`
	On          string `json:"on" api:"required"`
	Reason      string `json:"reason"`
}

// importOutcome is the data of an imported organ's outcome.
type importOutcome struct {
	OrganID     string `json:"organ_id"`
	Outcome     string `json:"outcome"`
	On          string `json:"on"`
	RecipientID string `json:"recipient_id,omitempty"`
	CentreID    string `json:"centre_id"`
	Reason      string `json:"reason,omitempty"`
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) exchange() (*exchange.Service, error) {
	if s.Exchange == nil {
		return nil, errs.New(errs.Unavailable, "exchange", "", "this deployment does not run the exchange between registries")
	}
	return s.Exchange, nil
}

// ExportOrgan allocates an organ of this registry to a foreign registry: a
// coordinator of the centre that procured it records the export, and the
// registry sends the peer the organ and donor characterization, then the
// traceability message. Refused for an organ transplanted, disposed of or
// already exported, and for a peer that is not registered, is suspended, or
// does not take messages for the purpose traceability.
func (s *Service) ExportOrgan(ctx context.Context, p *auth.Principal, in NewExport) (*Export, error) {
	const command = "export organ"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	x, err := s.exchange()
	if err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(in.OrganID)
	if err != nil {
		return nil, err
	}
	// Only the centre that procured the organ sends it abroad: another is
	// refused before anything else is said of the organ or the input.
	var organ, procuredBy, procuredAt, disposed string
	var transplanted, holds bool
	procurer := func(ctx context.Context, q store.Queryer) error {
		err := q.QueryRow(ctx, dispositionSQL, p.AuthorityID, oid.String()).Scan(&organ, &procuredBy, &procuredAt, &transplanted, &disposed, &holds)
		if errors.Is(err, sql.ErrNoRows) {
			return noOrgan(oid.String())
		}
		if err != nil {
			return err
		}
		if procuredBy != p.AuthorityID {
			return errs.Alertf(errs.Forbidden, "own_centre", "organ_id", "organ %s is sent abroad by the centre that procured it (%s), not by centre %s", organ, procuredBy, p.AuthorityID)
		}
		return nil
	}
	if err := s.scopeFirst(ctx, p, command, procurer); err != nil {
		return nil, err
	}
	if err := check.Required("peer_id", in.PeerID); err != nil {
		return nil, err
	}
	dest, err := check.Line("destination_centre", in.DestinationCentre, 200, false)
	if err != nil {
		return nil, err
	}
	id := s.W.IDs().New("EX")
	out, err := ledger.SubmitAs[Export](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := procurer(ctx, tx); err != nil {
			return nil, err
		}
		if transplanted || disposed != "" {
			return nil, errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s is transplanted or has a final disposition: it cannot be sent abroad", organ)
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM organ_exports WHERE organ_id = ?", organ).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errs.New(errs.Conflict, "exported", "organ_id", "organ %s was already sent abroad", organ)
		}
		pr, err := exchange.ActivePeer(ctx, tx, "peer_id", in.PeerID, PurposeTraceability)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeOrganExported, Export{ID: id, OrganID: organ, PeerID: pr.ID, DestinationCountry: pr.Jurisdiction,
			DestinationCentre: dest, ExportedAt: ledger.FormatTime(now)})
	})
	if err != nil {
		return nil, err
	}
	char, trace, err := s.exportMessages(ctx, out.OrganID, dest)
	if err != nil {
		return out, err
	}
	for _, m := range []struct {
		typ     string
		payload any
	}{{MsgCharacterization, char}, {MsgTraceability, trace}} {
		sent, err := x.Send(ctx, p, outgoing(out.PeerID, m.typ, PurposeTraceability, m.payload))
		if err != nil {
			return out, err
		}
		out.Messages = append(out.Messages, sent.ID)
	}
	return out, nil
}

func outgoing(peerID, typ, purpose string, payload any) exchange.Outgoing {
	return exchange.Outgoing{PeerID: peerID, Type: typ, Purpose: purpose, LegalBasis: crossBorderLegalBasis, Notice: crossBorderNotice,
		Readers: crossBorderReaders, Payload: mustJSON(payload)}
}

// exportMessages reads what the characterization and traceability messages
// of an organ say: no personal data (the age in years, not the date of
// birth), the centre of procurement by name.
func (s *Service) exportMessages(ctx context.Context, organID, dest string) (*Characterization, *Traceability, error) {
	var c Characterization
	var t Traceability
	d := &c.Donor
	var dob, death sql.NullString
	var age, weight, height sql.NullInt64
	var cause sql.NullString
	err := s.DB.Read().QueryRow(ctx, `SELECT o.id, o.organ, d.id, a.name, p.procured_at, d.kind, d.sex, d.blood_group, d.date_of_birth, d.estimated_age,
		d.weight_kg, d.height_cm, d.cause_of_death, d.date_of_death, d.iv_drug_use, d.malignancy, d.transmissible_disease, d.hiv, d.hcv, d.hbv, d.organ_function
		FROM organs o JOIN donors d ON d.id = o.donor_id JOIN procurements p ON p.id = o.procurement_id JOIN authorities a ON a.id = p.centre_id
		WHERE o.id = ?`, organID).Scan(&c.OrganID, &c.Organ, &c.DonorID, &c.ProcurementCentre, &t.ProcuredAt, &d.Kind, &d.Sex, &d.BloodGroup, &dob, &age,
		&weight, &height, &cause, &death, &d.IVDrugUse, &d.Malignancy, &d.TransmissibleDisease, &d.HIV, &d.HCV, &d.HBV, &d.OrganFunction)
	if err != nil {
		return nil, nil, err
	}
	c.DestinationCentre = dest
	t.OrganID, t.Organ, t.DonorID, t.ProcurementCentre = c.OrganID, c.Organ, c.DonorID, c.ProcurementCentre
	intp := func(v sql.NullInt64) *int {
		if !v.Valid {
			return nil
		}
		i := int(v.Int64)
		return &i
	}
	d.AgeYears, d.WeightKg, d.HeightCm = intp(age), intp(weight), intp(height)
	if dob.Valid {
		if born, err := time.Parse(DateLayout, dob.String); err == nil {
			at, _ := time.Parse(time.RFC3339Nano, t.ProcuredAt)
			years := at.Year() - born.Year()
			if at.YearDay() < born.YearDay() {
				years--
			}
			d.AgeYears = &years
		}
	}
	d.CauseOfDeath, d.DateOfDeath = cause.String, death.String
	return &c, &t, nil
}

// RecordImportOutcome records what became of an organ received from a
// foreign registry: transplanted to a recipient of this registry, discarded
// or used for research, by a coordinator of the centre that holds it, for a
// recipient of that centre; the registry then sends the outcome to the
// registry of origin. Another centre is refused (organ_holder, or
// recipient_centre for its recipient) before anything else is said of the
// input or the organ's state, and so is every centre while none holds the
// organ (a regulator assigns it: AssignImport).
func (s *Service) RecordImportOutcome(ctx context.Context, p *auth.Principal, organID string, in NewImportOutcome) (*Import, error) {
	const command = "record outcome of imported organ"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	x, err := s.exchange()
	if err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(organID)
	if err != nil {
		return nil, err
	}
	var im *Import
	var rec *Recipient
	holder := func(ctx context.Context, q store.Queryer) (err error) {
		if im, err = getImport(ctx, q, oid.String()); err != nil {
			return err
		}
		if err := importHeldBy(im, importHolder(im), p.AuthorityID); err != nil {
			return err
		}
		if in.RecipientID == "" {
			return nil
		}
		if rec, err = getRecipient(ctx, q, in.RecipientID); err != nil {
			return err
		}
		return recipientCentre(rec, p.AuthorityID)
	}
	if err := s.scopeFirst(ctx, p, command, holder); err != nil {
		return nil, err
	}
	if err := check.OneOf("outcome", in.Outcome, ImportOutcomes); err != nil {
		return nil, err
	}
	if in.Outcome == "transplanted" {
		if err := check.Required("recipient_id", in.RecipientID); err != nil {
			return nil, err
		}
	} else if in.RecipientID != "" {
		// An organ discarded or used for research went to no one: a
		// recipient named with it would be kept and sent to the origin as
		// the organ's recipient.
		return nil, errs.Invalidf("outcome_recipient", "recipient_id", "an organ %s has no recipient: recipient_id is given only with outcome transplanted", in.Outcome)
	}
	reason, err := check.Line("reason", in.Reason, 200, in.Outcome != "transplanted")
	if err != nil {
		return nil, err
	}
	on, err := check.Date("on", in.On, true)
	if err != nil {
		return nil, err
	}
	d := importOutcome{OrganID: oid.String(), Outcome: in.Outcome, On: on, RecipientID: in.RecipientID, CentreID: p.AuthorityID, Reason: reason}
	_, err = s.W.Submit(ctx, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := holder(ctx, tx); err != nil {
			return nil, err
		}
		if err := check.DateNotFuture("on", on, now); err != nil {
			return nil, err
		}
		if im.Outcome != "" {
			return nil, errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s already has an outcome here (%s)", im.OrganID, im.Outcome)
		}
		if in.Outcome == "transplanted" {
			if err := importTransplantRefusal(ctx, tx, im, rec, p.AuthorityID, on); err != nil {
				return nil, err
			}
		}
		// The outcome goes back to the origin: refused before anything is
		// recorded when it cannot.
		if _, err := exchange.ActivePeer(ctx, tx, "organ_id", im.PeerID, PurposeTraceability); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeImportOutcome, d)
	})
	if err != nil {
		return nil, err
	}
	im, err = getImport(ctx, s.DB.Read(), d.OrganID)
	if err != nil {
		return nil, err
	}
	var centre string
	if err := s.DB.Read().QueryRow(ctx, "SELECT name FROM authorities WHERE id = ?", p.AuthorityID).Scan(&centre); err != nil {
		return nil, err
	}
	_, err = x.Send(ctx, p, outgoing(im.PeerID, MsgOutcome, PurposeTraceability,
		OutcomeMessage{OrganID: d.OrganID, Outcome: d.Outcome, RecipientID: d.RecipientID, On: d.On, Centre: centre, Reason: d.Reason}))
	return im, err
}

// importTransplantSQL reads what the rules of an organ from abroad
// transplanted here read beyond the recipient: the registration's last
// waiting-list status and whether a transplant abroad ended it (as
// procedureSQL), and whether the centre may transplant the organ's type on
// the day.
const importTransplantSQL = `SELECT er.status, er.abroad,
	(SELECT COUNT(*) FROM centre_authorizations ca WHERE ca.centre_id = ? AND ca.activity = 'transplantation' AND ca.organ = ? AND ` + validOn + `)
	FROM (SELECT 1 AS one) x LEFT JOIN equity_registrations er ON er.recipient_id = ?`

// importTransplantRefusal checks an organ from abroad transplanted at centre
// into recipient r on the day on by the rules a transplantation of an organ
// of this registry is checked by, where the import carries what they read
// (docs/transplant.md): the registration open (waitlist_closed), the
// recipient still waiting and for an organ of this type (waiting_list,
// organ_type), the centre authorized for the type on the day
// (centre_authorization), and the day not before the organ was procured
// (dates_in_order). The recipient, read by the command's holder rule, is of
// the centre.
func importTransplantRefusal(ctx context.Context, q store.Queryer, im *Import, r *Recipient, centre, on string) error {
	var status sql.NullString
	var abroad sql.NullInt64
	var n int
	if err := q.QueryRow(ctx, importTransplantSQL, centre, im.Organ, on, on, on, r.ID).Scan(&status, &abroad, &n); err != nil {
		return err
	}
	if err := registrationClosed(r.ID, status, abroad); err != nil {
		return err
	}
	if err := recipientWaits(r, im.OrganID, im.Organ, "organ_id"); err != nil {
		return err
	}
	if err := centreAuthorizedFor(n > 0, centre, im.Organ, on); err != nil {
		return err
	}
	if len(im.ProcuredAt) >= len(DateLayout) && on < im.ProcuredAt[:len(DateLayout)] {
		return errs.Invalidf("dates_in_order", "on", "on (%s) is before the organ was procured (%s)", on, im.ProcuredAt)
	}
	return nil
}

// importHeldBy refuses, and alerts the regulator, a coordinator of centre
// acting on an organ from abroad that centre held holds, or that no centre
// holds yet (held is ""): a regulator assigns it first (AssignImport).
func importHeldBy(im *Import, held, centre string) error {
	if held == "" {
		return errs.Alertf(errs.Forbidden, "organ_holder", "organ_id", "organ %s is held by no centre here yet, not by centre %s: a regulator assigns it to a centre first", im.OrganID, centre)
	}
	if held != centre {
		return errs.Alertf(errs.Forbidden, "organ_holder", "organ_id", "organ %s is held by centre %s, not by centre %s", im.OrganID, held, centre)
	}
	return nil
}

// importHolder is the centre here that holds an organ received from abroad:
// the centre that recorded its outcome; before that, the centre a regulator
// assigned it to; else the centre the registry of origin named as the
// organ's destination, as it was resolved when the organ was received
// (DestinationCentreID: the centre of that identifier, or the one centre of
// that name then). It is "" while the organ names no centre here (the origin
// did not know the receiving centre, or named one this registry did not
// know, or several centres' name) and no regulator assigned it: no
// coordinator may act on it then. importHolderSQL is the same rule in SQL.
func importHolder(im *Import) string {
	switch {
	case im.CentreID != "":
		return im.CentreID
	case im.AssignedCentre != "":
		return im.AssignedCentre
	}
	return im.DestinationCentreID
}

// importHolderSQL is importHolder in a statement on organ_imports.
const importHolderSQL = "COALESCE(centre_id, assigned_centre, destination_centre_id)"

// AssignImports is the regulator's: the centre that holds an organ received
// from abroad, when the registry of origin named none here.
var AssignImports = auth.NewAction("assign an organ received from abroad to a centre", auth.Regulator)

// NewAssignment names the centre here that holds an organ received from
// abroad.
type NewAssignment struct {
	CentreID string `json:"centre_id" api:"required"`
}

// importAssigned is the data of an imported organ's assignment to a centre;
// a reassignment (ReassignImport) also names the centre that held it before
// and the regulator's reason.
type importAssigned struct {
	OrganID  string `json:"organ_id"`
	CentreID string `json:"centre_id"`
	From     string `json:"from,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// AssignImport assigns an organ received from abroad that no centre here
// holds (the registry of origin named no centre, or one this registry does
// not know) to a transplant centre, which then holds it: its coordinators
// record the organ's outcome and report on it. Refused for a centre that is
// not one (reference), for an organ that has an outcome (organ_final) and
// for an organ a centre holds already (organ_assigned).
func (s *Service) AssignImport(ctx context.Context, p *auth.Principal, organID string, in NewAssignment) (*Import, error) {
	if err := p.Require(AssignImports); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(organID)
	if err != nil {
		return nil, err
	}
	if err := check.Required("centre_id", in.CentreID); err != nil {
		return nil, err
	}
	d := importAssigned{OrganID: oid.String(), CentreID: in.CentreID}
	return s.submitAssignment(ctx, p, "assign imported organ", d, func(im *Import) (importAssigned, error) {
		return d, importAssignable(im)
	})
}

// submitAssignment records an assignment of an organ from abroad (d) in the
// log's transaction: the organ read, the centre checked (reference), then
// decide, which refuses or gives the entry's data; it returns the import as
// it stands after. AssignImport's and ReassignImport's.
func (s *Service) submitAssignment(ctx context.Context, p *auth.Principal, what string, d importAssigned, decide func(im *Import) (importAssigned, error)) (*Import, error) {
	_, err := s.W.Submit(ctx, p.Actor(), what, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		im, err := getImport(ctx, tx, d.OrganID)
		if err != nil {
			return nil, err
		}
		if err := requireCentre(ctx, tx, "centre_id", d.CentreID); err != nil {
			return nil, err
		}
		e, err := decide(im)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeImportAssigned, e)
	})
	if err != nil {
		return nil, err
	}
	return getImport(ctx, s.DB.Read(), d.OrganID)
}

// NewReassignment names the centre here that holds an organ received from
// abroad from now on instead of the one that holds it, and why.
type NewReassignment struct {
	CentreID string `json:"centre_id" api:"required"`
	Reason   string `json:"reason" api:"required"`
}

// ReassignImport moves an organ received from abroad that a centre holds
// (named by the registry of origin, or assigned) and that has no outcome yet
// to another transplant centre, which holds it from then on; the reason is
// required and the entry keeps it with the centre that held the organ
// before. Refused for a reason missing (required), a centre that is not one
// (reference), an organ that has an outcome (organ_final), an organ no
// centre holds (organ_unassigned: AssignImport assigns it) and the centre
// that holds it already (organ_assigned at centre_id).
func (s *Service) ReassignImport(ctx context.Context, p *auth.Principal, organID string, in NewReassignment) (*Import, error) {
	if err := p.Require(AssignImports); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(organID)
	if err != nil {
		return nil, err
	}
	if err := check.Required("centre_id", in.CentreID); err != nil {
		return nil, err
	}
	reason, err := check.Line("reason", in.Reason, 200, true)
	if err != nil {
		return nil, err
	}
	d := importAssigned{OrganID: oid.String(), CentreID: in.CentreID, Reason: reason}
	return s.submitAssignment(ctx, p, "reassign imported organ", d, func(im *Import) (importAssigned, error) {
		if im.Outcome != "" {
			return d, errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s already has an outcome here (%s)", im.OrganID, im.Outcome)
		}
		held := importHolder(im)
		if held == "" {
			return d, errs.New(errs.Conflict, "organ_unassigned", "organ_id", "organ %s is held by no centre here: assign it to a centre instead", im.OrganID)
		}
		if held == d.CentreID {
			return d, errs.New(errs.Conflict, "organ_assigned", "centre_id", "organ %s is held by centre %s already: choose another centre", im.OrganID, held)
		}
		d.From = held
		return d, nil
	})
}

// ReassignableImports lists, newest first, the organs received from abroad
// that a regulator may reassign: no outcome, and a centre holding them. At
// most MaxCrossBorderList.
func (s *Service) ReassignableImports(ctx context.Context, p *auth.Principal) ([]Import, error) {
	return s.importsAwaitingOutcome(ctx, p, true)
}

// importAssignable refuses the assignment of an organ from abroad that has
// an outcome (organ_final) or that a centre holds already (organ_assigned:
// assigned before, or sent to a centre here by its identifier or name).
// AssignImport decides by it, and AssignableImports lists by it what the
// assignment form offers.
func importAssignable(im *Import) error {
	if im.Outcome != "" {
		return errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s already has an outcome here (%s)", im.OrganID, im.Outcome)
	}
	if held := importHolder(im); held != "" {
		return errs.New(errs.Conflict, "organ_assigned", "organ_id", "organ %s is held by centre %s already", im.OrganID, held)
	}
	return nil
}

// AssignableImports lists, newest first, the organs received from abroad
// that a regulator may assign to a centre: those AssignImport would not
// refuse (importAssignable: no outcome, no centre holding them), at most
// MaxCrossBorderList.
func (s *Service) AssignableImports(ctx context.Context, p *auth.Principal) ([]Import, error) {
	return s.importsAwaitingOutcome(ctx, p, false)
}

// importsAwaitingOutcome lists, newest first, at most MaxCrossBorderList
// organs from abroad with no outcome that a centre holds (held) or that none
// holds, with their assignments: what the reassignment and the assignment
// forms offer.
func (s *Service) importsAwaitingOutcome(ctx context.Context, p *auth.Principal, held bool) ([]Import, error) {
	if err := p.Require(AssignImports); err != nil {
		return nil, err
	}
	holder := " IS NULL"
	if held {
		holder = " IS NOT NULL"
	}
	return s.listImports(ctx, " WHERE outcome IS NULL AND "+importHolderSQL+holder)
}

const importCols = `organ_id, peer_id, origin_country, donor_ref, organ, COALESCE(characterization, ''), COALESCE(characterized_at, ''),
	COALESCE(procured_at, ''), COALESCE(procurement_centre, ''), COALESCE(shipped_at, ''), destination_centre, COALESCE(outcome, ''),
	COALESCE(outcome_on, ''), COALESCE(recipient_id, ''), COALESCE(centre_id, ''), COALESCE(outcome_reason, ''), COALESCE(assigned_centre, ''),
	COALESCE(assigned_at, ''), COALESCE(assigned_by, ''), COALESCE(destination_centre_id, ''), COALESCE(received_at, '')`

func scanImport(r store.Scanner, im *Import) error {
	var char string
	if err := r.Scan(&im.OrganID, &im.PeerID, &im.OriginCountry, &im.DonorRef, &im.Organ, &char, &im.CharacterizedAt, &im.ProcuredAt,
		&im.ProcurementCentre, &im.ShippedAt, &im.DestinationCentre, &im.Outcome, &im.OutcomeOn, &im.RecipientID, &im.CentreID, &im.OutcomeReason,
		&im.AssignedCentre, &im.AssignedAt, &im.AssignedBy, &im.DestinationCentreID, &im.ReceivedAt); err != nil {
		return err
	}
	if char != "" {
		im.Characterization = &Characterization{}
		return json.Unmarshal([]byte(char), im.Characterization)
	}
	return nil
}

// getImport reads an organ received from abroad with its assignments, in q.
func getImport(ctx context.Context, q store.Queryer, organID string) (*Import, error) {
	var im Import
	err := scanImport(q.QueryRow(ctx, "SELECT "+importCols+" FROM organ_imports WHERE organ_id = ?", organID), &im)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "organ_id", "no organ %s received from abroad", organID)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, importAssignmentsSQL, organID)
	if err != nil {
		return nil, err
	}
	var organ string
	if im.Assignments, err = store.Rows(rows, func(r store.Scanner, a *ImportAssignment) error {
		return scanImportAssignment(r, &organ, a)
	}); err != nil {
		return nil, err
	}
	return &im, nil
}

// importAssignmentCols are the columns scanImportAssignment reads, of
// organ_import_assignments a.
const importAssignmentCols = `a.organ_id, a.centre_id, COALESCE(a.from_centre, ''), a.reason, a.assigned_at, a.assigned_by, a.log_index, a.by_origin`

// importAssignmentsSQL reads an import's assignments, oldest first.
const importAssignmentsSQL = "SELECT " + importAssignmentCols + " FROM organ_import_assignments a WHERE a.organ_id = ? ORDER BY a.log_index"

func scanImportAssignment(r store.Scanner, organ *string, a *ImportAssignment) error {
	var byOrigin int
	err := r.Scan(organ, &a.CentreID, &a.From, &a.Reason, &a.AssignedAt, &a.AssignedBy, &a.LogIndex, &byOrigin)
	a.ByOrigin = byOrigin != 0
	return err
}

// importAssignmentsRead is the read of the assignments of several imports,
// by the statement sql (of importAssignmentCols, ordered by log_index), to
// be attached to them by attachImportAssignments.
func importAssignmentsRead(sql string, args []any, into map[string][]ImportAssignment) store.ReadQuery {
	return store.ReadQuery{SQL: sql, Args: args, Row: func(r store.Scanner) error {
		var organ string
		var a ImportAssignment
		if err := scanImportAssignment(r, &organ, &a); err != nil {
			return err
		}
		into[organ] = append(into[organ], a)
		return nil
	}}
}

// attachImportAssignments gives each import its assignments, oldest first.
func attachImportAssignments(ims []Import, by map[string][]ImportAssignment) {
	for i := range ims {
		ims[i].Assignments = by[ims[i].OrganID]
	}
}

// Import returns an organ received from a foreign registry: where it came
// from (the registry of origin, its national donor id, the characterization
// and the traceability data) and what became of it here.
func (s *Service) Import(ctx context.Context, p *auth.Principal, organID string) (*Import, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(organID)
	if err != nil {
		return nil, err
	}
	return getImport(ctx, s.DB.Read(), oid.String())
}

// MaxCrossBorderList is how many rows the lists of exports, imports and
// foreign reports answer, newest first.
const MaxCrossBorderList = 500

// Imports lists the organs received from foreign registries, newest first.
func (s *Service) Imports(ctx context.Context, p *auth.Principal) ([]Import, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	return s.listImports(ctx, "")
}

// listImports lists, newest first, at most MaxCrossBorderList organs
// received from abroad, those of where (a WHERE clause on organ_imports, ""
// for all), each with its assignments: every list of imports is read by it,
// so that each carries its assignments as the import read alone does.
func (s *Service) listImports(ctx context.Context, where string) ([]Import, error) {
	list, assignments := importListSQL(where)
	// The imports and the assignments of those listed: one round trip on
	// PostgreSQL.
	out := []Import{}
	by := map[string][]ImportAssignment{}
	if err := s.DB.ReadBatch(ctx, store.ReadQuery{SQL: list, Args: []any{MaxCrossBorderList}, Row: func(r store.Scanner) error {
		var im Import
		err := scanImport(r, &im)
		out = append(out, im)
		return err
	}}, importAssignmentsRead(assignments, []any{MaxCrossBorderList}, by)); err != nil {
		return nil, err
	}
	attachImportAssignments(out, by)
	return out, nil
}

// importListSQL is the list of the imports of where (a WHERE clause on
// organ_imports, or ""), newest first (argument: the limit), and the
// assignments of the imports it lists (argument: the same limit).
func importListSQL(where string) (list, assignments string) {
	imports := "FROM organ_imports" + where + " ORDER BY log_index DESC, organ_id LIMIT ?"
	return "SELECT " + importCols + " " + imports, "SELECT " + importAssignmentCols + ` FROM organ_import_assignments a
		WHERE a.organ_id IN (SELECT organ_id ` + imports + `) ORDER BY a.log_index`
}

const exportCols = `id, organ_id, peer_id, destination_country, destination_centre, exported_at, COALESCE(outcome, ''), COALESCE(outcome_on, ''),
	COALESCE(recipient_ref, ''), COALESCE(outcome_centre, ''), COALESCE(outcome_reason, '')`

func scanExport(r store.Scanner, x *Export) error {
	return r.Scan(&x.ID, &x.OrganID, &x.PeerID, &x.DestinationCountry, &x.DestinationCentre, &x.ExportedAt, &x.Outcome, &x.OutcomeOn,
		&x.RecipientRef, &x.OutcomeCentre, &x.OutcomeReason)
}

// Exports lists the organs sent to foreign registries, newest first.
func (s *Service) Exports(ctx context.Context, p *auth.Principal) ([]Export, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+exportCols+" FROM organ_exports ORDER BY log_index DESC, organ_id LIMIT ?", MaxCrossBorderList)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, scanExport)
	if out == nil {
		out = []Export{}
	}
	return out, err
}

// donorExportsSQL reads the exports of a donor's organs.
const donorExportsSQL = "SELECT " + exportCols + " FROM organ_exports WHERE organ_id IN (SELECT id FROM organs WHERE donor_id = ?)"

// exportsOf returns the exports of a donor's organs, by organ.
func exportsOf(ctx context.Context, q store.Queryer, donorID string) (map[string]Export, error) {
	rows, err := q.Query(ctx, donorExportsSQL, donorID)
	if err != nil {
		return nil, err
	}
	list, err := store.Rows(rows, scanExport)
	if err != nil {
		return nil, err
	}
	out := map[string]Export{}
	for _, x := range list {
		out[x.OrganID] = x
	}
	return out, nil
}

// attachExports shows in a donor's trace where the organs sent abroad went
// (ex, by organ, read with donorExportsSQL), as far as the destination
// answered.
func attachExports(dt *DonorTrace, ex map[string]Export) {
	for j := range dt.Organs {
		o := &dt.Organs[j]
		if x, ok := ex[o.ID]; ok {
			o.Export = &x
			if o.Status == "procured" {
				o.Status = "exported"
			}
		}
	}
}

// ---- Acting on the messages received ----

// ExchangeHandler is how the registry acts on the messages of its types that
// peers send (exchange.Handler): Accept refuses, in the receipt, what the
// registry cannot take; Received records what the message means here.
func (s *Service) ExchangeHandler() exchange.Handler {
	return exchange.Handler{Accept: s.accept, Received: func(ctx context.Context, m *exchange.Inbound) {
		if err := s.apply(ctx, m); err != nil {
			s.log().Error("act on an exchange message", "message", m.InboxID, "type", m.Type, "err", err)
		}
	}}
}

// accept runs the registry's rules on a message received, inside the
// transaction that records it.
// The core has checked the purpose and readers each type declares (the
// organs' types traceability, the adverse events' vigilance, both worked by
// the coordinator: CrossBorderTypes).
func (s *Service) accept(ctx context.Context, tx *store.Tx, m *exchange.Inbound) error {
	switch m.Type {
	case MsgCharacterization:
		// Each payload is read into its own type's struct: a read names
		// every key (DecodePayload), so that one type's struct does not
		// read another's payload.
		var c Characterization
		if err := m.DecodePayload(&c); err != nil {
			return err
		}
		return acceptImport(ctx, tx, m, c.OrganID)
	case MsgTraceability:
		var t Traceability
		if err := m.DecodePayload(&t); err != nil {
			return err
		}
		return acceptImport(ctx, tx, m, t.OrganID)
	case MsgOutcome:
		var o OutcomeMessage
		if err := m.DecodePayload(&o); err != nil {
			return err
		}
		x, err := exportTo(ctx, tx, m.PeerID, o.OrganID)
		if err != nil {
			return err
		}
		if x.Outcome != "" {
			return errs.New(errs.Conflict, "organ_final", "payload.organ_id", "organ %s already has an outcome (%s)", o.OrganID, x.Outcome)
		}
		return nil
	}
	return s.acceptVigilance(ctx, tx, m)
}

// acceptImport refuses an organ whose identifier does not verify, or that
// another registry than its country's sends.
func acceptImport(ctx context.Context, tx *store.Tx, m *exchange.Inbound, organID string) error {
	oid, err := ParseOrganID(organID)
	if err != nil {
		return errs.New(errs.Invalid, "organ_id", "payload.organ_id", "organ %s has no valid identifier", organID)
	}
	if oid.Country != m.From {
		return errs.New(errs.Invalid, "organ_origin", "payload.organ_id", "organ %s was issued by the registry of %s, not by the sender's (%s)", organID, oid.Country, m.From)
	}
	var peer string
	err = tx.QueryRow(ctx, "SELECT peer_id FROM organ_imports WHERE organ_id = ?", oid.String()).Scan(&peer)
	if err == nil && peer != m.PeerID {
		return errs.New(errs.Conflict, "organ_origin", "payload.organ_id", "organ %s was sent here by another registry", organID)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	return nil
}

// exportTo reads the export of an organ to a peer (not found: rule
// not_exported at payload.organ_id).
func exportTo(ctx context.Context, q store.Queryer, peerID, organID string) (*Export, error) {
	var x Export
	err := scanExport(q.QueryRow(ctx, "SELECT "+exportCols+" FROM organ_exports WHERE organ_id = ? AND peer_id = ?", organID, peerID), &x)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.Invalid, "not_exported", "payload.organ_id", "organ %s was not sent to the sender's registry", organID)
	}
	return &x, err
}

// applied is the data of the entry that records what a message received
// means here: exactly one of the parts is set, as the message's type says.
type applied struct {
	InboxID string `json:"inbox_id"`
	PeerID  string `json:"peer_id"`
	Type    string `json:"type"`
	From    string `json:"from"`
	// An organ received: its characterization, or its traceability data.
	Characterization *Characterization `json:"characterization,omitempty"`
	// Moved is set when the characterization names another centre here
	// than the one that holds the organ by the origin's word (the
	// destination an earlier characterization named; no regulator's
	// assignment, no outcome): the organ moves to it, a row of its
	// history of holders. Absent in the entries before it was kept, whose
	// replay writes no such row, as their projection did not.
	Moved        *originMove   `json:"moved,omitempty"`
	Traceability *Traceability `json:"traceability,omitempty"`
	// What became of an organ sent.
	Outcome *OutcomeMessage `json:"outcome,omitempty"`
	// A report of an SAE received, the notifications of the centres here,
	// and whether the registry acknowledged it at once (no centre here to
	// notify).
	ForeignSAE *ForeignSAE `json:"foreign_sae,omitempty"`
	// A report a destination raised, made this registry's own report.
	SAE *SAE `json:"sae,omitempty"`
	// A foreign registry's acknowledgement of a notification.
	Acknowledgement *SAEAcknowledgement `json:"acknowledgement,omitempty"`
	NotificationID  string              `json:"notification_id,omitempty"`
	// A final report received.
	Final        *SAEFinalNotice `json:"final,omitempty"`
	ForeignSAEID string          `json:"foreign_sae_id,omitempty"`
}

// apply records what a message received means here, once (a message
// applied before is left alone), then sends what follows from it.
func (s *Service) apply(ctx context.Context, m *exchange.Inbound) error {
	var d *applied
	_, err := s.W.Submit(ctx, ledger.Actor{}, "act on exchange message", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM exchange_applied WHERE inbox_id = ?", m.InboxID).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errs.New(errs.Conflict, "applied", "id", "message %s was acted on before", m.InboxID)
		}
		var err error
		d, err = s.decideApplied(ctx, tx, m, now)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeMessageApplied, d)
	})
	if e, ok := errs.As(err); ok && e.Rule == "applied" {
		return nil
	}
	if err != nil {
		return err
	}
	return s.afterApplied(ctx, d)
}

func (s *Service) decideApplied(ctx context.Context, tx *store.Tx, m *exchange.Inbound, now time.Time) (*applied, error) {
	d := &applied{InboxID: m.InboxID, PeerID: m.PeerID, Type: m.Type, From: m.From}
	var err error
	switch m.Type {
	case MsgCharacterization:
		d.Characterization = &Characterization{}
		if err = m.DecodePayload(d.Characterization); err == nil {
			d.Moved, err = movedByOrigin(ctx, tx, d.Characterization)
		}
	case MsgTraceability:
		d.Traceability = &Traceability{}
		err = m.DecodePayload(d.Traceability)
	case MsgOutcome:
		d.Outcome = &OutcomeMessage{}
		err = m.DecodePayload(d.Outcome)
	default:
		err = s.decideVigilance(ctx, tx, m, d, now)
	}
	return d, err
}

// originMove is an organ from abroad moved by a later characterization of
// its registry of origin: from the centre here the earlier one named to the
// centre this one names.
type originMove struct {
	From     string `json:"from"`
	CentreID string `json:"centre_id"`
}

// movedByOrigin decides, in the transaction that records characterization
// c, whether it moves the organ: when a centre holds it by the destination
// an earlier characterization named (no regulator assigned it, no outcome),
// and c names another centre here, resolved as the projector resolves it
// (importDestinationSQL, with the centres registered now). nil otherwise: a
// first characterization (its holder is the first row, insertFirstHolder),
// the same centre named again, one naming no centre here can tell, and an
// organ a regulator assigned or one with an outcome, whose holder the
// origin no longer decides.
func movedByOrigin(ctx context.Context, tx *store.Tx, c *Characterization) (*originMove, error) {
	var held, assigned, outcome, named string
	err := tx.QueryRow(ctx, `SELECT COALESCE(destination_centre_id, ''), COALESCE(assigned_centre, ''), COALESCE(centre_id, '') || COALESCE(outcome, ''),
		COALESCE(`+importDestinationSQL+`, '') FROM organ_imports WHERE organ_id = ?`, KindCentre, c.DestinationCentre, KindCentre, c.DestinationCentre,
		c.OrganID).Scan(&held, &assigned, &outcome, &named)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil || held == "" || assigned != "" || outcome != "" || named == "" || named == held {
		return nil, err
	}
	return &originMove{From: held, CentreID: named}, nil
}

// ApplyPending acts on the messages of the registry's types that were
// recorded but not acted on (the server stopped between the two); Run calls
// it.
func (s *Service) ApplyPending(ctx context.Context) (int, error) {
	if s.Exchange == nil {
		return 0, nil
	}
	return s.Exchange.ApplyPending(ctx, s.DB.Read(), `SELECT i.id FROM exchange_inbox i LEFT JOIN exchange_applied a ON a.inbox_id = i.id
		WHERE i.module = ? AND a.inbox_id IS NULL ORDER BY i.log_index LIMIT 100`, []any{Module.Name},
		func(ctx context.Context, m *exchange.Inbound) (bool, error) {
			if !slices.ContainsFunc(CrossBorderTypes, func(t exchange.Type) bool { return t.Name == m.Type }) {
				return false, nil
			}
			return true, s.apply(ctx, m)
		})
}

// recipientImportsSQL reads the organs from abroad a recipient received,
// recipientImportAssignmentsSQL their assignments.
const (
	recipientImportsSQL           = "SELECT " + importCols + " FROM organ_imports WHERE recipient_id = ? ORDER BY organ_id"
	recipientImportAssignmentsSQL = "SELECT " + importAssignmentCols + ` FROM organ_import_assignments a
		JOIN organ_imports i ON i.organ_id = a.organ_id WHERE i.recipient_id = ? ORDER BY a.log_index`
)

// Peer is a foreign registry an organ may be sent to: an active exchange
// peer that takes messages for traceability.
type Peer = exchange.PeerName

// ExportPeers lists the foreign registries an organ may be sent to, by name.
func (s *Service) ExportPeers(ctx context.Context, p *auth.Principal) ([]Peer, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	return exchange.PeersFor(ctx, s.DB.Read(), PurposeTraceability)
}
