package transplant

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// ---- Serious adverse events and reactions (Directive 2010/53/EU, Art. 11;
// Commission Implementing Directive 2012/25/EU, Art. 5 and 6, Annexes I, II) ----
//
// An initial report names the donor (or the organ) it concerns. Through the
// donor's trace, the registry notifies every centre that procured or
// transplanted one of the donor's organs; each must acknowledge receipt, and
// a notification not acknowledged within Config.AcknowledgeWithin is
// escalated to the regulator as an alert. The final report is due within
// three months of the initial one; an overdue one is alerted too. Escalations
// are made by Escalate, which custos serve runs every minute (Run).

// Config tunes the registry's deadlines; zero fields take the defaults.
type Config struct {
	// DispositionAfter: an organ procured longer ago with neither a
	// transplantation nor a disposition is listed as awaiting one.
	DispositionAfter time.Duration
	// AcknowledgeWithin: a notification of an SAE not acknowledged this
	// long after it was sent is escalated to the regulator.
	AcknowledgeWithin time.Duration
	// DisclosureThreshold is the threshold of the disclosure control of
	// the published figures (the UNODC return): custos serve's
	// --disclosure-threshold; zero is disclosure.DefaultThreshold.
	DisclosureThreshold int
	// FollowUpMonths and FollowUpWindow are the follow-up schedule
	// (followup.go): custos serve's --followup-months and
	// --followup-window; empty or zero take DefaultFollowUpMonths and
	// DefaultFollowUpWindow.
	FollowUpMonths []int
	FollowUpWindow time.Duration
	// FuneralExpenses: the law allows the reimbursement of a deceased
	// donor's funeral to their family (custos serve --reimburse-funeral).
	FuneralExpenses bool
}

// DefaultAcknowledgeWithin is Config.AcknowledgeWithin unless configured.
const DefaultAcknowledgeWithin = 24 * time.Hour

// FinalReportMonths is how long after the initial report the final report
// is due (Implementing Directive 2012/25/EU, Art. 6(3)).
const FinalReportMonths = 3

// Who reports and follows vigilance cases, and who acknowledges their
// notifications.
var (
	ReportVigilance = auth.NewAction("report serious adverse events and reactions", RoleCoordinator, auth.Regulator)
	Acknowledge     = auth.NewAction("acknowledge notifications of serious adverse events and reactions", RoleCoordinator)
)

// The kinds of report: a serious adverse event (in the chain from donation to
// transplantation) or a serious adverse reaction (in a living donor or a
// recipient).
const (
	SAEEvent    = "event"
	SAEReaction = "reaction"
)

// SAEKinds lists the kinds.
var SAEKinds = []string{SAEEvent, SAEReaction}

// SAEConclusions are what the final report concludes about imputability.
var SAEConclusions = []string{"confirmed", "not_confirmed", "inconclusive"}

// SAEStates are the states the list of reports filters on: open (no final
// report yet), overdue (open past its due date), closed (final report made).
var SAEStates = []string{"open", "overdue", "closed"}

// NotificationStates are the states the list of notifications filters on:
// open (not acknowledged, whether or not its report is closed: it may still
// be acknowledged, late), escalated (not acknowledged, and escalated),
// acknowledged.
var NotificationStates = []string{"open", "escalated", "acknowledged"}

// NewSAE is the initial report of a serious adverse event or reaction
// (Annex I of 2012/25/EU). The donor is given by its identifier or by one of
// its organs; the reporting body is the principal's authority.
type NewSAE struct {
	Kind              string   `json:"kind" api:"required"`
	DonorID           string   `json:"donor_id"`
	OrganID           string   `json:"organ_id"`
	RecipientIDs      []string `json:"recipient_ids"`
	Contact           string   `json:"contact" api:"required"`
	StartedAt         string   `json:"started_at" api:"required"`
	DetectedAt        string   `json:"detected_at" api:"required"`
	Description       string   `json:"description" api:"required"`
	ImmediateMeasures string   `json:"immediate_measures" api:"required"`
}

