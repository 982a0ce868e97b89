package transplant

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"net/url"
	"slices"
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

// ---- The waiting list and equitable access (resolution VI, para 6 c;
// docs/oversight.md) ----
//
// A registration on the waiting list is a recipient (RegisterRecipient:
// listed_on, the organ needed, sex, date of birth, residence and region).
// Its status changes (active, suspended) and its outcomes (died waiting,
// removed) are recorded here; transplanted is read from the
// transplantations here (of an organ of the registry, or of one received
// from abroad: its outcome transplanted) and the transplants abroad that end
// it. The equity
// report counts registrations and their outcomes, and the waiting times to
// transplantation, by sex, age band at listing, region and residency, every
// table through the core's disclosure control.

// TypeWaitlistStatusChanged is the entry of a status change or outcome.
const TypeWaitlistStatusChanged = "transplant.waitlist_status_changed"

// The statuses a change sets: active and suspended keep the registration
// open; died_waiting and removed close it.
const (
	WaitlistActive      = "active"
	WaitlistSuspended   = "suspended"
	WaitlistDiedWaiting = "died_waiting"
	WaitlistRemoved     = "removed"
)

// WaitlistStatuses lists the statuses a change sets.
var WaitlistStatuses = []string{WaitlistActive, WaitlistSuspended, WaitlistDiedWaiting, WaitlistRemoved}

// WaitlistReasons are the reasons of a change: of a suspension (temporarily
// unfit, patient's choice), of a removal (condition improved, too ill,
// transferred, patient's choice), or other.
var WaitlistReasons = []string{"temporarily_unfit", "condition_improved", "too_ill", "transferred", "patient_choice", "other", "none"}

// NewWaitlistChange is the input of ChangeWaitlistStatus.
type NewWaitlistChange struct {
	Status    string `json:"status" api:"required"`
	Reason    string `json:"reason" api:"required"`
	ChangedOn string `json:"changed_on" api:"required"`
}

// WaitlistChange is a status change of a registration.
type WaitlistChange struct {
	ID          string `json:"id"`
	RecipientID string `json:"recipient_id"`
	Status      string `json:"status"`
	Reason      string `json:"reason"`
	ChangedOn   string `json:"changed_on"`
}

// waitlist is a registration's state: its last change (active when none),
// when, and whether a transplantation (here or abroad) ended it.
type waitlist struct {
	status, on  string
	transplant  string // the date of the first transplantation, here or abroad
	listedOn    string
	centre      string
	transplants bool // transplant is set
}

func (w waitlist) closed() bool {
	return w.transplants || w.status == WaitlistDiedWaiting || w.status == WaitlistRemoved
}

// waitlistState reads a registration's state. Its first transplantation
// here, of an organ of the registry or of one from abroad, is the one the
// equity report counts (equity_registrations.first_at, reportrows.go).
func waitlistState(ctx context.Context, q store.Queryer, id string) (*waitlist, error) {
	w := &waitlist{}
	var here, abroad string
	err := q.QueryRow(ctx, `SELECT r.listed_on, r.centre_id, COALESCE(ws.status, ?), COALESCE(ws.changed_on, ''),
		COALESCE((SELECT substr(er.first_at, 1, 10) FROM equity_registrations er WHERE er.recipient_id = r.id), ''),
		COALESCE((SELECT MIN(a.performed_on) FROM abroad_procedures a WHERE a.recipient_id = r.id), '')
		FROM recipients r LEFT JOIN waitlist_status ws ON ws.recipient_id = r.id WHERE r.id = ?`, WaitlistActive, id).
		Scan(&w.listedOn, &w.centre, &w.status, &w.on, &here, &abroad)
	if errNoRows(err) {
		return nil, noRecipient(id)
	}
	if err != nil {
		return nil, err
	}
	w.transplant = here
	if abroad != "" && (here == "" || abroad < here) {
		w.transplant = abroad
	}
	w.transplants = w.transplant != ""
	return w, nil
}

