package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestBrowserGODT records a double kidney and a liver whose explant is given
// as a domino liver to a second recipient, then the regulator counts the
// GODT report of the year in the browser: the table's cells, the chart
// (an SVG with its table), the download links; a population of 0 is refused
// with its rule and field. The trace shows the procedure and the domino
// donor both ways.
func TestBrowserGODT(t *testing.T) {
	path := findChromium()
	if path == "" {
		t.Skip("no Chromium found: set CUSTOS_CHROMIUM to a Chromium or Chrome binary, or install chromium, to run the browser test")
	}
	ctx := context.Background()
	w := apptest.NewWorld(t, storetest.SQLite(t))
	svc := w.App.Opened[transplant.Module.Name].Service.(*transplant.Service)
	coord := w.Principal(t, w.CoordA)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	// The events are dated a few hours back; in the first hours of a year
	// they would straddle it and count in two reports, so then they are
	// dated back from the last second of the year before.
	base := time.Now().UTC()
	if base.Add(-6*time.Hour).Year() != base.Year() {
		base = time.Date(base.Year(), time.January, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
	}
	at := func(h int) string { return base.Add(-time.Duration(h) * time.Hour).Format(time.RFC3339) }
	yesterday := base.AddDate(0, 0, -1).Format("2006-01-02")
	d, err := svc.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorBrainDeath, Name: "GODT Donor (synthetic)", NationalID: "XA-GODT-1",
		Sex: "male", BloodGroup: "A", DateOfBirth: "1968-02-03", CauseOfDeath: "trauma", DateOfDeath: yesterday,
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative", OrganFunction: "normal"})
	must(err)
	_, err = svc.RecordConsent(ctx, coord, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: yesterday,
		AssessedBy: "coordinator", AssessorIndependent: true, Voluntary: true, Informed: true})
	must(err)
	pr, err := svc.RecordProcurement(ctx, coord, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: at(5), Organs: []string{"kidney", "kidney", "liver"}})
	must(err)
	n := 0
	recipient := func(organ string, organs ...string) string {
		n++
		r, err := svc.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: w.CentreA, Name: "GODT Recipient " + strconv.Itoa(n) + " (synthetic)",
			NationalID: "XA-GODT-R" + strconv.Itoa(n), Sex: "female", BloodGroup: "A", DateOfBirth: "1980-01-0" + strconv.Itoa(n), Residence: "XA",
			OrganNeeded: organ, ListedOn: "2024-01-01"})
		must(err)
		for _, o := range organs {
			_, err := svc.AuthorizeTransplant(ctx, coord, transplant.NewTransplantAuthorization{OrganID: o, RecipientID: r.ID, CentreID: w.CentreA,
				AuthorizedBy: "Dr. M", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true})
			must(err)
		}
		return r.ID
	}
	k1, k2, liver := pr.Organs[0].ID, pr.Organs[1].ID, pr.Organs[2].ID
	_, err = svc.RecordProcedure(ctx, coord, transplant.NewProcedure{Kind: transplant.ProcedureDoubleKidney, OrganIDs: []string{k1, k2},
		RecipientID: recipient("kidney", k1, k2), PerformedAt: at(2)})
	must(err)
	first := recipient("liver", liver)
	dom, err := svc.RecordProcedure(ctx, coord, transplant.NewProcedure{Kind: transplant.ProcedureSingle, OrganIDs: []string{liver},
		RecipientID: first, PerformedAt: at(2), DominoLiver: true, DominoConsent: &transplant.NewConsent{Kind: transplant.ConsentLiving,
			GivenOn: yesterday, AssessedBy: "Independent living donor advocate",
			AssessorIndependent: true, Voluntary: true, Informed: true}})
	must(err)
	explant := dom.Domino.Procurement.Organs[0].ID
	second := recipient("liver", explant)
	_, err = svc.RecordTransplant(ctx, coord, transplant.NewTransplant{OrganID: explant, RecipientID: second, PerformedAt: at(1)})
	must(err)
	year := at(1)[:4]

	b := newTab(t, path, w.URL)
	b.signIn(w.Regulator)
	b.open("/transplant/godt", 200)
	b.fill(map[string]string{"godt-year": year, "godt-population": "2000000"})
	b.click("count the report", `#godt button[type=submit]`, 200)
	for field, want := range map[string]string{"dd_kidney_tx": "1", "total_kidney_tx": "1", "dd_liver_tx": "1", "domino_liver_tx": "1",
		"total_liver_tx": "2", "total_actual_dd": "1", "total_utilized_dd": "1", "total_heart_tx": "0"} {
		cells := strings.Fields(b.text("#godt-" + field))
		if len(cells) != 3 || cells[1] != want {
			t.Errorf("row %s: %q, want the count %s", field, cells, want)
		}
	}
	if got := strings.Fields(b.text("#godt-domino_liver_tx")); len(got) == 3 && got[2] != "0.50" {
		t.Errorf("domino_liver_tx per million: %q, want 0.50", got[2])
	}
	if got := strings.Fields(b.text("#godt-travel")); len(got) < 2 || got[len(got)-2] != "0" {
		t.Errorf("travel row: %q, want the count 0 (no resident treated abroad here)", got)
	}
	if got := b.eval(`String(document.querySelectorAll("#fig-transplant-godt svg").length)`); got != "1" {
		t.Errorf("%s SVG charts in the figure, want 1", got)
	}
	if got := b.text("#fig-transplant-godt .figure-table"); !strings.Contains(got, "Domino") {
		t.Errorf("the chart's table says %q, want the domino series", got)
	}
	if got := b.eval(`Array.from(document.querySelectorAll("#godt-report .downloads a")).map(a => a.textContent).join(",")`); got != "CSV,XLSX" {
		t.Errorf("downloads %q, want CSV,XLSX", got)
	}
	b.screenshot("godt.png")

	b.fill(map[string]string{"godt-population": "0"})
	b.click("a population of 0", `#godt button[type=submit]`, 422)
	if rule := b.text("#refusal-rule"); rule != "godt_population" {
		t.Errorf("refusal rule %q, want godt_population", rule)
	}

	// The trace from the first recipient reaches the second, and back.
	b.open("/transplant/trace?q="+first, 200)
	if got := b.text("main"); !strings.Contains(got, "Domino donor") || !strings.Contains(got, second) {
		t.Errorf("trace of %s does not show the domino donation to %s:\n%s", first, second, got)
	}
	b.open("/transplant/trace?q="+k1, 200)
	if got := b.text("main"); !strings.Contains(got, "double kidney") || !strings.Contains(got, explant) {
		t.Errorf("trace of %s does not show the double kidney and the domino liver %s:\n%s", k1, explant, got)
	}
}
