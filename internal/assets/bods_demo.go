package assets

import (
	"bytes"
	"context"

	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/module"
)

// DemoOwnedEntity is the Demoland company whose ownership chain the demo
// shows (/assets/ownership?record=DL-HARBOUR).
const DemoOwnedEntity = "DL-HARBOUR"

// DemoBODS imports Demoland's beneficial ownership register (synthetic
// names) as the administrator: a harbour company held through a foreign
// company and a trust arrangement by two persons, a range share, a loop
// between two holding companies, and a later file that updates one share
// and closes a relationship, so that history shows.
//
// A person's record id is opaque (P-7K3Q, not P-ANA): the regulator and the
// auditor read record ids on every page and in every export, and an id
// built from a name would carry the name where the erasure of a person
// does not reach.
func DemoBODS(ctx context.Context, d *module.Demo) error {
	s, ok := d.Service.(*Service)
	if !ok {
		return nil
	}
	b := &bods.Builder{Prefix: "demoland-bods-1", Date: "2025-06-30", Publisher: "Demoland Companies Registry (synthetic)", Subject: DemoOwnedEntity}
	first := bytes.Join([][]byte{
		b.Entity(DemoOwnedEntity, "Demoland Harbour Services Ltd", "DL", ""),
		b.Entity("XB-AZURE", "Azure Maritime Trading SA", "XB", ""),
		b.Entity("DL-NORTHWIND", "Northwind Holdings Ltd", "DL", ""),
		b.Entity("XC-KESTREL", "Kestrel Investments Inc", "XC", ""),
		b.Person("P-7K3Q", "Ana Demo-Varga", ""),
		b.Person("P-2XW9", "Bruno Example", ""),
		b.Person("P-M5RD", "Chloé Sample", ""),
		b.Relationship("R-1", DemoOwnedEntity, "XB-AZURE", []float64{70}, ""),
		b.Relationship("R-2", DemoOwnedEntity, "DL-NORTHWIND", []float64{30}, ""),
		b.Relationship("R-3", "XB-AZURE", "XC-KESTREL", []float64{100}, ""),
		b.Relationship("R-4", "XC-KESTREL", "P-7K3Q", []float64{50, 75}, ""),
		b.Relationship("R-5", "XC-KESTREL", "P-2XW9", []float64{25}, ""),
		b.Relationship("R-6", "DL-NORTHWIND", "P-M5RD", []float64{90}, ""),
		b.Relationship("R-7", "DL-NORTHWIND", "XC-KESTREL", []float64{10}, ""),
		b.Relationship("R-8", "XC-KESTREL", "DL-NORTHWIND", []float64{5}, ""), // a loop
		b.Relationship("R-9", "DL-NORTHWIND", "P-2XW9", nil, ""),              // control without a share
	}, []byte("\n"))
	if _, err := s.ImportBODS(ctx, d.Admin, "demoland-register-2025-06.jsonl", bytes.NewReader(first), 0, nil); err != nil {
		return err
	}
	b2 := &bods.Builder{Prefix: "demoland-bods-2", Date: "2025-12-31", Publisher: "Demoland Companies Registry (synthetic)", Subject: DemoOwnedEntity}
	second := bytes.Join([][]byte{
		b2.Relationship("R-5", "XC-KESTREL", "P-2XW9", []float64{20}, bods.StatusUpdated),
		b2.Relationship("R-9", "DL-NORTHWIND", "P-2XW9", nil, bods.StatusClosed),
	}, []byte("\n"))
	_, err := s.ImportBODS(ctx, d.Admin, "demoland-register-2025-12.jsonl", bytes.NewReader(second), 0, nil)
	return err
}
