package assets_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/storetest"
)

const requestDirectory = "state,kind,name,legal_bases,treaty,languages,channels,email\n" +
	"XA,central_authority,Demoland Ministry of Justice,uncac_46;untoc_18,,en;fr,email,mla@justice.example\n" +
	"XB,central_authority,Otherland Attorney General,uncac_46;bilateral_treaty,Demoland-Otherland MLA Treaty 2001,en;es,email,ca@otherland.example\n" +
	"XB,contact_point,Otherland Police Liaison,uncac_46,,en,email,police@otherland.example\n"

// requestWorld is the world with the directory imported and a case of
// Demoland (XA); it returns the directory ids of Otherland's (XB) central
// authority and contact point.
func requestWorld(t *testing.T, dsn string) (w *world, caseID, centralXB, contactXB string) {
	t.Helper()
	w = newWorld(t, dsn)
	im, err := w.S.ImportDirectory(ctx, w.Administrator, "directory.csv", strings.NewReader(requestDirectory))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range im.Entries {
		switch {
		case e.State == "XB" && e.Kind == assets.EntryCentralAuthority:
			centralXB = e.ID
		case e.State == "XB":
			contactXB = e.ID
		}
	}
	c, _ := w.caseWithAsset(t, "XA-R1")
	return w, c.ID, centralXB, contactXB
}

// complete is a complete MLA request of Demoland to Otherland, sent by
// another channel (no peer).
func complete(caseID, authority string) assets.NewRequest {
	return assets.NewRequest{Type: assets.RequestMLA, RequestedState: "XB", RequestedAuthority: authority, LegalBasis: assets.BasisUNCAC,
		Assistance: []string{assets.AssistRecords, assets.AssistFreezing}, Offences: []string{"07032", "07041"},
		Facts: "Public works funds were embezzled and moved to an account at Otherland Bank (synthetic).", Purpose: "Evidence for the prosecution and the freezing of the account.",
		Nexus: "The account received the embezzled funds: its records prove the laundering and it holds the proceeds.", Urgent: true,
		UrgencyReasons: "The account holder is moving funds.", Deadline: time.Now().UTC().AddDate(0, 6, 0).Format("2006-01-02"), Confidentiality: "required",
		DualCriminality: "Embezzlement and laundering are offences under the laws of both states.", Language: "en",
		UsePurposes: []string{"prosecution", "confiscation"}, CaseIDs: []string{caseID}}
}

