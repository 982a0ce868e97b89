package hashmatch

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Project adds the registry's projectors and tables to the log registry.
func Project(reg *ledger.Projections) {
	ledger.On(reg, TypeBankCreated, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, b *bankCreated) error {
		_, err := q.Exec(ctx, `INSERT INTO hm_banks (id, owner_id, name, kind, threshold, version, head_sha256, generation, created_at, created_by, log_index)
			VALUES (?, ?, ?, ?, ?, 0, '', 0, ?, ?, ?)`, b.ID, b.OwnerID, b.Name, b.Kind, b.Threshold, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeVersionPublished, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *versionPublished) error {
		d := &p.Doc
		canon, err := d.Canonical()
		if err != nil {
			return err
		}
		if DocSHA256(canon) != p.DocSHA256 {
			return fmt.Errorf("version %d of %s: document hash does not match its content", d.Version, d.Bank)
		}
		if _, err := q.Exec(ctx, `INSERT INTO hm_versions (id, bank_id, version, previous_sha256, doc_sha256, doc, signature, adds, deletes, updates, published_at, published_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, versionKey(d.Bank, d.Version), d.Bank, d.Version, d.Previous, p.DocSHA256,
			string(canon), p.Signature, len(d.Adds), len(d.Deletes), len(d.Updates), e.At, e.By, idx); err != nil {
			return err
		}
		for _, a := range d.Adds {
			video, frames, err := videoColumns(a)
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `INSERT INTO hm_entries (id, bank_id, entry_id, pdq, md5, sha256, classification, added_version, video, video_frames, log_index)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, entryKey(d.Bank, a.EntryID), d.Bank, a.EntryID, a.PDQ, a.MD5, a.SHA256, a.Classification, d.Version,
				video, frames, idx); err != nil {
				return err
			}
		}
		// An update keeps the entry's row (its id, when it was added, its
		// quarantine) and replaces its content; the version's document
		// keeps the content it had before (see entriesAt).
		for _, u := range d.Updates {
			video, frames, err := videoColumns(u)
			if err != nil {
				return err
			}
			if _, err := q.Exec(ctx, `UPDATE hm_entries SET pdq = ?, md5 = ?, sha256 = ?, classification = ?, video = ?, video_frames = ? WHERE id = ?`,
				u.PDQ, u.MD5, u.SHA256, u.Classification, video, frames, entryKey(d.Bank, u.EntryID)); err != nil {
				return err
			}
		}
		for _, id := range d.Deletes {
			if _, err := q.Exec(ctx, "UPDATE hm_entries SET deleted_version = ? WHERE id = ?", d.Version, entryKey(d.Bank, id)); err != nil {
				return err
			}
		}
		_, err = q.Exec(ctx, "UPDATE hm_banks SET version = ?, head_sha256 = ?, generation = generation + 1 WHERE id = ?", d.Version, p.DocSHA256, d.Bank)
		return err
	})
	ledger.On(reg, TypeSubscribed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, s *Subscription) error {
		_, err := q.Exec(ctx, `INSERT INTO hm_subscriptions (id, bank_id, provider_id, cursor, created_at, created_by, log_index)
			VALUES (?, ?, ?, 0, ?, ?, ?)`, s.ID, s.BankID, s.ProviderID, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypePulled, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, p *pulled) error {
		if _, err := q.Exec(ctx, `INSERT INTO hm_pulls (id, subscription_id, bank_id, provider_id, kind, from_version, to_version, doc_sha256, pulled_at, pulled_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, p.ID, p.SubscriptionID, p.BankID, p.ProviderID, p.Kind, p.From, p.To, p.DocSHA256, e.At, e.By, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE hm_subscriptions SET cursor = ?, pulled_at = ? WHERE id = ?", p.To, e.At, p.SubscriptionID)
		return err
	})
	ledger.On(reg, TypeCaseOpened, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, o *caseOpened) error {
		c := &o.Case
		if _, err := q.Exec(ctx, `INSERT INTO hm_cases (id, provider_id, pdq, quality, md5, sha256, source, content_ref, user_pseudonym, uploaded_at,
			best_bank_id, best_entry_id, best_distance, status, opened_at, opened_by, log_index, matched_frames)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?)`, c.ID, c.ProviderID, c.PDQ, c.Quality, c.MD5, c.SHA256, c.Source,
			c.ContentRef, c.UserPseudonym, c.UploadedAt, c.BestBankID, c.BestEntryID, c.BestDistance, e.At, e.By, idx, strings.Join(o.MatchedFrames, " ")); err != nil {
			return err
		}
		for i, m := range c.Matches {
			if _, err := q.Exec(ctx, `INSERT INTO hm_case_matches (id, case_id, bank_id, entry_id, distance, matched_at, query_match_pct, target_match_pct, at_seconds, log_index, bank_version)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("%s/%04d", c.ID, i), c.ID, m.BankID, m.EntryID, m.Distance, e.At,
				m.QueryMatchPct, m.TargetMatchPct, m.AtSeconds, idx, bankVersion(m.BankVersion)); err != nil {
				return err
			}
		}
		for _, qr := range o.Quarantine {
			if _, err := q.Exec(ctx, "UPDATE hm_entries SET quarantined_at = ?, quarantine_alert = ? WHERE id = ?", e.At, qr.AlertID, entryKey(qr.BankID, qr.EntryID)); err != nil {
				return err
			}
			if _, err := q.Exec(ctx, "UPDATE hm_banks SET generation = generation + 1 WHERE id = ?", qr.BankID); err != nil {
				return err
			}
			if err := ownerAlert(ctx, q, idx, e, qr.BankID, ledger.Alert{ID: qr.AlertID, Rule: "hashmatch_quarantine", Field: "entry_id",
				Message: fmt.Sprintf(i18n.M("entry %s of bank %s matched %d times within the quarantine window; it is quarantined (excluded from matching) until its owner releases it"), qr.EntryID, qr.BankID, qr.Count),
				Command: "open match case"}); err != nil {
				return err
			}
		}
		for _, f := range o.Floods {
			if err := ownerAlert(ctx, q, idx, e, f.BankID, ledger.Alert{ID: f.AlertID, Rule: "hashmatch_flood", Field: "entry_id",
				Message: fmt.Sprintf(i18n.M("service provider %s alone matched entry %s of bank %s %d times within the quarantine window; one service's matches never quarantine an entry, so it still matches: find out whether that service floods the registry (or its token was stolen) or the entry matches everything it holds"), c.ProviderID, f.EntryID, f.BankID, f.Count),
				Command: "open match case"}); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeCaseReviewed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *caseReviewed) error {
		if _, err := q.Exec(ctx, "UPDATE hm_cases SET status = ?, reviewed_at = ?, reviewed_by = ?, review_note = ? WHERE id = ?", r.Status, e.At, e.By, r.Note, r.ID); err != nil {
			return err
		}
		sups := r.Suppressions
		if r.Suppression != nil {
			sups = append(sups, *r.Suppression)
		}
		for _, s := range sups {
			if _, err := q.Exec(ctx, `INSERT INTO hm_suppressions (id, provider_id, pdq, case_id, created_at, created_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				s.ID, r.ProviderID, s.PDQ, r.ID, e.At, e.By, idx); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeCaseReopened, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *caseReopened) error {
		if _, err := q.Exec(ctx, "UPDATE hm_cases SET status = ?, reviewed_at = NULL, reviewed_by = NULL, review_note = NULL WHERE id = ?", statusOpen, r.ID); err != nil {
			return err
		}
		for _, id := range r.Lifted {
			if _, err := q.Exec(ctx, "DELETE FROM hm_suppressions WHERE id = ? AND provider_id = ?", id, r.ProviderID); err != nil {
				return err
			}
		}
		return nil
	})
	ledger.On(reg, TypeReportSent, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *Report) error {
		_, err := q.Exec(ctx, `INSERT INTO hm_reports (id, case_id, provider_id, authority_id, incident_type, incident_at, uploaded_at, pdq, md5, sha256,
			classification, user_pseudonym, content_ref, notes, sent_at, sent_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.CaseID, r.ProviderID, r.AuthorityID, r.IncidentType, r.IncidentAt, r.UploadedAt, r.PDQ, r.MD5, r.SHA256,
			r.Classification, r.UserPseudonym, r.ContentRef, r.Notes, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeReportAcknowledged, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *reportAcknowledged) error {
		_, err := q.Exec(ctx, "UPDATE hm_reports SET acknowledged_at = ?, acknowledged_by = ?, authority_reference = ? WHERE id = ?", e.At, e.By, r.Reference, r.ID)
		return err
	})
	ledger.On(reg, TypeRemovalRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *Removal) error {
		_, err := q.Exec(ctx, `INSERT INTO hm_removals (id, case_id, provider_id, content_ref, action, removed_at, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, r.CaseID, r.ProviderID, r.ContentRef, r.Action, r.RemovedAt, e.At, e.By, idx)
		return err
	})
	ledger.On(reg, TypeVideoThresholdsSet, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, t *videoThresholdsSet) error {
		_, err := q.Exec(ctx, "UPDATE hm_banks SET query_match_threshold_pct = ?, index_match_threshold_pct = ? WHERE id = ?",
			t.QueryMatchThresholdPct, t.IndexMatchThresholdPct, t.BankID)
		return err
	})
	ledger.On(reg, TypeEntryReleased, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *entryReleased) error {
		if _, err := q.Exec(ctx, "UPDATE hm_entries SET quarantined_at = NULL, quarantine_alert = NULL WHERE id = ?", entryKey(r.BankID, r.EntryID)); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE hm_banks SET generation = generation + 1 WHERE id = ?", r.BankID)
		return err
	})
	reg.Tables(
		ledger.Table{Name: "hm_banks", Order: "id"},
		ledger.Table{Name: "hm_entries", Order: "id"},
		ledger.Table{Name: "hm_versions", Order: "id"},
		ledger.Table{Name: "hm_subscriptions", Order: "id"},
		ledger.Table{Name: "hm_pulls", Order: "id"},
		ledger.Table{Name: "hm_cases", Order: "id"},
		ledger.Table{Name: "hm_case_matches", Order: "id"},
		ledger.Table{Name: "hm_suppressions", Order: "id"},
		ledger.Table{Name: "hm_reports", Order: "id"},
		ledger.Table{Name: "hm_removals", Order: "id"},
	)
	projectFeedback(reg)
	projectRetro(reg)
}

// ownerAlert raises alert a for the owner of bank, not for the service whose
// match raised it.
func ownerAlert(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, bank string, a ledger.Alert) error {
	var owner string
	if err := q.QueryRow(ctx, "SELECT owner_id FROM hm_banks WHERE id = ?", bank).Scan(&owner); err != nil {
		return err
	}
	return ledger.ProjectAlert(ctx, q, idx, e.At, owner, e.By, a)
}

// videoColumns are the video and video_frames columns of an entry: its
// vPDQ hash as JSON and its frame count, or "" and 0 for an image.
func videoColumns(e DocEntry) (string, int, error) {
	if e.Video == nil {
		return "", 0, nil
	}
	b, err := json.Marshal(e.Video)
	return string(b), len(e.Video.Frames), err
}

// versionKey and entryKey are the text keys of hm_versions and hm_entries:
// zero-padded so that text order is version order.
func versionKey(bank string, v int) string { return fmt.Sprintf("%s/%08d", bank, v) }
func entryKey(bank, entry string) string   { return bank + "/" + entry }

// bankVersion is a match's bank version as stored: NULL for a match logged
// before custos recorded it (its leaf has no bank_version).
func bankVersion(v int) any {
	if v == 0 {
		return nil
	}
	return v
}
