package assets

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// MaxDirectoryRows is the most entries one import records.
const MaxDirectoryRows = 5000

// DirectoryColumns are the columns of a directory file, in the order an
// export writes them; a file gives them in any order, id optional.
var DirectoryColumns = []string{"id", "state", "kind", "name", "legal_bases", "treaty", "languages", "channels",
	"email", "phone", "address", "available_24_7", "contact_24_7", "notes"}

// LineError is a line of a directory file refused: its number (the header
// is line 1), the rule and the column, and the refusal.
type LineError struct {
	Line    int    `json:"line"`
	Rule    string `json:"rule"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// DirectoryImport is what an import recorded, or every line it refused.
type DirectoryImport struct {
	Recorded int            `json:"recorded"`
	Refused  []LineError    `json:"refused"`
	Entries  []ContactPoint `json:"-"`
}

// checkContact checks an entry of the directory fully and returns it
// cleaned; id is kept (a new entry's is given by the command).
func checkContact(c ContactPoint) (ContactPoint, error) {
	var err error
	if c.State, err = country("state", c.State); err != nil {
		return c, err
	}
	if err := check.RealState("state", c.State); err != nil {
		return c, err
	}
	if err := check.OneOf("kind", c.Kind, EntryKinds); err != nil {
		return c, err
	}
	if c.Name, err = check.Line("name", c.Name, 300, true); err != nil {
		return c, err
	}
	if len(c.LegalBases) == 0 {
		return c, errs.Invalidf("required", "legal_bases", "legal_bases is required")
	}
	for i, b := range c.LegalBases {
		if err := check.OneOf(check.Index("legal_bases", i), b, LegalBases); err != nil {
			return c, err
		}
	}
	if c.Treaty, err = check.Line("treaty", c.Treaty, 300, false); err != nil {
		return c, err
	}
	if slices.Contains(c.LegalBases, BasisBilateral) != (c.Treaty != "") {
		return c, errs.Invalidf("treaty", "treaty", "name the treaty when, and only when, a bilateral treaty is a legal basis")
	}
	for i, l := range c.Languages {
		if !validLanguage(l) {
			return c, errs.Invalidf("language", check.Index("languages", i), "%s must be a language code of two small letters (ISO 639-1)", check.Index("languages", i))
		}
	}
	if len(c.Languages) == 0 {
		return c, errs.Invalidf("required", "languages", "languages is required")
	}
	for i, ch := range c.Channels {
		if err := check.OneOf(check.Index("channels", i), ch, Channels); err != nil {
			return c, err
		}
	}
	if c.Email != "" {
		if c.Email, err = check.Email("email", c.Email); err != nil {
			return c, err
		}
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"phone", &c.Phone, 64}, {"address", &c.Address, 500}, {"contact_24_7", &c.Contact247, 300}, {"notes", &c.Notes, 2000}} {
		if *f.v, err = check.Line(f.name, *f.v, f.max, false); err != nil {
			return c, err
		}
	}
	if c.Email == "" && c.Phone == "" && c.Address == "" {
		return c, errs.Invalidf("contact", "email", "give at least one way to reach the authority: email, phone or address")
	}
	if c.Available247 && c.Contact247 == "" {
		return c, errs.Invalidf("contact_24_7", "contact_24_7", "an authority available 24/7 needs its 24/7 line or address")
	}
	return c, nil
}

// ParseDirectory reads a directory file (CSV, a header line naming
// DirectoryColumns in any order, lists separated by semicolons) and checks
// every line, returning the entries and every line it refuses. An error is
// a file that cannot be read as a directory at all (no header, an unknown
// column, too many lines).
func ParseDirectory(r io.Reader) ([]ContactPoint, []LineError, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(2); bytes.Equal(bom, []byte{0xff, 0xfe}) || bytes.Equal(bom, []byte{0xfe, 0xff}) {
		return nil, nil, errs.Invalidf("utf8", "file", "the file is UTF-16 text: save it as CSV in UTF-8")
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, errs.Invalidf("empty_file", "file", "the directory file is empty: it needs a header line and entries")
	}
	if err != nil {
		return nil, nil, errs.Invalidf("csv", "file", "line 1 is not CSV")
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if !slices.Contains(DirectoryColumns, h) {
			return nil, nil, errs.Invalidf("column", "file", "line 1: %s is not a column of a directory file", strconv.QuoteToGraphic(h))
		}
		if _, dup := col[h]; dup {
			return nil, nil, errs.Invalidf("column", "file", "line 1: the column %s is given twice", h)
		}
		col[h] = i
	}
	for _, need := range []string{"state", "kind", "name", "legal_bases", "languages"} {
		if _, ok := col[need]; !ok {
			return nil, nil, errs.Invalidf("column", "file", "line 1: the column %s is missing", need)
		}
	}
	var out []ContactPoint
	var refused []LineError
	for n := 2; ; n++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				n = pe.Line
			}
			refused = append(refused, LineError{Line: n, Rule: "csv", Field: "file", Message: fmt.Sprintf("line %d is not CSV", n)})
			break
		}
		if line, _ := cr.FieldPos(0); line > 0 {
			n = line
		}
		if len(out)+len(refused) >= MaxDirectoryRows {
			return nil, nil, errs.Invalidf("too_many", "file", "line %d: a directory file holds at most %d entries", n, MaxDirectoryRows)
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return rec[i]
			}
			return ""
		}
		if len(rec) != len(head) {
			refused = append(refused, LineError{Line: n, Rule: "columns", Field: "file", Message: fmt.Sprintf("line %d has %d fields for %d columns", n, len(rec), len(head))})
			continue
		}
		c := ContactPoint{ID: strings.TrimSpace(get("id")), State: get("state"), Kind: strings.TrimSpace(get("kind")), Name: get("name"),
			LegalBases: list(get("legal_bases")), Treaty: get("treaty"), Languages: list(get("languages")), Channels: list(get("channels")),
			Email: strings.TrimSpace(get("email")), Phone: get("phone"), Address: get("address"), Contact247: get("contact_24_7"), Notes: get("notes")}
		switch v := strings.ToLower(strings.TrimSpace(get("available_24_7"))); v {
		case "", "no", "false", "0":
		case "yes", "true", "1":
			c.Available247 = true
		default:
			refused = append(refused, LineError{Line: n, Rule: "boolean", Field: "available_24_7", Message: "available_24_7 must be yes or no"})
			continue
		}
		if c, err = checkContact(c); err != nil {
			e, _ := errs.As(err)
			if e == nil {
				return nil, nil, err
			}
			refused = append(refused, LineError{Line: n, Rule: e.Rule, Field: e.Field, Message: e.Message})
			continue
		}
		c.line = n
		out = append(out, c)
	}
	if len(out) == 0 && len(refused) == 0 {
		return nil, nil, errs.Invalidf("empty_file", "file", "the directory file is empty: it needs a header line and entries")
	}
	return out, refused, nil
}

// RecordContact records one entry of the directory: a new one, or a new
// version of the entry whose id it gives.
func (s *Service) RecordContact(ctx context.Context, p *auth.Principal, in ContactPoint) (*ContactPoint, error) {
	if err := p.Require(ManageDirectory); err != nil {
		return nil, err
	}
	c, err := checkContact(in)
	if err != nil {
		return nil, err
	}
	if e, err := othersEntries(ctx, s.DB.Read(), p, []ContactPoint{c}); err != nil {
		return nil, err
	} else if e != nil {
		return nil, s.W.Refused(ctx, p.Actor(), "record directory entries", e)
	}
	out, _, err := s.recordDirectory(ctx, p, "form", []ContactPoint{c})
	if err != nil {
		return nil, err
	}
	return &out[0], nil
}

// ImportDirectory reads a directory file and records its entries in one
// entry of the log, or, when any line is refused, records nothing and
// returns every refused line (Refused) with a refusal naming the first.
func (s *Service) ImportDirectory(ctx context.Context, p *auth.Principal, source string, r io.Reader) (*DirectoryImport, error) {
	if err := p.Require(ManageDirectory); err != nil {
		return nil, err
	}
	source, err := check.Line("source", source, 200, true)
	if err != nil {
		return nil, err
	}
	entries, refused, err := ParseDirectory(r)
	if err != nil {
		return nil, err
	}
	if e, err := othersEntries(ctx, s.DB.Read(), p, entries); err != nil {
		return nil, err
	} else if e != nil {
		return nil, s.W.Refused(ctx, p.Actor(), "record directory entries", e)
	}
	if len(refused) > 0 {
		// The ids the good lines give are checked too, so that every
		// refused line is named at once.
		more, _, err := checkIDs(ctx, s.DB.Read(), entries)
		if err != nil {
			return nil, err
		}
		refused = append(refused, more...)
		slices.SortStableFunc(refused, func(a, b LineError) int { return a.Line - b.Line })
		f := refused[0]
		return &DirectoryImport{Refused: refused}, errs.Invalidf(f.Rule, f.Field, "lines of the file refused: %d; nothing was recorded; the first, line %d: %s", len(refused), f.Line, f.Message)
	}
	out, refused, err := s.recordDirectory(ctx, p, source, entries)
	if len(refused) > 0 {
		return &DirectoryImport{Refused: refused}, err
	}
	if err != nil {
		return nil, err
	}
	return &DirectoryImport{Recorded: len(out), Refused: []LineError{}, Entries: out}, nil
}

// checkIDs checks the entries given with an id, each a new version of that
// entry: the id must name an entry of the directory (rule reference, field
// id), of the same state, since an id does not move to another state (rule
// directory_state, field state): a request drafted to the entry would then
// go to another state than the one it names. It returns a refusal for each
// line of a file that fails (LineError), and the first refusal: for an
// entry of no file (a form's, line 0) an unknown id is not found, as any id
// a request names that is not there.
func checkIDs(ctx context.Context, q store.Queryer, entries []ContactPoint) ([]LineError, *errs.Error, error) {
	var refused []LineError
	var first *errs.Error
	for _, c := range entries {
		if c.ID == "" {
			continue
		}
		var state string
		err := q.QueryRow(ctx, "SELECT state FROM assets_directory WHERE id = ?", c.ID).Scan(&state)
		var e *errs.Error
		switch {
		case !strings.HasPrefix(c.ID, "DI-") || errors.Is(err, sql.ErrNoRows):
			if c.line == 0 {
				return nil, errs.New(errs.NotFound, "reference", "id", "no directory entry %s", c.ID), nil
			}
			e = errs.Invalidf("reference", "id", "no directory entry %s", c.ID)
		case err != nil:
			return nil, nil, err
		case state != c.State:
			e = errs.Invalidf("directory_state", "state", "the directory entry %s is of %s: it does not move to %s; record the other state's entry without an id", c.ID, state, c.State)
		default:
			continue
		}
		refused = append(refused, LineError{Line: c.line, Rule: e.Rule, Field: e.Field, Message: e.Message})
		if first == nil {
			first = e
		}
	}
	return refused, first, nil
}

// othersEntries refuses a central authority officer an entry of another
// state's (rule directory_own_state, 403, with an alert), naming the first
// such line: each state publishes its own entries, as in the UNODC
// directory of competent national authorities. A new version of another
// state's entry (field id) would redirect the requests every other state
// drafts to that authority; a new entry of another state (field state)
// would put a second, false authority beside it. Copying another state's
// published directory is the regulator's and the administrator's, who
// record any state's entries. An officer whose authority has no state
// records none (noState). It returns nil when p may record entries.
func othersEntries(ctx context.Context, q store.Queryer, p *auth.Principal, entries []ContactPoint) (*errs.Error, error) {
	if p.Role != RoleCentralAuthority {
		return nil, nil
	}
	if p.Jurisdiction == "" {
		return noState(), nil
	}
	var first *errs.Error
	line, n := 0, 0
	for _, c := range entries {
		state := c.State
		if c.ID != "" {
			err := q.QueryRow(ctx, "SELECT state FROM assets_directory WHERE id = ?", c.ID).Scan(&state)
			if errors.Is(err, sql.ErrNoRows) {
				continue // not an entry: checkIDs refuses it
			}
			if err != nil {
				return nil, err
			}
		}
		if state == p.Jurisdiction {
			continue
		}
		if n++; first != nil {
			continue
		}
		line = c.line
		if c.ID != "" {
			first = errs.Alertf(errs.Forbidden, "directory_own_state", "id",
				"the directory entry %s is %s's: a central authority officer changes its own state's entries only; %s's central authority or the regulator changes it",
				c.ID, state, state)
		} else {
			first = errs.Alertf(errs.Forbidden, "directory_own_state", "state",
				"an entry of %s: a central authority officer records its own state's (%s) entries only; %s's central authority publishes its own, and the regulator copies another state's published directory",
				state, p.Jurisdiction, state)
		}
	}
	if first == nil || line == 0 {
		return first, nil
	}
	return errs.Alertf(errs.Forbidden, "directory_own_state", first.Field,
		"lines of the file for another state's entries: %d; nothing was recorded; the first, line %d: %s", n, line, first.Message), nil
}

// recordDirectory records entries in one entry of the log. An entry given
// with its id is a new version of that entry (checkIDs); every line
// refused is returned, and nothing is recorded.
func (s *Service) recordDirectory(ctx context.Context, p *auth.Principal, source string, entries []ContactPoint) ([]ContactPoint, []LineError, error) {
	var given []ContactPoint
	for i := range entries {
		if entries[i].ID != "" {
			given = append(given, entries[i])
		} else {
			entries[i].ID = s.W.IDs().New("DI")
		}
		entries[i].Source = source
	}
	var refused []LineError
	_, err := s.W.Submit(ctx, p.Actor(), "record directory entries", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var first *errs.Error
		var err error
		if refused, first, err = checkIDs(ctx, tx, given); err != nil {
			return nil, err
		}
		if first != nil {
			if len(refused) > 0 && refused[0].Line > 0 {
				f := refused[0]
				return nil, errs.Invalidf(f.Rule, f.Field, "lines of the file refused: %d; nothing was recorded; the first, line %d: %s", len(refused), f.Line, f.Message)
			}
			return nil, first
		}
		return ledger.NewEntry(TypeDirectoryRecorded, directoryRecorded{Source: source, Entries: entries})
	})
	if err != nil {
		return nil, refused, err
	}
	return entries, nil, nil
}

// DirectoryFilter filters the directory: by state, kind, legal basis, and a
// text its name, treaty or notes hold.
type DirectoryFilter struct {
	State, Kind, Basis, Q string
}

// Directory lists the directory's entries by state, kind and name.
func (s *Service) Directory(ctx context.Context, p *auth.Principal, f DirectoryFilter) ([]ContactPoint, error) {
	if err := p.Require(ReadDirectory); err != nil {
		return nil, err
	}
	if f.State != "" {
		if _, err := country("state", f.State); err != nil {
			return nil, err
		}
	}
	if f.Kind != "" {
		if err := check.OneOf("kind", f.Kind, EntryKinds); err != nil {
			return nil, err
		}
	}
	if f.Basis != "" {
		if err := check.OneOf("basis", f.Basis, LegalBases); err != nil {
			return nil, err
		}
	}
	q := `SELECT id, state, kind, name, legal_bases, treaty, languages, channels, email, phone, address, available_247, contact_247, notes,
		source, recorded_at FROM assets_directory WHERE (? = '' OR state = ?) AND (? = '' OR kind = ?)
		AND (? = '' OR ' ' || legal_bases || ' ' LIKE ?) AND (? = '' OR LOWER(name || ' ' || treaty || ' ' || notes) LIKE ? ESCAPE '\') ORDER BY state, kind, name, id`
	text, like, err := check.Contains("q", f.Q)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, q, f.State, f.State, f.Kind, f.Kind, f.Basis, "% "+f.Basis+" %", text, like)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *ContactPoint) error {
		var bases, langs, chans string
		var a int
		if err := r.Scan(&c.ID, &c.State, &c.Kind, &c.Name, &bases, &c.Treaty, &langs, &chans, &c.Email, &c.Phone, &c.Address, &a,
			&c.Contact247, &c.Notes, &c.Source, &c.RecordedAt); err != nil {
			return err
		}
		c.LegalBases, c.Languages, c.Channels, c.Available247 = list(bases), list(langs), list(chans), a == 1
		return nil
	})
}
