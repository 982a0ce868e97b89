package transplant

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Hand-offs: the chain of custody of an organ (docs/vigilance.md) ----
//
// Modelled on OPTN TransNet: the organ's label is scanned at each hand-off
// of its journey, and each scan is an entry of the log with who, where,
// when and which step, so that the trace shows where an organ is.

// TypeOrganHandedOff is the entry of one hand-off.
const TypeOrganHandedOff = "transplant.organ_handed_off"

// The steps of an organ's journey, in their order.
const (
	StepProcurementTheatre = "procurement_theatre" // leaves the procurement theatre, packed and labelled
	StepTransport          = "transport"           // handed to the transport (one scan a leg)
	StepArrival            = "arrival"             // arrives at the transplant centre
	StepTransplantTheatre  = "transplant_theatre"  // enters the transplant theatre
)

// HandoffSteps lists the steps in their order.
var HandoffSteps = []string{StepProcurementTheatre, StepTransport, StepArrival, StepTransplantTheatre}

// NewHandoff is the input of RecordHandoff. HandedAt is optional: the time
// the hand-off is recorded when empty, as when a label is scanned.
type NewHandoff struct {
	OrganID  string `json:"organ_id" api:"required"`
	Step     string `json:"step" api:"required"`
	CentreID string `json:"centre_id"`
	Place    string `json:"place"`
	HandedAt string `json:"handed_at"`
}

// Handoff is one hand-off of an organ: the step, the centre whose
// coordinator scanned it, the place (a theatre, a courier, a flight), when,
// and who recorded it.
type Handoff struct {
	ID         string `json:"id"`
	OrganID    string `json:"organ_id"`
	Step       string `json:"step"`
	CentreID   string `json:"centre_id"`
	Place      string `json:"place"`
	HandedAt   string `json:"handed_at"`
	RecordedBy string `json:"recorded_by,omitempty"`
}

// Custody is the chain of custody of one organ: its hand-offs in order, and
// the last of them, which says where the organ is unless its status says it
// is transplanted or disposed of.
type Custody struct {
	OrganID  string    `json:"organ_id"`
	Status   string    `json:"status"`
	Handoffs []Handoff `json:"handoffs"`
	Location *Handoff  `json:"location,omitempty"`
}

// ParseScan reads what a barcode scanner typed, or a camera decoded, from an
// organ's label: the organ identifier, with the spaces, line ends and tabs a
// scanner adds around it, and an AIM symbology identifier (]Q1 for a QR
// Code, ]d2 for a Data Matrix) that some scanners send first. What remains is
// read by ParseOrganID, with its refusals.
func ParseScan(s string) (OrganID, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f })
	if len(s) >= 3 && s[0] == ']' {
		s = s[3:]
	}
	return ParseOrganID(s)
}

// handoffSQL reads what the rules of a hand-off check: the organ's
// procuring centre and time, its status, whether the centre holds a
// per-procedure authorization of it, and its last hand-off.
const handoffSQL = `SELECT o.id, p.centre_id, p.procured_at, ` + organStatus + `,
	EXISTS (SELECT 1 FROM transplant_authorizations ta WHERE ta.organ_id = o.id AND ta.centre_id = ?),
	COALESCE((SELECT h.step FROM organ_handoffs h WHERE h.organ_id = o.id ORDER BY h.log_index DESC, h.id DESC LIMIT 1), ''),
	COALESCE((SELECT MAX(h.handed_at) FROM organ_handoffs h WHERE h.organ_id = o.id), '')
	FROM organs o JOIN procurements p ON p.id = o.procurement_id WHERE o.id = ?`

// RecordHandoff records that an organ changed hands at a step of its
// journey. It is refused for an organ the registry does not hold, a centre
// that does not have the organ at that step (an alert: an organ where it
// was not allocated; answered before the other fields are checked and
// before the organ's state), one already transplanted or disposed of, and
// a step out of order.
func (s *Service) RecordHandoff(ctx context.Context, p *auth.Principal, in NewHandoff) (*Handoff, error) {
	const command = "record hand-off"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	centre, err := centreFor(p, "centre_id", in.CentreID)
	if err != nil {
		return nil, s.refuseWithAlert(ctx, p, command, err)
	}
	oid, err := ParseScan(in.OrganID)
	if err != nil {
		return nil, err
	}
	var organ, procuredBy, procuredAt, status, last, lastAt string
	var allocated bool
	holder := func(ctx context.Context, q store.Queryer) error {
		err := q.QueryRow(ctx, handoffSQL, centre, oid.String()).Scan(&organ, &procuredBy, &procuredAt, &status, &allocated, &last, &lastAt)
		if errors.Is(err, sql.ErrNoRows) {
			return noOrgan(oid.String())
		}
		if err != nil {
			return err
		}
		// A step not among the steps is refused as a field once the centre
		// is known to hold the organ at one: at transport, the step every
		// centre that has the organ may record.
		step := in.Step
		if !slices.Contains(HandoffSteps, step) {
			step = StepTransport
		}
		return handoffHolder(step, centre, organ, procuredBy, allocated)
	}
	if err := s.scopeFirst(ctx, p, command, holder); err != nil {
		return nil, err
	}
	if err := check.OneOf("step", in.Step, HandoffSteps); err != nil {
		return nil, err
	}
	place, err := check.Line("place", in.Place, 200, false)
	if err != nil {
		return nil, err
	}
	var at time.Time
	if strings.TrimSpace(in.HandedAt) != "" {
		if at, err = check.Time("handed_at", in.HandedAt); err != nil {
			return nil, err
		}
	}
	id := s.W.IDs().New("HO")
	h, err := ledger.SubmitAs[Handoff](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		when := at
		if when.IsZero() {
			when = now
		}
		if err := check.NotFuture("handed_at", when, now); err != nil {
			return nil, err
		}
		if err := requireCentre(ctx, tx, "centre_id", centre); err != nil {
			return nil, err
		}
		if err := holder(ctx, tx); err != nil {
			return nil, err
		}
		if status != "procured" {
			return nil, errs.New(errs.Conflict, "organ_final", "organ_id", "organ %s is no longer in transit (%s): no hand-off can follow", organ, status)
		}
		if err := handoffInOrder(in.Step, last); err != nil {
			return nil, err
		}
		stamp := ledger.FormatTime(when)
		if stamp < procuredAt {
			return nil, errs.Invalidf("dates_in_order", "handed_at", "handed_at (%s) is before the organ was procured (%s)", stamp, procuredAt)
		}
		if stamp < lastAt {
			return nil, errs.Invalidf("dates_in_order", "handed_at", "handed_at (%s) is before the organ's last hand-off (%s)", stamp, lastAt)
		}
		return ledger.NewEntry(TypeOrganHandedOff, Handoff{ID: id, OrganID: organ, Step: in.Step, CentreID: centre, Place: place, HandedAt: stamp})
	})
	if err != nil {
		return nil, err
	}
	h.RecordedBy = p.ID
	return h, nil
}

