package transplant

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// pseudonym links records of one person by their national identifier; without
// one, the subject stands alone.
func (s *Service) pseudonym(ctx context.Context, q store.Queryer, nationalID, subject string) string {
	if nationalID == "" {
		return s.Vault.Pseudonym("subject", subject)
	}
	return s.nationalPseudonym(ctx, q, nationalID)
}

// nationalPseudonym is the pseudonym of a national identifier of the
// registry's jurisdiction.
func (s *Service) nationalPseudonym(ctx context.Context, q store.Queryer, nationalID string) string {
	var j string
	_ = q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&j)
	return s.Vault.Pseudonym("national-id:"+j, nationalID)
}

// nameIndex is the blind index of a name with a date of birth; "" when
// either is missing (a donor of unknown birth date has none).
func (s *Service) nameIndex(name, dateOfBirth string) string {
	n := privacy.NormalizeName(name)
	if n == "" || dateOfBirth == "" {
		return ""
	}
	return s.Vault.BlindIndex("person-name-dob", n, dateOfBirth)
}

// storePerson seals a subject's personal data and writes the blind index of
// its name beside it: both are written by the command, never by a projector,
// so neither is in the log. It returns the commitment to the sealed row,
// which the command's entry carries (ledger.Entry.Sealed).
func (s *Service) storePerson(ctx context.Context, tx *store.Tx, record, ref string, p privacy.Person, dateOfBirth string, now time.Time) (ledger.Sealed, error) {
	c, err := s.Vault.Store(ctx, tx, ref, p, now)
	if err != nil {
		return c, err
	}
	return c, storeNameIndex(ctx, tx, record, ref, s.nameIndex(p.Name, dateOfBirth))
}

func storeNameIndex(ctx context.Context, tx *store.Tx, record, ref, index string) error {
	if index == "" {
		return nil
	}
	_, err := tx.Exec(ctx, "INSERT INTO person_names (subject_ref, record_id, name_dob) VALUES (?, ?, ?)", ref, record, index)
	return err
}

// Ways a person is found.
const (
	ByNationalID = "national_id"
	ByNameDOB    = "name_date_of_birth"
)

// PersonQuery is a look-up of a person: by national identifier, by name with
// date of birth, or both (a record found by either is listed). Purpose says
// why; it goes into the log of personal-data reads.
type PersonQuery struct {
	NationalID  string `json:"national_id"`
	Name        string `json:"name"`
	DateOfBirth string `json:"date_of_birth"`
	Purpose     string `json:"purpose"`
}

// PersonMatch is a donor or recipient record of the person looked up: what
// the lists show of it, never the personal data.
type PersonMatch struct {
	ID         string   `json:"id"`
	Record     string   `json:"record"` // donor or recipient
	CentreID   string   `json:"centre_id"`
	Kind       string   `json:"kind"` // the donor's kind or the organ the recipient needs
	RecordedAt string   `json:"recorded_at"`
	MatchedBy  []string `json:"matched_by"` // national_id, name_date_of_birth
}

// personKeys are the keys a look-up or a registration searches by: the
// national identifier's pseudonym and the name's blind index, each "" when
// not given.
type personKeys struct{ pseudonym, name string }

func (s *Service) keysOf(ctx context.Context, q store.Queryer, nationalID, name, dateOfBirth string) personKeys {
	var k personKeys
	if nationalID != "" {
		k.pseudonym = s.nationalPseudonym(ctx, q, nationalID)
	}
	k.name = s.nameIndex(name, dateOfBirth)
	return k
}

// The statements of a look-up, each reading one index: the records of a
// pseudonym (donors_person, recipients_person), and those of a name index
// (person_names_name_dob, then the records of its subject: donors_subject,
// recipients_subject; a domino donor shares its recipient's subject, whose
// index row names the recipient's record). %s is the donors' kind or the
// recipients' organ needed, then the table. A record whose personal data was
// erased is found by neither: its name index is deleted with the data, and
// its pseudonym, which stays on the record for the trace, no longer leads a
// national identifier to it (erasures_subject).
const (
	byPseudonymSQL = `SELECT d.id, d.centre_id, %s, d.recorded_at FROM %s d WHERE d.person_pseudonym = ?
		AND NOT EXISTS (SELECT 1 FROM erasures e WHERE e.subject_id = d.id)`
	byNameSQL = `SELECT d.id, d.centre_id, %s, d.recorded_at FROM person_names n JOIN %s d ON d.subject_ref = n.subject_ref WHERE n.name_dob = ?`
)

