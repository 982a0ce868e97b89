package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/stats"
)

// ---- The statistics registry: imports of national records, with progress ----
//
// An import runs on the server after the upload, as long as its file takes
// to check and store: the form posts the file, the server starts the import
// and, unless it is done within a moment, answers with a page that shows
// its progress and reloads itself every second (no script) until the import
// is done or refused.

// importWait is how long the upload's answer waits for the import to end
// before it shows the progress page instead.
const importWait = 2 * time.Second

// importJob is one import under way: its progress, then its result.
type importJob struct {
	owner  string     // the principal who started it: no one else sees it
	values url.Values // the form, to show again when it is refused

	mu          sync.Mutex
	phase       string
	done, size  int64
	finished    time.Time
	result      *stats.Import
	err         error
	doneChannel chan struct{}
}

func (j *importJob) report(phase string, done, size int64) {
	j.mu.Lock()
	j.phase, j.done, j.size = phase, done, size
	j.mu.Unlock()
}

// importJobs are the imports under way and those ended in the last hour.
type importJobs struct {
	mu   sync.Mutex
	jobs map[string]*importJob
}

func newImportJobs() *importJobs { return &importJobs{jobs: map[string]*importJob{}} }

// start runs an import of the file at path (removed when it ends) in the
// background and returns its job's id.
func (js *importJobs) start(svc *stats.Service, s *Session, in stats.ImportRequest, path string, size int64, values url.Values) (string, *importJob) {
	var b [12]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	j := &importJob{owner: s.P.ID, values: values, phase: "validate", size: size, doneChannel: make(chan struct{})}
	js.mu.Lock()
	for k, old := range js.jobs {
		old.mu.Lock()
		if !old.finished.IsZero() && time.Since(old.finished) > time.Hour {
			delete(js.jobs, k)
		}
		old.mu.Unlock()
	}
	js.jobs[id] = j
	js.mu.Unlock()
	p := s.P
	go func() {
		defer os.Remove(path)
		var im *stats.Import
		f, err := os.Open(path)
		if err == nil {
			im, err = svc.Import(context.Background(), p, in, f, size, j.report)
			f.Close()
		}
		j.mu.Lock()
		j.result, j.err, j.finished = im, err, time.Now()
		j.mu.Unlock()
		close(j.doneChannel)
	}()
	return id, j
}

func (js *importJobs) get(id, owner string) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	if j, ok := js.jobs[id]; ok && j.owner == owner {
		return j
	}
	return nil
}

// uploadedFile opens the file of a multipart form's input.
func uploadedFile(r *http.Request, name string) (multipart.File, error) {
	if r.MultipartForm == nil || len(r.MultipartForm.File[name]) == 0 {
		return nil, errs.Invalidf("required", name, "choose the CSV file to upload")
	}
	f, err := r.MultipartForm.File[name][0].Open()
	if err != nil {
		return nil, errs.New(errs.Malformed, "form", name, "the uploaded file could not be read")
	}
	return f, nil
}

type importsData struct {
	Imports   []stats.Import
	Mappings  []Option
	CanImport bool
	Job       *jobView
	// Counted are the imports still counted, which may be withdrawn.
	Counted []Option
}

// jobView is an import under way as its page shows it.
type jobView struct {
	Phase         string
	Done, Size    int64
	Percent       int
	Source        string
	Indeterminate bool
}

func (h *statsPages) imports(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showImports(w, r, s, nil, nil)
}

