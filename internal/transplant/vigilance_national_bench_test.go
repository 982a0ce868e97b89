package transplant_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/transplant"
)

// BenchmarkNationalSAEReport times an initial SAE report at national
// scale: a registry of a million transplanted organs (nationalFixture,
// generated once per process; CUSTOS_BENCH_ORGANS sets a smaller one), a
// donor whose eight organs went to eight centres, each centre with a
// notification address, so that the report records its eight
// notifications and queues seven e-mails (the reporting centre's own is
// acknowledged) in its one commit: the time from the call to everything
// queued, delivery excluded. The eight centres are local: notifications to
// foreign registries come with the cross-border exchange. In the same loop,
// alternately, a coordinator acknowledges one of the report's
// notifications, a command that writes one row, the same-run comparison:
//
//	go test -run='^$' -bench=NationalSAEReport -benchtime=100x -timeout=60m ./internal/transplant/
func BenchmarkNationalSAEReport(b *testing.B) {
	app := nationalFixture(b, "sqlite")
	ctx := context.Background()
	cs, err := dataset.Centres(ctx, app)
	if err != nil {
		b.Fatal(err)
	}
	f := &fixture{app: app, coord: dataset.Coordinators(cs)}
	admin := &auth.Principal{ID: "PR-BENCHADMIN", Role: auth.Admin}
	for _, c := range cs[:8] {
		if _, err := app.Authorities.SetContact(ctx, admin, c.ID, auth.Contact{Email: fmt.Sprintf("vigilance@%s.example", c.ID)}); err != nil {
			b.Fatal(err)
		}
	}
	donor, reporter := eightCentreDonor(b, f)
	in := transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: donor, Contact: "Bench vigilance desk",
		StartedAt: apptest.Hours(1), DetectedAt: apptest.Hours(0), Description: "Benchmark: suspected donor-derived infection.",
		ImmediateMeasures: "Benchmark: recipients screened."}
	var transplants int
	if err := app.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM transplants").Scan(&transplants); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d transplants; the donor's organs went to %d centres", transplants, 8)
	var report, ack time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		sae, err := app.Transplant.ReportSAE(ctx, reporter, in)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if len(sae.Notifications) != 8 || len(sae.Mail) != 7 {
			b.Fatalf("a report notified %d centres and queued %d e-mails, want 8 and 7", len(sae.Notifications), len(sae.Mail))
		}
		n := sae.Notifications[0]
		if n.CentreID == reporter.AuthorityID {
			n = sae.Notifications[1]
		}
		t2 := time.Now()
		if _, err := app.Transplant.AcknowledgeNotification(ctx, f.coord[n.CentreID], n.ID); err != nil {
			b.Fatal(err)
		}
		report, ack = report+t1.Sub(t0), ack+time.Since(t2)
	}
	b.ReportMetric(float64(report.Microseconds())/1000/float64(b.N), "report-ms/op")
	b.ReportMetric(float64(ack.Microseconds())/1000/float64(b.N), "ack-ms/op")
	b.ReportMetric(float64(report)/float64(ack), "report/ack")
}
