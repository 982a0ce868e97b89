package transplant

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// ---- Long-term follow-up (resolution VI, para 6 k; docs/oversight.md) ----
//
// Every living donor, every recipient and every resident treated abroad is
// followed up on a schedule: 6, 12 and 24 months after the transplantation
// or donation, then every year (custos serve's --followup-months and
// --followup-window). The schedule is computed from the transplants (and the
// organs from abroad transplanted here), the living donations and the
// records of treatment abroad, never stored; a follow-up record closes one
// occasion of it. The coordinators of the centre that follows the person
// record; the regulator sees every centre.

// TypeFollowUpRecorded is the entry of one follow-up.
const TypeFollowUpRecorded = "transplant.followup_recorded"

// Who is followed up.
const (
	SubjectRecipient   = "recipient"    // from their first transplantation here (an organ from abroad's too), by the centre that performed it
	SubjectLivingDonor = "living_donor" // from their first donation, by the donor's centre
	SubjectAbroad      = "abroad"       // from the procedure abroad, by the centre at home that follows them
)

// FollowUpSubjects lists who is followed up.
var FollowUpSubjects = []string{SubjectRecipient, SubjectLivingDonor, SubjectAbroad}

// The values of a follow-up record.
var (
	VitalStatuses = []string{"alive", "died", "lost_to_follow_up"}
	// GraftStatuses: not_applicable is a living donor's, and only theirs.
	GraftStatuses = []string{"functioning", "failed", "not_applicable", "unknown"}
	// Complications are codes, none alone or any of the others.
	Complications = []string{"none", "surgical", "infection", "rejection", "renal_impairment", "hypertension", "diabetes",
		"malignancy", "psychological", "other"}
	PsychosocialCare = []string{"provided", "offered_declined", "not_needed", "not_assessed"}
)

// The schedule unless configured: the months of the first occasions, then
// one every year after the last of them; a follow-up is on time within the
// window either side of its due date.
var DefaultFollowUpMonths = []int{6, 12, 24}

// DefaultFollowUpWindow is Config.FollowUpWindow unless configured.
const DefaultFollowUpWindow = 30 * 24 * time.Hour

// FollowUpSchedule is a deployment's schedule of follow-ups.
type FollowUpSchedule struct {
	Months []int         // ascending, the first occasions; then yearly
	Window time.Duration // either side of a due date
}

// FollowUpSchedule is the schedule the service keeps (its Config, or the
// defaults).
func (s *Service) FollowUpSchedule() FollowUpSchedule {
	sc := FollowUpSchedule{Months: s.Cfg.FollowUpMonths, Window: s.Cfg.FollowUpWindow}
	if len(sc.Months) == 0 {
		sc.Months = DefaultFollowUpMonths
	}
	if sc.Window <= 0 {
		sc.Window = DefaultFollowUpWindow
	}
	return sc
}

