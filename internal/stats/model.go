package stats

// Entry types of the registry.
const (
	TypeMappingPublished = "stats.mapping_published"
	TypeRecordsImported  = "stats.records_imported"
	TypeImportWithdrawn  = "stats.import_withdrawn"
)

// MappingRow is one line of a mapping table: a national offence code, its
// national title, and the ICCS category it is counted under (any level: a
// national offence that spans a division's groups maps to the division).
type MappingRow struct {
	NationalCode  string `json:"national_code"`
	NationalLabel string `json:"national_label"`
	ICCS          string `json:"iccs"`
}

// Mapping is one version of a mapping table. A mapping is published whole;
// publishing it again makes its next version, and an import names the
// version it was coded with, so figures already imported keep theirs.
type Mapping struct {
	ID             string       `json:"id"`
	Version        int          `json:"version"`
	Name           string       `json:"name"`
	Classification string       `json:"classification"` // ICCS version of the targets, "1.0"
	Codes          int          `json:"codes"`
	SHA256         string       `json:"sha256"` // of the canonical rows
	PublishedAt    string       `json:"published_at"`
	PublishedBy    string       `json:"published_by"`
	LogIndex       int64        `json:"log_index"`
	Rows           []MappingRow `json:"rows,omitempty"` // one mapping only
	// Ambiguous lists the national codes the table maps to more than one
	// ICCS category: records carrying them are refused until a later
	// version settles them.
	Ambiguous []string `json:"ambiguous,omitempty"`
}

// NewMapping is a mapping to publish: its id (letters, digits, . _ -), a
// name for people, and its rows (ParseMapping reads them from CSV).
type NewMapping struct {
	ID   string       `json:"id" api:"required"`
	Name string       `json:"name" api:"required"`
	Rows []MappingRow `json:"rows" api:"required"`
}

// MappingReport is the check of national offence codes against a mapping:
// those it does not map, and those it maps to more than one category, each
// with how many records carry it.
type MappingReport struct {
	Mapping   string      `json:"mapping"`
	Version   int         `json:"version"`
	Mapped    int         `json:"mapped"` // distinct codes mapped to one category
	Unmapped  []CodeCount `json:"unmapped"`
	Ambiguous []CodeCount `json:"ambiguous"`
}

// CodeCount is a national code and how many records carry it.
type CodeCount struct {
	Code    string   `json:"code"`
	Records int      `json:"records"`
	ICCS    []string `json:"iccs,omitempty"` // the categories an ambiguous code maps to
}

// ImportRequest says what an import is: the file's name (for the log; no
// path), and the mapping version its national codes are read with (latest
// when Version is 0).
type ImportRequest struct {
	Source         string `json:"source"`
	Mapping        string `json:"mapping"`
	MappingVersion int    `json:"mapping_version"`
}

// Import is one import of national records.
type Import struct {
	ID             string `json:"id"`
	Mapping        string `json:"mapping"`
	MappingVersion int    `json:"mapping_version"`
	Source         string `json:"source"`
	FileSHA256     string `json:"file_sha256"`
	ColumnsSHA256  string `json:"columns_sha256"`
	// RecordsDigest is the records' multiset digest: the same for a copy
	// of the file with other line endings, quoting, column or row order.
	RecordsDigest string `json:"records_digest,omitempty"`
	Records       int64  `json:"records"` // rows of the file
	Total         int64  `json:"total"`   // what they count (the sum of count)
	Chunks        int    `json:"chunks"`
	FirstDate     string `json:"first_date"` // YYYY-MM-DD, YYYY-MM or YYYY as given
	LastDate      string `json:"last_date"`
	ImportedAt    string `json:"imported_at"`
	ImportedBy    string `json:"imported_by"`
	// Authority is the authority of the statistician who imported it: its
	// statisticians alone may withdraw it.
	Authority string `json:"authority_id"`
	LogIndex  int64  `json:"log_index"`
	// A withdrawn import is no longer counted: when, by whom, why, and
	// the log entry that withdrew it.
	WithdrawnAt      string `json:"withdrawn_at,omitempty"`
	WithdrawnBy      string `json:"withdrawn_by,omitempty"`
	WithdrawalReason string `json:"withdrawal_reason,omitempty"`
	WithdrawalIndex  int64  `json:"withdrawal_index,omitempty"`
	// Unchanged is set on the answer to an import of a file imported
	// already and still counted (the same bytes, coded with the same
	// mapping version): nothing is imported or recorded, and the answer
	// is that earlier import, as a retry after a lost answer needs.
	Unchanged bool `json:"unchanged,omitempty"`
}

