package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestStatsNoticesUnforgeable: what the statistics pages say a form just
// did (an import done, a file imported already, an import withdrawn, a
// mapping version published) comes from the server, never from the query
// string: editing the address to name a real import (?done=SI-…,
// ?unchanged=…, ?withdrawn=…, ?done=published) or a made-up notice shows
// no message, a notice is its submitter's alone, and it says what the
// registry holds now (an import withdrawn since is no longer "in the
// statistics").
func TestStatsNoticesUnforgeable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		e := apptest.Start(t, dsn)
		office := e.Must(t, 201, "POST", "/api/v1/authorities", e.Admin, map[string]any{"name": "Statistics Office", "kind": "statistics_office"}).Str("id")
		token := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Statistician", "role": "statistician", "authority_id": office}).Str("token")
		other := e.Must(t, 201, "POST", "/api/v1/principals", e.Admin, map[string]any{"name": "Colleague", "role": "statistician", "authority_id": office}).Str("token")
		st := newBrowser(t, e.URL)
		st.signIn(token)
		colleague := newBrowser(t, e.URL)
		colleague.signIn(other)
		noFlash := func(name string, b *browser, path string) {
			t.Helper()
			p := b.get(path)
			wantStatus(t, name, p, http.StatusOK)
			mustNotContain(t, name, p, `id="flash"`, "Imported ", "Nothing imported", "Withdrew ", "published.")
		}

		mapping := "national_code,national_label,iccs\nP-1,Murder,0101\nP-2,Theft,0502\n"
		p := st.postFile("/stats/mappings", url.Values{"id": {"penal"}, "name": {"Penal code"}}, "file", "map.csv", []byte(mapping))
		wantStatus(t, "mapping", p, http.StatusSeeOther)
		published := p.Header.Get("Location")
		mustContain(t, "mapping", st.get(published), `id="flash"`, "Version 1 published.")
		noFlash("forged published", st, "/stats/mappings/penal?done=published&version=1")
		noFlash("another's notice", colleague, published)

		data := []byte("offence_code,stage,unit,date,count\nP-1,police,offence,2024-01-05,3\nP-2,police,offence,2024-02,4\n")
		p = st.postFile("/stats/imports", url.Values{"mapping": {"penal"}}, "file", "records.csv", data)
		wantStatus(t, "import", p, http.StatusSeeOther)
		done := p.Header.Get("Location")
		id := statsImportIDs(t, e, token)[0]
		mustContain(t, "import", st.get(done), `id="flash"`, "Imported records.csv: 2 records counting 7")
		// The page after the form answered by another server of the
		// registry, as behind a load balancer: the same message.
		second := &browser{t: t, base: e.SecondServer(t), c: st.c, cookie: st.cookie}
		mustContain(t, "import, the page from the other server", second.get(done), `id="flash"`, "Imported records.csv: 2 records counting 7")
		p = st.postFile("/stats/imports", url.Values{"mapping": {"penal"}}, "file", "again.csv", data)
		wantStatus(t, "import again", p, http.StatusSeeOther)
		unchanged := p.Header.Get("Location")
		mustContain(t, "import again", st.get(unchanged), `id="flash"`, "Nothing imported: the file was imported already as "+id)

		// Addresses edited by hand: no message.
		for _, q := range []string{"done=" + id, "unchanged=" + id, "withdrawn=" + id, "notice=" + id,
			"notice=" + strings.Repeat("0", 32), "notice=" + strings.TrimPrefix(done, "/stats/imports?notice=") + "0"} {
			noFlash("forged "+q, st, "/stats/imports?"+q)
		}
		// A real notice, opened by another: no message.
		noFlash("another's notice", colleague, done)
		noFlash("another's notice", colleague, unchanged)

		p = st.post("/stats/imports/withdraw", url.Values{"import": {id}, "reason": {"sent twice"}})
		wantStatus(t, "withdraw", p, http.StatusSeeOther)
		mustContain(t, "withdraw", st.get(p.Header.Get("Location")), `id="flash"`, "Withdrew "+id+" (records.csv)")
		noFlash("forged withdrawn", colleague, "/stats/imports?withdrawn="+id)
		// The notices of the import, after its withdrawal: the registry's
		// state, not what the address once said.
		noFlash("done after the withdrawal", st, done)
		noFlash("unchanged after the withdrawal", st, unchanged)
	})
}