// ParseFollowUpMonths reads a schedule's months as custos serve's flag
// writes them (6,12,24): positive, ascending, at most 120.
func ParseFollowUpMonths(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 120 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("follow-up months %q: want ascending whole months from 1 to 120, such as 6,12,24", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// Scheduled tells whether month is an occasion of the schedule.
func (sc FollowUpSchedule) Scheduled(month int) bool {
	last := sc.Months[len(sc.Months)-1]
	return slices.Contains(sc.Months, month) || (month > last && (month-last)%12 == 0)
}

// occasions yields the months of the occasions whose due date is on or
// before until, for a baseline date (YYYY-MM-DD).
func (sc FollowUpSchedule) occasions(base time.Time, until time.Time, yield func(month int, due time.Time) bool) {
	last := sc.Months[len(sc.Months)-1]
	for i := 0; ; i++ {
		m := last + 12*(i-len(sc.Months)+1)
		if i < len(sc.Months) {
			m = sc.Months[i]
		}
		due := base.AddDate(0, m, 0)
		if due.After(until) || !yield(m, due) {
			return
		}
	}
}

// NewFollowUp is the input of RecordFollowUp.
type NewFollowUp struct {
	SubjectID        string   `json:"subject_id" api:"required"` // a recipient (RC-), a living donor (DN-) or a record of treatment abroad (AB-)
	DueMonth         int      `json:"due_month" api:"required"`  // the occasion of the schedule: 6, 12, 24, 36...
	FollowedUpOn     string   `json:"followed_up_on" api:"required"`
	VitalStatus      string   `json:"vital_status" api:"required"`
	GraftStatus      string   `json:"graft_status" api:"required"`
	Complications    []string `json:"complications" api:"required"`
	PsychosocialCare string   `json:"psychosocial_care" api:"required"`
}

// FollowUp is one follow-up record.
type FollowUp struct {
	ID               string   `json:"id"`
	SubjectID        string   `json:"subject_id"`
	Subject          string   `json:"subject"`
	CentreID         string   `json:"centre_id"`
	DueMonth         int      `json:"due_month"`
	FollowedUpOn     string   `json:"followed_up_on"`
	VitalStatus      string   `json:"vital_status"`
	GraftStatus      string   `json:"graft_status"`
	Complications    []string `json:"complications"`
	PsychosocialCare string   `json:"psychosocial_care"`
}

// followUpSubject is what the rules of a follow-up read about its subject:
// who they are, the centres that follow them, the baseline date, and the
// follow-ups on file.
type followUpSubject struct {
	kind    string
	donor   bool // a living donor, here or abroad: no graft
	centres []string
	base    string // YYYY-MM-DD; empty for one not followed up (notFollowedUp)
	died    string // the date of a follow-up that found them dead
	done    map[int]bool
}

// subjectSQL reads the baseline of each kind of subject and the centre
// that follows them, each ? the subject's id. A recipient's is their first
// transplantation here, of an organ of the registry or of one received from
// abroad (its outcome transplanted, by the centre that recorded it).
var subjectSQL = map[string]string{
	SubjectRecipient: `SELECT x.centre_id, MIN(x.since), 0 FROM (
		SELECT t.centre_id, substr(t.performed_at, 1, 10) AS since FROM transplants t WHERE t.recipient_id = ?
		UNION ALL SELECT i.centre_id, i.outcome_on FROM organ_imports i WHERE i.recipient_id = ? AND i.outcome = 'transplanted') x
		GROUP BY x.centre_id`,
	SubjectLivingDonor: `SELECT d.centre_id, MIN(substr(p.procured_at, 1, 10)), 1 FROM donors d JOIN procurements p ON p.donor_id = d.id
		WHERE d.id = ? AND d.kind = '` + DonorLiving + `' GROUP BY d.centre_id`,
	SubjectAbroad: `SELECT a.centre_id, a.performed_on, CASE WHEN a.kind = '` + AbroadLivingDonation + `' THEN 1 ELSE 0 END FROM abroad_procedures a WHERE a.id = ?`,
}

// subjectKind tells who a subject id names, by its prefix.
func subjectKind(id string) string {
	switch {
	case strings.HasPrefix(id, "RC-"):
		return SubjectRecipient
	case strings.HasPrefix(id, "DN-"):
		return SubjectLivingDonor
	case strings.HasPrefix(id, "AB-"):
		return SubjectAbroad
	}
	return ""
}

func readFollowUpSubject(ctx context.Context, q store.Queryer, id string) (*followUpSubject, error) {
	kind := subjectKind(id)
	if kind == "" {
		return nil, errs.Invalidf("followup_subject", "subject_id", "%s is neither a recipient, a living donor nor a record of treatment abroad", id)
	}
	rows, err := q.Query(ctx, subjectSQL[kind], slices.Repeat([]any{id}, strings.Count(subjectSQL[kind], "?"))...)
	if err != nil {
		return nil, err
	}
	type row struct {
		centre, base string
		donor        int
	}
	rs, err := store.Rows(rows, func(r store.Scanner, x *row) error { return r.Scan(&x.centre, &x.base, &x.donor) })
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return notFollowedUp(ctx, q, kind, id)
	}
	s := &followUpSubject{kind: kind, base: rs[0].base, donor: rs[0].donor == 1, done: map[int]bool{}}
	for _, r := range rs {
		s.centres = append(s.centres, r.centre)
		s.base = min(s.base, r.base)
	}
	fr, err := q.Query(ctx, "SELECT due_month, vital_status, followed_up_on FROM followups WHERE subject_id = ?", id)
	if err != nil {
		return nil, err
	}
	type done struct {
		month       int
		vital, date string
	}
	ds, err := store.Rows(fr, func(r store.Scanner, x *done) error { return r.Scan(&x.month, &x.vital, &x.date) })
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		s.done[d.month] = true
		if d.vital == "died" && (s.died == "" || d.date < s.died) {
			s.died = d.date
		}
	}
	return s, nil
}

