package httpapi_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestForgedRepeatCountNotShown: a repeat count written into alert_repeats
// behind custos's back (without the key file) is never shown: the alert
// list and the alert's page read the count with its MAC checked and show
// the repeats without it, before the once-a-minute sweep discards it. The
// forgery is said once in the server's log however often the alert is
// read, and raised once as an alert (repeat_count_discarded) by the sweep.
func TestForgedRepeatCountNotShown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		clk := &testClock{t: time.Now().UTC()}
		logs := &apptest.LogBuffer{}
		w := apptest.NewWorldWith(t, dsn, func(c *server.Config) {
			c.Now = clk.Now
			c.Logger = slog.New(slog.NewJSONHandler(logs, nil))
		})
		ctx := context.Background()
		// A refusal and two retries within the period: one alert, two
		// repeats counted outside the log.
		for range 3 {
			misfiled(t, w)
		}
		as := alertList(t, w, "?rule=own_centre")
		if len(as) != 1 || as[0]["repeats"] != 2.0 || as[0]["repeats_unlogged"] != 2.0 {
			t.Fatalf("alerts %v, want one with 2 repeats not yet logged", as)
		}
		id := as[0]["id"].(string)

		tx, err := w.App.DB.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "UPDATE alert_repeats SET count = 100000 WHERE alert_id = ?", id); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			as := alertList(t, w, "?rule=own_centre")
			if len(as) != 1 || as[0]["repeats"] != 0.0 || as[0]["repeats_unlogged"] != nil {
				t.Fatalf("the alert list after a forged count: %v, want no repeats shown", as)
			}
			a := w.Must(t, 200, "GET", "/api/v1/alerts/"+id, w.Regulator, nil)
			if a.Body["repeats"] != 0.0 || a.Body["repeats_unlogged"] != nil || strings.Contains(string(a.Raw), "100000") {
				t.Fatalf("the alert's page after a forged count: %s, want no repeats shown", a.Raw)
			}
		}
		const said = "does not carry this registry's MAC for the alert as it stands"
		if n := strings.Count(logs.String(), said); n != 1 {
			t.Fatalf("the forged count is said %d times in the server's log, want once:\n%s", n, logs.String())
		}
		// The sweep discards it and raises the one alert.
		clk.Add(time.Minute)
		for range 2 {
			if _, err := w.App.Writer.LogRepeats(ctx); err != nil {
				t.Fatal(err)
			}
		}
		disc := alertList(t, w, "?rule=repeat_count_discarded")
		if len(disc) != 1 || !strings.Contains(disc[0]["message"].(string), "the count of 100000 repeats of alert "+id) {
			t.Fatalf("alerts of the discarded count: %v, want one naming it", disc)
		}
		if n := strings.Count(logs.String(), said); n != 1 {
			t.Fatalf("after the sweep the forged count is said %d times, want once", n)
		}
		verifyOK(t, w.Env)
	})
}
