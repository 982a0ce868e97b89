package web

import (
	"net/http"
	"net/url"

	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/transplant"
)

// ---- Organ donation and transplantation: across borders (docs/vigilance.md) ----
//
// One page for what a coordinator does with foreign registries: send an
// organ abroad, see the organs sent and what became of them there, see the
// organs received and record what became of them here, and acknowledge the
// foreign registries' reports passed on to their centre.

// crossBorderPages are the section's pages across borders.
func (t *transplantPages) crossBorderPages() []Page {
	return []Page{
		get("/abroad", t.abroad).Allowed(transplant.Read),
		post("/exports", t.exportOrgan).Allowed(transplant.Record),
		post("/imports/outcome", t.importOutcome).Allowed(transplant.Record),
		post("/imports/assignment", t.assignImport).Allowed(transplant.AssignImports),
		post("/imports/reassignment", t.reassignImport).Allowed(transplant.AssignImports),
		post("/foreign-notifications/{id}/acknowledge", t.acknowledgeForeign).Allowed(transplant.Acknowledge),
	}
}

// crossBorderLists are the value lists of the forms across borders.
var crossBorderLists = map[string][]string{"import_outcome": transplant.ImportOutcomes}

// The organ status a trace shows for an organ sent abroad.
var _ = i18n.M("exported")

type abroadData struct {
	Exports   []transplant.Export
	Imports   []transplant.Import
	Reports   []transplant.ForeignSAE
	Centres   map[string]string
	People    people // who assigned the imports (who)
	PeerOpt   []Option
	CanRecord bool
	CanAckFor string // the coordinator's centre
	// The regulator's: the organs received that the assignment would not
	// refuse (transplant.Service.AssignableImports), and the centres.
	Unassigned []Option
	// The organs the reassignment would take: held by a centre, no
	// outcome (transplant.Service.ReassignableImports), each with the
	// centre that holds it.
	Held      []Option
	CentreOpt []Option
}

// assigners are the principals who assigned the organs of ims to centres
// here.
func assigners(ims []transplant.Import) []string {
	var ids []string
	for _, im := range ims {
		ids = append(ids, im.AssignedBy)
		for _, a := range im.Assignments {
			ids = append(ids, a.AssignedBy)
		}
	}
	return ids
}

func (t *transplantPages) abroad(w http.ResponseWriter, r *http.Request, s *Session) {
	t.showAbroad(w, r, s, nil)
}

func (t *transplantPages) showAbroad(w http.ResponseWriter, r *http.Request, s *Session, ref *Refusal) {
	pg := s.View(r, "Across borders")
	ctx := r.Context()
	var d abroadData
	var err error
	if d.Exports, err = t.svc.Exports(ctx, s.P); err == nil {
		if d.Imports, err = t.svc.Imports(ctx, s.P); err == nil {
			d.Reports, err = t.svc.ForeignSAEs(ctx, s.P)
		}
	}
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	peers, err := t.svc.ExportPeers(ctx, s.P)
	if err != nil {
		s.Fail(w, r, err)
		return
	}
	for _, p := range peers {
		d.PeerOpt = append(d.PeerOpt, Option{Value: p.ID, Label: p.Name + " (" + p.Jurisdiction + ")"})
	}
	if d.Centres, d.CentreOpt, err = centreChoices(ctx, t.svc.DB); err != nil {
		s.Fail(w, r, err)
		return
	}
	if s.P.Can(transplant.AssignImports) {
		assignable, err := t.svc.AssignableImports(ctx, s.P)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		held, err := t.svc.ReassignableImports(ctx, s.P)
		if err != nil {
			s.Fail(w, r, err)
			return
		}
		d.Unassigned, d.Held = importOptions(s, d.Centres, assignable, false), importOptions(s, d.Centres, held, true)
	}
	if d.People, err = principalNames(ctx, t.svc.DB.Read(), s.P, assigners(d.Imports)...); err != nil {
		s.Fail(w, r, err)
		return
	}
	d.CanRecord = s.P.Can(transplant.Record)
	if s.P.Role == transplant.RoleCoordinator {
		d.CanAckFor = s.P.AuthorityID
	}
	pg.Data = d
	switch s.Notice(r).Get("done") {
	case "exported":
		pg.Flash = s.T("The organ's characterization and traceability data are on their way to the foreign registry.")
	case "outcome":
		pg.Flash = s.T("Outcome recorded and sent to the registry of origin.")
	case "assigned":
		pg.Flash = s.T("Organ assigned: the centre's coordinators record what became of it.")
	case "reassigned":
		pg.Flash = s.T("Organ reassigned: the new centre's coordinators record what became of it.")
	case "acknowledged":
		pg.Flash = s.T("Notification acknowledged.")
	}
	pg.SetForm("outcome", url.Values{"outcome": {"transplanted"}})
	s.Show(w, r, "abroad", pg, ref)
}

