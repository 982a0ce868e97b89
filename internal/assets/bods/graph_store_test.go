package bods

import (
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
)

// randomStream is a stream of statements over few record ids, so that
// records are replaced, closed and opened again, relationships moved
// between parties, parties left unspecified, loops made, and interest
// lists given alike and apart.
func randomStream(seed uint64) []*Statement {
	rng := mrand.New(mrand.NewPCG(seed, 7))
	nIDs := 3 + rng.IntN(12)
	id := func() string { return fmt.Sprintf("N%d", rng.IntN(nIDs)) }
	var out []*Statement
	for range 5 + rng.IntN(60) {
		st := &Statement{RecordStatus: StatusNew}
		if rng.IntN(10) == 0 {
			st.RecordStatus = StatusClosed
		}
		if rng.IntN(3) == 0 {
			st.RecordType = []string{Entity, Person}[rng.IntN(2)]
			st.RecordID = id()
			st.Name = []string{"", "Alpha", "Beta Corporation Ltd", "G"}[rng.IntN(4)]
			st.Kind = []string{"", "registeredEntity", "knownPerson"}[rng.IntN(3)]
			out = append(out, st)
			continue
		}
		st.RecordType, st.RecordID, st.Subject = Relationship, fmt.Sprintf("R%d", rng.IntN(8)), id()
		if rng.IntN(8) == 0 {
			st.Subject = ""
		}
		if rng.IntN(6) != 0 {
			st.InterestedParty = id()
		}
		for range rng.IntN(3) {
			in := Interest{Type: []string{"shareholding", "votingRights", "otherInfluenceOrControl"}[rng.IntN(3)], BO: rng.IntN(2) == 0,
				Direct: []string{"", "direct", "indirect"}[rng.IntN(3)]}
			switch rng.IntN(4) {
			case 1:
				v := float64(rng.IntN(101))
				in.Share = &Share{Exact: &v}
			case 2:
				a, b := float64(rng.IntN(50)), float64(50+rng.IntN(51))
				in.Share = &Share{Minimum: &a, ExclusiveMaximum: &b}
			case 3:
				in.Share = &Share{}
			}
			st.Interests = append(st.Interests, in)
		}
		out = append(out, st)
	}
	return out
}

// answers is every answer a graph gives about the ids, as JSON.
func answers(g *Graph, ids []string) string {
	var b strings.Builder
	for _, id := range ids {
		n, ok := g.Node(id)
		js, _ := json.Marshal([]any{n, ok, g.UltimateOwners(id), g.Controls(id)})
		b.Write(js)
		b.WriteByte('\n')
	}
	nodes, rels := g.Len()
	fmt.Fprintf(&b, "%d nodes, %d relationships\n", nodes, rels)
	return b.String()
}

// TestGraphHashCollisions: a graph whose tables hash every string alike
// (or alike by length) answers exactly as one whose strings hash apart,
// after every statement of random streams: ids and interest lists of the
// same hash are told apart by their bytes.
func TestGraphHashCollisions(t *testing.T) {
	ids := []string{"missing", "R0", "R7"}
	for i := range 15 {
		ids = append(ids, fmt.Sprintf("N%d", i))
	}
	most := 0
	for seed := range uint64(60) {
		plain, same, byLen := NewGraph(), newGraph(func(string) uint64 { return 42 }), newGraph(func(s string) uint64 { return uint64(len(s)) })
		for i, st := range randomStream(seed) {
			plain.Apply(st)
			same.Apply(st)
			byLen.Apply(st)
			want := answers(plain, ids)
			if got := answers(same, ids); got != want {
				t.Fatalf("seed %d, statement %d: with every hash alike\n%s\nwant\n%s", seed, i, got, want)
			}
			if got := answers(byLen, ids); got != want {
				t.Fatalf("seed %d, statement %d: with hashes alike by length\n%s\nwant\n%s", seed, i, got, want)
			}
		}
		if same.ids.len() != plain.ids.len() || same.lists.len() != plain.lists.len() {
			t.Fatalf("seed %d: %d and %d ids, %d and %d lists", seed, same.ids.len(), plain.ids.len(), same.lists.len(), plain.lists.len())
		}
		most = max(most, plain.lists.len())
	}
	if most < 10 {
		t.Fatalf("the streams gave at most %d distinct interest lists", most)
	}
}

