package assets

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// Entry types of the requests.
const (
	TypeRequestDrafted   = "assets.request_drafted"
	TypeRequestReceived  = "assets.request_received"
	TypeRequestStatus    = "assets.request_status"
	TypeQuestionAsked    = "assets.request_question"
	TypeQuestionAnswered = "assets.request_answer"
	TypeRequestUsed      = "assets.request_used"
)

// requestDrafted is the data of assets.request_drafted: a draft, new or a
// new version of the draft of the same id.
type requestDrafted struct {
	ID string `json:"id"`
	NewRequest
	RequestingState         string `json:"requesting_state"`
	AuthorityID             string `json:"authority_id"`
	RequestingAuthorityName string `json:"requesting_authority_name"`
	RequestedAuthorityName  string `json:"requested_authority_name"`
}

// requestReceived is the data of assets.request_received: a request another
// registry sent over the exchange (InboxID), as its message says.
type requestReceived struct {
	ID       string `json:"id"`
	InboxID  string `json:"inbox_id"`
	PeerID   string `json:"peer_id"`
	RemoteID string `json:"remote_id"`
	RequestMessage
	Follows string `json:"follows,omitempty"` // the local id of the disclosure it follows
}

// requestStatus is the data of assets.request_status: a step, recorded here
// or received (InboxID) from the other registry.
type requestStatus struct {
	RequestID     string `json:"request_id"`
	Status        string `json:"status"`
	Grounds       string `json:"grounds,omitempty"`
	GroundsText   string `json:"grounds_text,omitempty"`
	Note          string `json:"note,omitempty"`
	OnwardSharing bool   `json:"onward_sharing,omitempty"`
	On            string `json:"on"`
	InboxID       string `json:"inbox_id,omitempty"`
}

// questionAsked is the data of assets.request_question.
type questionAsked struct {
	ID        string `json:"id"`
	RequestID string `json:"request_id"`
	Side      string `json:"side"` // the side that asked
	Question  string `json:"question"`
	On        string `json:"on"`
	RemoteID  string `json:"remote_id,omitempty"`
	InboxID   string `json:"inbox_id,omitempty"`
}

// questionAnswered is the data of assets.request_answer.
type questionAnswered struct {
	RequestID  string `json:"request_id"`
	QuestionID string `json:"question_id"`
	Answer     string `json:"answer"`
	On         string `json:"on"`
	InboxID    string `json:"inbox_id,omitempty"`
}

// requestUsed is the data of assets.request_used.
type requestUsed struct {
	RequestID string `json:"request_id"`
	Side      string `json:"side"`
	Purpose   string `json:"purpose"`
	ShareWith string `json:"share_with,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Question is a request for more information and its answer.
type Question struct {
	ID         string `json:"id"`
	RequestID  string `json:"request_id"`
	Side       string `json:"side"`
	Question   string `json:"question"`
	AskedOn    string `json:"asked_on"`
	Answer     string `json:"answer,omitempty"`
	AnsweredOn string `json:"answered_on,omitempty"`
	RemoteID   string `json:"-"`
}

// Event is a step of a request's timeline.
type Event struct {
	Kind    string `json:"kind"`
	Status  string `json:"status,omitempty"`
	Text    string `json:"text,omitempty"`
	InboxID string `json:"inbox_id,omitempty"`
	At      string `json:"at"`
	By      string `json:"by"`
	Index   int64  `json:"log_index"`
}

// Use is a use recorded of what a request brought.
type Use struct {
	Side      string `json:"side"`
	Purpose   string `json:"purpose"`
	ShareWith string `json:"share_with,omitempty"`
	Note      string `json:"note,omitempty"`
	At        string `json:"at"`
}

func event(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, requestID, kind, status, text, inbox string) error {
	_, err := q.Exec(ctx, `INSERT INTO assets_request_events (id, request_id, kind, status, text, inbox_id, at, by_actor, log_index)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("%s/%012d", requestID, idx), requestID, kind, status, text, inbox, e.At, e.By, idx)
	return err
}

const requestInsert = `INSERT INTO assets_requests (id, direction, type, status, requesting_state, requested_state, requesting_authority_name,
	requested_authority, requested_authority_name, authority_id, peer_id, remote_id, legal_basis, treaty, assistance, offences, facts, purpose, nexus,
	urgent, urgency_reasons, deadline, confidentiality, dual_criminality, language, use_purposes, onward_sharing, peer_onward_sharing, follows,
	case_ids, grounds, grounds_text, drafted_at, drafted_by, sent_at, status_at, log_index)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, '', '', ?, ?, ?, ?, ?)`

