package stats

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// MaxMappingRows is the most rows a mapping table holds.
const MaxMappingRows = 20000

var mappingIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ParseMapping reads a mapping table as CSV with the header
// national_code,national_label,iccs (a UTF-8 byte-order mark is allowed).
// It refuses a row with a category that is not an ICCS code, a missing
// code, or a national code mapped twice to the same category, naming the
// line and field. A national code mapped to two categories is kept: the
// mapping reports it as ambiguous, and records carrying it are refused.
func ParseMapping(r io.Reader) ([]MappingRow, error) {
	cr, lim := newCSV(r)
	// The header is read whatever its width, so that a header of other
	// columns is refused by the header rule; then every row has three.
	cr.FieldsPerRecord = -1
	h, err := cr.Read()
	if err == io.EOF {
		return nil, errs.Invalidf("empty_file", "file", "the file is empty: it needs a header line and records")
	}
	if err != nil {
		return nil, csvErr(err)
	}
	lim.next(cr, h)
	h[0] = strings.TrimPrefix(h[0], "\ufeff")
	if strings.Join(h, ",") != "national_code,national_label,iccs" {
		return nil, errs.Invalidf("column", "header", "a mapping file's header is national_code,national_label,iccs")
	}
	cr.FieldsPerRecord = 3
	var rows []MappingRow
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(err)
		}
		lim.next(cr, rec)
		line, _ := cr.FieldPos(0)
		if len(rows) == MaxMappingRows {
			return nil, errs.Invalidf("too_many", "file", "line %d: a mapping holds at most %d rows", line, MaxMappingRows)
		}
		row, err := mappingRow(line, MappingRow{NationalCode: rec[0], NationalLabel: rec[1], ICCS: rec[2]})
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	if _, err := checkRows(rows, true); err != nil {
		return nil, err
	}
	return rows, nil
}

// mappingRow checks one row (line n of a file, or row n-1 of a request).
func mappingRow(n int, r MappingRow) (MappingRow, error) {
	code, err := check.Line("national_code", r.NationalCode, 64, true)
	if err != nil {
		return r, errs.Invalidf(rule(err), "national_code", "line %d: national_code is required: a code of one line, up to 64 characters", n)
	}
	label, err := check.Line("national_label", r.NationalLabel, 300, false)
	if err != nil {
		return r, errs.Invalidf(rule(err), "national_label", "line %d: national_label is a title of one line, up to 300 characters", n)
	}
	if strings.TrimSpace(r.ICCS) == "" {
		return r, errs.Invalidf("required", "iccs", "line %d: iccs is required", n)
	}
	k, ok := ICCS.Lookup(r.ICCS)
	if !ok {
		return r, errs.Invalidf("iccs_code", "iccs", "line %d: %s is not an ICCS code (version %s)", n, errs.Echo(strings.TrimSpace(r.ICCS), errs.MaxEchoed), ICCS.Version)
	}
	return MappingRow{NationalCode: code, NationalLabel: label, ICCS: k.Code}, nil
}

// checkRows refuses a national code mapped twice to one category and
// returns the ambiguous codes with their categories. Lines count from 2
// (the header is line 1) when fromFile.
func checkRows(rows []MappingRow, fromFile bool) (map[string][]string, error) {
	seen := map[string][]string{}
	for i, r := range rows {
		if slices.Contains(seen[r.NationalCode], r.ICCS) {
			n := i + 1
			if fromFile {
				n = i + 2
			}
			return nil, errs.Invalidf("duplicate_mapping", "national_code", "line %d: %s is mapped to %s twice", n, r.NationalCode, r.ICCS)
		}
		seen[r.NationalCode] = append(seen[r.NationalCode], r.ICCS)
	}
	amb := map[string][]string{}
	for c, ts := range seen {
		if len(ts) > 1 {
			amb[c] = ts
		}
	}
	return amb, nil
}

