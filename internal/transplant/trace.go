package transplant

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/store"
)

// Trace is the answer to "where did this organ come from and where did the
// donor's other organs go": each donor involved, every organ procured from
// them, and the recipient of each organ transplanted, with centres and dates.
type Trace struct {
	From   string       `json:"from"` // organ, donation, donor or recipient
	ID     string       `json:"id"`
	Donors []DonorTrace `json:"donors"`
	// Imported are the organs of the trace received from foreign
	// registries: where each came from (the registry of origin, its organ
	// and national donor ids) and what became of it here.
	Imported []Import `json:"imported,omitempty"`
	// Abroad are a recipient's transplants and living donations in other
	// jurisdictions (travel.go): where, when, which organ; the person's
	// references are left out.
	Abroad []Abroad `json:"abroad,omitempty"`
}

// DonorTrace is one donor and the fate of each of their organs.
type DonorTrace struct {
	Donor  TraceDonor   `json:"donor"`
	Organs []TraceOrgan `json:"organs"`
}

// TraceDonor is what a trace shows of a donor: no personal data.
type TraceDonor struct {
	ID         string `json:"id"`
	Kind       string `json:"kind"`
	BloodGroup string `json:"blood_group"`
	CentreID   string `json:"centre_id"`
	// Domino is, for a donor of kind domino, the procedure in which the
	// recipient's explanted liver was donated, and that recipient: the
	// way back from the second recipient to the first.
	Domino *TraceDomino `json:"domino,omitempty"`
}

// TraceDomino is the procedure that made a recipient a domino donor.
type TraceDomino struct {
	ProcedureID string `json:"procedure_id"`
	RecipientID string `json:"recipient_id"`
}

// TraceOrgan is one organ, where it was procured and where it went.
type TraceOrgan struct {
	ID            string           `json:"id"`
	Organ         string           `json:"organ"`
	Status        string           `json:"status"`
	ProcurementID string           `json:"procurement_id"`
	ProcuredAt    string           `json:"procured_at"`
	ProcuredBy    TraceCentre      `json:"procured_by"`
	Transplant    *TraceTransplant `json:"transplant,omitempty"`
	// Disposition is the organ's final disposition when it was not
	// transplanted: discarded or used for research.
	Disposition *TraceDisposition `json:"disposition,omitempty"`
	// Custody is the organ's hand-offs in order (handoffs.go), and
	// Location the last of them: where the organ was last handed over.
	Custody  []Handoff `json:"custody,omitempty"`
	Location *Handoff  `json:"location,omitempty"`
	// Export is where the organ went abroad, as far as the destination
	// registry answered (its status is then exported until it does).
	Export *Export `json:"export,omitempty"`
}

// TraceDisposition is what a trace shows of an organ's disposition.
type TraceDisposition struct {
	ID         string      `json:"id"`
	Outcome    string      `json:"outcome"`
	Reason     string      `json:"reason"`
	DisposedAt string      `json:"disposed_at"`
	Centre     TraceCentre `json:"centre"`
}

// TraceCentre names a centre.
type TraceCentre struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// TraceTransplant is the transplantation of an organ.
type TraceTransplant struct {
	ID          string      `json:"id"`
	PerformedAt string      `json:"performed_at"`
	Centre      TraceCentre `json:"centre"`
	// Procedure is the procedure the transplantation was part of (a
	// multi-organ procedure, or one with a domino liver); nil for one
	// recorded alone.
	Procedure *TraceProcedure `json:"procedure,omitempty"`
	Recipient struct {
		ID         string `json:"id"`
		BloodGroup string `json:"blood_group"`
		Residence  string `json:"residence"`
	} `json:"recipient"`
}

// TraceProcedure is what a trace shows of a procedure: its kind, and the
// identifier of the recipient's explanted liver when it was donated (domino).
type TraceProcedure struct {
	ID            string `json:"id"`
	Kind          string `json:"kind"`
	DominoOrganID string `json:"domino_organ_id,omitempty"`
}

