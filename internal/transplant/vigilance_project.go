package transplant

import (
	"context"
	"fmt"

	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of vigilance: final dispositions, serious adverse events and
// reactions, their notifications and escalations.
const (
	TypeOrganDisposed            = "transplant.organ_disposed"
	TypeSAEReported              = "transplant.sae_reported"
	TypeNotificationAcknowledged = "transplant.sae_notification_acknowledged"
	TypeNotificationEscalated    = "transplant.sae_notification_escalated"
	TypeSAEFinalReported         = "transplant.sae_final_reported"
	TypeSAEFinalOverdue          = "transplant.sae_final_report_overdue"
)

// The rules of the alerts an escalation raises.
const (
	RuleAcknowledgement = "sae_acknowledgement"
	RuleFinalReport     = "sae_final_report"
)

// projectVigilance adds the projectors and tables of vigilance.
func projectVigilance(reg *ledger.Projections) {
	ledger.On(reg, TypeOrganDisposed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *Disposition) error {
		_, err := q.Exec(ctx, `INSERT INTO organ_dispositions (id, organ_id, outcome, reason, note, centre_id, disposed_at, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, d.OrganID, d.Outcome, d.Reason, d.Note, d.CentreID, d.DisposedAt, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeSAEReported, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, s *SAE) error {
		if _, err := q.Exec(ctx, `INSERT INTO sae_reports (id, report_id, kind, reporting_authority_id, contact, origin_country, donor_id, organ_id,
			recipient_ids, started_at, detected_at, description, immediate_measures, destinations, reported_at, reported_by, final_due_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.ID, s.ReportID, s.Kind, s.ReportingAuthorityID, s.Contact, s.OriginCountry,
			s.DonorID, nullable(s.OrganID), encodeIDs(s.RecipientIDs), s.StartedAt, s.DetectedAt, s.Description, s.ImmediateMeasures,
			encodeIDs(s.Destinations), s.ReportedAt, e.By, s.FinalDueAt, idx); err != nil {
			return err
		}
		for _, n := range s.Notifications {
			var by any
			if n.AcknowledgedAt != "" {
				by = e.By
			}
			if _, err := q.Exec(ctx, `INSERT INTO notifications (id, sae_id, centre_id, peer_id, created_at, acknowledged_at, acknowledged_by, log_index)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, s.ID, nullable(n.CentreID), nullable(n.PeerID), e.At, nullable(n.AcknowledgedAt), by, idx); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeNotificationAcknowledged, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, n *notificationRef) error {
		_, err := q.Exec(ctx, "UPDATE notifications SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?", e.At, e.By, n.NotificationID)
		return err
	})
	ledger.On(reg, TypeNotificationEscalated, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, x *escalation) error {
		if _, err := q.Exec(ctx, "UPDATE notifications SET escalated_at = ?, escalation_alert_id = ? WHERE id = ?", e.At, x.AlertID, x.NotificationID); err != nil {
			return err
		}
		// The alert is addressed to the centre that has not acknowledged.
		return ledger.ProjectAlert(ctx, q, idx, e.At, x.AuthorityID, e.By, ledger.Alert{ID: x.AlertID, Rule: RuleAcknowledgement, Field: "notification_id",
			Message: fmt.Sprintf(i18n.M("centre %s has not acknowledged notification %s of serious adverse event report %s, sent %s"), x.AuthorityID, x.NotificationID, x.ReportID, x.Since),
			Command: "escalate vigilance deadlines"})
	})
	ledger.On(reg, TypeSAEFinalReported, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, f *finalReported) error {
		_, err := q.Exec(ctx, `UPDATE sae_reports SET final_reported_at = ?, final_reported_by = ?, conclusion = ?, outcome = ?, corrective_actions = ?
			WHERE id = ?`, e.At, e.By, f.Conclusion, f.Outcome, f.CorrectiveActions, f.SAEID)
		return err
	})
	ledger.On(reg, TypeSAEFinalOverdue, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, x *escalation) error {
		if _, err := q.Exec(ctx, "UPDATE sae_reports SET overdue_alert_id = ? WHERE id = ?", x.AlertID, x.SAEID); err != nil {
			return err
		}
		// The alert is addressed to the authority that made the initial report.
		return ledger.ProjectAlert(ctx, q, idx, e.At, x.AuthorityID, e.By, ledger.Alert{ID: x.AlertID, Rule: RuleFinalReport, Field: "sae_id",
			Message: fmt.Sprintf(i18n.M("the final report of serious adverse event report %s was due at %s and has not been made"), x.ReportID, x.Since),
			Command: "escalate vigilance deadlines"})
	})
	reg.Tables(
		ledger.Table{Name: "organ_dispositions", Order: "id"},
		ledger.Table{Name: "sae_reports", Order: "id"},
		ledger.Table{Name: "notifications", Order: "id"},
	)
}
