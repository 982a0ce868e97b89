package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserFollowUpWorklist drives the follow-up worklist in headless
// Chromium: a coordinator sees their centre's follow-ups due and overdue,
// opens the form from an overdue line (filled in with its person and
// month), is refused with the rule and field of a graft for the wrong
// person, records the follow-up, and the line leaves the worklist; another
// centre's coordinator sees none of it; the regulator sees the share done
// on time.
func TestBrowserFollowUpWorklist(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	ctx := context.Background()
	w := apptest.NewWorld(t, storetest.SQLite(t))
	svc := w.App.Opened[transplant.Module.Name].Service.(*transplant.Service)
	coordA := w.Principal(t, w.CoordA)
	ago := func(n int) string { return time.Now().UTC().AddDate(0, 0, -n).Format(transplant.DateLayout) }
	abroad := func(nid string, days int) string {
		a, err := svc.RecordAbroad(ctx, coordA, transplant.NewAbroad{Kind: transplant.AbroadTransplant, Name: "Worklist Patient (synthetic)", NationalID: nid,
			Sex: "male", DateOfBirth: "1971-04-04", Country: "TR", Organ: "kidney", PerformedOn: ago(days), KnownThrough: "insurer",
			DonorType: "living", DonorRelation: "unrelated", DonorNationality: "unknown", PaymentReported: "unknown", MedicalRecords: "yes"})
		if err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
	// A1: its 6-month follow-up on time, its 12-month one overdue. A2: its
	// 6-month one due.
	a1, a2 := abroad("XA-WL-1", 400), abroad("XA-WL-2", 200)
	if _, err := svc.RecordFollowUp(ctx, coordA, transplant.NewFollowUp{SubjectID: a1, DueMonth: 6, FollowedUpOn: ago(400 - 183), VitalStatus: "alive",
		GraftStatus: "functioning", Complications: []string{"none"}, PsychosocialCare: "provided"}); err != nil {
		t.Fatal(err)
	}

	b := newTab(t, path, w.URL)
	b.signIn(w.CoordA)
	b.click("open the worklist", `nav a[href="/transplant/followups"]`, 200)
	if due, over := b.text("#worklist-counts .due-count"), b.text("#worklist-counts .overdue-count"); !strings.HasSuffix(due, "1") || !strings.HasSuffix(over, "1") {
		t.Fatalf("the worklist counts %q and %q, want one due and one overdue", due, over)
	}
	if n := b.count("#worklist tbody tr"); n != 2 {
		t.Errorf("the worklist has %d lines, want 2", n)
	}
	if cls := b.eval(`document.getElementById('fu-` + a1 + `-12').className`); cls != "followup-overdue" {
		t.Errorf("A1's 12-month line is %q, want overdue", cls)
	}
	if cls := b.eval(`document.getElementById('fu-` + a2 + `-6').className`); cls != "followup-due" {
		t.Errorf("A2's 6-month line is %q, want due", cls)
	}
	b.screenshot("followups-worklist.png")
	b.click("record from the overdue line", `#fu-`+a1+`-12 a.record-followup`, 200)
	if s, m := b.value("followup-subject_id"), b.value("followup-due_month"); s != a1 || m != "12" {
		t.Fatalf("the form opened with %q and %q, want %s and 12", s, m, a1)
	}
	b.fill(map[string]string{"followup-followed_up_on": ago(1), "followup-vital_status": "alive", "followup-graft_status": "not_applicable",
		"followup-complications": "infection", "followup-psychosocial_care": "offered_declined"})
	b.click("a graft not applicable to a recipient", `#followup button[type="submit"]`, 422)
	if got := b.text("#followup .form-error"); !strings.Contains(got, "graft_status") {
		t.Errorf("the refusal says %q, want the rule graft_status", got)
	}
	b.fill(map[string]string{"followup-graft_status": "functioning"})
	b.click("record the follow-up", `#followup button[type="submit"]`, 200)
	if flash := b.text("#flash"); !strings.Contains(flash, a1) {
		t.Errorf("the flash after recording says %q", flash)
	}
	if over := b.text("#worklist-counts .overdue-count"); !strings.HasSuffix(over, "0") {
		t.Errorf("after the follow-up the worklist counts %q, want none overdue", over)
	}
	if n := b.count("#fu-" + a1 + "-12"); n != 0 {
		t.Error("the recorded follow-up is still on the worklist")
	}
	fs, err := svc.FollowUps(ctx, coordA, a1)
	if err != nil || len(fs) != 2 || fs[1].Complications[0] != "infection" || fs[1].CentreID != w.CentreA {
		t.Errorf("A1's follow-ups after the form: %+v, %v", fs, err)
	}

	other := newTab(t, path, w.URL)
	other.signIn(w.CoordB)
	other.open("/transplant/followups", 200)
	if n := other.count("#worklist"); n != 0 {
		t.Error("centre B's coordinator sees centre A's worklist")
	}
	other.open("/transplant/followups?centre_id="+w.CentreA, 403)

	reg := newTab(t, path, w.URL)
	reg.signIn(w.Regulator)
	reg.open("/transplant/followups", 200)
	if n := reg.count("#worklist tbody tr"); n != 1 {
		t.Errorf("the regulator's worklist has %d lines, want A2's", n)
	}
	if row := reg.text("#timeliness tbody"); !strings.Contains(row, "50 %") {
		t.Errorf("the regulator's share on time: %q, want 50 %% (A1's 6 on time, its 12 late)", row)
	}
}
