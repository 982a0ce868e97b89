package httpapi_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// EnvReplica names the variable holding the URL of a PostgreSQL streaming
// standby of CUSTOS_TEST_POSTGRES's cluster (.ci/run starts one on port
// 5433), for TestReadReplica.
const EnvReplica = "CUSTOS_TEST_POSTGRES_REPLICA"

// TestReadReplica serves a registry with --db-read on a real streaming
// replica and checks which routes read it: with the standby's replay paused,
// a donor recorded through the primary is missing from the traces and lists
// (they read the replica), is there for the same routes with "Custos-Read:
// primary", and for the routes that always read the primary (the donor's
// own record); once replay resumes, the replica's traces and lists show it.
func TestReadReplica(t *testing.T) {
	base := os.Getenv(EnvReplica)
	if base == "" {
		t.Skip("read replica not tested: set " + EnvReplica + " to a streaming standby of " + storetest.EnvPostgres + "'s cluster (.ci/run sets one up on port 5433)")
	}
	primary := storetest.Postgres(t)
	pu, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	ru, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := ru.Query()
	q.Set("search_path", pu.Query().Get("search_path")) // the test's schema, replicated
	ru.RawQuery = q.Encode()
	replica := ru.String()

	w := apptest.NewWorldWith(t, primary, func(cfg *server.Config) { cfg.ReadDSN = replica })
	get := func(path, token string, fromPrimary bool) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", w.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if fromPrimary {
			req.Header.Set(httpapi.ReadHeader, "primary")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	// waitReplica waits until the replica's trace of donor answers 200.
	waitReplica := func(donor string) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, _ := get("/api/v1/transplant/trace/donors/"+donor, w.Auditor, false)
			if code == 200 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the replica's trace of %s still answers %d after 20 s", donor, code)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	first := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	waitReplica(first) // the replica streams the primary's writes

	// Pause the standby's replay: from now on it answers as of this moment.
	rdb, err := sql.Open("pgx", replica)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	ctx := context.Background()
	if _, err := rdb.ExecContext(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatalf("pause the replica's replay (.ci/run grants it to custos): %v", err)
	}
	resumed := false
	resume := func() {
		if !resumed {
			resumed = true
			if _, err := rdb.ExecContext(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
				t.Errorf("resume the replica's replay: %v", err)
			}
		}
	}
	defer resume()
	for deadline := time.Now().Add(10 * time.Second); ; {
		var state string
		if err := rdb.QueryRowContext(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "paused" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica's replay is %s, not paused", state)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// A write goes to the primary while the replica stands still.
	second := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	for _, c := range []struct {
		path        string
		fromPrimary bool
		want        int
		listed      bool // the body names the second donor (checked on a 200)
	}{
		{"/api/v1/transplant/trace/donors/" + second, false, 404, false}, // a trace reads the replica
		{"/api/v1/transplant/trace/donors/" + second, true, 200, true},   // unless asked for the primary
		{"/api/v1/transplant/trace/donors/" + first, false, 200, false},  // what it had replayed is there
		{"/api/v1/transplant/donors", false, 200, false},                 // a list reads the replica
		{"/api/v1/transplant/donors", true, 200, true},
		{"/api/v1/transplant/donors/" + second, false, 200, true}, // one record always reads the primary
	} {
		code, body := get(c.path, w.Auditor, c.fromPrimary)
		if code != c.want || code == 200 && strings.Contains(body, second) != c.listed {
			t.Errorf("GET %s (primary %v): %d, second donor named %v; want %d, %v\n%s", c.path, c.fromPrimary, code, strings.Contains(body, second), c.want, c.listed, body)
		}
	}

	resume()
	waitReplica(second)
	if code, body := get("/api/v1/transplant/donors", w.Auditor, false); code != 200 || !strings.Contains(body, second) {
		t.Errorf("after replay resumed, the replica's list: %d, names the second donor %v", code, strings.Contains(body, second))
	}

	// A standby that does not hold this registry (here: another schema,
	// as a standby of another database or one that stopped streaming
	// before the registry was made would be) is refused at start, with
	// both readings and where to look.
	cfg := w.Cfg
	q.Set("search_path", "no_such_registry")
	ru.RawQuery = q.Encode()
	cfg.ReadDSN = ru.String()
	if app, err := server.Open(context.Background(), cfg); err == nil {
		app.Close()
		t.Error("a standby without the registry was accepted as its replica")
	} else if msg := err.Error(); !strings.Contains(msg, "is not a replica of this registry, or has not caught up") || !strings.Contains(msg, "pg_stat_replication") {
		t.Errorf("a standby without the registry: %v", err)
	}
}
