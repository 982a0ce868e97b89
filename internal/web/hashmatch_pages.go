package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch"
)

// ---- Hash matching (resolution III): banks, review, reports ----
//
// Only hashes, never material. A bank's hashes are shown to an analyst of the
// bank's owner only; everyone else sees its metadata. A match is evidence for
// a person to review, never an automatic accusation: the queue and the case
// pages say so.

func init() {
	lists["hm_format"] = hashmatch.Formats
	lists["hm_bank_kind"] = []string{hashmatch.KindKnown, hashmatch.KindSuppression}
	lists["incident_type"] = hashmatch.IncidentTypes
	lists["removal_action"] = hashmatch.RemovalActions
	for k, v := range map[string]string{
		hashmatch.FormatHex:           "Hex lines: PDQ [classification [entry id]]",
		hashmatch.FormatNCMEC:         "NCMEC hash-sharing style XML",
		hashmatch.FormatProjectVIC:    "Project VIC / VICS style JSON",
		hashmatch.FormatJSON:          "custos JSON: image and video entries",
		hashmatch.KindKnown:           "Known material",
		hashmatch.KindSuppression:     "Suppression (known false positives)",
		"child_sexual_abuse_material": "Child sexual abuse material",
		"disabled_and_preserved":      "Disabled and preserved",
	} {
		labels[k] = v
	}
}

func (u *UI) registerHashmatch(get, post, upload func(string, handler)) {
	get("/hashmatch/banks", u.hmBanks)
	post("/hashmatch/banks", u.hmCreateBank)
	get("/hashmatch/banks/{id}", u.hmBank)
	post("/hashmatch/banks/{id}/versions", u.hmPaste)
	upload("/hashmatch/banks/{id}/import", u.hmUpload)
	post("/hashmatch/banks/{id}/entries/{entry}/release", u.hmRelease)
	get("/hashmatch/subscriptions", u.hmSubscriptions)
	get("/hashmatch/cases", u.hmCases)
	get("/hashmatch/cases/{id}", u.hmCase)
	post("/hashmatch/cases/{id}/review", u.hmReview)
	post("/hashmatch/cases/{id}/report", u.hmReport)
	post("/hashmatch/cases/{id}/removal", u.hmRemoval)
	get("/hashmatch/reports", u.hmReports)
	get("/hashmatch/reports/{id}", u.hmReportPage)
	post("/hashmatch/reports/{id}/acknowledge", u.hmAcknowledge)
}

// bankNames maps the ids of the banks the principal may see to their names.
func (u *UI) bankNames(ctx context.Context, p *auth.Principal) (map[string]string, error) {
	bs, err := u.Hashmatch.Banks(ctx, p)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(bs))
	for _, b := range bs {
		m[b.ID] = b.Name
	}
	return m, nil
}

// count reads a non-negative count of a flash message's query.
func count(q url.Values, name string) (int, bool) {
	n, err := strconv.Atoi(q.Get(name))
	return n, err == nil && n >= 0
}

// ---- Banks ----

type hmBanksData struct {
	Banks       []hashmatch.Bank
	Authorities map[string]string
	Own         bool // the list is the analyst's own authority's banks
	CanCreate   bool
}

func (u *UI) hmBanks(w http.ResponseWriter, r *http.Request, s *session) { u.showHMBanks(w, r, s, nil) }

func (u *UI) showHMBanks(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	bs, err := u.Hashmatch.Banks(ctx, s.P)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data := hmBanksData{Banks: bs, Authorities: names, CanCreate: s.P.Can(auth.PublishBanks)}
	if data.CanCreate {
		data.Own = true
		data.Banks = slices.DeleteFunc(bs, func(b hashmatch.Bank) bool { return b.OwnerID != s.P.AuthorityID })
	}
	pg := u.newPage(r, s, "Hash banks")
	pg.Data = data
	pg.setForm("bank", url.Values{"kind": {hashmatch.KindKnown}, "threshold": {strconv.Itoa(hashmatch.DefaultThreshold)}})
	u.show(w, r, "hm_banks", pg, ref)
}

func (u *UI) hmCreateBank(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	th, err := optInt(v, "threshold")
	var b *hashmatch.Bank
	if err == nil {
		b, err = u.Hashmatch.CreateBank(r.Context(), s.P, hashmatch.NewBank{Name: v.Get("name"), Kind: v.Get("kind"), Threshold: th})
	}
	if err != nil {
		u.showHMBanks(w, r, s, &refusal{form: "bank", values: v, err: err})
		return
	}
	redirect(w, r, "/hashmatch/banks/"+b.ID, url.Values{"done": {"bank"}})
}

