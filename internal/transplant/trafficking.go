package transplant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// ---- Suspected-trafficking reports (resolution VI, paras 12 and 15 b) ----
//
// A health professional of a transplant centre files a confidential report
// to the designated authority; the authority works its queue. Whoever else
// reads the registry or its log (the regulator, an auditor, another centre)
// learns that a report was filed and the indicators it names, never who
// filed it nor what they wrote: the report's leaf is by a pseudonym
// (ledger.Pseudonymous), and the reporter's identity, the free text and the
// linked records are sealed in the vault, opened by the designated authority
// only, each opening a logged read (docs/trafficking.md).

// The designated authority for trafficking reports, and the role that works
// its queue.
const (
	KindTraffickingAuthority           = "trafficking_authority"
	RoleTraffickingAssessor  auth.Role = "trafficking_assessor"
)

// WorkTraffickingReports is reading the queue of reports, opening them and
// their reporters' identities, and changing their status.
var WorkTraffickingReports = auth.NewAction("work the queue of suspected-trafficking reports", RoleTraffickingAssessor)

// Entry types of the reports and the screening.
const (
	TypeTraffickingReportFiled    = "transplant.trafficking_report_filed"
	TypeTraffickingStatusChanged  = "transplant.trafficking_report_status_changed"
	TypeTraffickingScreeningAlert = "transplant.trafficking_screening_alert"
	// TypeAbroadScreeningAlert is an alert the screening raised on a
	// record of treatment abroad.
	TypeAbroadScreeningAlert = "transplant.abroad_screening_alert"
)

// The statuses of a report: received, then under assessment, then referred
// to law enforcement or closed as unfounded (both final).
const (
	TraffickingReceived        = "received"
	TraffickingUnderAssessment = "under_assessment"
	TraffickingReferred        = "referred_to_law_enforcement"
	TraffickingUnfounded       = "closed_unfounded"
)

// TraffickingStatuses lists the statuses in the order a report goes through them.
var TraffickingStatuses = []string{TraffickingReceived, TraffickingUnderAssessment, TraffickingReferred, TraffickingUnfounded}

// traffickingNext are the statuses each status may change to.
var traffickingNext = map[string][]string{
	TraffickingReceived:        {TraffickingUnderAssessment},
	TraffickingUnderAssessment: {TraffickingReferred, TraffickingUnfounded},
}

// TraffickingCategories are the HOTT project's and the Declaration of
// Istanbul Custodian Group's categories of indicators.
var TraffickingCategories = []string{"recruitment", "travel", "documents", "finance", "aftercare"}

// Indicator is one sign of trafficking in persons for organ removal a health
// professional may observe: its code, its category and what it means
// (docs/trafficking.md lists them with their sources).
type Indicator struct {
	Code        string `json:"code"`
	Category    string `json:"category"`
	Description string `json:"description"`
}

// TraffickingIndicators is the list reports choose from.
var TraffickingIndicators = []Indicator{
	{"recruitment.intermediary", "recruitment", i18n.M("The donor was introduced, recruited or accompanied by a broker, agent or other intermediary")},
	{"recruitment.vulnerability", "recruitment", i18n.M("The donor is in a situation of vulnerability: poverty, debt, irregular migration status, dependence on the recipient or a third party")},
	{"recruitment.relationship", "recruitment", i18n.M("The relationship declared between donor and recipient is doubtful, inconsistent or cannot be verified")},
	{"recruitment.coercion", "recruitment", i18n.M("Signs of pressure, threat or deception: the donor is never alone, someone else answers for them, they seem afraid or unwilling")},
	{"travel.for_transplant", "travel", i18n.M("The recipient travelled, or plans to travel, abroad to obtain an organ")},
	{"travel.donor_brought", "travel", i18n.M("The donor was brought from abroad for the donation, the travel arranged or paid for by others")},
	{"travel.returned_without_records", "travel", i18n.M("The recipient returned from a transplantation abroad without medical records, or with incomplete or implausible ones")},
	{"documents.false", "documents", i18n.M("Identity, relationship or medical documents appear forged, altered or borrowed")},
	{"documents.held_by_other", "documents", i18n.M("The donor's identity documents are held by someone else")},
	{"documents.consent_not_understood", "documents", i18n.M("The donor cannot read or understand the consent documents, or only through an interpreter chosen by others")},
	{"finance.payment_to_donor", "finance", i18n.M("Payment or another material benefit was offered, promised or given to the donor or their family, beyond the reimbursement of justifiable expenses")},
	{"finance.payment_by_recipient", "finance", i18n.M("The recipient paid, or was asked to pay, large sums to a broker, agency or facility")},
	{"finance.reimbursement_anomaly", "finance", i18n.M("Reimbursements or costs out of proportion to the documented expenses of the donation")},
	{"aftercare.donor_no_followup", "aftercare", i18n.M("The living donor received no follow-up, cannot be reached, or disappeared after the donation")},
	{"aftercare.recipient_unknown_origin", "aftercare", i18n.M("The recipient presents for care with no information on the donor, the centre or the surgery")},
	{"aftercare.complications", "aftercare", i18n.M("Complications in the donor or the recipient consistent with surgery done outside a licensed programme")},
}

