package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
)

const assetsRequestsUsage = `Usage: custos assets requests COMMAND [flags]

Requests between states (MLA, extradition, asset recovery, spontaneous disclosure), as the
principal whose token is given (--token or CUSTOS_TOKEN), over the same service and rules as
the API (/api/v1/assets/requests): a central authority officer or a prosecutor drafts its state's
requests; only the central authority sends them, records the steps and asks or answers.

  list [--type T] [--status S] [--direction outgoing|incoming] [--state XA] [--overdue] [--q TEXT]
  show ID                     the request with its timeline, questions, uses and what it lacks (JSON)
  draft --type mla --requested-state XB --requested-authority DI-... [fields]
                              a new draft; --follows RQ-... links it to the spontaneous
                              disclosure it follows (custos assets requests draft --help: the fields)
  change ID [fields]          a draft's given fields changed, the others kept
  check ID                    what the request lacks before it may be sent (exit 1 when anything)
  send ID                     send a complete draft; refused with every missing item named
  step ID STATUS              acknowledged, under_execution, executed, partially_executed (--note),
                              refused (--grounds G --grounds-text T) or withdrawn
  ask ID --question TEXT      ask the other state's central authority for more information
  answer ID QUESTION_ID --answer TEXT
  use ID --purpose P [--share-with XC] [--note TEXT]
  peers                       the registries requests may travel to over the exchange

draft, change, step, ask, answer and use take --from-file FILE|- too: their fields as one JSON
object with the API's names ({"facts": ..., "purpose": ...}), read from a file or standard
input, so that facts, notes and answers naming persons stay out of the process list and the
shell's history.

list, show, check and peers open the registry read-only. See docs/assets.md, "Requests".`

// requestFlags binds the fields of a draft to flags; lists are comma-separated.
type requestFlags struct {
	in                                  assets.NewRequest
	assistance, offences, uses, caseIDs string
	file                                fromFile
}

// requestFields are the JSON names of a draft's fields, as --from-file takes them.
const requestFields = "type, requested_state, requested_authority, legal_basis, treaty, assistance, offences, facts, purpose, nexus, urgent, urgency_reasons, deadline, confidentiality, dual_criminality, language, use_purposes, onward_sharing, follows, case_ids, peer_id"

func (f *requestFlags) add(fs *flag.FlagSet) {
	r := &f.in
	fs.StringVar(&r.Type, "type", "", "the type: "+strings.Join(assets.RequestTypes, ", "))
	fs.StringVar(&r.RequestedState, "requested-state", "", "the state asked (ISO 3166-1 alpha-2)")
	fs.StringVar(&r.RequestedAuthority, "requested-authority", "", "its central authority, a directory entry (DI-...)")
	fs.StringVar(&r.LegalBasis, "legal-basis", "", ""+strings.Join(assets.LegalBases, ", "))
	fs.StringVar(&r.Treaty, "treaty", "", "the treaty, when the legal basis is a bilateral treaty")
	fs.StringVar(&f.assistance, "assistance", "", "the assistance sought, comma-separated: "+strings.Join(assets.AssistanceKinds, ", "))
	fs.StringVar(&f.offences, "offences", "", "ICCS codes, comma-separated")
	fs.StringVar(&r.Facts, "facts", "", "a summary of the facts")
	fs.StringVar(&r.Purpose, "purpose", "", "the purpose of the request")
	fs.StringVar(&r.Nexus, "nexus", "", "the link between the facts and the measure requested")
	fs.BoolVar(&r.Urgent, "urgent", false, "the request is urgent")
	fs.StringVar(&r.UrgencyReasons, "urgency-reasons", "", "the reasons of the urgency")
	fs.StringVar(&r.Deadline, "deadline", "", "the day by which it is to be executed (YYYY-MM-DD)")
	fs.StringVar(&r.Confidentiality, "confidentiality", "", ""+strings.Join(assets.Confidentialities, ", "))
	fs.StringVar(&r.DualCriminality, "dual-criminality", "", "why the conduct is an offence in both states")
	fs.StringVar(&r.Language, "language", "", "the language it is written in (ISO 639-1)")
	fs.StringVar(&f.uses, "use-purposes", "", "the uses of what it brings, comma-separated: "+strings.Join(assets.UsePurposes, ", "))
	fs.BoolVar(&r.OnwardSharing, "onward-sharing", false, "consent that the requested state share it further")
	fs.StringVar(&r.Follows, "follows", "", "the spontaneous disclosure (RQ-...) this request follows")
	fs.StringVar(&f.caseIDs, "cases", "", "the cases it serves (AC-...), comma-separated")
	fs.StringVar(&r.PeerID, "peer", "", "the requested state's registry (an exchange peer): the request travels over the exchange")
	f.file.add(fs, requestFields)
}