// SAE is a report of a serious adverse event or reaction: the initial report
// as recorded, the notifications it sent and, once made, the final report.
type SAE struct {
	ID                   string   `json:"id"`
	ReportID             string   `json:"report_id"` // country code, SAE, year, national number
	Kind                 string   `json:"kind"`
	ReportingAuthorityID string   `json:"reporting_authority_id"`
	Contact              string   `json:"contact"`
	OriginCountry        string   `json:"origin_country"`
	DonorID              string   `json:"donor_id"`
	OrganID              string   `json:"organ_id,omitempty"`
	RecipientIDs         []string `json:"recipient_ids"`
	StartedAt            string   `json:"started_at"`
	DetectedAt           string   `json:"detected_at"`
	Description          string   `json:"description"`
	ImmediateMeasures    string   `json:"immediate_measures"`
	ReportedAt           string   `json:"reported_at"`
	FinalDueAt           string   `json:"final_due_at"`
	// Destinations are every organ of the donor and where it went, as the
	// trace showed them when the report was made.
	Destinations []SAEDestination `json:"destinations"`
	// ForeignRegistries are the registries of other countries (exchange
	// peers) that received an organ of the donor: each is notified.
	ForeignRegistries []string       `json:"foreign_registries"`
	Notifications     []Notification `json:"notifications"`
	// Mail lists the e-mails the report queued (vigilance_mail.go): in its
	// entry and the answer to the report, not read back.
	Mail []string `json:"mail,omitempty"`
	// RaisedByPeer and RaisedReportID name the foreign registry that raised
	// the report on an organ it received from here, and its report id.
	RaisedByPeer   string `json:"raised_by_peer,omitempty"`
	RaisedReportID string `json:"raised_report_id,omitempty"`

	// Read, not recorded with the initial report.
	State             string `json:"state,omitempty"` // open or closed
	Overdue           bool   `json:"overdue,omitempty"`
	FinalReportedAt   string `json:"final_reported_at,omitempty"`
	Conclusion        string `json:"conclusion,omitempty"`
	Outcome           string `json:"outcome,omitempty"`
	CorrectiveActions string `json:"corrective_actions,omitempty"`
}

// SAEDestination is one organ of the donor of an SAE: where it was procured
// and where it went.
type SAEDestination struct {
	OrganID     string `json:"organ_id"`
	Organ       string `json:"organ"`
	Status      string `json:"status"`
	ProcuredBy  string `json:"procured_by"`
	CentreID    string `json:"centre_id,omitempty"`    // the transplant centre
	RecipientID string `json:"recipient_id,omitempty"` // the recipient
}

// Notification is one centre's notification of an SAE, which the centre
// acknowledges. The rows are what an e-mail sender picks up.
type Notification struct {
	ID                string `json:"id"`
	SAEID             string `json:"sae_id,omitempty"`
	ReportID          string `json:"report_id,omitempty"`
	CentreID          string `json:"centre_id"`
	PeerID            string `json:"peer_id,omitempty"` // a foreign registry's notification (no centre)
	CreatedAt         string `json:"created_at,omitempty"`
	AcknowledgedAt    string `json:"acknowledged_at,omitempty"`
	AcknowledgedBy    string `json:"acknowledged_by,omitempty"`
	EscalatedAt       string `json:"escalated_at,omitempty"`
	EscalationAlertID string `json:"escalation_alert_id,omitempty"`
	// ReportClosedAt is when the report's final report closed it, and
	// ClosedUnacknowledged says the notification was not acknowledged by
	// then: it is no longer escalated, and may still be acknowledged (late).
	// Read, not recorded.
	ReportClosedAt       string `json:"report_closed_at,omitempty"`
	ClosedUnacknowledged bool   `json:"closed_unacknowledged,omitempty"`
}

// closedUnacknowledged says whether a report closed at closed (empty: open)
// before its notification was acknowledged at acked (empty: not yet).
func closedUnacknowledged(closed, acked string) bool {
	return closed != "" && (acked == "" || acked > closed)
}

// FinalReport is the final report of an SAE (Annex II of 2012/25/EU).
type FinalReport struct {
	Conclusion        string `json:"conclusion" api:"required"`
	Outcome           string `json:"outcome" api:"required"`
	CorrectiveActions string `json:"corrective_actions" api:"required"`
}

// finalReported is the data of a final report's entry: the report it closes
// and the final report.
type finalReported struct {
	SAEID string `json:"sae_id"`
	FinalReport
}

// notificationRef is the data of an acknowledgement.
type notificationRef struct {
	NotificationID string `json:"notification_id"`
	SAEID          string `json:"sae_id"`
}

