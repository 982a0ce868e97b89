package bods

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"sort"
	"strings"
)

// Node is a person or an entity of the graph, by its recordId.
type Node struct {
	ID   string `json:"record_id"`
	Type string `json:"record_type"` // entity or person; "" for a record no statement declares
	Name string `json:"name,omitempty"`
	Kind string `json:"kind,omitempty"`
}

// Edge is a relationship as its latest statement declares it: the
// interested party holds interests in the subject. Share is the interest
// that counts for ownership (shareholding's share where given, else the
// first interest with a share); HasShare says whether there is one.
type Edge struct {
	Record    string     `json:"record_id"`
	Subject   string     `json:"subject"`
	Party     string     `json:"interested_party"` // "" when unspecified
	Interests []Interest `json:"interests,omitempty"`
	Lo        float64    `json:"share_min"`
	Hi        float64    `json:"share_max"`
	HasShare  bool       `json:"has_share"`
}

// Graph is the current state of the records: for each recordId the latest
// statement applied, a closed record removed. It is not safe for
// concurrent writes; readers share a graph no one applies to any more.
//
// Its bulk holds no pointer, so that the collector, which marks a live
// heap's pointers at every collection, pays next to nothing for a graph of
// millions of statements: the record ids are numbered (ids, an arena of
// bytes), the persons, entities and relationships are structs of numbers
// in slices indexed by those numbers, each id's relationships are lists
// linked through the edges' numbers, and the names are in one arena.
// Only the few distinct words (record types, kinds, interest types) and
// interest lists are kept as strings and slices. The exported Node and
// Edge values are made for what an answer returns.
type Graph struct {
	ids   intern  // every record id seen: persons, entities, relationships, their subjects and parties
	slots []slot  // by id number
	edges []edge  // relationships, by edge number; those in free are unused
	free  []int32 // edges of relationships removed, to be used again
	names []byte  // the persons' and entities' names (slot.name)
	nodes int     // persons and entities in the graph
	rels  int     // relationships in the graph
	// words are the values that many records repeat (record types, kinds,
	// interest types), numbered from 1 (0 is "").
	words  []string
	wordOf map[string]uint32
	// lists are the distinct interest lists, numbered by their encoding
	// (listKey) in lists; interests holds each as relationships give it.
	lists     intern
	interests [][]Interest
	key       []byte // listKey's buffer
}

// slot is what the graph holds of one record id.
type slot struct {
	name             int    // where the name of the person or entity of this id begins in names
	nameLen, nameCap int32  // its length, and the room it has there
	typ, kind        uint32 // words; typ 0: no person or entity of this id is in the graph
	rel              int32  // the edge of the relationship of this id, -1 for none
	owners           ends   // the edges whose subject this id is: others hold interests in it
	owned            ends   // the edges whose interested party this id is
}

// ends are the first and last edges of a list linked through the edges'
// links, -1 for none, in the order the relationships were applied.
type ends struct{ first, last int32 }

// edge is a relationship of the graph.
type edge struct {
	record, subject, party int32 // ids; party -1 when unspecified
	list                   int32 // its interests (Graph.interests)
	lo, hi                 float64
	hasShare               bool
	owners, owned          link // its neighbours in its subject's owners and its party's owned
}

type link struct{ prev, next int32 }

var noEnds = ends{-1, -1}

// NewGraph returns an empty graph.
func NewGraph() *Graph { return newGraph(seededHash()) }

// newGraph is an empty graph whose tables hash strings with hash.
func newGraph(hash func(string) uint64) *Graph {
	return &Graph{ids: newIntern(hash), lists: newIntern(hash), words: []string{""}, wordOf: map[string]uint32{"": 0}}
}

// Len is the number of persons, entities and relationships in the graph.
func (g *Graph) Len() (nodes, relationships int) { return g.nodes, g.rels }