// TestRequestCompleteness: an empty draft is refused at sending with every
// missing item named at once; each completeness rule, broken alone, is
// named alone; a complete request is sent.
func TestRequestCompleteness(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, contact := requestWorld(t, dsn)
		empty, err := w.S.DraftRequest(ctx, w.Prosecutor, "", assets.NewRequest{Type: assets.RequestMLA, RequestedState: "XB"})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.Prosecutor, empty.ID); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("a prosecutor sends: %v, want forbidden (the central authority sends)", err)
		}
		_, inc, err := w.S.SendRequest(ctx, w.CA, empty.ID)
		refused(t, "an empty draft sent", err, "incomplete", "requested_authority")
		var fields []string
		for _, m := range inc.Missing {
			fields = append(fields, m.Field)
		}
		want := "requested_authority legal_basis language offences facts assistance purpose nexus confidentiality use_purposes case_ids"
		if strings.Join(fields, " ") != want {
			t.Errorf("missing %v, want %s", fields, want)
		}
		if got, _ := w.S.Request(ctx, w.CA, empty.ID); got.Status != assets.StatusDraft {
			t.Errorf("a refused sending changed the status to %s", got.Status)
		}
		// Each rule alone.
		for _, c := range []struct {
			field  string
			change func(*assets.NewRequest)
		}{
			{"requested_authority", func(r *assets.NewRequest) { r.RequestedAuthority = "" }},
			{"requested_authority", func(r *assets.NewRequest) { r.RequestedAuthority = contact }}, // a contact point, not the central authority
			{"legal_basis", func(r *assets.NewRequest) { r.LegalBasis = "" }},
			{"language", func(r *assets.NewRequest) { r.Language = "" }},
			{"language", func(r *assets.NewRequest) { r.Language = "fr" }}, // not one Otherland's central authority takes
			{"offences", func(r *assets.NewRequest) { r.Offences = nil }},
			{"facts", func(r *assets.NewRequest) { r.Facts = "" }},
			{"assistance", func(r *assets.NewRequest) { r.Assistance = nil; r.DualCriminality = "" }},
			{"purpose", func(r *assets.NewRequest) { r.Purpose = "" }},
			{"nexus", func(r *assets.NewRequest) { r.Nexus = "" }},
			{"urgency_reasons", func(r *assets.NewRequest) { r.UrgencyReasons = "" }},
			{"deadline", func(r *assets.NewRequest) { r.Deadline = "" }},
			{"confidentiality", func(r *assets.NewRequest) { r.Confidentiality = "" }},
			{"dual_criminality", func(r *assets.NewRequest) { r.DualCriminality = "" }},
			{"use_purposes", func(r *assets.NewRequest) { r.UsePurposes = nil }},
			{"case_ids", func(r *assets.NewRequest) { r.CaseIDs = nil }},
		} {
			in := complete(caseID, central)
			c.change(&in)
			if c.field == "requested_authority" && in.RequestedAuthority == contact {
				in.LegalBasis = assets.BasisUNCAC
			}
			d, err := w.S.DraftRequest(ctx, w.CA, "", in)
			if err != nil {
				t.Fatalf("draft without %s: %v", c.field, err)
			}
			miss, err := w.S.Completeness(ctx, w.CA, d.ID)
			if err != nil || len(miss) != 1 || miss[0].Field != c.field {
				t.Errorf("without %s: missing %+v %v, want only %s", c.field, miss, err, c.field)
			}
			_, _, err = w.S.SendRequest(ctx, w.CA, d.ID)
			refused(t, "sent without "+c.field, err, "incomplete", c.field)
		}
		// Without coercive assistance, no statement of dual criminality is needed.
		in := complete(caseID, central)
		in.Assistance, in.DualCriminality = []string{assets.AssistEvidence}, ""
		d, err := w.S.DraftRequest(ctx, w.CA, "", in)
		if err != nil {
			t.Fatal(err)
		}
		if miss, _ := w.S.Completeness(ctx, w.CA, d.ID); len(miss) != 0 {
			t.Errorf("a request for statements lacks %+v", miss)
		}
		// Drafting refuses what is wrong, naming the field.
		for _, c := range []struct {
			rule, field string
			change      func(*assets.NewRequest)
		}{
			{"enum", "type", func(r *assets.NewRequest) { r.Type = "letter_rogatory" }},
			{"requested_state", "requested_state", func(r *assets.NewRequest) { r.RequestedState = "XA" }},
			{"requested_state", "requested_authority", func(r *assets.NewRequest) { r.RequestedState = "XC" }},
			{"legal_basis", "legal_basis", func(r *assets.NewRequest) { r.LegalBasis = assets.BasisUNTOC }},
			{"treaty", "treaty", func(r *assets.NewRequest) { r.LegalBasis = assets.BasisBilateral }},
			{"enum", "assistance[1]", func(r *assets.NewRequest) { r.Assistance = []string{assets.AssistRecords, "wiretap"} }},
			{"iccs_code", "offences[0]", func(r *assets.NewRequest) { r.Offences = []string{"0799"} }},
			{"urgency_reasons", "urgency_reasons", func(r *assets.NewRequest) { r.Urgent = false }},
			{"reference", "case_ids[0]", func(r *assets.NewRequest) { r.CaseIDs = []string{"RV-NONE"} }},
			{"duplicate", "case_ids[1]", func(r *assets.NewRequest) { r.CaseIDs = []string{caseID, caseID} }},
			{"duplicate", "offences[1]", func(r *assets.NewRequest) { r.Offences = []string{"07032", "07032"} }},
			{"duplicate", "assistance[1]", func(r *assets.NewRequest) { r.Assistance = []string{assets.AssistRecords, assets.AssistRecords} }},
			{"duplicate", "use_purposes[1]", func(r *assets.NewRequest) { r.UsePurposes = []string{"prosecution", "prosecution"} }},
			{"reference", "follows", func(r *assets.NewRequest) { r.Follows = "RQ-NONE" }},
			{"peer", "peer_id", func(r *assets.NewRequest) { r.PeerID = "PEER-NONE" }},
		} {
			in := complete(caseID, central)
			c.change(&in)
			_, err := w.S.DraftRequest(ctx, w.CA, "", in)
			e, ok := errs.As(err)
			if !ok || e.Field != c.field || (c.rule != "enum" && e.Rule != c.rule) {
				t.Errorf("draft with a wrong %s: %v, want %s at %s", c.field, err, c.rule, c.field)
			}
		}
		// The empty draft completed and sent.
		if _, err := w.S.DraftRequest(ctx, w.CA, empty.ID, complete(caseID, central)); err != nil {
			t.Fatal(err)
		}
		sent, _, err := w.S.SendRequest(ctx, w.CA, empty.ID)
		if err != nil || sent.Status != assets.StatusSent || sent.SentAt == "" {
			t.Fatalf("send: %+v %v", sent, err)
		}
		if _, err := w.S.DraftRequest(ctx, w.CA, empty.ID, complete(caseID, central)); errs.CodeOf(err) != errs.Conflict {
			t.Errorf("a request sent changed as a draft: %v", err)
		}
	})
}