// matches lists the donors ("donor") or recipients ("recipient") of the
// person of k, oldest first.
func matches(ctx context.Context, q store.Queryer, record string, k personKeys) ([]PersonMatch, error) {
	table, kind := "donors", "d.kind"
	if record == "recipient" {
		table, kind = "recipients", "d.organ_needed"
	}
	var out []PersonMatch
	seen := map[string]int{}
	for _, by := range []struct{ name, sql, key string }{{ByNationalID, byPseudonymSQL, k.pseudonym}, {ByNameDOB, byNameSQL, k.name}} {
		if by.key == "" {
			continue
		}
		rows, err := q.Query(ctx, fmt.Sprintf(by.sql, kind, table), by.key)
		if err != nil {
			return nil, err
		}
		ms, err := store.Rows(rows, func(r store.Scanner, m *PersonMatch) error {
			return r.Scan(&m.ID, &m.CentreID, &m.Kind, &m.RecordedAt)
		})
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			if i, ok := seen[m.ID]; ok {
				out[i].MatchedBy = append(out[i].MatchedBy, by.name)
				continue
			}
			m.Record, m.MatchedBy = record, []string{by.name}
			seen[m.ID] = len(out)
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b PersonMatch) int {
		return cmp.Or(strings.Compare(a.RecordedAt, b.RecordedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// FindPerson looks a person up by national identifier, or by name with date
// of birth, in the donors and the recipients, without opening any sealed
// data: it compares keyed hashes of what is given with those kept. Roles that
// may open personal data (ReadPersonalData) may search, across every centre,
// since the question is whether the person is registered anywhere; what is
// found is records, never a name. Every search, found or not, is a read of
// personal data in the log, with its purpose and the records found, never
// what was searched for.
func (s *Service) FindPerson(ctx context.Context, p *auth.Principal, in PersonQuery) ([]PersonMatch, error) {
	if err := p.Require(ReadPersonalData); err != nil {
		return nil, err
	}
	var err error
	if in.NationalID, err = check.Line("national_id", in.NationalID, 64, false); err != nil {
		return nil, err
	}
	if in.Name, err = check.Line("name", in.Name, 200, false); err != nil {
		return nil, err
	}
	if in.DateOfBirth, err = check.Date("date_of_birth", in.DateOfBirth, false); err != nil {
		return nil, err
	}
	switch {
	case in.NationalID == "" && in.Name == "" && in.DateOfBirth == "":
		return nil, errs.Invalidf("required", "national_id", "give national_id, or name with date_of_birth")
	case in.Name != "" && in.DateOfBirth == "":
		return nil, errs.Invalidf("required", "date_of_birth", "a name is searched with the date of birth: give date_of_birth")
	case in.Name == "" && in.DateOfBirth != "":
		return nil, errs.Invalidf("required", "name", "a date of birth is searched with the name: give name")
	case in.Name != "" && privacy.NormalizeName(in.Name) == "":
		return nil, errs.Invalidf("name_letters", "name", "the name has no letter or digit to search by")
	}
	if in.Purpose, err = check.Text("purpose", in.Purpose, 500, true); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	k := s.keysOf(ctx, q, in.NationalID, in.Name, in.DateOfBirth)
	found, err := s.matchesBoth(ctx, q, k)
	if err != nil {
		return nil, err
	}
	var by []string
	if k.pseudonym != "" {
		by = append(by, ByNationalID)
	}
	if k.name != "" {
		by = append(by, ByNameDOB)
	}
	if err := privacy.RecordSearch(ctx, s.W, p.Actor(), strings.Join(by, " and "), in.Purpose, matchIDs(found)); err != nil {
		return nil, err
	}
	return found, nil
}

func (s *Service) matchesBoth(ctx context.Context, q store.Queryer, k personKeys) ([]PersonMatch, error) {
	ds, err := matches(ctx, q, "donor", k)
	if err != nil {
		return nil, err
	}
	rs, err := matches(ctx, q, "recipient", k)
	return append(ds, rs...), err
}

func matchIDs(ms []PersonMatch) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids
}

// duplicate is what a registration says about the records that look like the
// person it registers: the same national identifier, or the same name and
// date of birth, as a record of the same kind (donor or recipient).
type duplicate struct {
	// DuplicateOf names a donor or recipient that is the same person: the
	// new record is linked to it (it takes its person pseudonym).
	DuplicateOf string `json:"duplicate_of"`
	// NotDuplicateReason says why the person is not the one already
	// registered; the registration goes on.
	NotDuplicateReason string `json:"not_duplicate_reason"`
}

// RuleLikelyDuplicate is the rule of the refusal of a registration that
// looks like a record already registered and says neither duplicate_of nor
// not_duplicate_reason.
const RuleLikelyDuplicate = "likely_duplicate"

// checkDuplicate validates what a registration says about duplicates, before
// anything is read.
func (d *duplicate) check() error {
	var err error
	if d.DuplicateOf, err = check.Line("duplicate_of", d.DuplicateOf, 64, false); err != nil {
		return err
	}
	if d.NotDuplicateReason, err = check.Text("not_duplicate_reason", d.NotDuplicateReason, 500, false); err != nil {
		return err
	}
	if d.DuplicateOf != "" && d.NotDuplicateReason != "" {
		return errs.Invalidf("one_of", "duplicate_of", "give duplicate_of (the same person) or not_duplicate_reason (another person), not both")
	}
	return nil
}

// errDuplicate is a registration refused as a likely duplicate, with the
// records it looks like, so that the refusal can be logged as a read.
type errDuplicate struct {
	refusal *errs.Error
	found   []PersonMatch
}

func (e *errDuplicate) Error() string { return e.refusal.Error() }
func (e *errDuplicate) Unwrap() error { return e.refusal }

// resolveDuplicate runs a registration's duplicate check in its transaction:
// it finds the records of the same kind (record) that have the person's
// national identifier or name and date of birth; when there are some and the
// registration says nothing about them, it refuses with likely_duplicate.
// With duplicate_of it returns the pseudonym of that record, which the new
// record takes; otherwise "" (keep the record's own).
func (s *Service) resolveDuplicate(ctx context.Context, tx *store.Tx, record string, d duplicate, nationalID, name, dateOfBirth string) (string, error) {
	if d.DuplicateOf != "" {
		var ps string
		err := tx.QueryRow(ctx, "SELECT person_pseudonym FROM donors WHERE id = ? UNION ALL SELECT person_pseudonym FROM recipients WHERE id = ?",
			d.DuplicateOf, d.DuplicateOf).Scan(&ps)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return "", errs.New(errs.NotFound, "reference", "duplicate_of", "no donor or recipient %s", d.DuplicateOf)
			}
			return "", err
		}
		return ps, nil
	}
	if d.NotDuplicateReason != "" {
		return "", nil
	}
	found, err := matches(ctx, tx, record, s.keysOf(ctx, tx, nationalID, name, dateOfBirth))
	if err != nil || len(found) == 0 {
		return "", err
	}
	field, same := "name", "name and date of birth"
	for _, m := range found {
		if len(m.MatchedBy) > 0 && m.MatchedBy[0] == ByNationalID {
			field, same = "national_id", "national identifier"
		}
	}
	return "", &errDuplicate{refusal: errs.New(errs.Conflict, RuleLikelyDuplicate, field,
		"a %s with the same %s is already registered: %s; give duplicate_of to link to it (the same person) or not_duplicate_reason to register another person",
		record, same, strings.Join(matchIDs(found), ", ")), found: found}
}

// logDuplicate records, when err refused a registration as a likely
// duplicate, the look-up that found the records it named: the registrant
// learnt which records hold the person.
func (s *Service) logDuplicate(ctx context.Context, p *auth.Principal, err error) error {
	var d *errDuplicate
	if !errors.As(err, &d) {
		return err
	}
	if lerr := privacy.RecordSearch(ctx, s.W, p.Actor(), "national_id or name_date_of_birth", "duplicate check of a registration, refused as a likely duplicate", matchIDs(d.found)); lerr != nil {
		return lerr
	}
	return err
}

// LikelyDuplicates returns the records a registration refused as a likely
// duplicate looks like, for the form that offers to link to one of them or
// to go on with a reason; nil for any other error.
func LikelyDuplicates(err error) []PersonMatch {
	var d *errDuplicate
	if errors.As(err, &d) {
		return d.found
	}
	return nil
}

// FillPersonNames writes the name index of every donor and recipient that
// has a date of birth and none yet: those registered before migration 5,
// which could not compute keyed hashes in SQL. It opens each subject's sealed
// data with the vault, so it runs where the key is: the first custos that
// opens the registry after the migration (server.Open) does it, in one
// transaction, and removes the step from transplant_pending; later opens,
// and other servers opening at the same time, find nothing to do. It returns
// how many indexes it wrote. Erased subjects have nothing to index.
func (s *Service) FillPersonNames(ctx context.Context) (int, error) {
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	res, err := tx.Exec(ctx, "DELETE FROM transplant_pending WHERE step = 'person_names'")
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, err
	}
	rows, err := tx.Query(ctx, `SELECT d.id, d.subject_ref, d.date_of_birth FROM donors d WHERE d.date_of_birth IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM person_names n WHERE n.subject_ref = d.subject_ref)
		UNION ALL SELECT r.id, r.subject_ref, r.date_of_birth FROM recipients r
		WHERE NOT EXISTS (SELECT 1 FROM person_names n WHERE n.subject_ref = r.subject_ref)`)
	if err != nil {
		return 0, err
	}
	type subject struct{ id, ref, dob string }
	todo, err := store.Rows(rows, func(r store.Scanner, s *subject) error { return r.Scan(&s.id, &s.ref, &s.dob) })
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sub := range todo {
		p, err := s.Vault.Load(ctx, tx, sub.ref)
		if errors.Is(err, privacy.ErrErased) {
			continue
		}
		if err != nil {
			return 0, err
		}
		ix := s.nameIndex(p.Name, sub.dob)
		if ix == "" {
			continue
		}
		if err := storeNameIndex(ctx, tx, sub.id, sub.ref, ix); err != nil {
			return 0, err
		}
		n++
	}
	return n, tx.Commit()
}

