package transplant

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Across borders: serious adverse events and reactions ----
//
// A report on a donor with organs abroad notifies each foreign registry that
// received one (a notification with its peer, acknowledged by the peer's
// message); the foreign registry passes it to its centres that received the
// organs, which acknowledge it as local notifications are, and acknowledges
// to the origin once they all have. A report raised in a destination country
// on an organ it received goes to the registry of origin, which makes it a
// report of its own and notifies its centres and its other destinations.
// The final report travels to every foreign registry notified.

// ForeignSAE is a report of a serious adverse event or reaction that a
// foreign registry sent (OriginReportID, its national report id), or that a
// centre here raised on an organ received from abroad (RaisedReportID), with
// the notifications of the centres here.
type ForeignSAE struct {
	ID             string `json:"id"`
	PeerID         string `json:"peer_id"`
	OriginReportID string `json:"origin_report_id,omitempty"`
	RaisedReportID string `json:"raised_report_id,omitempty"`
	RaisedBy       string `json:"raised_by,omitempty"`
	DonorRef       string `json:"donor_ref"`
	Kind           string `json:"kind"`
	// Report is the initial report as received (SAENotice) or as sent
	// (SAERaisedNotice).
	Report         json.RawMessage       `json:"report"`
	ReceivedAt     string                `json:"received_at"`
	AcknowledgedAt string                `json:"acknowledged_at,omitempty"`
	Notifications  []ForeignNotification `json:"notifications"`

	// Read, not recorded with the report: the final report once received.
	FinalReportedAt   string `json:"final_reported_at,omitempty"`
	Conclusion        string `json:"conclusion,omitempty"`
	Outcome           string `json:"outcome,omitempty"`
	CorrectiveActions string `json:"corrective_actions,omitempty"`
}

// ForeignNotification is a foreign registry's report passed on to a centre
// here that received an organ of the donor.
type ForeignNotification struct {
	ID                string `json:"id"`
	ForeignSAEID      string `json:"foreign_sae_id,omitempty"`
	CentreID          string `json:"centre_id"`
	CreatedAt         string `json:"created_at,omitempty"`
	AcknowledgedAt    string `json:"acknowledged_at,omitempty"`
	AcknowledgedBy    string `json:"acknowledged_by,omitempty"`
	EscalatedAt       string `json:"escalated_at,omitempty"`
	EscalationAlertID string `json:"escalation_alert_id,omitempty"`
	// ReportClosedAt and ClosedUnacknowledged are a Notification's: the
	// final report received closed the report, before the centre
	// acknowledged. Read, not recorded.
	ReportClosedAt       string `json:"report_closed_at,omitempty"`
	ClosedUnacknowledged bool   `json:"closed_unacknowledged,omitempty"`
}

// NewImportSAE is the initial report of a serious adverse event or reaction
// on an organ received from abroad, made here and sent to the registry of
// origin.
type NewImportSAE struct {
	Kind              string   `json:"kind" api:"required"`
	OrganID           string   `json:"organ_id" api:"required"`
	RecipientIDs      []string `json:"recipient_ids"`
	Contact           string   `json:"contact" api:"required"`
	StartedAt         string   `json:"started_at" api:"required"`
	DetectedAt        string   `json:"detected_at" api:"required"`
	Description       string   `json:"description" api:"required"`
	ImmediateMeasures string   `json:"immediate_measures" api:"required"`
}

// foreignAcknowledged is the data of a centre's acknowledgement of a
// foreign registry's report; Last is set when it is the last one, which
// acknowledges the report to its registry.
type foreignAcknowledged struct {
	NotificationID string `json:"notification_id"`
	ForeignSAEID   string `json:"foreign_sae_id"`
	Last           bool   `json:"last"`
}