func (h *statsPages) showImports(w http.ResponseWriter, r *http.Request, s *Session, job *jobView, ref *Refusal) {
	ctx := r.Context()
	ims, err := h.svc.Imports(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d := importsData{Imports: ims, CanImport: s.P.Can(stats.ImportRecords), Job: job}
	if d.CanImport {
		ms, err := h.svc.Mappings(ctx, s.P)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		for _, m := range ms {
			d.Mappings = append(d.Mappings, Option{Value: m.ID, Label: s.T("%s (version %d)", m.Name, m.Version)})
		}
	}
	if s.P.Can(stats.WithdrawImports) {
		// Its own authority's imports still counted: those it may withdraw.
		for _, im := range ims {
			if im.WithdrawnAt == "" && im.OwnedBy(s.P) {
				d.Counted = append(d.Counted, Option{Value: im.ID, Label: s.T("%s: %s, %s records, %s to %s", im.ID, im.Source, s.L().Number(im.Records), im.FirstDate, im.LastDate)})
			}
		}
	}
	v := s.View(r, "Imports of national records")
	if job != nil {
		v = s.View(r, "Importing national records")
		v.Refresh = 1
	}
	if n := s.Notice(r); n.Get("id") != "" && job == nil {
		// The import the notice names, as the registry holds it now: the
		// reader's list, so one they may not read says nothing.
		for _, im := range ims {
			if im.ID != n.Get("id") {
				continue
			}
			switch kind := n.Get("done"); {
			case kind == "imported" && im.WithdrawnAt == "":
				v.Flash = s.T("Imported %s: %s records counting %s, from %s to %s. They are in the statistics now.",
					im.Source, s.L().Number(im.Records), s.L().Number(im.Total), im.FirstDate, im.LastDate)
			case kind == "unchanged" && im.WithdrawnAt == "":
				v.Flash = s.T("Nothing imported: the file was imported already as %s (%s, %s records) and is still counted; nothing is recorded.",
					im.ID, im.Source, s.L().Number(im.Records))
			case kind == "withdrawn" && im.WithdrawnAt != "":
				v.Flash = s.T("Withdrew %s (%s): its %s records are no longer counted in the statistics.", im.ID, im.Source, s.L().Number(im.Records))
			}
		}
	}
	if len(d.Mappings) > 0 {
		// most files give national codes: the form starts on a mapping
		v.SetForm("import", url.Values{"mapping": {d.Mappings[0].Value}})
	}
	v.Data = d
	s.Show(w, r, "imports", v, ref)
}

// importRecords takes the uploaded records file to a temporary file of its
// own (the form's goes when the request ends), starts the import and
// answers with its result, or its progress page when it takes longer.
func (h *statsPages) importRecords(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	refuse := func(err error, field string) {
		h.showImports(w, r, s, nil, &Refusal{Form: "import", Values: v, Err: err, Highlight: field})
	}
	if err := s.P.Require(stats.ImportRecords); err != nil {
		s.Fail(w, r, err)
		return
	}
	ver := 0
	if vs := v.Get("mapping_version"); vs != "" {
		n, ok := atoiRange(vs, 1, 1<<30)
		if !ok {
			refuse(errs.Invalidf("range", "mapping_version", "mapping_version must be a whole number from 1; empty is the latest version"), "mapping_version")
			return
		}
		ver = n
	}
	f, err := uploadedFile(r, "file")
	if err != nil {
		refuse(err, "file")
		return
	}
	name := r.MultipartForm.File["file"][0].Filename
	tmp, err := os.CreateTemp("", "custos-stats-upload-*.csv")
	if err != nil {
		f.Close()
		s.Fail(w, r, err)
		return
	}
	size, err := io.Copy(tmp, f)
	f.Close()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		s.Fail(w, r, err)
		return
	}
	kept := url.Values{"mapping": {v.Get("mapping")}, "mapping_version": {v.Get("mapping_version")}}
	id, j := h.jobs.start(h.svc, s, stats.ImportRequest{Source: name, Mapping: v.Get("mapping"), MappingVersion: ver}, tmp.Name(), size, kept)
	select {
	case <-j.doneChannel:
		h.ended(w, r, s, j)
	case <-time.After(importWait):
		Redirect(w, r, "/stats/imports/progress/"+id, nil)
	}
}

// ended answers an import that ended: the list with its flash, or the form
// with the refusal.
func (h *statsPages) ended(w http.ResponseWriter, r *http.Request, s *Session, j *importJob) {
	j.mu.Lock()
	im, err, values := j.result, j.err, j.values
	j.mu.Unlock()
	if err != nil {
		ref := &Refusal{Form: "import", Values: values, Err: err, Highlight: "file"}
		if e, ok := errs.As(err); ok && (e.Field == "mapping" || e.Field == "mapping_version") {
			ref.Highlight = e.Field
		}
		h.showImports(w, r, s, nil, ref)
		return
	}
	if im.Unchanged {
		// The same file, imported already and still counted: nothing was
		// imported or recorded, and the page says so.
		s.RedirectDone(w, r, "/stats/imports", url.Values{"done": {"unchanged"}, "id": {im.ID}})
		return
	}
	s.RedirectDone(w, r, "/stats/imports", url.Values{"done": {"imported"}, "id": {im.ID}})
}

// progress is the page of an import under way: a progress bar that
// reloads every second, then the import's result.
func (h *statsPages) progress(w http.ResponseWriter, r *http.Request, s *Session) {
	j := h.jobs.get(r.PathValue("job"), s.P.ID)
	if j == nil {
		s.Fail(w, r, errs.New(errs.NotFound, "not_found", "job", "no import under way has this id: it ended over an hour ago, or the server restarted; see the list of imports"))
		return
	}
	select {
	case <-j.doneChannel:
		h.ended(w, r, s, j)
		return
	default:
	}
	j.mu.Lock()
	jv := &jobView{Phase: j.phase, Done: j.done, Size: j.size, Indeterminate: j.size <= 0}
	j.mu.Unlock()
	if jv.Size > 0 {
		jv.Percent = int(min(100, jv.Done*100/jv.Size))
	}
	h.showImports(w, r, s, jv, nil)
}

// withdraw withdraws an import, with the reason the statistician gives:
// one log entry, after which its records are no longer counted.
func (h *statsPages) withdraw(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	im, err := h.svc.Withdraw(r.Context(), s.P, v.Get("import"), stats.Withdrawal{Reason: v.Get("reason")})
	if err != nil {
		if e, ok := errs.As(err); ok && e.Code != errs.Forbidden {
			field := "reason"
			if e.Field != "reason" {
				field = "import"
			}
			h.showImports(w, r, s, nil, &Refusal{Form: "withdraw", Values: v, Err: err, Highlight: field})
			return
		}
		s.Fail(w, r, err)
		return
	}
	s.RedirectDone(w, r, "/stats/imports", url.Values{"done": {"withdrawn"}, "id": {im.ID}})
}

// atoiRange reads a whole number from lo to hi.
func atoiRange(s string, lo, hi int) (int, bool) {
	n, ok := check.Whole(s, hi)
	return n, ok && n >= lo
}
