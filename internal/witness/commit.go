package witness

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// The cosignatures the witnesses send are kept in log_cosignatures, outside
// the log: a leaf per cosignature would move the head the witness just
// signed, the witness would cosign the new head, and the log would grow by a
// leaf each time a witness looks, for ever. A row's signatures prove it is a
// witness's, but nothing proved a row was not deleted: a witness's proof
// that it saw the log, gone, and log verify none the wiser. So the registry
// commits them by digest, as the exchange commits its kept refusals: at
// most once a CommitPeriod, when some are not yet committed and the log
// has grown by another entry since the last commitment, one entry
// (log.cosignatures_committed, by the registry itself) counts them, gives
// their sizes and SHA-256 (and names them when they are few), and its
// projector marks them with its index (commit_index, core migration 23);
// log verify (verifyCosignatures, commitCheck) checks the rows of each
// commitment against it. The rule that another entry come between two
// commitments is what bounds the log: a commitment moves the head, the
// witnesses cosign it, and those cosignatures wait for the registry's next
// entry of another kind. So the rows received since the last commitment
// are not yet covered: at least the cosignatures of the head while the
// registry is idle, at most those of a period's activity.

// TypeCosignaturesCommitted commits the cosignatures received since the
// last such entry to the log.
const TypeCosignaturesCommitted = "log.cosignatures_committed"

// CommitPeriod is how often, at most, the registry commits the
// cosignatures it received (CommitCosignatures).
const CommitPeriod = 5 * time.Minute

// MaxNamed is how many cosignatures a commitment names one by one, so that
// log verify says which is missing; a larger one gives their sizes' range.
const MaxNamed = 16

// CosignaturesCommitted is the data of log.cosignatures_committed: how many
// cosignatures it commits, the smallest and largest tree size they sign,
// the SHA-256 of their rows in their order (by size, then witness, byte by
// byte: commitDigest), and each by witness and size when they are at most
// MaxNamed.
type CosignaturesCommitted struct {
	Cosignatures int64          `json:"cosignatures"`
	FirstSize    int64          `json:"first_size"`
	LastSize     int64          `json:"last_size"`
	SHA256       string         `json:"sha256"`
	Named        []CosignedSize `json:"named,omitempty"`
}

// CosignedSize names a cosignature: its witness and the tree size it signs.
type CosignedSize struct {
	Witness string `json:"witness"`
	Size    int64  `json:"size"`
}

func (c CosignedSize) String() string { return fmt.Sprintf("by %s of size %d", c.Witness, c.Size) }

// canonical orders cosignatures as a commitment's digest takes them: by
// size, then witness name byte by byte (not as a database collates it).
func canonical(a, b cosignature) int {
	return cmp.Or(cmp.Compare(a.size, b.size), strings.Compare(a.witness, b.witness))
}