// Withdrawal is the body of an import's withdrawal: why (required; it
// enters the log, so no names).
type Withdrawal struct {
	Reason string `json:"reason" api:"required"`
}

// Progress reports an import's progress: bytes of the file read, out of
// Size (0 when unknown), and the phase ("validate", then "store").
type Progress func(phase string, done, size int64)

// Periods a query counts by.
const (
	PeriodNone    = ""
	PeriodYear    = "year"
	PeriodQuarter = "quarter"
	PeriodMonth   = "month"
)

// Query is an aggregation: counts of one unit at one stage, by ICCS
// category at Level (1 to 4; 0 for no breakdown by category), by each
// dimension in By (Dimensions' ids), by Period, over the records within
// From and To and the filters.
type Query struct {
	Stage string `json:"stage"` // StagePolice... (required)
	Unit  string `json:"unit"`  // UnitOffence... (required)
	Level int    `json:"level"`
	// ICCS keeps the records under these categories (any level), all when
	// empty.
	ICCS   []string `json:"iccs,omitempty"`
	By     []string `json:"by,omitempty"`
	Period string   `json:"period,omitempty"`
	// From and To bound the period, inclusive: YYYY, YYYY-MM or YYYY-MM-DD.
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Filter keeps the records whose dimension (an id of Dimensions) has
	// one of the values (their codes).
	Filter map[string][]string `json:"filter,omitempty"`
	// Totals adds the totals: every combination of the breakdown in which
	// some dimensions are "_T" (all values), up to the grand total.
	Totals bool `json:"totals,omitempty"`
	// Sources limits the sources counted ("import", and the registries':
	// "transplant"); all when empty.
	Sources []string `json:"sources,omitempty"`
}

// Total is the code of a total over a dimension (SDMX's).
const Total = "_T"

// Result is an aggregation's answer: the dimensions of its keys, in order
// (iccs first when Level > 0, then By, then period), and its cells, each a
// key (one code per dimension: an ICCS code, a value's code, a period
// "2025", "2025-Q1", "2025-03", a region, or Total) and a count. Cells are
// in key order, totals after the cells they total; a cell that counts
// nothing is absent.
type Result struct {
	Query Query    `json:"query"`
	Dims  []string `json:"dims"`
	Cells []Cell   `json:"cells"`
	// Records is how many stored records were read.
	Records int64 `json:"records"`
	// NotPlaced is how many units (records times their count) the query
	// selects but cannot place in its period, from to to: those dated by a
	// year (or a month) alone that from or to cuts through. They may or may
	// not fall in the period, so they are counted in no cell, and said here.
	NotPlaced int64 `json:"not_placed"`
	// ranks orders each dimension's codes (Total last).
	ranks []map[string]int
	// first and last are the first and last day (yyyymmdd; 0 when nothing
	// is counted) of the counted records' reference periods, known when
	// the count was asked to keep them (plan.dated).
	first, last int
}

// rank is the order of a code of dimension i (Total after every value).
func (r *Result) rank(i int, code string) int {
	if code == Total {
		return 1 << 30
	}
	return r.ranks[i][code]
}

// Cell is one count of a Result.
type Cell struct {
	Key   []string `json:"key"`
	Count int64    `json:"count"`
}

// Get returns the count of a key (0 when absent).
func (r *Result) Get(key ...string) int64 {
	for _, c := range r.Cells {
		if equal(c.Key, key) {
			return c.Count
		}
	}
	return 0
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