func rowsSHA256(rows []MappingRow) string {
	b, _ := json.Marshal(rows)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// PublishMapping publishes the next version of a mapping (version 1 for a
// new id): every row is checked again, as ParseMapping does. A version
// identical to the latest is refused.
func (s *Service) PublishMapping(ctx context.Context, p *auth.Principal, in NewMapping) (*Mapping, error) {
	if err := p.Require(ManageMappings); err != nil {
		return nil, err
	}
	if !mappingIDRE.MatchString(in.ID) {
		return nil, errs.Invalidf("mapping_id", "id", "a mapping id is 1 to 64 letters, digits or . _ -, starting with a letter or digit")
	}
	const command = "publish a mapping to the ICCS"
	// A mapping is its first publisher's office's: another office's
	// version would recode the imports that office makes next. Another
	// office is refused before its name and rows are checked. An id that
	// differs from a mapping's only in case is that mapping's too: another
	// office could otherwise publish XA-PENAL-CODE beside xa-penal-code,
	// and an import naming it in other letters would be coded with the
	// other office's rows (ids are ASCII, so lower() folds them alike on
	// both engines).
	owned := func(ctx context.Context, q store.Queryer) error {
		rows, err := q.Query(ctx, `SELECT mapping_id, COALESCE((SELECT authority_id FROM principals WHERE principals.id = m.published_by), '')
			FROM stats_mappings m WHERE lower(mapping_id) = lower(?) AND version = 1 ORDER BY mapping_id`, in.ID)
		if err != nil {
			return err
		}
		defer rows.Close()
		var other, otherOwner string
		for rows.Next() {
			var id, owner string
			if err := rows.Scan(&id, &owner); err != nil {
				return err
			}
			if id == in.ID {
				if owner != p.AuthorityID {
					return errs.Alertf(errs.Forbidden, "authority", "id",
						"mapping %s was published by another authority (%s): only its statisticians publish its versions; publish yours under an id of your own", in.ID, owner)
				}
				return nil
			}
			if other == "" {
				other, otherOwner = id, owner
			}
		}
		if err := rows.Err(); err != nil || other == "" {
			return err
		}
		if otherOwner != p.AuthorityID {
			return errs.Alertf(errs.Forbidden, "authority", "id",
				"mapping id %s differs only in case from mapping %s, published by another authority (%s): publish yours under an id of your own", in.ID, other, otherOwner)
		}
		return errs.New(errs.Conflict, "mapping_id", "id", "mapping id %s differs only in case from your mapping %s: publish its next version under %s", in.ID, other, other)
	}
	if err := s.authorityFirst(ctx, p, command, owned); err != nil {
		return nil, err
	}
	name, err := check.Line("name", in.Name, 200, true)
	if err != nil {
		return nil, err
	}
	if len(in.Rows) == 0 {
		return nil, errs.Invalidf("required", "rows", "a mapping needs at least one row")
	}
	if len(in.Rows) > MaxMappingRows {
		return nil, errs.Invalidf("too_many", "rows", "a mapping holds at most %d rows", MaxMappingRows)
	}
	rows := make([]MappingRow, len(in.Rows))
	for i, r := range in.Rows {
		if rows[i], err = mappingRow(i+1, r); err != nil {
			return nil, err
		}
	}
	if _, err := checkRows(rows, false); err != nil {
		return nil, err
	}
	sum := rowsSHA256(rows)
	var version int
	_, err = s.W.Submit(ctx, p.Actor(), command, func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		if err := owned(ctx, tx); err != nil {
			return nil, err
		}
		var last sql.NullInt64
		var lastSum sql.NullString
		err := tx.QueryRow(ctx, "SELECT version, sha256 FROM stats_mappings WHERE mapping_id = ? ORDER BY version DESC LIMIT 1", in.ID).Scan(&last, &lastSum)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		if lastSum.String == sum {
			return nil, errs.New(errs.Conflict, "unchanged", "rows", "version %d of mapping %s has these rows already", last.Int64, in.ID)
		}
		version = int(last.Int64) + 1
		return ledger.NewEntry(TypeMappingPublished, mappingPublished{ID: in.ID, Version: version, Name: name, Classification: ICCS.Version, SHA256: sum, Rows: rows})
	})
	if err != nil {
		return nil, err
	}
	return s.Mapping(ctx, p, in.ID, version)
}

const mappingCols = "mapping_id, version, name, classification, codes, sha256, published_at, published_by, log_index"

func scanMapping(r store.Scanner, m *Mapping) error {
	return r.Scan(&m.ID, &m.Version, &m.Name, &m.Classification, &m.Codes, &m.SHA256, &m.PublishedAt, &m.PublishedBy, &m.LogIndex)
}