// ChangeWaitlistStatus records a status change or an outcome of a
// registration on the waiting list. It is refused for a registration that
// is closed (transplanted, died waiting, removed), by a coordinator of
// another centre (an alert), for the status it already has, dated before
// the listing or the last change or in the future, with a reason that does
// not fit the status.
func (s *Service) ChangeWaitlistStatus(ctx context.Context, p *auth.Principal, recipientID string, in NewWaitlistChange) (*WaitlistChange, error) {
	const command = "change waiting-list status"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	var w *waitlist
	ownRecipient := func(ctx context.Context, q store.Queryer) (err error) {
		if w, err = waitlistState(ctx, q, recipientID); err != nil {
			return err
		}
		if p.Role == RoleCoordinator && w.centre != p.AuthorityID {
			return errs.Alertf(errs.Forbidden, "own_centre", "recipient_id", "a coordinator records for their own centre (%s); recipient %s is on the waiting list of %s",
				p.AuthorityID, recipientID, w.centre)
		}
		return nil
	}
	if err := s.scopeFirst(ctx, p, command, ownRecipient); err != nil {
		return nil, err
	}
	if err := check.OneOf("status", in.Status, WaitlistStatuses); err != nil {
		return nil, err
	}
	if err := check.OneOf("reason", in.Reason, WaitlistReasons); err != nil {
		return nil, err
	}
	var err error
	if in.ChangedOn, err = check.Date("changed_on", in.ChangedOn, true); err != nil {
		return nil, err
	}
	switch {
	case in.Status == WaitlistSuspended && !slices.Contains([]string{"temporarily_unfit", "patient_choice", "other"}, in.Reason):
		return nil, errs.Invalidf("waitlist_reason", "reason", "a suspension's reason is temporarily_unfit, patient_choice or other")
	case in.Status == WaitlistRemoved && !slices.Contains([]string{"condition_improved", "too_ill", "transferred", "patient_choice", "other"}, in.Reason):
		return nil, errs.Invalidf("waitlist_reason", "reason", "a removal's reason is condition_improved, too_ill, transferred, patient_choice or other")
	case (in.Status == WaitlistActive || in.Status == WaitlistDiedWaiting) && in.Reason != "none":
		return nil, errs.Invalidf("waitlist_reason", "reason", "%s takes no reason: none", in.Status)
	}
	id := s.W.IDs().New("WL")
	return ledger.SubmitAs[WaitlistChange](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.DateNotFuture("changed_on", in.ChangedOn, now); err != nil {
			return nil, err
		}
		if err := ownRecipient(ctx, tx); err != nil {
			return nil, err
		}
		if w.closed() {
			st := w.status
			if w.transplants {
				st = "transplanted on " + w.transplant
			}
			return nil, errs.New(errs.Conflict, "waitlist_closed", "status", "the registration of recipient %s is closed (%s): no status change or outcome follows", recipientID, st)
		}
		if in.Status == w.status {
			return nil, errs.New(errs.Conflict, "waitlist_status_same", "status", "the registration of recipient %s is already %s", recipientID, in.Status)
		}
		if in.ChangedOn < w.listedOn {
			return nil, errs.Invalidf("dates_in_order", "changed_on", "changed_on (%s) is before the listing (%s)", in.ChangedOn, w.listedOn)
		}
		if in.ChangedOn < w.on {
			return nil, errs.Invalidf("dates_in_order", "changed_on", "changed_on (%s) is before the last change (%s)", in.ChangedOn, w.on)
		}
		return ledger.NewEntry(TypeWaitlistStatusChanged, WaitlistChange{ID: id, RecipientID: recipientID, Status: in.Status, Reason: in.Reason, ChangedOn: in.ChangedOn})
	})
}

// WaitlistHistory lists a registration's status changes, in the order of
// the log.
func (s *Service) WaitlistHistory(ctx context.Context, p *auth.Principal, recipientID string) ([]WaitlistChange, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT id, recipient_id, status, reason, changed_on FROM waitlist_events WHERE recipient_id = ? ORDER BY log_index", recipientID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, c *WaitlistChange) error {
		return r.Scan(&c.ID, &c.RecipientID, &c.Status, &c.Reason, &c.ChangedOn)
	})
}