// Kinds of NameIndexProblem.
const (
	IndexMissing = "missing" // the subject's sealed data make a row; there is none
	IndexDiffers = "differs" // the row is not the one the sealed data make
	IndexExtra   = "extra"   // a row where the sealed data make none (erased, no date of birth)
	IndexOrphan  = "orphan"  // a row of a subject no record has
)

// A NameIndexProblem is a subject whose name index row (person_names) is
// not the one its sealed data make. It names ids only.
type NameIndexProblem struct {
	Subject string `json:"subject"` // the subject's reference
	Record  string `json:"record"`  // the record it is named by
	Kind    string `json:"kind"`    // IndexMissing, IndexDiffers, IndexExtra or IndexOrphan
}

func (p NameIndexProblem) String() string {
	switch p.Kind {
	case IndexMissing:
		return fmt.Sprintf("%s (subject %s): the name index row is missing: Find a person does not find this person, and the likely-duplicate check does not see them", p.Record, p.Subject)
	case IndexDiffers:
		return fmt.Sprintf("%s (subject %s): the name index row is not the one its sealed name and date of birth make", p.Record, p.Subject)
	case IndexExtra:
		return fmt.Sprintf("%s (subject %s): a name index row, where its sealed data make none (erased, or no date of birth)", p.Record, p.Subject)
	default:
		return fmt.Sprintf("subject %s: a name index row of record %s, which is no record of that subject", p.Subject, p.Record)
	}
}

