package transplant_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/custos-project/custos/bench/dataset"
	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/cputime"
	"github.com/custos-project/custos/internal/transplant"
)

// eightCentreDonor records, through the service, a deceased donor of the
// first centre whose eight organs (two kidneys, two lungs, liver, heart,
// pancreas, intestine) were each transplanted at another of eight centres.
// Given exchange peers, the last len(peers) organs are instead exported,
// one to each peer (ExportOrgan), and the others transplanted at as many
// centres; the reporter is a coordinator of the last of those centres.
func eightCentreDonor(b *testing.B, f *fixture, peers ...string) (donor string, reporter *auth.Principal) {
	b.Helper()
	ctx := context.Background()
	s := f.app.Transplant
	cs, err := dataset.Centres(ctx, f.app)
	if err != nil {
		b.Fatal(err)
	}
	if len(cs) < 8 {
		b.Fatalf("the dataset has %d centres, fewer than 8", len(cs))
	}
	must := func(err error) {
		b.Helper()
		if err != nil {
			b.Fatal(err)
		}
	}
	first := f.coord[cs[0].ID]
	in := deceasedDonor(cs[0].ID)
	in.NationalID = fmt.Sprintf("XB%d", time.Now().UnixNano()) // a person no run has registered
	d, err := s.RegisterDonor(ctx, first, in)
	must(err)
	_, err = s.RecordConsent(ctx, first, d.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: daysAgo(2),
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true})
	must(err)
	organs := []string{"kidney", "kidney", "lung", "lung", "liver", "heart", "pancreas", "intestine"}
	pr, err := s.RecordProcurement(ctx, first, transplant.NewProcurement{DonorID: d.ID, ProcuredAt: apptest.Hours(10), Organs: organs})
	must(err)
	local := len(pr.Organs) - len(peers)
	for k, o := range pr.Organs {
		if k >= local {
			_, err := s.ExportOrgan(ctx, first, transplant.NewExport{OrganID: o.ID, PeerID: peers[k-local], DestinationCentre: fmt.Sprintf("Bench foreign centre %d", k)})
			must(err)
			continue
		}
		c := f.coord[cs[k].ID]
		rin := recipient(cs[k].ID, o.Organ)
		rin.NationalID = fmt.Sprintf("XB%d-%d", time.Now().UnixNano(), k)
		r, err := s.RegisterRecipient(ctx, c, rin)
		must(err)
		ta, err := s.AuthorizeTransplant(ctx, c, authorization(o.ID, r.ID, cs[k].ID))
		must(err)
		_, err = s.RecordTransplant(ctx, c, transplant.NewTransplant{OrganID: o.ID, RecipientID: r.ID, CentreID: cs[k].ID,
			PerformedAt: apptest.Hours(1), AuthorizationID: ta.ID})
		must(err)
	}
	return d.ID, f.coord[cs[local-1].ID]
}

// BenchmarkSAEReport times an initial SAE report, from the command to its
// durable commit with every notification recorded: a donor whose eight
// organs went to eight centres, in the benchmark registry (20,000
// transplanted organs on SQLite, 4,000 on PostgreSQL). Its same-run
// comparison is BenchmarkRecordTransplant/clients=1, a command of one row.
//
//	go test -run='^$' -bench='SAEReport|RecordTransplant/.*clients=1' -benchtime=200x ./internal/transplant/
func BenchmarkSAEReport(b *testing.B) {
	for _, be := range backends() {
		b.Run(be, func(b *testing.B) {
			f := fixtureFor(b, be)
			donor, reporter := eightCentreDonor(b, f)
			ctx := context.Background()
			in := transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: donor, Contact: "Bench vigilance desk",
				StartedAt: apptest.Hours(1), DetectedAt: apptest.Hours(0), Description: "Benchmark: suspected donor-derived infection.",
				ImmediateMeasures: "Benchmark: recipients screened."}
			b.ResetTimer()
			cpu0, cpuOK := cputime.Process()
			for i := 0; b.Loop(); i++ {
				in.StartedAt = anotherEvent(i)
				sae, err := f.app.Transplant.ReportSAE(ctx, reporter, in)
				if err != nil {
					b.Fatal(err)
				}
				if len(sae.Notifications) != 8 {
					b.Fatalf("a report notified %d centres, want 8", len(sae.Notifications))
				}
			}
			if cpu1, ok := cputime.Process(); ok && cpuOK {
				b.ReportMetric(float64((cpu1-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			}
		})
	}
}

// anotherEvent is the start of the benchmark's i-th reported event: an hour
// ago, less i seconds, so that each report is of another event (one event
// is reported once; the same again is refused, duplicate_report).
func anotherEvent(i int) string {
	return time.Now().UTC().Add(-time.Hour - time.Duration(i)*time.Second).Format(time.RFC3339)
}