// addForeignNotifications adds to a report, inside its command, a
// notification of each foreign registry that received an organ of the
// donor; the one of ackPeer (the registry that raised the report) is
// recorded acknowledged.
func addForeignNotifications(ctx context.Context, tx *store.Tx, ids *ledger.IDs, sae *SAE, ackPeer string) error {
	ex, err := exportsOf(ctx, tx, sae.DonorID)
	if err != nil {
		return err
	}
	var peers []string
	for _, x := range ex {
		if !slices.Contains(peers, x.PeerID) {
			peers = append(peers, x.PeerID)
		}
	}
	slices.Sort(peers)
	for _, peer := range peers {
		n := Notification{ID: ids.New("NT"), PeerID: peer}
		if peer == ackPeer {
			n.AcknowledgedAt = sae.ReportedAt
		}
		sae.Notifications = append(sae.Notifications, n)
	}
	sae.ForeignRegistries = peers
	if sae.ForeignRegistries == nil {
		sae.ForeignRegistries = []string{}
	}
	return nil
}

// sendSAENotices sends a report's initial report to every foreign registry
// it notifies, as the actor who made it (none: the registry itself). A
// notice that cannot be sent (the peer suspended, the purpose vigilance not
// agreed) does not undo the report: the server log says so, and the foreign
// registry's notification stays open until it escalates.
func (s *Service) sendSAENotices(ctx context.Context, p *auth.Principal, sae *SAE) error {
	if len(sae.ForeignRegistries) == 0 || s.Exchange == nil {
		return nil
	}
	q := s.DB.Read()
	var body string
	if err := q.QueryRow(ctx, "SELECT name FROM authorities WHERE id = ?", sae.ReportingAuthorityID).Scan(&body); err != nil {
		return err
	}
	ex, err := exportsOf(ctx, q, sae.DonorID)
	if err != nil {
		return err
	}
	var raisedBy, raisedID string
	_ = q.QueryRow(ctx, "SELECT COALESCE(raised_by_peer, ''), COALESCE(raised_report_id, '') FROM sae_reports WHERE id = ?", sae.ID).Scan(&raisedBy, &raisedID)
	for _, peer := range sae.ForeignRegistries {
		n := SAENotice{ReportID: sae.ReportID, Kind: sae.Kind, ReportingBody: body, Contact: sae.Contact, OriginCountry: sae.OriginCountry,
			DonorID: sae.DonorID, RecipientIDs: sae.RecipientIDs, ReportedAt: sae.ReportedAt, StartedAt: sae.StartedAt, DetectedAt: sae.DetectedAt,
			Description: sae.Description, ImmediateMeasures: sae.ImmediateMeasures}
		for _, x := range ex {
			if x.PeerID == peer {
				n.OrganIDs = append(n.OrganIDs, x.OrganID)
			}
		}
		slices.Sort(n.OrganIDs)
		if peer == raisedBy {
			n.RaisedReportID = raisedID
		}
		if err := s.send(ctx, p, outgoing(peer, MsgSAENotification, PurposeVigilance, n)); err != nil {
			s.log().Error("send a report to a foreign registry", "report", sae.ReportID, "peer", peer, "err", err)
		}
	}
	return nil
}

// send sends as p, or as the registry when p is nil.
func (s *Service) send(ctx context.Context, p *auth.Principal, out exchange.Outgoing) error {
	var err error
	if p == nil {
		_, err = s.Exchange.SendAsRegistry(ctx, out)
	} else {
		_, err = s.Exchange.Send(ctx, p, out)
	}
	return err
}

// sendFinalNotices sends a final report to every foreign registry the
// report notified (one that cannot be sent is logged, as for the initial
// report).
func (s *Service) sendFinalNotices(ctx context.Context, p *auth.Principal, sae *SAE) error {
	if s.Exchange == nil {
		return nil
	}
	for _, peer := range sae.ForeignRegistries {
		f := SAEFinalNotice{ReportID: sae.ReportID, Conclusion: sae.Conclusion, Outcome: sae.Outcome, CorrectiveActions: sae.CorrectiveActions,
			FinalReportedAt: sae.FinalReportedAt}
		if err := s.send(ctx, p, outgoing(peer, MsgSAEFinal, PurposeVigilance, f)); err != nil {
			s.log().Error("send a final report to a foreign registry", "report", sae.ReportID, "peer", peer, "err", err)
		}
	}
	return nil
}