// notFollowedUp reads a subject with no baseline: a recipient never
// transplanted, or a donor who is deceased or has not donated, is read with
// the centre that registered them and no baseline (refused by
// followUpSubject.followed once their centre is known to be the
// principal's); anyone else is no record.
func notFollowedUp(ctx context.Context, q store.Queryer, kind, id string) (*followUpSubject, error) {
	var none error
	table := "recipients"
	switch kind {
	case SubjectRecipient:
		none = errs.New(errs.NotFound, "reference", "subject_id", "no recipient %s", id)
	case SubjectLivingDonor:
		none, table = errs.New(errs.NotFound, "reference", "subject_id", "no donor %s", id), "donors"
	default:
		return nil, errs.New(errs.NotFound, "reference", "subject_id", "no record of treatment abroad %s", id)
	}
	var centre string
	err := q.QueryRow(ctx, "SELECT centre_id FROM "+table+" WHERE id = ?", id).Scan(&centre)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, none
	}
	if err != nil {
		return nil, err
	}
	return &followUpSubject{kind: kind, centres: []string{centre}, done: map[int]bool{}}, nil
}

// followed refuses a subject read without a baseline: follow-up starts
// with a transplantation or a living donation.
func (subj *followUpSubject) followed(id string) error {
	if subj.base != "" {
		return nil
	}
	if subj.kind == SubjectRecipient {
		return errs.New(errs.Conflict, "followup_subject", "subject_id", "recipient %s has no transplantation on file: follow-up starts with one", id)
	}
	return errs.New(errs.Conflict, "followup_subject", "subject_id", "%s is not a living donor who has donated: follow-up starts with a donation", id)
}

// validate checks a follow-up's values before anything is read.
func (in *NewFollowUp) validate() error {
	if err := check.Required("subject_id", in.SubjectID); err != nil {
		return err
	}
	var err error
	if in.FollowedUpOn, err = check.Date("followed_up_on", in.FollowedUpOn, true); err != nil {
		return err
	}
	if err := check.OneOf("vital_status", in.VitalStatus, VitalStatuses); err != nil {
		return err
	}
	if err := check.OneOf("graft_status", in.GraftStatus, GraftStatuses); err != nil {
		return err
	}
	if err := check.OneOf("psychosocial_care", in.PsychosocialCare, PsychosocialCare); err != nil {
		return err
	}
	if len(in.Complications) == 0 {
		return errs.Invalidf("required", "complications", "complications is required: none, or the complications found")
	}
	seen := map[string]bool{}
	for i, c := range in.Complications {
		if err := check.OneOf(check.Index("complications", i), c, Complications); err != nil {
			return err
		}
		if seen[c] {
			return errs.Invalidf("complications_repeated", check.Index("complications", i), "complication %s is given twice", c)
		}
		seen[c] = true
	}
	if seen["none"] && len(in.Complications) > 1 {
		return errs.Invalidf("complications_none", "complications", "none cannot be given with other complications")
	}
	return nil
}

