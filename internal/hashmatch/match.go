package hashmatch

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
)

// MatchLocal searches banks for any of the variants of one image: known banks
// within their threshold, minus hits on suppression banks. It returns the
// matches by distance and whether a suppression hit cancelled them. Images
// match image entries only: frames of video entries are matched as videos
// (see MatchVideoLocal).
func MatchLocal(banks []*LocalBank, variants []pdq.Hash) ([]Match, bool, error) {
	lbs := make([]*loadedBank, len(banks))
	for i, b := range banks {
		lbs[i] = b.b
	}
	return search(lbs, variants, nil, 0)
}

func search(banks []*loadedBank, variants []pdq.Hash, own []pdq.Hash, ownRadius int) ([]Match, bool, error) {
	best := map[[2]string]Match{}
	suppressed := false
	for _, h := range variants {
		suppressed = suppressed || nearAny(h, own, ownRadius)
	}
	for _, b := range banks {
		for _, h := range variants {
			ms, err := b.idx.Search(toIndex(h), b.threshold)
			if err != nil {
				return nil, false, err
			}
			for _, m := range ms {
				r := b.refs[m.ID]
				if r.frame {
					continue
				}
				if b.kind == KindSuppression {
					suppressed = true
					continue
				}
				e := b.entries[r.entry]
				k := [2]string{b.id, e.EntryID}
				if old, ok := best[k]; !ok || m.Distance < old.Distance {
					best[k] = Match{BankID: b.id, BankVersion: b.version, EntryID: e.EntryID, Classification: e.Classification, Distance: m.Distance}
				}
			}
		}
	}
	out := make([]Match, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sortMatches(out)
	return out, suppressed, nil
}

// nearAny tells whether h is within radius of one of the hashes of list (a
// service's own suppression list).
func nearAny(h pdq.Hash, list []pdq.Hash, radius int) bool {
	for _, o := range list {
		if pdq.Distance(h, o) <= radius {
			return true
		}
	}
	return false
}

// sortMatches orders matches best first: by distance, then bank and entry.
func sortMatches(ms []Match) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Distance != ms[j].Distance {
			return ms[i].Distance < ms[j].Distance
		}
		if ms[i].BankID != ms[j].BankID {
			return ms[i].BankID < ms[j].BankID
		}
		return ms[i].EntryID < ms[j].EntryID
	})
}