// TraffickingIndicatorCodes lists the indicators' codes, for enumerations.
func TraffickingIndicatorCodes() []string {
	out := make([]string, len(TraffickingIndicators))
	for i, ind := range TraffickingIndicators {
		out[i] = ind.Code
	}
	return out
}

// ReportTrafficking is filing a suspected-trafficking report and following
// one's own: a health professional of a transplant centre, that is a role
// whose principals belong to one (the coordinator, and any role of kind
// transplant centre the registry declares). A role's kind is fixed by the
// catalogue (auth.RoleSpec), so the roles say it as the authority's kind
// would: pages and routes declare it (web.Page.Allow, httpapi.Route.Allow).
var ReportTrafficking = auth.NewAction("report suspected trafficking", reporterRoles(Module.Roles)...)

// reporterRoles are the coordinator and the roles of specs whose
// principals belong to a transplant centre.
func reporterRoles(specs []auth.RoleSpec) []auth.Role {
	roles := []auth.Role{RoleCoordinator}
	for _, r := range specs {
		if r.Kind == KindCentre && !slices.Contains(roles, r.Role) {
			roles = append(roles, r.Role)
		}
	}
	return roles
}

// Limits of a report.
const (
	traffickingTextMax   = 10000
	traffickingLinkedMax = 20
)

// NewTraffickingReport is a report as filed: the indicators observed (codes
// of TraffickingIndicators), what the reporter saw, and the records it
// concerns, if any.
type NewTraffickingReport struct {
	Indicators   []string `json:"indicators" api:"required"`
	Text         string   `json:"text" api:"required"`
	DonorIDs     []string `json:"donor_ids,omitempty"`
	RecipientIDs []string `json:"recipient_ids,omitempty"`
	OrganIDs     []string `json:"organ_ids,omitempty"`
}

// TraffickingContent is what a report says, sealed: the free text and the
// linked records.
type TraffickingContent struct {
	Text         string   `json:"text"`
	DonorIDs     []string `json:"donor_ids"`
	RecipientIDs []string `json:"recipient_ids"`
	OrganIDs     []string `json:"organ_ids"`
}

// TraffickingReporter is who filed a report, sealed: only the designated
// authority opens it.
type TraffickingReporter struct {
	PrincipalID string    `json:"principal_id"`
	Name        string    `json:"name"`
	Role        auth.Role `json:"role"`
	AuthorityID string    `json:"authority_id"`
	Authority   string    `json:"authority"`
}

// traffickingFiled is the data of transplant.trafficking_report_filed. Its
// leaf's by is the reporter's pseudonym, its authority empty.
type traffickingFiled struct {
	ID          string   `json:"id"`
	Indicators  []string `json:"indicators"`
	ContentRef  string   `json:"content_ref"`
	IdentityRef string   `json:"identity_ref"`
}

// traffickingStatusChanged is the data of
// transplant.trafficking_report_status_changed.
type traffickingStatusChanged struct {
	ID       string `json:"id"`
	ReportID string `json:"report_id"`
	Status   string `json:"status"`
}

// TraffickingReceipt is what a reporter sees of their own report: its
// reference and where it stands.
type TraffickingReceipt struct {
	Reference string `json:"reference"`
	Status    string `json:"status"`
	FiledAt   string `json:"filed_at"`
	StatusAt  string `json:"status_at"`
}

// TraffickingReport is a report as the designated authority's queue lists
// it: no identity and no text (opened apart, each a logged read).
type TraffickingReport struct {
	ID                string   `json:"id"`
	ReporterPseudonym string   `json:"reporter_pseudonym"`
	Indicators        []string `json:"indicators"`
	Status            string   `json:"status"`
	FiledAt           string   `json:"filed_at"`
	StatusAt          string   `json:"status_at"`
	LogIndex          int64    `json:"log_index"`
	// History lists the changes of status, oldest first (one report only).
	History []TraffickingStatusChange `json:"history,omitempty"`
	// Transplants lists the transplantations the case is linked to, oldest
	// link first (one report only): those a confirmed assessment makes not
	// reimbursable (LinkTraffickingCase). A withdrawn link is not among
	// them (WithdrawTraffickingCaseLink).
	Transplants []TraffickingCaseLink `json:"transplants,omitempty"`
	// WithdrawnLinks lists the links withdrawn, oldest withdrawal first
	// (one report only): who made each and when, who withdrew it, when
	// and why. None of them is in force.
	WithdrawnLinks []TraffickingLinkWithdrawn `json:"withdrawn_links,omitempty"`
}