// traceDonorCols and traceDonorJoins read donors and every organ procured
// from them, with the transplantation of each, in one statement: the
// donor's columns repeat on each organ row, and a donor without organs gives
// one row of NULL organ columns. An organ's status is organStatus, read off
// the joined rows. traceDonorSQL reads one donor with them.
const (
	traceDonorCols = `SELECT d.id, d.kind, d.blood_group, d.centre_id,
	COALESCE(o.id, ''), COALESCE(o.organ, ''),
	CASE WHEN o.id IS NULL THEN '' WHEN t.id IS NOT NULL THEN 'transplanted' WHEN od.id IS NOT NULL THEN od.outcome ELSE 'procured' END,
	COALESCE(p.id, ''), COALESCE(p.procured_at, ''),
	COALESCE(p.centre_id, ''), COALESCE(pc.name, ''),
	COALESCE(t.id, ''), COALESCE(t.performed_at, ''), COALESCE(t.centre_id, ''), COALESCE(tc.name, ''),
	COALESCE(r.id, ''), COALESCE(r.blood_group, ''), COALESCE(r.residence, ''),
	COALESCE(od.id, ''), COALESCE(od.reason, ''), COALESCE(od.disposed_at, ''), COALESCE(od.centre_id, ''), COALESCE(dc.name, ''),
	COALESCE(tp.id, ''), COALESCE(tp.kind, ''), COALESCE(tp.domino_organ_id, ''), COALESCE(dp.id, ''), COALESCE(dp.recipient_id, '')`
	traceDonorJoins = `
	LEFT JOIN transplant_procedures dp ON dp.id = d.domino_procedure_id
	LEFT JOIN organs o ON o.donor_id = d.id
	LEFT JOIN procurements p ON p.id = o.procurement_id
	LEFT JOIN authorities pc ON pc.id = p.centre_id
	LEFT JOIN transplants t ON t.organ_id = o.id
	LEFT JOIN authorities tc ON tc.id = t.centre_id
	LEFT JOIN recipients r ON r.id = t.recipient_id
	LEFT JOIN organ_dispositions od ON od.organ_id = o.id
	LEFT JOIN authorities dc ON dc.id = od.centre_id
	LEFT JOIN transplant_procedures tp ON tp.id = t.procedure_id`
	traceDonorSQL = traceDonorCols + " FROM donors d" + traceDonorJoins + " WHERE d.id = ? ORDER BY o.id"
)

// recipientDonorsSQL selects the donor of every organ a recipient received
// and the recipient's own donor record when their explanted liver was
// donated (domino): the way on to the second recipient. Its arguments are
// the recipient's id, twice.
const recipientDonorsSQL = `SELECT o.donor_id FROM transplants t JOIN organs o ON o.id = t.organ_id WHERE t.recipient_id = ?
	UNION SELECT tp.domino_donor_id FROM transplant_procedures tp WHERE tp.recipient_id = ? AND tp.domino_donor_id IS NOT NULL`

// traceRecipientDonorsSQL is traceDonorSQL for each of a recipient's donors
// (recipientDonorsSQL), in the order of their ids, and recipientHandoffsSQL
// their organs' hand-offs. Both start from the few donor ids and join on
// (written as an IN, PostgreSQL hashed the whole tables).
const (
	traceRecipientDonorsSQL = traceDonorCols + " FROM (" + recipientDonorsSQL + ") rd JOIN donors d ON d.id = rd.donor_id" +
		traceDonorJoins + " ORDER BY d.id, o.id"
	recipientHandoffsSQL = "SELECT " + handoffCols + " FROM (" + recipientDonorsSQL + `) rd
	JOIN organs o ON o.donor_id = rd.donor_id JOIN organ_handoffs h ON h.organ_id = o.id ORDER BY h.organ_id, h.log_index, h.id`
)

// recipientExistsSQL tells whether a recipient is on file.
const recipientExistsSQL = `SELECT 1 FROM recipients WHERE id = ?`

// stmtKey names a prepared statement of one read pool. The cached statement
// refers to its pool, so the pool's address is never reused while cached.
type stmtKey struct {
	pool *sql.DB
	q    string
}

var stmts sync.Map // stmtKey -> *sql.Stmt