// escalation is the data of an escalated notification and of an overdue
// final report: the alert raised, addressed to the authority that is late.
type escalation struct {
	SAEID          string `json:"sae_id"`
	ReportID       string `json:"report_id"`
	NotificationID string `json:"notification_id,omitempty"`
	AuthorityID    string `json:"authority_id"`
	AlertID        string `json:"alert_id"`
	Since          string `json:"since"` // when the notification was sent, or the final report fell due
	// Mail lists the e-mails the escalation queued (vigilance_mail.go).
	Mail []string `json:"mail,omitempty"`
}

// validate checks the initial report without reading the registry.
func (in *NewSAE) validate() (started, detected time.Time, err error) {
	if err = check.OneOf("kind", in.Kind, SAEKinds); err != nil {
		return
	}
	// Registry identifiers are written in capitals; one typed by hand, or
	// sent by a client, in lower case or with spaces around it names the
	// same donor or recipient (the form, the API and the CLI alike).
	in.DonorID = normalID(in.DonorID)
	in.RecipientIDs = slices.Clone(in.RecipientIDs)
	for i, r := range in.RecipientIDs {
		in.RecipientIDs[i] = normalID(r)
	}
	if in.DonorID == "" && in.OrganID == "" {
		err = errs.Invalidf("required", "donor_id", "give the donor (donor_id) or one of their organs (organ_id)")
		return
	}
	if len(in.RecipientIDs) > 50 {
		err = errs.Invalidf("range", "recipient_ids", "recipient_ids is out of range: at most 50 recipients")
		return
	}
	for i, r := range in.RecipientIDs {
		if err = check.Required(check.Index("recipient_ids", i), r); err != nil {
			return
		}
		if slices.Index(in.RecipientIDs, r) < i {
			err = errs.Invalidf("duplicate", check.Index("recipient_ids", i), "recipient %s is given twice", r)
			return
		}
	}
	if in.Contact, err = check.Line("contact", in.Contact, 200, true); err != nil {
		return
	}
	if started, err = check.Time("started_at", in.StartedAt); err != nil {
		return
	}
	if detected, err = check.Time("detected_at", in.DetectedAt); err != nil {
		return
	}
	if detected.Before(started) {
		err = errs.Invalidf("dates_in_order", "detected_at", "detected_at is before started_at")
		return
	}
	if in.Description, err = check.Text("description", in.Description, 4000, true); err != nil {
		return
	}
	in.ImmediateMeasures, err = check.Text("immediate_measures", in.ImmediateMeasures, 2000, true)
	return
}

