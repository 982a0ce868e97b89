package bods

import (
	"fmt"
	"html"
	"sort"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/i18n"
)

// Unnamed is what is written for a party no statement names: the
// unspecified party of a relationship (the statement gives an unspecified
// record, no record id), a record no person or entity statement declares,
// a party whose statement gives no name. The ownership page (its table,
// heading and drawing) and the command line write this one wording
// (assets.OwnershipAnswer.NameLabel, translated on the pages), never a
// blank nor a sign of their own.
var Unnamed = i18n.M("Unspecified")

// Label is a party's label where the caller has no words of its own: its
// name, or Unnamed.
func Label(n Node) string {
	if n.Name == "" {
		return Unnamed
	}
	return n.Name
}

// ShareText writes a share range as people read it: "30%", "25–50%", or ""
// where none is known.
func ShareText(lo, hi float64, known bool) string {
	if !known {
		return ""
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	round := func(x float64) float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 2, 64), 64)
		return v
	}
	lo, hi = round(lo), round(hi)
	if lo == hi {
		return f(lo) + "%"
	}
	return f(lo) + "–" + f(hi) + "%"
}

// SVG draws the part of the graph an answer crossed: the root in the
// first row, then each party in the row of its shortest distance from it;
// persons are rounded, entities square, unspecified parties dashed; each
// relationship an arrow from the interested party to the subject, with its
// share. label gives the text written for a party (nil: Label): the
// caller's words for a name it does not show. An unspecified party is
// labelled as the empty node its holding has (Node{}); a party of the
// drawing that a.Nodes lacks as a node of its record id alone, with no
// type nor name (what Graph.Node gives for a record no statement
// declares), so that label says what each is. It uses no script and no
// style attribute (the pages' policy).
func SVG(a Answer, up bool, label func(Node) string) string {
	if label == nil {
		label = Label
	}
	const w, h, gapX, gapY, pad = 170, 46, 30, 56, 10
	layer := map[string]int{a.Root.ID: 0}
	queue := []string{a.Root.ID}
	adj := map[string][]Edge{}
	for _, e := range a.Edges {
		from, to := e.Subject, e.Party
		if !up {
			from, to = e.Party, e.Subject
		}
		if to == "" {
			to = "unspecified:" + e.Record
		}
		adj[from] = append(adj[from], Edge{Record: e.Record, Subject: e.Subject, Party: to, Lo: e.Lo, Hi: e.Hi, HasShare: e.HasShare})
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, e := range adj[n] {
			next := e.Party
			if !up {
				next = e.Subject
			}
			if up && strings.HasPrefix(e.Party, "unspecified:") {
				next = e.Party
			}
			if _, ok := layer[next]; !ok {
				layer[next] = layer[n] + 1
				queue = append(queue, next)
			}
		}
	}
	rows := map[int][]string{}
	maxRow, maxLen := 0, 1
	for id, l := range layer {
		rows[l] = append(rows[l], id)
		maxRow = max(maxRow, l)
	}
	for l := range rows {
		sort.Strings(rows[l])
		maxLen = max(maxLen, len(rows[l]))
	}
	width := pad*2 + maxLen*w + (maxLen-1)*gapX
	height := pad*2 + (maxRow+1)*h + maxRow*gapY
	pos := map[string][2]int{}
	for l, ids := range rows {
		rowW := len(ids)*w + (len(ids)-1)*gapX
		x0 := (width - rowW) / 2
		for i, id := range ids {
			pos[id] = [2]int{x0 + i*(w+gapX), pad + l*(h+gapY)}
		}
	}
	nodes := map[string]Node{}
	for _, n := range a.Nodes {
		nodes[n.ID] = n
	}
	nodes[a.Root.ID] = a.Root
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="ownership-graph" viewBox="0 0 %d %d" width="%d" height="%d" role="img" direction="ltr">`, width, height, width, height)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>`)
	var froms []string
	for f := range adj {
		froms = append(froms, f)
	}
	sort.Strings(froms)
	for _, from := range froms {
		for _, e := range adj[from] {
			to := e.Party
			if !up {
				to = e.Subject
			}
			if up && strings.HasPrefix(e.Party, "unspecified:") {
				to = e.Party
			}
			pf, ok1 := pos[from]
			pt, ok2 := pos[to]
			if !ok1 || !ok2 {
				continue
			}
			// The arrow goes from the interested party to the subject.
			party, subject := pt, pf
			if !up {
				party, subject = pf, pt
			}
			x1, y1 := party[0]+w/2, party[1]
			x2, y2 := subject[0]+w/2, subject[1]+h
			if party[1] < subject[1] {
				y1, y2 = party[1]+h, subject[1]
			}
			if party[1] == subject[1] { // a loop within one row
				y1, y2 = party[1]+h/2, subject[1]+h/2
				x1 = party[0]
				if subject[0] > party[0] {
					x1 = party[0] + w
					x2 = subject[0]
				} else {
					x2 = subject[0] + w
				}
			}
			fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#444" stroke-width="1.5" marker-end="url(#arrow)"/>`, x1, y1, x2, y2)
			if t := ShareText(e.Lo, e.Hi, e.HasShare); t != "" {
				fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#000" text-anchor="middle">%s</text>`, (x1+x2)/2+4, (y1+y2)/2, html.EscapeString(t))
			}
		}
	}
	ids := make([]string, 0, len(pos))
	for id := range pos {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := pos[id]
		n, ok := nodes[id]
		if !ok {
			n = Node{ID: id}
		}
		fill, rx, dash := "#e8eef7", 2, ""
		switch {
		case strings.HasPrefix(id, "unspecified:"):
			n = Node{}
			fill, dash = "#f4f4f4", ` stroke-dasharray="4 3"`
		case n.Type == Person:
			fill, rx = "#fdf0d8", 20
		}
		if id == a.Root.ID {
			fill = "#d6ecd9"
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" rx="%d" fill="%s" stroke="#333"%s/>`, p[0], p[1], w, h, rx, fill, dash)
		label := label(n)
		if len([]rune(label)) > 24 {
			label = string([]rune(label)[:23]) + "…"
		}
		shown := id
		if strings.HasPrefix(id, "unspecified:") {
			shown = ""
		}
		if len(shown) > 26 {
			shown = shown[:25] + "…"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" fill="#000" text-anchor="middle">%s</text>`, p[0]+w/2, p[1]+19, html.EscapeString(label))
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="10" fill="#444" text-anchor="middle" font-family="monospace">%s</text>`, p[0]+w/2, p[1]+36, html.EscapeString(shown))
	}
	b.WriteString(`</svg>`)
	return b.String()
}