func projectWaitlist(reg *ledger.Projections) {
	ledger.On(reg, TypeWaitlistStatusChanged, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, c *WaitlistChange) error {
		if _, err := q.Exec(ctx, `INSERT INTO waitlist_events (id, recipient_id, status, reason, changed_on, recorded_at, recorded_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.RecipientID, c.Status, c.Reason, c.ChangedOn, e.At, e.By, idx); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, "DELETE FROM waitlist_status WHERE recipient_id = ?", c.RecipientID); err != nil {
			return err
		}
		if _, err := q.Exec(ctx, "INSERT INTO waitlist_status (recipient_id, status, changed_on, log_index) VALUES (?, ?, ?, ?)", c.RecipientID, c.Status, c.ChangedOn, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE equity_registrations SET status = ? WHERE recipient_id = ?", c.Status, c.RecipientID)
		return err
	})
	reg.Tables(ledger.Table{Name: "waitlist_events", Order: "id"}, ledger.Table{Name: "waitlist_status", Order: "recipient_id"})
}

// ---- The equity report ----

// The outcomes of a registration the report counts, in its columns.
const (
	OutcomeTransplanted       = "transplanted"
	OutcomeTransplantedAbroad = "transplanted_abroad"
	OutcomeDiedWaiting        = WaitlistDiedWaiting
	OutcomeRemoved            = WaitlistRemoved
	OutcomeWaiting            = "waiting"
)

// EquityOutcomes are the report's columns.
var EquityOutcomes = []string{OutcomeTransplanted, OutcomeTransplantedAbroad, OutcomeDiedWaiting, OutcomeRemoved, OutcomeWaiting}

// EquityBreakdowns are what the report counts registrations by: each a
// table.
var EquityBreakdowns = []string{"sex", "age_band", "region", "residency"}

// Residency values: the registration's residence is the registry's
// jurisdiction, or not.
const (
	Resident    = "resident"
	NonResident = "non_resident"
)

// EquityFilter is what the report counts: registrations listed from <=
// listed_on < end (dates), for one organ or all ("").
type EquityFilter struct {
	From, End, Organ string
}

// EquityTable is one breakdown of the report: registrations by category and
// outcome, protected, and the median wait to transplantation here of each
// category, in months, published only where the category's transplanted
// count is (-1 otherwise).
type EquityTable struct {
	Breakdown string
	Counts    disclosure.Published
	// MedianWait[i] is the median of whole calendar months from listing to
	// transplantation here of category Counts.Rows[i], -1 when not published.
	MedianWait []int
}

// Equity is the equity report.
type Equity struct {
	Filter EquityFilter
	Tables []EquityTable
}

// equitySQL counts registrations by sex, age band at listing, region,
// residence, last status, transplant abroad and wait in months to the
// first transplantation here (NULL when none): one GROUP BY over the
// narrow rows of equity_registrations (reportrows.go), in the order of its
// covering index equity_registrations_groups, so no sort. The outcome and
// the residency are the Go side's.
const equitySQL = `SELECT sex, age_band, region, residence, status, abroad, wait_months, COUNT(*)
	FROM equity_registrations
	WHERE listed_on >= ? AND listed_on < ? AND (? = '' OR organ = ?)
	GROUP BY sex, age_band, region, residence, status, abroad, wait_months`

// ageBand is the band of AgeBands of an age in whole years.
func ageBand(age int) string {
	for i, top := range []int{18, 25, 35, 45, 55, 65} {
		if age < top {
			return AgeBands[i]
		}
	}
	return "65+"
}

// EquityReport counts the registrations of a period by sex, age band at
// listing, region and residency, and by outcome, with the median wait to
// transplantation: for the regulator and the auditor, every table
// protected by the disclosure control.
func (s *Service) EquityReport(ctx context.Context, p *auth.Principal, f EquityFilter) (*Equity, error) {
	if err := p.Require(ReadOversight); err != nil {
		return nil, err
	}
	var err error
	if f.From, err = check.Date("from", f.From, true); err != nil {
		return nil, err
	}
	if f.End, err = check.Date("end", f.End, true); err != nil {
		return nil, err
	}
	if f.End <= f.From {
		return nil, errs.Invalidf("dates_in_order", "end", "end (%s) must be after from (%s)", f.End, f.From)
	}
	if f.Organ != "" {
		if err := check.OneOf("organ", f.Organ, OrganTypes); err != nil {
			return nil, err
		}
	}
	return equity(ctx, s.DB.Read(), f, s.DisclosureThreshold())
}

// equityRow is a line of equitySQL.
type equityRow struct {
	key     [4]string // sex, band, region, residency
	outcome string
	wait, n int
}

func equity(ctx context.Context, q store.Queryer, f EquityFilter, threshold int) (*Equity, error) {
	var jurisdiction string
	_ = q.QueryRow(ctx, "SELECT value FROM settings WHERE name = 'jurisdiction'").Scan(&jurisdiction)
	rows, err := q.Query(ctx, equitySQL, f.From, f.End, f.Organ, f.Organ)
	if err != nil {
		return nil, err
	}
	rs, err := store.Rows(rows, func(r store.Scanner, x *equityRow) error {
		var residence, status string
		var abroad int
		var wait sql.NullInt64
		err := r.Scan(&x.key[0], &x.key[1], &x.key[2], &residence, &status, &abroad, &wait, &x.n)
		x.key[3], x.outcome, x.wait = NonResident, OutcomeWaiting, -1
		if residence == jurisdiction {
			x.key[3] = Resident
		}
		switch {
		case wait.Valid:
			x.outcome, x.wait = OutcomeTransplanted, int(wait.Int64)
		case abroad != 0:
			x.outcome = OutcomeTransplantedAbroad
		case status == WaitlistDiedWaiting || status == WaitlistRemoved:
			x.outcome = status
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	e := &Equity{Filter: f}
	for k, b := range EquityBreakdowns {
		var cats []string
		switch b {
		case "sex":
			cats = slices.Clone(Sexes)
		case "age_band":
			cats = slices.Clone(AgeBands[:len(AgeBands)-1])
		case "residency":
			cats = []string{Resident, NonResident}
		default:
			for _, r := range rs {
				if v := regionName(r.key[k]); !slices.Contains(cats, v) {
					cats = append(cats, v)
				}
			}
			slices.Sort(cats)
		}
		t := disclosure.Table{Title: b, Corner: b, Rows: cats, Cols: EquityOutcomes, Counts: make([][]int, len(cats))}
		waits := make([]map[int]int, len(cats))
		for i := range cats {
			t.Counts[i] = make([]int, len(EquityOutcomes))
			waits[i] = map[int]int{}
		}
		for _, r := range rs {
			v := r.key[k]
			if k == 2 {
				v = regionName(v)
			}
			i := slices.Index(cats, v)
			if i < 0 {
				return nil, fmt.Errorf("equity report: %s %q is not a category", b, v)
			}
			t.Counts[i][slices.Index(EquityOutcomes, r.outcome)] += r.n
			if r.outcome == OutcomeTransplanted {
				waits[i][r.wait] += r.n
			}
		}
		pub, err := disclosure.Protect(t, threshold)
		if err != nil {
			return nil, err
		}
		et := EquityTable{Breakdown: b, Counts: pub, MedianWait: make([]int, len(cats))}
		for i := range cats {
			et.MedianWait[i] = -1
			if c := pub.Cells[i][0]; !c.Suppressed && c.Value > 0 {
				et.MedianWait[i] = median(waits[i], c.Value)
			}
		}
		e.Tables = append(e.Tables, et)
	}
	return e, nil
}

// regionName is a region as the report shows it: unknown when none was
// recorded.
func regionName(r string) string {
	if r == "" {
		return Unknown
	}
	return r
}

// median is the lower median of n values given as a histogram.
func median(h map[int]int, n int) int {
	keys := slices.Sorted(func(yield func(int) bool) {
		for k := range h {
			if !yield(k) {
				return
			}
		}
	})
	seen := 0
	for _, k := range keys {
		seen += h[k]
		if seen*2 >= n {
			return k
		}
	}
	return -1
}

// ListEquity is the equity report as exports name it.
const ListEquity = "equity"

// EquityColumns are the columns of the equity report's lines.
var EquityColumns = []string{"breakdown", "category", "measure", "value"}

// EquityQuery reads the filter of the equity report from a query: from and
// end (dates; the last twelve full months when absent) and organ.
func EquityQuery(q url.Values, now time.Time) (EquityFilter, error) {
	for k := range q {
		if k != "from" && k != "end" && k != "organ" {
			return EquityFilter{}, errs.Invalidf("query", k, "the equity report takes from, end and organ, not %s", k)
		}
	}
	end := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	f := EquityFilter{From: day(end.AddDate(-1, 0, 0)), End: day(end), Organ: strings.TrimSpace(q.Get("organ"))}
	if v := strings.TrimSpace(q.Get("from")); v != "" {
		f.From = v
	}
	if v := strings.TrimSpace(q.Get("end")); v != "" {
		f.End = v
	}
	return f, nil
}

// EquityExport reads the export of the equity report the query asks for:
// format (csv or xlsx), from, end and organ.
func (s *Service) EquityExport(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(ReadOversight); err != nil {
		return export.Request{}, err
	}
	format, filter, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	f, err := EquityQuery(filter, s.now())
	if err != nil {
		return export.Request{}, err
	}
	return export.Request{Registry: Module.Name, List: ListEquity, Format: format, Filter: filter, Columns: EquityColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				e, err := s.EquityReport(ctx, p, f)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, t := range e.Tables {
					for line := range publishedLines(t.Counts) {
						if !yield([]any{t.Breakdown, line[0], line[1], line[2]}, nil) {
							return
						}
					}
					for i, c := range t.Counts.Rows {
						v := any(disclosure.Suppressed)
						if t.MedianWait[i] >= 0 {
							v = t.MedianWait[i]
						}
						if !yield([]any{t.Breakdown, c, "median_wait_months", v}, nil) {
							return
						}
					}
				}
			}
		}}, nil
}

// EquityBaselineSQL is the benchmark's plain GROUP BY over the base table:
// the registrations of the period by sex, nothing joined.
const EquityBaselineSQL = `SELECT sex, COUNT(*) FROM recipients WHERE listed_on >= ? AND listed_on < ? GROUP BY sex`