// TestRequestTransitions: from every status, every status the lifecycle
// does not allow is refused (rule request_transition, field status) and
// changes nothing; a spontaneous disclosure ends when acknowledged; the
// side rules and the grounds of refusal hold.
func TestRequestTransitions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		paths := map[string][]string{
			assets.StatusDraft: nil, assets.StatusSent: {}, assets.StatusAcknowledged: {assets.StatusAcknowledged},
			assets.StatusUnderExecution: {assets.StatusAcknowledged, assets.StatusUnderExecution},
			assets.StatusExecuted:       {assets.StatusAcknowledged, assets.StatusUnderExecution, assets.StatusExecuted},
			assets.StatusPartial:        {assets.StatusAcknowledged, assets.StatusUnderExecution, assets.StatusPartial},
			assets.StatusRefused:        {assets.StatusRefused}, assets.StatusWithdrawn: {assets.StatusWithdrawn},
		}
		step := func(to string) assets.NewStatus {
			st := assets.NewStatus{Status: to}
			switch to {
			case assets.StatusRefused:
				st.Grounds, st.GroundsText = "no_dual_criminality", "The conduct is not an offence in Otherland (synthetic)."
			case assets.StatusPartial:
				st.Note = "The bank records were sent; the account was closed before it could be frozen."
			}
			return st
		}
		for _, typ := range []string{assets.RequestMLA, assets.RequestSpontaneous} {
			for from, path := range paths {
				in := complete(caseID, central)
				if in.Type = typ; typ == assets.RequestSpontaneous {
					in.Assistance, in.Nexus, in.CaseIDs = nil, "", nil
					if len(path) > 0 && (path[0] != assets.StatusAcknowledged && path[0] != assets.StatusWithdrawn || len(path) > 1) {
						continue // a spontaneous disclosure never gets there
					}
				}
				r, err := w.S.DraftRequest(ctx, w.CA, "", in)
				if err != nil {
					t.Fatal(err)
				}
				if path != nil {
					if _, _, err := w.S.SendRequest(ctx, w.CA, r.ID); err != nil {
						t.Fatalf("%s: send: %v", typ, err)
					}
				}
				for _, s := range path {
					if _, err := w.S.RecordStatus(ctx, w.CA, r.ID, step(s)); err != nil {
						t.Fatalf("%s to %s: %s: %v", typ, from, s, err)
					}
				}
				for _, to := range assets.RequestStatuses {
					if slices.Contains(assets.NextStatuses(typ, from), to) {
						continue
					}
					if to == assets.StatusSent {
						_, _, err = w.S.SendRequest(ctx, w.CA, r.ID)
					} else {
						_, err = w.S.RecordStatus(ctx, w.CA, r.ID, step(to))
					}
					refused(t, typ+" "+from+" → "+to, err, "request_transition", "status")
				}
				if got, _ := w.S.Request(ctx, w.CA, r.ID); got.Status != from {
					t.Errorf("%s: after refused steps the status is %s, want %s", typ, got.Status, from)
				}
			}
		}
		if got := assets.NextStatuses(assets.RequestSpontaneous, assets.StatusSent); strings.Join(got, " ") != "acknowledged withdrawn" {
			t.Errorf("a spontaneous disclosure sent may become %v", got)
		}

		// Sides: Otherland's central authority acknowledges a request sent
		// to it; a third state's does not see it; Otherland does not
		// withdraw Demoland's request; the prosecutor takes no step.
		r, _ := w.S.DraftRequest(ctx, w.CA, "", complete(caseID, central))
		if _, err := w.S.RecordStatus(ctx, w.CAB, r.ID, step(assets.StatusAcknowledged)); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Otherland acts on Demoland's draft: %v, want not found", err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, r.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := w.S.RecordStatus(ctx, w.Prosecutor, r.ID, step(assets.StatusAcknowledged)); errs.CodeOf(err) != errs.Forbidden {
			t.Errorf("the prosecutor acknowledges: %v", err)
		}
		if _, err := w.S.RecordStatus(ctx, w.CAB, r.ID, step(assets.StatusWithdrawn)); err == nil {
			t.Errorf("Otherland withdraws Demoland's request")
		} else {
			refused(t, "Otherland withdraws", err, "requesting_side", "status")
		}
		if _, err := w.S.RecordStatus(ctx, w.CAB, r.ID, step(assets.StatusAcknowledged)); err != nil {
			t.Fatalf("Otherland acknowledges: %v", err)
		}
		// Grounds of refusal.
		for _, c := range []struct {
			in          assets.NewStatus
			rule, field string
		}{
			{assets.NewStatus{Status: assets.StatusRefused, Grounds: "bank_secrecy", GroundsText: "The bank invokes secrecy."}, "ground_not_allowed", "grounds"},
			{assets.NewStatus{Status: assets.StatusRefused, Grounds: "fiscal_matters", GroundsText: "A tax matter."}, "ground_not_allowed", "grounds"},
			{assets.NewStatus{Status: assets.StatusRefused, Grounds: "other"}, "required", "grounds_text"},
			{assets.NewStatus{Status: assets.StatusRefused, Grounds: "whim", GroundsText: "x"}, "enum", "grounds"},
			{assets.NewStatus{Status: assets.StatusUnderExecution, Grounds: "other", GroundsText: "x"}, "grounds", "grounds"},
			{assets.NewStatus{Status: assets.StatusPartial}, "required", "note"},
		} {
			_, err := w.S.RecordStatus(ctx, w.CAB, r.ID, c.in)
			e, ok := errs.As(err)
			if !ok || e.Field != c.field || (c.rule != "enum" && e.Rule != c.rule) {
				t.Errorf("%+v: %v, want %s at %s", c.in, err, c.rule, c.field)
			}
			if c.rule == "ground_not_allowed" && !e.Alert {
				t.Errorf("a refusal on %s raises no alert", c.in.Grounds)
			}
		}
		// The two refusals on grounds not allowed are the regulator's
		// alerts, not only marked as alerts in the answer: the grounds are
		// checked before the request is read, outside the command.
		alerted := 0
		for _, a := range w.Must(t, 200, "GET", "/api/v1/alerts?limit=1000", w.Admin, nil).Body["alerts"].([]any) {
			if a := a.(map[string]any); a["rule"] == "ground_not_allowed" {
				alerted += 1 + int(a["repeats"].(float64))
			}
		}
		if alerted != 2 {
			t.Errorf("refusals on bank_secrecy and fiscal_matters: %d alerts of ground_not_allowed recorded, want 2", alerted)
		}
	})
}

