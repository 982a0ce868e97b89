package web

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
)

// AssetsBODS adds the beneficial-ownership page to the asset-recovery
// section: /assets/ownership, the ownership graph of a person or entity
// drawn as SVG, with its table; every lookup is logged (via "web").
func AssetsBODS(sec *Section, svc *assets.Service) {
	sec.Pages = append(sec.Pages, get("/ownership", func(w http.ResponseWriter, r *http.Request, s *Session) { bodsOwnership(svc, w, r, s) }).Allowed(assets.ReadOwnership))
	nav := sec.Nav
	sec.Nav = func(p *auth.Principal) []Link {
		var links []Link
		if nav != nil {
			links = nav(p)
		}
		if p.Can(assets.ReadOwnership) {
			links = append(links, Link{"/assets/ownership", i18n.M("Beneficial ownership")})
		}
		return links
	}
}

type bodsHolding struct {
	bods.Holding
	Share, DirectShare string
	Question           string // the question its record's link asks
	// Label is the party's name, or the words for one not shown (an
	// erased person, a sealed name the reader may not open, a party no
	// statement names: Placeholder), translated (OwnershipAnswer.NameLabel).
	Label       string
	Placeholder bool
}

type bodsData struct {
	Record, Question string
	Questions        []Option
	Answer           *assets.OwnershipAnswer
	Holdings         []bodsHolding
	Holders          []bodsHolding // the other parties along the chains (owners)
	Graph            template.HTML
	Imports          int
	Root             bodsHolding // the root's label
}

func bodsOwnership(svc *assets.Service, w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(assets.ReadOwnership); err != nil {
		s.Fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := bodsData{Record: q.Get("record"), Question: q.Get("question"),
		Questions: []Option{{Value: assets.QuestionOwners, Label: s.T("Who ultimately owns or controls this entity")},
			{Value: assets.QuestionControls, Label: s.T("Which entities this person or entity holds")}}}
	if d.Question == "" {
		d.Question = assets.QuestionOwners
	}
	ims, err := svc.BODSImports(r.Context(), s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	d.Imports = len(ims)
	v := s.View(r, "Beneficial ownership")
	form := url.Values{"record": {d.Record}, "question": {d.Question}}
	v.SetForm("ownership", form)
	var ref *Refusal
	if d.Record != "" {
		a, err := svc.Ownership(r.Context(), s.P, d.Question, d.Record, "web")
		if e, ok := errs.As(err); ok && (e.Code == errs.NotFound || e.Code == errs.Invalid) {
			ref = &Refusal{Form: "ownership", Values: form, Highlight: "record", Err: e}
		} else if err != nil {
			s.Fail(w, r, err)
			return
		} else {
			d.Answer = a
			// One label for a party in the table, the heading and the
			// drawing, as the command line writes it.
			label := func(n bods.Node) (string, bool) {
				l, placeholder := a.NameLabel(n)
				if placeholder {
					l = s.T(l)
				}
				return l, placeholder
			}
			row := func(h bods.Holding) bodsHolding {
				b := bodsHolding{Holding: h, Share: bods.ShareText(h.Lo, h.Hi, h.AnyShare),
					DirectShare: bods.ShareText(h.DirectLo, h.DirectHi, h.DirectAnyShare), Question: d.Question}
				b.Label, b.Placeholder = label(h.Node)
				return b
			}
			d.Root = row(bods.Holding{Node: a.Root})
			for _, h := range a.Holdings {
				d.Holdings = append(d.Holdings, row(h))
			}
			for _, h := range a.Holders {
				d.Holders = append(d.Holders, row(h))
			}
			// The drawing is built by bods.SVG, which escapes every text it writes.
			d.Graph = template.HTML(bods.SVG(a.Answer, d.Question == assets.QuestionOwners, func(n bods.Node) string {
				l, _ := label(n)
				return l
			}))
		}
	}
	v.Data = d
	s.Show(w, r, "ownership", v, ref)
}