// subscribed returns the loaded banks the provider subscribes to and its own
// suppression list.
func (s *Service) subscribed(ctx context.Context, provider string) ([]*loadedBank, []pdq.Hash, error) {
	all, err := s.refresh(ctx)
	if err != nil {
		return nil, nil, err
	}
	q := s.DB.Read()
	rows, err := q.Query(ctx, "SELECT bank_id FROM hm_subscriptions WHERE provider_id = ? ORDER BY bank_id", provider)
	if err != nil {
		return nil, nil, err
	}
	var banks []*loadedBank
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, nil, err
		}
		if b := all[id]; b != nil {
			banks = append(banks, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	rows, err = q.Query(ctx, "SELECT pdq FROM hm_suppressions WHERE provider_id = ?", provider)
	if err != nil {
		return nil, nil, err
	}
	own, err := store.Rows(rows, func(r store.Scanner, h *pdq.Hash) error {
		var hx string
		if err := r.Scan(&hx); err != nil {
			return err
		}
		var err error
		*h, err = parsePDQ(hx)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return banks, own, nil
}

type prepared struct {
	variants []pdq.Hash
	c        Case
	userID   string
	frames   []string // a video's matched frames (caseOpened.MatchedFrames)
}

func (s *Service) match(ctx context.Context, p *auth.Principal, ps []prepared) ([]Result, error) {
	banks, own, err := s.subscribed(ctx, p.AuthorityID)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(ps))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, 32)
	for i := range ps {
		pr := &ps[i]
		res := &out[i]
		res.PDQ, res.Quality, res.Matches = pr.c.PDQ, pr.c.Quality, []Match{}
		if pr.c.Quality < s.cfg.MinQuality {
			res.Status = StatusLowQuality
			continue
		}
		ms, sup, err := search(banks, pr.variants, own, s.cfg.SuppressionRadius)
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
			break
		}
		switch {
		case len(ms) == 0:
			res.Status = StatusNoMatch
			continue
		case sup:
			res.Status = StatusSuppressed
			continue
		}
		res.Status, res.Matches = StatusMatch, ms
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			id, err := s.openCase(ctx, p, pr, ms)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && firstErr == nil {
				firstErr = err
			}
			res.CaseID = id
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	// A provider that opted in to retroactive matching keeps what matched
	// nothing, for its retention (retro.go).
	if err := s.keepRecent(ctx, p, ps, out); err != nil {
		return nil, err
	}
	return out, nil
}

// openCase records a match as a case for human review. It also counts the
// matched entries' recent matches: an entry past the quarantine limit is
// quarantined, and one service's matches past it alone raise a flood alert
// for the bank's owner instead (see countMatches).
func (s *Service) openCase(ctx context.Context, p *auth.Principal, pr *prepared, ms []Match) (string, error) {
	c := pr.c
	c.ID = s.W.IDs().New("HC")
	c.ProviderID = p.AuthorityID
	if pr.userID != "" {
		c.UserPseudonym = s.Vault.Pseudonym("hashmatch-user:"+p.AuthorityID, pr.userID)
	}
	c.BestBankID, c.BestEntryID, c.BestDistance = ms[0].BankID, ms[0].EntryID, ms[0].Distance
	c.Matches = ms
	alertIDs := make([]string, len(ms))
	for i := range alertIDs {
		alertIDs[i] = s.W.IDs().New("AL")
	}
	limit := s.cfg.QuarantineLimit
	out, err := ledger.SubmitAs[caseOpened](ctx, s.W, p.Actor(), "open match case", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		since := ledger.FormatTime(now.Add(-s.cfg.QuarantineWindow))
		o := caseOpened{Case: c, MatchedFrames: pr.frames}
		for i, m := range ms {
			n, err := s.countMatches(ctx, tx, m, c.ProviderID, since)
			if err != nil {
				return nil, err
			}
			// A flood is alerted once, at the match that takes the
			// service's own count to the limit.
			if n.counted < limit && n.own != limit {
				continue
			}
			var quarantined int
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM hm_entries WHERE id = ? AND quarantined_at IS NOT NULL", entryKey(m.BankID, m.EntryID)).Scan(&quarantined); err != nil {
				return nil, err
			}
			switch {
			case quarantined != 0:
			case n.counted >= limit:
				o.Quarantine = append(o.Quarantine, quarantine{BankID: m.BankID, EntryID: m.EntryID, AlertID: alertIDs[i], Count: n.all})
			default:
				o.Floods = append(o.Floods, flood{BankID: m.BankID, EntryID: m.EntryID, AlertID: alertIDs[i], Count: n.own})
			}
		}
		return ledger.NewEntry(TypeCaseOpened, o)
	})
	if err != nil {
		return "", err
	}
	if len(out.Quarantine) > 0 {
		if _, err := s.refresh(ctx); err != nil {
			return "", err
		}
	}
	return out.Case.ID, nil
}

// matchCounts are an entry's matches within the quarantine window, the one
// being recorded included: all of them, the matching provider's own, and
// those counted towards the quarantine limit.
type matchCounts struct{ all, own, counted int }

// countMatches counts m's entry's matches since the window's start. Each
// provider's matches count towards the quarantine limit up to half of it
// (rounded up), so that no one service, or a stolen service token, can
// switch an entry off for every service: it takes at least two services.
func (s *Service) countMatches(ctx context.Context, tx *store.Tx, m Match, provider, since string) (matchCounts, error) {
	rows, err := tx.Query(ctx, `SELECT c.provider_id, COUNT(*) FROM hm_case_matches m JOIN hm_cases c ON c.id = m.case_id
		WHERE m.bank_id = ? AND m.entry_id = ? AND m.matched_at >= ? GROUP BY c.provider_id`, m.BankID, m.EntryID, since)
	if err != nil {
		return matchCounts{}, err
	}
	type count struct {
		provider string
		n        int
	}
	counts, err := store.Rows(rows, func(r store.Scanner, c *count) error { return r.Scan(&c.provider, &c.n) })
	if err != nil {
		return matchCounts{}, err
	}
	share := s.cfg.QuarantineLimit - s.cfg.QuarantineLimit/2
	n := matchCounts{all: 1, own: 1}
	for _, c := range counts {
		n.all += c.n
		if c.provider == provider {
			n.own += c.n
		} else {
			n.counted += min(c.n, share)
		}
	}
	n.counted += min(n.own, share)
	return n, nil
}