// TestGraphListsApart: interest lists that differ in one field only are
// kept apart, and lists alike are kept once.
func TestGraphListsApart(t *testing.T) {
	g := newGraph(func(string) uint64 { return 1 })
	f := func(v float64) *float64 { return &v }
	lists := [][]Interest{
		nil,
		{{Type: "shareholding"}},
		{{Type: "votingRights"}},
		{{Type: "shareholding", Direct: "direct"}},
		{{Type: "shareholding", BO: true}},
		{{Type: "shareholding", Share: &Share{}}},
		{{Type: "shareholding", Share: &Share{Exact: f(10)}}},
		{{Type: "shareholding", Share: &Share{Minimum: f(10)}}},
		{{Type: "shareholding", Share: &Share{Maximum: f(10)}}},
		{{Type: "shareholding", Share: &Share{ExclusiveMinimum: f(10)}}},
		{{Type: "shareholding", Share: &Share{ExclusiveMaximum: f(10)}}},
		{{Type: "shareholding", Share: &Share{Exact: f(10.5)}}},
		{{Type: "shareholding"}, {Type: "shareholding"}},
	}
	for i, l := range lists {
		if n := g.list(l); int(n) != i {
			t.Fatalf("list %d %+v numbered %d", i, l, n)
		}
	}
	for i, l := range lists {
		again := append([]Interest(nil), l...)
		if n := g.list(again); int(n) != i {
			t.Fatalf("list %d given again numbered %d", i, n)
		}
	}
}

// TestGraphReplacedManyTimes: a relationship replaced a thousand times,
// moved between subjects and parties, and a person renamed as often, are
// their latest statements, in the slots they had: the graph does not grow
// with each statement of a record.
func TestGraphReplacedManyTimes(t *testing.T) {
	g := NewGraph()
	names := 0
	for i := range 1000 {
		if i == 37 {
			names = len(g.names) // each name longer than the one before: 1 + 2 + ... + 37
		}
		g.Apply(&Statement{RecordID: "P", RecordType: Person, RecordStatus: StatusUpdated, Name: strings.Repeat("n", 1+i%37)})
		v := float64(i % 100)
		g.Apply(&Statement{RecordID: "R", RecordType: Relationship, RecordStatus: StatusUpdated, Subject: fmt.Sprintf("E%d", i%3), InterestedParty: []string{"P", "Q"}[i%2],
			Interests: []Interest{{Type: "shareholding", Share: &Share{Exact: &v}}}})
	}
	if nodes, rels := g.Len(); nodes != 1 || rels != 1 || len(g.edges) != 1 || len(g.names) != names {
		t.Fatalf("%d nodes, %d relationships, %d edges, %d bytes of names", nodes, rels, len(g.edges), len(g.names))
	}
	if n, _ := g.Node("P"); n.Name != strings.Repeat("n", 1+999%37) {
		t.Fatalf("P is named %q", n.Name)
	}
	a := g.UltimateOwners("E0") // the last statement: E0 held 99% by Q
	if len(a.Holdings) != 1 || a.Holdings[0].Node.ID != "Q" || a.Holdings[0].Lo != 99 || len(a.Edges) != 1 {
		t.Fatalf("owners of E0: %+v", a)
	}
	for _, e := range []string{"E1", "E2"} {
		if a := g.UltimateOwners(e); len(a.Holdings) != 0 || len(a.Edges) != 0 || a.Found {
			t.Fatalf("%s still has owners: %+v", e, a)
		}
	}
	if c := g.Controls("P"); len(c.Holdings) != 0 {
		t.Fatalf("P still controls %+v", c.Holdings)
	}
}

