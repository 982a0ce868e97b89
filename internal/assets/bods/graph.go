package bods

import (
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
type Graph struct {
	nodes  map[string]*Node
	rels   map[string]*Edge
	owners map[string][]*Edge // subject -> the relationships in which others hold interests in it
	owned  map[string][]*Edge // interested party -> the relationships in which it holds interests
	// words keeps once each of the values that many records repeat
	// (record types, kinds, interest types): a graph of a million
	// statements is then fewer objects for the collector to mark.
	words map[string]string
	// interests keeps once each list of one interest that many
	// relationships declare alike (its strings and share kept once too):
	// the lists and shares of a graph are read, never changed.
	interests map[Interest][]Interest
	shares    map[shareValue]*Share
}

// shareValue is a share's value, comparable.
type shareValue struct {
	set [5]bool
	v   [5]float64
}

// share is the graph's own copy of a share of that value.
func (g *Graph) share(sh *Share) *Share {
	if sh == nil {
		return nil
	}
	var k shareValue
	for i, p := range []*float64{sh.Exact, sh.Minimum, sh.Maximum, sh.ExclusiveMinimum, sh.ExclusiveMaximum} {
		if p != nil {
			k.set[i], k.v[i] = true, *p
		}
	}
	if c, ok := g.shares[k]; ok {
		return c
	}
	if len(g.shares) < maxWords {
		g.shares[k] = sh
	}
	return sh
}

// keep returns the interests of a relationship as the graph keeps them:
// their strings and shares shared with the other relationships', and a
// list of one interest shared with those that declare the same.
func (g *Graph) keep(list []Interest) []Interest {
	for i := range list {
		in := &list[i]
		in.Type, in.Direct, in.Share = g.word(in.Type), g.word(in.Direct), g.share(in.Share)
	}
	if len(list) != 1 {
		return list
	}
	if c, ok := g.interests[list[0]]; ok {
		return c
	}
	if len(g.interests) < maxWords {
		g.interests[list[0]] = list
	}
	return list
}

// maxWords bounds words: values past it are simply kept as they come.
const maxWords = 4096

func (g *Graph) word(s string) string {
	if w, ok := g.words[s]; ok || s == "" {
		return w
	}
	if len(g.words) < maxWords {
		g.words[s] = s
	}
	return s
}

// id is the graph's own copy of a record id where it has the record.
func (g *Graph) id(s string) string {
	if n, ok := g.nodes[s]; ok {
		return n.ID
	}
	return s
}

// NewGraph returns an empty graph.
func NewGraph() *Graph {
	return &Graph{nodes: map[string]*Node{}, rels: map[string]*Edge{}, owners: map[string][]*Edge{}, owned: map[string][]*Edge{}, words: map[string]string{},
		interests: map[Interest][]Interest{}, shares: map[shareValue]*Share{}}
}

// Len is the number of persons, entities and relationships in the graph.
func (g *Graph) Len() (nodes, relationships int) { return len(g.nodes), len(g.rels) }

// Node returns a record of the graph.
func (g *Graph) Node(id string) (Node, bool) {
	n, ok := g.nodes[id]
	if !ok {
		return Node{ID: id}, false
	}
	return *n, true
}

// Apply applies a statement in stream order: it replaces what earlier
// statements of its record said, and a closed record leaves the graph.
func (g *Graph) Apply(s *Statement) {
	switch s.RecordType {
	case Entity, Person:
		if s.RecordStatus == StatusClosed {
			delete(g.nodes, s.RecordID)
			return
		}
		g.nodes[s.RecordID] = &Node{ID: s.RecordID, Type: g.word(s.RecordType), Name: s.Name, Kind: g.word(s.Kind)}
	case Relationship:
		if old, ok := g.rels[s.RecordID]; ok {
			g.owners[old.Subject] = remove(g.owners[old.Subject], old)
			if old.Party != "" {
				g.owned[old.Party] = remove(g.owned[old.Party], old)
			}
			delete(g.rels, s.RecordID)
		}
		if s.RecordStatus == StatusClosed || s.Subject == "" {
			return
		}
		e := EdgeOf(s)
		e.Subject, e.Party, e.Interests = g.id(e.Subject), g.id(e.Party), g.keep(e.Interests)
		g.rels[s.RecordID] = e
		g.owners[e.Subject] = append(g.owners[e.Subject], e)
		if e.Party != "" {
			g.owned[e.Party] = append(g.owned[e.Party], e)
		}
	}
}

// EdgeOf is the edge a relationship statement declares.
func EdgeOf(s *Statement) *Edge {
	e := &Edge{Record: s.RecordID, Subject: s.Subject, Party: s.InterestedParty, Interests: s.Interests}
	pick := -1
	for i, in := range s.Interests {
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
	if pick >= 0 {
		e.Lo, e.Hi, _ = s.Interests[pick].Share.Range()
		e.HasShare = true
	}
	return e
}

func remove(list []*Edge, e *Edge) []*Edge {
	i := slices.Index(list, e)
	if i < 0 {
		return list
	}
	return slices.Delete(list, i, i+1)
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
// paths add nothing to the range.
type Holding struct {
	Node      Node     `json:"node"`
	Lo        float64  `json:"share_min"`
	Hi        float64  `json:"share_max"`
	Known     bool     `json:"share_known"`
	AnyShare  bool     `json:"any_share"`
	Direct    bool     `json:"direct"` // one of the paths is a single relationship
	BO        bool     `json:"beneficial_owner"`
	Interests []string `json:"interests,omitempty"` // the interest types on the last relationship of each path
	Paths     []Path   `json:"paths"`
	PathCount int      `json:"path_count"`
}

// Path is one chain of relationships, from the root outwards, with its
// share (the product of the shares along it) where every step has one.
type Path struct {
	Records []string `json:"records"` // the record ids along the chain, root first
	Lo      float64  `json:"share_min"`
	Hi      float64  `json:"share_max"`
	Known   bool     `json:"share_known"`
}

// Answer is the answer to a lookup: the root, what is held (Owners for
// UltimateOwners, Controlled for Controls), and the part of the graph the
// walk crossed, for drawing it.
type Answer struct {
	Root      Node      `json:"root"`
	Found     bool      `json:"found"`
	Holdings  []Holding `json:"holdings"`
	Nodes     []Node    `json:"nodes"`
	Edges     []Edge    `json:"edges"`
	Cycles    int       `json:"cycles"`
	Truncated bool      `json:"truncated"`
}

type walker struct {
	g          *Graph
	up         bool     // towards the owners
	path       []string // the chain walked: the root, then each relationship's record and the party it leads to
	holdings   map[string]*Holding
	order      []string
	nodes      []string // the parties crossed, each as often as it was reached
	edges      []*Edge  // the relationships crossed, likewise
	paths      int
	cycles     int
	truncated  bool
	leavesOnly bool
}

// UltimateOwners answers who ultimately owns or controls the entity id:
// every party at the end of a chain of relationships from it (a person, an
// entity no one is declared to hold, an unspecified party, or the last
// party before a chain loops back), with what it holds through all the
// paths found. Cycles are cut where a chain would meet itself, and counted.
func (g *Graph) UltimateOwners(id string) Answer {
	return g.walk(id, true)
}

// Controls answers which entities the person or entity id holds interests
// in, directly or through chains of any depth, with what it holds in each.
func (g *Graph) Controls(id string) Answer {
	return g.walk(id, false)
}

func (g *Graph) walk(id string, up bool) Answer {
	w := &walker{g: g, up: up, holdings: make(map[string]*Holding, 8), leavesOnly: up, path: make([]string, 1, 16)}
	w.path[0] = id
	w.nodes = append(w.nodes, id)
	root, found := g.Node(id)
	w.step(id, 100, 100, true, 0)
	slices.Sort(w.nodes)
	w.nodes = slices.Compact(w.nodes)
	slices.SortFunc(w.edges, func(a, b *Edge) int { return strings.Compare(a.Record, b.Record) })
	w.edges = slices.Compact(w.edges) // one *Edge a record
	a := Answer{Root: root, Found: found || len(g.owners[id]) > 0 || len(g.owned[id]) > 0, Cycles: w.cycles, Truncated: w.truncated,
		Holdings: sized[Holding](len(w.order)), Nodes: sized[Node](len(w.nodes)), Edges: sized[Edge](len(w.edges))}
	for _, k := range w.order {
		h := w.holdings[k]
		h.Lo, h.Hi = math.Min(h.Lo, 100), math.Min(h.Hi, 100)
		sort.Strings(h.Interests)
		h.Interests = slices.Compact(h.Interests)
		a.Holdings = append(a.Holdings, *h)
	}
	sort.SliceStable(a.Holdings, func(i, j int) bool {
		if a.Holdings[i].Hi != a.Holdings[j].Hi {
			return a.Holdings[i].Hi > a.Holdings[j].Hi
		}
		return a.Holdings[i].Node.ID < a.Holdings[j].Node.ID
	})
	for _, n := range w.nodes {
		node, _ := g.Node(n)
		a.Nodes = append(a.Nodes, node)
	}
	for _, e := range w.edges {
		a.Edges = append(a.Edges, *e)
	}
	return a
}

// sized is an empty slice with room for n, nil when n is 0 (an answer
// without holdings or edges says null, as it always has).
func sized[T any](n int) []T {
	if n == 0 {
		return nil
	}
	return make([]T, 0, n)
}

// onPath tells whether the party id is on the chain walked (a cycle).
func (w *walker) onPath(id string) bool {
	for i := 0; i < len(w.path); i += 2 {
		if w.path[i] == id {
			return true
		}
	}
	return false
}

func (w *walker) next(id string) []*Edge {
	if w.up {
		return w.g.owners[id]
	}
	return w.g.owned[id]
}

// step walks on from id, reached with the share range [lo, hi] (known says
// whether every step so far had a share).
func (w *walker) step(id string, lo, hi float64, known bool, depth int) {
	edges := w.next(id)
	moved := false
	for _, e := range edges {
		other := e.Subject
		if w.up {
			other = e.Party
		}
		w.edges = append(w.edges, e)
		if other != "" && w.onPath(other) {
			w.cycles++
			continue
		}
		if w.paths >= MaxPaths || depth >= MaxDepth {
			w.truncated = true
			continue
		}
		moved = true
		nlo, nhi, nknown := lo, hi, known && e.HasShare
		if e.HasShare {
			nlo, nhi = lo*e.Lo/100, hi*e.Hi/100
		}
		key := other
		if other == "" {
			key = "unspecified:" + e.Record
		} else {
			w.nodes = append(w.nodes, other)
		}
		w.path = append(w.path, e.Record)
		terminal := other == "" || len(w.next(other)) == 0
		if !w.leavesOnly || terminal {
			w.add(key, other, e, nlo, nhi, nknown, depth == 0)
		}
		if other != "" && !terminal {
			w.path = append(w.path, other)
			w.step(other, nlo, nhi, nknown, depth+1)
			w.path = w.path[:len(w.path)-1]
		}
		w.path = w.path[:len(w.path)-1]
	}
	// An owner whose every owner leads back into the chain ends it.
	if w.leavesOnly && !moved && depth > 0 && len(edges) > 0 {
		last := w.path[len(w.path)-1]
		w.addTerminal(last, lo, hi, known)
	}
}

func (w *walker) add(key, id string, e *Edge, lo, hi float64, known, direct bool) {
	w.paths++
	h, ok := w.holdings[key]
	if !ok {
		node := Node{ID: id}
		if id != "" {
			node, _ = w.g.Node(id)
		}
		h = &Holding{Node: node, Known: true}
		w.holdings[key] = h
		w.order = append(w.order, key)
	}
	h.PathCount++
	if known {
		h.Lo += lo
		h.Hi += hi
		h.AnyShare = true
	} else {
		h.Known = false
	}
	h.Direct = h.Direct || direct
	for _, in := range e.Interests {
		h.Interests = append(h.Interests, in.Type)
		h.BO = h.BO || in.BO
	}
	if len(h.Paths) < keepPath {
		end := id
		if end == "" {
			end = key
		}
		h.Paths = append(h.Paths, Path{Records: append(append(make([]string, 0, len(w.path)+1), w.path...), end), Lo: lo, Hi: hi, Known: known})
	}
}

// addTerminal records the last party of a chain that loops back.
func (w *walker) addTerminal(id string, lo, hi float64, known bool) {
	w.paths++
	h, ok := w.holdings[id]
	if !ok {
		node, _ := w.g.Node(id)
		h = &Holding{Node: node, Known: true}
		w.holdings[id] = h
		w.order = append(w.order, id)
	}
	h.PathCount++
	if known {
		h.Lo += lo
		h.Hi += hi
		h.AnyShare = true
	} else {
		h.Known = false
	}
	if len(h.Paths) < keepPath {
		h.Paths = append(h.Paths, Path{Records: append([]string(nil), w.path...), Lo: lo, Hi: hi, Known: known})
	}
}