// ---- One bank: versions, entries (owner only), publish, release ----

// entryLimit is how many entries the owner's bank page lists.
const entryLimit = 500

type hmBankData struct {
	Bank        *hashmatch.Bank
	Versions    []hashmatch.Version // newest first
	Owner       string
	IsOwner     bool                  // the principal is an analyst of the bank's owner
	Entries     []hashmatch.BankEntry // owner only; quarantined first
	EntryLimit  int
	MaxUploadMB int
}

func (u *UI) hmBank(w http.ResponseWriter, r *http.Request, s *session) { u.showHMBank(w, r, s, nil) }

func (u *UI) showHMBank(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	b, err := u.Hashmatch.Bank(ctx, s.P, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	vs, err := u.Hashmatch.Versions(ctx, s.P, b.ID)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	slices.Reverse(vs)
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data := hmBankData{Bank: b, Versions: vs, Owner: names[b.OwnerID], EntryLimit: entryLimit, MaxUploadMB: maxUpload >> 20,
		IsOwner: s.P.Can(auth.PublishBanks) && s.P.AuthorityID == b.OwnerID}
	if data.IsOwner {
		if data.Entries, err = u.Hashmatch.BankEntries(ctx, s.P, b.ID, entryLimit); err != nil {
			u.fail(w, r, s, err)
			return
		}
	}
	pg := u.newPage(r, s, "Bank "+b.Name)
	pg.Data = data
	q := r.URL.Query()
	switch q.Get("done") {
	case "bank":
		pg.Flash = "Bank created. Publish its first version below."
	case "version":
		v, ok1 := count(q, "version")
		a, ok2 := count(q, "adds")
		d, ok3 := count(q, "deletes")
		sk, ok4 := count(q, "skipped")
		if ok1 && ok2 && ok3 && ok4 {
			pg.Flash = "Version " + strconv.Itoa(v) + " published and signed: " + strconv.Itoa(a) + " added, " + strconv.Itoa(d) + " deleted"
			if sk > 0 {
				pg.Flash += ", " + strconv.Itoa(sk) + " skipped (no PDQ hash)"
			}
			pg.Flash += "."
		}
	case "release":
		pg.Flash = "Entry released from quarantine: it matches again."
	}
	pg.setForm("publish", url.Values{"format": {hashmatch.FormatHex}})
	pg.setForm("import", url.Values{"format": {hashmatch.FormatNCMEC}})
	u.show(w, r, "hm_bank", pg, ref)
}

// importRefusal is the refusal of an import form: the format, or the list.
func importRefusal(form string, v url.Values, err error, listField string) *refusal {
	ref := &refusal{form: form, values: v, err: err}
	if e, ok := errs.As(err); ok {
		switch {
		case e.Field == "format":
		case e.Field == "content", strings.HasPrefix(e.Field, "adds"), strings.HasPrefix(e.Field, "deletes"):
			ref.highlight = listField
		}
	}
	return ref
}

// imported redirects to the bank's page after an import.
func imported(w http.ResponseWriter, r *http.Request, bank string, v *hashmatch.Version, st *hashmatch.ImportStats) {
	redirect(w, r, "/hashmatch/banks/"+bank, url.Values{"done": {"version"}, "version": {strconv.Itoa(v.Version)},
		"adds": {strconv.Itoa(st.Adds)}, "deletes": {strconv.Itoa(st.Deletes)}, "skipped": {strconv.Itoa(st.Skipped)}})
}

// hmPaste publishes the next version from a pasted list.
func (u *UI) hmPaste(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	ver, st, err := u.Hashmatch.Import(r.Context(), s.P, id, v.Get("format"), []byte(v.Get("content")))
	if err != nil {
		u.showHMBank(w, r, s, importRefusal("publish", v, err, "content"))
		return
	}
	imported(w, r, id, ver, st)
}

// hmUpload publishes the next version from an uploaded list.
func (u *UI) hmUpload(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	data, err := uploaded(r, "file")
	var ver *hashmatch.Version
	var st *hashmatch.ImportStats
	if err == nil {
		ver, st, err = u.Hashmatch.Import(r.Context(), s.P, id, v.Get("format"), data)
	}
	if err != nil {
		u.showHMBank(w, r, s, importRefusal("import", v, err, "file"))
		return
	}
	imported(w, r, id, ver, st)
}

// uploaded reads the file of a multipart form's input.
func uploaded(r *http.Request, name string) ([]byte, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[name]) == 0 {
		return nil, errs.Invalidf("required", name, "choose the file of the list to upload")
	}
	f, err := r.MultipartForm.File[name][0].Open()
	if err != nil {
		return nil, errs.New(errs.Malformed, "form", name, "the uploaded file could not be read")
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, hashmatch.MaxImport+1))
	if err != nil {
		return nil, errs.New(errs.Malformed, "form", name, "the uploaded file could not be read")
	}
	return data, nil
}