// RecordFollowUp records a follow-up at one occasion of a subject's
// schedule. It is refused by a coordinator of another centre (an alert,
// before anything else about the input or the subject), for a subject not
// followed up (a recipient not transplanted, a deceased donor), at a month that is not an occasion of the schedule, for an
// occasion already recorded, dated before the transplantation or donation,
// before the occasion's window opens or in the future, after a follow-up
// that found the person dead, and with a graft status that does not fit
// the subject (a living donor has no graft; a recipient has one).
func (s *Service) RecordFollowUp(ctx context.Context, p *auth.Principal, in NewFollowUp) (*FollowUp, error) {
	const command = "record follow-up"
	if err := p.Require(Record); err != nil {
		return nil, err
	}
	var subj *followUpSubject
	followedBy := func(ctx context.Context, q store.Queryer) (err error) {
		if subj, err = readFollowUpSubject(ctx, q, in.SubjectID); err != nil {
			return err
		}
		if p.Role == RoleCoordinator && !slices.Contains(subj.centres, p.AuthorityID) {
			return errs.Alertf(errs.Forbidden, "own_centre", "subject_id", "a coordinator records follow-ups for their own centre (%s); %s is followed up by %s",
				p.AuthorityID, in.SubjectID, strings.Join(subj.centres, ", "))
		}
		return subj.followed(in.SubjectID)
	}
	in.SubjectID = strings.TrimSpace(in.SubjectID)
	if err := s.scopeFirst(ctx, p, command, followedBy); err != nil {
		return nil, err
	}
	if err := in.validate(); err != nil {
		return nil, err
	}
	sc := s.FollowUpSchedule()
	if !sc.Scheduled(in.DueMonth) {
		return nil, errs.Invalidf("followup_schedule", "due_month", "month %d is not an occasion of the follow-up schedule (%s, then every 12 months)",
			in.DueMonth, months(sc.Months))
	}
	id := s.W.IDs().New("FU")
	return ledger.SubmitAs[FollowUp](ctx, s.W, p.Actor(), command, func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if err := check.DateNotFuture("followed_up_on", in.FollowedUpOn, now); err != nil {
			return nil, err
		}
		if err := followedBy(ctx, tx); err != nil {
			return nil, err
		}
		centre := subj.centres[0]
		if p.Role == RoleCoordinator {
			centre = p.AuthorityID
		}
		if subj.donor != (in.GraftStatus == "not_applicable") {
			if subj.donor {
				return nil, errs.Invalidf("graft_status", "graft_status", "a living donor has no graft: graft_status is not_applicable")
			}
			return nil, errs.Invalidf("graft_status", "graft_status", "a recipient has a graft: graft_status cannot be not_applicable")
		}
		if in.FollowedUpOn < subj.base {
			return nil, errs.Invalidf("dates_in_order", "followed_up_on", "followed_up_on (%s) is before the transplantation or donation (%s)", in.FollowedUpOn, subj.base)
		}
		base, _ := time.Parse(DateLayout, subj.base)
		opens := day(base.AddDate(0, in.DueMonth, 0).Add(-sc.Window))
		if in.FollowedUpOn < opens {
			return nil, errs.Invalidf("followup_early", "followed_up_on", "the follow-up of month %d opens on %s: %s is too early for it", in.DueMonth, opens, in.FollowedUpOn)
		}
		if subj.done[in.DueMonth] {
			return nil, errs.New(errs.Conflict, "followup_recorded", "due_month", "the follow-up of month %d of %s is already recorded", in.DueMonth, in.SubjectID)
		}
		if subj.died != "" {
			return nil, errs.New(errs.Conflict, "subject_deceased", "subject_id", "a follow-up of %s found them dead on %s: no follow-up follows", in.SubjectID, subj.died)
		}
		return ledger.NewEntry(TypeFollowUpRecorded, FollowUp{ID: id, SubjectID: in.SubjectID, Subject: subj.kind, CentreID: centre,
			DueMonth: in.DueMonth, FollowedUpOn: in.FollowedUpOn, VitalStatus: in.VitalStatus, GraftStatus: in.GraftStatus,
			Complications: in.Complications, PsychosocialCare: in.PsychosocialCare})
	})
}

func months(ms []int) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = strconv.Itoa(m)
	}
	return strings.Join(s, ", ")
}

// ---- The worklist and the share on time ----

// The states of an occasion of the schedule.
const (
	FollowUpUpcoming = "upcoming" // its window has not opened
	FollowUpDue      = "due"      // its window is open
	FollowUpOverdue  = "overdue"  // its window closed without a follow-up
	FollowUpOnTime   = "on_time"  // recorded within its window
	FollowUpLate     = "late"     // recorded after its window
)

// Occasion is one occasion of a subject's schedule.
type Occasion struct {
	SubjectID string `json:"subject_id"`
	Subject   string `json:"subject"`
	CentreID  string `json:"centre_id"`
	Since     string `json:"since"`        // the transplantation or donation
	Donor     bool   `json:"living_donor"` // a living donor, here or abroad: no graft
	DueMonth  int    `json:"due_month"`
	DueOn     string `json:"due_on"`
	Closes    string `json:"closes"` // the last day of the window
	State     string `json:"state"`
	Done      string `json:"done,omitempty"` // the follow-up's date
}