// nextReportID is the next national report id of the year: the country
// code, SAE, the year and a number, counting the reports made here and
// those raised here on organs from abroad.
func nextReportID(ctx context.Context, tx *store.Tx, now time.Time) (country, id string, err error) {
	if err = tx.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&country); err != nil {
		return
	}
	prefix := fmt.Sprintf("%s-SAE-%04d-", country, now.Year())
	var n int
	if err = tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM sae_reports WHERE report_id LIKE ?) +
		(SELECT COUNT(*) FROM foreign_sae_reports WHERE raised_report_id LIKE ?)`, prefix+"%", prefix+"%").Scan(&n); err != nil {
		return
	}
	return country, fmt.Sprintf("%s%06d", prefix, n+1), nil
}

// ReportImportSAE records the initial report of a serious adverse event or
// reaction on an organ received from abroad and sends it to the registry of
// origin, which notifies its own centres and its other destinations (a
// coordinator of the centre that holds the organ, importHolder, or a
// regulator). Another centre's coordinator is refused organ_holder, as for
// the organ's outcome, before the input.
func (s *Service) ReportImportSAE(ctx context.Context, p *auth.Principal, in NewImportSAE) (*ForeignSAE, error) {
	const command = "report serious adverse event on imported organ"
	if err := p.Require(ReportVigilance); err != nil {
		return nil, err
	}
	if _, err := s.exchange(); err != nil {
		return nil, err
	}
	oid, err := ParseOrganID(in.OrganID)
	if err != nil {
		return nil, err
	}
	var im *Import
	holder := func(ctx context.Context, q store.Queryer) (err error) {
		if im, err = getImport(ctx, q, oid.String()); err != nil {
			return err
		}
		if p.Role != RoleCoordinator {
			return nil
		}
		return importHeldBy(im, importHolder(im), p.AuthorityID)
	}
	if err := s.scopeFirst(ctx, p, command, holder); err != nil {
		return nil, err
	}
	probe := NewSAE{Kind: in.Kind, OrganID: oid.String(), RecipientIDs: in.RecipientIDs, Contact: in.Contact, StartedAt: in.StartedAt,
		DetectedAt: in.DetectedAt, Description: in.Description, ImmediateMeasures: in.ImmediateMeasures}
	started, detected, err := probe.validate()
	if err != nil {
		return nil, err
	}
	id := s.W.IDs().New("FS")
	out, err := ledger.SubmitAs[ForeignSAE](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.NotFuture("started_at", started, now); err != nil {
			return nil, err
		}
		if err := check.NotFuture("detected_at", detected, now); err != nil {
			return nil, err
		}
		if err := holder(ctx, tx); err != nil {
			return nil, err
		}
		for i, r := range probe.RecipientIDs {
			if r != im.RecipientID {
				return nil, errs.Invalidf("recipient_of_donor", check.Index("recipient_ids", i), "recipient %s received no organ of donor %s", r, im.DonorRef)
			}
		}
		if _, err := exchange.ActivePeer(ctx, tx, "organ_id", im.PeerID, PurposeVigilance); err != nil {
			return nil, err
		}
		var body string
		if err := tx.QueryRow(ctx, "SELECT name FROM authorities WHERE id = ?", p.AuthorityID).Scan(&body); err != nil {
			return nil, err
		}
		_, reportID, err := nextReportID(ctx, tx, now)
		if err != nil {
			return nil, err
		}
		recipients := probe.RecipientIDs
		if recipients == nil {
			recipients = []string{}
		}
		report := SAERaisedNotice{ReportID: reportID, Kind: probe.Kind, ReportingBody: body, Contact: probe.Contact, OrganID: im.OrganID,
			RecipientIDs: recipients, ReportedAt: ledger.FormatTime(now), StartedAt: ledger.FormatTime(started), DetectedAt: ledger.FormatTime(detected),
			Description: probe.Description, ImmediateMeasures: probe.ImmediateMeasures}
		return ledger.NewEntry(TypeImportSAEReported, ForeignSAE{ID: id, PeerID: im.PeerID, RaisedReportID: reportID, RaisedBy: p.AuthorityID,
			DonorRef: im.DonorRef, Kind: probe.Kind, Report: mustJSON(report), ReceivedAt: report.ReportedAt, Notifications: []ForeignNotification{}})
	})
	if err != nil {
		return nil, err
	}
	var report SAERaisedNotice
	if err := json.Unmarshal(out.Report, &report); err != nil {
		return nil, err
	}
	if err := s.send(ctx, p, outgoing(out.PeerID, MsgSAERaised, PurposeVigilance, report)); err != nil {
		return out, err
	}
	return s.ForeignSAE(ctx, p, out.ID)
}

// AcknowledgeForeignNotification records that a centre received a foreign
// registry's report: a coordinator of the centre acknowledges it, once.
// When it is the last centre's, the registry acknowledges the report to the
// registry that sent it.
func (s *Service) AcknowledgeForeignNotification(ctx context.Context, p *auth.Principal, id string) (*ForeignNotification, error) {
	if err := p.Require(Acknowledge); err != nil {
		return nil, err
	}
	d, err := ledger.SubmitAs[foreignAcknowledged](ctx, s.W, p.Actor(), "acknowledge foreign notification", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		n, err := getForeignNotification(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		if n.CentreID != p.AuthorityID {
			return nil, errs.Alertf(errs.Forbidden, "own_centre", "notification_id",
				"a coordinator acknowledges only their own centre's notifications (%s); notification %s is centre %s's", p.AuthorityID, n.ID, n.CentreID)
		}
		if n.AcknowledgedAt != "" {
			return nil, errs.New(errs.Conflict, "already_acknowledged", "notification_id", "notification %s was acknowledged at %s", n.ID, n.AcknowledgedAt)
		}
		var open int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM foreign_notifications WHERE foreign_sae_id = ? AND acknowledged_at IS NULL", n.ForeignSAEID).Scan(&open); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeForeignNotificationAcknowledged, foreignAcknowledged{NotificationID: n.ID, ForeignSAEID: n.ForeignSAEID, Last: open == 1})
	})
	if err != nil {
		return nil, err
	}
	if d.Last {
		// Recorded: a failure to send is the server log's, and the origin
		// escalates its notification if the acknowledgement never comes.
		if err := s.acknowledgeToPeer(ctx, d.ForeignSAEID); err != nil {
			s.log().Error("acknowledge a report to a foreign registry", "report", d.ForeignSAEID, "err", err)
		}
	}
	return getForeignNotification(ctx, s.DB.Read(), id)
}

// acknowledgeToPeer sends a foreign registry the acknowledgement of its
// report (not of a report raised here: the origin recorded that one
// acknowledged).
func (s *Service) acknowledgeToPeer(ctx context.Context, foreignSAEID string) error {
	var peer, origin, raised, at string
	var n int
	err := s.DB.Read().QueryRow(ctx, `SELECT peer_id, COALESCE(origin_report_id, ''), COALESCE(raised_report_id, ''), COALESCE(acknowledged_at, ''),
		(SELECT COUNT(*) FROM foreign_notifications WHERE foreign_sae_id = f.id) FROM foreign_sae_reports f WHERE id = ?`, foreignSAEID).
		Scan(&peer, &origin, &raised, &at, &n)
	if err != nil || raised != "" || origin == "" || s.Exchange == nil {
		return err
	}
	return s.send(ctx, nil, outgoing(peer, MsgSAEAcknowledged, PurposeVigilance, SAEAcknowledgement{ReportID: origin, CentresNotified: n, AcknowledgedAt: at}))
}

// acceptVigilance runs the registry's rules on a vigilance message received.
func (s *Service) acceptVigilance(ctx context.Context, tx *store.Tx, m *exchange.Inbound) error {
	switch m.Type {
	case MsgSAENotification:
		var n SAENotice
		if err := m.DecodePayload(&n); err != nil {
			return err
		}
		if n.RaisedReportID != "" {
			_, err := raisedHere(ctx, tx, m.PeerID, n.RaisedReportID)
			return err
		}
		var have int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM foreign_sae_reports WHERE peer_id = ? AND origin_report_id = ?", m.PeerID, n.ReportID).Scan(&have); err != nil {
			return err
		}
		if have > 0 {
			return errs.New(errs.Conflict, "duplicate", "payload.report_id", "report %s was received before", n.ReportID)
		}
		imports, err := importsOf(ctx, tx, m.PeerID, n.OrganIDs)
		if err != nil {
			return err
		}
		if len(imports) == 0 {
			return errs.New(errs.Invalid, "not_imported", "payload.organ_ids", "none of the organs of report %s was received from the sender's registry", n.ReportID)
		}
		return nil
	case MsgSAERaised:
		var r SAERaisedNotice
		if err := m.DecodePayload(&r); err != nil {
			return err
		}
		_, err := exportTo(ctx, tx, m.PeerID, r.OrganID)
		return err
	case MsgSAEAcknowledged:
		var a SAEAcknowledgement
		if err := m.DecodePayload(&a); err != nil {
			return err
		}
		_, err := peerNotification(ctx, tx, m.PeerID, a.ReportID)
		return err
	case MsgSAEFinal:
		var f SAEFinalNotice
		if err := m.DecodePayload(&f); err != nil {
			return err
		}
		_, err := foreignReport(ctx, tx, m.PeerID, f.ReportID)
		return err
	}
	return nil
}

// raisedHere finds a report raised here and sent to a peer.
func raisedHere(ctx context.Context, q store.Queryer, peerID, reportID string) (string, error) {
	var id string
	err := q.QueryRow(ctx, "SELECT id FROM foreign_sae_reports WHERE peer_id = ? AND raised_report_id = ?", peerID, reportID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.New(errs.NotFound, "reference", "payload.raised_report_id", "no report %s was sent to the sender's registry", reportID)
	}
	return id, err
}

// peerNotification finds the open notification of a peer for a report.
func peerNotification(ctx context.Context, q store.Queryer, peerID, reportID string) (string, error) {
	var id string
	var acked sql.NullString
	err := q.QueryRow(ctx, `SELECT n.id, n.acknowledged_at FROM notifications n JOIN sae_reports r ON r.id = n.sae_id
		WHERE r.report_id = ? AND n.peer_id = ?`, reportID, peerID).Scan(&id, &acked)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.New(errs.NotFound, "reference", "payload.report_id", "report %s notified no such registry", reportID)
	}
	if err != nil {
		return "", err
	}
	if acked.Valid {
		return "", errs.New(errs.Conflict, "already_acknowledged", "payload.report_id", "notification %s was acknowledged at %s", id, acked.String)
	}
	return id, nil
}

// foreignReport finds an open report a peer sent.
func foreignReport(ctx context.Context, q store.Queryer, peerID, reportID string) (string, error) {
	var id string
	var final sql.NullString
	err := q.QueryRow(ctx, "SELECT id, final_reported_at FROM foreign_sae_reports WHERE peer_id = ? AND origin_report_id = ?", peerID, reportID).Scan(&id, &final)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.New(errs.NotFound, "reference", "payload.report_id", "no serious adverse event report %s", reportID)
	}
	if err != nil {
		return "", err
	}
	if final.Valid {
		return "", errs.New(errs.Conflict, "sae_closed", "payload.report_id", "report %s has had its final report since %s", reportID, final.String)
	}
	return id, nil
}

// importsOf reads the organs of a list received from a peer.
func importsOf(ctx context.Context, q store.Queryer, peerID string, organIDs []string) ([]Import, error) {
	var out []Import
	for _, id := range organIDs {
		im, err := getImport(ctx, q, id)
		if errs.CodeOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if im.PeerID == peerID {
			out = append(out, *im)
		}
	}
	return out, nil
}

// decideVigilance decides what a vigilance message received means here.
func (s *Service) decideVigilance(ctx context.Context, tx *store.Tx, m *exchange.Inbound, d *applied, now time.Time) error {
	ids := s.W.IDs()
	switch m.Type {
	case MsgSAENotification:
		var n SAENotice
		if err := m.DecodePayload(&n); err != nil {
			return err
		}
		f := ForeignSAE{ID: ids.New("FS"), PeerID: m.PeerID, OriginReportID: n.ReportID, DonorRef: n.DonorID, Kind: n.Kind, Report: m.Payload,
			ReceivedAt: ledger.FormatTime(now), Notifications: []ForeignNotification{}}
		skip := ""
		if n.RaisedReportID != "" {
			id, err := raisedHere(ctx, tx, m.PeerID, n.RaisedReportID)
			if err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, "SELECT raised_by FROM foreign_sae_reports WHERE id = ?", id).Scan(&skip); err != nil {
				return err
			}
			f.ID, f.RaisedReportID = id, n.RaisedReportID
		}
		imports, err := importsOf(ctx, tx, m.PeerID, n.OrganIDs)
		if err != nil {
			return err
		}
		var centres []string
		for _, im := range imports {
			if im.CentreID != "" && im.CentreID != skip && !slices.Contains(centres, im.CentreID) {
				centres = append(centres, im.CentreID)
			}
		}
		slices.Sort(centres)
		for _, c := range centres {
			f.Notifications = append(f.Notifications, ForeignNotification{ID: ids.New("NT"), CentreID: c})
		}
		if len(centres) == 0 {
			f.AcknowledgedAt = f.ReceivedAt
		}
		d.ForeignSAE = &f
	case MsgSAERaised:
		var r SAERaisedNotice
		if err := m.DecodePayload(&r); err != nil {
			return err
		}
		sae, err := s.raisedSAE(ctx, tx, m.PeerID, &r, now)
		if err != nil {
			return err
		}
		d.SAE = sae
	case MsgSAEAcknowledged:
		d.Acknowledgement = &SAEAcknowledgement{}
		if err := m.DecodePayload(d.Acknowledgement); err != nil {
			return err
		}
		id, err := peerNotification(ctx, tx, m.PeerID, d.Acknowledgement.ReportID)
		if err != nil {
			return err
		}
		d.NotificationID = id
	case MsgSAEFinal:
		d.Final = &SAEFinalNotice{}
		if err := m.DecodePayload(d.Final); err != nil {
			return err
		}
		id, err := foreignReport(ctx, tx, m.PeerID, d.Final.ReportID)
		if err != nil {
			return err
		}
		d.ForeignSAEID = id
	default:
		return errs.Invalidf("unknown_type", "type", "this registry knows no message type %q of module %q", m.Type, Module.Name)
	}
	return nil
}

// raisedSAE makes a report raised by a destination on an organ this
// registry sent it a report of this registry: made by the registry (its
// regulator authority), notifying every centre here that procured or
// transplanted an organ of the donor and every foreign registry that
// received one; the raising registry's notification is recorded
// acknowledged.
func (s *Service) raisedSAE(ctx context.Context, tx *store.Tx, peerID string, r *SAERaisedNotice, now time.Time) (*SAE, error) {
	var donor, authority string
	if err := tx.QueryRow(ctx, "SELECT donor_id FROM organs WHERE id = ?", r.OrganID).Scan(&donor); err != nil {
		return nil, err
	}
	if err := tx.QueryRow(ctx, "SELECT id FROM authorities WHERE kind = ? ORDER BY log_index LIMIT 1", auth.KindRegulator).Scan(&authority); err != nil {
		return nil, err
	}
	tr, err := traceDonorIn(ctx, tx, donor)
	if err != nil {
		return nil, err
	}
	country, reportID, err := nextReportID(ctx, tx, now)
	if err != nil {
		return nil, err
	}
	sae := &SAE{ID: s.W.IDs().New("SA"), ReportID: reportID, Kind: r.Kind, ReportingAuthorityID: authority,
		Contact: r.Contact, OriginCountry: country, DonorID: donor, OrganID: r.OrganID, RecipientIDs: []string{},
		StartedAt: r.StartedAt, DetectedAt: r.DetectedAt, Description: r.Description, ImmediateMeasures: r.ImmediateMeasures,
		ReportedAt: ledger.FormatTime(now), FinalDueAt: ledger.FormatTime(now.AddDate(0, FinalReportMonths, 0)),
		Destinations: []SAEDestination{}, Notifications: []Notification{}, RaisedByPeer: peerID, RaisedReportID: r.ReportID}
	var centres []string
	for _, o := range tr.Organs {
		d := SAEDestination{OrganID: o.ID, Organ: o.Organ, Status: o.Status, ProcuredBy: o.ProcuredBy.ID}
		centres = append(centres, o.ProcuredBy.ID)
		if t := o.Transplant; t != nil {
			d.CentreID, d.RecipientID = t.Centre.ID, t.Recipient.ID
			centres = append(centres, t.Centre.ID)
		}
		sae.Destinations = append(sae.Destinations, d)
	}
	slices.Sort(centres)
	for _, c := range slices.Compact(centres) {
		sae.Notifications = append(sae.Notifications, Notification{ID: s.W.IDs().New("NT"), CentreID: c})
	}
	return sae, addForeignNotifications(ctx, tx, s.W.IDs(), sae, peerID)
}

// afterApplied sends what follows from a message acted on: the
// acknowledgement of a report no centre here had to acknowledge, and the
// notices of a report raised by a destination to every foreign registry.
func (s *Service) afterApplied(ctx context.Context, d *applied) error {
	switch {
	case d.ForeignSAE != nil && d.ForeignSAE.AcknowledgedAt != "" && d.ForeignSAE.RaisedReportID == "":
		return s.acknowledgeToPeer(ctx, d.ForeignSAE.ID)
	case d.SAE != nil:
		return s.sendSAENotices(ctx, nil, d.SAE)
	}
	return nil
}

// ---- Reading ----

const foreignSAECols = `id, peer_id, COALESCE(origin_report_id, ''), COALESCE(raised_report_id, ''), COALESCE(raised_by, ''), donor_ref, kind, report,
	received_at, COALESCE(acknowledged_at, ''), COALESCE(final_reported_at, ''), COALESCE(conclusion, ''), COALESCE(outcome, ''), COALESCE(corrective_actions, '')`

func scanForeignSAE(r store.Scanner, f *ForeignSAE) error {
	var report string
	if err := r.Scan(&f.ID, &f.PeerID, &f.OriginReportID, &f.RaisedReportID, &f.RaisedBy, &f.DonorRef, &f.Kind, &report, &f.ReceivedAt,
		&f.AcknowledgedAt, &f.FinalReportedAt, &f.Conclusion, &f.Outcome, &f.CorrectiveActions); err != nil {
		return err
	}
	f.Report = json.RawMessage(report)
	return nil
}

const foreignNotificationCols = `id, foreign_sae_id, centre_id, created_at, COALESCE(acknowledged_at, ''), COALESCE(acknowledged_by, ''),
	COALESCE(escalated_at, ''), COALESCE(escalation_alert_id, ''),
	COALESCE((SELECT f.final_reported_at FROM foreign_sae_reports f WHERE f.id = foreign_notifications.foreign_sae_id), '')`

func scanForeignNotification(r store.Scanner, n *ForeignNotification) error {
	if err := r.Scan(&n.ID, &n.ForeignSAEID, &n.CentreID, &n.CreatedAt, &n.AcknowledgedAt, &n.AcknowledgedBy, &n.EscalatedAt, &n.EscalationAlertID,
		&n.ReportClosedAt); err != nil {
		return err
	}
	n.ClosedUnacknowledged = closedUnacknowledged(n.ReportClosedAt, n.AcknowledgedAt)
	return nil
}

func getForeignNotification(ctx context.Context, q store.Queryer, id string) (*ForeignNotification, error) {
	var n ForeignNotification
	err := scanForeignNotification(q.QueryRow(ctx, "SELECT "+foreignNotificationCols+" FROM foreign_notifications WHERE id = ?", id), &n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "notification_id", "no notification %s", id)
	}
	return &n, err
}

// ForeignSAE returns a report of a foreign registry (by its id here, or the
// origin's or this registry's report id) with the notifications of the
// centres here.
func (s *Service) ForeignSAE(ctx context.Context, p *auth.Principal, id string) (*ForeignSAE, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var f ForeignSAE
	err := scanForeignSAE(q.QueryRow(ctx, "SELECT "+foreignSAECols+" FROM foreign_sae_reports WHERE id = ? OR origin_report_id = ? OR raised_report_id = ?",
		id, id, id), &f)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noSAE(id)
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT "+foreignNotificationCols+" FROM foreign_notifications WHERE foreign_sae_id = ? ORDER BY centre_id, id", f.ID)
	if err != nil {
		return nil, err
	}
	if f.Notifications, err = store.Rows(rows, scanForeignNotification); err != nil {
		return nil, err
	}
	if f.Notifications == nil {
		f.Notifications = []ForeignNotification{}
	}
	return &f, nil
}

// ForeignSAEs lists the reports of foreign registries and those raised here
// on organs from abroad, newest first, with their notifications.
func (s *Service) ForeignSAEs(ctx context.Context, p *auth.Principal) ([]ForeignSAE, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+foreignSAECols+" FROM foreign_sae_reports ORDER BY log_index DESC, id LIMIT ?", MaxCrossBorderList)
	if err != nil {
		return nil, err
	}
	list, err := store.Rows(rows, scanForeignSAE)
	if err != nil {
		return nil, err
	}
	out := make([]ForeignSAE, 0, len(list))
	for _, f := range list {
		x, err := s.ForeignSAE(ctx, p, f.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, *x)
	}
	return out, nil
}

// ---- Escalation ----

// crossBorderEscalation is the data of an escalated notification of a
// foreign registry here, or of a foreign registry's notification there.
type crossBorderEscalation struct {
	NotificationID string `json:"notification_id"`
	ReportID       string `json:"report_id"`
	AuthorityID    string `json:"authority_id"` // to whom the alert is addressed
	PeerID         string `json:"peer_id,omitempty"`
	AlertID        string `json:"alert_id"`
	Since          string `json:"since"`
}

// escalateCrossBorder raises an alert for every notification of a foreign
// registry's report to a centre here, and every notification of a foreign
// registry, not acknowledged within AcknowledgeWithin, once each, while the
// report is open: a report whose final report was made (here, or received
// from the registry of origin) escalates nothing more, as a local one.
func (s *Service) escalateCrossBorder(ctx context.Context) (int, error) {
	late := ledger.FormatTime(s.now().Add(-s.AcknowledgeWithin()))
	q := s.DB.Read()
	rows, err := q.Query(ctx, `SELECT n.id, COALESCE(f.origin_report_id, f.raised_report_id, ''), n.centre_id, '', n.created_at FROM foreign_notifications n
		JOIN foreign_sae_reports f ON f.id = n.foreign_sae_id
		WHERE n.acknowledged_at IS NULL AND n.escalated_at IS NULL AND f.final_reported_at IS NULL AND n.created_at < ? ORDER BY n.created_at, n.id`, late)
	if err != nil {
		return 0, err
	}
	scan := func(r store.Scanner, e *crossBorderEscalation) error {
		return r.Scan(&e.NotificationID, &e.ReportID, &e.AuthorityID, &e.PeerID, &e.Since)
	}
	here, err := store.Rows(rows, scan)
	if err != nil {
		return 0, err
	}
	rows, err = q.Query(ctx, `SELECT n.id, r.report_id, r.reporting_authority_id, n.peer_id, n.created_at FROM notifications n
		JOIN sae_reports r ON r.id = n.sae_id
		WHERE n.peer_id IS NOT NULL AND n.acknowledged_at IS NULL AND n.escalated_at IS NULL AND r.final_reported_at IS NULL AND n.created_at < ?
		ORDER BY n.created_at, n.id`, late)
	if err != nil {
		return 0, err
	}
	there, err := store.Rows(rows, scan)
	if err != nil {
		return 0, err
	}
	raised := 0
	for _, e := range append(here, there...) {
		e.AlertID = s.W.IDs().New("AL")
		typ, cond := TypeForeignNotificationEscalated, `SELECT 1 FROM foreign_notifications n JOIN foreign_sae_reports f ON f.id = n.foreign_sae_id
			WHERE n.id = ? AND n.acknowledged_at IS NULL AND n.escalated_at IS NULL AND f.final_reported_at IS NULL`
		if e.PeerID != "" {
			typ, cond = TypePeerNotificationEscalated, unescalated
		}
		_, err := s.W.Submit(ctx, ledger.Actor{}, "escalate vigilance deadlines", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
			var one int
			err := tx.QueryRow(ctx, cond, e.NotificationID).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, errs.New(errs.Conflict, "escalated", "id", "%s was acknowledged, reported or escalated meanwhile", e.NotificationID)
			}
			if err != nil {
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
	return raised, nil
}

// readCrossBorder reads what a report holds of foreign registries: those it
// notified, and the one that raised it.
func readCrossBorder(ctx context.Context, q store.Queryer, x *SAE) error {
	for _, n := range x.Notifications {
		if n.PeerID != "" {
			x.ForeignRegistries = append(x.ForeignRegistries, n.PeerID)
		}
	}
	return q.QueryRow(ctx, "SELECT COALESCE(raised_by_peer, ''), COALESCE(raised_report_id, '') FROM sae_reports WHERE id = ?", x.ID).
		Scan(&x.RaisedByPeer, &x.RaisedReportID)
}