// TraffickingCaseLink is a transplantation a report's case concerns: its
// TX- id, or the identifier of an organ from abroad transplanted here.
type TraffickingCaseLink struct {
	TransplantID string `json:"transplant_id"`
	LinkedAt     string `json:"linked_at"`
	LinkedBy     string `json:"linked_by"`
	LogIndex     int64  `json:"log_index"`
}

// TraffickingStatusChange is one change of a report's status.
type TraffickingStatusChange struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	At          string `json:"at"`
	PrincipalID string `json:"principal_id"`
	LogIndex    int64  `json:"log_index"`
}

// reporterPseudonym is the leaf's by for p's report id: a keyed hash (the
// vault's pseudonym key, which no reader of the log holds) of the principal
// and the report. It reveals nothing of p, and two reports of p have
// unrelated pseudonyms, so the log does not show that one person reported
// twice; p, signed in, is recognised as the reporter by computing it again.
func (s *Service) reporterPseudonym(reportID, principalID string) string {
	return s.Vault.Pseudonym("trafficking-reporter:"+reportID, principalID)
}

// linkedIDs checks a list of linked record ids: at most 20, each one line,
// none twice, normalised by norm (which may refuse).
func linkedIDs(field string, ids []string, norm func(field, id string) (string, error)) ([]string, error) {
	if len(ids) > traffickingLinkedMax {
		return nil, errs.Invalidf("range", field, "at most %d linked records of a kind, got %d: out of range", traffickingLinkedMax, len(ids))
	}
	out := make([]string, 0, len(ids))
	for i, id := range ids {
		f := check.Index(field, i)
		v, err := check.Line(f, id, 64, true)
		if err != nil {
			return nil, err
		}
		if v, err = norm(f, strings.ToUpper(v)); err != nil {
			return nil, err
		}
		if slices.Contains(out, v) {
			return nil, errs.Invalidf("duplicate", f, "%s is given twice", v)
		}
		out = append(out, v)
	}
	return out, nil
}

// plainID takes a donor's or recipient's id as typed (upper-cased).
func plainID(_, id string) (string, error) { return id, nil }

func organIDNorm(field, id string) (string, error) {
	o, err := ParseOrganID(id)
	if err != nil {
		return "", errs.Invalidf("organ_id", field, "%s is not an organ identifier", id)
	}
	return o.String(), nil
}

// checkReport validates a report before anything is read.
func checkReport(in NewTraffickingReport) (TraffickingContent, []string, error) {
	var c TraffickingContent
	if len(in.Indicators) == 0 {
		return c, nil, errs.Invalidf("required", "indicators", "choose at least one indicator observed")
	}
	codes := TraffickingIndicatorCodes()
	var inds []string
	for i, code := range in.Indicators {
		f := check.Index("indicators", i)
		if err := check.OneOf(f, code, codes); err != nil {
			return c, nil, err
		}
		if slices.Contains(inds, code) {
			return c, nil, errs.Invalidf("duplicate", f, "%s is given twice", code)
		}
		inds = append(inds, code)
	}
	text, err := check.Text("text", in.Text, traffickingTextMax, true)
	if err != nil {
		return c, nil, err
	}
	c.Text = text
	if c.DonorIDs, err = linkedIDs("donor_ids", in.DonorIDs, plainID); err != nil {
		return c, nil, err
	}
	if c.RecipientIDs, err = linkedIDs("recipient_ids", in.RecipientIDs, plainID); err != nil {
		return c, nil, err
	}
	if c.OrganIDs, err = linkedIDs("organ_ids", in.OrganIDs, organIDNorm); err != nil {
		return c, nil, err
	}
	return c, inds, nil
}

