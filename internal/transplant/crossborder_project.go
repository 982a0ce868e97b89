package transplant

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of the exchange with foreign registries.
const (
	TypeOrganExported                   = "transplant.organ_exported"
	TypeImportOutcome                   = "transplant.import_outcome_recorded"
	TypeImportAssigned                  = "transplant.import_assigned"
	TypeMessageApplied                  = "transplant.exchange_message_applied"
	TypeImportSAEReported               = "transplant.import_sae_reported"
	TypeForeignNotificationAcknowledged = "transplant.foreign_notification_acknowledged"
	TypeForeignNotificationEscalated    = "transplant.foreign_notification_escalated"
	TypePeerNotificationEscalated       = "transplant.sae_peer_notification_escalated"
)

// projectCrossBorder adds the projectors and tables of the exchange with
// foreign registries.
func projectCrossBorder(reg *ledger.Projections) {
	ledger.On(reg, TypeOrganExported, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, x *Export) error {
		_, err := q.Exec(ctx, `INSERT INTO organ_exports (organ_id, id, peer_id, destination_country, destination_centre, exported_at, exported_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, x.OrganID, x.ID, x.PeerID, x.DestinationCountry, x.DestinationCentre, x.ExportedAt, e.By, idx)
		return err
	})
	ledger.On(reg, TypeImportOutcome, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, o *importOutcome) error {
		_, err := q.Exec(ctx, `UPDATE organ_imports SET outcome = ?, outcome_on = ?, recipient_id = ?, centre_id = ?, outcome_reason = ?, outcome_at = ?, outcome_by = ?
			WHERE organ_id = ?`, o.Outcome, o.On, nullable(o.RecipientID), o.CentreID, o.Reason, e.At, e.By, o.OrganID)
		if err != nil || o.Outcome != "transplanted" {
			return err
		}
		// A transplantation here, whatever the organ's origin: it ends the
		// registration and counts in the reports as one of an organ of the
		// registry does.
		return reportRowsOnImportTransplant(ctx, q, o)
	})
	ledger.On(reg, TypeImportAssigned, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *importAssigned) error {
		if _, err := q.Exec(ctx, "UPDATE organ_imports SET assigned_centre = ?, assigned_at = ?, assigned_by = ? WHERE organ_id = ?", a.CentreID, e.At, e.By, a.OrganID); err != nil {
			return err
		}
		return insertImportAssignment(ctx, q, idx, e, a)
	})
	ledger.On(reg, TypeMessageApplied, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *applied) error {
		if _, err := q.Exec(ctx, "INSERT INTO exchange_applied (inbox_id, type, applied_at, log_index) VALUES (?, ?, ?, ?)", d.InboxID, d.Type, e.At, idx); err != nil {
			return err
		}
		return projectApplied(ctx, reg, q, idx, e, d)
	})
	ledger.On(reg, TypeImportSAEReported, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, f *ForeignSAE) error {
		return insertForeignSAE(ctx, q, idx, e, f)
	})
	ledger.On(reg, TypeForeignNotificationAcknowledged, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *foreignAcknowledged) error {
		if _, err := q.Exec(ctx, "UPDATE foreign_notifications SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?", e.At, e.By, a.NotificationID); err != nil {
			return err
		}
		if !a.Last {
			return nil
		}
		_, err := q.Exec(ctx, "UPDATE foreign_sae_reports SET acknowledged_at = ? WHERE id = ?", e.At, a.ForeignSAEID)
		return err
	})
	ledger.On(reg, TypeForeignNotificationEscalated, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, x *crossBorderEscalation) error {
		if _, err := q.Exec(ctx, "UPDATE foreign_notifications SET escalated_at = ?, escalation_alert_id = ? WHERE id = ?", e.At, x.AlertID, x.NotificationID); err != nil {
			return err
		}
		return ledger.ProjectAlert(ctx, q, idx, e.At, x.AuthorityID, e.By, ledger.Alert{ID: x.AlertID, Rule: RuleAcknowledgement, Field: "notification_id",
			Message: fmt.Sprintf(i18n.M("centre %s has not acknowledged notification %s of serious adverse event report %s, sent %s"), x.AuthorityID, x.NotificationID, x.ReportID, x.Since),
			Command: "escalate vigilance deadlines"})
	})
	ledger.On(reg, TypePeerNotificationEscalated, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, x *crossBorderEscalation) error {
		if _, err := q.Exec(ctx, "UPDATE notifications SET escalated_at = ?, escalation_alert_id = ? WHERE id = ?", e.At, x.AlertID, x.NotificationID); err != nil {
			return err
		}
		// The alert is addressed to the authority that made the report.
		return ledger.ProjectAlert(ctx, q, idx, e.At, x.AuthorityID, e.By, ledger.Alert{ID: x.AlertID, Rule: RuleAcknowledgement, Field: "notification_id",
			Message: fmt.Sprintf(i18n.M("the foreign registry %s has not acknowledged notification %s of serious adverse event report %s, sent %s"), x.PeerID, x.NotificationID, x.ReportID, x.Since),
			Command: "escalate vigilance deadlines"})
	})
	reg.Tables(
		ledger.Table{Name: "organ_exports", Order: "organ_id"},
		ledger.Table{Name: "organ_imports", Order: "organ_id"},
		ledger.Table{Name: "organ_import_assignments", Order: "id"},
		ledger.Table{Name: "foreign_sae_reports", Order: "id"},
		ledger.Table{Name: "foreign_notifications", Order: "id"},
		ledger.Table{Name: "exchange_applied", Order: "inbox_id"},
	)
	reg.Check("sae_report_ids", verifyReportIDs) // vigilance_verify.go
}

// insertImportAssignment keeps an assignment of an organ from abroad (entry
// idx) in the organ's history of assignments, keyed by the entry (IA-idx).
func insertImportAssignment(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *importAssigned) error {
	_, err := q.Exec(ctx, `INSERT INTO organ_import_assignments (id, organ_id, centre_id, from_centre, reason, assigned_at, assigned_by, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("IA-%d", idx), a.OrganID, a.CentreID, nullable(a.From), a.Reason, e.At, e.By, idx)
	return err
}

// insertFirstHolder starts an organ's history of assignments with centre,
// the destination the registry of origin named, as the characterization
// recorded at entry idx resolved it: a row of that entry (IA-idx, by_origin),
// at its time and by its actor (the registry itself), unless the organ has
// a history already (a regulator assigned it before the origin's centre
// could be told, or an earlier characterization named one). Nothing when
// centre is "": no centre here holds the organ yet.
func insertFirstHolder(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, organID, centre string) error {
	if centre == "" {
		return nil
	}
	var n int
	if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM organ_import_assignments WHERE organ_id = ? AND log_index < ?", organID, idx).Scan(&n); err != nil || n > 0 {
		return err
	}
	_, err := q.Exec(ctx, `INSERT INTO organ_import_assignments (id, organ_id, centre_id, from_centre, reason, assigned_at, assigned_by, log_index, by_origin)
		VALUES (?, ?, ?, NULL, '', ?, ?, ?, 1)`, fmt.Sprintf("IA-%d", idx), organID, centre, e.At, e.By, idx)
	return err
}

// fillImportFirstHolders is migration 24's step: for each characterization
// the log held before, in the log's order, it writes what the projector of
// transplant.exchange_message_applied now writes, so that log verify's
// replay finds the same rows: the donor's blood group into organ_imports
// (the last characterization's, as the projector's update leaves it) and
// the organ's first holder into organ_import_assignments, the destination
// resolved by importDestinationSQL's rule with the centres registered
// before that entry, as the replay resolves it.
func fillImportFirstHolders(ctx context.Context, tx *store.Tx) error {
	return ledger.EntriesOf(ctx, tx, TypeMessageApplied, func(idx int64, e *ledger.Entry) error {
		var d applied
		if err := e.Decode(&d); err != nil {
			return err
		}
		c := d.Characterization
		if c == nil {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE organ_imports SET blood_group = ? WHERE organ_id = ?", nullable(c.Donor.BloodGroup), c.OrganID); err != nil {
			return err
		}
		var centre string
		if err := tx.QueryRow(ctx, "SELECT COALESCE("+importDestinationBeforeSQL+", '')", KindCentre, c.DestinationCentre, idx,
			KindCentre, c.DestinationCentre, idx).Scan(&centre); err != nil {
			return err
		}
		return insertFirstHolder(ctx, tx, idx, e, c.OrganID, centre)
	})
}

// importDestinationBeforeSQL is importDestinationSQL with the centres
// registered before a log index (arguments: KindCentre, the destination,
// the index, KindCentre, the destination, the index).
const importDestinationBeforeSQL = `COALESCE((SELECT a.id FROM authorities a WHERE a.kind = ? AND a.id = ? AND a.log_index < ?),
	(SELECT CASE WHEN COUNT(*) = 1 THEN MIN(a.id) END FROM authorities a WHERE a.kind = ? AND a.name = ? AND a.log_index < ?))`

// fillImportAssignments is migration 23's step: it writes into
// organ_import_assignments the assignments the log held before, as the
// projector of transplant.import_assigned would have, so that log verify's
// replay finds the same rows.
func fillImportAssignments(ctx context.Context, tx *store.Tx) error {
	return ledger.EntriesOf(ctx, tx, TypeImportAssigned, func(idx int64, e *ledger.Entry) error {
		var a importAssigned
		if err := e.Decode(&a); err != nil {
			return err
		}
		return insertImportAssignment(ctx, tx, idx, e, &a)
	})
}

func insertForeignSAE(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, f *ForeignSAE) error {
	_, err := q.Exec(ctx, `INSERT INTO foreign_sae_reports (id, peer_id, origin_report_id, raised_report_id, raised_by, donor_ref, kind, report, received_at,
		acknowledged_at, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, f.PeerID, nullable(f.OriginReportID), nullable(f.RaisedReportID),
		nullable(f.RaisedBy), f.DonorRef, f.Kind, string(f.Report), f.ReceivedAt, nullable(f.AcknowledgedAt), idx)
	return err
}

// importDestinationSQL is the centre here an organ's destination names
// (arguments: KindCentre, the destination, KindCentre, the destination): the
// centre of that identifier, else the one centre of that name, else none
// (NULL: no centre, or several of the name). Migration 22 resolved the
// organs received before by the same rule.
const importDestinationSQL = `COALESCE((SELECT a.id FROM authorities a WHERE a.kind = ? AND a.id = ?),
	(SELECT CASE WHEN COUNT(*) = 1 THEN MIN(a.id) END FROM authorities a WHERE a.kind = ? AND a.name = ?))`

// projectApplied writes what a message received means here.
func projectApplied(ctx context.Context, reg *ledger.Projections, q store.Queryer, idx int64, e *ledger.Entry, d *applied) error {
	switch {
	case d.Characterization != nil:
		c := d.Characterization
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if _, err := q.Exec(ctx, `INSERT INTO organ_imports (organ_id, peer_id, origin_country, donor_ref, organ, destination_centre, received_at, log_index)
			VALUES (?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT (organ_id) DO NOTHING`, c.OrganID, d.PeerID, d.From, c.DonorID, c.Organ, e.At, idx); err != nil {
			return err
		}
		// The centre the destination names is resolved here, once, with
		// the centres registered now (a replay's too): one registered
		// later does not change who holds the organ (importHolder).
		if _, err = q.Exec(ctx, "UPDATE organ_imports SET characterization = ?, characterized_at = ?, blood_group = ?, destination_centre = ?, destination_centre_id = "+
			importDestinationSQL+" WHERE organ_id = ?", string(b), e.At, nullable(c.Donor.BloodGroup), c.DestinationCentre, KindCentre, c.DestinationCentre,
			KindCentre, c.DestinationCentre, c.OrganID); err != nil {
			return err
		}
		// A later characterization that moved the organ (decided when it
		// was recorded: movedByOrigin) is a row of its history, as a
		// regulator's move is.
		if m := d.Moved; m != nil {
			_, err := q.Exec(ctx, `INSERT INTO organ_import_assignments (id, organ_id, centre_id, from_centre, reason, assigned_at, assigned_by, log_index, by_origin)
				VALUES (?, ?, ?, ?, '', ?, ?, ?, 1)`, fmt.Sprintf("IA-%d", idx), c.OrganID, m.CentreID, m.From, e.At, e.By, idx)
			return err
		}
		// The centre it named, if any, is the organ's first holder: its
		// history of assignments starts here.
		var centre string
		if err := q.QueryRow(ctx, "SELECT COALESCE(destination_centre_id, '') FROM organ_imports WHERE organ_id = ?", c.OrganID).Scan(&centre); err != nil {
			return err
		}
		return insertFirstHolder(ctx, q, idx, e, c.OrganID, centre)
	case d.Traceability != nil:
		t := d.Traceability
		if _, err := q.Exec(ctx, `INSERT INTO organ_imports (organ_id, peer_id, origin_country, donor_ref, organ, destination_centre, received_at, log_index)
			VALUES (?, ?, ?, ?, ?, '', ?, ?) ON CONFLICT (organ_id) DO NOTHING`, t.OrganID, d.PeerID, d.From, t.DonorID, t.Organ, e.At, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE organ_imports SET procured_at = ?, procurement_centre = ?, shipped_at = ? WHERE organ_id = ?",
			t.ProcuredAt, t.ProcurementCentre, e.At, t.OrganID)
		return err
	case d.Outcome != nil:
		o := d.Outcome
		_, err := q.Exec(ctx, `UPDATE organ_exports SET outcome = ?, outcome_on = ?, recipient_ref = ?, outcome_centre = ?, outcome_reason = ?, outcome_at = ?
			WHERE organ_id = ? AND peer_id = ?`, o.Outcome, o.On, o.RecipientID, o.Centre, o.Reason, e.At, o.OrganID, d.PeerID)
		return err
	case d.ForeignSAE != nil:
		f := d.ForeignSAE
		if f.RaisedReportID != "" {
			if _, err := q.Exec(ctx, "UPDATE foreign_sae_reports SET origin_report_id = ? WHERE id = ?", f.OriginReportID, f.ID); err != nil {
				return err
			}
		} else if err := insertForeignSAE(ctx, q, idx, e, f); err != nil {
			return err
		}
		for _, n := range f.Notifications {
			if _, err := q.Exec(ctx, `INSERT INTO foreign_notifications (id, foreign_sae_id, centre_id, created_at, log_index) VALUES (?, ?, ?, ?, ?)`,
				n.ID, f.ID, n.CentreID, e.At, idx); err != nil {
				return err
			}
		}
		return nil
	case d.SAE != nil:
		b, err := json.Marshal(d.SAE)
		if err != nil {
			return err
		}
		// The report is projected as a report made here is.
		if err := reg.Project(ctx, q, idx, &ledger.Entry{V: e.V, Type: TypeSAEReported, At: e.At, By: e.By, Data: b}); err != nil {
			return err
		}
		_, err = q.Exec(ctx, "UPDATE sae_reports SET raised_by_peer = ?, raised_report_id = ? WHERE id = ?", d.SAE.RaisedByPeer, d.SAE.RaisedReportID, d.SAE.ID)
		return err
	case d.Acknowledgement != nil:
		_, err := q.Exec(ctx, "UPDATE notifications SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?", e.At, d.PeerID, d.NotificationID)
		return err
	case d.Final != nil:
		f := d.Final
		_, err := q.Exec(ctx, "UPDATE foreign_sae_reports SET final_reported_at = ?, conclusion = ?, outcome = ?, corrective_actions = ? WHERE id = ?",
			f.FinalReportedAt, f.Conclusion, f.Outcome, f.CorrectiveActions, d.ForeignSAEID)
		return err
	}
	return nil
}
