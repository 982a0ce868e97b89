package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// leavesFrom returns the log leaves from index from on, as text.
func leavesFrom(t *testing.T, w *apptest.World, from int) []string {
	t.Helper()
	rows, err := w.App.DB.Read().Query(context.Background(), "SELECT data FROM log_leaves WHERE idx >= ? ORDER BY idx", int64(from))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// matchIDs returns the ids of a search's matches, each with what it matched
// by.
func matchIDs(r *apptest.Response) []string {
	var out []string
	ms, _ := r.Body["matches"].([]any)
	for _, m := range ms {
		m := m.(map[string]any)
		var by []string
		for _, b := range m["matched_by"].([]any) {
			by = append(by, b.(string))
		}
		out = append(out, m["id"].(string)+" "+m["record"].(string)+" "+strings.Join(by, "+"))
	}
	return out
}

// TestFindPerson finds donors and recipients by national identifier (typed
// another way) and by name with date of birth (in another case, order and
// without accents), across centres; refuses the roles that may not open
// personal data and incomplete searches; and checks that each search is one
// leaf of the read log that names the records found and the purpose, but
// holds neither the identifier nor the name nor their keyed hashes.
func TestFindPerson(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		d := apptest.DeceasedDonor(w.CentreA)
		d["name"], d["national_id"], d["date_of_birth"] = "Zoë Ångström-Lind (synthetic)", "XA-555-777-001", "1961-03-04"
		donor := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, d).Str("id")
		rc := apptest.Recipient(w.CentreB, "kidney")
		rc["name"], rc["national_id"], rc["date_of_birth"] = "Zoe Angstrom Lind (synthetic)", "XA-555-777-001", "1961-03-04"
		rc["not_duplicate_reason"] = "unused: no recipient looks like her"
		recipient := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordB, rc).Str("id")
		other := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA)).Str("id")

		search := func(token string, body map[string]any) *apptest.Response {
			t.Helper()
			return w.Do(t, "POST", "/api/v1/transplant/persons/search", token, body)
		}
		const purpose = "is she already registered?"
		for _, c := range []struct {
			name  string
			token string
			body  map[string]any
			want  []string
		}{
			{"national id typed another way, by centre B's coordinator", w.CoordB, map[string]any{"national_id": " xa-555-777-001 ", "purpose": purpose},
				[]string{donor + " donor national_id", recipient + " recipient national_id"}},
			{"name and birth date, by the regulator", w.Regulator, map[string]any{"name": "LIND, zoe angstrom (SYNTHETIC)", "date_of_birth": "1961-03-04", "purpose": purpose},
				[]string{donor + " donor name_date_of_birth", recipient + " recipient name_date_of_birth"}},
			{"both", w.CoordA, map[string]any{"national_id": "XA-555-777-001", "name": "Zoë Ångström-Lind (synthetic)", "date_of_birth": "1961-03-04", "purpose": purpose},
				[]string{donor + " donor national_id+name_date_of_birth", recipient + " recipient national_id+name_date_of_birth"}},
			{"another birth date", w.CoordA, map[string]any{"name": "Zoë Ångström-Lind (synthetic)", "date_of_birth": "1961-03-05", "purpose": purpose}, nil},
			{"an unknown national id", w.CoordA, map[string]any{"national_id": "XA-000", "purpose": purpose}, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := logSize(t, w)
				r := search(c.token, c.body)
				if r.Status != 200 || strings.Join(matchIDs(r), ", ") != strings.Join(c.want, ", ") {
					t.Fatalf("%d %v, want %v: %s", r.Status, matchIDs(r), c.want, truncate(r.Raw))
				}
				leaves := leavesFrom(t, w, before)
				if len(leaves) != 1 || !strings.Contains(leaves[0], `"type":"privacy.personal_data_searched"`) || !strings.Contains(leaves[0], purpose) {
					t.Fatalf("the search wrote %d leaves, want one read-log leaf with its purpose: %v", len(leaves), leaves)
				}
				for _, id := range c.want {
					if !strings.Contains(leaves[0], strings.Fields(id)[0]) {
						t.Errorf("the search's leaf does not name %s: %s", id, leaves[0])
					}
				}
				// Whole values, not fragments a timestamp or an identifier can hold.
				for _, secret := range []string{"Zo", "ngstr", "555-777", "555777", "1961-03-04", "19610304", `"BI-`, `"PS-`} {
					if strings.Contains(leaves[0], secret) {
						t.Errorf("the search's leaf holds %q: %s", secret, leaves[0])
					}
				}
			})
		}
		var reads int
		if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT COUNT(*) FROM personal_data_reads WHERE subject_id = ? AND purpose LIKE 'search by %'", donor).Scan(&reads); err != nil {
			t.Fatal(err)
		}
		if reads != 3 {
			t.Errorf("the read log holds %d searches that found %s, want 3", reads, donor)
		}
		_ = other

		before := logSize(t, w)
		for _, c := range []struct {
			name              string
			token             string
			body              map[string]any
			status            int
			code, rule, field string
		}{
			{"an auditor", w.Auditor, map[string]any{"national_id": "XA-555-777-001", "purpose": purpose}, 403, "forbidden", "role", ""},
			{"the administrator", w.Admin, map[string]any{"national_id": "XA-555-777-001", "purpose": purpose}, 403, "forbidden", "role", ""},
			{"nothing to search by", w.CoordA, map[string]any{"purpose": purpose}, 422, "invalid", "required", "national_id"},
			{"a name without birth date", w.CoordA, map[string]any{"name": "Zoë", "purpose": purpose}, 422, "invalid", "required", "date_of_birth"},
			{"a birth date without name", w.CoordA, map[string]any{"date_of_birth": "1961-03-04", "purpose": purpose}, 422, "invalid", "required", "name"},
			{"a name of no letters", w.CoordA, map[string]any{"name": "--", "date_of_birth": "1961-03-04", "purpose": purpose}, 422, "invalid", "name_letters", "name"},
			{"a bad date", w.CoordA, map[string]any{"name": "Zoë", "date_of_birth": "04/03/1961", "purpose": purpose}, 422, "invalid", "date_format", "date_of_birth"},
			{"no purpose", w.CoordA, map[string]any{"national_id": "XA-555-777-001"}, 422, "invalid", "required", "purpose"},
			{"an unknown field", w.CoordA, map[string]any{"national_id": "XA-555-777-001", "purpose": purpose, "nid": "x"}, 400, "malformed", "unknown_field", "nid"},
		} {
			r := search(c.token, c.body)
			if r.Status != c.status || r.Str("error.code") != c.code || (c.rule != "" && r.Str("error.rule") != c.rule) || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s/%s field %q, want %d %s/%s field %q: %s", c.name, r.Status, r.Str("error.code"), r.Str("error.rule"),
					r.Str("error.field"), c.status, c.code, c.rule, c.field, truncate(r.Raw))
			}
			if strings.Contains(string(r.Raw), "555-777") || strings.Contains(string(r.Raw), "555777") {
				t.Errorf("%s: the refusal repeats the national id: %s", c.name, r.Raw)
			}
		}
		if n := logSize(t, w); n != before {
			t.Errorf("refused searches wrote %d leaves", n-before)
		}
		verifyOK(t, w.Env)
	})
}

