package web

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/witness"
	"github.com/custos-project/custos/internal/zone"
)

// ---- The log (auditor, regulator, administrator): its checkpoint, a leaf
// with its inclusion proof, and a verify run on the server ----

// verifyTimeout bounds a verify started from the log page.
const verifyTimeout = 6 * time.Hour

// verifyJob is the log page's verify: one at a time per server, run in the
// background; its page refreshes itself until it is done.
type verifyJob struct {
	mu          sync.Mutex
	running     bool
	by          string // the name of who started it
	started     time.Time
	finished    time.Time
	done, total uint64
	report      *ledger.Report
	err         i18n.Msg // why it could not run to the end
}

// verifyState is what the pages show of the job.
type verifyState struct {
	Started, Finished bool
	Running           bool
	By                string
	StartedAt         string
	FinishedAt        string
	Seconds           int
	Done, Total       uint64
	Report            *ledger.Report
	Root              string
	Err               string
}

// state is the job as s's pages show it: its times in s's zone and in
// the layout of s's language.
func (j *verifyJob) state(s *Session) verifyState {
	loc, layout := s.Zone(), s.l.Layout(true)
	j.mu.Lock()
	defer j.mu.Unlock()
	st := verifyState{Started: !j.started.IsZero(), Running: j.running, By: j.by, Done: j.done, Total: j.total,
		Report: j.report, Err: j.err}
	if st.Started {
		st.StartedAt = zone.FormatLayout(j.started, loc, layout)
		end := time.Now()
		if !j.running {
			end = j.finished
			st.Finished = true
			st.FinishedAt = zone.FormatLayout(j.finished, loc, layout)
		}
		st.Seconds = int(end.Sub(j.started).Seconds())
	}
	if j.report != nil {
		st.Root = ledger.RootText(j.report.Root)
	}
	return st
}

// start begins a verify unless one runs; it tells whether it began one.
func (j *verifyJob) start(u *UI, by string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.running {
		return false
	}
	j.running, j.by, j.started, j.finished = true, by, time.Now(), time.Time{}
	j.done, j.total, j.report, j.err = 0, 0, nil, ""
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
		defer cancel()
		// Two workers: the server goes on answering beside it.
		rep, err := ledger.Verify(ctx, u.DB, u.Projections, ledger.VerifyOptions{VerifierKey: u.VerifierKey, Workers: 2,
			Progress: func(stage string, done, total uint64) {
				if stage != "leaves" {
					return
				}
				j.mu.Lock()
				j.done, j.total = done, total
				j.mu.Unlock()
			}})
		if err != nil {
			u.Log.Error("web: log verify failed", "err", err)
		}
		j.mu.Lock()
		defer j.mu.Unlock()
		j.running, j.finished, j.report = false, time.Now(), rep
		if err != nil {
			j.err = i18n.M("the verify could not run to the end; the server log says why")
		} else if rep != nil {
			j.done, j.total = rep.Size, rep.Size
		}
	}()
	return true
}

// logData is the log page's.
type logData struct {
	Size       uint64
	Root       string // ledger.RootText
	Checkpoint string // the signed note
	Leaf       *leafView
	CanVerify  bool
	Verify     verifyState
	// The log's key as the log records it, its fingerprint, and the
	// witnesses with the latest checkpoint they cosigned (witnessData).
	LogKey         string
	KeyFingerprint string
	Witnesses      []witness.Witness
	Cosigned       *witness.Cosigned
}

// witnessData reads what the log page shows of the log's key and its
// witnesses, in the page's snapshot; cosignatures that do not verify are
// not shown, and go to the server log.
func (u *UI) witnessData(ctx context.Context, q store.Queryer, d *logData) error {
	var err error
	if d.LogKey, err = ledger.RecordedKey(ctx, q); err != nil {
		return err
	}
	if d.KeyFingerprint, err = ledger.KeyFingerprint(d.LogKey); err != nil {
		return err
	}
	if d.Witnesses, err = witness.List(ctx, q, u.Log); err != nil {
		return err
	}
	d.Cosigned, err = witness.Latest(ctx, q, u.Log)
	return err
}