func (u *UI) hmRelease(w http.ResponseWriter, r *http.Request, s *session) {
	id, entry := r.PathValue("id"), r.PathValue("entry")
	if err := u.Hashmatch.ReleaseEntry(r.Context(), s.P, id, entry); err != nil {
		u.showHMBank(w, r, s, &refusal{form: "release-" + entry, values: r.PostForm, err: err})
		return
	}
	redirect(w, r, "/hashmatch/banks/"+id, url.Values{"done": {"release"}})
}

// ---- Subscriptions of a service provider ----

type hmSubscriptionsData struct {
	Subscriptions []hashmatch.SubscriptionView
	Authorities   map[string]string
}

func (u *UI) hmSubscriptions(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	subs, err := u.Hashmatch.ProviderSubscriptions(ctx, s.P)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Subscriptions")
	pg.Data = hmSubscriptionsData{Subscriptions: subs, Authorities: names}
	u.show(w, r, "hm_subscriptions", pg, nil)
}

// ---- Review queue ----

var caseStatuses = []option{{"open", "Pending review"}, {"confirmed", "Confirmed"}, {"rejected", "Rejected"}, {"all", "All"}}

type hmCasesData struct {
	Cases     []hashmatch.QueueCase
	Status    string
	Statuses  []option
	CanReview bool
}

func (u *UI) hmCases(w http.ResponseWriter, r *http.Request, s *session) {
	status := r.URL.Query().Get("status")
	if !slices.ContainsFunc(caseStatuses, func(o option) bool { return o.Value == status }) {
		status = "open"
	}
	filter := status
	if filter == "all" {
		filter = ""
	}
	cs, err := u.Hashmatch.CaseQueue(r.Context(), s.P, filter, 500)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Review queue")
	pg.Data = hmCasesData{Cases: cs, Status: status, Statuses: caseStatuses, CanReview: s.P.Can(auth.ReviewCases)}
	u.show(w, r, "hm_cases", pg, nil)
}

// ---- One case: review, report, removal ----

type hmCaseData struct {
	Case           *hashmatch.Case
	Classification string // of the best match
	Banks          map[string]string
	Authorities    map[string]string
	Report         *hashmatch.Report
	Removal        *hashmatch.Removal
	CanReview      bool
	Recipients     []option // competent authorities a report may be addressed to
}

var caseFlash = map[string]string{
	"confirm": "Match confirmed by review. Report it to the competent authority and record the removal below.",
	"reject":  "Match rejected: it leads to no report.",
	"report":  "Report sent to the competent authority.",
	"removal": "Removal recorded.",
}

func (u *UI) hmCase(w http.ResponseWriter, r *http.Request, s *session) { u.showHMCase(w, r, s, nil) }

