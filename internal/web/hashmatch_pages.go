package web

import (
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/page"
)

// ---- Hash matching (resolution III): banks, review, reports ----
//
// Only hashes, never material. A bank's hashes are shown to an analyst of the
// bank's owner only; everyone else sees its metadata. A match is evidence for
// a person to review, never an automatic accusation: the queue and the case
// pages say so.

// bankNames maps the ids of the banks the principal may see to their names.
func (h *hashmatchPages) bankNames(ctx context.Context, p *auth.Principal) (map[string]string, error) {
	bs, err := h.svc.Banks(ctx, p)
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
	// CanSubscribe: a service principal, offered to subscribe its provider
	// to the banks it does not subscribe to yet (Subscribed).
	CanSubscribe bool
	Subscribed   map[string]bool
}

func (h *hashmatchPages) banks(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showBanks(w, r, s, nil)
}

func (h *hashmatchPages) showBanks(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	bs, err := h.svc.Banks(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, h.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	data := hmBanksData{Banks: bs, Authorities: names, CanCreate: s.P.Can(hashmatch.PublishBanks)}
	if data.CanSubscribe, data.Subscribed, err = h.subscribed(ctx, s.P); err != nil {
		s.Fail(w, r, err)
		return
	}
	if data.CanCreate {
		data.Own = true
		data.Banks = slices.DeleteFunc(bs, func(b hashmatch.Bank) bool { return b.OwnerID != s.P.AuthorityID })
	}
	pg := s.View(r, "Hash banks")
	pg.Data = data
	pg.SetForm("bank", url.Values{"kind": {hashmatch.KindKnown}, "threshold": {strconv.Itoa(hashmatch.DefaultThreshold)}})
	s.Show(w, r, "banks", pg, ref)
}

func (h *hashmatchPages) createBank(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	th, err := optInt(v, "threshold")
	var b *hashmatch.Bank
	if err == nil {
		b, err = h.svc.CreateBank(r.Context(), s.P, hashmatch.NewBank{Name: v.Get("name"), Kind: v.Get("kind"), Threshold: th})
	}
	if err != nil {
		h.showBanks(w, r, s, &Refusal{Form: "bank", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/banks/"+b.ID, url.Values{"done": {"bank"}})
}

// ---- One bank: versions, entries (owner only), publish, release ----

type hmBankData struct {
	Bank         *hashmatch.Bank
	Versions     []hashmatch.Version // newest first
	MoreVersions bool                // older versions than those shown exist
	Owner        string
	People       people                // who published the versions (who)
	IsOwner      bool                  // the principal is an analyst of the bank's owner
	Entries      []hashmatch.BankEntry // owner only; newest first, one page, filtered
	NextEntries  string                // the link to the next page of entries; empty on the last
	Downloads    []Link                // the filtered entries as files (owner only)
	Statuses     []Option              // the entries' statuses, for the filter form
	MaxUploadMB  int
	// CanSubscribe: a service principal, offered to subscribe its provider
	// to the bank unless it does (Subscribed).
	CanSubscribe, Subscribed bool
}

// hmListFilter reads the filters and page of a hash-matching list page from
// its query q, less its notice (what a form just did). A refused filter
// comes back as the filter form's refusal.
func hmListFilter(q url.Values, filters []string) (hashmatch.ListFilter, *Refusal) {
	q.Del(noticeParam)
	f, err := hashmatch.FilterOf(q, page.Lists, filters)
	if err != nil {
		return f, &Refusal{Form: "filter", Values: q, Err: err}
	}
	return f, nil
}

func (h *hashmatchPages) bank(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showBank(w, r, s, nil)
}

func (h *hashmatchPages) showBank(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	b, err := h.svc.Bank(ctx, s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	vs, err := h.svc.Versions(ctx, s.P, b.ID, hashmatch.ListFilter{})
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, h.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	data := hmBankData{Bank: b, Versions: vs.Items, MoreVersions: vs.Next != "", Owner: names[b.OwnerID], MaxUploadMB: hmMaxUpload >> 20,
		IsOwner: s.P.Can(hashmatch.PublishBanks) && s.P.AuthorityID == b.OwnerID, Statuses: hmOptions(s, entryStatusLabels, hashmatch.EntryStatuses)}
	var publishers []string
	for _, v := range vs.Items {
		publishers = append(publishers, v.PublishedBy)
	}
	if data.People, err = principalNames(ctx, h.svc.DB.Read(), s.P, publishers...); err != nil {
		s.Fail(w, r, err)
		return
	}
	var subs map[string]bool
	if data.CanSubscribe, subs, err = h.subscribed(ctx, s.P); err != nil {
		s.Fail(w, r, err)
		return
	}
	data.Subscribed = subs[b.ID]
	pg := s.View(r, s.T("Bank %s", b.Name))
	if data.IsOwner {
		q := r.URL.Query()
		f, fref := hmListFilter(q, hashmatch.EntryFilters)
		es, err := listed(r, s, pg, &ref, f, fref, hashmatch.ListFilter{}, func(ctx context.Context, p *auth.Principal, f hashmatch.ListFilter) (page.Of[hashmatch.BankEntry], error) {
			return h.svc.BankEntries(ctx, p, b.ID, f)
		})
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		data.Entries, data.NextEntries = es.Items, nextPage(r, es.Next)
		data.Downloads = Downloads(r, "/hashmatch/banks/"+url.PathEscape(b.ID)+"/entries/export")
		pg.SetForm("filter", q)
	}
	pg.Data = data
	// The counts of an import are the notice's: what the import did, which
	// the bank's versions do not keep.
	q := s.Notice(r)
	switch q.Get("done") {
	case "bank":
		pg.Flash = s.T("Bank created. Publish its first version below.")
	case "version":
		v, ok1 := count(q, "version")
		a, ok2 := count(q, "adds")
		u, ok3 := count(q, "updates")
		d, ok4 := count(q, "deletes")
		sk, ok5 := count(q, "skipped")
		switch {
		case !ok1 || !ok2 || !ok3 || !ok4 || !ok5:
		case sk > 0:
			pg.Flash = s.T("Version %d published and signed: %d added, %d updated, %d deleted, %d records not imported (the bank cannot hold them, or holds them already; the API and the command line name each one).", v, a, u, d, sk)
		default:
			pg.Flash = s.T("Version %d published and signed: %d added, %d updated, %d deleted.", v, a, u, d)
		}
	case "unchanged":
		v, ok1 := count(q, "version")
		sk, ok2 := count(q, "skipped")
		if ok1 && ok2 {
			pg.Flash = s.T("Nothing published: the bank holds the list already (version %d stays the current one; %d records not imported).", v, sk)
		}
	case "release":
		pg.Flash = s.T("Entry released from quarantine: it matches again.")
	case "thresholds":
		pg.Flash = s.T("Video match percentages saved: they apply to the next video matched.")
	}
	pg.SetForm("thresholds", url.Values{"query_match_threshold_pct": {strconv.FormatFloat(b.QueryMatchThresholdPct, 'f', -1, 64)},
		"index_match_threshold_pct": {strconv.FormatFloat(b.IndexMatchThresholdPct, 'f', -1, 64)}})
	pg.SetForm("publish", url.Values{"format": {hashmatch.FormatHex}})
	pg.SetForm("import", url.Values{"format": {hashmatch.FormatNCMEC}})
	s.Show(w, r, "bank", pg, ref)
}

// importRefusal is the refusal of an import form: the format, or the list.
func importRefusal(form string, v url.Values, err error, listField string) *Refusal {
	ref := &Refusal{Form: form, Values: v, Err: err}
	if e, ok := errs.As(err); ok {
		switch {
		case e.Field == "format":
		case e.Field == "content", strings.HasPrefix(e.Field, "adds"), strings.HasPrefix(e.Field, "deletes"):
			ref.Highlight = listField
		}
	}
	return ref
}

// imported redirects to the bank's page after an import, with a notice of
// what it did: "unchanged" when the bank held the list already and nothing
// was published.
func imported(w http.ResponseWriter, r *http.Request, s *Session, bank string, v *hashmatch.Version, st *hashmatch.ImportStats) {
	done := "version"
	if v.Unchanged {
		done = "unchanged"
	}
	s.RedirectDone(w, r, "/hashmatch/banks/"+bank, url.Values{"done": {done}, "version": {strconv.Itoa(v.Version)},
		"adds": {strconv.Itoa(st.Adds)}, "updates": {strconv.Itoa(st.Updates)}, "deletes": {strconv.Itoa(st.Deletes)}, "skipped": {strconv.Itoa(st.Skipped)}})
}

// paste publishes the next version from a pasted list.
func (h *hashmatchPages) paste(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	ver, st, err := h.svc.Import(r.Context(), s.P, id, v.Get("format"), []byte(v.Get("content")))
	if err != nil {
		h.showBank(w, r, s, importRefusal("publish", v, err, "content"))
		return
	}
	imported(w, r, s, id, ver, st)
}

// upload publishes the next version from an uploaded list.
func (h *hashmatchPages) upload(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	data, err := uploaded(r, "file")
	var ver *hashmatch.Version
	var st *hashmatch.ImportStats
	if err == nil {
		ver, st, err = h.svc.Import(r.Context(), s.P, id, v.Get("format"), data)
	}
	if err != nil {
		h.showBank(w, r, s, importRefusal("import", v, err, "file"))
		return
	}
	imported(w, r, s, id, ver, st)
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

func (h *hashmatchPages) release(w http.ResponseWriter, r *http.Request, s *Session) {
	id, entry := r.PathValue("id"), r.PathValue("entry")
	if err := h.svc.ReleaseEntry(r.Context(), s.P, id, entry); err != nil {
		h.showBank(w, r, s, &Refusal{Form: "release-" + entry, Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/banks/"+id, url.Values{"done": {"release"}})
}

// videoThresholds sets the bank's vPDQ match percentages.
func (h *hashmatchPages) videoThresholds(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	var in hashmatch.VideoThresholds
	var err error
	if in.QueryMatchThresholdPct, err = optFloat(v, "query_match_threshold_pct"); err == nil {
		if in.IndexMatchThresholdPct, err = optFloat(v, "index_match_threshold_pct"); err == nil {
			_, err = h.svc.SetVideoThresholds(r.Context(), s.P, id, in)
		}
	}
	if err != nil {
		h.showBank(w, r, s, &Refusal{Form: "thresholds", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/banks/"+id, url.Values{"done": {"thresholds"}})
}

// ---- Subscriptions of a service provider ----

// subscribed tells whether p may subscribe its provider to banks and, if
// so, the banks it subscribes to.
func (h *hashmatchPages) subscribed(ctx context.Context, p *auth.Principal) (bool, map[string]bool, error) {
	if !p.Can(hashmatch.SubscribeBanks) {
		return false, nil, nil
	}
	subs, err := h.svc.ProviderSubscriptions(ctx, p)
	if err != nil {
		return false, nil, err
	}
	m := make(map[string]bool, len(subs))
	for _, sub := range subs {
		m[sub.BankID] = true
	}
	return true, m, nil
}

// subscribe subscribes the service's provider to a bank, from the bank's
// page or (from=list) the list of banks, where a refusal is shown.
func (h *hashmatchPages) subscribe(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	if _, err := h.svc.Subscribe(r.Context(), s.P, id); err != nil {
		if v.Get("from") == "list" {
			h.showBanks(w, r, s, &Refusal{Form: "subscribe-" + id, Values: v, Err: err})
		} else {
			h.showBank(w, r, s, &Refusal{Form: "subscribe", Values: v, Err: err})
		}
		return
	}
	s.RedirectDone(w, r, "/hashmatch/subscriptions", url.Values{"done": {"subscribe"}, "bank": {id}})
}

type hmSubscriptionsData struct {
	Subscriptions []hashmatch.SubscriptionView
	Authorities   map[string]string
	CanSubscribe  bool   // a service principal: subscribes from the banks' pages, pulls through the API
	Base          string // this server's URL, for the pull command
}

func (h *hashmatchPages) subscriptions(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	subs, err := h.svc.ProviderSubscriptions(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, h.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Subscriptions")
	// The command a service copies: https whenever the browser came over
	// TLS, to custos or to the proxy in front of it, so that the token it
	// is run with never travels in clear text.
	scheme := "http"
	if s.ui.secure(r) {
		scheme = "https"
	}
	pg.Data = hmSubscriptionsData{Subscriptions: subs, Authorities: names, CanSubscribe: s.P.Can(hashmatch.SubscribeBanks),
		Base: scheme + "://" + r.Host}
	if n := s.Notice(r); n.Get("done") == "subscribe" {
		// the bank the notice names, among the service's subscriptions now
		for _, sub := range subs {
			if sub.BankID == n.Get("bank") {
				pg.Flash = s.T("Your service now subscribes to %s. Pull its first snapshot (since 0) through the API or the command line below.", sub.BankID)
			}
		}
	}
	s.Show(w, r, "subscriptions", pg, nil)
}

// ---- Batch image upload (service) ----

type hmMatchData struct {
	MaxFiles   int
	MaxMB      int // the whole form
	MaxImageMB int // one image
	Results    []hmFileResult
	Counts     map[string]int // results by status
}

// hmFileResult is one uploaded file's result.
type hmFileResult struct {
	Name string
	hashmatch.Result
}

func (h *hashmatchPages) matchData() hmMatchData {
	cfg := h.svc.Config()
	return hmMatchData{MaxFiles: hashmatch.MaxImageBatch, MaxMB: int(cfg.MaxBatchUpload >> 20), MaxImageMB: int(cfg.MaxUpload >> 20)}
}

func (h *hashmatchPages) matchForm(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(hashmatch.MatchHashes); err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, "Match images")
	pg.Data = h.matchData()
	s.Show(w, r, "match", pg, nil)
}

// matchImages hashes and matches the uploaded images as the API's batch
// upload does, each file's name its content reference, and shows one result
// per file.
func (h *hashmatchPages) matchImages(w http.ResponseWriter, r *http.Request, s *Session) {
	var files []*multipart.FileHeader
	if r.MultipartForm != nil {
		files = r.MultipartForm.File["files"]
	}
	var open multipart.File
	i := 0
	next := func() (io.Reader, hashmatch.Query, error) {
		if open != nil {
			open.Close()
			open = nil
		}
		if i == len(files) {
			return nil, hashmatch.Query{}, io.EOF
		}
		fh := files[i]
		i++
		f, err := fh.Open()
		if err != nil {
			return nil, hashmatch.Query{}, errs.New(errs.Malformed, "form", "files", "the uploaded file %s could not be read", strings.ToValidUTF8(fh.Filename, "\uFFFD"))
		}
		open = f
		return f, hashmatch.Query{ContentRef: fh.Filename}, nil
	}
	res, err := h.svc.MatchImages(r.Context(), s.P, next)
	if open != nil {
		open.Close()
	}
	pg := s.View(r, "Match images")
	data := h.matchData()
	if err != nil {
		pg.Data = data
		s.Show(w, r, "match", pg, &Refusal{Form: "match", Values: r.PostForm, Err: err, Highlight: "files"})
		return
	}
	data.Counts = map[string]int{}
	for k, x := range res {
		if x.Error != nil {
			// a file's refusal, shown in its row, in the page's language
			x.Error = s.L().Localize(x.Error)
		}
		// A name that is not UTF-8 is refused in its row (rule utf8);
		// the page shows it with U+FFFD for its bad bytes, never the
		// bytes as sent.
		data.Results = append(data.Results, hmFileResult{Name: strings.ToValidUTF8(files[k].Filename, "\uFFFD"), Result: x})
		data.Counts[x.Status]++
	}
	pg.Data = data
	pg.Flash = s.L().N("%d files hashed and matched: %d matched.", len(res), data.Counts[hashmatch.StatusMatch])
	s.Show(w, r, "match", pg, nil)
}

// ---- Review queue ----

// caseStatuses are the statuses the queue shows, all of them last; its
// filter and links name them with caseStatusLabels.
var caseStatuses = []string{"open", "confirmed", "rejected", "all"}

var caseStatusLabels = map[string]string{"open": i18n.M("Pending review"), "confirmed": i18n.M("Confirmed"),
	"rejected": i18n.M("Rejected"), "all": i18n.M("All")}

// The words of the filters of a bank's entries and of the reports.
var (
	entryStatusLabels  = map[string]string{"active": i18n.M("Active"), "quarantined": i18n.M("Quarantined")}
	reportStatusLabels = map[string]string{"sent": i18n.M("Awaiting acknowledgment"), "acknowledged": i18n.M("Acknowledged")}
)

// hmOptions are the options of a filter's values, labelled from labels (a
// message each) in s's language.
func hmOptions(s *Session, labels map[string]string, values []string) []Option {
	out := optionsOf(labels, values)
	for i := range out {
		out[i].Label = s.T(out[i].Label)
	}
	return out
}

type hmCasesData struct {
	Cases     []hashmatch.QueueCase
	Status    string
	Statuses  []Option
	CanReview bool
	Next      string   // the link to the next page; empty on the last
	Downloads []Link   // the queue as shown, as files
	BankOpt   []Option // the banks, for the filter form
	Filtered  bool     // a filter other than the status narrows the list
}

// cases shows the review queue: the open cases unless the query names a
// status (all for any), filtered and paged as the API's list is.
func (h *hashmatchPages) cases(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	status, q := queueQuery(r.URL.Query())
	f, fref := hmListFilter(q, hashmatch.CaseFilters)
	pg := s.View(r, "Review queue")
	var ref *Refusal
	cs, err := listed(r, s, pg, &ref, f, fref, hashmatch.ListFilter{Status: "open"}, h.svc.Cases)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	// The bank filter offers the banks whose cases the queue can show:
	// those the service subscribes to, of kind known (a suppression bank
	// opens no case). A subscription is never ended, so every case's bank
	// is among them; the registry's other banks would filter to nothing.
	subs, err := h.svc.ProviderSubscriptions(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	data := hmCasesData{Cases: cs.Items, Status: status, Statuses: hmOptions(s, caseStatusLabels, caseStatuses), CanReview: s.P.Can(hashmatch.ReviewCases),
		Filtered: f.BankID != "" || f.From != "" || f.To != "" || f.ID != ""}
	for _, b := range subs { // by bank name
		if b.BankKind != hashmatch.KindSuppression {
			data.BankOpt = append(data.BankOpt, Option{Value: b.BankID, Label: b.BankName})
		}
	}
	// The next page keeps the status shown, all included: a status left
	// empty would read as open there.
	form := r.URL.Query()
	form.Set("status", status)
	data.Next = page.Next(r.URL.Path, form, cs.Next)
	shown := *r.URL
	shown.RawQuery = form.Encode()
	data.Downloads = Downloads(&http.Request{URL: &shown}, "/hashmatch/cases/export")
	pg.SetForm("filter", form)
	pg.Data = data
	s.Show(w, r, "cases", pg, ref)
}

// queueQuery reads the review queue's query q as the page shows it: the
// open cases unless q names a status, all of them for status all (or
// empty). It returns the status shown and the list's query.
func queueQuery(q url.Values) (string, url.Values) {
	status := q.Get("status")
	if _, given := q["status"]; !given {
		status = "open"
	} else if status == "" {
		status = "all"
	}
	if status == "all" {
		q.Del("status")
	} else {
		q.Set("status", status)
	}
	return status, q
}

// export answers a list page's download link: the whole list the page shows
// (the review queue with its status as shown, a bank's entries for its
// owner's analysts, the reports), with its filters, as a file.
func (h *hashmatchPages) export(list string) Handler {
	return func(w http.ResponseWriter, r *http.Request, s *Session) {
		q := r.URL.Query()
		if list == hashmatch.ListCases {
			_, q = queueQuery(q)
		}
		req, err := h.svc.Export(s.P, list, r.PathValue("id"), q)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		s.Export(w, r, req)
	}
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
	Recipients     []Option           // competent authorities a report may be addressed to
	Dispute        *hashmatch.Dispute // the case's dispute with the bank's owner, if any
	People         people             // the reviewer (who)
}

var caseFlash = map[string]string{
	"confirm": i18n.M("Match confirmed by review. Report it to the competent authority and record the removal below."),
	"reject":  i18n.M("Match rejected: it leads to no report."),
	"report":  i18n.M("Report sent to the competent authority."),
	"removal": i18n.M("Removal recorded."),
	"dispute": i18n.M("Dispute sent to the list's owner, without the content."),
	"reopen":  i18n.M("Case reopened: it is open for review again, and the hashes its rejection suppressed match again."),
}

func (h *hashmatchPages) casePage(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showCase(w, r, s, nil)
}

func (h *hashmatchPages) showCase(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	c, err := h.svc.Case(ctx, s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	banks, err := h.bankNames(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, h.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	data := hmCaseData{Case: c, Banks: banks, Authorities: names, CanReview: s.P.Can(hashmatch.ReviewCases)}
	for _, m := range c.Matches {
		if m.BankID == c.BestBankID && m.EntryID == c.BestEntryID {
			data.Classification = m.Classification
		}
	}
	if data.Report, err = h.svc.CaseReport(ctx, s.P, c.ID); err != nil {
		s.Fail(w, r, err)
		return
	}
	switch rm, err := h.svc.Removal(ctx, s.P, c.ID); {
	case err == nil:
		data.Removal = rm
	case errs.CodeOf(err) != errs.NotFound:
		s.Fail(w, r, err)
		return
	}
	if data.Dispute, err = h.caseDispute(ctx, s.P, c); err != nil {
		s.Fail(w, r, err)
		return
	}
	if data.People, err = principalNames(ctx, h.svc.DB.Read(), s.P, c.ReviewedBy); err != nil {
		s.Fail(w, r, err)
		return
	}
	owner := ""
	if data.CanReview && c.Status == "confirmed" {
		as, err := auth.ListAuthorities(ctx, h.svc.DB.Read(), hashmatch.KindCompetentAuthority)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, a := range as {
			data.Recipients = append(data.Recipients, Option{Value: a.ID, Label: a.Name})
		}
		if b, err := h.svc.Bank(ctx, s.P, c.BestBankID); err == nil {
			owner = b.OwnerID
		}
	}
	pg := s.View(r, s.T("Case %s", c.ID))
	pg.Data = data
	if m, ok := caseFlash[s.Notice(r).Get("done")]; ok {
		pg.Flash = s.T(m)
	}
	pg.SetForm("report", url.Values{"incident_type": {hashmatch.IncidentTypes[0]}, "authority_id": {owner}})
	pg.SetForm("removal", url.Values{"removed_at": {nowLocal(s)}, "content_ref": {c.ContentRef}})
	s.Show(w, r, "case", pg, ref)
}

func (h *hashmatchPages) review(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	form := "confirm"
	if v.Get("decision") == "reject" {
		form = "reject"
	}
	in := hashmatch.Review{Decision: v.Get("decision"), Note: v.Get("note"), Suppress: checked(v, "suppress")}
	if _, err := h.svc.ReviewCase(r.Context(), s.P, id, in); err != nil {
		h.showCase(w, r, s, &Refusal{Form: form, Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/cases/"+id, url.Values{"done": {form}})
}

// reopen undoes a rejection made in error (hashmatch.ReopenCase).
func (h *hashmatchPages) reopen(w http.ResponseWriter, r *http.Request, s *Session) {
	id := r.PathValue("id")
	if _, err := h.svc.ReopenCase(r.Context(), s.P, id, hashmatch.Reopen{Reason: r.PostForm.Get("reason")}); err != nil {
		h.showCase(w, r, s, &Refusal{Form: "reopen", Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/cases/"+id, url.Values{"done": {"reopen"}})
}

func (h *hashmatchPages) report(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	at, err := localTime(s, "incident_at", v.Get("incident_at"))
	if err == nil {
		_, err = h.svc.SendReport(r.Context(), s.P, id, hashmatch.NewReport{IncidentType: v.Get("incident_type"), IncidentAt: at,
			AuthorityID: strings.TrimSpace(v.Get("authority_id")), Notes: v.Get("notes")})
	}
	if err != nil {
		h.showCase(w, r, s, &Refusal{Form: "report", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/cases/"+id, url.Values{"done": {"report"}})
}

func (h *hashmatchPages) removal(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	at, err := localTime(s, "removed_at", v.Get("removed_at"))
	if err == nil {
		_, err = h.svc.RecordRemoval(r.Context(), s.P, id, hashmatch.NewRemoval{Action: v.Get("action"), RemovedAt: at,
			ContentRef: v.Get("content_ref")})
	}
	if err != nil {
		h.showCase(w, r, s, &Refusal{Form: "removal", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/cases/"+id, url.Values{"done": {"removal"}})
}

// ---- Reports ----

type hmReportsData struct {
	Reports     []hashmatch.Report
	Authorities map[string]string
	Received    bool // the principal's authority receives them (an analyst); else its provider sent them
	Next        string
	Downloads   []Link // the filtered reports as files
	Statuses    []Option
	Senders     []Option // the providers (for an analyst) or the authorities (for a service), for the filter form
}

func (h *hashmatchPages) reports(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	received := s.P.Can(hashmatch.ReceiveReports)
	pg, kind := s.View(r, "Reports sent"), hashmatch.KindCompetentAuthority
	if received {
		pg, kind = s.View(r, "Reports received"), hashmatch.KindServiceProvider
	}
	var ref *Refusal
	f, fref := hmListFilter(r.URL.Query(), hashmatch.ReportFilters)
	rs, err := listed(r, s, pg, &ref, f, fref, hashmatch.ListFilter{}, h.svc.Reports)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, opts, err := authorityChoices(ctx, h.svc.DB, kind)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg.Data = hmReportsData{Reports: rs.Items, Authorities: names, Received: received, Next: nextPage(r, rs.Next),
		Downloads: Downloads(r, "/hashmatch/reports/export"),
		Statuses:  hmOptions(s, reportStatusLabels, hashmatch.ReportStatuses), Senders: opts}
	s.Show(w, r, "reports", pg, ref)
}

type hmReportData struct {
	Report      *hashmatch.Report
	Authorities map[string]string
	CanAck      bool
}

func (h *hashmatchPages) reportPage(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showReport(w, r, s, nil)
}

func (h *hashmatchPages) showReport(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ctx := r.Context()
	rp, err := h.svc.Report(ctx, s.P, r.PathValue("id"))
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	names, err := authorityNames(ctx, h.svc.DB)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	pg := s.View(r, s.T("Report %s", rp.ID))
	pg.Data = hmReportData{Report: rp, Authorities: names,
		CanAck: s.P.Can(hashmatch.ReceiveReports) && rp.AuthorityID == s.P.AuthorityID && rp.AcknowledgedAt == ""}
	if s.Notice(r).Get("done") == "ack" {
		pg.Flash = s.T("Report acknowledged.")
	}
	s.Show(w, r, "report", pg, ref)
}

func (h *hashmatchPages) acknowledge(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	id := r.PathValue("id")
	if _, err := h.svc.AcknowledgeReport(r.Context(), s.P, id, v.Get("reference")); err != nil {
		e, ok := errs.As(err)
		if ok && e.Code == errs.NotFound {
			// Another authority's report does not exist for this analyst.
			s.Fail(w, r, err)
			return
		}
		h.showReport(w, r, s, &Refusal{Form: "acknowledge", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/hashmatch/reports/"+id, url.Values{"done": {"ack"}})
}