// indexedRecord is a record that has a subject: a donor, a recipient or a
// transplant abroad.
type indexedRecord struct {
	id, ref, dob string
	domino       bool // a domino donor: the subject's other record is the recipient
}

// indexedRecordsSQL reads the records that have a subject, in id order;
// %s is the condition on their subject_ref.
const indexedRecordsSQL = `SELECT d.id, COALESCE(d.subject_ref, ''), COALESCE(d.date_of_birth, ''), CASE WHEN d.kind = 'domino' THEN 1 ELSE 0 END FROM donors d WHERE %[1]s
	UNION ALL SELECT r.id, COALESCE(r.subject_ref, ''), COALESCE(r.date_of_birth, ''), 0 FROM recipients r WHERE %[1]s
	UNION ALL SELECT a.id, a.subject_ref, a.date_of_birth, 0 FROM abroad_procedures a WHERE %[1]s ORDER BY 1`

func indexedRecords(ctx context.Context, q store.Queryer, where string, args ...any) ([]indexedRecord, error) {
	rows, err := q.Query(ctx, fmt.Sprintf(indexedRecordsSQL, where), args...)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(sc store.Scanner, s *indexedRecord) error { return sc.Scan(&s.id, &s.ref, &s.dob, &s.domino) })
}

// indexOf is the name index the records of the subject ref make: each
// record's (one subject may have several records: the recipient of a
// domino liver is also its donor, with one index row naming either), and
// the record a row written now names, the one registered as the person
// rather than the domino donor; none for an erased subject or one without a
// date of birth.
func (s *Service) indexOf(ctx context.Context, q store.Queryer, ref string, subs []indexedRecord) (want map[string]string, record string, err error) {
	want = map[string]string{}
	p, err := s.Vault.Load(ctx, q, ref)
	switch {
	case errors.Is(err, privacy.ErrErased):
		return want, "", nil
	case err != nil:
		return nil, "", fmt.Errorf("subject %s of %s: %w", ref, subs[0].id, err)
	}
	domino := false // whether record is the domino donor's
	for _, sub := range subs {
		ix := s.nameIndex(p.Name, sub.dob)
		if ix == "" {
			continue
		}
		want[sub.id] = ix
		if record == "" || domino && !sub.domino {
			record, domino = sub.id, sub.domino
		}
	}
	return want, record, nil
}