// commitDigest is the SHA-256 (hex) of rows, in canonical order, each as
// hashCosignature takes it.
func commitDigest(rows []cosignature) string {
	h := sha256.New()
	for i := range rows {
		hashCosignature(h, &rows[i])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// projectCommitted records a commitment and marks the cosignatures it
// commits, those not yet committed: the writer's transaction holds the
// log's head, and a cosignature is kept only while holding it too (Accept),
// so they are the ones its command counted. On a replay log_cosignatures is
// empty and only the commitment is written.
func projectCommitted(ctx context.Context, q store.Queryer, i int64, e *ledger.Entry, d *CosignaturesCommitted) error {
	var named strings.Builder
	for _, n := range d.Named {
		fmt.Fprintf(&named, "%s %d\n", n.Witness, n.Size)
	}
	if _, err := q.Exec(ctx, `INSERT INTO log_cosignature_commits (id, log_index, cosignatures, first_size, last_size, sha256, named, committed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, fmt.Sprintf("%020d", i), i, d.Cosignatures, d.FirstSize, d.LastSize, d.SHA256, named.String(), e.At); err != nil {
		return err
	}
	_, err := q.Exec(ctx, "UPDATE log_cosignatures SET commit_index = ? WHERE commit_index = 0", i)
	return err
}

// CommitCosignatures commits to the log the cosignatures received since the
// last commitment (one log.cosignatures_committed entry by the registry
// itself), unless there are none, the last commitment is less than a
// CommitPeriod old, or it is the log's last leaf (nothing else was logged
// since, so the cosignatures are of the commitment itself). custos serve
// runs it every period (RunCommits); several servers of one registry
// commit each cosignature once. It tells whether it wrote one.
func (s *Service) CommitCosignatures(ctx context.Context) (bool, error) {
	return s.W.CommitKept(ctx, s.DB.Read(), "SELECT COUNT(*) FROM log_cosignatures WHERE commit_index = 0", "commit the cosignatures received", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		var last int64
		var at string
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(log_index), -1), COALESCE(MAX(committed_at), '') FROM log_cosignature_commits").Scan(&last, &at); err != nil {
			return nil, err
		}
		if at > ledger.FormatTime(now.Add(-CommitPeriod)) {
			return nil, nothingToCommit()
		}
		head, _, err := ledger.ReadHead(ctx, tx)
		if err != nil {
			return nil, err
		}
		if last >= 0 && uint64(last+1) >= head.Size {
			return nil, nothingToCommit()
		}
		rows, err := cosignaturesOf(ctx, tx, 0)
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			return nil, nothingToCommit()
		}
		d := CosignaturesCommitted{Cosignatures: int64(len(rows)), FirstSize: rows[0].size, LastSize: rows[len(rows)-1].size, SHA256: commitDigest(rows)}
		if len(rows) <= MaxNamed {
			for _, r := range rows {
				d.Named = append(d.Named, CosignedSize{r.witness, r.size})
			}
		}
		return ledger.NewEntry(TypeCosignaturesCommitted, d)
	})
}

// nothingToCommit refuses a commitment that another server made meanwhile,
// one less than a period after the last, or one that would follow the last
// directly.
func nothingToCommit() error {
	return errs.New(errs.Conflict, "nothing_to_commit", "", "the cosignatures received are committed already, the last commitment is less than a period old, or nothing was logged since")
}

// RunCommits commits the cosignatures received (CommitCosignatures) at once
// and then every CommitPeriod until ctx ends.
func (s *Service) RunCommits(ctx context.Context, log func(error)) {
	tick.Run(ctx, CommitPeriod, nil, func(ctx context.Context) error { _, err := s.CommitCosignatures(ctx); return err }, log)
}

// cosignaturesOf reads the rows of one commitment (0: those not yet
// committed) in canonical order.
func cosignaturesOf(ctx context.Context, q store.Queryer, commit int64) ([]cosignature, error) {
	rows, err := q.Query(ctx, "SELECT "+cosignatureColumns+" FROM log_cosignatures WHERE commit_index = ?", commit)
	if err != nil {
		return nil, err
	}
	out, err := store.Rows(rows, scanCosignature)
	slices.SortFunc(out, canonical)
	return out, err
}

// commitCheck is the commitments' part of verifyCosignatures: it is given
// every row of log_cosignatures by size (add), and hands each size's rows,
// in canonical order, to the digest of the commitment that marks them.
type commitCheck struct {
	group []cosignature // the rows of the size being read
	seen  map[int64]*committedRows
}

// committedRows are the rows of one commitment as the database holds them.
type committedRows struct {
	n           int64
	first, last int64
	digest      hash.Hash             // of the rows so far, in canonical order
	present     map[CosignedSize]bool // up to MaxNamed+1 of them
}

func newCommitCheck() *commitCheck { return &commitCheck{seen: map[int64]*committedRows{}} }

// add takes the next row (rows come by size).
func (c *commitCheck) add(r cosignature) {
	if len(c.group) > 0 && c.group[0].size != r.size {
		c.flush()
	}
	c.group = append(c.group, r)
}

// flush hands the rows of the size read to their commitments.
func (c *commitCheck) flush() {
	slices.SortFunc(c.group, canonical)
	for i := range c.group {
		r := &c.group[i]
		g := c.seen[r.commit]
		if g == nil {
			g = &committedRows{first: r.size, present: map[CosignedSize]bool{}, digest: sha256.New()}
			c.seen[r.commit] = g
		}
		g.n++
		g.last = r.size
		hashCosignature(g.digest, r)
		if len(g.present) <= MaxNamed {
			g.present[CosignedSize{r.witness, r.size}] = true
		}
	}
	c.group = c.group[:0]
}

// committed is a commitment as the log records it (the replay's
// log_cosignature_commits).
type committed struct {
	index, n, first, last int64
	sum                   string
	named                 []CosignedSize
}

// readCommitments reads the commitments the log records, by index.
func readCommitments(ctx context.Context, q store.Queryer) (map[int64]committed, error) {
	rows, err := q.Query(ctx, "SELECT log_index, cosignatures, first_size, last_size, sha256, named FROM log_cosignature_commits")
	if err != nil {
		return nil, err
	}
	list, err := store.Rows(rows, func(r store.Scanner, c *committed) error {
		var named string
		if err := r.Scan(&c.index, &c.n, &c.first, &c.last, &c.sum, &named); err != nil {
			return err
		}
		for line := range strings.Lines(named) {
			i := strings.LastIndexByte(line, ' ')
			size, err := strconv.ParseInt(strings.TrimSpace(line[i+1:]), 10, 64)
			if i < 0 || err != nil {
				return fmt.Errorf("log_cosignature_commits: commitment %d names %q, not a witness and a size", c.index, line)
			}
			c.named = append(c.named, CosignedSize{line[:i], size})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[int64]committed, len(list))
	for _, c := range list {
		out[c.index] = c
	}
	return out, nil
}

// report compares the rows read with the commitments of the log: a
// commitment's rows fewer than it counts were deleted behind custos's back
// (named when the entry names them, else by the range of sizes), more were
// inserted, the same number with another digest changed; a row marked with
// an index no commitment has was changed. The rows not yet committed are a
// note. It tells whether run asked to stop.
func (c *commitCheck) report(logged map[int64]committed, run ledger.CheckRun) bool {
	c.flush()
	for _, i := range slices.Sorted(maps.Keys(logged)) {
		want, g := logged[i], c.seen[i]
		if g == nil {
			g = &committedRows{digest: sha256.New()}
		}
		var stop bool
		switch {
		case g.n < want.n:
			which := fmt.Sprintf("of sizes %d to %d", want.first, want.last)
			if len(want.named) > 0 {
				var missing []string
				for _, n := range want.named {
					if !g.present[n] {
						missing = append(missing, n.String())
					}
				}
				which = strings.Join(missing, ", ")
			}
			stop = run.Problem("log_cosignatures: entry %d committed %d cosignatures of sizes %d to %d, the database holds %d of them: %d missing (%s), deleted behind custos's back",
				i, want.n, want.first, want.last, g.n, want.n-g.n, which)
		case g.n > want.n:
			stop = run.Problem("log_cosignatures: entry %d committed %d cosignatures of sizes %d to %d, the database holds %d marked with it (inserted behind custos's back)",
				i, want.n, want.first, want.last, g.n)
		case hex.EncodeToString(g.digest.Sum(nil)) != want.sum:
			stop = run.Problem("log_cosignatures: the %d cosignatures entry %d committed (sizes %d to %d) do not match the SHA-256 it carries (changed behind custos's back)",
				g.n, i, want.first, want.last)
		}
		if stop {
			return true
		}
	}
	for _, i := range slices.Sorted(maps.Keys(c.seen)) {
		if _, ok := logged[i]; ok {
			continue
		}
		g := c.seen[i]
		if i == 0 {
			run.Note("log_cosignatures: %d cosignature(s) of sizes %d to %d received since the last commitment, not yet committed to the log (the registry commits them at most every %s, once something else is logged)",
				g.n, g.first, g.last, CommitPeriod)
			continue
		}
		if run.Problem("log_cosignatures: %d cosignature(s) of sizes %d to %d are marked with entry %d, which is no commitment of the log (changed behind custos's back)", g.n, g.first, g.last, i) {
			return true
		}
	}
	return false
}