// readStmt returns the statement q prepared on db's read pool, preparing it
// once per pool: traces are the registry's hottest reads, and parsing their
// joins costs more than running them.
func readStmt(ctx context.Context, db *store.DB, q string) (*sql.Stmt, error) {
	k := stmtKey{db.ReadPool(ctx), q}
	if st, ok := stmts.Load(k); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := k.pool.PrepareContext(ctx, db.Bind(q))
	if err != nil {
		return nil, err
	}
	if prev, loaded := stmts.LoadOrStore(k, st); loaded {
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// TraceDonor traces from a donor to every recipient of their organs.
func (s *Service) TraceDonor(ctx context.Context, p *auth.Principal, id string) (*Trace, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	tr := &Trace{From: "donor", ID: id}
	dt, err := traceDonor(ctx, s.DB, id)
	if err != nil {
		return nil, err
	}
	tr.Donors = []DonorTrace{*dt}
	return tr, nil
}

// TraceOrgan traces from an organ back to its donor and on to every recipient
// of that donor's organs.
func (s *Service) TraceOrgan(ctx context.Context, p *auth.Principal, id string) (*Trace, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(id)
	if err != nil {
		return nil, err
	}
	st, err := readStmt(ctx, s.DB, "SELECT donor_id FROM organs WHERE id = ?")
	if err != nil {
		return nil, err
	}
	var donor string
	err = st.QueryRowContext(ctx, oid.String()).Scan(&donor)
	if errors.Is(err, sql.ErrNoRows) {
		// An organ received from abroad: its trace is where it came from.
		im, ierr := getImport(ctx, s.DB.Read(), oid.String())
		if ierr != nil {
			return nil, noOrgan(oid.String())
		}
		return &Trace{From: "organ", ID: oid.String(), Donors: []DonorTrace{}, Imported: []Import{*im}}, nil
	}
	if err != nil {
		return nil, err
	}
	dt, err := traceDonor(ctx, s.DB, donor)
	if err != nil {
		return nil, err
	}
	return &Trace{From: "organ", ID: oid.String(), Donors: []DonorTrace{*dt}}, nil
}

// donationDonorsSQL selects the donors of a donation number, in the order
// of their ids, with an organ identifier of each (whose country the number
// must match): one donor, but for a number a registry gave twice by
// mistake. Read through procurements_donation.
const donationDonorsSQL = `SELECT p.donor_id, MIN(o.id) FROM procurements p JOIN organs o ON o.procurement_id = p.id
	WHERE p.donation_year = ? AND p.donation_seq = ? GROUP BY p.donor_id ORDER BY p.donor_id`

// TraceDonation traces from a donation number (ParseDonation) to its donor
// and every recipient of the donor's organs: every organ of the donation,
// whichever procurement it came from, and, in a registry where an older
// release gave one donor's procurements numbers of their own, the organs
// under the donor's other numbers too, so that either number finds them.
func (s *Service) TraceDonation(ctx context.Context, p *auth.Principal, number string) (*Trace, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	dn, err := ParseDonation(number)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, donationDonorsSQL, dn.Year, dn.Seq)
	if err != nil {
		return nil, err
	}
	type row struct{ donor, organ string }
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.donor, &x.organ) })
	if err != nil {
		return nil, err
	}
	var donors []string
	for _, r := range rs {
		if oid, err := ParseOrganID(r.organ); err == nil && oid.Country == dn.Country {
			donors = append(donors, r.donor)
		}
	}
	if len(donors) == 0 {
		return nil, errs.New(errs.NotFound, "reference", "donation", "no donation %s", dn.String())
	}
	tr := &Trace{From: "donation", ID: dn.String(), Donors: []DonorTrace{}}
	for _, d := range donors {
		dt, err := traceDonor(ctx, s.DB, d)
		if err != nil {
			return nil, err
		}
		tr.Donors = append(tr.Donors, *dt)
	}
	return tr, nil
}

// TraceRecipient traces from a recipient back to the donor of every organ they
// received, and on to every other recipient of those donors' organs: the
// look-back a doctor needs when a recipient develops a donor-derived disease.
func (s *Service) TraceRecipient(ctx context.Context, p *auth.Principal, id string) (*Trace, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	// Whether the recipient is on file, the trace of each of their donors
	// with its organs' hand-offs, their imported organs with the centres
	// that held them and treatment abroad: one round trip on PostgreSQL.
	found := false
	var dts []*DonorTrace
	var cur *DonorTrace
	var hs []Handoff
	imported := []Import{}
	assignments := map[string][]ImportAssignment{}
	abroad := []Abroad{}
	if err := s.DB.ReadBatch(ctx,
		store.ReadQuery{SQL: recipientExistsSQL, Args: []any{id}, Row: func(store.Scanner) error {
			found = true
			return nil
		}},
		store.ReadQuery{SQL: traceRecipientDonorsSQL, Args: []any{id, id}, Row: func(r store.Scanner) error {
			prev := cur
			if err := traceRow(r, &cur); err != nil {
				return err
			}
			if cur != prev {
				dts = append(dts, cur)
			}
			return nil
		}},
		store.ReadQuery{SQL: recipientHandoffsSQL, Args: []any{id, id}, Row: func(r store.Scanner) error {
			var h Handoff
			err := scanHandoff(r, &h)
			hs = append(hs, h)
			return err
		}},
		store.ReadQuery{SQL: recipientImportsSQL, Args: []any{id}, Row: func(r store.Scanner) error {
			var im Import
			err := scanImport(r, &im)
			imported = append(imported, im)
			return err
		}},
		importAssignmentsRead(recipientImportAssignmentsSQL, []any{id}, assignments),
		store.ReadQuery{SQL: abroadOfSQL, Args: []any{id, id}, Row: func(r store.Scanner) error {
			var a Abroad
			err := scanAbroad(r, &a)
			// The person's references stay out of a trace.
			a.SubjectRef, a.PersonPseudonym, a.DateOfBirth = "", "", ""
			abroad = append(abroad, a)
			return err
		}}); err != nil {
		return nil, err
	}
	if !found {
		return nil, noRecipient(id)
	}
	tr := &Trace{From: "recipient", ID: id, Donors: []DonorTrace{}}
	for _, dt := range dts {
		attachCustody(dt, hs)
		tr.Donors = append(tr.Donors, *dt)
	}
	attachImportAssignments(imported, assignments)
	tr.Imported, tr.Abroad = imported, abroad
	return tr, nil
}

