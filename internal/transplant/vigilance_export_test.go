package transplant_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestNotificationsExportClosed: the notifications' CSV and XLSX exports end
// with report_closed_at and closed_unacknowledged, as the API gives them. A
// closed report's notification acknowledged before the closure carries the
// closure's time and false; one left unacknowledged, true; an open report's
// notification, neither.
func TestNotificationsExportClosed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newVigilWorld(t, dsn)
		s := w.svc
		closing, err := s.ReportSAE(ctx, w.coordA, newSAE(w.donor))
		if err != nil {
			t.Fatal(err)
		}
		closed, err := s.RecordFinalReport(ctx, w.coordA, closing.ID, transplant.FinalReport{Conclusion: "not_confirmed",
			Outcome: "Batch found sterile.", CorrectiveActions: "None needed: the batch was sterile."})
		if err != nil {
			t.Fatal(err)
		}
		open, err := s.ReportSAE(ctx, w.regulator, newSAE(w.donor))
		if err != nil {
			t.Fatal(err)
		}
		// Each notification's two last cells, as the export should write them.
		want := map[string][2]string{}
		for _, n := range closed.Notifications {
			want[n.ID] = [2]string{closed.FinalReportedAt, map[bool]string{true: "true", false: "false"}[n.CentreID == w.CentreB]}
		}
		for _, n := range open.Notifications {
			want[n.ID] = [2]string{"", "false"}
		}
		if len(want) != 4 {
			t.Fatalf("%d notifications, want 4 (centres A and B of each report)", len(want))
		}
		for _, format := range []string{"csv", "xlsx"} {
			req, err := s.Export(w.regulator, transplant.ListNotifications, url.Values{"format": {format}})
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Columns[len(req.Columns)-2:]; !slices.Equal(got, []string{"report_closed_at", "closed_unacknowledged"}) {
				t.Fatalf("%s: the last columns are %v", format, got)
			}
			var buf bytes.Buffer
			if _, err := export.Export(ctx, w.App.DB, w.App.Writer, w.regulator.Actor(), req, func(export.Meta) {}, &buf); err != nil {
				t.Fatal(err)
			}
			var rows [][]string
			if format == "csv" {
				rd := csv.NewReader(&buf)
				rd.FieldsPerRecord = -1
				if rows, err = rd.ReadAll(); err != nil {
					t.Fatal(err)
				}
			} else {
				f, err := excelize.OpenReader(&buf)
				if err != nil {
					t.Fatal(err)
				}
				rows, err = f.GetRows(transplant.ListNotifications)
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
			}
			at := slices.IndexFunc(rows, func(r []string) bool { return slices.Equal(r, req.Columns) })
			if at < 0 {
				t.Fatalf("%s: no row of the columns %v in\n%v", format, req.Columns, rows)
			}
			seen := map[string][2]string{}
			for _, r := range rows[at+1:] {
				if len(r) == 0 || !strings.HasPrefix(r[0], "NT-") {
					continue
				}
				r = append(r, make([]string, len(req.Columns)-len(r))...) // excelize leaves a row's empty cells at its end out
				seen[r[0]] = [2]string{r[len(req.Columns)-2], r[len(req.Columns)-1]}
			}
			for id, wv := range want {
				if gv, ok := seen[id]; !ok || gv != wv {
					t.Errorf("%s: notification %s ends with %q (listed %t), want %q", format, id, gv, ok, wv)
				}
			}
			if len(seen) != len(want) {
				t.Errorf("%s: %d notifications exported, want %d", format, len(seen), len(want))
			}
		}
	})
}