func (t *transplantPages) exportOrgan(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	_, err := t.svc.ExportOrgan(r.Context(), s.P, transplant.NewExport{OrganID: v.Get("organ_id"), PeerID: v.Get("peer_id"),
		DestinationCentre: v.Get("destination_centre")})
	if err != nil {
		t.showAbroad(w, r, s, &Refusal{Form: "export", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/abroad", url.Values{"done": {"exported"}})
}

func (t *transplantPages) importOutcome(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	_, err := t.svc.RecordImportOutcome(r.Context(), s.P, v.Get("organ_id"), transplant.NewImportOutcome{Outcome: v.Get("outcome"),
		RecipientID: v.Get("recipient_id"), On: v.Get("on"), Reason: v.Get("reason")})
	if err != nil {
		t.showAbroad(w, r, s, &Refusal{Form: "outcome", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/abroad", url.Values{"done": {"outcome"}})
}

func (t *transplantPages) assignImport(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	if _, err := t.svc.AssignImport(r.Context(), s.P, v.Get("organ_id"), transplant.NewAssignment{CentreID: v.Get("centre_id")}); err != nil {
		t.showAbroad(w, r, s, &Refusal{Form: "assign", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/abroad", url.Values{"done": {"assigned"}})
}

func (t *transplantPages) reassignImport(w http.ResponseWriter, r *http.Request, s *Session) {
	v := r.PostForm
	in := transplant.NewReassignment{CentreID: v.Get("centre_id"), Reason: v.Get("reason")}
	if _, err := t.svc.ReassignImport(r.Context(), s.P, v.Get("organ_id"), in); err != nil {
		t.showAbroad(w, r, s, &Refusal{Form: "reassign", Values: v, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/abroad", url.Values{"done": {"reassigned"}})
}

func (t *transplantPages) acknowledgeForeign(w http.ResponseWriter, r *http.Request, s *Session) {
	if _, err := t.svc.AcknowledgeForeignNotification(r.Context(), s.P, r.PathValue("id")); err != nil {
		t.showAbroad(w, r, s, &Refusal{Form: "ack-" + r.PathValue("id"), Values: r.PostForm, Err: err})
		return
	}
	s.RedirectDone(w, r, "/transplant/abroad", url.Values{"done": {"acknowledged"}})
}

// importOptions are organs from abroad as a form's choices: the organ's
// identifier and its country of origin, and for an organ a centre holds
// (held) the centre, by its name in centres, that its last assignment
// gave it to, so that the regulator moving it sees from where.
func importOptions(s *Session, centres map[string]string, ims []transplant.Import, held bool) []Option {
	var out []Option
	for _, im := range ims {
		o := Option{Value: im.OrganID, Label: im.OrganID + " (" + im.OriginCountry + ")"}
		if n := len(im.Assignments); held && n > 0 {
			c := im.Assignments[n-1].CentreID
			if name := centres[c]; name != "" {
				c = name
			}
			o.Label = s.T("%s (%s), held by %s", im.OrganID, im.OriginCountry, c)
		}
		out = append(out, o)
	}
	return out
}
