package web

import (
	"context"
	"fmt"
	"time"

	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/hashmatch"
)

// ---- The registries' figures on the home page (Section.Dashboard) ----

// dashboard is the hash registry's figures, across every service: matches,
// reports and removals by month, the cases by stage, and the time from a
// match to its report and to its removal.
func (h *hashmatchPages) dashboard(ctx context.Context, s *Session, p chart.Period) ([]chart.Panel, error) {
	if !s.P.Can(hashmatch.ReadFigures) {
		return nil, nil
	}
	f, err := h.svc.Figures(ctx, s.P, p.From(), p.End())
	if err != nil {
		return nil, err
	}
	months := chart.Panel{ID: "hashmatch-months", Title: "Matches, reports and removals by month",
		Desc: "Matches (cases opened for review), reports sent to competent authorities and removals of content in " + p.String() + ", by month (UTC).",
		Kind: chart.Columns, Category: "Month", Unit: "count", Categories: p.List(),
		Series: []chart.Series{{Name: "Matches", Values: p.ByMonth(f.Cases)}, {Name: "Reports", Values: p.ByMonth(f.Reports)},
			{Name: "Removals", Values: p.ByMonth(f.Removals)}}}
	stages := chart.Panel{ID: "hashmatch-cases", Title: "Cases by stage",
		Desc: "The cases opened in " + p.String() + ", by where each stands now.", Kind: chart.Bars, Category: "Stage", Unit: "cases",
		Series: []chart.Series{{Name: "Cases"}}}
	for _, st := range hashmatch.CaseStages {
		stages.Categories = append(stages.Categories, caseStageLabels[st])
		stages.Series[0].Values = append(stages.Series[0].Values, float64(f.Stages[st]))
	}
	hours := func(d time.Duration) float64 { return d.Hours() }
	times := chart.Panel{ID: "hashmatch-times", Title: "Time from match to report and to removal",
		Desc: "For the cases opened in " + p.String() + ": hours from the match to the first report, and to the removal; the median and the 90th percentile.",
		Kind: chart.Bars, Category: "Step", Unit: "hours", Decimals: 1,
		Categories: []string{"Match to report", "Match to removal"},
		Series: []chart.Series{
			{Name: "Median", Values: []float64{hours(hashmatch.Percentile(f.ToReport, 50)), hours(hashmatch.Percentile(f.ToRemoval, 50))}},
			{Name: "90th percentile", Values: []float64{hours(hashmatch.Percentile(f.ToReport, 90)), hours(hashmatch.Percentile(f.ToRemoval, 90))}}},
		Note: fmt.Sprintf("Of these cases, %d were reported and %d removed; a case not yet reported or removed does not count here.", len(f.ToReport), len(f.ToRemoval))}
	return []chart.Panel{months, stages, times}, nil
}

// caseStageLabels are the words for the stages of a case.
var caseStageLabels = map[string]string{
	hashmatch.StageOpen:      "Open: awaiting review",
	hashmatch.StageRejected:  "Rejected on review",
	hashmatch.StageConfirmed: "Confirmed, not reported",
	hashmatch.StageReported:  "Reported, not removed",
	hashmatch.StageRemoved:   "Removed",
}
