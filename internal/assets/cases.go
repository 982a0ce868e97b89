package assets

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/store"
	"golang.org/x/text/unicode/norm"
)

// NewCase is a case to open: its national reference and title, its kind,
// its offences (ICCS codes of the classification the statistics registry
// ships) and the day it was opened.
type NewCase struct {
	Reference string   `json:"reference" api:"required"`
	Title     string   `json:"title" api:"required"`
	Kind      string   `json:"kind" api:"required"`
	Offences  []string `json:"offences" api:"required"`
	OpenedOn  string   `json:"opened_on" api:"required"`
}

// seesAll tells whether p reads every state's cases (the regulator and the
// auditor); any other principal reads its own state's only.
func seesAll(p *auth.Principal) bool { return p.Role == auth.Regulator || p.Role == auth.Auditor }

// scopeState is the state whose cases, persons, requests or statistics p
// reads under the filter state: the state asked, or every state's ("") for
// the regulator and the auditor; p's own state for anyone else, who may
// name it. Another state named by one who reads only its own is refused
// (rule state_filter), not answered with p's own state's rows under the
// other state's name: a prosecutor of XA asking XB's statistics would read
// XA's amounts as XB's, and an export would write state=XB above them. A
// principal whose authority has no state reads nothing ("", ok false).
func scopeState(p *auth.Principal, state string) (string, bool, error) {
	if seesAll(p) {
		if state == "" {
			return "", true, nil
		}
		// xa or X A is refused, not answered with nothing.
		s, err := country("state", state)
		return s, err == nil, err
	}
	if state != "" && state != p.Jurisdiction {
		if _, err := country("state", state); err != nil {
			return "", false, err
		}
		if p.Jurisdiction == "" {
			return "", false, errs.Invalidf("state_filter", "state", "your authority has no state (jurisdiction): an administrator sets it")
		}
		return "", false, errs.Invalidf("state_filter", "state", "state %s: you read your own state's (%s) only; the state filter is the regulator's and the auditor's", state, p.Jurisdiction)
	}
	return p.Jurisdiction, p.Jurisdiction != "", nil
}

// noState refuses a principal whose authority has no state (jurisdiction)
// what is a state's: its cases, requests, statistics, directory entries,
// beneficial ownership register.
func noState() *errs.Error {
	return errs.Invalidf("jurisdiction", "authority_id", "your authority has no state (jurisdiction): an administrator sets it")
}

// noCase is the refusal of a case p may not see or that does not exist:
// the same, so that a case of another state is not revealed.
func noCase(field, id string) error {
	return errs.New(errs.NotFound, "reference", field, "no asset-recovery case %s", id)
}

// OpenCase opens a case of p's state.
func (s *Service) OpenCase(ctx context.Context, p *auth.Principal, in NewCase) (*Case, error) {
	if err := p.Require(RecordCases); err != nil {
		return nil, err
	}
	c := caseOpened{State: p.Jurisdiction, AuthorityID: p.AuthorityID, Kind: in.Kind}
	if !auth.ValidCountry(c.State) {
		return nil, noState()
	}
	var err error
	if c.Reference, err = check.Line("reference", in.Reference, 100, true); err != nil {
		return nil, err
	}
	if c.Title, err = check.Line("title", in.Title, 300, true); err != nil {
		return nil, err
	}
	if err := check.OneOf("kind", in.Kind, CaseKinds); err != nil {
		return nil, err
	}
	if len(in.Offences) == 0 {
		return nil, errs.Invalidf("required", "offences", "offences is required: at least one ICCS code")
	}
	for i, o := range in.Offences {
		code, err := stats.ICCS.Check(check.Index("offences", i), o)
		if err != nil {
			return nil, err
		}
		if slices.Contains(c.Offences, code) {
			return nil, errs.Invalidf("duplicate", check.Index("offences", i), "%s is given twice", code)
		}
		c.Offences = append(c.Offences, code)
	}
	if c.OpenedOn, err = check.Date("opened_on", in.OpenedOn, true); err != nil {
		return nil, err
	}
	if err := check.DateNotFuture("opened_on", c.OpenedOn, s.now()); err != nil {
		return nil, err
	}
	c.ID = s.W.IDs().New("RV")
	res, err := s.W.Submit(ctx, p.Actor(), "open an asset-recovery case", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		if err := referenceFree(ctx, tx, c.State, c.Reference); err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeCaseOpened, c)
	})
	if err != nil {
		return nil, err
	}
	out := Case(c)
	out.OpenedAt = res.Entry.At
	return &out, nil
}

