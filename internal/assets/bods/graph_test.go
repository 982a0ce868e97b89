package bods

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

func graphOf(t *testing.T, lines ...[]byte) *Graph {
	t.Helper()
	all, err := ReadAll(bytes.NewReader(bytes.Join(lines, []byte("\n"))))
	if err != nil {
		t.Fatal(err)
	}
	g := NewGraph()
	for _, s := range all {
		g.Apply(s)
	}
	return g
}

func holding(t *testing.T, a Answer, id string) Holding {
	t.Helper()
	return holdingIn(t, a.Holdings, id)
}

// holder is the holding of id among an answer's holders (not ultimate).
func holder(t *testing.T, a Answer, id string) Holding {
	t.Helper()
	return holdingIn(t, a.Holders, id)
}

func holdingIn(t *testing.T, hs []Holding, id string) Holding {
	t.Helper()
	for _, h := range hs {
		if h.Node.ID == id {
			return h
		}
	}
	t.Fatalf("%s not among %+v", id, hs)
	return Holding{}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestIndirectShares: P holds 50% of B which holds 60% of A, and all of C
// which holds 40% of A: P ultimately holds 30 + 40 = 70% of A; Q holds the
// other 50% of B, so 30% of A.
func TestIndirectShares(t *testing.T) {
	b := &Builder{Prefix: "t1", Date: "2026-01-01", Publisher: "Demoland register"}
	g := graphOf(t,
		b.Entity("A", "Alpha Ltd", "DL", ""), b.Entity("B", "Beta Ltd", "", ""), b.Entity("C", "Gamma SA", "", ""),
		b.Person("P", "Pat Person", ""), b.Person("Q", "Quinn Person", ""),
		b.Relationship("r1", "A", "B", []float64{60}, ""), b.Relationship("r2", "A", "C", []float64{40}, ""),
		b.Relationship("r3", "B", "P", []float64{50}, ""), b.Relationship("r4", "B", "Q", []float64{50}, ""),
		b.Relationship("r5", "C", "P", []float64{100}, ""),
	)
	a := g.UltimateOwners("A")
	if len(a.Holdings) != 2 || a.Cycles != 0 || a.Truncated {
		t.Fatalf("owners of A: %+v", a)
	}
	p := holding(t, a, "P")
	if !near(p.Lo, 70) || !near(p.Hi, 70) || !p.Known || p.PathCount != 2 || p.Direct {
		t.Fatalf("P holds %+v, want 70%% through two indirect paths", p)
	}
	q := holding(t, a, "Q")
	if !near(q.Lo, 30) || q.PathCount != 1 {
		t.Fatalf("Q holds %+v, want 30%%", q)
	}
	if len(p.Paths[0].Records) != 5 { // A r1 B r3 P
		t.Fatalf("path %v", p.Paths[0].Records)
	}
	c := g.Controls("P")
	if len(c.Holdings) != 3 {
		t.Fatalf("P controls %+v, want A, B, C", c.Holdings)
	}
	if h := holding(t, c, "A"); !near(h.Lo, 70) {
		t.Fatalf("P holds %v%% of A seen from P", h.Lo)
	}
	if h := holding(t, c, "B"); !near(h.Lo, 50) || !h.Direct {
		t.Fatalf("P holds %+v of B", h)
	}
}

// TestRangesMultiply: a range [25, 50] of a range [50, 100] is [12.5, 50];
// a relationship without a share leaves the owner with control, its
// share unknown.
func TestRangesMultiply(t *testing.T) {
	b := &Builder{Prefix: "t2", Date: "2026-01-01", Publisher: "p"}
	g := graphOf(t,
		b.Entity("A", "A", "", ""), b.Entity("B", "B", "", ""), b.Person("P", "P", ""), b.Person("N", "N", ""),
		b.Relationship("r1", "A", "B", []float64{50, 100}, ""), b.Relationship("r2", "B", "P", []float64{25, 50}, ""),
		b.Relationship("r3", "B", "N", nil, ""),
	)
	a := g.UltimateOwners("A")
	p := holding(t, a, "P")
	if !near(p.Lo, 12.5) || !near(p.Hi, 50) || !p.Known {
		t.Fatalf("P holds %+v, want [12.5, 50]", p)
	}
	n := holding(t, a, "N")
	if n.Known || n.AnyShare || len(n.Interests) != 1 || n.Interests[0] != "otherInfluenceOrControl" {
		t.Fatalf("N holds %+v, want control with no share", n)
	}
}

// TestCycles: A is held by B, B by C, and C by B (a loop), C also by P.
// The walk ends, counts the loop, finds P (whose share through the loop
// is the chain's, 35%, flagged as going through it) and names B and C as
// a circle, holders of A but not its ultimate owners; a pure loop has no
// ultimate owner.
func TestCycles(t *testing.T) {
	b := &Builder{Prefix: "t3", Date: "2026-01-01", Publisher: "p"}
	g := graphOf(t,
		b.Entity("A", "A", "", ""), b.Entity("B", "B", "", ""), b.Entity("C", "C", "", ""), b.Person("P", "P", ""),
		b.Relationship("r1", "A", "B", []float64{100}, ""), b.Relationship("r2", "B", "C", []float64{50}, ""),
		b.Relationship("r3", "C", "B", []float64{30}, ""), b.Relationship("r4", "C", "P", []float64{70}, ""),
	)
	a := g.UltimateOwners("A")
	if a.Cycles == 0 || len(a.CycleGroups) != 1 || strings.Join(a.CycleGroups[0], " ") != "B C" {
		t.Fatalf("the loop B-C-B: %d cut, groups %v", a.Cycles, a.CycleGroups)
	}
	p := holding(t, a, "P")
	if !near(p.Lo, 35) || !p.Ultimate || p.InCycle || !p.ThroughCycle || len(a.Holdings) != 1 {
		t.Fatalf("P holds %+v, want 100 × 50 × 70 = 35%% through the loop", p)
	}
	bh, ch := holder(t, a, "B"), holder(t, a, "C")
	if !bh.Direct || !near(bh.DirectLo, 100) || !bh.InCycle || bh.Ultimate || ch.Direct || !near(ch.Lo, 50) || !ch.InCycle {
		t.Fatalf("B and C hold %+v and %+v", bh, ch)
	}
	if c := g.Controls("P"); len(c.Holdings) != 3 || c.Cycles == 0 {
		t.Fatalf("P controls %+v", c)
	}
	// A pure loop: X held by Y, Y by X. Y holds X directly, X holds itself
	// through Y; neither is an ultimate owner.
	g2 := graphOf(t, b.Entity("X", "X", "", ""), b.Entity("Y", "Y", "", ""),
		b.Relationship("x1", "X", "Y", []float64{100}, ""), b.Relationship("x2", "Y", "X", []float64{100}, ""))
	a2 := g2.UltimateOwners("X")
	if a2.Cycles != 1 || len(a2.Holdings) != 0 || len(a2.Holders) != 2 || !holder(t, a2, "Y").Direct || !holder(t, a2, "X").InCycle {
		t.Fatalf("a pure loop answers %+v", a2)
	}
	// A long loop does not run away: a ring of 200 entities.
	var lines [][]byte
	for i := 0; i < 200; i++ {
		lines = append(lines, b.Relationship("r"+itoa(i), "e"+itoa(i), "e"+itoa((i+1)%200), []float64{90}, ""))
	}
	a3 := graphOf(t, lines...).UltimateOwners("e000")
	if !a3.Truncated {
		t.Fatalf("a ring deeper than MaxDepth answered %d holdings without saying it was cut", len(a3.Holdings))
	}
}

// circular is the outside tester's case: A, B and C hold one another in
// a circle, and A holds 10% of itself (R3); no one outside is declared.
func circular(b *Builder) [][]byte {
	return [][]byte{b.Entity("CY-A", "A", "", ""), b.Entity("CY-B", "B", "", ""), b.Entity("CY-C", "C", "", ""),
		b.Relationship("R1", "CY-A", "CY-B", []float64{60}, ""), b.Relationship("R2", "CY-B", "CY-A", []float64{60}, ""),
		b.Relationship("R3", "CY-A", "CY-A", []float64{10}, ""), b.Relationship("R4", "CY-B", "CY-C", []float64{40}, ""),
		b.Relationship("R5", "CY-C", "CY-A", []float64{40}, "")}
}

// TestCircularHoldings: in a circle of holdings every direct holder is
// listed with its direct share, every party of the circle is a holder
// flagged in_cycle and none is an ultimate owner, the circle is named,
// and the answers are the same whatever the order of the statements.
func TestCircularHoldings(t *testing.T) {
	b := &Builder{Prefix: "circular", Date: "2026-01-01", Publisher: "p"}
	all, err := ReadAll(bytes.NewReader(bytes.Join(circular(b), []byte("\n"))))
	if err != nil {
		t.Fatal(err)
	}
	answers := func(stmts []*Statement) string {
		g := NewGraph()
		for _, s := range stmts {
			g.Apply(s)
		}
		var out []byte
		for _, id := range []string{"CY-A", "CY-B", "CY-C"} {
			for _, a := range []Answer{g.UltimateOwners(id), g.Controls(id)} {
				j, err := json.Marshal(a)
				if err != nil {
					t.Fatal(err)
				}
				out = append(append(out, j...), '\n')
			}
		}
		return string(out)
	}
	g := graphOf(t, circular(b)...)
	a := g.UltimateOwners("CY-A")
	if len(a.Holdings) != 0 || len(a.Holders) != 3 || len(a.CycleGroups) != 1 || strings.Join(a.CycleGroups[0], " ") != "CY-A CY-B CY-C" {
		t.Fatalf("owners of A: %+v", a)
	}
	for _, want := range []struct {
		id                     string
		direct                 bool
		directShare, lo, paths float64
	}{
		{"CY-B", true, 60, 60, 1},            // A←B
		{"CY-A", true, 10, 10 + 36 + 9.6, 3}, // A←A, A←B←A, A←B←C←A
		{"CY-C", false, 0, 24, 1},            // A←B←C
	} {
		h := holder(t, a, want.id)
		if h.Direct != want.direct || !near(h.DirectLo, want.directShare) || !near(h.DirectHi, want.directShare) || !near(h.Lo, want.lo) ||
			h.PathCount != int(want.paths) || !h.InCycle || !h.ThroughCycle || h.Ultimate {
			t.Fatalf("%s holds %+v of A, want direct %v (%v%%), %v%% through %v chains, in the circle", want.id, h, want.direct, want.directShare, want.lo, want.paths)
		}
	}
	c := g.UltimateOwners("CY-C")
	if h := holder(t, c, "CY-A"); !h.Direct || !near(h.DirectLo, 40) || !h.InCycle || len(c.Holdings) != 0 {
		t.Fatalf("owners of C: %+v", c)
	}
	if h := holder(t, c, "CY-B"); h.Direct || !near(h.Lo, 24) {
		t.Fatalf("B holds %+v of C", h)
	}
	// Every order of the five relationships, the entities before them or
	// after, gives the same answers, byte for byte.
	want := answers(all)
	ents, rels := all[:3], slices.Clone(all[3:])
	n := 0
	var permute func(k int)
	permute = func(k int) {
		if k == len(rels) {
			for _, order := range [][]*Statement{slices.Concat(ents, rels), slices.Concat(rels, ents)} {
				n++
				if got := answers(order); got != want {
					t.Fatalf("order %d answers\n%s\nwant\n%s", n, got, want)
				}
			}
			return
		}
		for i := k; i < len(rels); i++ {
			rels[k], rels[i] = rels[i], rels[k]
			permute(k + 1)
			rels[k], rels[i] = rels[i], rels[k]
		}
	}
	permute(0)
	if n != 240 {
		t.Fatalf("%d orders tried", n)
	}
}

// TestSelfHolding: an entity that holds 10% of itself (treasury shares)
// lists itself as a direct holder of 10%, in a circle of its own, and its
// other owner, a person, as its ultimate owner with 90%.
func TestSelfHolding(t *testing.T) {
	b := &Builder{Prefix: "self", Date: "2026-01-01", Publisher: "p"}
	g := graphOf(t, b.Entity("S", "S", "", ""), b.Person("P", "P", ""),
		b.Relationship("s1", "S", "S", []float64{10}, ""), b.Relationship("s2", "S", "P", []float64{90}, ""))
	a := g.UltimateOwners("S")
	s := holder(t, a, "S")
	if !s.Direct || !near(s.DirectLo, 10) || !near(s.Lo, 10) || !s.InCycle || s.Ultimate || a.Cycles != 1 ||
		len(a.CycleGroups) != 1 || strings.Join(a.CycleGroups[0], " ") != "S" {
		t.Fatalf("S's own holding: %+v in %+v", s, a)
	}
	if p := holding(t, a, "P"); !p.Ultimate || !p.Direct || !near(p.Lo, 90) || p.InCycle || !p.ThroughCycle {
		t.Fatalf("P holds %+v", p)
	}
	if c := g.Controls("S"); len(c.Holdings) != 1 || c.Holdings[0].Node.ID != "S" || !c.Holdings[0].InCycle {
		t.Fatalf("S controls %+v", c)
	}
}

func itoa(i int) string {
	return string([]byte{byte('0' + i/100), byte('0' + i/10%10), byte('0' + i%10)})
}

// TestHistory: a later statement of a record replaces the earlier one, and
// a closed relationship leaves the graph.
func TestHistory(t *testing.T) {
	b := &Builder{Prefix: "t4", Date: "2026-01-01", Publisher: "p"}
	g := graphOf(t,
		b.Entity("A", "A", "", ""), b.Person("P", "P", ""), b.Person("Q", "Q", ""),
		b.Relationship("r1", "A", "P", []float64{100}, ""),
		b.Relationship("r1", "A", "P", []float64{40}, StatusUpdated),
		b.Relationship("r2", "A", "Q", []float64{60}, ""),
		b.Relationship("r2", "A", "Q", []float64{60}, StatusClosed),
		b.Entity("A", "A renamed", "", StatusUpdated),
	)
	a := g.UltimateOwners("A")
	if len(a.Holdings) != 1 || !near(a.Holdings[0].Lo, 40) || a.Root.Name != "A renamed" {
		t.Fatalf("after updates: %+v", a)
	}
	if _, rels := g.Len(); rels != 1 {
		t.Fatalf("%d relationships, want 1", rels)
	}
}

// TestSVG draws the indirect-shares graph: every party and share is there,
// and names are escaped.
func TestSVG(t *testing.T) {
	b := &Builder{Prefix: "t5", Date: "2026-01-01", Publisher: "p"}
	g := graphOf(t,
		b.Entity("A", "Alpha <Ltd>", "", ""), b.Entity("B", "Beta", "", ""), b.Person("P", "Pat", ""),
		b.Relationship("r1", "A", "B", []float64{60}, ""), b.Relationship("r2", "B", "P", []float64{25, 50}, ""),
		b.Relationship("r3", "B", "A", []float64{5}, ""),
	)
	svg := SVG(g.UltimateOwners("A"), true, nil)
	for _, want := range []string{"Alpha &lt;Ltd&gt;", "Beta", "Pat", ">60%<", ">25–50%<", ">5%<"} {
		if !strings.Contains(svg, want) {
			t.Fatalf("the drawing lacks %q: %s", want, svg)
		}
	}
	if strings.Contains(svg, "<script") || strings.Contains(svg, "style=") {
		t.Fatal("the drawing has a script or a style attribute")
	}
	if c := SVG(g.Controls("P"), false, nil); !strings.Contains(c, "Alpha") {
		t.Fatalf("P's drawing lacks A: %s", c)
	}
}

// TestCutAnswersOrderFree: where an answer keeps only some of a party's
// paths (keepPath) or a walk is cut (MaxPaths), which are kept does not
// depend on the order of the statements. P holds A through 30 entities
// (more paths than an answer keeps); Q reaches B through 12,100 chains of
// two (more than a walk follows).
func TestCutAnswersOrderFree(t *testing.T) {
	b := &Builder{Prefix: "cut", Date: "2026-01-01", Publisher: "p"}
	var stmts [][]byte
	stmts = append(stmts, b.Entity("A", "A", "", ""), b.Entity("B", "B", "", ""), b.Person("P", "Pat", ""), b.Person("Q", "Quinn", ""))
	for i := range 30 {
		m := "M" + itoa(i)
		stmts = append(stmts, b.Entity(m, m, "", ""), b.Relationship("ra"+itoa(i), "A", m, []float64{1}, ""), b.Relationship("rp"+itoa(i), m, "P", []float64{50}, ""))
	}
	for i := range 110 {
		n := "N" + itoa(i)
		stmts = append(stmts, b.Entity(n, n, "", ""), b.Relationship("rb"+itoa(i), "B", n, []float64{0.5}, ""))
		for j := range 110 {
			o := "O" + itoa(j)
			if i == 0 {
				stmts = append(stmts, b.Entity(o, o, "", ""), b.Relationship("ro"+itoa(j), o, "Q", []float64{1}, ""))
			}
			stmts = append(stmts, b.Relationship("rn"+itoa(i)+"-"+itoa(j), n, o, []float64{0.5}, ""))
		}
	}
	all, err := ReadAll(bytes.NewReader(bytes.Join(stmts, []byte("\n"))))
	if err != nil {
		t.Fatal(err)
	}
	answers := func(order []*Statement) (string, Answer, Answer) {
		g := NewGraph()
		for _, s := range order {
			g.Apply(s)
		}
		a, c := g.UltimateOwners("A"), g.UltimateOwners("B")
		ja, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		jc, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		return string(ja) + "\n" + string(jc), a, c
	}
	want, a, c := answers(all)
	if p := holding(t, a, "P"); p.PathCount != 30 || len(p.Paths) != keepPath {
		t.Fatalf("P: %d paths, %d kept", p.PathCount, len(p.Paths))
	}
	if !c.Truncated {
		t.Fatal("the walk from B was not cut")
	}
	reversed := slices.Clone(all)
	slices.Reverse(reversed)
	shuffled := slices.Clone(all)
	for i := range shuffled { // a fixed shuffle: every 7th first
		j := (i * 7919) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	for name, order := range map[string][]*Statement{"reversed": reversed, "shuffled": shuffled} {
		if got, _, _ := answers(order); got != want {
			t.Fatalf("%s, the answers differ from those in the file's order", name)
		}
	}
}

// unspecifiedParty is the relationship stmt with its interested party
// given as BODS's unspecified record (no record id).
func unspecifiedParty(t *testing.T, stmt []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(stmt, &m); err != nil {
		t.Fatal(err)
	}
	m["recordDetails"].(map[string]any)["interestedParty"] = map[string]any{"reason": "informationUnknownToPublisher"}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSVGUnnamedParties: a party no statement names reads Unnamed in the
// drawing, never "?" nor an empty box: the unspecified party of a
// relationship, labelled as the empty node its holding has, and a record
// no statement declares. A party of the drawing the answer's nodes lack is
// labelled as a node of its record id, as the caller's label can tell it
// (a sealed or erased person, by id), not as an empty node.
func TestSVGUnnamedParties(t *testing.T) {
	b := &Builder{Prefix: "t-unnamed", Date: "2026-01-01", Publisher: "p"}
	g := graphOf(t,
		b.Entity("A", "Alpha", "", ""), b.Person("P", "Pat", ""),
		unspecifiedParty(t, b.Relationship("r1", "A", "x", []float64{30}, "")),
		b.Relationship("r2", "A", "GHOST", []float64{20}, ""), b.Relationship("r3", "A", "P", []float64{50}, ""),
	)
	a := g.UltimateOwners("A")
	svg := SVG(a, true, nil)
	if n := strings.Count(svg, ">"+Unnamed+"<"); n != 2 {
		t.Errorf("the drawing labels %d parties %q, want 2 (the unspecified party and GHOST): %s", n, Unnamed, svg)
	}
	if strings.Contains(svg, ">?<") || strings.Contains(svg, `text-anchor="middle"></text>`) {
		t.Errorf("the drawing writes a party as ? or an empty label: %s", svg)
	}
	if !strings.Contains(svg, ">GHOST<") || !strings.Contains(svg, ">Pat<") {
		t.Errorf("the drawing lacks GHOST's id or Pat's name: %s", svg)
	}

	// P missing from the answer's nodes: its label is asked of P's id.
	var nodes []Node
	for _, n := range a.Nodes {
		if n.ID != "P" {
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == len(a.Nodes) {
		t.Fatalf("P is not among the answer's nodes %+v", a.Nodes)
	}
	a.Nodes = nodes
	var asked []Node
	svg = SVG(a, true, func(n Node) string {
		asked = append(asked, n)
		if n.ID == "P" {
			return "(name sealed)"
		}
		return Label(n)
	})
	if !slices.Contains(asked, Node{ID: "P"}) || !slices.Contains(asked, Node{}) || !slices.Contains(asked, Node{ID: "GHOST"}) {
		t.Errorf("the label was asked of %+v, want P's and GHOST's ids alone and the unspecified party's empty node among them", asked)
	}
	if !strings.Contains(svg, ">(name sealed)<") || strings.Contains(svg, ">Pat<") {
		t.Errorf("P, missing from the nodes, is not labelled as its id tells: %s", svg)
	}
	if n := strings.Count(svg, ">"+Unnamed+"<"); n != 2 {
		t.Errorf("with P missing from the nodes the drawing labels %d parties %q, want 2: %s", n, Unnamed, svg)
	}
}