// apply sets on base the fields whose flags were given, or that the object
// of --from-file names (all of them on a new draft: base is then empty). A
// flag is named after its field's JSON name (fieldOf).
func (f *requestFlags) apply(fs *flag.FlagSet, base assets.NewRequest) (assets.NewRequest, error) {
	given := f.in
	given.Assistance, given.Offences, given.UsePurposes, given.CaseIDs = names(f.assistance), names(f.offences), names(f.uses), names(f.caseIDs)
	var file assets.NewRequest
	if err := f.file.read(fs, &file); err != nil {
		return base, err
	}
	var from, inFile, to map[string]any
	for _, x := range []struct {
		v any
		m *map[string]any
	}{{given, &from}, {file, &inFile}, {base, &to}} {
		b, err := json.Marshal(x.v)
		if err != nil {
			return base, err
		}
		if err := json.Unmarshal(b, x.m); err != nil {
			return base, err
		}
	}
	set := func(key string, from map[string]any) {
		if v, ok := from[key]; ok {
			to[key] = v
		} else {
			delete(to, key)
		}
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name != "from-file" {
			set(fieldOf(fl.Name), from)
		}
	})
	for key := range f.file.given {
		set(key, inFile)
	}
	b, err := json.Marshal(to)
	if err != nil {
		return base, err
	}
	var out assets.NewRequest
	err = json.Unmarshal(b, &out)
	return out, err
}