// ReportSAE records the initial report of a serious adverse event or
// reaction and, in the same entry, a notification to every centre that
// procured or transplanted an organ of the donor. The reporting centre's own
// notification is recorded acknowledged: it made the report.
func (s *Service) ReportSAE(ctx context.Context, p *auth.Principal, in NewSAE) (*SAE, error) {
	const command = "report serious adverse event"
	if err := p.Require(ReportVigilance); err != nil {
		return nil, err
	}
	// The reporter's scope is decided first, from the donor or organ named
	// (when well formed), so that another centre is refused alike whatever
	// the rest of its report.
	if err := s.scopeFirst(ctx, p, command, func(ctx context.Context, q store.Queryer) error {
		donor, organ := normalID(in.DonorID), ""
		if o, err := ParseOrganID(in.OrganID); err == nil {
			organ = o.String()
		}
		if donor == "" && organ == "" {
			return nil
		}
		_, _, err := reportedDonor(ctx, q, p, donor, organ)
		return err
	}); err != nil {
		return nil, err
	}
	started, detected, err := in.validate()
	if err != nil {
		return nil, err
	}
	var oid string
	if in.OrganID != "" {
		o, err := ParseOrganID(in.OrganID)
		if err != nil {
			return nil, err
		}
		oid = o.String()
	}
	id := s.W.IDs().New("SA")
	ids := s.W.IDs()
	out, err := ledger.SubmitAs[SAE](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.NotFuture("started_at", started, now); err != nil {
			return nil, err
		}
		if err := check.NotFuture("detected_at", detected, now); err != nil {
			return nil, err
		}
		tr, centres, err := reportedDonor(ctx, tx, p, in.DonorID, oid)
		if err != nil {
			return nil, err
		}
		donor := tr.Donor.ID
		sae := SAE{ID: id, Kind: in.Kind, ReportingAuthorityID: p.AuthorityID, Contact: in.Contact,
			DonorID: donor, OrganID: oid, RecipientIDs: in.RecipientIDs, StartedAt: ledger.FormatTime(started),
			DetectedAt: ledger.FormatTime(detected), Description: in.Description, ImmediateMeasures: in.ImmediateMeasures,
			ReportedAt: ledger.FormatTime(now), FinalDueAt: ledger.FormatTime(now.AddDate(0, FinalReportMonths, 0)),
			Destinations: []SAEDestination{}, ForeignRegistries: []string{}, Notifications: []Notification{}}
		if sae.RecipientIDs == nil {
			sae.RecipientIDs = []string{}
		}
		received := map[string]string{} // recipient: when they received an organ of the donor
		for _, o := range tr.Organs {
			d := SAEDestination{OrganID: o.ID, Organ: o.Organ, Status: o.Status, ProcuredBy: o.ProcuredBy.ID}
			if t := o.Transplant; t != nil {
				d.CentreID, d.RecipientID = t.Centre.ID, t.Recipient.ID
				received[t.Recipient.ID] = t.PerformedAt
			}
			sae.Destinations = append(sae.Destinations, d)
		}
		for i, r := range sae.RecipientIDs {
			if received[r] == "" {
				return nil, errs.Invalidf("recipient_of_donor", check.Index("recipient_ids", i), "recipient %s received no organ of donor %s", r, donor)
			}
		}
		if err := startedAfter(&sae, tr, received); err != nil {
			return nil, err
		}
		if err := notReportedYet(ctx, tx, &sae); err != nil {
			return nil, err
		}
		// The national report id counts the reports raised here on organs
		// from abroad too: they share the year's numbers.
		if sae.OriginCountry, sae.ReportID, err = nextReportID(ctx, tx, now); err != nil {
			return nil, err
		}
		order := make([]string, 0, len(centres))
		for c := range centres {
			order = append(order, c)
		}
		slices.Sort(order)
		for _, c := range order {
			nt := Notification{ID: ids.New("NT"), CentreID: c}
			if c == p.AuthorityID {
				nt.AcknowledgedAt = sae.ReportedAt
			}
			sae.Notifications = append(sae.Notifications, nt)
		}
		if sae.Mail, err = s.mailSAE(ctx, tx, &sae, now); err != nil {
			return nil, err
		}
		if err := addForeignNotifications(ctx, tx, ids, &sae, ""); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeSAEReported, sae)
	})
	if err != nil {
		return out, err
	}
	// The answer is the report as reading it gives it (its notifications
	// with their report, creation time and acknowledgement), with the
	// e-mails it queued, which only the entry and the answer list.
	read, err := s.SAE(ctx, p, out.ID)
	if err != nil {
		return out, err
	}
	read.Mail = out.Mail
	return read, s.sendSAENotices(ctx, p, read)
}

// reportedDonor reads the donor a report names, by donor (a normalised
// identifier) or by organ (its donor's, which must be donor when both are
// given), and the donor's trace, on q: ReportSAE's Decide on its
// transaction, and its scope first on the read pool. It returns the trace
// and the centres that procured or transplanted an organ of the donor (those
// notified), and refuses a coordinator whose centre is not in the donor's
// chain (reporterHolds).
func reportedDonor(ctx context.Context, q store.Queryer, p *auth.Principal, donor, organ string) (*DonorTrace, map[string]bool, error) {
	if organ != "" {
		var of string
		err := q.QueryRow(ctx, "SELECT donor_id FROM organs WHERE id = ?", organ).Scan(&of)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, noOrgan(organ)
		}
		if err != nil {
			return nil, nil, err
		}
		if donor != "" && donor != of {
			return nil, nil, errs.Invalidf("organ_donor", "organ_id", "organ %s is not an organ of donor %s", organ, donor)
		}
		donor = of
	}
	tr, err := traceDonorIn(ctx, q, donor)
	if err != nil {
		return nil, nil, err
	}
	centres := map[string]bool{}
	for _, o := range tr.Organs {
		centres[o.ProcuredBy.ID] = true
		if t := o.Transplant; t != nil {
			centres[t.Centre.ID] = true
		}
	}
	return tr, centres, reporterHolds(ctx, q, p, donor, organ, centres)
}

