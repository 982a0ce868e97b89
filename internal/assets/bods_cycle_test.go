package assets_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/storetest"
)

// TestBODSCircularOwnership is an outside tester's case through the API:
// A, B and C hold one another in a circle (R1 B holds 60% of A, R2 A 60%
// of B, R3 A 10% of itself, R4 C 40% of B, R5 A 40% of C). Every direct
// holder is listed with its direct share, every party of the circle is
// flagged in_cycle and none is made an ultimate owner, the circle is
// named, and the answers are the same whatever the order of the
// statements in the file (each order imported under record ids of its
// own).
func TestBODSCircularOwnership(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dsn string) {
		w := newBODSWorld(t, dsn)
		orders := [][]int{
			{0, 1, 2, 3, 4, 5, 6, 7}, // as the tester gave them: entities, then R1 … R5
			{7, 6, 5, 4, 3, 2, 1, 0},
			{3, 4, 5, 6, 7, 0, 1, 2},
			{5, 0, 7, 3, 1, 6, 2, 4},
			{6, 4, 2, 0, 7, 5, 3, 1},
		}
		type view struct {
			Holdings    []map[string]any `json:"holdings"`
			Holders     []map[string]any `json:"holders"`
			Cycles      int              `json:"cycles"`
			CycleGroups [][]string       `json:"cycle_groups"`
			Edges       []map[string]any `json:"edges"`
			Nodes       []map[string]any `json:"nodes"`
		}
		var first map[string]string
		for k, order := range orders {
			pre := ""
			if k > 0 {
				pre = fmt.Sprintf("O%d-", k)
			}
			b := &bods.Builder{Prefix: fmt.Sprintf("cycle-%d", k), Date: "2026-06-01", Publisher: "Demoland companies register"}
			stmts := [][]byte{b.Entity(pre+"CY-A", "Alpha Ltd", "DL", ""), b.Entity(pre+"CY-B", "Beta Ltd", "DL", ""), b.Entity(pre+"CY-C", "Gamma Ltd", "DL", ""),
				b.Relationship(pre+"R1", pre+"CY-A", pre+"CY-B", []float64{60}, ""), b.Relationship(pre+"R2", pre+"CY-B", pre+"CY-A", []float64{60}, ""),
				b.Relationship(pre+"R3", pre+"CY-A", pre+"CY-A", []float64{10}, ""), b.Relationship(pre+"R4", pre+"CY-B", pre+"CY-C", []float64{40}, ""),
				b.Relationship(pre+"R5", pre+"CY-C", pre+"CY-A", []float64{40}, "")}
			var file [][]byte
			for _, i := range order {
				file = append(file, stmts[i])
			}
			w.Must(t, 201, "POST", "/api/v1/assets/bods/imports?source=circle.jsonl", w.Officer, lines(file...))
			got := map[string]string{}
			for _, id := range []string{"CY-A", "CY-B", "CY-C"} {
				r := w.Must(t, 200, "GET", "/api/v1/assets/bods/owners/"+pre+id, w.Officer, nil)
				var v view
				if err := json.Unmarshal(r.Raw, &v); err != nil {
					t.Fatal(err)
				}
				j, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				got[id] = string(j)
				if pre != "" {
					got[id] = strings.ReplaceAll(got[id], pre, "")
				}
			}
			if k == 0 {
				first = got
				continue
			}
			for id := range got {
				if got[id] != first[id] {
					t.Fatalf("order %v: the owners of %s are\n%s\nbut in the order given\n%s", order, id, got[id], first[id])
				}
			}
		}

		var a view
		if err := json.Unmarshal([]byte(first["CY-A"]), &a); err != nil {
			t.Fatal(err)
		}
		parties := map[string]map[string]any{}
		for _, h := range slices.Concat(a.Holdings, a.Holders) {
			parties[h["node"].(map[string]any)["record_id"].(string)] = h
		}
		for _, want := range []struct {
			id     string
			direct float64 // the direct share, -1 for none
			share  float64
		}{{"CY-B", 60, 60}, {"CY-A", 10, 55.6}, {"CY-C", -1, 24}} {
			h := parties[want.id]
			if h == nil {
				t.Fatalf("%s is not among the owners of A: %s", want.id, first["CY-A"])
			}
			direct, _ := h["direct"].(bool)
			dmin, _ := h["direct_share_min"].(float64)
			lo, _ := h["share_min"].(float64)
			in, _ := h["in_cycle"].(bool)
			ult, _ := h["ultimate"].(bool)
			if direct != (want.direct >= 0) || direct && dmin != want.direct || lo < want.share-1e-9 || lo > want.share+1e-9 || !in || ult {
				t.Fatalf("%s holds %v of A, want direct %v, %v%% through its chains, in the circle, not an ultimate owner", want.id, h, want.direct, want.share)
			}
		}
		if len(a.Holdings) != 0 || len(a.CycleGroups) != 1 || !slices.Equal(a.CycleGroups[0], []string{"CY-A", "CY-B", "CY-C"}) {
			t.Fatalf("owners of A: ultimate %v, circles %v", a.Holdings, a.CycleGroups)
		}
		var c view
		if err := json.Unmarshal([]byte(first["CY-C"]), &c); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, h := range c.Holders {
			if h["node"].(map[string]any)["record_id"] == "CY-A" && h["direct"] == true && h["direct_share_min"] == 40.0 && h["in_cycle"] == true {
				found = true
			}
		}
		if !found || len(c.Holdings) != 0 {
			t.Fatalf("owners of C: %s", first["CY-C"])
		}
		// The lookup's entry counts what the answer listed: no ultimate
		// owner of A, and its holders.
		var holdings, holders int
		if err := w.App.DB.Read().QueryRow(context.Background(), "SELECT holdings, holders FROM assets_bods_lookups WHERE record_id = 'CY-A'").Scan(&holdings, &holders); err != nil {
			t.Fatal(err)
		}
		if holdings != 0 || holders != len(a.Holders) || holders == 0 {
			t.Fatalf("the lookup of A logged %d holdings and %d holders, its answer listed %d and %d", holdings, holders, len(a.Holdings), len(a.Holders))
		}
	})
}
