package transplant

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/disclosure"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- The assessment of a report, and the UNODC return (resolution VI,
// para 18; docs/trafficking.md) ----
//
// While a report is under assessment (or once referred to law enforcement)
// the designated authority records its assessment: whether trafficking in
// persons for organ removal is confirmed and, for the return to UNODC, the
// year of the removal, the organ, and the donor's and the recipient's
// nationality, sex and age band. No direct identifier: no name, no date of
// birth (an age band), no record id. The UNODC return counts the confirmed
// cases by year and by each of those, every table protected by the core's
// disclosure control (internal/disclosure), and is exported as CSV or XLSX
// (internal/export) for the regulator and the designated authority.

// TypeTraffickingAssessed records a report's assessment.
const TypeTraffickingAssessed = "transplant.trafficking_report_assessed"

// The conclusions of an assessment.
const (
	AssessmentConfirmed    = "confirmed"
	AssessmentNotConfirmed = "not_confirmed"
	AssessmentInconclusive = "inconclusive"
)

// AssessmentConclusions lists the conclusions.
var AssessmentConclusions = []string{AssessmentConfirmed, AssessmentNotConfirmed, AssessmentInconclusive}

// Unknown is the value of a case's attribute the authority does not know.
const Unknown = "unknown"

// AgeBands are the age bands of a case's donor and recipient at the
// removal: children apart, then ten-year bands, as the UNODC Global Report
// on Trafficking in Persons disaggregates victims.
var AgeBands = []string{"0-17", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", Unknown}

// CaseOrgans are the organs an assessment names: the registry's, or unknown.
var CaseOrgans = append(slices.Clone(OrganTypes), Unknown)

// firstCaseYear is the earliest year of a removal an assessment takes.
const firstCaseYear = 1990

// CasePerson is the donor or the recipient of a case as the UNODC return
// counts them: nationality (ISO 3166-1 alpha-2, or unknown), sex (one of
// Sexes) and age band (one of AgeBands).
type CasePerson struct {
	Nationality string `json:"nationality" api:"required"`
	Sex         string `json:"sex" api:"required"`
	AgeBand     string `json:"age_band" api:"required"`
}

// TraffickingAssessment is the designated authority's assessment of a
// report.
type TraffickingAssessment struct {
	Conclusion string     `json:"conclusion" api:"required"`
	Year       int        `json:"year" api:"required"` // of the organ removal
	Organ      string     `json:"organ" api:"required"`
	Donor      CasePerson `json:"donor" api:"required"`
	Recipient  CasePerson `json:"recipient" api:"required"`
	// Read, not given: when and by whom it was last recorded.
	AssessedAt string `json:"assessed_at,omitempty"`
	AssessedBy string `json:"assessed_by,omitempty"`
}

// assessmentRecorded is the data of TypeTraffickingAssessed.
type assessmentRecorded struct {
	ReportID string `json:"report_id"`
	TraffickingAssessment
}

// check validates the person named field (donor or recipient), normalising
// the nationality to upper case, or unknown, as a treatment abroad's
// donor's (country: ZZ refused, known_state).
func (c *CasePerson) check(field string) error {
	var err error
	if c.Nationality, err = country(field+".nationality", c.Nationality, true); err != nil {
		return err
	}
	if err := check.OneOf(field+".sex", c.Sex, Sexes); err != nil {
		return err
	}
	return check.OneOf(field+".age_band", c.AgeBand, AgeBands)
}

// validate checks an assessment before anything is read; the year is
// checked against the clock in the writer.
func (a *TraffickingAssessment) validate() error {
	a.AssessedAt, a.AssessedBy = "", ""
	if err := check.OneOf("conclusion", a.Conclusion, AssessmentConclusions); err != nil {
		return err
	}
	if err := check.OneOf("organ", a.Organ, CaseOrgans); err != nil {
		return err
	}
	if err := a.Donor.check("donor"); err != nil {
		return err
	}
	return a.Recipient.check("recipient")
}

// AssessTraffickingReport records the designated authority's assessment of
// report id, replacing the one recorded before: while the report is under
// assessment or referred to law enforcement (rule assessment_status).
func (s *Service) AssessTraffickingReport(ctx context.Context, p *auth.Principal, id string, in TraffickingAssessment) (*TraffickingAssessment, error) {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	_, err := s.W.Submit(ctx, p.Actor(), "assess a trafficking report", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.IntRange("year", &in.Year, firstCaseYear, now.Year()); err != nil {
			return nil, err
		}
		var cur string
		err := tx.QueryRow(ctx, "SELECT status FROM trafficking_reports WHERE id = ?", id).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, noReport(id)
		}
		if err != nil {
			return nil, err
		}
		if cur != TraffickingUnderAssessment && cur != TraffickingReferred {
			return nil, errs.New(errs.Conflict, "assessment_status", "status",
				"report %s is %s: a report is assessed while under assessment or once referred to law enforcement", id, cur)
		}
		return ledger.NewEntry(TypeTraffickingAssessed, assessmentRecorded{ReportID: id, TraffickingAssessment: in})
	})
	if err != nil {
		return nil, err
	}
	return s.TraffickingAssessment(ctx, p, id)
}