// indexRow is a row of person_names.
type indexRow struct{ ref, record, index string }

// problemOf is what is wrong with the row got (ok: there is one) of the
// subject ref, whose records make want; "" when nothing is.
func problemOf(ref, first string, want map[string]string, got indexRow, ok bool) *NameIndexProblem {
	switch {
	case len(want) == 0 && ok:
		return &NameIndexProblem{Subject: ref, Record: first, Kind: IndexExtra}
	case len(want) > 0 && !ok:
		return &NameIndexProblem{Subject: ref, Record: first, Kind: IndexMissing}
	case len(want) > 0 && want[got.record] != got.index:
		return &NameIndexProblem{Subject: ref, Record: first, Kind: IndexDiffers}
	}
	return nil
}

// CheckPersonNames compares the name index (person_names) with the sealed
// data it is made from, in one snapshot, and returns what differs: a person
// whose index row is missing or is not the one their sealed name and date of
// birth make (Find a person does not find them, and the likely-duplicate
// check does not see them), or a row of no such person. log verify cannot
// check the index, which is keyed under the master key. It opens every
// subject's sealed data to compute the index, and shows none of it: the
// problems name records and subjects by their ids. It returns how many
// records it checked: donors, recipients and transplants abroad.
func (s *Service) CheckPersonNames(ctx context.Context) (int, []NameIndexProblem, error) {
	snaps, err := s.DB.Snapshots(ctx, 1, "SELECT 1")
	if err != nil {
		return 0, nil, err
	}
	tx := snaps[0]
	defer tx.Rollback()
	rows, err := tx.Query(ctx, "SELECT subject_ref, record_id, name_dob FROM person_names")
	if err != nil {
		return 0, nil, err
	}
	stored, err := store.Rows(rows, func(sc store.Scanner, r *indexRow) error { return sc.Scan(&r.ref, &r.record, &r.index) })
	if err != nil {
		return 0, nil, err
	}
	index := map[string]indexRow{}
	for _, r := range stored {
		index[r.ref] = r
	}
	all, err := indexedRecords(ctx, tx, "1 = 1")
	if err != nil {
		return 0, nil, err
	}
	bySubject := map[string][]indexedRecord{}
	var refs []string
	for _, sub := range all {
		if sub.ref == "" {
			continue
		}
		if bySubject[sub.ref] == nil {
			refs = append(refs, sub.ref)
		}
		bySubject[sub.ref] = append(bySubject[sub.ref], sub)
	}
	var problems []NameIndexProblem
	for _, ref := range refs {
		subs := bySubject[ref]
		want, _, err := s.indexOf(ctx, tx, ref, subs)
		if err != nil {
			return 0, nil, err
		}
		got, ok := index[ref]
		delete(index, ref)
		if p := problemOf(ref, subs[0].id, want, got, ok); p != nil {
			problems = append(problems, *p)
		}
	}
	for _, ref := range slices.Sorted(maps.Keys(index)) {
		problems = append(problems, NameIndexProblem{Subject: ref, Record: index[ref].record, Kind: IndexOrphan})
	}
	return len(all), problems, nil
}

