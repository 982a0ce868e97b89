package transplant

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
)

// TestMigration5FillsTheNameIndexes makes a registry as the previous
// version left it (transplant schema 4: no name indexes), with a donor, a
// recipient, a donor of unknown birth date and a donor whose personal data
// was erased; migrates it to version 5, and checks that the first
// FillPersonNames writes the index of the two that have a name and a date of
// birth to index, from the sealed data, so that a look-up by name and date of
// birth finds them; that a second run (a restart, another server) does
// nothing; and that the erasure of a subject removes its index.
func TestMigration5FillsTheNameIndexes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		v4 := fstest.MapFS{}
		for _, n := range []string{"001_transplant.sql", "002_derived_status.sql", "003_list_indexes.sql", "004_list_keys.sql"} {
			b, err := fs.ReadFile(schemaFS, "schema/"+n)
			if err != nil {
				t.Fatal(err)
			}
			v4[n] = &fstest.MapFile{Data: b}
		}
		db := storetest.Open(t, dsn, store.CoreSchema(), store.Schema{Module: "transplant", FS: v4})
		vault, err := privacy.NewVault(bytes.Repeat([]byte{7}, privacy.KeySize))
		if err != nil {
			t.Fatal(err)
		}
		tx, err := db.BeginWrite(ctx)
		if err != nil {
			t.Fatal(err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		now := time.Now()
		exec("INSERT INTO settings (name, value) VALUES ('jurisdiction', 'XA')")
		exec("INSERT INTO authorities (id, name, kind, jurisdiction, city, created_at, log_index) VALUES ('AU-C', 'Centre', 'transplant_centre', 'XA', 'X', '2025-01-01', 1)")
		donor := func(id, dob string, name string) {
			t.Helper()
			ref := "SU-" + id[3:]
			var birth any = dob
			if dob == "" {
				birth = nil
			}
			exec(`INSERT INTO donors (id, kind, subject_ref, person_pseudonym, centre_id, sex, blood_group, date_of_birth, estimated_age, iv_drug_use,
				malignancy, transmissible_disease, hiv, hcv, hbv, organ_function, recorded_at, recorded_by, log_index)
				VALUES (?, 'living', ?, ?, 'AU-C', 'female', 'O', ?, 50, 'no', 'no', 'no', 'negative', 'negative', 'negative', 'ok', '2025-01-02', 'PR-X', 2)`,
				id, ref, vault.Pseudonym("subject", ref), birth)
			if _, err := vault.Store(ctx, tx, ref, privacy.Person{Name: name}, now); err != nil {
				t.Fatal(err)
			}
		}
		donor("DN-OLD", "1961-03-04", "Zoë Ångström (synthetic)")
		donor("DN-NODOB", "", "Zoë Ångström (synthetic)")
		donor("DN-ERASED", "1961-03-04", "Zoë Ångström (synthetic)")
		exec(`INSERT INTO recipients (id, subject_ref, person_pseudonym, centre_id, sex, blood_group, date_of_birth, residence, organ_needed,
			listed_on, recorded_at, recorded_by, log_index) VALUES ('RC-OLD', 'SU-OLDR', 'PS-R', 'AU-C', 'male', 'A', '1950-01-01', 'XA', 'kidney', '2024-01-01', '2025-01-02', 'PR-X', 3)`)
		if _, err := vault.Store(ctx, tx, "SU-OLDR", privacy.Person{Name: "Ola Berg (synthetic)", NationalID: "XA1"}, now); err != nil {
			t.Fatal(err)
		}
		if err := vault.Erase(ctx, tx, "SU-ERASED"); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		applied, err := db.Migrate(ctx, []store.Schema{store.CoreSchema(), {Module: "transplant", FS: Module.Schema}})
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 22 || applied[0].Module != "transplant" || applied[0].Version != 5 || applied[1].Version != 6 || applied[2].Version != 7 || applied[3].Version != 8 ||
			applied[6].Version != 11 || applied[9].Version != 14 || applied[10].Version != 15 || applied[11].Version != 16 || applied[12].Version != 17 || applied[13].Version != 18 ||
			applied[14].Version != 19 || applied[15].Version != 20 || applied[16].Version != 21 ||
			applied[17].Version != 22 || applied[18].Version != 23 || applied[19].Version != 24 || applied[20].Version != 25 ||
			applied[21].Version != 26 {
			t.Fatalf("migrating from transplant 4 applied %+v, want transplant 5, then 6 (the dashboards' indexes), 7 (vigilance), 8 (trafficking reports), 9 (across borders), 10 (hand-offs), 11 (trafficking assessments), 12 (procedures), 13 (follow-up, waiting list, abroad), 14 (reimbursements, audits, payer checks), 15 (the reports' rows), 16 (fewer indexes of transplants), 17 (the payers' questions), 18 (records by subject), 19 (imports assigned to centres), 20 (imports transplanted, in the reports' rows), 21 (trafficking cases of imports, their indexes), 22 (the centre holding an import, resolved at receipt), 23 (the history of an import's assignments), 24 (its first holder, the imports' blood groups), 25 (one donation number for a donation's procurements), 26 (trafficking cases' links withdrawn)", applied)
		}
		// 15 filled the old registration's equity row from its tables: born
		// 1950-01-01, listed 2024-01-01 (74, 65+), waiting.
		var band, status string
		var abroad int
		var wait *int64
		if err := db.Read().QueryRow(ctx, "SELECT age_band, status, abroad, wait_months FROM equity_registrations WHERE recipient_id = 'RC-OLD'").Scan(&band, &status, &abroad, &wait); err != nil {
			t.Fatal(err)
		}
		if band != "65+" || status != WaitlistActive || abroad != 0 || wait != nil {
			t.Errorf("RC-OLD's equity row: %s, %s, abroad %d, wait %v", band, status, abroad, wait)
		}
		s := &Service{DB: db, Vault: vault}
		count := func() int {
			var n int
			if err := db.Read().QueryRow(ctx, "SELECT COUNT(*) FROM person_names").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := count(); n != 0 {
			t.Fatalf("the migration wrote %d name indexes; SQL cannot key them", n)
		}
		n, err := s.FillPersonNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n != 2 || count() != 2 {
			t.Fatalf("FillPersonNames wrote %d indexes (%d in the table), want 2: the old donor and recipient, not the one of unknown birth date nor the erased one", n, count())
		}
		for _, c := range []struct{ record, name, dob, want string }{
			{"donor", "ANGSTROM zoe (synthetic)", "1961-03-04", "DN-OLD"},
			{"recipient", "ola  berg (SYNTHETIC)", "1950-01-01", "RC-OLD"},
			{"donor", "Zoë Ångström (synthetic)", "1961-03-05", ""},
		} {
			ms, err := matches(ctx, db.Read(), c.record, s.keysOf(ctx, db.Read(), "", c.name, c.dob))
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(ms) > 0 {
				got = ms[0].ID
			}
			if len(ms) > 1 || got != c.want {
				t.Errorf("%s %q born %s: found %+v, want %q", c.record, c.name, c.dob, ms, c.want)
			}
		}
		if n, err := s.FillPersonNames(ctx); err != nil || n != 0 {
			t.Errorf("a second FillPersonNames: %d, %v; want nothing to do", n, err)
		}
		if err := vault.Erase(ctx, db.Read(), "SU-OLD"); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Errorf("after erasing a subject, %d name indexes, want 1: the index goes with the sealed data", n)
		}
	})
}

