package web

import (
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/stats"
)

// ---- The statistics registry: the ICCS and the mappings of national codes ----

// iccsCategory is a category as the pages show it: its code, level and
// title in the reader's language, its English title when that differs, and
// how many categories it has under it.
type iccsCategory struct {
	Code, Title, English string
	Level, Children      int
}

type iccsData struct {
	Version, Source string
	Path            []iccsCategory // from the section down to the category shown
	Current         *iccsCategory
	Children        []iccsCategory
	Levels          [4]int // how many categories each level has
	Official        bool   // the titles shown are an official edition's (English or Spanish)
	Machine         bool   // the language has machine-assisted titles (stats.MachineTitles)
	StatsLevel      int    // the level the category's statistics break down by: the one under it
}

// iccsOf is the category of code in the language lang.
func iccsOf(k stats.Category, lang string) iccsCategory {
	c := iccsCategory{Code: k.Code, Title: k.TitleIn(lang), Level: k.Level}
	if c.Title != k.Title {
		c.English = k.Title
	}
	for _, x := range stats.ICCS.Categories {
		if x.Parent == k.Code {
			c.Children++
		}
	}
	return c
}

// iccsLabel is a category's code and title in lang, as tables show it.
func iccsLabel(code, lang string) string {
	if k, ok := stats.ICCS.Lookup(code); ok {
		return k.Code + " " + k.TitleIn(lang)
	}
	return code
}

// iccs is the classification browser: the sections (level 1), or a
// category with the path to it and the categories under it.
func (h *statsPages) iccs(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(stats.ReadStatistics); err != nil {
		s.Fail(w, r, err)
		return
	}
	lang := s.L().Code()
	d := iccsData{Version: stats.ICCS.Version, Source: stats.ICCS.Source, Official: lang == "en" || lang == "es"}
	_, d.Machine = stats.MachineTitles[lang]
	for _, k := range stats.ICCS.Categories {
		d.Levels[k.Level-1]++
	}
	parent := ""
	if code := r.URL.Query().Get("code"); code != "" {
		k, ok := stats.ICCS.Lookup(code)
		if !ok {
			s.Fail(w, r, errs.New(errs.NotFound, "iccs_code", "code", "%s is not an ICCS code (version %s)", code, stats.ICCS.Version))
			return
		}
		cur := iccsOf(k, lang)
		d.Current = &cur
		d.StatsLevel = min(k.Level+1, 4)
		for p := k.Parent; p != ""; {
			a, _ := stats.ICCS.Lookup(p)
			d.Path = append([]iccsCategory{iccsOf(a, lang)}, d.Path...)
			p = a.Parent
		}
		parent = k.Code
	}
	for _, k := range stats.ICCS.Categories {
		if k.Parent == parent {
			d.Children = append(d.Children, iccsOf(k, lang))
		}
	}
	title := "ICCS: the International Classification of Crime for Statistical Purposes"
	v := s.View(r, title)
	if d.Current != nil {
		v = s.View(r, d.Current.Code+" "+d.Current.Title)
	}
	v.Data = d
	s.Show(w, r, "iccs", v, nil)
}

type mappingsData struct {
	Mappings  []stats.Mapping
	CanManage bool
}

func (h *statsPages) mappings(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showMappings(w, r, s, nil)
}