// startedAfter refuses a reaction that started before the day of what it
// is a reaction to. A reaction in a recipient named starts no earlier than
// the day of their transplantation of the donor's organ (received, by
// recipient); a reaction on a deceased donor's organs is a recipient's, so it
// starts no earlier than the day of the procurement (of the organ named,
// else the donor's first). Days, not instants: a reaction to what is given
// at the operation may start before the time recorded for it. A living
// donor's reaction, and an event, have no such floor: the chain from
// donation to transplantation starts with the donor's identification and
// evaluation, which the registry does not date (docs/vigilance.md).
func startedAfter(sae *SAE, tr *DonorTrace, received map[string]string) error {
	if sae.Kind != SAEReaction {
		return nil
	}
	dayOf := func(t string) string { return t[:len(DateLayout)] } // the day of a time as the ledger writes it
	started := dayOf(sae.StartedAt)
	for _, r := range sae.RecipientIDs {
		if started < dayOf(received[r]) {
			return errs.Invalidf("dates_in_order", "started_at", "started_at (%s) is before the day of recipient %s's transplantation (%s): a reaction in a recipient starts after it", sae.StartedAt, r, received[r])
		}
	}
	if !isDeceased(tr.Donor.Kind) {
		return nil
	}
	var procured string
	for _, o := range tr.Organs {
		if o.ProcurementID != "" && (sae.OrganID == "" || o.ID == sae.OrganID) && (procured == "" || o.ProcuredAt < procured) {
			procured = o.ProcuredAt
		}
	}
	if procured != "" && started < dayOf(procured) {
		return errs.Invalidf("dates_in_order", "started_at", "started_at (%s) is before the day of the procurement (%s): a reaction to a deceased donor's organ starts after it", sae.StartedAt, procured)
	}
	return nil
}

// notReportedYet refuses a second report of one event (Directive
// 2010/53/EU, Art. 11: one event, one report, which is followed up): an
// open report by the same authority on the same donor, of the same kind,
// on the same organ (or none), recipients (in any order) and start. A
// double submission of the form, or an API client's retry without an
// Idempotency-Key, would otherwise notify every centre twice. Run in the
// writer, two submissions at once cannot both pass. A closed report, or
// another start, is another event.
func notReportedYet(ctx context.Context, tx *store.Tx, sae *SAE) error {
	rows, err := tx.Query(ctx, `SELECT report_id, COALESCE(organ_id, ''), recipient_ids FROM sae_reports
		WHERE donor_id = ? AND reporting_authority_id = ? AND kind = ? AND started_at = ? AND final_reported_at IS NULL ORDER BY report_id`,
		sae.DonorID, sae.ReportingAuthorityID, sae.Kind, sae.StartedAt)
	if err != nil {
		return err
	}
	defer rows.Close()
	want := slices.Sorted(slices.Values(sae.RecipientIDs))
	for rows.Next() {
		var reportID, organ, recipients string
		if err := rows.Scan(&reportID, &organ, &recipients); err != nil {
			return err
		}
		var had []string
		if err := json.Unmarshal([]byte(recipients), &had); err != nil {
			return err
		}
		slices.Sort(had)
		if organ == sae.OrganID && slices.Equal(had, want) {
			return errs.New(errs.Conflict, "duplicate_report", "started_at",
				"report %s is open on the same event (same reporter, donor, kind, organ, recipients and started_at): follow it up rather than report it again; another started_at is another event", reportID)
		}
	}
	return rows.Err()
}