// TestGraphRemovalKeepsOrder: relationships closed at the head, in the
// middle and at the tail of a record's lists leave the others in the order
// they were applied, and one applied again comes last; the answer lists
// the unspecified parties by their relationships' record ids, whatever
// that order.
func TestGraphRemovalKeepsOrder(t *testing.T) {
	g := NewGraph()
	rel := func(id, status string) {
		g.Apply(&Statement{RecordID: id, RecordType: Relationship, RecordStatus: status, Subject: "A", InterestedParty: map[string]string{"r2": "P", "r4": "P"}[id]})
	}
	for _, r := range []string{"r1", "r2", "r3", "r4", "r5", "r6"} {
		rel(r, StatusNew)
	}
	rel("r1", StatusClosed)
	rel("r3", StatusClosed)
	rel("r6", StatusClosed)
	rel("r3", StatusNew)
	var order []string
	a, _ := g.Find("A")
	for k := g.slots[a].owners.first; k >= 0; k = g.linkOf(k, true).next {
		order = append(order, g.ids.string(g.edges[k].record))
	}
	if got := strings.Join(order, " "); got != "r2 r4 r5 r3" {
		t.Fatalf("A's owners in the order %s", got)
	}
	if h := g.UltimateOwners("A").Holdings; len(h) != 3 || h[0].Paths[0].Records[2] != "unspecified:r3" || h[1].Paths[0].Records[2] != "unspecified:r5" {
		t.Fatalf("A's owners: %+v", h)
	}
	c := g.Controls("P")
	if len(c.Holdings) != 1 || c.Holdings[0].PathCount != 2 || len(c.Edges) != 2 || c.Edges[0].Record != "r2" || c.Edges[1].Record != "r4" {
		t.Fatalf("P controls %+v", c)
	}
	rel("r2", StatusClosed)
	rel("r4", StatusClosed)
	if c := g.Controls("P"); len(c.Holdings) != 0 || c.Found {
		t.Fatalf("P controls %+v after its relationships closed", c)
	}
	if _, rels := g.Len(); rels != 2 || len(g.free) != 4 {
		t.Fatalf("%d relationships, %d edges free", rels, len(g.free))
	}
}

// TestGraphArenaGrowth: ids and names of every length, many more than the
// arenas first hold, each read back as given after the arenas grew, and
// answers made before the growth unchanged by it.
func TestGraphArenaGrowth(t *testing.T) {
	g := NewGraph()
	id := func(i int) string { return fmt.Sprintf("%s-%d", strings.Repeat("x", i%300), i) }
	g.Apply(&Statement{RecordID: id(0), RecordType: Entity, Name: "first"})
	g.Apply(&Statement{RecordID: "r-first", RecordType: Relationship, Subject: id(0), InterestedParty: id(1)})
	before := g.UltimateOwners(id(0))
	arena := cap(g.ids.arena)
	for i := 1; i < 5000; i++ {
		g.Apply(&Statement{RecordID: id(i), RecordType: []string{Entity, Person}[i%2], Name: strings.Repeat("é", i%50)})
		g.Apply(&Statement{RecordID: "r" + id(i), RecordType: Relationship, Subject: id(i), InterestedParty: id(i + 1)})
	}
	if cap(g.ids.arena) == arena {
		t.Fatal("the arena did not grow")
	}
	for i := 0; i < 5000; i++ {
		n, ok := g.Node(id(i))
		want := strings.Repeat("é", i%50)
		if i == 0 {
			want = "first"
		}
		if !ok || n.ID != id(i) || n.Name != want {
			t.Fatalf("node %d read back as %+v, %v", i, n, ok)
		}
		if r, ok := g.Find(id(i)); !ok || g.ids.string(r) != id(i) {
			t.Fatalf("id %d found as %d", i, r)
		}
	}
	if before.Holdings[0].Node.ID != id(1) || before.Edges[0].Record != "r-first" || before.Root.Name != "first" {
		t.Fatalf("an answer made before the arena grew reads %+v", before)
	}
	if a := g.UltimateOwners(id(0)); !a.Truncated || len(a.Nodes) != MaxDepth+1 {
		t.Fatalf("a chain of 5,000 answered %d nodes, truncated %v", len(a.Nodes), a.Truncated)
	}
}