// Ref is the number the graph gives the record id, giving it one when it
// has none: a record's number stays the same for as long as the graph
// lives, whether or not the record is in the graph, so that a reader can
// key what it keeps of a record by it instead of by a string of its own.
func (g *Graph) Ref(id string) int32 {
	i, new := g.ids.add(id)
	if new {
		g.slots = append(g.slots, slot{rel: -1, owners: noEnds, owned: noEnds})
	}
	return i
}

// Find is the number Ref gave the record id, if it gave one.
func (g *Graph) Find(id string) (int32, bool) { return g.ids.find(id) }

// Node returns a record of the graph.
func (g *Graph) Node(id string) (Node, bool) {
	i, ok := g.ids.find(id)
	if !ok {
		return Node{ID: id}, false
	}
	return g.node(i, id)
}

// node is the node of the id numbered i, whose string id is.
func (g *Graph) node(i int32, id string) (Node, bool) {
	sl := &g.slots[i]
	if sl.typ == 0 {
		return Node{ID: id}, false
	}
	return Node{ID: id, Type: g.words[sl.typ], Kind: g.words[sl.kind], Name: string(g.names[sl.name : sl.name+int(sl.nameLen)])}, true
}

func (g *Graph) word(s string) uint32 {
	w, ok := g.wordOf[s]
	if !ok {
		w = uint32(len(g.words))
		g.words = append(g.words, s)
		g.wordOf[s] = w
	}
	return w
}

// Apply applies a statement in stream order: it replaces what earlier
// statements of its record said, and a closed record leaves the graph.
func (g *Graph) Apply(s *Statement) {
	switch s.RecordType {
	case Entity, Person:
		if s.RecordStatus == StatusClosed {
			if i, ok := g.ids.find(s.RecordID); ok && g.slots[i].typ != 0 {
				g.slots[i].typ = 0
				g.nodes--
			}
			return
		}
		typ, kind := g.word(s.RecordType), g.word(s.Kind)
		sl := &g.slots[g.Ref(s.RecordID)]
		if sl.typ == 0 {
			g.nodes++
		}
		sl.typ, sl.kind = typ, kind
		g.setName(sl, s.Name)
	case Relationship:
		if i, ok := g.ids.find(s.RecordID); ok && g.slots[i].rel >= 0 {
			g.remove(g.slots[i].rel)
			g.slots[i].rel = -1
			g.rels--
		}
		if s.RecordStatus == StatusClosed || s.Subject == "" {
			return
		}
		e := edge{record: g.Ref(s.RecordID), subject: g.Ref(s.Subject), party: -1, list: g.list(s.Interests), owners: link{-1, -1}, owned: link{-1, -1}}
		if s.InterestedParty != "" {
			e.party = g.Ref(s.InterestedParty)
		}
		e.lo, e.hi, e.hasShare = shareOf(s.Interests)
		var k int32
		if n := len(g.free); n > 0 {
			k, g.free = g.free[n-1], g.free[:n-1]
			g.edges[k] = e
		} else {
			k = int32(len(g.edges))
			g.edges = append(g.edges, e)
		}
		g.push(&g.slots[e.subject].owners, k, true)
		if e.party >= 0 {
			g.push(&g.slots[e.party].owned, k, false)
		}
		g.slots[e.record].rel = k
		g.rels++
	}
}

// setName keeps a node's name, where the name before it was if it fits.
func (g *Graph) setName(sl *slot, name string) {
	if len(name) > int(sl.nameCap) {
		sl.name, sl.nameCap = len(g.names), int32(len(name))
		g.names = append(g.names, name...)
	} else {
		copy(g.names[sl.name:], name)
	}
	sl.nameLen = int32(len(name))
}

// remove takes the edge k out of its lists and frees it.
func (g *Graph) remove(k int32) {
	e := &g.edges[k]
	g.cut(&g.slots[e.subject].owners, k, true)
	if e.party >= 0 {
		g.cut(&g.slots[e.party].owned, k, false)
	}
	g.free = append(g.free, k)
}

// linkOf is the edge k's link in owners lists (up) or owned lists.
func (g *Graph) linkOf(k int32, up bool) *link {
	if up {
		return &g.edges[k].owners
	}
	return &g.edges[k].owned
}

