package transplant_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestSubjectRights: on both engines, erasure refused under retention and
// allowed with an overriding ground; rectification and subject access; after
// erasure the records trace by pseudonym, the subject reads as erased with
// the date, and log verify passes, naming the erasure; then a swapped, an
// edited and a deleted sealed row are each reported.
func TestSubjectRights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		svc := w.svc
		const canaryName, canaryID = "Quillon Vantassel (synthetic)", "XA-CANARY-31337"

		// Rectification: the coordinator of the donor's centre corrects
		// the name and the national identifier; another centre may not.
		if _, err := svc.Rectify(ctx, w.coordB, w.donor, transplant.Rectification{Name: canaryName, Reason: "misspelt at registration"}); !isRule(err, "own_centre") {
			t.Errorf("another centre's coordinator rectified: %v", err)
		}
		if _, err := svc.Rectify(ctx, w.coordA, w.donor, transplant.Rectification{Reason: "nothing given"}); !isRule(err, "required") {
			t.Errorf("a rectification without a value: %v", err)
		}
		before, _ := svc.Donor(ctx, w.auditor, w.donor)
		c, err := svc.Rectify(ctx, w.coordA, w.donor, transplant.Rectification{Name: canaryName, NationalID: canaryID, Reason: "misspelt at registration"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(c.Fields, ",") != "name,national_id" || c.OldRef == c.NewRef {
			t.Errorf("correction %+v", c)
		}
		p, err := svc.PersonalData(ctx, w.coordA, w.donor, "check the correction")
		if err != nil || p.Name != canaryName || p.NationalID != canaryID {
			t.Fatalf("after rectification: %+v, %v", p, err)
		}
		after, _ := svc.Donor(ctx, w.auditor, w.donor)
		if after.PersonPseudonym == before.PersonPseudonym || after.SubjectRef != c.NewRef {
			t.Errorf("the record after a corrected national identifier: %+v", after)
		}
		// A rectification to the same value is refused; the refusal
		// confirms the value, so it is logged as a read of the person.
		size := w.LogSize(t)
		if _, err := svc.Rectify(ctx, w.coordA, w.donor, transplant.Rectification{Name: canaryName, Reason: "again"}); !isRule(err, "unchanged") {
			t.Errorf("a rectification to the same value: %v", err)
		}
		if _, err := svc.Rectify(ctx, w.coordA, w.donor, transplant.Rectification{NationalID: canaryID, Reason: "again"}); !isRule(err, "unchanged") {
			t.Errorf("a rectification to the same national identifier: %v", err)
		} else if e, _ := errs.As(err); e.Field != "national_id" {
			t.Errorf("a rectification to the same national identifier is refused on field %q, want national_id", e.Field)
		}
		size++ // that refusal's read
		if got := w.LogSize(t); got != size+1 {
			t.Errorf("the refusal as unchanged added %d leaves, want 1 (the read)", got-size)
		} else if l, err := ledger.ReadLeaf(ctx, w.App.DB.Read(), uint64(size)); err != nil ||
			!strings.Contains(l.Data, `"type":"privacy.personal_data_read"`) || !strings.Contains(l.Data, w.donor) || strings.Contains(l.Data, canaryName) {
			t.Errorf("the refusal's leaf: %v %v", l, err)
		}

		// Subject access: everything about the donor, the export logged
		// and listed among the reads.
		alerts := func() int {
			t.Helper()
			var n int
			if err := w.App.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM alerts WHERE rule = 'own_centre' AND principal_id = ?", w.coordB.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		alertsBefore := alerts()
		if _, err := svc.SubjectAccess(ctx, w.coordB, w.donor, transplant.AccessJSON, "request of the family"); !isRule(err, "own_centre") {
			t.Errorf("another centre's coordinator exported: %v", err)
		}
		// A read of another centre's personal data is refused and alerted,
		// as a command on it is: an alert for each kind of read, its
		// repeats counted on it.
		for range 2 {
			if _, err := svc.PersonalData(ctx, w.coordB, w.donor, "curious"); !isRule(err, "own_centre") {
				t.Errorf("another centre's coordinator opened the personal data: %v", err)
			}
		}
		if got := alerts(); got != alertsBefore+2 {
			t.Errorf("another centre's reads raised %d alerts, want 2 (the export, the personal data)", got-alertsBefore)
		}
		if _, err := svc.SubjectAccess(ctx, w.auditor, w.donor, transplant.AccessJSON, "audit"); !isRule(err, "role") {
			t.Errorf("an auditor exported a subject's data: %v", err)
		}
		rep, err := svc.SubjectAccess(ctx, w.coordA, w.donor, transplant.AccessJSON, "request of the family")
		if err != nil {
			t.Fatal(err)
		}
		if rep.Person == nil || rep.Person.Name != canaryName || rep.Donor == nil || len(rep.Trace.Donors) != 1 ||
			len(rep.Trace.Donors[0].Organs) != 3 || len(rep.Corrections) != 1 || rep.RetainedTo == "" {
			t.Errorf("subject access report: %+v", rep)
		}
		var exported, read bool
		for _, r := range rep.Reads {
			exported = exported || (r.LogIndex == rep.LogIndex && strings.HasPrefix(r.Purpose, "subject access export (json)"))
			read = read || r.Purpose == "check the correction"
		}
		if !exported || !read {
			t.Errorf("the reads of the export: %+v", rep.Reads)
		}

		// Erasure: the regulator alone; refused under retention (the donor
		// has organs procured) with the day it ends, unless the ground
		// overrides it.
		if _, err := svc.EraseSubject(ctx, w.coordA, w.donor, transplant.Erase{Ground: privacy.GroundConsentWithdrawn, Reference: "DPO-2026-17"}); !isRule(err, "role") {
			t.Errorf("a coordinator erased: %v", err)
		}
		if _, err := svc.EraseSubject(ctx, w.regulator, w.donor, transplant.Erase{Ground: "because", Reference: "DPO-2026-17"}); !isRule(err, "enum") {
			t.Errorf("an unknown ground: %v", err)
		}
		until := time.Now().UTC().AddDate(transplant.RetentionYears, 0, 0).Format(time.DateOnly)[:4]
		_, err = svc.EraseSubject(ctx, w.regulator, w.donor, transplant.Erase{Ground: privacy.GroundConsentWithdrawn, Reference: "DPO-2026-17"})
		if e, ok := errs.As(err); !ok || e.Rule != "retention" || e.Field != "ground" || !strings.Contains(e.Message, "kept until "+until) {
			t.Fatalf("erasure under retention: %v", err)
		}
		er, err := svc.EraseSubject(ctx, w.regulator, w.donor, transplant.Erase{Ground: privacy.GroundUnlawfullyRecorded, Reference: "DPO-2026-18"})
		if err != nil {
			t.Fatal(err)
		}
		if er.RetainedUntil == "" || er.Pseudonym != after.PersonPseudonym || er.ErasedAt == "" || er.LogIndex == 0 {
			t.Errorf("erasure %+v", er)
		}
		// A recipient never transplanted is kept by no traceability rule.
		if _, err := svc.EraseSubject(ctx, w.regulator, w.waitingKidney, transplant.Erase{Ground: privacy.GroundConsentWithdrawn, Reference: "DPO-2026-19"}); err != nil {
			t.Errorf("erasure of a recipient never transplanted: %v", err)
		}

		// After: the subject reads as erased, with the day; the trace and
		// the pseudonym stay; a second erasure and a rectification are
		// refused the same way.
		_, err = svc.PersonalData(ctx, w.coordA, w.donor, "after erasure")
		if e, ok := errs.As(err); !ok || e.Rule != "subject_erased" || !strings.Contains(e.Message, er.ErasedAt[:10]) {
			t.Errorf("reading an erased subject: %v", err)
		}
		if _, err := svc.EraseSubject(ctx, w.regulator, w.donor, transplant.Erase{Ground: privacy.GroundLegalObligation, Reference: "X"}); !isRule(err, "subject_erased") {
			t.Errorf("a second erasure: %v", err)
		}
		if _, err := svc.Rectify(ctx, w.coordA, w.donor, transplant.Rectification{Name: "Other", Reason: "x"}); !isRule(err, "subject_erased") {
			t.Errorf("rectifying an erased subject: %v", err)
		}
		tr, err := svc.TraceDonor(ctx, w.auditor, w.donor)
		if err != nil || len(tr.Donors) != 1 || len(tr.Donors[0].Organs) != 3 {
			t.Errorf("trace after erasure: %+v, %v", tr, err)
		}
		if d, err := svc.Donor(ctx, w.auditor, w.donor); err != nil || d.PersonPseudonym != er.Pseudonym {
			t.Errorf("the record after erasure: %+v, %v", d, err)
		}
		// Nor does its national identifier find it: the pseudonym stays
		// for the trace, not as a way to it.
		if found, err := svc.FindPerson(ctx, w.coordA, transplant.PersonQuery{NationalID: canaryID, Purpose: "after erasure"}); err != nil || len(found) != 0 {
			t.Errorf("find a person by the national identifier of an erased subject: %+v, %v", found, err)
		}
		rep, err = svc.SubjectAccess(ctx, w.regulator, w.donor, transplant.AccessJSON, "after erasure")
		if err != nil || rep.Person != nil || rep.Erasure == nil || rep.Erasure.ErasedAt != er.ErasedAt || len(rep.Trace.Donors) != 1 {
			t.Errorf("subject access after erasure: %+v, %v", rep, err)
		}
		q := w.App.DB.Read()
		var left int
		if err := q.QueryRow(ctx, "SELECT COUNT(*) FROM subjects WHERE ref IN (?, ?)", c.OldRef, c.NewRef).Scan(&left); err != nil || left != 0 {
			t.Errorf("sealed rows left after erasure: %d, %v", left, err)
		}

		// Personal data in no leaf.
		leaves, err := q.Query(ctx, "SELECT data FROM log_leaves")
		if err != nil {
			t.Fatal(err)
		}
		for leaves.Next() {
			var data string
			if err := leaves.Scan(&data); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(data, "Quillon") || strings.Contains(data, "CANARY") {
				t.Errorf("a leaf holds personal data: %.200s", data)
			}
		}
		leaves.Close()

		verify := func() *ledger.Report {
			t.Helper()
			r, err := ledger.Verify(ctx, w.App.DB, w.App.Projections, ledger.VerifyOptions{VerifierKey: w.App.Keys.LogKey})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		r := verify()
		if !r.OK() || r.SealedRows == 0 || r.Uncommitted != 0 {
			t.Fatalf("verify after erasure: %+v", r)
		}
		notes := strings.Join(r.Notes, "\n")
		for _, ref := range []string{c.OldRef, c.NewRef} {
			if !strings.Contains(notes, "ref="+ref+" was erased by entry ") {
				t.Errorf("verify does not name the erasure of %s: %s", ref, notes)
			}
		}

		tamper := func(sql string, args ...any) {
			t.Helper()
			tx, err := w.App.DB.BeginWrite(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.Exec(ctx, sql, args...); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		// A sealed row that no leaf commits to passes as one written before
		// custos logged commitments (a registry upgraded from an older
		// release: TestLegacyRegistry) only when a leaf written before the
		// first commitment, in the second of its created_at, names it: one
		// merely dated before them is backdated, and reported.
		tamper("INSERT INTO subjects (ref, wrapped_key, sealed, created_at) VALUES ('SU-LEGACY', ?, ?, '2000-01-01T00:00:00Z')", []byte{1}, []byte{2})
		if r := verify(); len(r.Problems) != 1 || r.Uncommitted != 0 || !strings.Contains(r.Problems[0],
			"subjects: row ref=SU-LEGACY is in the database but no entry commits to it, and no leaf written before the log's first commitment at its created_at 2000-01-01T00:00:00Z names it (inserted behind custos's back, backdated)") {
			t.Errorf("verify with a backdated row: %+v", r)
		}
		tamper("DELETE FROM subjects WHERE ref = 'SU-LEGACY'")
		tamper("INSERT INTO subjects (ref, wrapped_key, sealed, created_at) VALUES ('SU-FORGED', ?, ?, ?)", []byte{1}, []byte{2}, time.Now().UTC().Add(time.Hour).Format(time.RFC3339))

		// Tampering with the sealed rows: the sealed data of one recipient
		// copied onto another's row, another's ciphertext edited, a third
		// deleted.
		var a, b, e, d string
		for _, x := range []struct {
			ref *string
			id  string
		}{{&a, w.done}, {&b, w.waitingKidneyB}, {&e, w.waitingLiverB}, {&d, w.living}} {
			var table = "recipients"
			if strings.HasPrefix(x.id, "DN-") {
				table = "donors"
			}
			if err := q.QueryRow(ctx, "SELECT subject_ref FROM "+table+" WHERE id = ?", x.id).Scan(x.ref); err != nil {
				t.Fatal(err)
			}
		}
		tamper("UPDATE subjects SET sealed = (SELECT sealed FROM subjects WHERE ref = ?), wrapped_key = (SELECT wrapped_key FROM subjects WHERE ref = ?) WHERE ref = ?", a, a, b)
		var sealed []byte
		if err := q.QueryRow(ctx, "SELECT sealed FROM subjects WHERE ref = ?", e).Scan(&sealed); err != nil {
			t.Fatal(err)
		}
		sealed[len(sealed)-1] ^= 1
		tamper("UPDATE subjects SET sealed = ? WHERE ref = ?", sealed, e)
		tamper("DELETE FROM subjects WHERE ref = ?", d)
		// A committed row's time backdated: its bytes are its commitment's.
		var at string
		if err := q.QueryRow(ctx, "SELECT created_at FROM subjects WHERE ref = ?", a).Scan(&at); err != nil {
			t.Fatal(err)
		}
		tamper("UPDATE subjects SET created_at = '2001-01-01T00:00:00Z' WHERE ref = ?", a)
		r = verify()
		problems := strings.Join(r.Problems, "\n")
		for _, want := range []string{
			"subjects: row ref=" + b + " holds the sealed data entry ",
			"committed for " + a + " (swapped behind custos's back)",
			"subjects: row ref=" + e + " does not match its commitment in entry ",
			"subjects: row ref=" + d + " is committed by entry ",
			"subjects: row ref=SU-FORGED is in the database but no entry commits to it (inserted behind custos's back)",
			"subjects: row ref=" + a + " was written at 2001-01-01T00:00:00Z, not at " + at[:19],
		} {
			if !strings.Contains(problems, want) {
				t.Errorf("verify misses %q in:\n%s", want, problems)
			}
		}
		if len(r.Problems) != 5 {
			t.Errorf("verify found %d problems, want 5:\n%s", len(r.Problems), problems)
		}
		if strings.Contains(problems, "Quillon") || strings.Contains(problems, "CANARY") {
			t.Error("verify's report carries personal data")
		}
	})
}

func isRule(err error, rule string) bool {
	e, ok := errs.As(err)
	return ok && e.Rule == rule
}

// TestSubjectAccessOwnPart: a subject-access export shows the person's own
// part of the trace, on SQLite and PostgreSQL. The donor's second kidney
// goes to another recipient: the first recipient's export shows the kidney
// they received, its donor by kind only, and nothing of the donor's record
// or of the other recipient; the donor's export shows every organ and where
// and when each was transplanted, but no recipient's record. The
// registry's own trace, for the regulator, still shows both.
func TestSubjectAccessOwnPart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newRuleWorld(t, dsn)
		svc := w.svc
		ta, err := svc.AuthorizeTransplant(ctx, w.coordA, authorization(w.organs[1], w.waitingKidney, w.CentreA))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.RecordTransplant(ctx, w.coordA, transplant.NewTransplant{OrganID: w.organs[1], RecipientID: w.waitingKidney, CentreID: w.CentreA,
			PerformedAt: apptest.Hours(0), AuthorizationID: ta.ID}); err != nil {
			t.Fatal(err)
		}
		full, err := svc.TraceRecipient(ctx, w.regulator, w.done)
		if err != nil || len(full.Donors) != 1 || full.Donors[0].Donor.ID != w.donor || len(full.Donors[0].Organs) != 3 {
			t.Fatalf("the registry's trace from the recipient: %+v, %v", full, err)
		}

		rep, err := svc.SubjectAccess(ctx, w.coordA, w.done, transplant.AccessJSON, "the person's request")
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Trace.Donors) != 1 || len(rep.Trace.Donors[0].Organs) != 1 || rep.Trace.Donors[0].Organs[0].ID != w.organs[0] ||
			rep.Trace.Donors[0].Donor != (transplant.TraceDonor{Kind: full.Donors[0].Donor.Kind}) || rep.Trace.Donors[0].Organs[0].Transplant.Recipient.ID != w.done {
			t.Errorf("the recipient's export: %+v, want the kidney they received, its donor deceased and no more", rep.Trace)
		}
		b, err := json.Marshal(rep)
		if err != nil {
			t.Fatal(err)
		}
		for _, other := range []string{w.donor, w.waitingKidney, w.organs[1], w.organs[2], full.Donors[0].Organs[0].ProcurementID} {
			if strings.Contains(string(b), other) {
				t.Errorf("the recipient's export names %s, another person's record or organ", other)
			}
		}

		rep, err = svc.SubjectAccess(ctx, w.coordA, w.donor, transplant.AccessJSON, "the person's request")
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Trace.Donors) != 1 || rep.Trace.Donors[0].Donor.ID != w.donor || len(rep.Trace.Donors[0].Organs) != 3 {
			t.Fatalf("the donor's export: %+v, want their three organs", rep.Trace)
		}
		transplanted := 0
		for _, o := range rep.Trace.Donors[0].Organs {
			if o.Transplant != nil {
				transplanted++
				if o.Transplant.PerformedAt == "" || o.Transplant.Centre.ID != w.CentreA || o.Transplant.Recipient.ID != "" || o.Transplant.Recipient.BloodGroup != "" {
					t.Errorf("the donor's export of organ %s: %+v, want the day and centre, no recipient", o.ID, o.Transplant)
				}
			}
		}
		if b, err = json.Marshal(rep); err != nil {
			t.Fatal(err)
		}
		for _, other := range []string{w.done, w.waitingKidney} {
			if strings.Contains(string(b), other) {
				t.Errorf("the donor's export names recipient %s", other)
			}
		}
		if transplanted != 2 {
			t.Errorf("the donor's export shows %d organs transplanted, want 2", transplanted)
		}
	})
}