// FileTraffickingReport files p's confidential report with the designated
// authority and returns its receipt: the reference p follows it by. The
// leaf names the report's pseudonym, never p; p's identity and what p wrote
// are sealed in the same transaction.
func (s *Service) FileTraffickingReport(ctx context.Context, p *auth.Principal, in NewTraffickingReport) (*TraffickingReceipt, error) {
	if err := p.Require(ReportTrafficking); err != nil {
		return nil, err
	}
	content, inds, err := checkReport(in)
	if err != nil {
		return nil, err
	}
	id, contentRef, identityRef := s.W.IDs().New("TR"), s.W.IDs().New("SJ"), s.W.IDs().New("SJ")
	res, err := s.W.Submit(ctx, ledger.Pseudonymous(s.reporterPseudonym(id, p.ID)), "file a trafficking report",
		func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
			for _, l := range []struct {
				field, table string
				ids          []string
			}{{"donor_ids", "donors", content.DonorIDs}, {"recipient_ids", "recipients", content.RecipientIDs}, {"organ_ids", "organs", content.OrganIDs}} {
				for i, rid := range l.ids {
					var one int
					err := tx.QueryRow(ctx, "SELECT 1 FROM "+l.table+" WHERE id = ?", rid).Scan(&one)
					if errors.Is(err, sql.ErrNoRows) {
						return nil, errs.New(errs.NotFound, "reference", check.Index(l.field, i), "no record %s in this registry", rid)
					}
					if err != nil {
						return nil, err
					}
				}
			}
			who := TraffickingReporter{PrincipalID: p.ID, Name: p.Name, Role: p.Role, AuthorityID: p.AuthorityID}
			if err := tx.QueryRow(ctx, "SELECT name FROM authorities WHERE id = ?", p.AuthorityID).Scan(&who.Authority); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			sc, err := s.Vault.Seal(ctx, tx, contentRef, content, now)
			if err != nil {
				return nil, err
			}
			si, err := s.Vault.Seal(ctx, tx, identityRef, who, now)
			if err != nil {
				return nil, err
			}
			return sealedEntry(TypeTraffickingReportFiled, traffickingFiled{ID: id, Indicators: inds, ContentRef: contentRef, IdentityRef: identityRef}, sc, si)
		})
	if err != nil {
		return nil, err
	}
	return &TraffickingReceipt{Reference: id, Status: TraffickingReceived, FiledAt: res.Entry.At, StatusAt: res.Entry.At}, nil
}

// SetTraffickingStatus moves a report on: received to under assessment, then
// to referred to law enforcement or closed as unfounded.
func (s *Service) SetTraffickingStatus(ctx context.Context, p *auth.Principal, reportID, status string) (*TraffickingReport, error) {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return nil, err
	}
	if err := check.OneOf("status", status, TraffickingStatuses); err != nil {
		return nil, err
	}
	eid := s.W.IDs().New("TE")
	_, err := s.W.Submit(ctx, p.Actor(), "change a trafficking report's status", func(ctx context.Context, tx *store.Tx, _ time.Time) (*ledger.Entry, error) {
		var cur string
		err := tx.QueryRow(ctx, "SELECT status FROM trafficking_reports WHERE id = ?", reportID).Scan(&cur)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, noReport(reportID)
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(traffickingNext[cur], status) {
			if len(traffickingNext[cur]) == 0 {
				return nil, errs.New(errs.Conflict, "status_transition", "status", "report %s is %s, a final status", reportID, cur)
			}
			return nil, errs.New(errs.Conflict, "status_transition", "status", "report %s is %s: it may become %s only", reportID, cur, strings.Join(traffickingNext[cur], " or "))
		}
		if status == TraffickingUnfounded {
			if err := refuseUnfoundedIfConfirmed(ctx, tx, reportID); err != nil {
				return nil, err
			}
		}
		return ledger.NewEntry(TypeTraffickingStatusChanged, traffickingStatusChanged{ID: eid, ReportID: reportID, Status: status})
	})
	if err != nil {
		return nil, err
	}
	return s.GetTraffickingReport(ctx, p, reportID)
}

func noReport(id string) error {
	return errs.New(errs.NotFound, "reference", "id", "no trafficking report %s", id)
}

const traffickingCols = "id, reporter_pseudonym, indicators, status, filed_at, status_at, log_index"

func scanTrafficking(sc store.Scanner, r *TraffickingReport) error {
	var inds string
	if err := sc.Scan(&r.ID, &r.ReporterPseudonym, &inds, &r.Status, &r.FiledAt, &r.StatusAt, &r.LogIndex); err != nil {
		return err
	}
	r.Indicators = strings.Fields(inds)
	return nil
}

// TraffickingFilter selects a page of the designated authority's queue: the
// reports of one status (any when empty).
type TraffickingFilter struct {
	Status string
	page.Request
}

// TraffickingFilterOf reads a page of the queue from query parameters:
// status, limit and cursor, refusing any other.
func TraffickingFilterOf(q url.Values) (TraffickingFilter, error) {
	r, err := page.Parse(q, page.Lists, "status")
	if err != nil {
		return TraffickingFilter{}, err
	}
	return TraffickingFilter{Status: q.Get("status"), Request: r}, nil
}