// push appends the edge k to the list l.
func (g *Graph) push(l *ends, k int32, up bool) {
	*g.linkOf(k, up) = link{prev: l.last, next: -1}
	if l.last >= 0 {
		g.linkOf(l.last, up).next = k
	} else {
		l.first = k
	}
	l.last = k
}

// cut takes the edge k out of the list l.
func (g *Graph) cut(l *ends, k int32, up bool) {
	lk := g.linkOf(k, up)
	if lk.prev >= 0 {
		g.linkOf(lk.prev, up).next = lk.next
	} else {
		l.first = lk.next
	}
	if lk.next >= 0 {
		g.linkOf(lk.next, up).prev = lk.prev
	} else {
		l.last = lk.prev
	}
}

// list is the number of the interest list, numbering it when it is new.
// Lists are told apart by every field of each interest (listKey).
func (g *Graph) list(list []Interest) int32 {
	g.key = g.listKey(g.key[:0], list)
	i, new := g.lists.add(string(g.key))
	if new {
		var kept []Interest
		if len(list) > 0 {
			kept = make([]Interest, len(list))
			for j, in := range list {
				kept[j] = in
				kept[j].Type, kept[j].Direct = g.words[g.word(in.Type)], g.words[g.word(in.Direct)]
			}
		}
		g.interests = append(g.interests, kept)
	}
	return i
}

// listKey appends the encoding of an interest list to b: for each
// interest its type and directness (words), whether it is beneficial
// ownership, which bounds of its share it gives and their values.
func (g *Graph) listKey(b []byte, list []Interest) []byte {
	for _, in := range list {
		b = binary.LittleEndian.AppendUint32(b, g.word(in.Type))
		b = binary.LittleEndian.AppendUint32(b, g.word(in.Direct))
		var flags byte
		if in.BO {
			flags = 1
		}
		var vals []*float64
		if in.Share != nil {
			flags |= 2
			vals = []*float64{in.Share.Exact, in.Share.Minimum, in.Share.Maximum, in.Share.ExclusiveMinimum, in.Share.ExclusiveMaximum}
		}
		for j, v := range vals {
			if v != nil {
				flags |= 4 << j
			}
		}
		b = append(b, flags)
		for _, v := range vals {
			if v != nil {
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(*v))
			}
		}
	}
	return b
}

// EdgeOf is the edge a relationship statement declares.
func EdgeOf(s *Statement) *Edge {
	e := &Edge{Record: s.RecordID, Subject: s.Subject, Party: s.InterestedParty, Interests: s.Interests}
	e.Lo, e.Hi, e.HasShare = shareOf(s.Interests)
	return e
}

// shareOf is the share that counts for ownership among interests:
// shareholding's where given, else the first interest's with a share.
func shareOf(interests []Interest) (lo, hi float64, ok bool) {
	pick := -1
	for i, in := range interests {
		if _, _, ok := in.Share.Range(); ok {
			if in.Type == "shareholding" {
				pick = i
				break
			}
			if pick < 0 {
				pick = i
			}
		}
	}
	if pick < 0 {
		return 0, 0, false
	}
	return interests[pick].Share.Range()
}

// Limits of a walk: chains deeper than MaxDepth, or more than MaxPaths
// paths, are cut and the answer says Truncated.
const (
	MaxDepth = 64
	MaxPaths = 10000
	keepPath = 20 // paths kept per party in an answer
)