func (h *statsPages) showMappings(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	ms, err := h.svc.Mappings(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	v := s.View(r, "Mappings of national offence codes")
	v.Data = mappingsData{Mappings: ms, CanManage: s.P.Can(stats.ManageMappings)}
	s.Show(w, r, "mappings", v, ref)
}

// publishMapping publishes the next version of a mapping from an uploaded
// CSV file.
func (h *statsPages) publishMapping(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	f, err := uploadedFile(r, "file")
	var m *stats.Mapping
	if err == nil {
		var rows []stats.MappingRow
		rows, err = stats.ParseMapping(f)
		f.Close()
		if err == nil {
			m, err = h.svc.PublishMapping(r.Context(), s.P, stats.NewMapping{ID: v.Get("id"), Name: v.Get("name"), Rows: rows})
		}
	}
	if err != nil {
		ref := &Refusal{Form: "mapping", Values: v, Err: err}
		if e, ok := errs.As(err); ok && e.Field != "id" && e.Field != "name" {
			ref.Highlight = "file"
		}
		h.showMappings(w, r, s, ref)
		return
	}
	s.RedirectDone(w, r, "/stats/mappings/"+url.PathEscape(m.ID), url.Values{"done": {"published"}, "id": {m.ID}, "version": {strconv.Itoa(m.Version)}})
}

type mappingData struct {
	Mapping   *stats.Mapping
	Latest    int
	Versions  []int
	Titles    map[string]string // ICCS code -> its title in the reader's language
	Report    *stats.MappingReport
	CanManage bool
}

func (h *statsPages) mapping(w http.ResponseWriter, r *http.Request, s *Session) {
	h.showMapping(w, r, s, nil, nil)
}

func (h *statsPages) showMapping(w http.ResponseWriter, r *http.Request, s *Session, report *stats.MappingReport, ref *Refusal) {
	ctx := r.Context()
	id := r.PathValue("id")
	latest, err := h.svc.Mapping(ctx, s.P, id, 0)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	m := latest
	published := s.Notice(r)
	version, _ := strconv.Atoi(published.Get("version"))
	isNotice := published.Get("done") == "published" && published.Get("id") == latest.ID && version > 0
	if isNotice {
		// the version the form published, whatever was published since
		if m, err = h.svc.Mapping(ctx, s.P, id, version); err != nil {
			s.Fail(w, r, err)
			return
		}
	} else if ver := r.URL.Query().Get("version"); ver != "" {
		n, ok := check.Whole(ver, math.MaxInt32)
		if !ok || n < 1 {
			s.Fail(w, r, errs.Invalidf("range", "version", "version must be a whole number from 1"))
			return
		}
		if m, err = h.svc.Mapping(ctx, s.P, id, n); err != nil {
			s.Fail(w, r, err)
			return
		}
	}
	d := mappingData{Mapping: m, Latest: latest.Version, Titles: map[string]string{}, Report: report, CanManage: s.P.Can(stats.ManageMappings)}
	for i := latest.Version; i >= 1; i-- {
		d.Versions = append(d.Versions, i)
	}
	lang := s.L().Code()
	for _, row := range m.Rows {
		if k, ok := stats.ICCS.Lookup(row.ICCS); ok {
			d.Titles[row.ICCS] = k.TitleIn(lang)
		}
	}
	v := s.View(r, s.T("Mapping %s, version %d", m.Name, m.Version))
	if isNotice {
		v.Flash = s.T("Version %d published. Imports name the version they were coded with, so the figures already imported keep theirs.", m.Version)
	}
	v.Data = d
	s.Show(w, r, "mapping", v, ref)
}

// checkCodes reports the national codes of an uploaded records file that
// the mapping does not map, or maps to several categories: nothing is
// imported.
func (h *statsPages) checkCodes(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	ver, field := 0, "file" // version 0: the latest
	var err error
	if n := strings.TrimSpace(v.Get("version")); n != "" {
		var ok bool
		if ver, ok = atoiRange(n, 1, math.MaxInt32); !ok {
			err, field = errs.Invalidf("range", "version", "version must be a whole number from 1"), "version"
		}
	}
	var rep *stats.MappingReport
	if err == nil {
		var f multipart.File
		if f, err = uploadedFile(r, "file"); err == nil {
			rep, err = h.svc.CheckCodes(r.Context(), s.P, r.PathValue("id"), ver, f)
			f.Close()
		}
	}
	if err != nil {
		h.showMapping(w, r, s, nil, &Refusal{Form: "check", Values: v, Err: err, Highlight: field})
		return
	}
	h.showMapping(w, r, s, rep, nil)
}