// scheduledSQL reads every subject a centre follows (every centre's when
// the centre is ""), with the baseline of their schedule: a recipient's
// first transplantation here, of an organ of the registry or of one from
// abroad (subjectSQL).
const scheduledSQL = `SELECT 'recipient', x.recipient_id, x.centre_id, MIN(x.since), 0 FROM (
		SELECT t.recipient_id, t.centre_id, substr(t.performed_at, 1, 10) AS since FROM transplants t WHERE (? = '' OR t.centre_id = ?)
		UNION ALL SELECT i.recipient_id, i.centre_id, i.outcome_on FROM organ_imports i WHERE i.outcome = 'transplanted' AND (? = '' OR i.centre_id = ?)) x
	GROUP BY x.recipient_id, x.centre_id
	UNION ALL SELECT 'living_donor', d.id, d.centre_id, MIN(substr(p.procured_at, 1, 10)), 1 FROM donors d JOIN procurements p ON p.donor_id = d.id
	WHERE d.kind = '` + DonorLiving + `' AND (? = '' OR d.centre_id = ?) GROUP BY d.id, d.centre_id
	UNION ALL SELECT 'abroad', a.id, a.centre_id, a.performed_on, CASE WHEN a.kind = '` + AbroadLivingDonation + `' THEN 1 ELSE 0 END
	FROM abroad_procedures a WHERE (? = '' OR a.centre_id = ?)`

// occasions computes the schedule of every subject a centre follows (all
// centres for ""), up to until, with the state of each occasion at now.
func occasions(ctx context.Context, q store.Queryer, sc FollowUpSchedule, centre string, until, now time.Time) ([]Occasion, error) {
	rows, err := q.Query(ctx, scheduledSQL, centre, centre, centre, centre, centre, centre, centre, centre)
	if err != nil {
		return nil, err
	}
	type subject struct {
		kind, id, centre, base string
		donor                  int
	}
	subs, err := store.Rows(rows, func(r store.Scanner, x *subject) error { return r.Scan(&x.kind, &x.id, &x.centre, &x.base, &x.donor) })
	if err != nil {
		return nil, err
	}
	fr, err := q.Query(ctx, "SELECT subject_id, due_month, followed_up_on, vital_status FROM followups WHERE (? = '' OR centre_id = ?)", centre, centre)
	if err != nil {
		return nil, err
	}
	type done struct {
		id          string
		month       int
		date, vital string
	}
	ds, err := store.Rows(fr, func(r store.Scanner, x *done) error { return r.Scan(&x.id, &x.month, &x.date, &x.vital) })
	if err != nil {
		return nil, err
	}
	type key struct {
		id    string
		month int
	}
	recorded, died := map[key]string{}, map[string]string{}
	for _, d := range ds {
		recorded[key{d.id, d.month}] = d.date
		if d.vital == "died" && (died[d.id] == "" || d.date < died[d.id]) {
			died[d.id] = d.date
		}
	}
	today := day(now)
	var out []Occasion
	for _, s := range subs {
		base, err := time.Parse(DateLayout, s.base)
		if err != nil {
			return nil, fmt.Errorf("follow-up of %s: baseline %q: %w", s.id, s.base, err)
		}
		sc.occasions(base, until, func(m int, due time.Time) bool {
			o := Occasion{SubjectID: s.id, Subject: s.kind, CentreID: s.centre, Since: s.base, DueMonth: m, DueOn: day(due),
				Closes: day(due.Add(sc.Window)), Donor: s.donor == 1}
			if d := died[s.id]; d != "" && d < day(due.Add(-sc.Window)) {
				return false // no occasion after a follow-up found them dead
			}
			switch date, ok := recorded[key{s.id, m}]; {
			case ok && date <= o.Closes:
				o.State, o.Done = FollowUpOnTime, date
			case ok:
				o.State, o.Done = FollowUpLate, date
			case today > o.Closes:
				o.State = FollowUpOverdue
			case today >= day(due.Add(-sc.Window)):
				o.State = FollowUpDue
			default:
				o.State = FollowUpUpcoming
			}
			out = append(out, o)
			return true
		})
	}
	slices.SortFunc(out, func(a, b Occasion) int {
		return cmp.Or(cmp.Compare(a.DueOn, b.DueOn), cmp.Compare(a.SubjectID, b.SubjectID), cmp.Compare(a.DueMonth, b.DueMonth))
	})
	return out, nil
}