// Holding is what one party holds in another through every path found:
// the sum over paths of each path's product of shares, as a range of
// percentages, capped at 100. Known is false where some path crosses a
// relationship with no share (control without a counted share); such
// paths add nothing to the range. A path is a chain that never meets
// itself: where it would, it is cut, so that a party in a circle of
// holdings (InCycle), or one whose chains reach the root through such a
// circle (ThroughCycle), has a range that counts each chain once and not
// the shares that go round the circle: at least that, its effective share
// not settled by the statements (docs/assets.md, Cycles).
type Holding struct {
	Node     Node    `json:"node"`
	Lo       float64 `json:"share_min"`
	Hi       float64 `json:"share_max"`
	Known    bool    `json:"share_known"`
	AnyShare bool    `json:"any_share"`
	Direct   bool    `json:"direct"` // one of the paths is a single relationship
	// DirectLo and DirectHi are what the party holds through its own
	// relationships with the root alone (DirectAnyShare: one gives a share).
	DirectLo       float64 `json:"direct_share_min"`
	DirectHi       float64 `json:"direct_share_max"`
	DirectAnyShare bool    `json:"direct_any_share"`
	// Ultimate: no one is declared to hold the party (a person, an entity
	// without owners, an unspecified party); in answers of UltimateOwners.
	Ultimate bool `json:"ultimate"`
	// InCycle: the party is in a circle of holdings (it holds itself,
	// directly or through others); ThroughCycle: it is, or some chain
	// between it and the root passes through a party that is.
	InCycle      bool     `json:"in_cycle"`
	ThroughCycle bool     `json:"through_cycle"`
	BO           bool     `json:"beneficial_owner"`
	Interests    []string `json:"interests,omitempty"` // the interest types on the last relationship of each path
	Paths        []Path   `json:"paths"`
	PathCount    int      `json:"path_count"`
}

// Path is one chain of relationships, from the root outwards, with its
// share (the product of the shares along it) where every step has one.
type Path struct {
	Records []string `json:"records"` // the record ids along the chain, root first
	Lo      float64  `json:"share_min"`
	Hi      float64  `json:"share_max"`
	Known   bool     `json:"share_known"`
}

// Answer is the answer to a lookup: the root, what is held, and the part
// of the graph the walk crossed, for drawing it. For UltimateOwners,
// Holdings are the ultimate owners and Holders the other parties along
// the chains (direct holders, intermediate entities, parties in circles,
// the root where it holds itself); for Controls, Holdings are every
// entity held and Holders is empty. Cycles counts the chains cut where
// they would meet themselves; CycleGroups names the parties of each circle
// of holdings the walk met (each group holds itself through its members),
// sorted.
type Answer struct {
	Root        Node       `json:"root"`
	Found       bool       `json:"found"`
	Holdings    []Holding  `json:"holdings"`
	Holders     []Holding  `json:"holders,omitempty"`
	Nodes       []Node     `json:"nodes"`
	Edges       []Edge     `json:"edges"`
	Cycles      int        `json:"cycles"`
	CycleGroups [][]string `json:"cycle_groups,omitempty"`
	Truncated   bool       `json:"truncated"`
}

type walker struct {
	g         *Graph
	up        bool    // towards the owners
	path      []int32 // the chain walked: the root, then each relationship's record and the party it leads to
	holdings  []Holding
	index     map[int32]int // a holding's key (holdingKey) -> its place in holdings
	nodes     []int32       // the parties crossed, each as often as it was reached
	edges     []int32       // the relationships crossed, likewise
	order     []int32       // the relationships of each party on the chain, in the order walked (step)
	strs      map[int32]string
	paths     int
	cycles    int
	truncated bool
	recs      []string // the arena the paths' record ids are cut from
	// ring is a union-find of the parties met in circles (a party holding
	// itself, directly or through others): each to another of its circle,
	// a circle's representative to itself. Made at the first circle met.
	ring map[int32]int32
}

// UltimateOwners answers who ultimately owns or controls the entity id:
// every party at the end of a chain of relationships from it (a person, an
// entity no one is declared to hold, an unspecified party), with what it
// holds through all the paths found, and every other party along the
// chains (Answer.Holders), each with what it holds directly. Circles of
// holdings are cut where a chain would meet itself, counted and named;
// no party of a circle is an ultimate owner.
func (g *Graph) UltimateOwners(id string) Answer {
	return g.walk(id, true)
}