// leafView is a leaf with its inclusion proof, its hashes in hex and its root
// as ledger.RootText shows it, and whether the proof checks against the
// root it was read with.
type leafView struct {
	Index      uint64
	Data       string
	LeafHash   string
	TreeSize   uint64
	Root       string
	Proof      []string
	ProofOK    bool
	Checkpoint string
}

func hexAll(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = hex.EncodeToString(b)
	}
	return out
}

// logPage shows the current checkpoint; with ?index=N, leaf N with its
// inclusion proof.
func (u *UI) logPage(w http.ResponseWriter, r *http.Request, s *Session) {
	ctx := r.Context()
	if err := s.P.Require(auth.ReadLog); err != nil {
		u.fail(w, r, s, err)
		return
	}
	q, err := u.DB.Snapshot(ctx)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	defer q.Rollback()
	h, cp, err := ledger.ReadHead(ctx, q)
	if err != nil {
		u.fail(w, r, s, err)
		return
	}
	data := logData{Size: h.Size, Root: ledger.RootText(h.Root), Checkpoint: cp, CanVerify: u.Projections != nil,
		Verify: u.verify.state(s)}
	if err := u.witnessData(ctx, q, &data); err != nil {
		u.fail(w, r, s, err)
		return
	}
	v := u.newView(r, s, "Log")
	var ref *Refusal
	query := r.URL.Query()
	if raw, ok := query["index"]; ok {
		v.SetForm("leaf", url.Values{"index": raw})
		idx, err := strconv.ParseUint(strings.TrimSpace(query.Get("index")), 10, 63)
		var l *ledger.ProvenLeaf
		if err != nil {
			err = errs.Invalidf("integer", "index", "the leaf index must be a whole number from 0 to %d", max(h.Size, 1)-1)
		} else {
			l, err = ledger.ReadLeaf(ctx, q, idx)
		}
		if err != nil {
			ref = &Refusal{Form: "leaf", Values: url.Values{"index": raw}, Err: err}
		} else {
			data.Leaf = &leafView{Index: l.Index, Data: l.Data, LeafHash: hex.EncodeToString(l.LeafHash), TreeSize: l.TreeSize,
				Root: ledger.RootText(l.Root), Proof: hexAll(l.InclusionProof), Checkpoint: l.Checkpoint,
				ProofOK: ledger.VerifyInclusion(l.Index, l.TreeSize, l.LeafHash, l.InclusionProof, l.Root) == nil}
		}
	}
	v.Data = data
	u.show(w, r, nil, "log", v, ref)
}

// startVerify starts a verify of the log on the server, unless one runs,
// and sends the principal to its progress.
func (u *UI) startVerify(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(auth.ReadLog); err != nil {
		u.fail(w, r, s, err)
		return
	}
	if u.Projections == nil {
		u.fail(w, r, s, errs.New(errs.Unavailable, "verify_unavailable", "", "this server cannot verify the log: it was started without the deployment's projections; run custos log verify"))
		return
	}
	if !u.verify.start(u, s.P.Name) {
		s.RedirectDone(w, r, "/log/verify", url.Values{"done": {"running"}})
		return
	}
	Redirect(w, r, "/log/verify", nil)
}

// verifyPage shows the verify's progress, refreshing itself while it runs,
// then its result.
func (u *UI) verifyPage(w http.ResponseWriter, r *http.Request, s *Session) {
	if err := s.P.Require(auth.ReadLog); err != nil {
		u.fail(w, r, s, err)
		return
	}
	st := u.verify.state(s)
	v := u.newView(r, s, "Log verify")
	v.Data = logData{CanVerify: u.Projections != nil, Verify: st}
	if st.Running {
		v.Refresh = 2
		if s.Notice(r).Get("done") == "running" {
			v.Flash = s.T("A verify was already running on this server: here is its progress.")
		}
	}
	u.show(w, r, nil, "verify", v, nil)
}
