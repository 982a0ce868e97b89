package web

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
	"net/http"
	"net/url"
	"strconv"

	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Hash matching: disputes of bank entries and retroactive matching ----

// feedbackPages are the pages of disputes (a service's, and the owner's
// disputed entries) and of retroactive matching.
func (h *hashmatchPages) feedbackPages() []Page {
	return []Page{
		get("/disputes", h.disputes).Allowed(hashmatch.ReviewDisputes, hashmatch.ReadCases),
		post("/cases/{id}/dispute", h.dispute).Allowed(hashmatch.ReviewCases),
		post("/banks/{id}/entries/{entry}/disputes/review", h.reviewDisputed).Allowed(hashmatch.ReviewDisputes),
		post("/banks/{id}/withdrawals", h.publishWithdrawals).Allowed(hashmatch.PublishBanks),
		get("/retro", h.retro).Allowed(hashmatch.SetRetroMatching),
		post("/retro", h.setRetro).Allowed(hashmatch.SetRetroMatching),
	}
}

type hmDisputesData struct {
	Owner       bool // the analyst's view: disputed entries of its banks
	Entries     *hashmatch.DisputedEntries
	Disputes    []hashmatch.Dispute
	Authorities map[string]string
	Banks       map[string]string
	Pending     map[string][]string // bank -> withdrawn entries waiting for a version
}

var disputesFlash = map[string]string{
	"review":      i18n.M("Decision recorded. The services that disputed the entry see it."),
	"withdrawals": i18n.M("Version published: it deletes the withdrawn entries."),
}

func (h *hashmatchPages) disputes(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showDisputes(w, r, s, nil)
}

func (h *hashmatchPages) showDisputes(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	names, err := authorityNames(ctx, h.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	banks, err := h.bankNames(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	data := hmDisputesData{Owner: s.P.Can(hashmatch.ReviewDisputes), Authorities: names, Banks: banks}
	title := "Disputes"
	if data.Owner {
		title = "Disputed entries"
		if data.Entries, err = h.svc.DisputedEntriesOf(ctx, s.P, ""); err != nil {
			s.Fail(w, r, err)
			return
		}
		data.Pending = map[string][]string{}
		for _, e := range data.Entries.PendingWithdrawals {
			data.Pending[e.BankID] = append(data.Pending[e.BankID], e.EntryID)
		}
	} else if data.Disputes, err = h.svc.MyDisputes(ctx, s.P); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, title)
	pg.Data = data
	if m, ok := disputesFlash[s.Notice(r).Get("done")]; ok {
		pg.Flash = s.T(m)
	}
	s.Show(w, r, "disputes", pg, ref)
}

func (h *hashmatchPages) dispute(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := h.svc.DisputeCase(r.Context(), s.P, id, hashmatch.NewDispute{Note: r.PostForm.Get("note")}); err != nil {
		h.showCase(w, r, s, &Refusal{Form: "dispute", Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/cases/"+id, url.Values{"done": {"dispute"}})
}

func (h *hashmatchPages) reviewDisputed(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	bank, entry := r.PathValue("id"), r.PathValue("entry")
	if err := h.svc.ReviewDisputedEntry(r.Context(), s.P, bank, entry, hashmatch.EntryReview{Decision: v.Get("decision"), Reason: v.Get("reason")}); err != nil {
		h.showDisputes(w, r, s, &Refusal{Form: "review-" + bank + "-" + entry, Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/disputes", url.Values{"done": {"review"}})
}

// publishWithdrawals publishes a version of the bank that holds nothing but
// the deletions of its withdrawn entries.
func (h *hashmatchPages) publishWithdrawals(w http.ResponseWriter, r *http.Request, s *Session) {
	bank := r.PathValue("id")
	if _, err := h.svc.Publish(r.Context(), s.P, bank, hashmatch.NewVersion{}); err != nil {
		h.showDisputes(w, r, s, &Refusal{Form: "withdrawals-" + bank, Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/disputes", url.Values{"done": {"withdrawals"}})
}

type hmRetroData struct {
	Setting *hashmatch.RetroSetting
	Max     int
}

func (h *hashmatchPages) retro(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showRetro(w, r, s, nil)
}

func (h *hashmatchPages) showRetro(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	st, err := h.svc.Retro(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Retroactive matching")
	pg.Data = hmRetroData{Setting: st, Max: hashmatch.MaxRetroDays}
	days := st.RetentionDays
	if days == 0 {
		days = 30
	}
	pg.SetForm("retro", url.Values{"retention_days": {strconv.Itoa(days)}})
	if s.Notice(r).Get("done") == "retro" {
		pg.Flash = s.T("Setting recorded.")
	}
	s.Show(w, r, "retro", pg, ref)
}

func (h *hashmatchPages) setRetro(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	form := "retro"
	var days int
	var err error
	if v.Get("opt_out") != "" {
		form = "opt-out"
	} else if days, err = strconv.Atoi(v.Get("retention_days")); err != nil {
		days = -1 // refused as out of range, naming the field
	}
	if _, err := h.svc.SetRetro(r.Context(), s.P, hashmatch.NewRetroSetting{RetentionDays: &days}); err != nil {
		h.showRetro(w, r, s, &Refusal{Form: form, Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/retro", url.Values{"done": {"retro"}})
}

// caseDispute is the dispute of a rejected case, nil when it has none.
func (h *hashmatchPages) caseDispute(ctx context.Context, p *auth.Principal, c *hashmatch.Case) (*hashmatch.Dispute, error) {
	if c.Status != "rejected" {
		return nil, nil
	}
	return h.svc.CaseDispute(ctx, p, c.ID)
}
