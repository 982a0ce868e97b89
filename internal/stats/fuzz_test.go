package stats

import (
	"bytes"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/errs"
)

// FuzzParseMapping: any input is a mapping or a refusal that names its
// rule and field; a mapping's every target is an ICCS code.
func FuzzParseMapping(f *testing.F) {
	f.Add("national_code,national_label,iccs\nA,Murder,0101\nB,Theft,0502\nB,Theft,0501\n")
	f.Add("\ufeffnational_code,national_label,iccs\nA,\"x, y\",0908\n")
	f.Add("national_code,national_label,iccs\nA,x,0299\n")
	f.Add("code\n")
	f.Fuzz(func(t *testing.T, in string) {
		rows, err := ParseMapping(strings.NewReader(in))
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Rule == "" || e.Field == "" {
				t.Fatalf("refusal without rule and field: %v", err)
			}
			return
		}
		for _, r := range rows {
			if _, ok := ICCS.Lookup(r.ICCS); !ok || r.NationalCode == "" {
				t.Fatalf("row %+v passed", r)
			}
		}
	})
}

// FuzzRecords: any file is read whole or refused with a rule and a field;
// what it reads counts as many records as the chunks hold.
func FuzzRecords(f *testing.F) {
	f.Add("offence_code,stage,unit,date,region,count,victim_sex,victim_age,perpetrator_age,juvenile\nA,police,victim,2024-01-05,North,3,female,34,,\nB,courts,person,2023,,,,,15,juvenile\n")
	f.Add("iccs,stage,unit,date\n0101,police,offence,2024\n")
	f.Add("offence_code,stage,unit,date\nAMB,police,offence,2024-13\n")
	f.Add("offence_code,stage,unit,date\n\"A\nB\",police,offence,2024\n")
	m := &codeMap{id: "fuzz", version: 1, codes: map[string]uint16{"A": 1, "B": uint16(ICCS.index["02043"]) + 1, "AMB": 0},
		targets: map[string][]string{"AMB": {"0101", "0102"}}}
	f.Fuzz(func(t *testing.T, in string) {
		var stored int64
		byICCS := bytes.HasPrefix([]byte(in), []byte("iccs"))
		p := &parser{now: "2026-12-02", emit: func(c *chunk) error {
			stored += int64(c.n)
			for col := range numCols {
				if col != colCount && len(c.cols[col]) != c.n*width(col) {
					t.Fatalf("column %s holds %d bytes for %d records", colNames[col], len(c.cols[col]), c.n)
				}
			}
			return nil
		}}
		if !byICCS {
			p.m = m
		}
		out, err := p.parse(strings.NewReader(in))
		if err != nil {
			if e, ok := errs.As(err); !ok || e.Rule == "" || e.Field == "" {
				t.Fatalf("refusal without rule and field: %v", err)
			}
			return
		}
		if out.records != stored || out.total < out.records {
			t.Fatalf("%d records read, %d stored, total %d", out.records, stored, out.total)
		}
	})
}