// Controls answers which entities the person or entity id holds interests
// in, directly or through chains of any depth, with what it holds in each.
func (g *Graph) Controls(id string) Answer {
	return g.walk(id, false)
}

func (g *Graph) walk(id string, up bool) Answer {
	root, ok := g.ids.find(id)
	if !ok {
		return Answer{Root: Node{ID: id}, Nodes: []Node{{ID: id}}}
	}
	w := &walker{g: g, up: up, index: make(map[int32]int, 16), holdings: make([]Holding, 0, 16), path: make([]int32, 1, 16), order: make([]int32, 0, 32), strs: map[int32]string{root: id}}
	w.path[0] = root
	w.nodes = append(w.nodes, root)
	rootNode, found := g.node(root, id)
	w.step(root, 100, 100, true, 0)
	byID := func(a, b int32) int { return bytes.Compare(g.ids.bytes(a), g.ids.bytes(b)) }
	slices.SortFunc(w.nodes, byID)
	w.nodes = slices.Compact(w.nodes)
	slices.SortFunc(w.edges, func(a, b int32) int { return byID(g.edges[a].record, g.edges[b].record) })
	w.edges = slices.Compact(w.edges) // one edge a record
	w.circles()
	sl := &g.slots[root]
	a := Answer{Root: rootNode, Found: found || sl.owners.first >= 0 || sl.owned.first >= 0, Cycles: w.cycles, Truncated: w.truncated,
		CycleGroups: w.groups(), Nodes: sized[Node](len(w.nodes)), Edges: sized[Edge](len(w.edges))}
	for i := range w.holdings {
		h := &w.holdings[i]
		h.Lo, h.Hi = settle(h.Lo), settle(h.Hi)
		h.DirectLo, h.DirectHi = settle(h.DirectLo), settle(h.DirectHi)
		sort.Strings(h.Interests)
		h.Interests = slices.Compact(h.Interests)
		slices.SortFunc(h.Paths, func(a, b Path) int { return slices.Compare(a.Records, b.Records) })
	}
	// The ultimate owners first, then the other holders, in place.
	n := 0
	for i := range w.holdings {
		if !up || w.holdings[i].Ultimate {
			w.holdings[n], w.holdings[i] = w.holdings[i], w.holdings[n]
			n++
		}
	}
	if n > 0 {
		a.Holdings = w.holdings[:n:n]
	}
	if n < len(w.holdings) {
		a.Holders = w.holdings[n:]
	}
	sortHoldings(a.Holdings)
	sortHoldings(a.Holders)
	for _, n := range w.nodes {
		node, _ := g.node(n, w.str(n))
		a.Nodes = append(a.Nodes, node)
	}
	for _, k := range w.edges {
		e := &g.edges[k]
		x := Edge{Record: w.str(e.record), Subject: w.str(e.subject), Interests: g.interests[e.list], Lo: e.lo, Hi: e.hi, HasShare: e.hasShare}
		if e.party >= 0 {
			x.Party = w.str(e.party)
		}
		a.Edges = append(a.Edges, x)
	}
	return a
}

// settle caps a share at 100 and rounds it to 10 decimals, so that the sum
// of the same chains' shares reads the same whatever order they were added
// in.
func settle(x float64) float64 {
	return math.Round(math.Min(x, 100)*1e10) / 1e10
}

// sortHoldings orders holdings by their largest share, then by record id
// (an unspecified party's by its relationship's, the end of its paths).
func sortHoldings(hs []Holding) {
	slices.SortFunc(hs, func(a, b Holding) int {
		if a.Hi != b.Hi {
			if a.Hi > b.Hi {
				return -1
			}
			return 1
		}
		if c := strings.Compare(a.Node.ID, b.Node.ID); c != 0 || len(a.Paths) == 0 || len(b.Paths) == 0 {
			return c
		}
		return slices.Compare(a.Paths[0].Records, b.Paths[0].Records)
	})
}

// sized is an empty slice with room for n, nil when n is 0 (an answer
// without holdings or edges says null, as it always has).
func sized[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, 0, n)
}

