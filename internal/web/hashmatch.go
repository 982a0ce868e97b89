package web

import (
	"embed"
	"net/http"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Hash matching: the section ----

// hmMaxUpload is the largest multipart form read, on the pages that take a
// file (hash lists).
const hmMaxUpload = 16 << 20

//go:embed templates/hashmatch/*.html
var hashmatchFS embed.FS

// hashmatchPages are the section's handlers.
type hashmatchPages struct{ svc *hashmatch.Service }

// Hashmatch returns the section of the known-image hash registry, served by
// svc.
func Hashmatch(svc *hashmatch.Service) Section {
	h := &hashmatchPages{svc: svc}
	return Section{
		Name:      hashmatch.Module.Name,
		Title:     hashmatch.Module.Title,
		Roles:     rolesOf(hashmatch.Module.Roles),
		Nav:       hashmatchNav,
		Home:      hashmatchHome,
		Dashboard: h.dashboard,
		Pages: append([]Page{
			get("/banks", h.banks).Allowed(hashmatch.ReadBankMetadata),
			post("/banks", h.createBank).Allowed(hashmatch.PublishBanks),
			get("/banks/{id}", h.bank).Allowed(hashmatch.ReadBankMetadata),
			get("/banks/{id}/entries/export", h.export(hashmatch.ListEntries)).Allowed(hashmatch.PublishBanks),
			post("/banks/{id}/versions", h.paste).Allowed(hashmatch.PublishBanks),
			{Method: http.MethodPost, Path: "/banks/{id}/import", Handler: h.upload, Upload: hmMaxUpload, File: "file", Allow: []auth.Action{hashmatch.PublishBanks}},
			post("/banks/{id}/entries/{entry}/release", h.release).Allowed(hashmatch.PublishBanks),
			post("/banks/{id}/video_thresholds", h.videoThresholds).Allowed(hashmatch.PublishBanks),
			post("/banks/{id}/subscriptions", h.subscribe).Allowed(hashmatch.SubscribeBanks),
			get("/subscriptions", h.subscriptions).Allowed(hashmatch.ReadCases),
			get("/match", h.matchForm).Allowed(hashmatch.MatchHashes),
			{Method: http.MethodPost, Path: "/match", Handler: h.matchImages, Upload: svc.Config().MaxBatchUpload, File: "files", Allow: []auth.Action{hashmatch.MatchHashes}},
			get("/cases", h.cases).Allowed(hashmatch.ReadCases),
			get("/cases/export", h.export(hashmatch.ListCases)).Allowed(hashmatch.ReadCases),
			get("/cases/{id}", h.casePage).Allowed(hashmatch.ReadCases),
			post("/cases/{id}/review", h.review).Allowed(hashmatch.ReviewCases),
			post("/cases/{id}/reopen", h.reopen).Allowed(hashmatch.ReviewCases),
			post("/cases/{id}/report", h.report).Allowed(hashmatch.ReviewCases),
			post("/cases/{id}/removal", h.removal).Allowed(hashmatch.ReviewCases),
			get("/reports", h.reports).Allowed(hashmatch.ReceiveReports, hashmatch.ReadCases),
			get("/reports/export", h.export(hashmatch.ListReports)).Allowed(hashmatch.ReceiveReports, hashmatch.ReadCases),
			get("/reports/{id}", h.reportPage).Allowed(hashmatch.ReceiveReports, hashmatch.ReadCases),
			post("/reports/{id}/acknowledge", h.acknowledge).Allowed(hashmatch.ReceiveReports),
		}, h.feedbackPages()...),
		Templates: subFS(hashmatchFS, "templates/hashmatch"),
		Lists:     hashmatchLists,
		Labels:    hashmatchLabels,
	}
}

// hashmatchLists are the value lists of the section's selects; each value
// has its words in hashmatchLabels.
var hashmatchLists = map[string][]string{
	"hm_format":      hashmatch.Formats,
	"hm_bank_kind":   {hashmatch.KindKnown, hashmatch.KindSuppression},
	"incident_type":  hashmatch.IncidentTypes,
	"removal_action": hashmatch.RemovalActions,
	"hm_decision":    hashmatch.DisputeDecisions,
}

// hashmatchLabels are the words for the values of the section's lists
// (formats, bank kinds, incident types, removal actions) and of the statuses
// its pages show with "label": every value has one, a message.
var hashmatchLabels = map[string]string{
	hashmatch.FormatHex:           i18n.M("Hex lines: PDQ [classification [entry id]]"),
	hashmatch.FormatNCMEC:         i18n.M("NCMEC hash-sharing style XML"),
	hashmatch.FormatProjectVIC:    i18n.M("Project VIC / VICS style JSON"),
	hashmatch.FormatJSON:          i18n.M("custos JSON: image and video entries"),
	hashmatch.FormatTECSV:         i18n.M("ThreatExchange signal file, CSV"),
	hashmatch.FormatTETSV:         i18n.M("ThreatExchange signal file, TSV"),
	hashmatch.FormatHMA:           i18n.M("HMA bank content JSON"),
	hashmatch.KindKnown:           i18n.M("Known material"),
	hashmatch.KindSuppression:     i18n.M("Suppression (known false positives)"),
	"child_sexual_abuse_material": i18n.M("Child sexual abuse material"),
	"child_sex_trafficking":       i18n.M("Child sex trafficking"),
	"online_enticement":           i18n.M("Online enticement"),
	"other":                       i18n.M("Other"),
	"removed":                     i18n.M("Removed"),
	"blocked":                     i18n.M("Blocked"),
	"disabled_and_preserved":      i18n.M("Disabled and preserved"),
	// a case's status (case pages, the queue)
	"open":      i18n.M("Open"),
	"confirmed": i18n.M("Confirmed"),
	"rejected":  i18n.M("Rejected"),
	// a batch upload's result that is neither a match, no match nor an error
	hashmatch.StatusLowQuality: i18n.M("Low quality"),
	hashmatch.StatusSuppressed: i18n.M("Suppressed"),
	// the decisions on disputed entries and the statuses of disputes
	hashmatch.DecisionKeep:     i18n.M("Keep the entry"),
	hashmatch.DecisionWithdraw: i18n.M("Withdraw the entry in the next version"),
	"kept":                     i18n.M("Kept by the owner"),
	"withdrawn":                i18n.M("Withdrawn by the owner"),
}

// hashActor tells whether p acts in the hash-matching registry (publishes
// banks, or matches and reviews for a service) rather than oversees it.
func hashActor(p *auth.Principal) bool {
	return p.Can(hashmatch.PublishBanks) || p.Can(hashmatch.ReadCases)
}

// hashmatchNav: an analyst's banks and reports; a service's banks to
// subscribe to, its queue, subscriptions, image matching and reports; the
// banks' metadata for oversight.
func hashmatchNav(p *auth.Principal) []Link {
	if !hashActor(p) {
		if p.Can(hashmatch.ReadBankMetadata) {
			return []Link{{"/hashmatch/banks", i18n.M("Hash banks")}}
		}
		return nil
	}
	var links []Link
	add := func(ok bool, href, label string) {
		if ok {
			links = append(links, Link{href, label})
		}
	}
	add(p.Can(hashmatch.PublishBanks) || p.Can(hashmatch.SubscribeBanks), "/hashmatch/banks", i18n.M("Hash banks"))
	add(p.Can(hashmatch.ReceiveReports), "/hashmatch/reports", i18n.M("Reports received"))
	add(p.Can(hashmatch.ReadCases), "/hashmatch/cases", i18n.M("Review queue"))
	add(p.Can(hashmatch.ReadCases), "/hashmatch/subscriptions", i18n.M("Subscriptions"))
	add(p.Can(hashmatch.MatchHashes), "/hashmatch/match", i18n.M("Match images"))
	add(p.Can(hashmatch.ReadCases), "/hashmatch/reports", i18n.M("Reports sent"))
	add(p.Can(hashmatch.ReviewDisputes), "/hashmatch/disputes", i18n.M("Disputed entries"))
	add(p.Can(hashmatch.ReadCases), "/hashmatch/disputes", i18n.M("Disputes"))
	add(p.Can(hashmatch.SetRetroMatching), "/hashmatch/retro", i18n.M("Retroactive matching"))
	return links
}

// hashmatchHome is an analyst's or a service's card, or a note of what
// oversight reads.
func hashmatchHome(p *auth.Principal) *Card {
	if !hashActor(p) && !p.Can(hashmatch.ReadBankMetadata) {
		return nil
	}
	return &Card{Template: "home", Data: struct{ CanPublish, CanReview, CanReadCases bool }{
		p.Can(hashmatch.PublishBanks), p.Can(hashmatch.ReviewCases), p.Can(hashmatch.ReadCases)}}
}