// TestRequestIsolation: a central authority sees its own state's requests
// and those sent to its state, nothing else (not another state's drafts);
// the regulator's auditor sees every one; overdue lists and the link from a
// spontaneous disclosure to the request that follows it; purpose
// limitation and onward sharing.
func TestRequestIsolation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		ca := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Central Authority of Thirdland", "kind": "central_authority", "jurisdiction": "XC"}).Str("id")
		cac := w.Principal(t, w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Officer", "role": "central_authority_officer", "authority_id": ca}).Str("token"))
		// The overdue request is drafted and sent on 20 June, its deadline
		// 30 June; the lists are read on 15 July.
		w.S.Now = func() time.Time { return time.Date(2024, 6, 20, 12, 0, 0, 0, time.UTC) }

		spont := complete(caseID, central)
		spont.Type, spont.Assistance, spont.Nexus, spont.CaseIDs, spont.Urgent, spont.UrgencyReasons, spont.Deadline = assets.RequestSpontaneous, nil, "", nil, false, "", ""
		sp, err := w.S.DraftRequest(ctx, w.CA, "", spont)
		if err != nil {
			t.Fatal(err)
		}
		in := complete(caseID, central)
		in.Follows, in.Deadline = sp.ID, "2024-06-30"
		if _, err := w.S.DraftRequest(ctx, w.CA, "", in); err == nil {
			t.Errorf("a request follows a disclosure still in draft")
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, sp.ID); err != nil {
			t.Fatal(err)
		}
		overdue, err := w.S.DraftRequest(ctx, w.CA, "", in) // deadline 2024-06-30, passed on 15 July
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, overdue.ID); err != nil {
			t.Fatal(err)
		}
		w.S.Now = func() time.Time { return time.Date(2024, 7, 15, 12, 0, 0, 0, time.UTC) }
		in.Follows, in.Deadline = "", "2024-12-31"
		draft, err := w.S.DraftRequest(ctx, w.Prosecutor, "", in)
		if err != nil {
			t.Fatal(err)
		}
		// Otherland's request to Demoland.
		back, err := w.S.DraftRequest(ctx, w.CAB, "", assets.NewRequest{Type: assets.RequestMLA, RequestedState: "XA"})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(p *auth.Principal, f assets.RequestFilter) string {
			rs, err := w.S.Requests(ctx, p, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range rs {
				out = append(out, r.ID)
			}
			slices.Sort(out)
			return strings.Join(out, " ")
		}
		sorted := func(s ...string) string { slices.Sort(s); return strings.Join(s, " ") }
		for _, c := range []struct {
			who  string
			p    *auth.Principal
			want string
		}{
			{"Demoland's central authority", w.CA, sorted(sp.ID, overdue.ID, draft.ID)},
			{"Demoland's prosecutor", w.Prosecutor, sorted(sp.ID, overdue.ID, draft.ID)},
			{"Otherland's central authority", w.CAB, sorted(sp.ID, overdue.ID, back.ID)}, // what was sent to it, not Demoland's draft
			{"Thirdland's central authority", cac, ""},
			{"the auditor", w.Auditor, sorted(sp.ID, overdue.ID, draft.ID, back.ID)},
		} {
			if got := ids(c.p, assets.RequestFilter{}); got != c.want {
				t.Errorf("%s lists %q, want %q", c.who, got, c.want)
			}
		}
		for _, c := range []struct {
			p  *auth.Principal
			id string
		}{{w.CAB, draft.ID}, {cac, sp.ID}, {w.CA, back.ID}} {
			if _, err := w.S.RequestFile(ctx, c.p, c.id); errs.CodeOf(err) != errs.NotFound {
				t.Errorf("%s reads %s: %v, want not found", c.p.Jurisdiction, c.id, err)
			}
		}
		if got := ids(w.CA, assets.RequestFilter{Overdue: true}); got != overdue.ID {
			t.Errorf("overdue %q, want %s", got, overdue.ID)
		}
		if got := ids(w.CA, assets.RequestFilter{Type: assets.RequestSpontaneous}); got != sp.ID {
			t.Errorf("spontaneous %q", got)
		}
		f, err := w.S.RequestFile(ctx, w.CA, sp.ID)
		if err != nil || strings.Join(f.FollowedBy, " ") != overdue.ID {
			t.Errorf("the disclosure is followed by %v (%v), want %s", f.FollowedBy, err, overdue.ID)
		}
		// Executed: no longer overdue.
		for _, s := range []string{assets.StatusAcknowledged, assets.StatusUnderExecution, assets.StatusExecuted} {
			if _, err := w.S.RecordStatus(ctx, w.CAB, overdue.ID, assets.NewStatus{Status: s}); err != nil {
				t.Fatal(err)
			}
		}
		if got := ids(w.CA, assets.RequestFilter{Overdue: true}); got != "" {
			t.Errorf("overdue after execution: %q", got)
		}
		// Purpose limitation and onward sharing.
		if err := w.S.RecordUse(ctx, w.Prosecutor, overdue.ID, assets.NewUse{Purpose: "prosecution", Note: "Bank records filed in case XA-R1."}); err != nil {
			t.Fatal(err)
		}
		err = w.S.RecordUse(ctx, w.Prosecutor, overdue.ID, assets.NewUse{Purpose: "investigation"})
		refused(t, "a use for a purpose not stated", err, "purpose_limitation", "purpose")
		if e, _ := errs.As(err); e == nil || !e.Alert {
			t.Errorf("a use beyond the purpose raises no alert")
		}
		err = w.S.RecordUse(ctx, w.CA, overdue.ID, assets.NewUse{Purpose: "prosecution", ShareWith: "XC"})
		refused(t, "a sharing without consent", err, "onward_sharing", "share_with")
		if err := w.S.RecordUse(ctx, cac, overdue.ID, assets.NewUse{Purpose: "prosecution"}); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Thirdland records a use: %v", err)
		}
		f, _ = w.S.RequestFile(ctx, w.CA, overdue.ID)
		var kinds []string
		for _, e := range f.Events {
			kinds = append(kinds, e.Kind+":"+e.Status)
		}
		if got := strings.Join(kinds, " "); got != "drafted:draft status:sent status:acknowledged status:under_execution status:executed use:" {
			t.Errorf("timeline %s", got)
		}
		if len(f.Uses) != 1 || f.Uses[0].Purpose != "prosecution" {
			t.Errorf("uses %+v", f.Uses)
		}
	})
}