// handoffInOrder refuses a step that does not follow the last one: the
// steps go in their order, a step may be skipped (a label not scanned), and
// only transport repeats (one scan a leg).
func handoffInOrder(step, last string) error {
	if last == "" {
		return nil
	}
	i, j := slices.Index(HandoffSteps, step), slices.Index(HandoffSteps, last)
	if i > j || (step == StepTransport && last == StepTransport) {
		return nil
	}
	return errs.New(errs.Conflict, "handoff_order", "step", "the organ's last hand-off was %s: %s cannot follow it", last, step)
}

// handoffHolder refuses a centre that does not have the organ at the step:
// it leaves the procurement theatre of the centre that procured it; it is
// handed to transport by that centre or by one it was allocated to (one
// holding a per-procedure authorization of it); it arrives, and enters the
// theatre, only at a centre it was allocated to.
func handoffHolder(step, centre, organ, procuredBy string, allocated bool) error {
	switch step {
	case StepProcurementTheatre:
		if centre != procuredBy {
			return errs.Alertf(errs.Forbidden, "organ_holder", "organ_id", "organ %s was procured by centre %s, not %s", organ, procuredBy, centre)
		}
	case StepTransport:
		if centre != procuredBy && !allocated {
			return errs.Alertf(errs.Forbidden, "organ_holder", "organ_id",
				"centre %s neither procured organ %s nor holds an authorization to transplant it", centre, organ)
		}
	default:
		if !allocated {
			return errs.Alertf(errs.Forbidden, "organ_holder", "organ_id",
				"organ %s is not allocated to centre %s: no authorization to transplant it there is on file", organ, centre)
		}
	}
	return nil
}

// handoffCols are the columns of a hand-off h that scanHandoff reads.
const handoffCols = `h.id, h.organ_id, h.step, h.centre_id, h.place, h.handed_at, h.recorded_by`

func scanHandoff(r store.Scanner, h *Handoff) error {
	return r.Scan(&h.ID, &h.OrganID, &h.Step, &h.CentreID, &h.Place, &h.HandedAt, &h.RecordedBy)
}

// OrganCustody returns the chain of custody of one organ.
func (s *Service) OrganCustody(ctx context.Context, p *auth.Principal, id string) (*Custody, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	oid, err := ParseScan(id)
	if err != nil {
		return nil, err
	}
	o, err := getOrgan(ctx, s.DB.Read(), oid.String())
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+handoffCols+" FROM organ_handoffs h WHERE h.organ_id = ? ORDER BY h.log_index, h.id", o.ID)
	if err != nil {
		return nil, err
	}
	hs, err := store.Rows(rows, scanHandoff)
	if err != nil {
		return nil, err
	}
	c := &Custody{OrganID: o.ID, Status: o.Status, Handoffs: hs}
	if hs == nil {
		c.Handoffs = []Handoff{}
	}
	if len(hs) > 0 {
		c.Location = &hs[len(hs)-1]
	}
	return c, nil
}

// donorHandoffsSQL reads the hand-offs of every organ of a donor, in the
// order of the log.
const donorHandoffsSQL = "SELECT " + handoffCols + ` FROM organ_handoffs h JOIN organs o ON o.id = h.organ_id
	WHERE o.donor_id = ? ORDER BY h.organ_id, h.log_index, h.id`

// attachCustody adds to each organ of a donor's trace its hand-offs (hs,
// read with donorHandoffsSQL) and where it was last handed over.
func attachCustody(dt *DonorTrace, hs []Handoff) {
	for i := range dt.Organs {
		o := &dt.Organs[i]
		for _, h := range hs {
			if h.OrganID == o.ID {
				o.Custody = append(o.Custody, h)
			}
		}
		if n := len(o.Custody); n > 0 {
			o.Location = &o.Custody[n-1]
		}
	}
}

// projectHandoffs adds the projector and table of hand-offs.
func projectHandoffs(reg *ledger.Projections) {
	ledger.On(reg, TypeOrganHandedOff, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, h *Handoff) error {
		_, err := q.Exec(ctx, `INSERT INTO organ_handoffs (id, organ_id, step, centre_id, place, handed_at, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.ID, h.OrganID, h.Step, h.CentreID, h.Place, h.HandedAt, e.At, e.By, idx)
		return err
	})
	reg.Tables(ledger.Table{Name: "organ_handoffs", Order: "id"})
}