// traceDonor reads a donor's trace with the hand-offs of their organs and
// where those sent abroad went: three queries, sent together (one round trip
// on PostgreSQL, store.DB.ReadBatch).
func traceDonor(ctx context.Context, db *store.DB, id string) (*DonorTrace, error) {
	var dt *DonorTrace
	var hs []Handoff
	ex := map[string]Export{}
	qs := []store.ReadQuery{
		{SQL: traceDonorSQL, Args: []any{id}, Row: func(r store.Scanner) error { return traceRow(r, &dt) }},
		{SQL: donorHandoffsSQL, Args: []any{id}, Row: func(r store.Scanner) error {
			var h Handoff
			err := scanHandoff(r, &h)
			hs = append(hs, h)
			return err
		}},
		{SQL: donorExportsSQL, Args: []any{id}, Row: func(r store.Scanner) error {
			var x Export
			err := scanExport(r, &x)
			ex[x.OrganID] = x
			return err
		}},
	}
	if err := db.ReadBatch(ctx, qs...); err != nil {
		return nil, err
	}
	if dt == nil {
		return nil, errs.New(errs.NotFound, "reference", "donor_id", "no donor %s", id)
	}
	attachCustody(dt, hs)
	attachExports(dt, ex)
	return dt, nil
}

// traceRow reads one row of traceDonorFrom into *dt, which the first row
// creates; a row of another donor makes *dt that donor's new trace.
func traceRow(r store.Scanner, dt **DonorTrace) error {
	var d TraceDonor
	var o TraceOrgan
	var t TraceTransplant
	var dp TraceDisposition
	var tp TraceProcedure
	var dom TraceDomino
	if err := r.Scan(&d.ID, &d.Kind, &d.BloodGroup, &d.CentreID,
		&o.ID, &o.Organ, &o.Status, &o.ProcurementID, &o.ProcuredAt, &o.ProcuredBy.ID, &o.ProcuredBy.Name,
		&t.ID, &t.PerformedAt, &t.Centre.ID, &t.Centre.Name, &t.Recipient.ID, &t.Recipient.BloodGroup, &t.Recipient.Residence,
		&dp.ID, &dp.Reason, &dp.DisposedAt, &dp.Centre.ID, &dp.Centre.Name,
		&tp.ID, &tp.Kind, &tp.DominoOrganID, &dom.ProcedureID, &dom.RecipientID); err != nil {
		return err
	}
	if *dt == nil || (*dt).Donor.ID != d.ID {
		if dom.ProcedureID != "" {
			d.Domino = &dom
		}
		*dt = &DonorTrace{Donor: d, Organs: []TraceOrgan{}}
	}
	if o.ID == "" {
		return nil // a donor without organs
	}
	if t.ID != "" {
		if tp.ID != "" {
			t.Procedure = &tp
		}
		o.Transplant = &t
	}
	if dp.ID != "" {
		dp.Outcome = o.Status
		o.Disposition = &dp
	}
	(*dt).Organs = append((*dt).Organs, o)
	return nil
}

// traceDonorIn is traceDonor read through q: in the writer's transaction,
// for the commands that follow a donor's organs (an SAE's notifications).
func traceDonorIn(ctx context.Context, q store.Queryer, id string) (*DonorTrace, error) {
	rows, err := q.Query(ctx, traceDonorSQL, id)
	if err != nil {
		return nil, err
	}
	return scanTrace(rows, id)
}

// scanTrace reads the rows of traceDonorSQL for the donor id, and closes them.
func scanTrace(rows *sql.Rows, id string) (*DonorTrace, error) {
	defer rows.Close()
	var dt *DonorTrace
	for rows.Next() {
		if err := traceRow(rows, &dt); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if dt == nil {
		return nil, errs.New(errs.NotFound, "reference", "donor_id", "no donor %s", id)
	}
	return dt, nil
}
