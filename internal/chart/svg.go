package chart

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/custos-project/custos/internal/i18n"
)

// The series' fills, in order. They differ in lightness (grey levels about
// 50, 175, 115 and 225), so that they stay apart in greyscale; every bar
// also has a dark outline, so the lightest shows on white.
var fills = []string{"#0b3d5c", "#e8a33d", "#3f8f5f", "#f3e3b5"}

const (
	ink     = "#1b1f24"
	muted   = "#4a5460"
	grid    = "#cfd6de"
	width   = 640.0
	legendH = 30.0
	charW   = 6.2 // the width of a character at font size 11, roughly
)

// SVG draws the panel as an inline SVG element, for the reader of l.
func (p *Panel) SVG(l *i18n.Localizer) template.HTML {
	var b strings.Builder
	var h float64
	switch p.Kind {
	case Bars:
		h = p.bars(&b, l)
	case Lines:
		h = p.lines(&b, l)
	default:
		h = p.columns(&b, l)
	}
	body := b.String()
	b.Reset()
	id := esc(p.ID)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="%s-chart" viewBox="0 0 %g %g" role="img" aria-labelledby="%s-title %s-desc" font-family="system-ui, sans-serif" font-size="11">`,
		id, width, h, id, id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(p.Title), id, esc(p.summary(l)))
	b.WriteString(body)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// summary is the SVG's description: what the figure is, and its largest
// value, or that it has none.
func (p *Panel) summary(l *i18n.Localizer) string {
	s := strings.TrimSpace(p.Desc)
	if s != "" && !strings.HasSuffix(s, ".") {
		s += "."
	}
	if p.Empty() {
		return strings.TrimSpace(s + " " + l.T("Nothing to show: every figure is zero."))
	}
	best, bs, bc := -1.0, "", ""
	for _, se := range p.Series {
		for i, v := range se.Values {
			if v > best {
				best, bs, bc = v, se.Name, p.Categories[i]
			}
		}
	}
	return strings.TrimSpace(s + " " + l.T("Largest: %s %s, %s, %s. The table beside the chart gives every figure.", p.Shown(l, best), p.Unit, bs, bc))
}

// scale returns the top of the value axis and the step of its ticks: round
// numbers (1, 2, 2.5 or 5 times a power of ten, five or so of them) with the largest value under the
// top; whole steps when the panel shows whole numbers.
func (p *Panel) scale() (top, step float64) {
	m := p.max()
	if m == 0 {
		return 1, 1
	}
	raw := m / 5
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step = 10 * pow
	unit := math.Pow(10, -float64(p.Decimals)) // the smallest step the labels can write
	for _, f := range []float64{1, 2, 2.5, 5} {
		if s := f * pow; raw <= s && s >= unit && math.Abs(s/unit-math.Round(s/unit)) < 1e-9 {
			step = s
			break
		}
	}
	step = max(step, unit)
	return step * math.Ceil(m/step), step
}

// legend draws a swatch and the name of each series along the top.
func (p *Panel) legend(b *strings.Builder) {
	x := 8.0
	for i, s := range p.Series {
		fmt.Fprintf(b, `<rect x="%g" y="8" width="12" height="12" fill="%s" stroke="%s"/><text x="%g" y="18" fill="%s">%s</text>`,
			x, fills[i%len(fills)], ink, x+16, ink, esc(s.Name))
		x += 16 + charW*float64(utf8.RuneCountInString(s.Name)) + 18
	}
}

// bar draws one bar with its tooltip: category, series, value and unit.
func (p *Panel) bar(b *strings.Builder, l *i18n.Localizer, si int, cat string, v, x, y, w, h float64) {
	fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s" stroke="%s" stroke-width="0.6"><title>%s, %s: %s %s</title></rect>`,
		x, y, w, h, fills[si%len(fills)], ink, esc(cat), esc(p.Series[si].Name), p.Shown(l, v), esc(p.Unit))
}

// noData writes, in the middle of the plot, that there is nothing to show.
func noData(b *strings.Builder, l *i18n.Localizer, x, y float64) {
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" fill="%s">%s</text>`, x, y, muted, esc(l.T("No figures to show: every value is zero.")))
}