// Worklist is a centre's follow-ups due and overdue, oldest first.
type Worklist struct {
	CentreID string     `json:"centre_id"` // "" for every centre
	Today    string     `json:"today"`
	Due      int        `json:"due"`
	Overdue  int        `json:"overdue"`
	Items    []Occasion `json:"items"`
}

// centreOf resolves the centre a list is read for: a coordinator's own,
// whatever they ask (asking for another is refused); the regulator's and
// the auditor's the one asked, or every centre.
func centreOf(p *auth.Principal, centre string) (string, error) {
	if p.Role == RoleCoordinator {
		if centre != "" && centre != p.AuthorityID {
			return "", errs.New(errs.Forbidden, "own_centre", "centre_id", "a coordinator reads the records of their own centre (%s) only", p.AuthorityID)
		}
		return p.AuthorityID, nil
	}
	return centre, nil
}

// FollowUpWorklist lists the follow-ups due and overdue of a centre (a
// coordinator's own; for the regulator and the auditor the centre asked, or
// every centre when centre is "").
func (s *Service) FollowUpWorklist(ctx context.Context, p *auth.Principal, centre string) (*Worklist, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	centre, err := centreOf(p, centre)
	if err != nil {
		return nil, err
	}
	now := s.now()
	sc := s.FollowUpSchedule()
	all, err := occasions(ctx, s.DB.Read(), sc, centre, now.Add(sc.Window), now)
	if err != nil {
		return nil, err
	}
	w := &Worklist{CentreID: centre, Today: day(now), Items: []Occasion{}}
	for _, o := range all {
		switch o.State {
		case FollowUpDue:
			w.Due++
		case FollowUpOverdue:
			w.Overdue++
		default:
			continue
		}
		w.Items = append(w.Items, o)
	}
	return w, nil
}

// ListWorklist is the follow-up worklist as exports name it.
const ListWorklist = "followups"

// WorklistColumns are the columns of the worklist's export.
var WorklistColumns = []string{"subject_id", "subject", "centre_id", "since", "due_month", "due_on", "closes", "state"}

// WorklistExport reads the export of the worklist the query asks for:
// format (csv or xlsx) and centre_id.
func (s *Service) WorklistExport(p *auth.Principal, q url.Values) (export.Request, error) {
	if err := p.Require(Read); err != nil {
		return export.Request{}, err
	}
	// Whose worklist comes before the query's checks.
	centre, err := centreOf(p, q.Get("centre_id"))
	if err != nil {
		return export.Request{}, err
	}
	format, filter, err := export.Query(q)
	if err != nil {
		return export.Request{}, err
	}
	for k := range filter {
		if k != "centre_id" {
			return export.Request{}, errs.Invalidf("query", k, "the worklist takes centre_id, not %s", k)
		}
	}
	return export.Request{Registry: Module.Name, List: ListWorklist, Format: format, Filter: filter, Columns: WorklistColumns,
		Rows: func(ctx context.Context) iter.Seq2[[]any, error] {
			return func(yield func([]any, error) bool) {
				w, err := s.FollowUpWorklist(ctx, p, centre)
				if err != nil {
					yield(nil, err)
					return
				}
				for _, o := range w.Items {
					if !yield([]any{o.SubjectID, o.Subject, o.CentreID, o.Since, o.DueMonth, o.DueOn, o.Closes, o.State}, nil) {
						return
					}
				}
			}
		}}, nil
}

// OverdueFollowUps lists a centre's follow-ups whose window closed in the
// period from <= closes < end (dates, YYYY-MM-DD) before now without a
// follow-up: what the audit pack of a centre and period lists. It reads
// with q, and checks no principal: its caller does.
func OverdueFollowUps(ctx context.Context, q store.Queryer, sc FollowUpSchedule, centre, from, end string, now time.Time) ([]Occasion, error) {
	all, err := occasions(ctx, q, sc, centre, now, now)
	if err != nil {
		return nil, err
	}
	out := []Occasion{}
	for _, o := range all {
		if o.State == FollowUpOverdue && o.Closes >= from && o.Closes < end {
			out = append(out, o)
		}
	}
	return out, nil
}

// CentreOverdueFollowUps is OverdueFollowUps with the service's schedule and
// clock, for a reader of the registry (the audit pack's).
func (s *Service) CentreOverdueFollowUps(ctx context.Context, p *auth.Principal, centre, from, end string) ([]Occasion, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	centre, err := centreOf(p, centre)
	if err != nil {
		return nil, err
	}
	return OverdueFollowUps(ctx, s.DB.Read(), s.FollowUpSchedule(), centre, from, end, s.now())
}