// referenceFree refuses a reference that a case of the state has already
// (rule case_reference), written the same or differently only in case,
// width, punctuation or look-alike letters of another script: ARO-2026-7,
// aro-2026-7, ARO/2026/7, ARO‐2026‐7 (a Unicode hyphen) and АRО-2026-7
// (a Cyrillic А and О) are one national case number, and a second case
// under it would count the case twice in the statistics and split its
// assets and persons between two files. One look-up by the index on
// (state, reference_key); the reference written the same is named first
// where an older registry holds several with the key (migration 10).
func referenceFree(ctx context.Context, q store.Queryer, state, ref string) error {
	var have string
	err := q.QueryRow(ctx, `SELECT reference FROM assets_cases WHERE state = ? AND reference_key = ?
		ORDER BY CASE WHEN reference = ? THEN 0 ELSE 1 END, id LIMIT 1`, state, referenceKey(ref), ref).Scan(&have)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return err
	case have == ref:
		return errs.New(errs.Conflict, "case_reference", "reference", "your state already has a case %s", ref)
	}
	return errs.New(errs.Conflict, "case_reference", "reference",
		"your state already has a case %s, which differs from %s only in case, punctuation or look-alike letters of another script: it is the same national case number", have, ref)
}

// referenceKey is a case reference as referenceFree compares it, kept in
// assets_cases.reference_key: its compatibility form (NFKC: full-width
// letters are letters), case folded, the Cyrillic and Greek letters that
// look like a Latin one read as that one (lookAlikes), each run of
// characters that are neither letters nor digits one "-". A change to it
// changes the keys of the cases already open: it needs a migration that
// computes them again, as migration 10 did (fillReferenceKeys), or log
// verify finds every key it changed.
func referenceKey(ref string) string {
	var b strings.Builder
	sep := false
	for _, r := range norm.NFKC.String(ref) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if sep && b.Len() > 0 {
				b.WriteByte('-')
			}
			sep = false
			r = unicode.ToLower(unicode.ToUpper(r))
			if l, ok := lookAlikes[r]; ok {
				r = l
			}
			b.WriteRune(r)
			continue
		}
		sep = true
	}
	if b.Len() == 0 {
		return ref
	}
	return b.String()
}

// lookAlikes maps the Cyrillic and Greek letters that look like a Latin
// letter, once case folded, to that Latin letter: the pairs of Unicode's
// confusables (confusables.txt, Unicode Technical Standard #39, "Unicode
// Security Mechanisms") between the Latin capitals and small letters and
// these scripts' letters, so that a reference typed on a Cyrillic or
// Greek keyboard, or pasted from a document that mixed them, is the
// reference in Latin letters. Each capital is folded to its small letter
// first, so the capital's look-alike (Cyrillic Н for H, Greek Η for H) gives
// the small letter's entry. No two letters of one script map to one Latin
// letter, so references wholly in Cyrillic or Greek keep apart what they
// keep apart.
var lookAlikes = map[rune]rune{
	// Cyrillic: А В Е К М Н О Р С Т Х У, and і ј ѕ.
	'\u0430': 'a', '\u0432': 'b', '\u0435': 'e', '\u043a': 'k', '\u043c': 'm', '\u043d': 'h',
	'\u043e': 'o', '\u0440': 'p', '\u0441': 'c', '\u0442': 't', '\u0445': 'x', '\u0443': 'y',
	'\u0456': 'i', '\u0458': 'j', '\u0455': 's',
	// Greek: Α Β Ε Ζ Η Ι Κ Μ Ν Ο Ρ Τ Υ Χ.
	'\u03b1': 'a', '\u03b2': 'b', '\u03b5': 'e', '\u03b6': 'z', '\u03b7': 'h', '\u03b9': 'i', '\u03ba': 'k',
	'\u03bc': 'm', '\u03bd': 'n', '\u03bf': 'o', '\u03c1': 'p', '\u03c4': 't', '\u03c5': 'y', '\u03c7': 'x',
}

