package transplant_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/transplant"
)

// BenchmarkNationalSAEReport times an initial SAE report at national
// scale: a registry of a million transplanted organs (nationalFixture,
// generated once per process; CUSTOS_BENCH_ORGANS sets a smaller one), a
// donor whose eight organs went to eight centres, each centre with a
// notification address, so that the report records its eight
// notifications and queues seven e-mails (the reporting centre's own is
// acknowledged) in its one commit: the time from the call to everything
// queued, delivery excluded. The eight centres are local
// (BenchmarkNationalSAEReportCrossBorder has two abroad). In the same loop,
// alternately, a coordinator acknowledges one of the report's
// notifications, a command that writes one row, the same-run comparison:
//
//	go test -run='^$' -bench=NationalSAEReport -benchtime=100x -timeout=60m ./internal/transplant/
func BenchmarkNationalSAEReport(b *testing.B) {
	nationalSAE(b, nil)
}

// BenchmarkNationalSAEReportCrossBorder is BenchmarkNationalSAEReport for
// the donor whose organs went to 8 centres in 3 countries: six
// centres of this registry (XA) and two foreign registries, registered
// exchange peers of XB and XC, to which the donor's pancreas and intestine
// were exported (ExportOrgan). A report records its eight notifications
// (six centres, two registries) and queues five e-mails in its commit,
// then queues the two messages to the foreign registries in the exchange
// outbox (sendSAENotices); the time runs until ReportSAE returns, with
// both outbox rows written. Delivery is excluded: the peers' addresses
// resolve nowhere, and the outbox rows are what is counted:
//
//	go test -run='^$' -bench=NationalSAEReportCrossBorder -benchtime=100x -timeout=60m ./internal/transplant/
func BenchmarkNationalSAEReportCrossBorder(b *testing.B) {
	nationalSAE(b, []string{"XB", "XC"})
}

// nationalSAE runs the national SAE benchmark for a donor whose organs
// went, for each country of abroad, one to a foreign registry of that
// country, and the others to local centres.
func nationalSAE(b *testing.B, abroad []string) {
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
	var peers []string
	purposes := []string{transplant.PurposeTraceability, transplant.PurposeVigilance}
	for _, country := range abroad {
		pub, _, err := ed25519.GenerateKey(rand.Reader) // a key no run has registered
		if err != nil {
			b.Fatal(err)
		}
		pr, err := app.Exchange.RegisterPeer(ctx, admin, exchange.NewPeer{Name: "Bench registry " + country + " (synthetic)", Jurisdiction: country,
			URL: "https://" + country + ".registry.invalid", PublicKey: exchange.EncodeKey(pub), SendPurposes: purposes, ReceivePurposes: purposes})
		if err != nil {
			b.Fatal(err)
		}
		peers = append(peers, pr.ID)
	}
	donor, reporter := eightCentreDonor(b, f, peers...)
	in := transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: donor, Contact: "Bench vigilance desk",
		StartedAt: apptest.Hours(1), DetectedAt: apptest.Hours(0), Description: "Benchmark: suspected donor-derived infection.",
		ImmediateMeasures: "Benchmark: recipients screened."}
	var transplants int
	if err := app.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM transplants").Scan(&transplants); err != nil {
		b.Fatal(err)
	}
	local := 8 - len(peers)
	b.Logf("%d transplants; the donor's organs went to %d centres here and %d registries abroad", transplants, local, len(peers))
	// queued counts the reports' messages to the foreign registries in the
	// exchange outbox.
	queued := func() int {
		n := 0
		for _, peer := range peers {
			var k int
			if err := app.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM exchange_outbox WHERE peer_id = ? AND type = ?", peer, transplant.MsgSAENotification).Scan(&k); err != nil {
				b.Fatal(err)
			}
			n += k
		}
		return n
	}
	var report, ack time.Duration
	reports := 0
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		in.StartedAt = anotherEvent(i)
		t0 := time.Now()
		sae, err := app.Transplant.ReportSAE(ctx, reporter, in)
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		reports++
		if len(sae.Notifications) != 8 || len(sae.Mail) != local-1 || len(sae.ForeignRegistries) != len(peers) {
			b.Fatalf("a report notified %d (%d registries abroad) and queued %d e-mails, want 8 (%d) and %d",
				len(sae.Notifications), len(sae.ForeignRegistries), len(sae.Mail), len(peers), local-1)
		}
		if n := queued(); n != reports*len(peers) {
			b.Fatalf("%d messages to the foreign registries in the outbox after %d reports, want %d", n, reports, reports*len(peers))
		}
		// A local centre's notification, not the reporter's own (already
		// acknowledged) nor a foreign registry's (no coordinator here
		// acknowledges it): the report lists them by centre, the foreign
		// registries' (no centre) first.
		i := slices.IndexFunc(sae.Notifications, func(n transplant.Notification) bool {
			return n.PeerID == "" && n.CentreID != reporter.AuthorityID
		})
		if i < 0 {
			b.Fatalf("the report notified no local centre but the reporter's: %+v", sae.Notifications)
		}
		n := sae.Notifications[i]
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
