package stats_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/stats/statstest"
	"github.com/custos-project/custos/internal/storetest"
)

// sdmxRef is an SDMX-ML reference (<Ref id=… agencyID=… version=…/>).
type sdmxRef struct {
	ID      string `xml:"id,attr"`
	Agency  string `xml:"agencyID,attr"`
	Version string `xml:"version,attr"`
}

type sdmxComponent struct {
	ID       string   `xml:"id,attr"`
	Position int      `xml:"position,attr"`
	Concept  sdmxRef  `xml:"ConceptIdentity>Ref"`
	Codelist *sdmxRef `xml:"LocalRepresentation>Enumeration>Ref"`
}

// sdmxStructure is what the test reads of the Structure message.
type sdmxStructure struct {
	XMLName   xml.Name `xml:"Structure"`
	Dataflows []struct {
		ID      string  `xml:"id,attr"`
		Agency  string  `xml:"agencyID,attr"`
		Version string  `xml:"version,attr"`
		DSD     sdmxRef `xml:"Structure>Ref"`
	} `xml:"Structures>Dataflows>Dataflow"`
	Codelists []struct {
		ID    string `xml:"id,attr"`
		Codes []struct {
			ID string `xml:"id,attr"`
		} `xml:"Code"`
	} `xml:"Structures>Codelists>Codelist"`
	Concepts []struct {
		ID string `xml:"id,attr"`
	} `xml:"Structures>Concepts>ConceptScheme>Concept"`
	DSDs []struct {
		ID         string          `xml:"id,attr"`
		Dimensions []sdmxComponent `xml:"DataStructureComponents>DimensionList>Dimension"`
		Time       []sdmxComponent `xml:"DataStructureComponents>DimensionList>TimeDimension"`
		Attributes []sdmxComponent `xml:"DataStructureComponents>AttributeList>Attribute"`
		Measure    []sdmxComponent `xml:"DataStructureComponents>MeasureList>PrimaryMeasure"`
	} `xml:"Structures>DataStructures>DataStructure"`
}

// sdmxID is SDMX's IDType: what every id of the structure must match.
var sdmxID = regexp.MustCompile(`^[A-Za-z0-9_@$\-]+$`)