// fillReferenceKeys is migration 10's step: the key of every case opened
// before it, as the projector writes it for the later ones, so that log
// verify's replay gives the same rows.
func fillReferenceKeys(ctx context.Context, tx *store.Tx) error {
	rows, err := tx.Query(ctx, "SELECT id, reference FROM assets_cases WHERE reference_key = ''")
	if err != nil {
		return err
	}
	type ref struct{ id, reference string }
	refs, err := store.Rows(rows, func(r store.Scanner, x *ref) error { return r.Scan(&x.id, &x.reference) })
	if err != nil {
		return err
	}
	for _, x := range refs {
		if _, err := tx.Exec(ctx, "UPDATE assets_cases SET reference_key = ? WHERE id = ?", referenceKey(x.reference), x.id); err != nil {
			return err
		}
	}
	return nil
}

// visibleCase returns the case id as p may see it, in q.
func visibleCase(ctx context.Context, q store.Queryer, p *auth.Principal, field, id string) (*Case, error) {
	var c Case
	var offences string
	err := q.QueryRow(ctx, "SELECT "+caseCols+" FROM assets_cases WHERE id = ?", id).Scan(caseDest(&c, &offences)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noCase(field, id)
	}
	if err != nil {
		return nil, err
	}
	c.Offences = list(offences)
	if !seesAll(p) && c.State != p.Jurisdiction {
		return nil, noCase(field, id)
	}
	return &c, nil
}

const caseCols = "id, state, authority_id, reference, title, kind, offences, opened_on, opened_at"

func caseDest(c *Case, offences *string) []any {
	return []any{&c.ID, &c.State, &c.AuthorityID, &c.Reference, &c.Title, &c.Kind, offences, &c.OpenedOn, &c.OpenedAt}
}

// CaseFilter filters the list of cases: by state (the regulator's and
// auditor's choice; others see their own), kind, an ICCS category the
// offences fall under, the step some asset of the case is at, and a text
// its reference or title holds.
type CaseFilter struct {
	State, Kind, ICCS, Status, Q string
}

// Cases lists the cases p may see, newest first.
func (s *Service) Cases(ctx context.Context, p *auth.Principal, f CaseFilter) ([]Case, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	state, ok, err := scopeState(p, f.State)
	if err != nil {
		return nil, err
	}
	if !ok && !seesAll(p) {
		return []Case{}, nil
	}
	if f.Kind != "" {
		if err := check.OneOf("kind", f.Kind, CaseKinds); err != nil {
			return nil, err
		}
	}
	if f.Status != "" {
		if err := check.OneOf("status", f.Status, Steps); err != nil {
			return nil, err
		}
	}
	if f.ICCS != "" {
		code, err := stats.ICCS.Check("iccs", f.ICCS)
		if err != nil {
			return nil, err
		}
		f.ICCS = code
	}
	text, like, err := check.Contains("q", f.Q)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+caseCols+` FROM assets_cases c WHERE (? = '' OR state = ?) AND (? = '' OR kind = ?)
		AND (? = '' OR ' ' || offences LIKE ?) AND (? = '' OR LOWER(reference || ' ' || title) LIKE ? ESCAPE '\')
		AND (? = '' OR EXISTS (SELECT 1 FROM assets_assets a WHERE a.case_id = c.id AND a.status = ?))
		ORDER BY opened_on DESC, id DESC`,
		state, state, f.Kind, f.Kind, f.ICCS, "% "+f.ICCS+"%", text, like, f.Status, f.Status)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *Case) error {
		var offences string
		if err := r.Scan(caseDest(c, &offences)...); err != nil {
			return err
		}
		c.Offences = list(offences)
		return nil
	})
}