// reporterHolds refuses a coordinator's report on a donor their centre had
// nothing to do with: a coordinator reports for a centre that procured or
// transplanted an organ of the donor (centres, from the donor's trace), or
// was allocated one (holds a per-procedure authorization of it), as the
// centres that may record an organ's disposition are those that hold it.
// Another centre's report would notify centres in its name of a case it
// cannot know first-hand, and is alerted, as every own_centre refusal is.
// The national roles that may report (the regulator) report on any donor.
func reporterHolds(ctx context.Context, q store.Queryer, p *auth.Principal, donor, organ string, centres map[string]bool) error {
	if p.Role != RoleCoordinator || centres[p.AuthorityID] {
		return nil
	}
	var allocated bool
	err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM transplant_authorizations ta JOIN organs o ON o.id = ta.organ_id
		WHERE o.donor_id = ? AND ta.centre_id = ?)`, donor, p.AuthorityID).Scan(&allocated)
	if err != nil || allocated {
		return err
	}
	field := "donor_id"
	if organ != "" {
		field = "organ_id"
	}
	return errs.Alertf(errs.Forbidden, "own_centre", field,
		"a coordinator reports only on a donor one of whose organs their centre procured, transplanted or was allocated; centre %s had no organ of donor %s",
		p.AuthorityID, donor)
}

// AcknowledgeNotification records that a centre received a notification: a
// coordinator of the notified centre acknowledges it, once.
func (s *Service) AcknowledgeNotification(ctx context.Context, p *auth.Principal, id string) (*Notification, error) {
	if err := p.Require(Acknowledge); err != nil {
		return nil, err
	}
	_, err := s.W.Submit(ctx, p.Actor(), "acknowledge notification", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		n, err := getNotification(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if n.PeerID != "" {
			// A foreign registry's notification has no centre here: the
			// registry acknowledges it over the exchange.
			return nil, errs.Alertf(errs.Forbidden, "own_centre", "notification_id",
				"notification %s is foreign registry %s's: that registry acknowledges it over the exchange, not a centre here", n.ID, n.PeerID)
		}
		if n.CentreID != p.AuthorityID {
			return nil, errs.Alertf(errs.Forbidden, "own_centre", "notification_id",
				"a coordinator acknowledges only their own centre's notifications (%s); notification %s is centre %s's", p.AuthorityID, n.ID, n.CentreID)
		}
		if n.AcknowledgedAt != "" {
			return nil, errs.New(errs.Conflict, "already_acknowledged", "notification_id", "notification %s was acknowledged at %s", n.ID, n.AcknowledgedAt)
		}
		return ledger.NewEntry(TypeNotificationAcknowledged, notificationRef{NotificationID: n.ID, SAEID: n.SAEID})
	})
	if err != nil {
		return nil, err
	}
	return getNotification(ctx, s.DB.Read(), id)
}

// RecordFinalReport records the final report of an SAE (its id or report
// id), which closes it: by a coordinator of the reporting centre, or a
// regulator.
func (s *Service) RecordFinalReport(ctx context.Context, p *auth.Principal, saeID string, in FinalReport) (*SAE, error) {
	const command = "record final report"
	if err := p.Require(ReportVigilance); err != nil {
		return nil, err
	}
	var id string
	var closed sql.NullString
	reporting := func(ctx context.Context, q store.Queryer) error {
		var reporter string
		err := q.QueryRow(ctx, "SELECT id, reporting_authority_id, final_reported_at FROM sae_reports WHERE id = ? OR report_id = ?", saeID, saeID).
			Scan(&id, &reporter, &closed)
		if errors.Is(err, sql.ErrNoRows) {
			return noSAE(saeID)
		}
		if err != nil {
			return err
		}
		if p.Role == RoleCoordinator && reporter != p.AuthorityID {
			return errs.Alertf(errs.Forbidden, "own_centre", "sae_id",
				"the final report is made by the reporting centre (%s) or the regulator, not by centre %s", reporter, p.AuthorityID)
		}
		return nil
	}
	if err := s.scopeFirst(ctx, p, command, reporting); err != nil {
		return nil, err
	}
	if err := check.OneOf("conclusion", in.Conclusion, SAEConclusions); err != nil {
		return nil, err
	}
	var err error
	if in.Outcome, err = check.Text("outcome", in.Outcome, 4000, true); err != nil {
		return nil, err
	}
	if in.CorrectiveActions, err = check.Text("corrective_actions", in.CorrectiveActions, 4000, true); err != nil {
		return nil, err
	}
	_, err = s.W.Submit(ctx, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := reporting(ctx, tx); err != nil {
			return nil, err
		}
		if closed.Valid {
			return nil, errs.New(errs.Conflict, "sae_closed", "sae_id", "report %s has had its final report since %s", saeID, closed.String)
		}
		return ledger.NewEntry(TypeSAEFinalReported, finalReported{SAEID: id, FinalReport: in})
	})
	if err != nil {
		return nil, err
	}
	out, err := s.SAE(ctx, p, saeID)
	if err == nil {
		err = s.sendFinalNotices(ctx, p, out)
	}
	return out, err
}

func noSAE(id string) error {
	return errs.New(errs.NotFound, "reference", "sae_id", "no serious adverse event report %s", id)
}

// AcknowledgeWithin is how long a notification may wait for its
// acknowledgement before it is escalated.
func (s *Service) AcknowledgeWithin() time.Duration {
	if s.Cfg.AcknowledgeWithin > 0 {
		return s.Cfg.AcknowledgeWithin
	}
	return DefaultAcknowledgeWithin
}

// Escalate raises, as the system, an alert for the regulator for every
// notification not acknowledged within AcknowledgeWithin and every final
// report overdue, once each; it returns how many it raised. custos serve runs
// it every minute (Run); several servers on one database may run it at once,
// as each escalation is decided again in the writer.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.now()
	late := ledger.FormatTime(now.Add(-s.AcknowledgeWithin()))
	rows, err := s.DB.Read().Query(ctx, `SELECT n.id, n.sae_id, r.report_id, n.centre_id, n.created_at FROM notifications n
		JOIN sae_reports r ON r.id = n.sae_id
		WHERE n.acknowledged_at IS NULL AND n.escalated_at IS NULL AND n.centre_id IS NOT NULL AND r.final_reported_at IS NULL AND n.created_at < ?
		ORDER BY n.created_at, n.id`, late)
	if err != nil {
		return 0, err
	}
	due, err := store.Rows(rows, func(r store.Scanner, e *escalation) error {
		return r.Scan(&e.NotificationID, &e.SAEID, &e.ReportID, &e.AuthorityID, &e.Since)
	})
	if err != nil {
		return 0, err
	}
	rows, err = s.DB.Read().Query(ctx, `SELECT id, report_id, reporting_authority_id, final_due_at FROM sae_reports
		WHERE final_reported_at IS NULL AND overdue_alert_id IS NULL AND final_due_at < ? ORDER BY final_due_at, id`, ledger.FormatTime(now))
	if err != nil {
		return 0, err
	}
	overdue, err := store.Rows(rows, func(r store.Scanner, e *escalation) error {
		return r.Scan(&e.SAEID, &e.ReportID, &e.AuthorityID, &e.Since)
	})
	if err != nil {
		return 0, err
	}
	raised := 0
	for _, e := range append(due, overdue...) {
		e.AlertID = s.W.IDs().New("AL")
		typ, cond := TypeNotificationEscalated, unescalated
		key := e.NotificationID
		if key == "" {
			typ, cond, key = TypeSAEFinalOverdue, "SELECT 1 FROM sae_reports WHERE id = ? AND final_reported_at IS NULL AND overdue_alert_id IS NULL", e.SAEID
		}
		_, err := s.W.Submit(ctx, ledger.Actor{}, "escalate vigilance deadlines", func(ctx context.Context, tx *store.Tx, at time.Time) (*ledger.Entry, error) {
			var one int
			err := tx.QueryRow(ctx, cond, key).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, errs.New(errs.Conflict, "escalated", "id", "%s was acknowledged, reported or escalated meanwhile", key)
			}
			if err != nil {
				return nil, err
			}
			if e.Mail, err = s.mailEscalation(ctx, tx, &e, at); err != nil {
				return nil, err
			}
			return ledger.NewEntry(typ, e)
		})
		if errs.CodeOf(err) == errs.Conflict {
			continue
		}
		if err != nil {
			return raised, err
		}
		raised++
	}
	n, err := s.escalateCrossBorder(ctx)
	return raised + n, err
}

// unescalated selects a notification of a report here (by its id) that is
// still to escalate: not acknowledged, not escalated, and its report not
// closed. Once the final report closes the case the registry stops chasing
// its notifications: the regulator has the investigation's conclusion, and
// an alert raised after it would ask for a receipt that no longer protects
// a recipient. The notification stays unacknowledged, and reads so.
const unescalated = `SELECT 1 FROM notifications n JOIN sae_reports r ON r.id = n.sae_id
	WHERE n.id = ? AND n.acknowledged_at IS NULL AND n.escalated_at IS NULL AND r.final_reported_at IS NULL`

// EscalateEvery is how often Run escalates.
const EscalateEvery = time.Minute

// Run escalates (Escalate) every EscalateEvery until ctx ends; custos serve
// runs it beside the HTTP server.
func (s *Service) Run(ctx context.Context, log func(error)) {
	tick.Run(ctx, EscalateEvery, nil, func(ctx context.Context) error {
		_, escalate := s.Escalate(ctx)
		_, apply := s.ApplyPending(ctx)
		return errors.Join(escalate, apply)
	}, log)
}

// ---- Reading ----

const saeCols = `s.id, s.report_id, s.kind, s.reporting_authority_id, s.contact, s.origin_country, s.donor_id, COALESCE(s.organ_id, ''),
	s.recipient_ids, s.started_at, s.detected_at, s.description, s.immediate_measures, s.reported_at, s.final_due_at, s.destinations,
	COALESCE(s.final_reported_at, ''), COALESCE(s.conclusion, ''), COALESCE(s.outcome, ''), COALESCE(s.corrective_actions, '')`

func (s *Service) scanSAE(now string) func(store.Scanner, *SAE) error {
	return func(r store.Scanner, x *SAE) error {
		var recipients, dests string
		if err := r.Scan(&x.ID, &x.ReportID, &x.Kind, &x.ReportingAuthorityID, &x.Contact, &x.OriginCountry, &x.DonorID, &x.OrganID,
			&recipients, &x.StartedAt, &x.DetectedAt, &x.Description, &x.ImmediateMeasures, &x.ReportedAt, &x.FinalDueAt, &dests,
			&x.FinalReportedAt, &x.Conclusion, &x.Outcome, &x.CorrectiveActions); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(recipients), &x.RecipientIDs); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(dests), &x.Destinations); err != nil {
			return err
		}
		x.ForeignRegistries = []string{}
		x.State = "open"
		if x.FinalReportedAt != "" {
			x.State = "closed"
		}
		x.Overdue = x.State == "open" && x.FinalDueAt < now
		return nil
	}
}

// SAE returns one report with its notifications.
func (s *Service) SAE(ctx context.Context, p *auth.Principal, id string) (*SAE, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var x SAE
	err := s.scanSAE(ledger.FormatTime(s.now()))(q.QueryRow(ctx, "SELECT "+saeCols+" FROM sae_reports s WHERE s.id = ? OR s.report_id = ?", id, id), &x)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noSAE(id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT "+notificationCols+" FROM notifications n JOIN sae_reports s ON s.id = n.sae_id WHERE n.sae_id = ? ORDER BY n.centre_id, n.id", x.ID)
	if err != nil {
		return nil, err
	}
	if x.Notifications, err = store.Rows(rows, scanNotification); err != nil {
		return nil, err
	}
	if x.Notifications == nil {
		x.Notifications = []Notification{}
	}
	return &x, readCrossBorder(ctx, q, &x)
}

const notificationCols = `n.id, n.sae_id, s.report_id, COALESCE(n.centre_id, ''), COALESCE(n.peer_id, ''), n.created_at, COALESCE(n.acknowledged_at, ''),
	COALESCE(n.acknowledged_by, ''), COALESCE(n.escalated_at, ''), COALESCE(n.escalation_alert_id, ''), COALESCE(s.final_reported_at, '')`

func scanNotification(r store.Scanner, n *Notification) error {
	if err := r.Scan(&n.ID, &n.SAEID, &n.ReportID, &n.CentreID, &n.PeerID, &n.CreatedAt, &n.AcknowledgedAt, &n.AcknowledgedBy, &n.EscalatedAt,
		&n.EscalationAlertID, &n.ReportClosedAt); err != nil {
		return err
	}
	n.ClosedUnacknowledged = closedUnacknowledged(n.ReportClosedAt, n.AcknowledgedAt)
	return nil
}

func getNotification(ctx context.Context, q store.Queryer, id string) (*Notification, error) {
	var n Notification
	err := scanNotification(q.QueryRow(ctx, "SELECT "+notificationCols+" FROM notifications n JOIN sae_reports s ON s.id = n.sae_id WHERE n.id = ?", id), &n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "notification_id", "no notification %s", id)
	}
	return &n, err
}

// normalID is a registry identifier as the registry writes it (DN-…,
// RC-…): upper case, without the spaces around it. One malformed stays
// malformed, and is refused as before.
func normalID(id string) string {
	return strings.ToUpper(strings.TrimSpace(id))
}

// encodeIDs writes a list of identifiers as its JSON array.
func encodeIDs(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
