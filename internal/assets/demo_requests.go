package assets

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
)

// demoRequests adds Demoland's requests to Otherland (XB), whose central
// authority does not run custos: recorded as sent by another channel, the
// officer records what Otherland reported. A request for the bank records
// and the freezing of the account of the case, sent and acknowledged; an
// urgent request sent with a deadline the day after, not answered: overdue
// by the day the demo is made, as the demo's clock stops days before it
// (demo.Tail), a deadline already passed being refused at drafting; and a
// draft that still lacks items.
func demoRequests(ctx context.Context, s *Service, officer, prosecutor *auth.Principal, caseID string, now time.Time) error {
	dir, err := s.Directory(ctx, officer, DirectoryFilter{State: "XB", Kind: EntryCentralAuthority})
	if err != nil || len(dir) != 1 {
		return fmt.Errorf("the demo's requests need Otherland's central authority in the directory: %v", err)
	}
	base := NewRequest{Type: RequestMLA, RequestedState: "XB", RequestedAuthority: dir[0].ID, LegalBasis: BasisBilateral, Treaty: dir[0].Treaty,
		Assistance: []string{AssistRecords, AssistFreezing}, Offences: []string{"07032", "07041"},
		Facts:   "Funds of the Harbour Bridge contract were embezzled by a public official (person RP of case ARO-2023-014) and paid into an account at an Otherland bank held through Harbour Holdings Ltd (fictitious).",
		Purpose: "Evidence of the laundering for the prosecution, and the freezing of the account pending confiscation.",
		Nexus:   "The account received the embezzled funds: its records show their path and it holds what remains of them.", Confidentiality: "required",
		DualCriminality: "Embezzlement by a public official and money laundering are offences in Demoland and in Otherland.", Language: "en",
		UsePurposes: []string{"prosecution", "confiscation", "return_of_assets"}, CaseIDs: []string{caseID}}
	acked, err := s.DraftRequest(ctx, prosecutor, "", base)
	if err != nil {
		return err
	}
	if _, _, err := s.SendRequest(ctx, officer, acked.ID); err != nil {
		return err
	}
	if _, err := s.RecordStatus(ctx, officer, acked.ID, NewStatus{Status: StatusAcknowledged, Note: "Otherland acknowledged by e-mail (reference OAG-MLA-2024-117)."}); err != nil {
		return err
	}
	urgent := base
	urgent.Assistance, urgent.Urgent, urgent.Deadline = []string{AssistTracing, AssistFreezing}, true, now.AddDate(0, 0, 1).Format(check.DateLayout)
	urgent.UrgencyReasons = "The holder is moving the remaining funds to a third country."
	urgent.Purpose = "Trace and freeze the funds moved out of the account before they leave Otherland."
	late, err := s.DraftRequest(ctx, officer, "", urgent)
	if err != nil {
		return err
	}
	if _, _, err := s.SendRequest(ctx, officer, late.ID); err != nil {
		return err
	}
	_, err = s.DraftRequest(ctx, prosecutor, "", NewRequest{Type: RequestAssetRecovery, RequestedState: "XB", RequestedAuthority: dir[0].ID,
		LegalBasis: BasisUNCAC, Offences: []string{"07032"}, CaseIDs: []string{caseID}})
	return err
}