// RepairNameIndex is rewriting the name index from the sealed data: the
// operator's, who holds the key file.
var RepairNameIndex = auth.NewAction("repair the name index", auth.Admin)

// TypeNameIndexRepaired is the entry of a repair of the name index. The
// index is not in the log; the entry says which subjects' rows were
// rewritten or removed, and why, by their ids.
const TypeNameIndexRepaired = "transplant.name_index_repaired"

// NameIndexRepair is the data of a TypeNameIndexRepaired entry.
type NameIndexRepair struct {
	ID       string             `json:"id"`
	Repaired []NameIndexProblem `json:"repaired"` // what each subject's row was; Record is the record it names now, or had
}

// RepairPersonNames rewrites, from the sealed data, the name index rows of
// the subjects of found (CheckPersonNames's problems): a missing or
// different row is written as the subject's records make it, a row where
// they make none, or of no record, is removed. Each subject is checked
// again in the command's transaction, and one that is right by then (a
// registration or an erasure in between) is left alone; with none left it
// is refused (nothing_to_repair). The repair is one log entry naming the
// subjects (TypeNameIndexRepaired), no personal data.
func (s *Service) RepairPersonNames(ctx context.Context, p *auth.Principal, found []NameIndexProblem) (*NameIndexRepair, error) {
	if err := p.Require(RepairNameIndex); err != nil {
		return nil, err
	}
	var refs []string
	for _, f := range found {
		if !slices.Contains(refs, f.Subject) {
			refs = append(refs, f.Subject)
		}
	}
	id := s.W.IDs().New("NX")
	return ledger.SubmitAs[NameIndexRepair](ctx, s.W, p.Actor(), "repair the name index", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		rep := NameIndexRepair{ID: id, Repaired: []NameIndexProblem{}}
		for _, ref := range refs {
			subs, err := indexedRecords(ctx, tx, "subject_ref = ?", ref, ref, ref)
			if err != nil {
				return nil, err
			}
			var got indexRow
			err = tx.QueryRow(ctx, "SELECT subject_ref, record_id, name_dob FROM person_names WHERE subject_ref = ?", ref).Scan(&got.ref, &got.record, &got.index)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			ok := err == nil
			var problem *NameIndexProblem
			record, want := "", map[string]string{}
			if len(subs) == 0 {
				if ok {
					problem = &NameIndexProblem{Subject: ref, Record: got.record, Kind: IndexOrphan}
				}
			} else {
				if want, record, err = s.indexOf(ctx, tx, ref, subs); err != nil {
					return nil, err
				}
				problem = problemOf(ref, subs[0].id, want, got, ok)
			}
			if problem == nil {
				continue
			}
			if ok {
				if _, err := tx.Exec(ctx, "DELETE FROM person_names WHERE subject_ref = ?", ref); err != nil {
					return nil, err
				}
			}
			if record != "" {
				if err := storeNameIndex(ctx, tx, record, ref, want[record]); err != nil {
					return nil, err
				}
				problem.Record = record
			}
			rep.Repaired = append(rep.Repaired, *problem)
		}
		if len(rep.Repaired) == 0 {
			return nil, errs.New(errs.Conflict, "nothing_to_repair", "", "the name index rows of these subjects match their sealed data: nothing to repair")
		}
		return ledger.NewEntry(TypeNameIndexRepaired, rep)
	})
}