// projectRequests adds the requests' projectors and tables.
func projectRequests(reg *ledger.Projections) {
	j := func(l []string) string { return strings.Join(l, " ") }
	ledger.On(reg, TypeRequestDrafted, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *requestDrafted) error {
		drafted, by := e.At, e.By
		if err := q.QueryRow(ctx, "SELECT drafted_at, drafted_by FROM assets_requests WHERE id = ?", d.ID).Scan(&drafted, &by); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if _, err := q.Exec(ctx, "DELETE FROM assets_requests WHERE id = ?", d.ID); err != nil {
			return err
		}
		r := d.NewRequest
		if _, err := q.Exec(ctx, requestInsert, d.ID, DirectionOutgoing, r.Type, StatusDraft, d.RequestingState, r.RequestedState, d.RequestingAuthorityName,
			r.RequestedAuthority, d.RequestedAuthorityName, d.AuthorityID, r.PeerID, "", r.LegalBasis, r.Treaty, j(r.Assistance), j(r.Offences), r.Facts,
			r.Purpose, r.Nexus, b2i(r.Urgent), r.UrgencyReasons, r.Deadline, r.Confidentiality, r.DualCriminality, r.Language, j(r.UsePurposes),
			b2i(r.OnwardSharing), r.Follows, j(r.CaseIDs), drafted, by, "", e.At, idx); err != nil {
			return err
		}
		return event(ctx, q, idx, e, d.ID, "drafted", StatusDraft, "", "")
	})
	ledger.On(reg, TypeRequestReceived, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *requestReceived) error {
		r := d.RequestMessage
		if _, err := q.Exec(ctx, requestInsert, d.ID, DirectionIncoming, r.Type, StatusSent, r.RequestingState, r.RequestedState, r.RequestingAuthority,
			"", r.RequestedAuthority, "", d.PeerID, d.RemoteID, r.LegalBasis, r.Treaty, j(r.Assistance), j(r.Offences), r.Facts, r.Purpose, r.Nexus,
			b2i(r.Urgent), r.UrgencyReasons, r.Deadline, r.Confidentiality, r.DualCriminality, r.Language, j(r.UsePurposes), b2i(r.OnwardSharing),
			d.Follows, "", e.At, e.By, r.SentAt, e.At, idx); err != nil {
			return err
		}
		return event(ctx, q, idx, e, d.ID, "received", StatusSent, "", d.InboxID)
	})
	ledger.On(reg, TypeRequestStatus, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *requestStatus) error {
		sent := ""
		if d.Status == StatusSent {
			sent = e.At
		}
		if _, err := q.Exec(ctx, `UPDATE assets_requests SET status = ?, grounds = ?, grounds_text = ?, status_at = ?,
			sent_at = CASE WHEN ? = '' THEN sent_at ELSE ? END,
			peer_onward_sharing = CASE WHEN ? = 1 AND direction = 'outgoing' THEN 1 ELSE peer_onward_sharing END WHERE id = ?`,
			d.Status, d.Grounds, d.GroundsText, e.At, sent, sent, b2i(d.OnwardSharing && d.InboxID != ""), d.RequestID); err != nil {
			return err
		}
		text := d.Note
		if d.GroundsText != "" {
			text = strings.TrimSpace(d.Grounds + ": " + d.GroundsText + " " + d.Note)
		}
		return event(ctx, q, idx, e, d.RequestID, "status", d.Status, text, d.InboxID)
	})
	ledger.On(reg, TypeQuestionAsked, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *questionAsked) error {
		if _, err := q.Exec(ctx, `INSERT INTO assets_request_questions (id, request_id, side, question, asked_on, answer, answered_on, remote_id, log_index)
			VALUES (?, ?, ?, ?, ?, '', '', ?, ?)`, d.ID, d.RequestID, d.Side, d.Question, d.On, d.RemoteID, idx); err != nil {
			return err
		}
		return event(ctx, q, idx, e, d.RequestID, "question", "", d.Question, d.InboxID)
	})
	ledger.On(reg, TypeQuestionAnswered, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *questionAnswered) error {
		if _, err := q.Exec(ctx, "UPDATE assets_request_questions SET answer = ?, answered_on = ? WHERE id = ?", d.Answer, d.On, d.QuestionID); err != nil {
			return err
		}
		return event(ctx, q, idx, e, d.RequestID, "answer", "", d.Answer, d.InboxID)
	})
	ledger.On(reg, TypeRequestUsed, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *requestUsed) error {
		if _, err := q.Exec(ctx, `INSERT INTO assets_request_uses (id, request_id, side, purpose, share_with, note, used_at, used_by, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("%s/%012d", d.RequestID, idx), d.RequestID, d.Side, d.Purpose, d.ShareWith, d.Note, e.At, e.By, idx); err != nil {
			return err
		}
		text := d.Purpose
		if d.ShareWith != "" {
			text += " → " + d.ShareWith
		}
		return event(ctx, q, idx, e, d.RequestID, "use", "", text, "")
	})
	reg.Tables(
		ledger.Table{Name: "assets_requests", Order: "id"},
		ledger.Table{Name: "assets_request_events", Order: "id"},
		ledger.Table{Name: "assets_request_questions", Order: "id"},
		ledger.Table{Name: "assets_request_uses", Order: "id"},
	)
}

const requestCols = `id, direction, type, status, requesting_state, requested_state, requesting_authority_name, requested_authority,
	requested_authority_name, authority_id, peer_id, remote_id, legal_basis, treaty, assistance, offences, facts, purpose, nexus, urgent, urgency_reasons,
	deadline, confidentiality, dual_criminality, language, use_purposes, onward_sharing, peer_onward_sharing, follows, case_ids, grounds, grounds_text,
	drafted_at, sent_at, status_at`

// scanRequest reads a row of requestCols; today marks it overdue.
func scanRequest(today string) func(r store.Scanner, x *Request) error {
	return func(r store.Scanner, x *Request) error {
		var assist, offences, uses, cases string
		var urgent, onward, peerOnward int
		if err := r.Scan(&x.ID, &x.Direction, &x.Type, &x.Status, &x.RequestingState, &x.RequestedState, &x.RequestingAuthorityName,
			&x.RequestedAuthority, &x.RequestedAuthorityName, &x.AuthorityID, &x.PeerID, &x.RemoteID, &x.LegalBasis, &x.Treaty, &assist, &offences,
			&x.Facts, &x.Purpose, &x.Nexus, &urgent, &x.UrgencyReasons, &x.Deadline, &x.Confidentiality, &x.DualCriminality, &x.Language, &uses,
			&onward, &peerOnward, &x.Follows, &cases, &x.Grounds, &x.GroundsText, &x.DraftedAt, &x.SentAt, &x.StatusAt); err != nil {
			return err
		}
		x.Assistance, x.Offences, x.UsePurposes, x.CaseIDs = list(assist), list(offences), list(uses), list(cases)
		x.Urgent, x.OnwardSharing, x.PeerOnwardSharing = urgent == 1, onward == 1, peerOnward == 1
		x.Overdue = x.Deadline != "" && x.Deadline < today && x.Status != StatusDraft && !finished(x.Type, x.Status)
		return nil
	}
}

func (s *Service) today() string { return s.now().UTC().Format(check.DateLayout) }

// visibleRequest returns the request id as p may see it, in q: a request of
// p's state, or one sent to p's state once sent (not a draft, nor a draft
// withdrawn before it was sent); every one for the regulator and the
// auditor.
func visibleRequest(ctx context.Context, q store.Queryer, p *auth.Principal, field, id string) (*Request, error) {
	var r Request
	err := scanRequest("")(q.QueryRow(ctx, "SELECT "+requestCols+" FROM assets_requests WHERE id = ?", id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, noRequest(field, id)
	}
	if err != nil {
		return nil, err
	}
	if !seesAll(p) && (r.side(p) == "" || r.side(p) == SideRequested && r.SentAt == "") {
		return nil, noRequest(field, id)
	}
	return &r, nil
}

// RequestFile is a request with its timeline, its questions, the uses
// recorded, the requests that follow it, and what it lacks before sending.
type RequestFile struct {
	Request
	Events     []Event    `json:"events"`
	Questions  []Question `json:"questions"`
	Uses       []Use      `json:"uses"`
	FollowedBy []string   `json:"followed_by"`
	Missing    []Missing  `json:"missing"`
	// Next are the steps the reader may record on it now (StepsOf): the
	// statuses it may move to that the reader's side records, none for a
	// reader who records no step.
	Next []string `json:"next"`
}

// Request returns a request p may see.
func (s *Service) Request(ctx context.Context, p *auth.Principal, id string) (*Request, error) {
	if err := p.Require(ReadRequests); err != nil {
		return nil, err
	}
	r, err := visibleRequest(ctx, s.DB.Read(), p, "id", id)
	if err != nil {
		return nil, err
	}
	r.Overdue = r.Deadline != "" && r.Deadline < s.today() && r.Status != StatusDraft && !finished(r.Type, r.Status)
	r.shownTo(p)
	return r, nil
}

// shownTo gives a request its reader's side (Side), and keeps out of it
// what its reader may not see (docs/assets.md, "What each side reads"): the
// requested state's authorities read a request as an exchange message
// carries it (RequestMessage), not the requesting state's own records of
// it: the cases it serves (the requesting state's, "no asset-recovery
// case" to them), the authority that drafted it and when.
func (r *Request) shownTo(p *auth.Principal) {
	if r.Side = SideOther; !seesAll(p) {
		r.Side = r.side(p)
	}
	if r.Side == SideRequested {
		r.CaseIDs, r.AuthorityID, r.DraftedAt = nil, "", ""
	}
}

// timelineRow is an event of a request's timeline with whose it is: the
// side of a use, and the state of the principal who recorded it.
type timelineRow struct {
	Event
	useSide, actorState string
}

// shownTo keeps of a request's timeline and uses what its reader reads: the
// regulator and the auditor all of it; either state's authorities what the
// two states exchange (the request sent, its steps, the questions and
// answers) and their own side's records, not the other side's: its drafts,
// its uses (with their notes), the ids of its principals (docs/assets.md,
// "What each side reads").
func (f *RequestFile) shownTo(p *auth.Principal, events []timelineRow, uses []Use) {
	f.Events, f.Uses = []Event{}, []Use{}
	other := map[string]string{SideRequesting: SideRequested, SideRequested: SideRequesting}[f.Side]
	for _, e := range events {
		if other != "" {
			if e.Kind == "drafted" && f.Side == SideRequested || e.Kind == "use" && e.useSide == other {
				continue
			}
			if e.actorState != p.Jurisdiction {
				e.By = ""
			}
		}
		f.Events = append(f.Events, e.Event)
	}
	for _, u := range uses {
		if u.Side != other {
			f.Uses = append(f.Uses, u)
		}
	}
}

// RequestFile returns a request p may see with everything recorded on it.
func (s *Service) RequestFile(ctx context.Context, p *auth.Principal, id string) (*RequestFile, error) {
	r, err := s.Request(ctx, p, id)
	if err != nil {
		return nil, err
	}
	q := s.DB.Read()
	f := &RequestFile{Request: *r, Next: StepsOf(r, p)}
	rows, err := q.Query(ctx, `SELECT e.kind, e.status, e.text, e.inbox_id, e.at, e.by_actor, e.log_index, COALESCE(u.side, ''), COALESCE(a.jurisdiction, '')
		FROM assets_request_events e LEFT JOIN assets_request_uses u ON u.request_id = e.request_id AND u.log_index = e.log_index
		LEFT JOIN principals p ON p.id = e.by_actor LEFT JOIN authorities a ON a.id = p.authority_id
		WHERE e.request_id = ? ORDER BY e.log_index`, id)
	if err != nil {
		return nil, err
	}
	events, err := store.Rows(rows, func(r store.Scanner, e *timelineRow) error {
		return r.Scan(&e.Kind, &e.Status, &e.Text, &e.InboxID, &e.At, &e.By, &e.Index, &e.useSide, &e.actorState)
	})
	if err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, "SELECT id, request_id, side, question, asked_on, answer, answered_on, remote_id FROM assets_request_questions WHERE request_id = ? ORDER BY log_index", id)
	if err != nil {
		return nil, err
	}
	if f.Questions, err = store.Rows(rows, func(r store.Scanner, x *Question) error {
		return r.Scan(&x.ID, &x.RequestID, &x.Side, &x.Question, &x.AskedOn, &x.Answer, &x.AnsweredOn, &x.RemoteID)
	}); err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, "SELECT side, purpose, share_with, note, used_at FROM assets_request_uses WHERE request_id = ? ORDER BY log_index", id)
	if err != nil {
		return nil, err
	}
	uses, err := store.Rows(rows, func(r store.Scanner, u *Use) error { return r.Scan(&u.Side, &u.Purpose, &u.ShareWith, &u.Note, &u.At) })
	if err != nil {
		return nil, err
	}
	f.shownTo(p, events, uses)
	rows, err = q.Query(ctx, "SELECT id FROM assets_requests WHERE follows = ? ORDER BY id", id)
	if err != nil {
		return nil, err
	}
	followers, err := store.Rows(rows, func(r store.Scanner, x *string) error { return r.Scan(x) })
	if err != nil {
		return nil, err
	}
	// Only those p may see: the other state's drafts are "no request".
	for _, id := range followers {
		if _, err := visibleRequest(ctx, q, p, "id", id); err == nil {
			f.FollowedBy = append(f.FollowedBy, id)
		} else if errs.CodeOf(err) != errs.NotFound {
			return nil, err
		}
	}
	if f.Missing = []Missing{}; r.Status == StatusDraft {
		if f.Missing, err = s.missingOf(ctx, q, r); err != nil {
			return nil, err
		}
	}
	if f.Questions == nil {
		f.Questions = []Question{}
	}
	if f.FollowedBy == nil {
		f.FollowedBy = []string{}
	}
	return f, nil
}

// RequestFilter filters the list of requests: by type, status, direction,
// state (the regulator's and auditor's choice: either party), overdue only,
// and a text its facts, purpose or authorities hold.
type RequestFilter struct {
	Type, Status, Direction, State, Q string
	Overdue                           bool
	// every lists every request the filter selects, not the newest
	// MaxRequestList: an export's (RequestsExport).
	every bool
}

// OverdueFilter reads the overdue filter of a list of requests as the API
// and the pages take it: "1", or nothing; any other value is refused
// (rule enum, field overdue), not read as "overdue only" nor ignored.
func OverdueFilter(v string) (bool, error) {
	switch v {
	case "":
		return false, nil
	case "1":
		return true, nil
	}
	return false, errs.Invalidf("enum", "overdue", "overdue must be 1 when given")
}

// MaxRequestList is how many requests a list answers, newest first.
const MaxRequestList = 500

// Requests lists the requests p may see, newest first: its state's and
// those sent to its state; with Overdue, those whose deadline passed and
// that are not finished.
func (s *Service) Requests(ctx context.Context, p *auth.Principal, f RequestFilter) ([]Request, error) {
	if err := p.Require(ReadRequests); err != nil {
		return nil, err
	}
	for _, c := range []struct {
		field, v string
		allowed  []string
	}{{"type", f.Type, RequestTypes}, {"status", f.Status, RequestStatuses}, {"direction", f.Direction, []string{DirectionOutgoing, DirectionIncoming}}} {
		if c.v != "" {
			if err := check.OneOf(c.field, c.v, c.allowed); err != nil {
				return nil, err
			}
		}
	}
	state, ok, err := scopeState(p, f.State)
	if err != nil {
		return nil, err
	}
	own := ""
	if !seesAll(p) {
		if !ok {
			return []Request{}, nil
		}
		// Its own state's requests and those sent to it (its own state
		// named is the same as none).
		state, own = "", state
	}
	today := s.today()
	overdue := ""
	if f.Overdue {
		overdue = today
	}
	text, like, err := check.Contains("q", f.Q)
	if err != nil {
		return nil, err
	}
	limit := MaxRequestList
	if f.every {
		limit = math.MaxInt32
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+requestCols+` FROM assets_requests WHERE
		(? = '' OR requesting_state = ? OR (requested_state = ? AND sent_at <> ''))
		AND (? = '' OR requesting_state = ? OR requested_state = ?)
		AND (? = '' OR type = ?) AND (? = '' OR status = ?) AND (? = '' OR direction = ?)
		AND (? = '' OR (deadline <> '' AND deadline < ? AND status IN ('sent', 'acknowledged', 'under_execution')
			AND NOT (type = 'spontaneous' AND status = 'acknowledged')))
		AND (? = '' OR LOWER(id || ' ' || facts || ' ' || purpose || ' ' || requesting_authority_name || ' ' || requested_authority_name) LIKE ? ESCAPE '\')
		ORDER BY log_index DESC, id LIMIT ?`,
		own, own, own, state, state, state, f.Type, f.Type, f.Status, f.Status, f.Direction, f.Direction, overdue, overdue, text, like, limit)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, scanRequest(today))
	if out == nil {
		out = []Request{}
	}
	for i := range out {
		out[i].shownTo(p)
	}
	return out, err
}

// requestByRemote finds the request a message from peerID names by the
// requesting registry's id: this registry's own (outgoing) or the copy of
// one it received (incoming).
func requestByRemote(ctx context.Context, q store.Queryer, peerID, id string) (*Request, error) {
	var r Request
	err := scanRequest("")(q.QueryRow(ctx, "SELECT "+requestCols+` FROM assets_requests WHERE peer_id = ? AND
		((direction = 'outgoing' AND id = ?) OR (direction = 'incoming' AND remote_id = ?))`, peerID, id, id), &r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "payload.request_id", "no request %s exchanged with the sender", id)
	}
	return &r, err
}