const assessmentCols = `conclusion, year, organ, donor_nationality, donor_sex, donor_age_band, recipient_nationality, recipient_sex,
	recipient_age_band, assessed_at, assessed_by`

func scanAssessment(sc store.Scanner, a *TraffickingAssessment) error {
	return sc.Scan(&a.Conclusion, &a.Year, &a.Organ, &a.Donor.Nationality, &a.Donor.Sex, &a.Donor.AgeBand,
		&a.Recipient.Nationality, &a.Recipient.Sex, &a.Recipient.AgeBand, &a.AssessedAt, &a.AssessedBy)
}

// TraffickingAssessment reads report id's assessment, for the designated
// authority; a report not assessed yet is not found.
func (s *Service) TraffickingAssessment(ctx context.Context, p *auth.Principal, id string) (*TraffickingAssessment, error) {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return nil, err
	}
	var a TraffickingAssessment
	err := scanAssessment(s.DB.Read().QueryRow(ctx, "SELECT "+assessmentCols+" FROM trafficking_assessments WHERE report_id = ?", id), &a)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "id", "trafficking report %s has no assessment", id)
	}
	return &a, err
}

// refuseUnfoundedIfConfirmed refuses closing report id as unfounded when
// its assessment confirms trafficking (rule assessment_confirmed).
func refuseUnfoundedIfConfirmed(ctx context.Context, tx *store.Tx, id string) error {
	var conclusion string
	err := tx.QueryRow(ctx, "SELECT conclusion FROM trafficking_assessments WHERE report_id = ?", id).Scan(&conclusion)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	if conclusion == AssessmentConfirmed {
		return errs.New(errs.Conflict, "assessment_confirmed", "status",
			"report %s is assessed as confirmed trafficking: record another assessment before closing it as unfounded", id)
	}
	return nil
}

// projectAssessments adds the assessments' projector and table.
func projectAssessments(reg *ledger.Projections) {
	ledger.On(reg, TypeTraffickingAssessed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, a *assessmentRecorded) error {
		if _, err := q.Exec(ctx, "DELETE FROM trafficking_assessments WHERE report_id = ?", a.ReportID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO trafficking_assessments (report_id, conclusion, year, organ, donor_nationality, donor_sex, donor_age_band,
			recipient_nationality, recipient_sex, recipient_age_band, assessed_at, assessed_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ReportID, a.Conclusion, a.Year, a.Organ, a.Donor.Nationality, a.Donor.Sex, a.Donor.AgeBand,
			a.Recipient.Nationality, a.Recipient.Sex, a.Recipient.AgeBand, e.At, e.By, idx)
		return err
	})
	reg.Tables(ledger.Table{Name: "trafficking_assessments", Order: "report_id"})
}

// ---- The UNODC return ----

// ListUNODC is the UNODC return as exports name it.
const ListUNODC = "unodc"

// ExportUNODC is exporting the UNODC return: counts of confirmed cases, no
// record.
var ExportUNODC = auth.NewAction("export the anonymized return of trafficking cases to UNODC", auth.Regulator, RoleTraffickingAssessor)

// UNODCBreakdowns are what the return counts confirmed cases by, besides
// the year: each a table of its own.
var UNODCBreakdowns = []string{"organ", "donor_nationality", "donor_sex", "donor_age_band", "recipient_nationality", "recipient_sex", "recipient_age_band"}

// UNODCColumns are the return's columns: a long table, one line per cell
// of each breakdown's table, its totals included (year or category
// "total"), the count or disclosure.Suppressed.
var UNODCColumns = []string{"breakdown", "year", "category", "cases"}

// DisclosureThreshold is the threshold of the disclosure control the
// registry's published figures are protected with.
func (s *Service) DisclosureThreshold() int {
	if s.Cfg.DisclosureThreshold > 0 {
		return s.Cfg.DisclosureThreshold
	}
	return disclosure.DefaultThreshold
}

