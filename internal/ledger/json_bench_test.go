package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// BenchmarkDecodeLeaf reads a leaf shaped like a recorded transplant, its
// envelope and then its data, as log verify's workers do for every leaf:
// with strictUnmarshal, and with encoding/json's Decoder set as strictly as
// it can be (unknown fields refused, nothing after the value), which read
// the leaves before, as the same run's baseline.
func BenchmarkDecodeLeaf(b *testing.B) {
	type transplant struct {
		ID              string `json:"id"`
		OrganID         string `json:"organ_id"`
		RecipientID     string `json:"recipient_id"`
		CentreID        string `json:"centre_id"`
		AuthorizationID string `json:"authorization_id"`
		PerformedAt     string `json:"performed_at"`
	}
	e, err := NewEntry("transplant.recorded", transplant{ID: "TX-00012345", OrganID: "OR-000123456", RecipientID: "RC-00098765",
		CentreID: "CE-0042", AuthorizationID: "AZ-000123456", PerformedAt: "2025-03-01T09:00:00Z"})
	if err != nil {
		b.Fatal(err)
	}
	e.At, e.By, e.Authority = "2025-03-01T10:11:12Z", "PR-0000123", "AU-NATIONAL"
	leaf, err := json.Marshal(e)
	if err != nil {
		b.Fatal(err)
	}
	decoderV1 := func(b []byte, v any) error {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(v); err != nil {
			return err
		}
		if dec.More() {
			return errors.New("trailing data")
		}
		return nil
	}
	for _, c := range []struct {
		name   string
		decode func([]byte, any) error
	}{{"strict", strictUnmarshal}, {"encoding-json-decoder", decoderV1}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var e Entry
				if err := c.decode(leaf, &e); err != nil {
					b.Fatal(err)
				}
				var t transplant
				if err := c.decode(e.Data, &t); err != nil {
					b.Fatal(err)
				}
				if t.PerformedAt == "" {
					b.Fatal("nothing decoded")
				}
			}
		})
	}
}