// str is the string of the id numbered i, made once a walk.
func (w *walker) str(i int32) string {
	s, ok := w.strs[i]
	if !ok {
		s = w.g.ids.string(i)
		w.strs[i] = s
	}
	return s
}

// onPath is where the party id is on the chain walked (a cycle), -1 where
// it is not.
func (w *walker) onPath(id int32) int {
	for i := 0; i < len(w.path); i += 2 {
		if w.path[i] == id {
			return i
		}
	}
	return -1
}

// first is the first edge to walk on from id, -1 for none.
func (w *walker) first(id int32) int32 {
	if w.up {
		return w.g.slots[id].owners.first
	}
	return w.g.slots[id].owned.first
}

// step walks on from id, reached with the share range [lo, hi] (known says
// whether every step so far had a share).
//
// A party's relationships are walked in the order of their record ids, not
// in the order they were imported: which paths an answer keeps (keepPath a
// party) and where a walk is cut (MaxPaths) are then the same whatever the
// order of the statements in the files.
func (w *walker) step(id int32, lo, hi float64, known bool, depth int) {
	from := len(w.order)
	for k := w.first(id); k >= 0; k = w.g.linkOf(k, w.up).next {
		w.order = append(w.order, k)
	}
	to := len(w.order)
	if to-from > 1 {
		slices.SortFunc(w.order[from:to], func(a, b int32) int {
			if c := bytes.Compare(w.g.ids.bytes(w.g.edges[a].record), w.g.ids.bytes(w.g.edges[b].record)); c != 0 {
				return c
			}
			return cmp.Compare(a, b)
		})
	}
	for i := from; i < to; i++ {
		k := w.order[i]
		e := &w.g.edges[k]
		other := e.subject
		if w.up {
			other = e.party
		}
		w.edges = append(w.edges, k)
		at := -1
		if other >= 0 {
			at = w.onPath(other)
		}
		if at > 0 {
			w.cycles++
			w.circle(at)
			continue
		}
		if w.paths >= MaxPaths || depth >= MaxDepth {
			w.truncated = true
			continue
		}
		nlo, nhi, nknown := lo, hi, known && e.hasShare
		if e.hasShare {
			nlo, nhi = lo*e.lo/100, hi*e.hi/100
		}
		w.path = append(w.path, e.record)
		if at == 0 {
			// Back at the root: the root holds itself through this chain.
			w.cycles++
			w.circle(0)
			w.add(other, e, nlo, nhi, nknown, depth == 0, false)
			w.path = w.path[:len(w.path)-1]
			continue
		}
		if other >= 0 {
			w.nodes = append(w.nodes, other)
		}
		terminal := other < 0 || w.first(other) < 0
		w.add(other, e, nlo, nhi, nknown, depth == 0, w.up && terminal)
		if !terminal {
			w.path = append(w.path, other)
			w.step(other, nlo, nhi, nknown, depth+1)
			w.path = w.path[:len(w.path)-1]
		}
		w.path = w.path[:len(w.path)-1]
	}
	w.order = w.order[:from]
}

// circle notes the parties of the chain from its place at to its end as
// one circle: the chain's last relationship leads back to the party at.
func (w *walker) circle(at int) {
	if w.ring == nil {
		w.ring = make(map[int32]int32, 8)
	}
	top := w.find(w.path[at])
	for i := at + 2; i < len(w.path); i += 2 {
		if r := w.find(w.path[i]); r != top {
			w.ring[r] = top
		}
	}
}

// find is the representative of the circle of the party id, adding the
// party as a circle of its own when it is in none.
func (w *walker) find(id int32) int32 {
	if _, ok := w.ring[id]; !ok {
		w.ring[id] = id
		return id
	}
	r := id
	for w.ring[r] != r {
		r = w.ring[r]
	}
	for id != r { // the way to r made short for the next find
		next := w.ring[id]
		w.ring[id] = r
		id = next
	}
	return r
}

