package httpapi_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/docstest"
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
	primary, replica, ru := replicaURLs(t)
	q := ru.Query()

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
	resume := pauseReplay(t, replica)

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

	// The standby read through another schema (search_path) than the
	// primary's is refused at start, saying which.
	cfg := w.Cfg
	q.Set("search_path", "no_such_registry")
	ru.RawQuery = q.Encode()
	cfg.ReadDSN = ru.String()
	if app, err := server.Open(context.Background(), cfg); err == nil {
		app.Close()
		t.Error("a standby without the registry was accepted as its replica")
	} else if msg := err.Error(); !strings.Contains(msg, "reads the schema") || !strings.Contains(msg, "give --db-read the search_path of --db") {
		t.Errorf("a standby read through another schema: %v", err)
	}
}

// replicaURLs returns the URL of a fresh schema on the primary
// (CUSTOS_TEST_POSTGRES) and the URL of the same schema on its standby
// (CUSTOS_TEST_POSTGRES_REPLICA), parsed too; it skips the test without a
// standby.
func replicaURLs(t *testing.T) (primary, replica string, ru *url.URL) {
	t.Helper()
	base := os.Getenv(EnvReplica)
	if base == "" {
		t.Skip("read replica not tested: set " + EnvReplica + " to a streaming standby of " + storetest.EnvPostgres + "'s cluster (.ci/run sets one up on port 5433)")
	}
	primary = storetest.Postgres(t)
	pu, err := url.Parse(primary)
	if err != nil {
		t.Fatal(err)
	}
	ru, err = url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := ru.Query()
	q.Set("search_path", pu.Query().Get("search_path")) // the test's schema, replicated
	ru.RawQuery = q.Encode()
	return primary, ru.String(), ru
}

