package transplant

import (
	"fmt"
	"time"
)

// demoChains is how many of the demo's last donations record the hand-offs
// of their organs, so that their traces show a chain of custody.
const demoChains = 12

// chained tells whether the donation being generated is one of the last
// demoChains of the demo.
func (g *demoGen) chained() bool {
	return g.donors > int(300*g.d.Scale)*g.d.Years-demoChains
}

// chain records the hand-offs of organ o, procured by centre c at procured
// and allocated to centre tc, before its transplantation at t0 + 3 hours:
// out of the procurement theatre, to the courier when it goes to another
// centre, arrival, the transplant theatre. The clock stands after them.
func (g *demoGen) chain(c, tc *demoCentre, o ProcuredOrgan, procured, t0 time.Time) error {
	type scan struct {
		by    *demoCentre
		step  string
		place string
		at    time.Time
	}
	scans := []scan{{c, StepProcurementTheatre, "Procurement theatre 1", procured.Add(5 * time.Minute)}}
	if tc != c {
		scans = append(scans, scan{c, StepTransport, "Organ courier, road (synthetic)", procured.Add(20 * time.Minute)})
	}
	scans = append(scans, scan{tc, StepArrival, "Transplant coordination desk", t0.Add(time.Hour)},
		scan{tc, StepTransplantTheatre, "Transplant theatre 2", t0.Add(150 * time.Minute)})
	for _, s := range scans {
		if _, err := g.svc.RecordHandoff(g.ctx, s.by.coord, NewHandoff{OrganID: o.ID, Step: s.step, Place: s.place,
			HandedAt: s.at.Format(time.RFC3339)}); err != nil {
			return fmt.Errorf("demo hand-off %s of %s: %w", s.step, o.ID, err)
		}
	}
	return nil
}