// TestLikelyDuplicate registers a donor, then another donor with the same
// national identifier, and another with the same name and date of birth:
// each is refused with likely_duplicate naming the first, and the refusal is
// a logged search (the registrant learnt where the person is). With
// duplicate_of the new record is linked to the first (it takes its
// pseudonym); with not_duplicate_reason it is registered on its own, and the
// reason is in its log leaf. Recipients are checked against recipients.
func TestLikelyDuplicate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := apptest.NewWorld(t, dsn)
		first := apptest.DeceasedDonor(w.CentreA)
		first["kind"], first["cause_of_death"], first["date_of_death"] = "living", nil, nil
		first["name"], first["national_id"] = "Ana Ruiz (synthetic)", "XA-900-1"
		firstID := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordA, first).Str("id")
		firstPS := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+firstID, w.Auditor, nil).Str("donor.person_pseudonym")

		sameID := apptest.DeceasedDonor(w.CentreB)
		sameID["name"], sameID["national_id"] = "Someone Else (synthetic)", "xa-900-1"
		sameName := apptest.DeceasedDonor(w.CentreB)
		sameName["name"], sameName["national_id"], sameName["date_of_birth"] = "RUIZ ANA (synthetic)", "XA-900-2", first["date_of_birth"]
		noID := with(sameName, "national_id", "")
		for _, c := range []struct {
			name  string
			body  map[string]any
			field string
		}{
			{"same national id", sameID, "national_id"},
			{"same name and birth date", sameName, "name"},
			{"same name and birth date, no national id", noID, "name"},
		} {
			before := logSize(t, w)
			r := w.Do(t, "POST", "/api/v1/transplant/donors", w.CoordB, c.body)
			if r.Status != 409 || r.Str("error.rule") != "likely_duplicate" || r.Str("error.field") != c.field ||
				!strings.Contains(r.Str("error.message"), firstID) {
				t.Errorf("%s: %d %s/%s: %s, want 409 likely_duplicate on %s naming %s", c.name, r.Status, r.Str("error.rule"), r.Str("error.field"), r.Raw, c.field, firstID)
			}
			for _, secret := range []string{"Ruiz", "RUIZ", "900-1", "900-2", "9001", "9002"} {
				if strings.Contains(string(r.Raw), secret) {
					t.Errorf("%s: the refusal holds %q: %s", c.name, secret, r.Raw)
				}
			}
			leaves := leavesFrom(t, w, before)
			if len(leaves) != 1 || !strings.Contains(leaves[0], "privacy.personal_data_searched") || !strings.Contains(leaves[0], firstID) {
				t.Errorf("%s: the refusal wrote %v, want one logged search that found %s", c.name, leaves, firstID)
			}
		}

		// Linked: the same person, a second donor record.
		linked := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordB, with(sameID, "duplicate_of", firstID))
		if linked.Str("duplicate_of") != firstID || linked.Str("person_pseudonym") != firstPS {
			t.Errorf("linked donor: %s, want duplicate_of %s and pseudonym %s", linked.Raw, firstID, firstPS)
		}
		// Another person: registered on its own, the reason in the log.
		const reason = "checked the hospital file: another woman, born the same day"
		before := logSize(t, w)
		own := w.Must(t, 201, "POST", "/api/v1/transplant/donors", w.CoordB, with(sameName, "not_duplicate_reason", reason))
		if own.Str("not_duplicate_reason") != reason || own.Str("person_pseudonym") == firstPS {
			t.Errorf("donor with a reason: %s", own.Raw)
		}
		if l := leavesFrom(t, w, before); len(l) != 1 || !strings.Contains(l[0], reason) {
			t.Errorf("the reason is not in the registration's leaf: %v", l)
		}
		got := w.Must(t, 200, "GET", "/api/v1/transplant/donors/"+own.Str("id"), w.Auditor, nil)
		if got.Str("donor.not_duplicate_reason") != reason {
			t.Errorf("the donor read back: %s", got.Raw)
		}

		// Refusals of what a registration says about duplicates.
		before = logSize(t, w)
		for _, c := range []struct {
			name              string
			body              map[string]any
			status            int
			code, rule, field string
		}{
			{"both", with(with(sameID, "duplicate_of", firstID), "not_duplicate_reason", reason), 422, "invalid", "one_of", "duplicate_of"},
			{"an unknown record", with(sameID, "duplicate_of", "DN-NOSUCH"), 404, "not_found", "reference", "duplicate_of"},
			{"a blank reason", with(sameID, "not_duplicate_reason", "  "), 409, "conflict", "likely_duplicate", "national_id"},
		} {
			r := w.Do(t, "POST", "/api/v1/transplant/donors", w.CoordB, c.body)
			if r.Status != c.status || r.Str("error.code") != c.code || r.Str("error.rule") != c.rule || r.Str("error.field") != c.field {
				t.Errorf("%s: %d %s/%s field %q, want %d %s/%s field %q: %s", c.name, r.Status, r.Str("error.code"), r.Str("error.rule"),
					r.Str("error.field"), c.status, c.code, c.rule, c.field, truncate(r.Raw))
			}
		}
		if n := logSize(t, w) - before; n != 1 {
			t.Errorf("the refused registrations wrote %d leaves, want 1 (the blank reason's duplicate check)", n)
		}

		// A recipient is checked against recipients: the donor's national id
		// does not stop her being listed, a second listing does.
		rc := apptest.Recipient(w.CentreA, "kidney")
		rc["national_id"] = "XA-900-1"
		rcID := w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, rc).Str("id")
		r := w.Do(t, "POST", "/api/v1/transplant/recipients", w.CoordA, with(rc, "organ_needed", "pancreas"))
		if r.Status != 409 || r.Str("error.rule") != "likely_duplicate" || !strings.Contains(r.Str("error.message"), rcID) {
			t.Errorf("a second listing: %d %s", r.Status, r.Raw)
		}
		w.Must(t, 201, "POST", "/api/v1/transplant/recipients", w.CoordA, with(with(rc, "organ_needed", "pancreas"), "duplicate_of", rcID))
		verifyOK(t, w.Env)
	})
}