// UNODCExport reads the export of the UNODC return the query q asks for:
// its format (csv or xlsx) and nothing else, as the return counts every
// confirmed case. The tables are counted when the export runs, in its
// snapshot.
func (s *Service) UNODCExport(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(ExportUNODC); err != nil {
		return export.Request{}, err
	}
	format, filter, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range filter {
			if !yield(k) {
				return
			}
		}
	}) {
		return export.Request{}, errs.Invalidf("query", k, "the UNODC return counts every confirmed case: it takes no %s", k)
	}
	return export.Request{Registry: Module.Name, List: ListUNODC, Format: format, Filter: filter, Columns: UNODCColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				tables, err := s.unodcTables(ctx)
				if err != nil {
					yield(nil, err)
					return
				}
				for i, t := range tables {
					for line := range unodcLines(UNODCBreakdowns[i], t) {
						if !yield(line, nil) {
							return
						}
					}
				}
			}
		}}, nil
}

// unodcTables counts the confirmed cases (an assessment that confirms
// trafficking, of a report not closed as unfounded) by year and by each
// breakdown, and protects each table. A year's total is the same in every
// table: suppressed in one, it is suppressed in all, so that no table gives
// away what another hides.
func (s *Service) unodcTables(ctx context.Context) ([]disclosure.Published, error) {
	rows, err := s.DB.Read().Query(ctx, "SELECT "+assessmentCols+` FROM trafficking_assessments a JOIN trafficking_reports r ON r.id = a.report_id
		WHERE a.conclusion = ? AND r.status <> ? ORDER BY a.report_id`, AssessmentConfirmed, TraffickingUnfounded)
	if err != nil {
		return nil, err
	}
	cases, err := store.Rows(rows, scanAssessment)
	if err != nil {
		return nil, err
	}
	var years []string
	for _, c := range cases {
		if y := strconv.Itoa(c.Year); !slices.Contains(years, y) {
			years = append(years, y)
		}
	}
	slices.Sort(years)
	value := func(c *TraffickingAssessment, b string) string {
		return map[string]string{"organ": c.Organ, "donor_nationality": c.Donor.Nationality, "donor_sex": c.Donor.Sex,
			"donor_age_band": c.Donor.AgeBand, "recipient_nationality": c.Recipient.Nationality, "recipient_sex": c.Recipient.Sex,
			"recipient_age_band": c.Recipient.AgeBand}[b]
	}
	out := make([]disclosure.Published, len(UNODCBreakdowns))
	for k, b := range UNODCBreakdowns {
		var cats []string
		switch {
		case b == "organ":
			cats = CaseOrgans
		case strings.HasSuffix(b, "_sex"):
			cats = Sexes
		case strings.HasSuffix(b, "_age_band"):
			cats = AgeBands
		default: // nationalities: those of the cases, unknown last
			for i := range cases {
				if v := value(&cases[i], b); v != Unknown && !slices.Contains(cats, v) {
					cats = append(cats, v)
				}
			}
			slices.Sort(cats)
			cats = append(cats, Unknown)
		}
		t := disclosure.Table{Title: b, Corner: "year", Rows: years, Cols: cats, Counts: make([][]int, len(years))}
		for i := range years {
			t.Counts[i] = make([]int, len(cats))
		}
		for i := range cases {
			t.Counts[slices.Index(years, strconv.Itoa(cases[i].Year))][slices.Index(cats, value(&cases[i], b))]++
		}
		if out[k], err = disclosure.Protect(t, s.DisclosureThreshold()); err != nil {
			return nil, err
		}
	}
	hidden := func(c disclosure.Cell) disclosure.Cell {
		c.Suppressed, c.Value = true, 0
		return c
	}
	for i := range years {
		if slices.ContainsFunc(out, func(p disclosure.Published) bool { return p.RowTotals[i].Suppressed }) {
			for k := range out {
				if !out[k].RowTotals[i].Suppressed {
					out[k].RowTotals[i] = hidden(out[k].RowTotals[i])
				}
			}
		}
	}
	if slices.ContainsFunc(out, func(p disclosure.Published) bool { return p.Total.Suppressed }) {
		for k := range out {
			if !out[k].Total.Suppressed {
				out[k].Total = hidden(out[k].Total)
			}
		}
	}
	return out, nil
}

// unodcLines yields a published table as lines of the return: each cell
// (breakdown, year, category, cases), each year's total (category total),
// each category's total (year total) and the table's.
func unodcLines(breakdown string, p disclosure.Published) iter.Seq[[]any] {
	cell := func(c disclosure.Cell) any {
		if c.Suppressed {
			return disclosure.Suppressed
		}
		return c.Value
	}
	return func(yield func([]any) bool) {
		for i, y := range p.Rows {
			for j, c := range p.Cols {
				if !yield([]any{breakdown, y, c, cell(p.Cells[i][j])}) {
					return
				}
			}
			if !yield([]any{breakdown, y, "total", cell(p.RowTotals[i])}) {
				return
			}
		}
		for j, c := range p.Cols {
			if !yield([]any{breakdown, "total", c, cell(p.ColTotals[j])}) {
				return
			}
		}
		yield([]any{breakdown, "total", "total", cell(p.Total)})
	}
}