// columns draws vertical bars, categories along the bottom; it returns the
// height drawn.
func (p *Panel) columns(b *strings.Builder, l *i18n.Localizer) float64 {
	const left, right, plotH = 58.0, 12.0, 200.0
	ax := p.vertical(b, l, left, right, plotH, p.legend)
	top, groupW, y := ax.top, ax.step, ax.y
	ns := max(len(p.Series), 1)
	barW := groupW * 0.8 / float64(ns)
	for i, c := range p.Categories {
		gx := left + groupW*float64(i)
		for si, s := range p.Series {
			v := s.Values[i]
			x := gx + groupW*0.1 + barW*float64(si)
			p.bar(b, l, si, c, v, x, y(v), barW, top+plotH-y(v))
			if t := p.Shown(l, v); v > 0 && float64(utf8.RuneCountInString(t))*charW*0.9 <= barW+2 {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="%s">%s</text>`, x+barW/2, y(v)-3, ink, t)
			}
		}
		ax.label(b, c, gx+groupW/2)
	}
	fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, left, width-right, top+plotH, top+plotH, ink)
	return ax.h
}

// axes is the layout of a chart whose categories run along the bottom
// (columns, lines): where the plot starts, the width of a category, the
// height drawn, whether the labels are rotated, and the value's height.
type axes struct {
	top, plotH, step, h float64
	rotate              bool
	y                   func(v float64) float64
}

// vertical lays out a chart with categories along the bottom and draws
// its legend, the value axis with its grid, the axes' names and, when
// every value is zero, that there is nothing to show.
func (p *Panel) vertical(b *strings.Builder, l *i18n.Localizer, left, right, plotH float64, legend func(*strings.Builder)) axes {
	ax := axes{top: legendH + 12, plotH: plotH}
	longest := 0
	for _, c := range p.Categories {
		longest = max(longest, utf8.RuneCountInString(c))
	}
	plotW := width - left - right
	ax.step = plotW / float64(max(len(p.Categories), 1))
	ax.rotate = float64(longest)*charW > ax.step-4
	bottom := 40.0
	if ax.rotate {
		bottom = 38 + float64(min(longest, 24))*charW*0.71
	}
	ax.h = ax.top + plotH + bottom
	legend(b)
	yMax, step := p.scale()
	top := ax.top
	ax.y = func(v float64) float64 { return top + plotH - v/yMax*plotH }
	for v := 0.0; v <= yMax+step/2; v += step {
		fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%.1f" y2="%.1f" stroke="%s"/><text x="%g" y="%.1f" text-anchor="end" fill="%s">%s</text>`,
			left, width-right, ax.y(v), ax.y(v), grid, left-4, ax.y(v)+4, muted, p.Shown(l, v))
	}
	fmt.Fprintf(b, `<text transform="translate(12 %g) rotate(-90)" text-anchor="middle" fill="%s">%s</text>`, top+plotH/2, ink, esc(p.Unit))
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" fill="%s">%s</text>`, left+plotW/2, ax.h-6, ink, esc(p.Category))
	if p.Empty() {
		noData(b, l, left+plotW/2, top+plotH/2)
	}
	return ax
}

// label writes a category's name under the plot, centred on cx.
func (ax axes) label(b *strings.Builder, c string, cx float64) {
	if ax.rotate {
		fmt.Fprintf(b, `<text transform="translate(%.1f %g) rotate(-45)" text-anchor="end" fill="%s">%s</text>`, cx+3, ax.top+ax.plotH+12, ink, esc(short(c, 24)))
	} else {
		fmt.Fprintf(b, `<text x="%.1f" y="%g" text-anchor="middle" fill="%s">%s</text>`, cx, ax.top+ax.plotH+16, ink, esc(c))
	}
}

// bars draws horizontal bars, a row per category; it returns the height
// drawn.
func (p *Panel) bars(b *strings.Builder, l *i18n.Localizer) float64 {
	const left, right, barH = 180.0, 56.0, 14.0
	top := legendH + 8
	n, ns := len(p.Categories), max(len(p.Series), 1)
	rowH := float64(ns)*barH + 10
	plotH := max(float64(n)*rowH, 40)
	h := top + plotH + 44
	plotW := width - left - right
	p.legend(b)
	xMax, step := p.scale()
	x := func(v float64) float64 { return left + v/xMax*plotW }
	for v := 0.0; v <= xMax+step/2; v += step {
		fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%g" y2="%g" stroke="%s"/><text x="%.1f" y="%g" text-anchor="middle" fill="%s">%s</text>`,
			x(v), x(v), top, top+plotH, grid, x(v), top+plotH+14, muted, p.Shown(l, v))
	}
	fmt.Fprintf(b, `<text x="%g" y="%g" text-anchor="middle" fill="%s">%s</text>`, left+plotW/2, h-8, ink, esc(p.Unit))
	if p.Empty() {
		noData(b, l, left+plotW/2, top+plotH/2)
	}
	for i, c := range p.Categories {
		ry := top + float64(i)*rowH + 5
		fmt.Fprintf(b, `<text x="%g" y="%.1f" text-anchor="end" fill="%s">%s<title>%s</title></text>`,
			left-6, ry+float64(ns)*barH/2+4, ink, esc(short(c, 28)), esc(c))
		for si, s := range p.Series {
			v := s.Values[i]
			by := ry + float64(si)*barH
			p.bar(b, l, si, c, v, left, by, x(v)-left, barH-2)
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="10" fill="%s">%s</text>`, x(v)+4, by+barH-4, ink, p.Shown(l, v))
		}
	}
	fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, left, left, top, top+plotH, ink)
	return h
}

// dashes tell lines apart without their colour, in the order of fills.
var dashes = []string{"", "6 3", "2 3", "8 3 2 3"}

// lines draws trend lines, categories along the bottom, a marked point per
// value (a circle, square, diamond or triangle by series) with its tooltip;
// it returns the height drawn. The value axis starts at zero, as the
// columns' does, so that a line's rise is not exaggerated.
func (p *Panel) lines(b *strings.Builder, l *i18n.Localizer) float64 {
	const left, right, plotH = 58.0, 24.0, 200.0
	ax := p.vertical(b, l, left, right, plotH, p.lineLegend)
	n, top, y := len(p.Categories), ax.top, ax.y
	x := func(i int) float64 { return left + ax.step*(float64(i)+0.5) }
	for i, c := range p.Categories {
		ax.label(b, c, x(i))
	}
	for si, s := range p.Series {
		colour := lineColour(si)
		var pts []string
		for i, v := range s.Values {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), y(v)))
		}
		dash := ""
		if d := dashes[si%len(dashes)]; d != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, d)
		}
		fmt.Fprintf(b, `<polyline class="series" points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`, strings.Join(pts, " "), colour, dash)
		for i, v := range s.Values {
			tip := fmt.Sprintf(`<title>%s, %s: %s %s</title>`, esc(p.Categories[i]), esc(s.Name), p.Shown(l, v), esc(p.Unit))
			mark(b, si, x(i), y(v), colour, tip)
			if n <= 12 && len(p.Series) <= 2 && v > 0 {
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10" fill="%s">%s</text>`, x(i), y(v)-7, ink, p.Shown(l, v))
			}
		}
	}
	fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="%g" y2="%g" stroke="%s"/>`, left, width-right, top+plotH, top+plotH, ink)
	return ax.h
}

// lineColour is the colour of series i's line: the fills, less the
// lightest, which a thin line on white would lose.
func lineColour(i int) string {
	cs := []string{fills[0], fills[1], fills[2], muted}
	return cs[i%len(cs)]
}

// mark draws series si's mark of a point, with its tooltip.
func mark(b *strings.Builder, si int, x, y float64, colour, tip string) {
	switch si % 4 {
	case 0:
		fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s" stroke="%s">%s</circle>`, x, y, colour, ink, tip)
	case 1:
		fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="7" height="7" fill="%s" stroke="%s">%s</rect>`, x-3.5, y-3.5, colour, ink, tip)
	case 2:
		fmt.Fprintf(b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s" stroke="%s">%s</polygon>`, x, y-4.5, x+4.5, y, x, y+4.5, x-4.5, y, colour, ink, tip)
	default:
		fmt.Fprintf(b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f" fill="%s" stroke="%s">%s</polygon>`, x, y-4.5, x+4.5, y+3.5, x-4.5, y+3.5, colour, ink, tip)
	}
}

// lineLegend draws each series' line, dash and mark and its name along the
// top.
func (p *Panel) lineLegend(b *strings.Builder) {
	x := 8.0
	for i, s := range p.Series {
		dash := ""
		if d := dashes[i%len(dashes)]; d != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, d)
		}
		fmt.Fprintf(b, `<line x1="%g" x2="%g" y1="14" y2="14" stroke="%s" stroke-width="2"%s/>`, x, x+22, lineColour(i), dash)
		mark(b, i, x+11, 14, lineColour(i), "")
		fmt.Fprintf(b, `<text x="%g" y="18" fill="%s">%s</text>`, x+28, ink, esc(s.Name))
		x += 28 + charW*float64(utf8.RuneCountInString(s.Name)) + 18
	}
}

// short cuts a label to n characters, with an ellipsis.
func short(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