func (u *UI) showHMCase(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	c, err := u.Hashmatch.Case(ctx, s.P, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	banks, err := u.bankNames(ctx, s.P)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data := hmCaseData{Case: c, Banks: banks, Authorities: names, CanReview: s.P.Can(auth.ReviewCases)}
	for _, m := range c.Matches {
		if m.BankID == c.BestBankID && m.EntryID == c.BestEntryID {
			data.Classification = m.Classification
		}
	}
	if data.Report, err = u.Hashmatch.CaseReport(ctx, s.P, c.ID); err != nil {
		u.fail(w, r, s, err)
		return
	}
	switch rm, err := u.Hashmatch.Removal(ctx, s.P, c.ID); {
	case err == nil:
		data.Removal = rm
	case errs.CodeOf(err) != errs.NotFound:
		u.fail(w, r, s, err)
		return
	}
	owner := ""
	if data.CanReview && c.Status == "confirmed" {
		as, err := auth.ListAuthorities(ctx, u.DB.Read(), auth.KindCompetentAuthority)
		if err != nil {
			u.fail(w, r, s, err)
			return
		}
		for _, a := range as {
			data.Recipients = append(data.Recipients, option{Value: a.ID, Label: a.Name})
		}
		if b, err := u.Hashmatch.Bank(ctx, s.P, c.BestBankID); err == nil {
			owner = b.OwnerID
		}
	}
	pg := u.newPage(r, s, "Case "+c.ID)
	pg.Data = data
	pg.Flash = caseFlash[r.URL.Query().Get("done")]
	pg.setForm("report", url.Values{"incident_type": {hashmatch.IncidentTypes[0]}, "authority_id": {owner}})
	pg.setForm("removal", url.Values{"removed_at": {nowLocal()}, "content_ref": {c.ContentRef}})
	u.show(w, r, "hm_case", pg, ref)
}

func (u *UI) hmReview(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	form := "confirm"
	if v.Get("decision") == "reject" {
		form = "reject"
	}
	in := hashmatch.Review{Decision: v.Get("decision"), Note: v.Get("note"), Suppress: checked(v, "suppress")}
	if _, err := u.Hashmatch.ReviewCase(r.Context(), s.P, id, in); err != nil {
		u.showHMCase(w, r, s, &refusal{form: form, values: v, err: err})
		return
	}
	redirect(w, r, "/hashmatch/cases/"+id, url.Values{"done": {form}})
}

func (u *UI) hmReport(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	at, err := localTime("incident_at", v.Get("incident_at"))
	if err == nil {
		_, err = u.Hashmatch.SendReport(r.Context(), s.P, id, hashmatch.NewReport{IncidentType: v.Get("incident_type"), IncidentAt: at,
			AuthorityID: strings.TrimSpace(v.Get("authority_id")), Notes: v.Get("notes")})
	}
	if err != nil {
		u.showHMCase(w, r, s, &refusal{form: "report", values: v, err: err})
		return
	}
	redirect(w, r, "/hashmatch/cases/"+id, url.Values{"done": {"report"}})
}

func (u *UI) hmRemoval(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	at, err := localTime("removed_at", v.Get("removed_at"))
	if err == nil {
		_, err = u.Hashmatch.RecordRemoval(r.Context(), s.P, id, hashmatch.NewRemoval{Action: v.Get("action"), RemovedAt: at,
			ContentRef: v.Get("content_ref")})
	}
	if err != nil {
		u.showHMCase(w, r, s, &refusal{form: "removal", values: v, err: err})
		return
	}
	redirect(w, r, "/hashmatch/cases/"+id, url.Values{"done": {"removal"}})
}

// ---- Reports ----

type hmReportsData struct {
	Reports     []hashmatch.Report
	Authorities map[string]string
	Received    bool // the principal's authority receives them (an analyst); else its provider sent them
}

func (u *UI) hmReports(w http.ResponseWriter, r *http.Request, s *session) {
	ctx := r.Context()
	rs, err := u.Hashmatch.Reports(ctx, s.P, 500)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	received := s.P.Can(auth.ReceiveReports)
	title := "Reports sent"
	if received {
		title = "Reports received"
	}
	pg := u.newPage(r, s, title)
	pg.Data = hmReportsData{Reports: rs, Authorities: names, Received: received}
	u.show(w, r, "hm_reports", pg, nil)
}

type hmReportData struct {
	Report      *hashmatch.Report
	Authorities map[string]string
	CanAck      bool
}

func (u *UI) hmReportPage(w http.ResponseWriter, r *http.Request, s *session) {
	u.showHMReport(w, r, s, nil)
}

func (u *UI) showHMReport(w http.ResponseWriter, r *http.Request, s *session, ref *refusal) {
	ctx := r.Context()
	rp, err := u.Hashmatch.Report(ctx, s.P, r.PathValue("id"))
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	names, err := u.centreNames(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	pg := u.newPage(r, s, "Report "+rp.ID)
	pg.Data = hmReportData{Report: rp, Authorities: names,
		CanAck: s.P.Can(auth.ReceiveReports) && rp.AuthorityID == s.P.AuthorityID && rp.AcknowledgedAt == ""}
	if r.URL.Query().Get("done") == "ack" {
		pg.Flash = "Report acknowledged."
	}
	u.show(w, r, "hm_report", pg, ref)
}

func (u *UI) hmAcknowledge(w http.ResponseWriter, r *http.Request, s *session) {
	v := r.PostForm
	id := r.PathValue("id")
	if _, err := u.Hashmatch.AcknowledgeReport(r.Context(), s.P, id, v.Get("reference")); err != nil {
		e, ok := errs.As(err)
		if ok && e.Code == errs.NotFound {
			// Another authority's report does not exist for this analyst.
			u.fail(w, r, s, err)
			return
		}
		u.showHMReport(w, r, s, &refusal{form: "acknowledge", values: v, err: err})
		return
	}
	redirect(w, r, "/hashmatch/reports/"+id, url.Values{"done": {"ack"}})
}