// TraffickingQueue lists a page of the reports of the designated authority's
// queue, newest first, those of one status when the filter gives it.
func (s *Service) TraffickingQueue(ctx context.Context, p *auth.Principal, f TraffickingFilter) (page.Of[TraffickingReport], error) {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return page.Of[TraffickingReport]{}, err
	}
	if f.Status != "" {
		if err := check.OneOf("status", f.Status, TraffickingStatuses); err != nil {
			return page.Of[TraffickingReport]{}, err
		}
	}
	if f.Limit <= 0 {
		f.Limit = page.Lists.Default
	}
	where, after := f.Where("log_index", "id")
	rows, err := s.DB.Read().Query(ctx, "SELECT "+traffickingCols+", log_index FROM trafficking_reports WHERE (? = '' OR status = ?) AND "+where+
		" ORDER BY log_index DESC, id LIMIT ?", append(append([]any{f.Status, f.Status}, after...), f.Limit+1)...)
	if err != nil {
		return page.Of[TraffickingReport]{}, err
	}
	return page.Read(rows, f.Request, scanTrafficking, func(r *TraffickingReport) string { return r.ID })
}

// GetTraffickingReport reads one report with its history, for the designated
// authority: neither its text nor its reporter (TraffickingReportContent,
// TraffickingReportReporter open them).
func (s *Service) GetTraffickingReport(ctx context.Context, p *auth.Principal, id string) (*TraffickingReport, error) {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	var r TraffickingReport
	if err := scanTrafficking(q.QueryRow(ctx, "SELECT "+traffickingCols+" FROM trafficking_reports WHERE id = ?", id), &r); errors.Is(err, sql.ErrNoRows) {
		return nil, noReport(id)
	} else if err != nil {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT id, status, at, principal_id, log_index FROM trafficking_report_events WHERE report_id = ? ORDER BY log_index", id)
	if err != nil {
		return nil, err
	}
	r.History, err = store.Rows(rows, func(sc store.Scanner, c *TraffickingStatusChange) error {
		return sc.Scan(&c.ID, &c.Status, &c.At, &c.PrincipalID, &c.LogIndex)
	})
	if err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT transplant_id, linked_at, linked_by, log_index FROM trafficking_case_transplants WHERE report_id = ?
		UNION ALL SELECT organ_id, linked_at, linked_by, log_index FROM trafficking_case_imports WHERE report_id = ?
		ORDER BY 4`, id, id)
	if err != nil {
		return nil, err
	}
	r.Transplants, err = store.Rows(rows, func(sc store.Scanner, l *TraffickingCaseLink) error {
		return sc.Scan(&l.TransplantID, &l.LinkedAt, &l.LinkedBy, &l.LogIndex)
	})
	if err != nil {
		return nil, err
	}
	rows, err = q.Query(ctx, `SELECT id, link_id, report_id, transplant_id, linked_at, linked_by, reason, withdrawn_at, withdrawn_by, log_index
		FROM trafficking_case_withdrawals WHERE report_id = ? ORDER BY log_index`, id)
	if err != nil {
		return nil, err
	}
	r.WithdrawnLinks, err = store.Rows(rows, func(sc store.Scanner, w *TraffickingLinkWithdrawn) error {
		return sc.Scan(&w.ID, &w.LinkID, &w.ReportID, &w.TransplantID, &w.LinkedAt, &w.LinkedBy, &w.Reason, &w.WithdrawnAt, &w.WithdrawnBy, &w.LogIndex)
	})
	return &r, err
}

// openSealed records in the log that p opened what of report id for
// purpose, then opens the sealed data under the report's column col.
func (s *Service) openSealed(ctx context.Context, p *auth.Principal, id, col, what, purpose string, out any) error {
	if err := p.Require(WorkTraffickingReports); err != nil {
		return err
	}
	purpose, err := check.Text("purpose", purpose, 500, true)
	if err != nil {
		return err
	}
	var ref string
	if err := s.DB.Read().QueryRow(ctx, "SELECT "+col+" FROM trafficking_reports WHERE id = ?", id).Scan(&ref); errors.Is(err, sql.ErrNoRows) {
		return noReport(id)
	} else if err != nil {
		return err
	}
	if err := privacy.RecordRead(ctx, s.W, p.Actor(), id, what+": "+purpose); err != nil {
		return err
	}
	return s.Vault.Open(ctx, s.DB.Read(), ref, out)
}

// TraffickingReportContent opens what report id says (its free text and
// linked records) for the designated authority: a read recorded in the log
// with its purpose.
func (s *Service) TraffickingReportContent(ctx context.Context, p *auth.Principal, id, purpose string) (*TraffickingContent, error) {
	var c TraffickingContent
	if err := s.openSealed(ctx, p, id, "content_ref", "trafficking report content", purpose, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// TraffickingReportReporter opens who filed report id, for the designated
// authority only: a read recorded in the log with its purpose.
func (s *Service) TraffickingReportReporter(ctx context.Context, p *auth.Principal, id, purpose string) (*TraffickingReporter, error) {
	var who TraffickingReporter
	if err := s.openSealed(ctx, p, id, "identity_ref", "trafficking reporter identity", purpose, &who); err != nil {
		return nil, err
	}
	return &who, nil
}

// MyTraffickingReports lists the reports p filed, newest first: for each,
// its reference and status, nothing else. The rows do not name p; p's are
// those whose pseudonym is p's for their id.
func (s *Service) MyTraffickingReports(ctx context.Context, p *auth.Principal) ([]TraffickingReceipt, error) {
	if err := p.Require(ReportTrafficking); err != nil {
		return nil, err
	}
	rows, err := s.DB.Read().Query(ctx, "SELECT "+traffickingCols+" FROM trafficking_reports ORDER BY log_index DESC, id")
	if err != nil {
		return nil, err
	}
	all, err := store.Rows(rows, scanTrafficking)
	if err != nil {
		return nil, err
	}
	out := []TraffickingReceipt{}
	for _, r := range all {
		if r.ReporterPseudonym == s.reporterPseudonym(r.ID, p.ID) {
			out = append(out, TraffickingReceipt{Reference: r.ID, Status: r.Status, FiledAt: r.FiledAt, StatusAt: r.StatusAt})
		}
	}
	return out, nil
}

// MyTraffickingReport is the status of p's report ref; a report p did not
// file is not found, as one that does not exist.
func (s *Service) MyTraffickingReport(ctx context.Context, p *auth.Principal, ref string) (*TraffickingReceipt, error) {
	if err := p.Require(ReportTrafficking); err != nil {
		return nil, err
	}
	var r TraffickingReport
	err := scanTrafficking(s.DB.Read().QueryRow(ctx, "SELECT "+traffickingCols+" FROM trafficking_reports WHERE id = ?", ref), &r)
	if errors.Is(err, sql.ErrNoRows) || err == nil && r.ReporterPseudonym != s.reporterPseudonym(r.ID, p.ID) {
		return nil, errs.New(errs.NotFound, "reference", "reference", "you filed no trafficking report %s", ref)
	}
	if err != nil {
		return nil, err
	}
	return &TraffickingReceipt{Reference: r.ID, Status: r.Status, FiledAt: r.FiledAt, StatusAt: r.StatusAt}, nil
}

// ---- Screening of registry data ----

// The screening rules (docs/trafficking.md says which wait for data the
// registry does not hold yet).
const (
	// A living donation to a recipient who does not reside in the
	// registry's jurisdiction: travel for transplantation.
	RuleNonResidentLivingDonation = "trafficking_nonresident_recipient"
	// A living donor whose national identifier is that of a living donor
	// registered before who already gave an organ: a person giving more
	// than once.
	RuleRepeatLivingDonor = "trafficking_repeat_living_donor"
)

// The screening rules of a resident's treatment abroad, read when it is
// recorded: the markers of transplant commercialism and trafficking that the
// Declaration of Istanbul Custodian Group asks governments to notify.
const (
	// A payment for the organ reported by the patient.
	RuleAbroadPayment = "trafficking_abroad_payment"
	// A transplant abroad from a living donor unrelated to the resident
	// and not of the resident's country (or of a nationality not known).
	RuleAbroadUnrelatedDonor = "trafficking_abroad_unrelated_donor"
)

// AbroadScreening is an alert the screening raised on a record abroad.
type AbroadScreening struct {
	AlertID  string `json:"alert_id"`
	Rule     string `json:"rule"`
	Field    string `json:"field"`
	AbroadID string `json:"abroad_id"`
	CentreID string `json:"centre_id"`
	Message  string `json:"message"`
}

// screenAbroad runs the screening rules on record a, just recorded by p in
// a registry of jurisdiction home, and records an alert for each that
// holds. A failure is returned after the record was made.
func (s *Service) screenAbroad(ctx context.Context, p *auth.Principal, a *Abroad, home string) error {
	if a.Kind != AbroadTransplant {
		return nil
	}
	var hits []AbroadScreening
	if a.PaymentReported == "yes" {
		hits = append(hits, AbroadScreening{Rule: RuleAbroadPayment, Field: "payment_reported",
			Message: fmt.Sprintf(i18n.M("record %s: a resident reports a payment for the %s transplanted in %s: an indicator of transplant commercialism"), a.ID, a.Organ, a.Country)})
	}
	if a.DonorType == "living" && a.DonorRelation == "unrelated" && a.DonorNationality != home {
		hits = append(hits, AbroadScreening{Rule: RuleAbroadUnrelatedDonor, Field: "donor_relation",
			Message: fmt.Sprintf(i18n.M("record %s: a resident received a %s in %s from an unrelated living donor of nationality %s: an indicator of trafficking in persons for organ removal"), a.ID, a.Organ, a.Country, a.DonorNationality)})
	}
	for _, h := range hits {
		h.AbroadID, h.CentreID, h.AlertID = a.ID, a.CentreID, s.W.IDs().New("AL")
		if _, err := s.W.Submit(ctx, p.Actor(), "screen for trafficking indicators", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
			return ledger.NewEntry(TypeAbroadScreeningAlert, h)
		}); err != nil {
			return err
		}
	}
	return nil
}

// TraffickingScreening is an alert the screening raised.
type TraffickingScreening struct {
	AlertID      string `json:"alert_id"`
	Rule         string `json:"rule"`
	Category     string `json:"category"`
	TransplantID string `json:"transplant_id"`
	DonorID      string `json:"donor_id"`
	RecipientID  string `json:"recipient_id"`
	CentreID     string `json:"centre_id"`
	Message      string `json:"message"`
	RaisedAt     string `json:"raised_at,omitempty"`
	LogIndex     int64  `json:"log_index,omitempty"`
}

// screenTransplant runs the screening rules on transplantation tx, just
// recorded by p, and records an alert for each that holds (once per rule and
// transplantation).
func (s *Service) screenTransplant(ctx context.Context, p *auth.Principal, tx *Transplant) error {
	var donor, kind, pseudonym, residence, jurisdiction string
	err := s.DB.Read().QueryRow(ctx, `SELECT d.id, d.kind, d.person_pseudonym, r.residence, COALESCE((SELECT value FROM settings WHERE name = 'jurisdiction'), '')
		FROM organs o JOIN donors d ON d.id = o.donor_id JOIN recipients r ON r.id = ? WHERE o.id = ?`, tx.RecipientID, tx.OrganID).
		Scan(&donor, &kind, &pseudonym, &residence, &jurisdiction)
	if errors.Is(err, sql.ErrNoRows) || err == nil && kind != DonorLiving {
		return nil
	}
	if err != nil {
		return err
	}
	var hits []TraffickingScreening
	if residence != jurisdiction {
		hits = append(hits, TraffickingScreening{Rule: RuleNonResidentLivingDonation, Category: "travel",
			Message: fmt.Sprintf(i18n.M("living donation from donor %s to recipient %s, resident in %s, not in %s: an indicator of travel for transplantation"), donor, tx.RecipientID, residence, jurisdiction)})
	}
	var other string
	// A donor registered earlier: the person's first donation raises
	// nothing, each later one raises once.
	err = s.DB.Read().QueryRow(ctx, `SELECT d.id FROM donors d WHERE d.person_pseudonym = ? AND d.kind = ? AND d.id <> ?
		AND d.log_index < (SELECT log_index FROM donors WHERE id = ?)
		AND EXISTS (SELECT 1 FROM procurements pr WHERE pr.donor_id = d.id) ORDER BY d.log_index LIMIT 1`, pseudonym, DonorLiving, donor, donor).Scan(&other)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if other != "" {
		hits = append(hits, TraffickingScreening{Rule: RuleRepeatLivingDonor, Category: "recruitment",
			Message: fmt.Sprintf(i18n.M("living donor %s has the national identifier of living donor %s, who already gave an organ: an indicator of recruitment"), donor, other)})
	}
	for _, h := range hits {
		h.TransplantID, h.DonorID, h.RecipientID, h.CentreID = tx.ID, donor, tx.RecipientID, tx.CentreID
		h.AlertID = s.W.IDs().New("AL")
		if _, err := s.W.Submit(ctx, p.Actor(), "screen for trafficking indicators", func(ctx context.Context, q *store.Tx, _ time.Time) (*ledger.Entry, error) {
			var one int
			err := q.QueryRow(ctx, "SELECT 1 FROM trafficking_screenings WHERE rule = ? AND transplant_id = ?", h.Rule, h.TransplantID).Scan(&one)
			if err == nil {
				return nil, errs.New(errs.Conflict, "screened", "transplant_id", "transplantation %s was screened by rule %s already", h.TransplantID, h.Rule)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			return ledger.NewEntry(TypeTraffickingScreeningAlert, h)
		}); err != nil && errs.CodeOf(err) != errs.Conflict {
			return err
		}
	}
	return nil
}

// ScreenTrafficking runs the screening over every transplantation from a
// living donor the registry holds, oldest first, for the designated
// authority or the regulator: what was recorded before the screening
// existed, or before a rule was added. A rule already raised on a
// transplantation is not raised again. It returns how many alerts it raised.
func (s *Service) ScreenTrafficking(ctx context.Context, p *auth.Principal) (int, error) {
	if p == nil || !p.Can(WorkTraffickingReports) && !p.Can(auth.WorkAlerts) {
		return 0, p.Require(WorkTraffickingReports)
	}
	rows, err := s.DB.Read().Query(ctx, `SELECT t.id, t.organ_id, t.recipient_id, t.centre_id FROM transplants t
		JOIN organs o ON o.id = t.organ_id JOIN donors d ON d.id = o.donor_id WHERE d.kind = ? ORDER BY t.log_index`, DonorLiving)
	if err != nil {
		return 0, err
	}
	txs, err := store.Rows(rows, func(sc store.Scanner, t *Transplant) error {
		return sc.Scan(&t.ID, &t.OrganID, &t.RecipientID, &t.CentreID)
	})
	if err != nil {
		return 0, err
	}
	var before, after int
	count := func(n *int) error {
		return s.DB.Read().QueryRow(ctx, "SELECT COUNT(*) FROM trafficking_screenings").Scan(n)
	}
	if err := count(&before); err != nil {
		return 0, err
	}
	for i := range txs {
		if err := s.screenTransplant(ctx, p, &txs[i]); err != nil {
			return 0, err
		}
	}
	if err := count(&after); err != nil {
		return 0, err
	}
	return after - before, nil
}

// TraffickingScreenings lists a page of the alerts the screening raised,
// newest first, for the designated authority, the regulator and auditors.
func (s *Service) TraffickingScreenings(ctx context.Context, p *auth.Principal, r page.Request) (page.Of[TraffickingScreening], error) {
	if p == nil || !p.Can(WorkTraffickingReports) && !p.Can(auth.ReadAlerts) {
		return page.Of[TraffickingScreening]{}, p.Require(WorkTraffickingReports)
	}
	if r.Limit <= 0 {
		r.Limit = page.Lists.Default
	}
	where, after := r.Where("log_index", "alert_id")
	rows, err := s.DB.Read().Query(ctx, `SELECT alert_id, rule, category, transplant_id, donor_id, recipient_id, centre_id, message, raised_at, log_index, log_index
		FROM trafficking_screenings WHERE `+where+` ORDER BY log_index DESC, alert_id LIMIT ?`, append(after, r.Limit+1)...)
	if err != nil {
		return page.Of[TraffickingScreening]{}, err
	}
	return page.Read(rows, r, func(sc store.Scanner, h *TraffickingScreening) error {
		return sc.Scan(&h.AlertID, &h.Rule, &h.Category, &h.TransplantID, &h.DonorID, &h.RecipientID, &h.CentreID, &h.Message, &h.RaisedAt, &h.LogIndex)
	}, func(h *TraffickingScreening) string { return h.AlertID })
}

// projectTrafficking adds the projectors and tables of the reports and the
// screening.
func projectTrafficking(reg *ledger.Projections) {
	ledger.On(reg, TypeTraffickingReportFiled, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *traffickingFiled) error {
		_, err := q.Exec(ctx, `INSERT INTO trafficking_reports (id, reporter_pseudonym, indicators, content_ref, identity_ref, status, filed_at, status_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, d.ID, e.By, strings.Join(d.Indicators, " "), d.ContentRef, d.IdentityRef, TraffickingReceived, e.At, e.At, idx)
		return err
	})
	ledger.On(reg, TypeTraffickingStatusChanged, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, d *traffickingStatusChanged) error {
		if _, err := q.Exec(ctx, "INSERT INTO trafficking_report_events (id, report_id, status, at, principal_id, log_index) VALUES (?, ?, ?, ?, ?, ?)",
			d.ID, d.ReportID, d.Status, e.At, e.By, idx); err != nil {
			return err
		}
		_, err := q.Exec(ctx, "UPDATE trafficking_reports SET status = ?, status_at = ? WHERE id = ?", d.Status, e.At, d.ReportID)
		return err
	})
	ledger.On(reg, TypeTraffickingScreeningAlert, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, h *TraffickingScreening) error {
		if _, err := q.Exec(ctx, `INSERT INTO trafficking_screenings (alert_id, rule, category, transplant_id, donor_id, recipient_id, centre_id, message, raised_at, log_index)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.AlertID, h.Rule, h.Category, h.TransplantID, h.DonorID, h.RecipientID, h.CentreID, h.Message, e.At, idx); err != nil {
			return err
		}
		field := "recipient_id"
		if h.Rule == RuleRepeatLivingDonor {
			field = "donor_id"
		}
		return ledger.ProjectAlert(ctx, q, idx, e.At, h.CentreID, e.By, ledger.Alert{ID: h.AlertID, Rule: h.Rule, Field: field,
			Message: h.Message, Command: "screen for trafficking indicators"})
	})
	ledger.On(reg, TypeAbroadScreeningAlert, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, h *AbroadScreening) error {
		return ledger.ProjectAlert(ctx, q, idx, e.At, h.CentreID, e.By, ledger.Alert{ID: h.AlertID, Rule: h.Rule, Field: h.Field,
			Message: h.Message, Command: "screen for trafficking indicators"})
	})
	reg.Tables(
		ledger.Table{Name: "trafficking_reports", Order: "id"},
		ledger.Table{Name: "trafficking_report_events", Order: "id"},
		ledger.Table{Name: "trafficking_screenings", Order: "alert_id"},
	)
}