// CaseFile is a case with its persons, links and assets, each asset with
// its measures in order.
type CaseFile struct {
	Case
	Persons []Person `json:"persons"`
	Links   []Link   `json:"links"`
	Assets  []Asset  `json:"assets"`
}

// CaseFile returns the case id with everything recorded on it.
func (s *Service) CaseFile(ctx context.Context, p *auth.Principal, id string) (*CaseFile, error) {
	if err := p.Require(ReadCases); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	c, err := visibleCase(ctx, q, p, "id", id)
	if err != nil {
		return nil, err
	}
	out := &CaseFile{Case: *c}
	rows, err := q.Query(ctx, "SELECT id, case_id, kind, role, country, name, registration, subject_ref FROM assets_persons WHERE case_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	if out.Persons, err = store.Rows(rows, scanPerson); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, "SELECT case_id, other_id, reason FROM assets_case_links WHERE case_id = ? ORDER BY other_id", id)
	if err != nil {
		return nil, err
	}
	if out.Links, err = store.Rows(rows, func(r store.Scanner, x *Link) error { return r.Scan(&x.CaseID, &x.OtherID, &x.Reason) }); err != nil {
		return nil, err
	}
	if out.Assets, err = s.caseAssets(ctx, id); err != nil {
		return nil, err
	}
	return out, nil
}

// caseAssets returns the assets of the case id, each with its measures in
// order (the caller has checked that the case is visible).
func (s *Service) caseAssets(ctx context.Context, id string) ([]Asset, error) {
	q := s.DB.Read()
	rows, err := q.Query(ctx, "SELECT "+assetCols+" FROM assets_assets WHERE case_id = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	as, err := store.Rows(rows, scanAsset)
	if err != nil {
		return nil, err
	}
	ms, err := measures(ctx, q, "case_id = ?", id)
	if err != nil {
		return nil, err
	}
	for i := range as {
		for _, m := range ms {
			if m.AssetID == as[i].ID {
				as[i].Measures = append(as[i].Measures, m)
			}
		}
	}
	return as, nil
}

// NewPerson is a natural or legal person to add to a case. A natural
// person's name, birth date and document are sealed; a legal person's
// name and registration number are kept in clear.
type NewPerson struct {
	Kind         string `json:"kind" api:"required"`
	Role         string `json:"role" api:"required"`
	Country      string `json:"country" api:"required"`
	Name         string `json:"name" api:"required"`
	BirthDate    string `json:"birth_date,omitempty"`
	Document     string `json:"document,omitempty"`
	Registration string `json:"registration,omitempty"`
}

// AddPerson adds a person to a case of p's state.
func (s *Service) AddPerson(ctx context.Context, p *auth.Principal, caseID string, in NewPerson) (*Person, error) {
	if err := p.Require(RecordCases); err != nil {
		return nil, err
	}
	if err := check.OneOf("kind", in.Kind, PersonKinds); err != nil {
		return nil, err
	}
	if err := check.OneOf("role", in.Role, PersonRoles); err != nil {
		return nil, err
	}
	ctry, err := country("country", in.Country)
	if err != nil {
		return nil, err
	}
	name, err := check.Line("name", in.Name, 300, true)
	if err != nil {
		return nil, err
	}
	np := NaturalPerson{Name: name}
	if np.BirthDate, err = check.Date("birth_date", in.BirthDate, false); err != nil {
		return nil, err
	}
	if err := check.DateNotFuture("birth_date", np.BirthDate, s.now()); err != nil {
		return nil, err
	}
	if np.Document, err = check.Line("document", in.Document, 100, false); err != nil {
		return nil, err
	}
	reg, err := check.Line("registration", in.Registration, 100, false)
	if err != nil {
		return nil, err
	}
	if in.Kind == PersonLegal && (np.BirthDate != "" || np.Document != "") {
		return nil, errs.Invalidf("legal_person", "birth_date", "a legal person has no birth date or identity document: give its registration number")
	}
	if in.Kind == PersonNatural && reg != "" {
		return nil, errs.Invalidf("natural_person", "registration", "a natural person has no registration number: give an identity document")
	}
	x := personAdded{ID: s.W.IDs().New("RP"), CaseID: caseID, Kind: in.Kind, Role: in.Role, Country: ctry}
	if in.Kind == PersonLegal {
		x.Name, x.Registration = name, reg
	} else {
		x.SubjectRef = s.W.IDs().New("SJ")
	}
	_, err = s.W.Submit(ctx, p.Actor(), "add a person to an asset-recovery case", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if _, err := visibleCase(ctx, tx, p, "case_id", caseID); err != nil {
			return nil, err
		}
		e, err := ledger.NewEntry(TypePersonAdded, x)
		if err != nil || x.SubjectRef == "" {
			return e, err
		}
		sealed, err := s.Vault.Seal(ctx, tx, x.SubjectRef, np, now)
		if err != nil {
			return nil, err
		}
		e.Sealed = []ledger.Sealed{sealed}
		return e, nil
	})
	if err != nil {
		return nil, err
	}
	return &Person{ID: x.ID, CaseID: caseID, Kind: x.Kind, Role: x.Role, Country: x.Country, Name: x.Name, Registration: x.Registration, Sealed: x.SubjectRef != ""}, nil
}

// OpenPerson opens a natural person's sealed data, writing into the log
// first that p opened it and why.
func (s *Service) OpenPerson(ctx context.Context, p *auth.Principal, personID, purpose string) (*NaturalPerson, error) {
	if err := p.Require(OpenPersonalData); err != nil {
		return nil, err
	}
	purpose, err := check.Line("purpose", purpose, 300, true)
	if err != nil {
		return nil, err
	}
	var caseID, ref string
	err = s.DB.Read().QueryRow(ctx, "SELECT case_id, subject_ref FROM assets_persons WHERE id = ?", personID).Scan(&caseID, &ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "id", "no person %s", personID)
	}
	if err != nil {
		return nil, err
	}
	if _, err := visibleCase(ctx, s.DB.Read(), p, "id", caseID); err != nil {
		return nil, errs.New(errs.NotFound, "reference", "id", "no person %s", personID)
	}
	if ref == "" {
		return nil, errs.Invalidf("legal_person", "id", "%s is a legal person: its name is not sealed", personID)
	}
	if err := privacy.RecordRead(ctx, s.W, p.Actor(), personID, purpose); err != nil {
		return nil, err
	}
	var np NaturalPerson
	if err := s.Vault.Open(ctx, s.DB.Read(), ref, &np); err != nil {
		return nil, err
	}
	return &np, nil
}