// circles marks the holdings of parties in circles (InCycle) and of those
// whose chains to the root pass through one (ThroughCycle: every party
// the walk reached from a party in a circle, found along the graph's
// lists as the walk went; the flag is the search's mark).
func (w *walker) circles() {
	if len(w.ring) == 0 {
		return
	}
	queue := make([]int32, 0, len(w.ring))
	for id := range w.ring {
		if i, ok := w.index[id]; ok {
			w.holdings[i].InCycle, w.holdings[i].ThroughCycle = true, true
		}
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		for k := w.first(id); k >= 0; k = w.g.linkOf(k, w.up).next {
			e := &w.g.edges[k]
			to := e.subject
			if w.up {
				to = e.party
			}
			key := to
			if to < 0 {
				key = ^e.record // an unspecified party's holding
			}
			if i, ok := w.index[key]; ok && !w.holdings[i].ThroughCycle {
				w.holdings[i].ThroughCycle = true
				if to >= 0 {
					queue = append(queue, to)
				}
			}
		}
	}
}

// groups are the circles' parties, each group sorted, the groups by their
// first party.
func (w *walker) groups() [][]string {
	if len(w.ring) == 0 {
		return nil
	}
	type member struct {
		top int32
		id  string
	}
	ms := make([]member, 0, len(w.ring))
	for id := range w.ring {
		ms = append(ms, member{w.find(id), w.str(id)})
	}
	slices.SortFunc(ms, func(a, b member) int {
		if c := cmp.Compare(a.top, b.top); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	var groups [][]string
	for i, m := range ms {
		if i == 0 || m.top != ms[i-1].top {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], m.id)
	}
	slices.SortFunc(groups, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	return groups
}

// holding is the holding of the party id (-1: the unspecified party of
// the relationship record), made when it is new.
func (w *walker) holding(id, record int32) *Holding {
	key := id
	if id < 0 {
		key = ^record // a holding of each unspecified party
	}
	i, ok := w.index[key]
	if !ok {
		var node Node
		if id >= 0 {
			node, _ = w.g.node(id, w.str(id))
		}
		i = len(w.holdings)
		w.holdings = append(w.holdings, Holding{Node: node, Known: true})
		w.index[key] = i
	}
	return &w.holdings[i]
}

// count adds a path with the share range [lo, hi] to h.
func (h *Holding) count(lo, hi float64, known bool) {
	h.PathCount++
	if known {
		h.Lo += lo
		h.Hi += hi
		h.AnyShare = true
	} else {
		h.Known = false
	}
}

// pathRecords is the chain walked as record ids, then end, cut from the
// walk's arena of them (one allocation for many paths).
func (w *walker) pathRecords(end string) []string {
	n := len(w.path) + 1
	if cap(w.recs)-len(w.recs) < n {
		w.recs = make([]string, 0, max(n, 128))
	}
	start := len(w.recs)
	for _, i := range w.path {
		w.recs = append(w.recs, w.str(i))
	}
	w.recs = append(w.recs, end)
	return w.recs[start : start+n : start+n]
}

// add counts the path that ends with the relationship e at the party id
// (-1 for its unspecified party); direct: e is the root's own
// relationship; ultimate: no one holds the party.
func (w *walker) add(id int32, e *edge, lo, hi float64, known, direct, ultimate bool) {
	w.paths++
	h := w.holding(id, e.record)
	h.count(lo, hi, known)
	h.Ultimate = ultimate
	if direct {
		h.Direct = true
		if e.hasShare {
			h.DirectLo += e.lo
			h.DirectHi += e.hi
			h.DirectAnyShare = true
		}
	}
	for _, in := range w.g.interests[e.list] {
		h.Interests = append(h.Interests, in.Type)
		h.BO = h.BO || in.BO
	}
	if len(h.Paths) < keepPath {
		var end string
		if id >= 0 {
			end = w.str(id)
		} else {
			end = "unspecified:" + w.str(e.record)
		}
		h.Paths = append(h.Paths, Path{Records: w.pathRecords(end), Lo: lo, Hi: hi, Known: known})
	}
}
