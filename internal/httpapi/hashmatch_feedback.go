package httpapi

import (
	"net/http"
	"reflect"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/hashmatch"
)

type hmDisputesOut struct {
	Disputes []hashmatch.Dispute `json:"disputes"`
}

type hmReviewedEntryOut struct {
	BankID   string `json:"bank_id"`
	EntryID  string `json:"entry_id"`
	Decision string `json:"decision"`
}

// hashmatchFeedback lists the routes of feedback to a bank's owner
// (disputes) and of retroactive matching.
func hashmatchFeedback(s *hashmatch.Service) []Route {
	decisionEnums := []Enum{
		{reflect.TypeFor[hashmatch.EntryReview](), "Decision", hashmatch.DisputeDecisions},
		{reflect.TypeFor[hmReviewedEntryOut](), "Decision", hashmatch.DisputeDecisions},
	}
	return []Route{
		{Method: "POST", Path: "/api/v1/hashmatch/cases/{id}/dispute", Allow: []auth.Action{hashmatch.ReviewCases}, Summary: "Tell the owner of the bank of a rejected case's best match that it is a false positive, with a note and without the content (reviewer)",
			In: hashmatch.NewDispute{}, Out: hashmatch.Dispute{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.NewDispute](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.DisputeCase(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/disputes", Allow: []auth.Action{hashmatch.ReadCases}, Summary: "The disputes the provider sent, newest first, with the owner's decision and reason once reviewed (service, reviewer)",
			Out: hmDisputesOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.MyDisputes(r.Context(), p)
				return http.StatusOK, hmDisputesOut{Disputes: out}, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/disputed-entries", Allow: []auth.Action{hashmatch.ReviewDisputes}, Summary: "The entries of the analyst's authority's banks with open disputes, the most distinct services first, and the withdrawn entries the next version deletes (query bank_id) (owner analyst)",
			Out:   hashmatch.DisputedEntries{},
			Query: []Param{{Name: "bank_id", Doc: "one bank of the authority's"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.DisputedEntriesOf(r.Context(), p, r.URL.Query().Get("bank_id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/entries/{entry}/disputes/review", Allow: []auth.Action{hashmatch.ReviewDisputes}, Summary: "Keep a disputed entry, or withdraw it: the next version deletes it (owner analyst)",
			In: hashmatch.EntryReview{}, Out: hmReviewedEntryOut{}, Enums: decisionEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.EntryReview](r)
				if err != nil {
					return 0, nil, err
				}
				err = s.ReviewDisputedEntry(r.Context(), p, r.PathValue("id"), r.PathValue("entry"), in)
				return http.StatusOK, hmReviewedEntryOut{BankID: r.PathValue("id"), EntryID: r.PathValue("entry"), Decision: in.Decision}, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/retro", Allow: []auth.Action{hashmatch.SetRetroMatching}, Summary: "The provider's retroactive-matching setting (retention 0: off) and how many uploads its window holds (service, reviewer)",
			Out: hashmatch.RetroSetting{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Retro(r.Context(), p)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/retro", Allow: []auth.Action{hashmatch.SetRetroMatching}, Summary: "Opt in to retroactive matching with a retention of 1 to 90 days, change it, or opt out with 0 (the window is deleted at once); logged (service, reviewer)",
			In: hashmatch.NewRetroSetting{}, Out: hashmatch.RetroSetting{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.NewRetroSetting](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.SetRetro(r.Context(), p, in)
				return http.StatusOK, out, err
			}},
	}
}