// LinkCases links two cases p may see, both ways, with the reason.
func (s *Service) LinkCases(ctx context.Context, p *auth.Principal, caseID, otherID, reason string) (*Link, error) {
	if err := p.Require(RecordCases); err != nil {
		return nil, err
	}
	reason, err := check.Line("reason", reason, 300, true)
	if err != nil {
		return nil, err
	}
	if caseID == otherID {
		return nil, errs.Invalidf("link_self", "other_id", "a case cannot be linked to itself")
	}
	l := casesLinked{CaseID: caseID, OtherID: otherID, Reason: reason}
	_, err = s.W.Submit(ctx, p.Actor(), "link asset-recovery cases", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		if _, err := visibleCase(ctx, tx, p, "case_id", caseID); err != nil {
			return nil, err
		}
		if _, err := visibleCase(ctx, tx, p, "other_id", otherID); err != nil {
			return nil, err
		}
		var one int
		err := tx.QueryRow(ctx, "SELECT 1 FROM assets_case_links WHERE case_id = ? AND other_id = ?", caseID, otherID).Scan(&one)
		if err == nil {
			return nil, errs.New(errs.Conflict, "link_exists", "other_id", "cases %s and %s are linked already", caseID, otherID)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return ledger.NewEntry(TypeCasesLinked, l)
	})
	if err != nil {
		return nil, err
	}
	out := Link(l)
	return &out, nil
}