// TestDirectoryEntryKeepsItsState: a directory entry's id does not move to
// another state on re-import (refused naming the line and state, nothing
// recorded), and a draft whose entry is of another state than its
// requested state (moved before that rule) is incomplete, not sent.
func TestDirectoryEntryKeepsItsState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		d, err := w.S.DraftRequest(ctx, w.CA, "", complete(caseID, central))
		if err != nil {
			t.Fatal(err)
		}
		moved := "id,state,kind,name,legal_bases,treaty,languages,channels,email\n" +
			",XC,central_authority,Thirdland Ministry,uncac_46,,en,email,ca@thirdland.example\n" +
			central + ",XC,central_authority,Otherland Attorney General,uncac_46;bilateral_treaty,Demoland-Otherland MLA Treaty 2001,en;es,email,ca@otherland.example\n"
		// The administrator, who records any state's entries
		// (TestDirectoryOwnState), moves none either.
		im, err := w.S.ImportDirectory(ctx, w.Administrator, "moved.csv", strings.NewReader(moved))
		refused(t, "an entry moved to another state", err, "directory_state", "state")
		if im == nil || len(im.Refused) != 1 || im.Refused[0].Line != 3 || im.Refused[0].Field != "state" || im.Refused[0].Rule != "directory_state" {
			t.Errorf("refused lines %+v, want line 3, state", im)
		}
		if xc, _ := w.S.Directory(ctx, w.CA, assets.DirectoryFilter{State: "XC"}); len(xc) != 0 {
			t.Errorf("a refused file recorded %+v", xc)
		}
		_, err = w.S.RecordContact(ctx, w.CAB, assets.ContactPoint{ID: central, State: "XC", Kind: assets.EntryCentralAuthority, Name: "Moved",
			LegalBases: []string{assets.BasisUNCAC}, Languages: []string{"en"}, Email: "a@b.example"})
		refused(t, "an entry moved by the form", err, "directory_state", "state")
		// The same entry again in its own state is a new version.
		if _, err := w.S.ImportDirectory(ctx, w.Administrator, "same.csv", strings.NewReader(strings.Replace(moved, central+",XC", central+",XB", 1))); err != nil {
			t.Fatalf("a new version in the same state: %v", err)
		}

		// An entry moved before the rule: the draft naming it is incomplete.
		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "UPDATE assets_directory SET state = 'XC' WHERE id = ?", central); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		miss, err := w.S.Completeness(ctx, w.CA, d.ID)
		if err != nil || len(miss) != 1 || miss[0].Field != "requested_authority" {
			t.Errorf("a draft to an entry now of XC: missing %+v %v", miss, err)
		}
		_, _, err = w.S.SendRequest(ctx, w.CA, d.ID)
		refused(t, "sent to an entry now of XC", err, "incomplete", "requested_authority")
		if got, _ := w.S.Request(ctx, w.CA, d.ID); got.Status != assets.StatusDraft {
			t.Errorf("the request is %s", got.Status)
		}
	})
}

