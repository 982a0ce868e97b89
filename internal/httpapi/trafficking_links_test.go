package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestTraffickingLinkWithdrawn links transplantations to confirmed
// trafficking cases over HTTP, on SQLite and PostgreSQL, and withdraws the
// links: only the designated authority's assessor, with a reason of some
// length (each refusal names its rule and field and writes nothing); the
// withdrawal is its own log entry, keeping the reason; the report lists
// the links in force only; the payer check reads the procedure as payable
// again once no confirmed case's link holds; a link may be made again; and
// log verify replays it all. A withdrawn link stays on the report, apart
// from the links in force, with who made it, who withdrew it, when and
// why, and migration 26's step writes the same rows from the log as the
// projector did (an upgrade from schema 25). The link's refusals name the report as the
// other report routes do, and the regulator's list of payers' questions
// gives no answer on payment for a question that found nothing.
func TestTraffickingLinkWithdrawn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newTraffickingWorld(t, dsn)
		base := "/api/v1/transplant/trafficking"
		ins := w.Must(t, 201, "POST", "/api/v1/authorities", w.Admin, map[string]any{"name": "Demoland Health Insurance Fund", "kind": "payer"}).Str("id")
		payer := w.Must(t, 201, "POST", "/api/v1/principals", w.Admin, map[string]any{"name": "Claims officer", "role": "payer", "authority_id": ins}).Str("token")
		_, organs := procured(t, w.World)
		_, tx1 := transplantedAs(t, w.World, w.CoordA, w.CentreA, organs[0], "kidney")
		_, tx2 := transplantedAs(t, w.World, w.CoordA, w.CentreA, organs[1], "kidney")
		confirmed := func() string {
			ref := w.Must(t, 201, "POST", base+"/reports", w.CoordA, map[string]any{"indicators": []string{"finance.payment_to_donor"}, "text": "Synthetic report."}).Str("reference")
			w.Must(t, 200, "POST", base+"/reports/"+ref+"/status", w.Assessor, map[string]any{"status": transplant.TraffickingUnderAssessment})
			w.Must(t, 200, "POST", base+"/assessments/"+ref, w.Assessor, map[string]any{"conclusion": transplant.AssessmentConfirmed, "year": time.Now().Year(), "organ": "kidney",
				"donor":     map[string]any{"nationality": "XB", "sex": "male", "age_band": "25-34"},
				"recipient": map[string]any{"nationality": "XA", "sex": "female", "age_band": "45-54"}})
			return ref
		}
		ref, ref2 := confirmed(), confirmed()
		link := func(ref, tx string) *apptest.Response {
			return w.Do(t, "POST", base+"/reports/"+ref+"/transplants", w.Assessor, map[string]any{"transplant_id": tx})
		}
		payable := func(tx string) bool {
			t.Helper()
			return w.Must(t, 200, "POST", "/api/v1/transplant/payer-check", payer, map[string]any{"transplant_id": tx}).Body["procedure_payable"] == true
		}
		// The report's withdrawn links, as "transplantation: reason, by
		// the withdrawer, linked by the linker, withdrawal id".
		withdrawn := func(ref string) []string {
			t.Helper()
			var out []string
			ws, _ := w.Must(t, 200, "GET", base+"/reports/"+ref, w.Assessor, nil).Body["withdrawn_links"].([]any)
			for _, l := range ws {
				l := l.(map[string]any)
				if l["report_id"] != ref || l["linked_at"] == "" || l["withdrawn_at"] == "" || l["linked_at"].(string) > l["withdrawn_at"].(string) ||
					!strings.HasPrefix(l["link_id"].(string), "TL-") {
					t.Errorf("report %s's withdrawn link %v", ref, l)
				}
				out = append(out, fmt.Sprintf("%s: %s, by %s, linked by %s, %s", l["transplant_id"], l["reason"], l["withdrawn_by"], l["linked_by"], l["id"]))
			}
			return out
		}
		linked := func(ref string) []string {
			t.Helper()
			var out []string
			ls, _ := w.Must(t, 200, "GET", base+"/reports/"+ref, w.Assessor, nil).Body["transplants"].([]any)
			for _, l := range ls {
				out = append(out, l.(map[string]any)["transplant_id"].(string))
			}
			return out
		}

		// The link's refusals name the report by the field the other report
		// routes name it by, in the same words.
		received := w.Must(t, 201, "POST", base+"/reports", w.CoordA, map[string]any{"indicators": []string{"documents.false"}, "text": "Synthetic."}).Str("reference")
		missing := w.Do(t, "GET", base+"/reports/TR-0000000000", w.Assessor, nil)
		for _, c := range []struct {
			name, ref           string
			status              int
			rule, field, phrase string
		}{
			{"an unknown report", "TR-0000000000", 404, "reference", "id", missing.Str("error.message")},
			{"a report received, not yet assessed", received, 409, "assessment_status", "id", "is received"},
		} {
			r := link(c.ref, tx1)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field || !strings.Contains(r.Str("error.message"), c.phrase) {
				t.Errorf("a link to %s: %d %s; want %d, rule %s on %s, saying %q", c.name, r.Status, r.Raw, c.status, c.rule, c.field, c.phrase)
			}
		}
		if missing.Str("error.field") != "id" || !strings.Contains(missing.Str("error.message"), "no trafficking report") {
			t.Errorf("reading an unknown report: %s", missing.Raw)
		}

		for _, l := range [][2]string{{ref, tx1}, {ref2, tx1}, {ref, tx2}} {
			if r := link(l[0], l[1]); r.Status != 204 {
				t.Fatalf("link %s to %s: %d %s", l[0], l[1], r.Status, r.Raw)
			}
		}
		if payable(tx1) || payable(tx2) {
			t.Fatalf("transplantations linked to confirmed cases are payable")
		}

		// Refusals of a withdrawal: rule and field named, nothing written.
		withdraw := func(token, ref, tx, reason string) *apptest.Response {
			return w.Do(t, "POST", base+"/reports/"+ref+"/transplants/"+url.PathEscape(tx)+"/withdraw", token, map[string]any{"reason": reason})
		}
		const why = "Wrong transplantation: the case concerns the other kidney of this donor (synthetic)."
		size := w.LogSize(t)
		for _, c := range []struct {
			name, token, ref, tx, reason string
			status                       int
			rule, field                  string
		}{
			{"by the regulator", w.Regulator, ref, tx2, why, 403, "role", ""},
			{"by the centre's coordinator", w.CoordA, ref, tx2, why, 403, "role", ""},
			{"by a payer", payer, ref, tx2, why, 403, "role", ""},
			{"without a reason", w.Assessor, ref, tx2, "   ", 422, "required", "reason"},
			{"with a reason that says nothing", w.Assessor, ref, tx2, " error ", 422, "too_short", "reason"},
			{"with a reason holding a bidi override", w.Assessor, ref, tx2, "Wrong link\u202e, see file", 422, "bidi_character", "reason"},
			{"of an unknown report", w.Assessor, "TR-0000000000", tx2, why, 404, "reference", "id"},
			{"of a link never made", w.Assessor, ref2, tx2, why, 404, "reference", "transplant_id"},
			{"of a name, not a transplantation", w.Assessor, ref, "Jane Roe", why, 422, "id_format", "transplant_id"},
		} {
			r := withdraw(c.token, c.ref, c.tx, c.reason)
			if r.Status != c.status || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("a withdrawal %s: %d %s; want %d, rule %s on %s", c.name, r.Status, r.Raw, c.status, c.rule, c.field)
			}
			if strings.Contains(string(r.Raw), "Jane Roe") {
				t.Errorf("a withdrawal %s repeats the name: %s", c.name, r.Raw)
			}
		}
		if n := w.LogSize(t); n != size {
			t.Fatalf("the refused withdrawals grew the log from %d to %d", size, n)
		}

		// tx2 was linked to ref alone: withdrawn, it is payable again, and
		// the report no longer lists it.
		assessorID, _ := w.me(t, w.Assessor)
		r := withdraw(w.Assessor, ref, tx2, "  "+why+"\n")
		if r.Status != 200 || r.Str("report_id") != ref || r.Str("transplant_id") != tx2 || r.Str("reason") != why || r.Str("withdrawn_by") != assessorID ||
			!strings.HasPrefix(r.Str("link_id"), "TL-") || !strings.HasPrefix(r.Str("id"), "TW-") {
			t.Fatalf("the withdrawal: %d %s", r.Status, r.Raw)
		}
		leaves := leavesFrom(t, w.World, size)
		if len(leaves) != 1 {
			t.Fatalf("the withdrawal wrote %d leaves, want 1", len(leaves))
		}
		var leaf struct {
			Type string `json:"type"`
			By   string `json:"by"`
			Data struct {
				LinkID       string `json:"link_id"`
				ReportID     string `json:"report_id"`
				TransplantID string `json:"transplant_id"`
				Reason       string `json:"reason"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(leaves[0]), &leaf); err != nil {
			t.Fatal(err)
		}
		if leaf.Type != transplant.TypeTraffickingCaseLinkWithdrawn || leaf.By != assessorID || leaf.Data.Reason != why || leaf.Data.LinkID != r.Str("link_id") ||
			leaf.Data.ReportID != ref || leaf.Data.TransplantID != tx2 {
			t.Errorf("the withdrawal's leaf: %s", leaves[0])
		}
		if got := linked(ref); len(got) != 1 || got[0] != tx1 {
			t.Errorf("report %s lists %v after the withdrawal, want [%s]", ref, got, tx1)
		}
		first := fmt.Sprintf("%s: %s, by %s, linked by %s, %s", tx2, why, assessorID, assessorID, r.Str("id"))
		if got := withdrawn(ref); len(got) != 1 || got[0] != first || r.Str("linked_by") != assessorID || r.Str("linked_at") == "" {
			t.Errorf("report %s's withdrawn links %q, want [%q]; the withdrawal's answer %s", ref, got, first, r.Raw)
		}
		if got := withdrawn(ref2); len(got) != 0 {
			t.Errorf("report %s, whose links hold, lists withdrawn links %q", ref2, got)
		}
		if !payable(tx2) {
			t.Errorf("a transplantation whose only link was withdrawn is not payable")
		}
		if r := withdraw(w.Assessor, ref, tx2, why); r.Status != 404 || r.Str("error.field") != "transplant_id" {
			t.Errorf("a link withdrawn twice: %d %s", r.Status, r.Raw)
		}

		// tx1 is linked to two confirmed cases: one withdrawn, the other
		// holds; both withdrawn, it is payable.
		w.Must(t, 200, "POST", base+"/reports/"+ref+"/transplants/"+tx1+"/withdraw", w.Assessor, map[string]any{"reason": why})
		if payable(tx1) {
			t.Errorf("a transplantation still linked to a confirmed case is payable once another link is withdrawn")
		}
		w.Must(t, 200, "POST", base+"/reports/"+ref2+"/transplants/"+tx1+"/withdraw", w.Assessor, map[string]any{"reason": why})
		if !payable(tx1) {
			t.Errorf("a transplantation with every link withdrawn is not payable")
		}
		if got := linked(ref); len(got) != 0 {
			t.Errorf("report %s lists %v with every link withdrawn", ref, got)
		}

		// Linked again: a new link, in force.
		if r := link(ref, tx2); r.Status != 204 {
			t.Fatalf("a link made again: %d %s", r.Status, r.Raw)
		}
		if got := linked(ref); len(got) != 1 || got[0] != tx2 || payable(tx2) {
			t.Errorf("linked again: report lists %v, payable %v", got, payable(tx2))
		}
		// The withdrawals stay listed, oldest first, the link made again
		// apart from them.
		if got := withdrawn(ref); len(got) != 2 || got[0] != first || !strings.HasPrefix(got[1], tx1+": ") {
			t.Errorf("report %s's withdrawn links %q, want tx2's then tx1's", ref, got)
		}
		if got := withdrawn(ref2); len(got) != 1 || !strings.HasPrefix(got[0], tx1+": ") {
			t.Errorf("report %s's withdrawn links %q, want tx1's", ref2, got)
		}
		// A link to an organ from abroad transplanted here, withdrawn.
		im := apptest.ImportedOrgans(t, w.World, dsn)
		if r := link(ref2, im.Held); r.Status != 204 {
			t.Fatalf("a link to an organ from abroad: %d %s", r.Status, r.Raw)
		}
		w.Must(t, 200, "POST", base+"/reports/"+ref2+"/transplants/"+im.Held+"/withdraw", w.Assessor, map[string]any{"reason": why})
		if got := withdrawn(ref2); len(got) != 2 || !strings.HasPrefix(got[1], im.Held+": ") {
			t.Errorf("report %s's withdrawn links %q, want tx1's then %s's", ref2, got, im.Held)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Errorf("log verify: %v", rep.Problems)
		}

		// An upgrade from schema 25: the withdrawals were in the log
		// alone. Migration 26's step writes the rows the projector wrote.
		ctx := context.Background()
		dump := func() []string {
			t.Helper()
			rows, err := w.App.DB.Read().Query(ctx, `SELECT id, link_id, report_id, transplant_id, linked_at, linked_by, link_log_index, reason,
				withdrawn_at, withdrawn_by, log_index FROM trafficking_case_withdrawals ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			out, err := store.Rows(rows, func(r store.Scanner, s *string) error {
				var x [11]string
				err := r.Scan(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], &x[6], &x[7], &x[8], &x[9], &x[10])
				*s = strings.Join(x[:], "|")
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		projected := dump()
		if len(projected) != 4 {
			t.Fatalf("trafficking_case_withdrawals holds %d rows, want 4: %q", len(projected), projected)
		}
		refill(t, w.World, "trafficking_case_withdrawals", transplant.Module.SchemaSteps[26])
		if got := dump(); !slices.Equal(got, projected) {
			t.Errorf("migration 26's step wrote %q, want what the projector wrote, %q", got, projected)
		}
		if rep := w.Verify(t); !rep.OK() {
			t.Errorf("log verify after migration 26's step: %v", rep.Problems)
		}

		// A question that found nothing: no answer on payment beside its
		// reason; a found one keeps it.
		w.Must(t, 404, "POST", "/api/v1/transplant/payer-check", payer, map[string]any{"transplant_id": "TX-0000000000"})
		checks := w.Must(t, 200, "GET", "/api/v1/transplant/payer-checks", w.Regulator, nil).Body["checks"].([]any)
		notFound, found := checks[0].(map[string]any), checks[1].(map[string]any)
		if notFound["reason"] != transplant.ReasonNotFound || notFound["procedure_payable"] != nil || notFound["follow_up_care_payable"] != nil || notFound["medicines_payable"] != nil {
			t.Errorf("a question that found nothing reads %v", notFound)
		}
		if found["procedure_payable"] != false || found["reason"] != transplant.ReasonTraffickingConfirmed || found["medicines_payable"] != true {
			t.Errorf("a question answered reads %v", found)
		}
	})
}