// TestMigration25OneDonationNumber makes a registry at transplant schema 24,
// with two procurements of one deceased donor under two donation numbers
// (as older releases numbered them) and their organs; migrates it to 25,
// and checks that the numbers and organs are kept as printed, that a
// procurement may now carry a number another has, and that the organs'
// foreign key to their procurement still holds (SQLite makes the table
// again). Both engines.
func TestMigration25OneDonationNumber(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		v24 := fstest.MapFS{}
		names, err := fs.Glob(schemaFS, "schema/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if n >= "schema/025" {
				continue
			}
			b, err := fs.ReadFile(schemaFS, n)
			if err != nil {
				t.Fatal(err)
			}
			v24[n[len("schema/"):]] = &fstest.MapFile{Data: b}
		}
		db := storetest.Open(t, dsn, store.CoreSchema(), store.Schema{Module: "transplant", FS: v24})
		exec := func(q string, args ...any) error {
			tx, err := db.BeginWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
			return tx.Commit()
		}
		must := func(q string, args ...any) {
			t.Helper()
			if err := exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		must("INSERT INTO authorities (id, name, kind, jurisdiction, city, created_at, log_index) VALUES ('AU-C', 'Centre', 'transplant_centre', 'XA', 'X', '2025-01-01', 1)")
		must(`INSERT INTO donors (id, kind, subject_ref, person_pseudonym, centre_id, sex, blood_group, date_of_birth, iv_drug_use,
			malignancy, transmissible_disease, hiv, hcv, hbv, organ_function, recorded_at, recorded_by, log_index)
			VALUES ('DN-OLD', ?, 'SU-OLD', 'PS-OLD', 'AU-C', 'female', 'O', '1961-03-04', 'no', 'no', 'no', 'negative', 'negative', 'negative', 'ok', '2025-01-02', 'PR-X', 2)`, DonorBrainDeath)
		procurement := func(id string, seq int, idx int64, organs ...string) {
			must(`INSERT INTO procurements (id, donor_id, centre_id, procured_at, donation_year, donation_seq, recorded_at, recorded_by, log_index)
				VALUES (?, 'DN-OLD', 'AU-C', '2025-01-03T10:00:00Z', 25, ?, '2025-01-03T10:00:00Z', 'PR-X', ?)`, id, seq, idx)
			for i, o := range organs {
				must("INSERT INTO organs (id, procurement_id, donor_id, organ, log_index) VALUES (?, ?, 'DN-OLD', ?, ?)",
					OrganID{Country: "XA", Year: 25, Seq: seq, Organ: i + 1}.String(), id, o, idx)
			}
		}
		procurement("PC-1", 1, 3, "kidney", "kidney")
		procurement("PC-2", 2, 4, "liver")
		if err := exec(`INSERT INTO procurements (id, donor_id, centre_id, procured_at, donation_year, donation_seq, recorded_at, recorded_by, log_index)
			VALUES ('PC-3', 'DN-OLD', 'AU-C', '2025-01-03T11:00:00Z', 25, 1, '2025-01-03T11:00:00Z', 'PR-X', 5)`); err == nil {
			t.Fatal("schema 24 took a second procurement with donation number 25/1: the test would prove nothing")
		}

		applied, err := db.Migrate(ctx, []store.Schema{store.CoreSchema(), {Module: "transplant", FS: Module.Schema}})
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 2 || applied[0].Version != 25 || applied[1].Version != 26 {
			t.Fatalf("migrating from transplant 24 applied %+v, want transplant 25, then 26", applied)
		}
		rows, err := db.Read().Query(ctx, `SELECT p.id, p.donation_year, p.donation_seq, o.id FROM procurements p JOIN organs o ON o.procurement_id = p.id ORDER BY o.id`)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var id, organ string
			var year, seq int
			if err := rows.Scan(&id, &year, &seq, &organ); err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s %d/%d %s", id, year, seq, organ))
		}
		rows.Close()
		want := []string{
			"PC-1 25/1 " + OrganID{Country: "XA", Year: 25, Seq: 1, Organ: 1}.String(),
			"PC-1 25/1 " + OrganID{Country: "XA", Year: 25, Seq: 1, Organ: 2}.String(),
			"PC-2 25/2 " + OrganID{Country: "XA", Year: 25, Seq: 2, Organ: 1}.String(),
		}
		if !slices.Equal(got, want) {
			t.Errorf("after migration 25: %q, want %q, as printed", got, want)
		}
		must(`INSERT INTO procurements (id, donor_id, centre_id, procured_at, donation_year, donation_seq, recorded_at, recorded_by, log_index)
			VALUES ('PC-3', 'DN-OLD', 'AU-C', '2025-01-03T11:00:00Z', 25, 1, '2025-01-03T11:00:00Z', 'PR-X', 5)`)
		if err := exec("INSERT INTO organs (id, procurement_id, donor_id, organ, log_index) VALUES ('XA-X', 'PC-NONE', 'DN-OLD', 'heart', 6)"); err == nil {
			t.Error("after migration 25 an organ of no procurement was taken: the foreign key is lost")
		}
		if err := exec("DELETE FROM procurements WHERE id = 'PC-1'"); err == nil {
			t.Error("after migration 25 a procurement with organs was deleted: the foreign key is lost")
		}
	})
}