// TestUnknownStateRefused: ZZ, ISO 3166-1's code for an unknown or
// unspecified state, is refused where a real state is required (rule
// known_state, the field named) and nothing is recorded: the state a
// request is sent to, a state information is shared with, the state an
// asset is returned to, a directory entry's state. Where an unknown state
// is an answer (a person's country, the jurisdiction of an asset) it is
// accepted, as the other user-assigned codes are everywhere (XB here).
func TestUnknownStateRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		count := func(table string) int {
			t.Helper()
			var n int
			if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		c, a := w.caseWithAsset(t, "XA-ZZ1")
		requests, directory, measures := count("assets_requests"), count("assets_directory"), count("assets_measures")

		in := complete(caseID, central)
		in.RequestedState, in.RequestedAuthority = "ZZ", ""
		_, err := w.S.DraftRequest(ctx, w.Prosecutor, "", in)
		refused(t, "a request to ZZ", err, "known_state", "requested_state")
		if e, _ := errs.As(err); e == nil || !strings.Contains(e.Message, "unknown or unspecified") {
			t.Errorf("the refusal of ZZ does not say what ZZ is: %v", err)
		}
		if _, err := w.S.DraftRequest(ctx, w.Prosecutor, "", assets.NewRequest{Type: assets.RequestMLA, RequestedState: "XB"}); err != nil {
			t.Errorf("a request to XB (user-assigned): %v", err)
		}

		err = w.S.RecordUse(ctx, w.CA, "RQ-none", assets.NewUse{Purpose: "prosecution", ShareWith: "ZZ"})
		refused(t, "a sharing with ZZ", err, "known_state", "share_with")

		im, err := w.S.ImportDirectory(ctx, w.CA, "zz.csv", strings.NewReader("state,kind,name,legal_bases,treaty,languages,channels,email\n"+
			"ZZ,central_authority,Nowhere Ministry,uncac_46,,en,email,mla@nowhere.example\n"))
		refused(t, "a directory entry of ZZ", err, "known_state", "state")
		if im == nil || len(im.Refused) != 1 || im.Refused[0].Line != 2 || im.Refused[0].Rule != "known_state" {
			t.Errorf("a directory file with an entry of ZZ: %+v, want line 2 refused (known_state)", im)
		}

		ret := measure(assets.StepReturned, "2024-07-01", "5")
		ret.ReturnedTo = "ZZ"
		_, err = w.S.RecordMeasure(ctx, w.Prosecutor, a.ID, ret)
		refused(t, "a return to ZZ", err, "known_state", "returned_to")

		if got := []int{count("assets_requests"), count("assets_directory"), count("assets_measures")}; !slices.Equal(got, []int{requests + 1, directory, measures}) {
			t.Errorf("after the refusals: requests, directory entries, measures %v, want %v", got, []int{requests + 1, directory, measures})
		}

		if _, err := w.S.AddPerson(ctx, w.Prosecutor, c.ID, assets.NewPerson{Kind: "legal", Role: "owner", Country: "ZZ", Name: "Shell Company of Nowhere Ltd"}); err != nil {
			t.Errorf("a person of an unknown country: %v", err)
		}
		if _, err := w.S.IdentifyAsset(ctx, w.Prosecutor, c.ID, assets.NewAsset{Type: "bank_account", Jurisdiction: "ZZ", Description: "An account at a bank not yet located",
			Value: "10.00", Currency: "EUR", IdentifiedOn: "2024-03-10", Instrument: "Tracing order 2024/18", Authority: "Demoland Asset Recovery Office"}); err != nil {
			t.Errorf("an asset of an unknown jurisdiction: %v", err)
		}
	})
}