// Timeliness is, per centre, what became of the follow-ups whose window
// closed in a period: done on time, done late, or not done.
type Timeliness struct {
	From    string             `json:"from"`
	End     string             `json:"end"`
	Centres []CentreTimeliness `json:"centres"`
}

// CentreTimeliness is one centre's line of the report; Share is OnTime out
// of Closed, in per cent, -1 when none closed.
type CentreTimeliness struct {
	CentreID string  `json:"centre_id"`
	Closed   int     `json:"closed"`
	OnTime   int     `json:"on_time"`
	Late     int     `json:"late"`
	Missing  int     `json:"missing"`
	Share    float64 `json:"share_on_time"`
}

// FollowUpTimeliness reports, per centre, the share of follow-ups done on
// time among those whose window closed from <= closes < end (dates) and
// before today: the regulator's and the auditor's report, a coordinator's
// centre alone for them.
func (s *Service) FollowUpTimeliness(ctx context.Context, p *auth.Principal, centre, from, end string) (*Timeliness, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	centre, err := centreOf(p, centre)
	if err != nil {
		return nil, err
	}
	if from, err = check.Date("from", from, true); err != nil {
		return nil, err
	}
	if end, err = check.Date("end", end, true); err != nil {
		return nil, err
	}
	if end <= from {
		return nil, errs.Invalidf("dates_in_order", "end", "end (%s) must be after from (%s)", end, from)
	}
	now := s.now()
	all, err := occasions(ctx, s.DB.Read(), s.FollowUpSchedule(), centre, now, now)
	if err != nil {
		return nil, err
	}
	by := map[string]*CentreTimeliness{}
	today := day(now)
	for _, o := range all {
		if o.Closes < from || o.Closes >= end || o.Closes >= today {
			continue
		}
		c := by[o.CentreID]
		if c == nil {
			c = &CentreTimeliness{CentreID: o.CentreID}
			by[o.CentreID] = c
		}
		c.Closed++
		switch o.State {
		case FollowUpOnTime:
			c.OnTime++
		case FollowUpLate:
			c.Late++
		default:
			c.Missing++
		}
	}
	t := &Timeliness{From: from, End: end, Centres: []CentreTimeliness{}}
	for _, c := range by {
		c.Share = float64(c.OnTime) * 100 / float64(c.Closed)
		t.Centres = append(t.Centres, *c)
	}
	slices.SortFunc(t.Centres, func(a, b CentreTimeliness) int { return cmp.Compare(a.CentreID, b.CentreID) })
	return t, nil
}

// FollowUps lists the follow-ups recorded for a subject, in the order of
// the log.
func (s *Service) FollowUps(ctx context.Context, p *auth.Principal, subjectID string) ([]FollowUp, error) {
	if err := p.Require(Read); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT id, subject_id, subject, centre_id, due_month, followed_up_on, vital_status, graft_status,
		complications, psychosocial_care FROM followups WHERE subject_id = ? ORDER BY log_index`, subjectID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, f *FollowUp) error {
		var c string
		err := r.Scan(&f.ID, &f.SubjectID, &f.Subject, &f.CentreID, &f.DueMonth, &f.FollowedUpOn, &f.VitalStatus, &f.GraftStatus, &c, &f.PsychosocialCare)
		f.Complications = strings.Fields(c)
		return err
	})
}

// projectFollowUps adds the follow-ups' projector and table.
func projectFollowUps(reg *ledger.Projections) {
	ledger.On(reg, TypeFollowUpRecorded, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, f *FollowUp) error {
		_, err := q.Exec(ctx, `INSERT INTO followups (id, subject_id, subject, centre_id, due_month, followed_up_on, vital_status, graft_status,
			complications, psychosocial_care, recorded_at, recorded_by, log_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			f.ID, f.SubjectID, f.Subject, f.CentreID, f.DueMonth, f.FollowedUpOn, f.VitalStatus, f.GraftStatus,
			strings.Join(f.Complications, " "), f.PsychosocialCare, e.At, e.By, idx)
		return err
	})
	reg.Tables(ledger.Table{Name: "followups", Order: "id"})
}

// errNoRows tells a missing row from a failure.
func errNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