// names splits a comma-separated list, dropping blanks.
func names(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func runAssetsRequests(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var lf assets.RequestFilter
	var rf requestFlags
	var draftFlags *flag.FlagSet
	var st assets.NewStatus
	var use assets.NewUse
	var ask struct {
		Question string `json:"question"`
	}
	var reply struct {
		Answer string `json:"answer"`
	}
	show := func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
		f, err := s.RequestFile(ctx, p, pos[0])
		if err != nil {
			return err
		}
		return writeJSON(stdout, f)
	}
	return runAssetsCommand(ctx, "requests", assetsRequestsUsage, map[string]assetsCommand{
		"list": {readOnly: true, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&lf.Type, "type", "", "the type: "+strings.Join(assets.RequestTypes, ", "))
			fs.StringVar(&lf.Status, "status", "", "the status: "+strings.Join(assets.RequestStatuses, ", "))
			fs.StringVar(&lf.Direction, "direction", "", "outgoing (made here) or incoming (received from another registry)")
			fs.StringVar(&lf.State, "state", "", "a state either party is (regulator and auditor)")
			fs.BoolVar(&lf.Overdue, "overdue", false, "only those whose deadline passed and that are not finished")
			fs.StringVar(&lf.Q, "q", "", "text of its id, facts, purpose or authorities")
		}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			rs, err := s.Requests(ctx, p, lf)
			if err != nil {
				return err
			}
			for _, r := range rs {
				overdue := ""
				if r.Overdue {
					overdue = "OVERDUE"
				}
				fmt.Fprintf(stdout, "%-14s %-8s %-14s %-18s %s->%s %-10s %s\n", r.ID, r.Direction, r.Type, r.Status, r.RequestingState, r.RequestedState, r.Deadline, overdue)
			}
			fmt.Fprintf(stdout, "%d request(s)\n", len(rs))
			return nil
		}},
		"show": {readOnly: true, args: []string{"ID"}, run: show},
		"draft": {flags: func(fs *flag.FlagSet) { rf.add(fs); draftFlags = fs }, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			in, err := rf.apply(draftFlags, assets.NewRequest{})
			if err != nil {
				return err
			}
			r, err := s.DraftRequest(ctx, p, "", in)
			if err != nil {
				return err
			}
			return writeJSON(stdout, r)
		}},
		"change": {args: []string{"ID"}, flags: func(fs *flag.FlagSet) { rf.add(fs); draftFlags = fs }, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			old, err := s.Request(ctx, p, pos[0])
			if err != nil {
				return err
			}
			in, err := rf.apply(draftFlags, old.NewRequest)
			if err != nil {
				return err
			}
			r, err := s.DraftRequest(ctx, p, pos[0], in)
			if err != nil {
				return err
			}
			return writeJSON(stdout, r)
		}},
		"check": {readOnly: true, args: []string{"ID"}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			miss, err := s.Completeness(ctx, p, pos[0])
			if err != nil {
				return err
			}
			printMissing(stdout, miss)
			if len(miss) > 0 {
				return &exitError{1, fmt.Sprintf("request %s lacks %d items before it is sent", pos[0], len(miss))}
			}
			fmt.Fprintf(stdout, "request %s is complete: it may be sent\n", pos[0])
			return nil
		}},
		"send": {args: []string{"ID"}, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			r, inc, err := s.SendRequest(ctx, p, pos[0])
			if inc != nil {
				printMissing(stderr, inc.Missing)
			}
			if err != nil {
				return err
			}
			return writeJSON(stdout, r)
		}},
		"step": {args: []string{"ID", "STATUS"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&st.Grounds, "grounds", "", "refused: the ground, one of "+strings.Join(assets.RefusalGrounds, ", "))
			fs.StringVar(&st.GroundsText, "grounds-text", "", "refused: the reasons (UNCAC art. 46(23))")
			fs.StringVar(&st.Note, "note", "", "a note (required for partially_executed)")
			fs.BoolVar(&st.OnwardSharing, "onward-sharing", false, "the requested state's consent, with its answer, that what it gives be shared further")
		}, body: &st, fields: "grounds, grounds_text, note, onward_sharing", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			st.Status = pos[1]
			r, err := s.RecordStatus(ctx, p, pos[0], st)
			if err != nil {
				return err
			}
			return writeJSON(stdout, r)
		}},
		"ask": {args: []string{"ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&ask.Question, "question", "", "the question to the other state's central authority")
		}, body: &ask, fields: "question", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			q, err := s.AskInformation(ctx, p, pos[0], ask.Question)
			if err != nil {
				return err
			}
			return writeJSON(stdout, q)
		}},
		"answer": {args: []string{"ID", "QUESTION_ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&reply.Answer, "answer", "", "the answer")
		}, body: &reply, fields: "answer", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			q, err := s.AnswerInformation(ctx, p, pos[0], pos[1], reply.Answer)
			if err != nil {
				return err
			}
			return writeJSON(stdout, q)
		}},
		"use": {args: []string{"ID"}, flags: func(fs *flag.FlagSet) {
			fs.StringVar(&use.Purpose, "purpose", "", "the purpose of the use, one the request states: "+strings.Join(assets.UsePurposes, ", "))
			fs.StringVar(&use.ShareWith, "share-with", "", "a third state it is shared with (ISO 3166-1 alpha-2)")
			fs.StringVar(&use.Note, "note", "", "a note")
		}, body: &use, fields: "purpose, share_with, note", run: func(ctx context.Context, s *assets.Service, p *auth.Principal, pos []string, stdout io.Writer) error {
			if err := s.RecordUse(ctx, p, pos[0], use); err != nil {
				return err
			}
			return show(ctx, s, p, pos, stdout)
		}},
		"peers": {readOnly: true, run: func(ctx context.Context, s *assets.Service, p *auth.Principal, _ []string, stdout io.Writer) error {
			ps, err := s.RequestPeers(ctx, p)
			if err != nil {
				return err
			}
			for _, x := range ps {
				fmt.Fprintf(stdout, "%-14s %-2s %s\n", x.ID, x.Jurisdiction, x.Name)
			}
			fmt.Fprintf(stdout, "%d peer(s)\n", len(ps))
			return nil
		}},
	}, args, stdout, stderr)
}

// printMissing writes the items a request lacks, one a line: the field and
// what it must hold.
func printMissing(w io.Writer, miss []assets.Missing) {
	for _, m := range miss {
		fmt.Fprintf(w, "missing %-20s %s\n", m.Field, m.Message)
	}
}