// TestRequestShownToRequestedState: the requested state's authorities read
// a request without the cases it serves, which are the requesting state's
// and "no asset-recovery case" to them (the request's page linked to each),
// and a disclosure's page lists only the requests following it that they
// may see, not the requesting state's drafts; the requesting state and the
// auditor read both.
func TestRequestShownToRequestedState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w, caseID, central, _ := requestWorld(t, dsn)
		spont := complete(caseID, central)
		spont.Type, spont.Assistance, spont.Nexus, spont.CaseIDs, spont.Urgent, spont.UrgencyReasons, spont.Deadline = assets.RequestSpontaneous, nil, "", nil, false, "", ""
		sp, err := w.S.DraftRequest(ctx, w.CA, "", spont)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, sp.ID); err != nil {
			t.Fatal(err)
		}
		sent, err := w.S.DraftRequest(ctx, w.CA, "", complete(caseID, central))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := w.S.SendRequest(ctx, w.CA, sent.ID); err != nil {
			t.Fatal(err)
		}
		follow := complete(caseID, central)
		follow.Follows = sp.ID
		draft, err := w.S.DraftRequest(ctx, w.CA, "", follow)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			who       string
			p         *auth.Principal
			token     string
			cases     bool
			followers string
		}{{"Otherland's central authority", w.CAB, w.CABToken, false, ""}, {"Demoland's central authority", w.CA, w.CAToken, true, draft.ID},
			{"the auditor", w.Auditor, "", true, draft.ID}} {
			f, err := w.S.RequestFile(ctx, c.p, sent.ID)
			if err != nil {
				t.Fatalf("%s reads %s: %v", c.who, sent.ID, err)
			}
			if got := len(f.CaseIDs) == 1 && f.CaseIDs[0] == caseID; got != c.cases || !c.cases && len(f.CaseIDs) != 0 {
				t.Errorf("%s reads the request's cases %v", c.who, f.CaseIDs)
			}
			rs, err := w.S.Requests(ctx, c.p, assets.RequestFilter{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rs {
				if !c.cases && len(r.CaseIDs) != 0 {
					t.Errorf("%s lists %s with the cases %v", c.who, r.ID, r.CaseIDs)
				}
			}
			d, err := w.S.RequestFile(ctx, c.p, sp.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(d.FollowedBy, " "); got != c.followers {
				t.Errorf("%s reads the disclosure followed by %q, want %q", c.who, got, c.followers)
			}
			if c.token != "" {
				if r := w.Must(t, 200, "GET", "/api/v1/assets/requests/"+sent.ID, c.token, nil); strings.Contains(string(r.Raw), caseID) != c.cases {
					t.Errorf("%s: GET the request: %s", c.who, r.Raw)
				}
			}
		}
	})
}
