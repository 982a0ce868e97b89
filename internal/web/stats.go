package web

import (
	"embed"
	"net/http"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/stats"
)

// ---- Crime and criminal-justice statistics: the section ----

// statsMaxUpload is the largest multipart form the pages that take a file
// read (a year of a country's police records is some hundreds of
// megabytes).
const statsMaxUpload = 1 << 30

//go:embed templates/stats/*.html
var statsFS embed.FS

// statsPages are the section's handlers.
type statsPages struct {
	svc  *stats.Service
	jobs *importJobs
}

// Stats returns the section of the statistics registry, served by svc.
func Stats(svc *stats.Service) Section {
	h := &statsPages{svc: svc, jobs: newImportJobs()}
	return Section{
		Name:  stats.Module.Name,
		Title: stats.Module.Title,
		Roles: rolesOf(stats.Module.Roles),
		Nav:   statsNav,
		Home:  statsHome,
		Pages: []Page{
			get("/tables", h.tables).Allowed(stats.ReadStatistics),
			get("/tables/export", h.tableExport).Allowed(stats.PublishTables),
			get("/sdmx", h.sdmx).Allowed(stats.PublishTables),
			get("/uncts", h.uncts).Allowed(stats.PublishTables),
			get("/iccs", h.iccs).Allowed(stats.ReadStatistics),
			get("/mappings", h.mappings).Allowed(stats.ReadStatistics),
			{Method: http.MethodPost, Path: "/mappings", Handler: h.publishMapping, Upload: statsMaxUpload, File: "file", Allow: []auth.Action{stats.ManageMappings}},
			get("/mappings/{id}", h.mapping).Allowed(stats.ReadStatistics),
			{Method: http.MethodPost, Path: "/mappings/{id}/check", Handler: h.checkCodes, Upload: statsMaxUpload, File: "file", Allow: []auth.Action{stats.ImportRecords}},
			get("/imports", h.imports).Allowed(stats.ReadStatistics),
			{Method: http.MethodPost, Path: "/imports", Handler: h.importRecords, Upload: statsMaxUpload, File: "file", Allow: []auth.Action{stats.ImportRecords}},
			get("/imports/progress/{job}", h.progress).Allowed(stats.ImportRecords),
			{Method: http.MethodPost, Path: "/imports/withdraw", Handler: h.withdraw, Allow: []auth.Action{stats.WithdrawImports}},
		},
		Templates: subFS(statsFS, "templates/stats"),
		Labels:    statsLabels,
	}
}

// statsLabels are the words of the values the section's pages show with
// "label" that are not a dimension's (those carry their own).
var statsLabels = map[string]string{
	stats.PeriodYear:    i18n.M("Year"),
	stats.PeriodQuarter: i18n.M("Quarter"),
	stats.PeriodMonth:   i18n.M("Month"),
	"validate":          i18n.M("Checking every row"),
	"store":             i18n.M("Storing the records"),
}

// statsNav: a statistician's tables, imports, mappings and the
// classification; the tables and the classification for whoever reads the
// statistics.
func statsNav(p *auth.Principal) []Link {
	if !p.Can(stats.ReadStatistics) {
		return nil
	}
	links := []Link{{"/stats/tables", i18n.M("Statistics")}}
	if p.Can(stats.ImportRecords) {
		links = append(links, Link{"/stats/imports", i18n.M("Imports")})
	}
	if p.Can(stats.ManageMappings) {
		links = append(links, Link{"/stats/mappings", i18n.M("Mappings")})
	}
	return append(links, Link{"/stats/iccs", i18n.M("ICCS")})
}

// statsHome is the card of whoever reads the statistics.
func statsHome(p *auth.Principal) *Card {
	if !p.Can(stats.ReadStatistics) {
		return nil
	}
	return &Card{Template: "home", Data: struct{ CanImport, CanMap bool }{p.Can(stats.ImportRecords), p.Can(stats.ManageMappings)}}
}