// pauseReplay pauses the standby's replay (.ci/run lets custos) until the
// function it returns, which the test's end also calls, resumes it.
func pauseReplay(t *testing.T, replica string) (resume func()) {
	t.Helper()
	rdb, err := sql.Open("pgx", replica)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := rdb.ExecContext(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		rdb.Close()
		t.Fatalf("pause the replica's replay (.ci/run grants it to custos): %v", err)
	}
	resume = sync.OnceFunc(func() {
		if _, err := rdb.ExecContext(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
			t.Errorf("resume the replica's replay: %v", err)
		}
		rdb.Close()
	})
	t.Cleanup(resume)
	for deadline := time.Now().Add(10 * time.Second); ; {
		var state string
		if err := rdb.QueryRowContext(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state == "paused" {
			return resume
		}
		if time.Now().After(deadline) {
			t.Fatalf("the replica's replay is %s, not paused", state)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReadReplicaRefused gives serve --db-read databases that are not a
// streaming standby of --db's database, and checks that each is refused at
// start with what is wrong and what to do: the primary itself (not in
// recovery); another database of the standby's cluster (as the operator's
// older copy of the registry left by a failed custos move was: a standby
// of the right server, in recovery, but another database, whose lists
// would never see a write); and the right standby whose replay is paused
// while the primary writes (it does not catch up in --db-read-max-lag).
func TestReadReplicaRefused(t *testing.T) {
	primary, replica, ru := replicaURLs(t)
	w := apptest.NewWorld(t, primary)
	ctx := context.Background()
	refused := func(name, dsn string, maxLag time.Duration, want ...string) {
		t.Helper()
		cfg := w.Cfg
		cfg.ReadDSN, cfg.ReplicaMaxLag = dsn, maxLag
		app, err := server.Open(ctx, cfg)
		if err == nil {
			app.Close()
			t.Errorf("%s: accepted as the read replica", name)
			return
		}
		for _, s := range want {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("%s: %v\nwant it to say %q", name, err, s)
			}
		}
	}
	refused("the primary", primary, 0, "is not a standby (pg_is_in_recovery() is false)")

	// Another database, made on the primary: the standby replays it.
	other, _ := storetest.NewDatabase(t, "custos_copy_", "TEMPLATE template0 ENCODING 'UTF8' LOCALE 'C'")
	ou := *ru
	ou.Path = "/" + other
	q := ou.Query()
	q.Del("search_path")
	ou.RawQuery = q.Encode()
	for deadline := time.Now().Add(20 * time.Second); ; {
		db, err := sql.Open("pgx", ou.String())
		if err == nil {
			err = db.PingContext(ctx)
			db.Close()
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby has not replayed the database %s: %v", other, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	pu, _ := url.Parse(primary)
	refused("another database of the standby", ou.String(), 0, "is the database "+other, "but --db is the database "+strings.TrimPrefix(pu.Path, "/"),
		"give --db-read the database name of --db")

	// The right standby, its replay paused, the primary written to.
	resume := pauseReplay(t, replica)
	w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA))
	refused("a standby that does not catch up", replica, 500*time.Millisecond, "has not caught up with the primary's", "pg_get_wal_replay_pause_state()")
	resume()
}

// TestReadReplicaSetAside serves with a standby whose replay is then paused
// while the primary keeps being written: once it is more than
// --db-read-max-lag behind, the traces and lists read the primary (a donor
// written after the pause is traced), /metrics says the replica is set
// aside; once replay resumes and it has caught up, it is read again.
func TestReadReplicaSetAside(t *testing.T) {
	primary, replica, _ := replicaURLs(t)
	w := apptest.NewWorldWith(t, primary, func(cfg *server.Config) {
		cfg.ReadDSN, cfg.ReplicaMaxLag = replica, 400*time.Millisecond
	})
	metric := func() string {
		t.Helper()
		resp, err := http.Get(w.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "custos_read_replica_in_use ") {
				return strings.TrimPrefix(l, "custos_read_replica_in_use ")
			}
		}
		t.Fatal("/metrics has no custos_read_replica_in_use")
		return ""
	}
	waitMetric := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); metric() != want; {
			if time.Now().After(deadline) {
				t.Fatalf("custos_read_replica_in_use is %s after 20 s, want %s", metric(), want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitMetric("1")
	resume := pauseReplay(t, replica)
	donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")
	waitMetric("0")
	req, _ := http.NewRequest("GET", w.URL+"/api/v1/transplant/trace/donors/"+donor, nil)
	req.Header.Set("Authorization", "Bearer "+w.Auditor)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("with the replica set aside, the trace of a donor written after its replay paused: %d, want 200 from the primary", resp.StatusCode)
	}
	resume()
	waitMetric("1")
}

// TestReplicaRoutesDocumented compares the routes marked Replica (each one
// by name: no route reads a replica by inference from its shape) with the
// first column of the table of docs/operations.md, "What reads the
// replica": a route that starts or stops reading a replica, which may lag
// the primary, changes what a client sees after its own write, and the
// operators' documentation must say so. A path there written .../x is
// under the registry of the cell's first path (/api/v1/transplant/x). Each
// is a GET (a write reads the primary), and is served at the path the doc
// gives.
func TestReplicaRoutesDocumented(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	var marked []string
	for _, rt := range routes(w) {
		if rt.Replica {
			marked = append(marked, rt.Method+" "+rt.Path)
		}
	}
	var documented []string
	for _, d := range docstest.Docs(t) {
		if d.Name != "operations.md" && !strings.HasSuffix(d.Name, "/operations.md") {
			continue
		}
		i := slices.IndexFunc(d.Lines, func(l string) bool {
			return strings.HasPrefix(l, "What reads the replica, and what always reads the primary")
		})
		if i < 0 {
			t.Fatal("docs/operations.md has no table of what reads the replica")
		}
		code := regexp.MustCompile("`([^`]+)`")
		for _, l := range d.Lines[i+1:] {
			if l == "" && len(documented) > 0 {
				break
			}
			cells := strings.Split(l, "|")
			if !strings.HasPrefix(l, "|") || len(cells) < 3 || strings.Contains(cells[1], "---") {
				continue
			}
			base := ""
			for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
				method, p, ok := strings.Cut(m[1], " ")
				if !ok {
					method, p = "GET", m[1]
				}
				if rest, short := strings.CutPrefix(p, "..."); short {
					if base == "" {
						t.Fatalf("docs/operations.md: %s before a full path in its cell", m[1])
					}
					p = base + rest
				} else if parts := strings.SplitN(p, "/", 5); len(parts) == 5 {
					base = path.Join("/", parts[1], parts[2], parts[3]) // /api/v1/<registry>
				}
				documented = append(documented, method+" "+p)
			}
		}
	}
	slices.Sort(marked)
	slices.Sort(documented)
	if len(marked) == 0 || !slices.Equal(marked, documented) {
		t.Errorf("routes marked Replica:\n  %s\nthe replica's column of docs/operations.md:\n  %s", strings.Join(marked, "\n  "), strings.Join(documented, "\n  "))
	}
	for _, m := range marked {
		if !strings.HasPrefix(m, "GET ") {
			t.Errorf("%s reads a replica: a write reads the primary", m)
		}
	}
}
