package web

import (
	"context"
	"time"

	"github.com/custos-project/custos/internal/chart"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/i18n"
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
	period := p.Words(s.L())
	months := chart.Panel{ID: "hashmatch-months", Title: s.T("Matches, reports and removals by month"),
		Desc: s.T("Matches (cases opened for review), reports sent to competent authorities and removals of content in %s, by month (UTC).", period),
		Kind: chart.Columns, Category: s.T("Month"), Unit: s.T("count"), Categories: p.List(),
		Series: []chart.Series{{Name: s.T("Matches"), Values: p.ByMonth(f.Cases)}, {Name: s.T("Reports"), Values: p.ByMonth(f.Reports)},
			{Name: s.T("Removals"), Values: p.ByMonth(f.Removals)}},
		Fields: []string{"month", "matches", "reports", "removals"}}
	stages := chart.Panel{ID: "hashmatch-cases", Title: s.T("Cases by stage"),
		Desc: s.T("The cases opened in %s, by where each stands now.", period), Kind: chart.Bars, Category: s.T("Stage"), Unit: s.T("cases"),
		Series: []chart.Series{{Name: s.T("Cases")}}, Fields: []string{"stage", "cases"}}
	for _, st := range hashmatch.CaseStages {
		stages.Categories = append(stages.Categories, s.T(caseStageLabels[st]))
		stages.Codes = append(stages.Codes, st)
		stages.Series[0].Values = append(stages.Series[0].Values, float64(f.Stages[st]))
	}
	hours := func(d time.Duration) float64 { return d.Hours() }
	times := chart.Panel{ID: "hashmatch-times", Title: s.T("Time from match to report and to removal"),
		Desc: s.T("For the cases opened in %s: hours from the match to the first report, and to the removal; the median and the 90th percentile.", period),
		Kind: chart.Bars, Category: s.T("Step"), Unit: s.T("hours"), Decimals: 1,
		Categories: []string{s.T("Match to report"), s.T("Match to removal")}, Codes: []string{"match_to_report", "match_to_removal"},
		Fields: []string{"step", "median_hours", "p90_hours"},
		Series: []chart.Series{
			{Name: s.T("Median"), Values: []float64{hours(hashmatch.Percentile(f.ToReport, 50)), hours(hashmatch.Percentile(f.ToRemoval, 50))}},
			{Name: s.T("90th percentile"), Values: []float64{hours(hashmatch.Percentile(f.ToReport, 90)), hours(hashmatch.Percentile(f.ToRemoval, 90))}}},
		Note: s.T("Of these cases, %s were reported and %s removed; a case not yet reported or removed does not count here.",
			s.L().Number(int64(len(f.ToReport))), s.L().Number(int64(len(f.ToRemoval))))}
	return []chart.Panel{months, stages, times}, nil
}

// caseStageLabels are the words for the stages of a case.
var caseStageLabels = map[string]i18n.Msg{
	hashmatch.StageOpen:      i18n.M("Open: awaiting review"),
	hashmatch.StageRejected:  i18n.M("Rejected on review"),
	hashmatch.StageConfirmed: i18n.M("Confirmed, not reported"),
	hashmatch.StageReported:  i18n.M("Reported, not removed"),
	hashmatch.StageRemoved:   i18n.M("Removed"),
}