// Mappings lists the latest version of each mapping, by id.
func (s *Service) Mappings(ctx context.Context, p *auth.Principal) ([]Mapping, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+mappingCols+` FROM stats_mappings m
		WHERE version = (SELECT MAX(version) FROM stats_mappings l WHERE l.mapping_id = m.mapping_id) ORDER BY mapping_id`)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, scanMapping)
}

// Mapping returns a version of a mapping with its rows (the latest when
// version is 0) and the national codes it leaves ambiguous.
func (s *Service) Mapping(ctx context.Context, p *auth.Principal, id string, version int) (*Mapping, error) {
	if err := p.Require(ReadStatistics); err != nil {
		return nil, err
	}
	return loadMapping(ctx, s.DB.Read(), id, version)
}

func loadMapping(ctx context.Context, q store.Queryer, id string, version int) (*Mapping, error) {
	var m Mapping
	err := scanMapping(q.QueryRow(ctx, "SELECT "+mappingCols+" FROM stats_mappings WHERE mapping_id = ? AND (? = 0 OR version = ?) ORDER BY version DESC LIMIT 1",
		id, version, version), &m)
	if errors.Is(err, sql.ErrNoRows) {
		if version == 0 {
			return nil, errs.New(errs.NotFound, "reference", "mapping", "no mapping %s", errs.Echo(id, errs.MaxEchoed))
		}
		return nil, errs.New(errs.NotFound, "reference", "mapping", "no version %d of mapping %s", version, errs.Echo(id, errs.MaxEchoed))
	}
	if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT national_code, national_label, iccs FROM stats_mapping_rows WHERE mapping_id = ? AND version = ? ORDER BY id", m.ID, m.Version)
	if err != nil {
		return nil, err
	}
	if m.Rows, err = store.Rows(rows, func(r store.Scanner, x *MappingRow) error { return r.Scan(&x.NationalCode, &x.NationalLabel, &x.ICCS) }); err != nil {
		return nil, err
	}
	amb, _ := checkRows(m.Rows, false)
	for c := range amb {
		m.Ambiguous = append(m.Ambiguous, c)
	}
	slices.Sort(m.Ambiguous)
	return &m, nil
}

// codeMap is the mapping as the records parser reads it.
func (m *Mapping) codeMap() *codeMap {
	cm := &codeMap{id: m.ID, version: m.Version, codes: map[string]uint16{}, targets: map[string][]string{}}
	for _, r := range m.Rows {
		cm.targets[r.NationalCode] = append(cm.targets[r.NationalCode], r.ICCS)
	}
	for c, ts := range cm.targets {
		if len(ts) == 1 {
			cm.codes[c] = uint16(ICCS.index[ts[0]]) + 1
			delete(cm.targets, c)
		} else {
			cm.codes[c] = 0
		}
	}
	return cm
}

// CheckCodes reads a national records file (its offence_code column, the
// other columns checked as an import checks them) and reports the codes a
// mapping version does not map or maps ambiguously, without importing
// anything. A row refused for another reason refuses the check, as it
// would the import.
func (s *Service) CheckCodes(ctx context.Context, p *auth.Principal, mapping string, version int, r io.Reader) (*MappingReport, error) {
	if err := p.Require(ImportRecords); err != nil {
		return nil, err
	}
	m, err := loadMapping(ctx, s.DB.Read(), mapping, version)
	if err != nil {
		return nil, err
	}
	cm := m.codeMap()
	ps := &parser{m: cm, now: s.now().UTC().Format(check.DateLayout), report: true}
	out, err := ps.parse(r)
	if err != nil {
		return nil, err
	}
	rep := &MappingReport{Mapping: m.ID, Version: m.Version, Unmapped: []CodeCount{}, Ambiguous: []CodeCount{}}
	for c := range ps.offence {
		if _, bad := out.unmapped[c]; !bad {
			if _, bad := out.ambiguous[c]; !bad {
				rep.Mapped++
			}
		}
	}
	for c, n := range out.unmapped {
		rep.Unmapped = append(rep.Unmapped, CodeCount{Code: c, Records: n})
	}
	for c, n := range out.ambiguous {
		rep.Ambiguous = append(rep.Ambiguous, CodeCount{Code: c, Records: n, ICCS: cm.targets[c]})
	}
	byCode := func(a, b CodeCount) int { return strings.Compare(a.Code, b.Code) }
	slices.SortFunc(rep.Unmapped, byCode)
	slices.SortFunc(rep.Ambiguous, byCode)
	return rep, nil
}