// TestSDMXStructure: the SDMX-ML structure the SDMX-CSV files name parses
// as XML, its ids are SDMX ids, its data structure has the file's columns
// in the file's order, and every code of files exported from imported
// records (by each coded dimension, by period, with totals and a period
// that leaves records unplaced) is in its dimension's codelist.
func TestSDMXStructure(t *testing.T) {
	var b bytes.Buffer
	if err := stats.SDMXStructure(&b, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	// Well-formed, and every id attribute an SDMX id.
	dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	ids := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() == "EOF" {
				break
			}
			t.Fatalf("the structure is not XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			for _, a := range se.Attr {
				if a.Name.Local == "id" || a.Name.Local == "agencyID" || a.Name.Local == "maintainableParentID" {
					ids++
					if !sdmxID.MatchString(a.Value) {
						t.Errorf("<%s %s=%q>: not an SDMX id", se.Name.Local, a.Name.Local, a.Value)
					}
				}
			}
		}
	}
	var st sdmxStructure
	if err := xml.Unmarshal(b.Bytes(), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Dataflows) != 1 || len(st.DSDs) != 1 {
		t.Fatalf("dataflows %d, data structures %d; want one each", len(st.Dataflows), len(st.DSDs))
	}
	flow, dsd := st.Dataflows[0], st.DSDs[0]
	if got := flow.Agency + ":" + flow.ID + "(" + flow.Version + ")"; got != stats.Dataflow || flow.DSD.ID != dsd.ID {
		t.Fatalf("dataflow %s of %s; the files name %s, the structure is %s", got, flow.DSD.ID, stats.Dataflow, dsd.ID)
	}
	codes := map[string][]string{}
	for _, cl := range st.Codelists {
		for _, c := range cl.Codes {
			codes[cl.ID] = append(codes[cl.ID], c.ID)
		}
	}
	if n := len(codes["CL_ICCS"]); n != len(stats.ICCS.Categories)+1 {
		t.Errorf("CL_ICCS has %d codes; the classification %d categories and _T", n, len(stats.ICCS.Categories))
	}
	concepts := map[string]bool{}
	for _, c := range st.Concepts {
		concepts[c.ID] = true
	}
	// The components, by position: the columns of a file after ACTION.
	comps := append(slices.Clone(dsd.Dimensions), dsd.Time...)
	slices.SortFunc(comps, func(a, b sdmxComponent) int { return a.Position - b.Position })
	codelistOf := map[string]string{}
	var columns []string
	for i, c := range comps {
		if c.Position != i+1 {
			t.Errorf("dimension %s at position %d, want %d", c.ID, c.Position, i+1)
		}
		columns = append(columns, c.ID)
		if c.Codelist != nil {
			if codes[c.Codelist.ID] == nil {
				t.Errorf("dimension %s: codelist %s is not in the structure", c.ID, c.Codelist.ID)
			}
			codelistOf[c.ID] = c.Codelist.ID
		}
	}
	for _, c := range append(append(comps, dsd.Attributes...), dsd.Measure...) {
		if !concepts[c.Concept.ID] {
			t.Errorf("component %s: concept %s is not in the structure", c.ID, c.Concept.ID)
		}
	}
	for _, a := range dsd.Attributes {
		if a.Codelist != nil {
			codelistOf[a.ID] = a.Codelist.ID
		}
	}
	if len(dsd.Time) != 1 || dsd.Time[0].ID != "TIME_PERIOD" || len(dsd.Measure) != 1 || dsd.Measure[0].ID != "OBS_VALUE" {
		t.Fatalf("time %v, measure %v", dsd.Time, dsd.Measure)
	}
	attrs := []string{}
	for _, a := range dsd.Attributes {
		attrs = append(attrs, a.ID)
	}
	if !slices.Equal(attrs, []string{"CONF_STATUS", stats.SDMXNotPlaced}) {
		t.Errorf("attributes %v", attrs)
	}

	// Files of imported records: each row's codes in their codelists.
	storetest.Each(t, func(t *testing.T, dsn string) {
		ctx := context.Background()
		w := newWorld(t, dsn)
		m := w.mapping(t)
		f := makeFile(t, 3000, statstest.Options{Seed: 7, Years: 2, FirstYear: 2023})
		if _, err := w.S.Import(ctx, w.Statistician, stats.ImportRequest{Mapping: m.ID}, bytes.NewReader(f.data), 0, nil); err != nil {
			t.Fatal(err)
		}
		// The API serves the same structure, to anyone.
		r := w.Do(t, "GET", "/api/v1/stats/sdmx/structure", "", nil)
		if r.Status != http.StatusOK || !bytes.Contains(r.Raw, []byte(`<str:DataStructure id="`+dsd.ID+`"`)) {
			t.Fatalf("GET /api/v1/stats/sdmx/structure: %d %.200s", r.Status, r.Raw)
		}
		queries := []stats.Query{
			{Stage: "police", Unit: "victim", Level: 4, By: []string{"sex", "age_band"}, Period: "year"},
			{Stage: "police", Unit: "offence", Level: 2, By: []string{"attempt", "weapon", "context", "cyber"}, Period: "quarter", From: "2023-03", To: "2024-06"},
			{Stage: "police", Unit: "victim", Level: 1, By: []string{"victim_sex", "victim_age_band", "victim_citizenship", "relationship"}, Period: "month"},
			{Stage: "courts", Unit: "person", Level: 3, By: []string{"perpetrator_sex", "perpetrator_age_band", "juvenile", "perpetrator_citizenship", "recidivism"}},
			{Stage: "prisons", Unit: "person", Level: 0, By: []string{"region"}, From: "2024"},
		}
		for _, q := range queries {
			req, err := w.S.SDMX(w.Statistician, q)
			if err != nil {
				t.Fatal(err)
			}
			lines := exportCSV(t, w, req)
			want := append(append([]string{"STRUCTURE", "STRUCTURE_ID", "ACTION"}, columns...), "OBS_VALUE", "CONF_STATUS")
			if q.From != "" || q.To != "" {
				want = append(want, stats.SDMXNotPlaced)
			}
			if !slices.Equal(lines[0], want) {
				t.Fatalf("%v: columns %v, want %v (the structure's)", q.By, lines[0], want)
			}
			if len(lines) < 2 {
				t.Fatalf("%v: no rows", q.By)
			}
			for _, l := range lines[1:] {
				if l[0] != "dataflow" || l[1] != stats.Dataflow || l[2] != stats.SDMXAction {
					t.Fatalf("%v: row %v", q.By, l)
				}
				for i, v := range l {
					cl := codelistOf[lines[0][i]]
					if cl != "" && !slices.Contains(codes[cl], v) {
						t.Fatalf("%v: %s %q is not in %s (row %v)", q.By, lines[0][i], v, cl, l)
					}
				}
			}
		}
	})
}
