package hashmatch

import (
	"context"
	"crypto/hmac"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/tick"
)

// Retroactive matching, opt-in per service provider. By default a query that
// matches nothing is stored nowhere. A provider that opts in (a logged
// setting with its retention, 1 to MaxRetroDays days) has custos keep the
// hashes of its own uploads that matched nothing, images and videos, in
// hm_retro_uploads, a table outside the log so that its rows can expire.
// When a known bank the provider subscribes to publishes a version that
// adds or updates entries, custos matches the new content against the
// provider's window as the uploads were matched and opens a case (source
// retro) for each upload it matches. Rows older than
// the retention are deleted by a sweep that runs at start, every SweepEvery
// and before each retroactive match; opting out (retention 0) deletes the
// provider's rows in the same transaction as its log entry.

// TypeRetroSet is the entry of a provider's retroactive-matching setting.
const TypeRetroSet = "hashmatch.retro_set"

// Limits of retroactive matching.
const (
	MaxRetroDays = 90
	SweepEvery   = time.Hour
	// RetroActor is the principal named as opening a retroactive case: the
	// registry, acting on the provider's setting when a bank publishes.
	RetroActor  = "hashmatch-retro"
	sourceRetro = "retro"
)

// SetRetroMatching is the action of opting in to (or out of) retroactive
// matching for one's own service provider.
var SetRetroMatching = auth.NewAction("opt in to or out of retroactive matching for one's service", RoleService, RoleReviewer)

// RetroSetting is a provider's retroactive-matching setting: retention 0 is
// off (the default), and what its window holds now.
type RetroSetting struct {
	ProviderID    string `json:"provider_id"`
	RetentionDays int    `json:"retention_days"`
	SetAt         string `json:"set_at,omitempty"`
	SetBy         string `json:"set_by,omitempty"`
	Kept          int    `json:"kept"`             // uploads in the window now
	Oldest        string `json:"oldest,omitempty"` // when the oldest of them was received
}

// NewRetroSetting is the input of SetRetro.
type NewRetroSetting struct {
	RetentionDays *int `json:"retention_days" api:"required"`
}

type retroSet struct {
	ProviderID    string `json:"provider_id"`
	RetentionDays int    `json:"retention_days"`
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// retroCutoff is the oldest seen_at a window of days keeps at now.
func retroCutoff(now time.Time, days int) string {
	return ledger.FormatTime(now.Add(-time.Duration(days) * 24 * time.Hour))
}

// SetRetro opts the principal's provider in to retroactive matching with a
// retention of 1 to MaxRetroDays days, changes the retention (rows beyond a
// shorter one are deleted at once), or opts out with 0 (the window is
// deleted at once).
func (s *Service) SetRetro(ctx context.Context, p *auth.Principal, in NewRetroSetting) (*RetroSetting, error) {
	if err := p.Require(SetRetroMatching); err != nil {
		return nil, err
	}
	if in.RetentionDays == nil {
		return nil, errs.Invalidf("required", "retention_days", "give the retention in days, 1 to %d, or 0 to opt out", MaxRetroDays)
	}
	days := *in.RetentionDays
	if days < 0 || days > MaxRetroDays {
		return nil, errs.Invalidf("range", "retention_days", "the retention is 1 to %d days, or 0 to opt out", MaxRetroDays)
	}
	_, err := s.W.Submit(ctx, p.Actor(), "set retroactive matching", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		cur, err := retroDays(ctx, tx, p.AuthorityID)
		if err != nil {
			return nil, err
		}
		if cur == days {
			return nil, errs.New(errs.Conflict, "unchanged", "retention_days", "the retention is already %d days", days)
		}
		// Outside the log, but in the same transaction as the setting's
		// entry: a shorter retention or an opt-out deletes what it no
		// longer allows before anyone can read it again.
		if days == 0 {
			_, err = tx.Exec(ctx, "DELETE FROM hm_retro_uploads WHERE provider_id = ?", p.AuthorityID)
		} else {
			_, err = tx.Exec(ctx, "DELETE FROM hm_retro_uploads WHERE provider_id = ? AND seen_at < ?", p.AuthorityID, retroCutoff(now, days))
		}
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeRetroSet, retroSet{ProviderID: p.AuthorityID, RetentionDays: days})
	})
	if err != nil {
		return nil, err
	}
	return s.Retro(ctx, p)
}

// Retro is the principal's provider's setting and what its window holds.
func (s *Service) Retro(ctx context.Context, p *auth.Principal) (*RetroSetting, error) {
	if err := p.Require(SetRetroMatching); err != nil {
		return nil, err
	}
	out := &RetroSetting{ProviderID: p.AuthorityID}
	q := s.DB.Read()
	err := q.QueryRow(ctx, "SELECT retention_days, set_at, set_by FROM hm_retro_settings WHERE provider_id = ?", p.AuthorityID).
		Scan(&out.RetentionDays, &out.SetAt, &out.SetBy)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	err = q.QueryRow(ctx, "SELECT COUNT(*), COALESCE(MIN(seen_at), '') FROM hm_retro_uploads WHERE provider_id = ?", p.AuthorityID).
		Scan(&out.Kept, &out.Oldest)
	return out, err
}

func retroDays(ctx context.Context, q store.Queryer, provider string) (int, error) {
	var days int
	err := q.QueryRow(ctx, "SELECT retention_days FROM hm_retro_settings WHERE provider_id = ?", provider).Scan(&days)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return days, err
}

// recent is one upload to keep in a provider's window: an image's hashes
// (variants, its PDQ hash and its dihedral variants, space-separated), or a
// video's frames (video, the canonical JSON of a bank entry's video field).
type recent struct {
	c               *Case
	userID          string
	variants, video string
}

// keepRecent stores, for a provider that opted in, the uploads of a match
// request that matched nothing (status no_match): nothing for any other
// provider, and nothing of a match, a suppressed or a low-quality query.
func (s *Service) keepRecent(ctx context.Context, p *auth.Principal, ps []prepared, res []Result) error {
	var keep []recent
	for i, r := range res {
		if r.Status != StatusNoMatch {
			continue
		}
		hx := make([]string, len(ps[i].variants))
		for j, h := range ps[i].variants {
			hx[j] = h.String()
		}
		keep = append(keep, recent{c: &ps[i].c, userID: ps[i].userID, variants: strings.Join(hx, " ")})
	}
	return s.keep(ctx, p, keep)
}

// keepVideo stores, for a provider that opted in, a video upload that
// matched nothing (status no_match, or low_quality when its file's MD5 is
// known: the MD5 alone can match a later entry), with what matching it
// again needs: its distinct frames of sufficient quality and the file's
// digests. Nothing of a match or of a suppressed video is kept.
func (s *Service) keepVideo(ctx context.Context, p *auth.Principal, status string, frames []vpdq.Frame, c *Case, userID string) error {
	if status != StatusNoMatch && (status != StatusLowQuality || c.MD5 == "") {
		return nil
	}
	video, err := json.Marshal(VideoHash{Frames: VideoFrames(distinctFrames(frames, s.cfg.MinQuality))})
	if err != nil {
		return err
	}
	return s.keep(ctx, p, []recent{{c: c, userID: userID, video: string(video)}})
}

// keep inserts uploads into the window of the principal's provider if it
// opted in, and does nothing otherwise.
func (s *Service) keep(ctx context.Context, p *auth.Principal, keep []recent) error {
	if len(keep) == 0 {
		return nil
	}
	days, err := retroDays(ctx, s.DB.Read(), p.AuthorityID)
	if err != nil || days == 0 {
		return err
	}
	seen := ledger.FormatTime(s.now())
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, r := range keep {
		pseudonym := ""
		if r.userID != "" {
			pseudonym = s.Vault.Pseudonym("hashmatch-user:"+p.AuthorityID, r.userID)
		}
		c := r.c
		row := retroRow{id: s.W.IDs().New("HU"), provider: p.AuthorityID, variants: r.variants, video: r.video, pseudonym: pseudonym, seen: seen}
		row.c.PDQ, row.c.Quality, row.c.MD5, row.c.SHA256, row.c.Source, row.c.ContentRef, row.c.UploadedAt = c.PDQ, c.Quality, c.MD5, c.SHA256, c.Source, c.ContentRef, c.UploadedAt
		if _, err := tx.Exec(ctx, `INSERT INTO hm_retro_uploads (id, provider_id, pdq, variants, video, quality, md5, sha256, source, content_ref,
			user_pseudonym, uploaded_at, seen_at, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.id, row.provider, c.PDQ, r.variants, r.video, c.Quality, c.MD5, c.SHA256, c.Source, c.ContentRef,
			pseudonym, c.UploadedAt, seen, s.retroMAC(&row)); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// SweepRecent deletes what no setting allows any more: the rows of
// providers not opted in, and the rows older than their provider's
// retention. It returns how many rows it deleted.
func (s *Service) SweepRecent(ctx context.Context) (int64, error) {
	now := s.now()
	rows, err := s.DB.Read().Query(ctx, "SELECT provider_id, retention_days FROM hm_retro_settings WHERE retention_days > 0 ORDER BY provider_id")
	if err != nil {
		return 0, err
	}
	type setting struct {
		provider string
		days     int
	}
	settings, err := store.Rows(rows, func(r store.Scanner, x *setting) error { return r.Scan(&x.provider, &x.days) })
	if err != nil {
		return 0, err
	}
	tx, err := s.DB.BeginWrite(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	r, err := tx.Exec(ctx, "DELETE FROM hm_retro_uploads WHERE provider_id NOT IN (SELECT provider_id FROM hm_retro_settings WHERE retention_days > 0)")
	if err != nil {
		return 0, err
	}
	n, _ := r.RowsAffected()
	for _, x := range settings {
		r, err := tx.Exec(ctx, "DELETE FROM hm_retro_uploads WHERE provider_id = ? AND seen_at < ?", x.provider, retroCutoff(now, x.days))
		if err != nil {
			return 0, err
		}
		m, _ := r.RowsAffected()
		n += m
	}
	return n, tx.Commit()
}

// RunSweeps sweeps the windows every SweepEvery until ctx ends (the server
// runs it beside the HTTP server; the first sweep is at once).
func (s *Service) RunSweeps(ctx context.Context, log func(error)) {
	tick.Run(ctx, SweepEvery, nil, func(ctx context.Context) error { _, err := s.SweepRecent(ctx); return err }, log)
}

// retroMatch matches the entries a version of a known bank adds or updates
// against the windows of the providers that subscribe to the bank and opted
// in, and opens a case for each upload they match, as the upload would
// have been matched had the entries been there: an image by its hashes
// against image entries; a video by its frames (against image entries and,
// with the bank's vPDQ percentages, video entries) and by its file's MD5.
// Suppression banks the provider subscribes to, and its own suppression
// list, cancel a match as they do at upload. An updated entry matches an
// upload only if its new content matches it and its content before did
// not: what the old content matched was matched then, so a changed
// classification, or a hash moved within the threshold, opens no second
// case. Its failures are logged and do not fail the publication, which is
// committed by then.
func (s *Service) retroMatch(ctx context.Context, d *Doc) {
	if _, err := s.RetroMatch(ctx, d); err != nil && s.Log != nil {
		s.Log.Error("retroactive matching", "bank", d.Bank, "version", d.Version, "err", err)
	}
}

// RetroMatch is retroMatch returning the cases it opened.
func (s *Service) RetroMatch(ctx context.Context, d *Doc) ([]string, error) {
	if d.Kind != KindKnown {
		return nil, nil
	}
	fresh := append(slices.Clip(d.Adds), d.Updates...)
	if len(fresh) == 0 {
		return nil, nil
	}
	if _, err := s.SweepRecent(ctx); err != nil {
		return nil, err
	}
	q := s.DB.Read()
	rows, err := q.Query(ctx, `SELECT s.provider_id, r.retention_days FROM hm_subscriptions s
		JOIN hm_retro_settings r ON r.provider_id = s.provider_id AND r.retention_days > 0
		WHERE s.bank_id = ? ORDER BY s.provider_id`, d.Bank)
	if err != nil {
		return nil, err
	}
	type setting struct {
		provider string
		days     int
	}
	providers, err := store.Rows(rows, func(r store.Scanner, x *setting) error { return r.Scan(&x.provider, &x.days) })
	if err != nil || len(providers) == 0 {
		return nil, err
	}
	// The bank's vPDQ percentages now, as an upload would be matched.
	var queryPct, indexPct float64
	if err := q.QueryRow(ctx, "SELECT query_match_threshold_pct, index_match_threshold_pct FROM hm_banks WHERE id = ?", d.Bank).
		Scan(&queryPct, &indexPct); err != nil {
		return nil, err
	}
	fresh, old, err := retroUpdates(ctx, q, d, fresh)
	if err != nil || len(fresh) == 0 {
		return nil, err
	}
	bank, err := newLoadedBank(d.Bank, KindKnown, d.Owner, d.Threshold, fresh)
	if err != nil {
		return nil, err
	}
	bank.queryPct, bank.indexPct = queryPct, indexPct
	var before *loadedBank
	if len(old) > 0 {
		if before, err = newLoadedBank(d.Bank, KindKnown, d.Owner, d.Threshold, old); err != nil {
			return nil, err
		}
		before.queryPct, before.indexPct = queryPct, indexPct
	}
	var opened []string
	for _, x := range providers {
		banks, own, err := s.subscribed(ctx, x.provider)
		if err != nil {
			return opened, err
		}
		var sup []*loadedBank
		for _, b := range banks {
			if b.kind == KindSuppression {
				sup = append(sup, b)
			}
		}
		found, err := s.retroFind(ctx, x.provider, retroCutoff(s.now(), x.days), bank, before, sup, own)
		if err != nil {
			return opened, err
		}
		for _, f := range found {
			id, err := s.openCase(ctx, &auth.Principal{ID: RetroActor, AuthorityID: x.provider, Role: RoleService}, &f.pr, f.ms)
			if err != nil {
				return opened, err
			}
			opened = append(opened, id)
		}
	}
	return opened, nil
}

// retroUpdates readies a version's entries for retroactive matching: it
// drops from fresh those in quarantine now (they match nothing until
// released) and returns the content the updated ones had before the
// version (none when the version updates nothing).
func retroUpdates(ctx context.Context, q store.Queryer, d *Doc, fresh []DocEntry) ([]DocEntry, []DocEntry, error) {
	if len(d.Updates) == 0 {
		return fresh, nil, nil
	}
	rows, err := q.Query(ctx, "SELECT entry_id FROM hm_entries WHERE bank_id = ? AND quarantined_at IS NOT NULL ORDER BY entry_id", d.Bank)
	if err != nil {
		return nil, nil, err
	}
	held, err := store.Rows(rows, func(r store.Scanner, id *string) error { return r.Scan(id) })
	if err != nil {
		return nil, nil, err
	}
	fresh = withoutHeld(fresh, held)
	old := slices.Clone(d.Updates)
	if err := contentAt(ctx, q, d.Bank, d.Version-1, old); err != nil {
		return nil, nil, err
	}
	return fresh, slices.DeleteFunc(old, func(e DocEntry) bool { return e.Video == nil && e.PDQ == "" }), nil
}

// withoutHeld drops from entries those whose id is in held: a set, so
// that a version of many entries of a bank with many quarantined ones costs
// entries plus held, not their product.
func withoutHeld(entries []DocEntry, held []string) []DocEntry {
	if len(held) == 0 {
		return entries
	}
	set := make(map[string]struct{}, len(held))
	for _, id := range held {
		set[id] = struct{}{}
	}
	return slices.DeleteFunc(entries, func(e DocEntry) bool {
		_, ok := set[e.EntryID]
		return ok
	})
}

type retroFound struct {
	pr prepared
	ms []Match
}

// retroFind reads a provider's window (rows seen at or after cutoff) and
// keeps the uploads the fresh entries (bank) match and nothing suppresses
// (the suppression banks sup, the provider's own list own), less the
// matches of updated entries whose content before (the bank before, nil
// without updates) matched the upload too.
func (s *Service) retroFind(ctx context.Context, provider, cutoff string, bank, before *loadedBank, sup []*loadedBank, own []pdq.Hash) ([]retroFound, error) {
	rows, err := s.DB.Read().Query(ctx, `SELECT id, pdq, variants, video, quality, md5, sha256, source, content_ref, user_pseudonym, uploaded_at, seen_at, mac
		FROM hm_retro_uploads WHERE provider_id = ? AND seen_at >= ? ORDER BY seen_at, id`, provider, cutoff)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []retroFound
	unsigned := 0
	for rows.Next() {
		row := retroRow{provider: provider}
		c := &row.c
		var mac string
		if err := rows.Scan(&row.id, &c.PDQ, &row.variants, &row.video, &c.Quality, &c.MD5, &c.SHA256, &c.Source, &c.ContentRef, &row.pseudonym, &c.UploadedAt, &row.seen, &mac); err != nil {
			return nil, err
		}
		if !hmac.Equal([]byte(mac), []byte(s.retroMAC(&row))) {
			unsigned++
			continue
		}
		c.UserPseudonym = row.pseudonym
		f := retroFound{pr: prepared{c: row.c}}
		var err error
		if row.video == "" {
			f.ms, err = retroImage(row.variants, bank, before, sup, own, s.cfg.SuppressionRadius)
		} else {
			err = s.retroVideo(&f, row.video, bank, before, sup, own)
		}
		if err != nil {
			return nil, err
		}
		if len(f.ms) == 0 {
			continue
		}
		f.pr.c.Source = sourceRetro
		out = append(out, f)
	}
	if unsigned > 0 && s.Log != nil {
		s.Log.Error("retroactive matching: uploads in a window without the registry's MAC (written behind custos's back, or kept before hashmatch migration 11) not matched",
			"provider", provider, "rows", unsigned)
	}
	return out, rows.Err()
}

// retroRow is a row of hm_retro_uploads as its MAC covers it.
type retroRow struct {
	id, provider, variants, video, pseudonym, seen string
	c                                              Case // PDQ, Quality, MD5, SHA256, Source, ContentRef, UploadedAt
}

// retroMAC is the HMAC-SHA-256 (hex) under RetroKey of a window's row: each
// column's length and bytes, in order, so that no two rows share one.
func (s *Service) retroMAC(r *retroRow) string {
	return store.RowMAC(s.RetroKey, "", r.id, r.provider, r.c.PDQ, r.variants, r.video, strconv.Itoa(r.c.Quality), r.c.MD5, r.c.SHA256, r.c.Source, r.c.ContentRef, r.pseudonym, r.c.UploadedAt, r.seen)
}

// retroImage is what the fresh entries match of an image in a window (its
// hashes, space-separated), as search decides at upload: nothing when a
// suppression hit cancels the matches.
func retroImage(variants string, bank, before *loadedBank, sup []*loadedBank, own []pdq.Hash, ownRadius int) ([]Match, error) {
	var hs []pdq.Hash
	for _, hx := range strings.Fields(variants) {
		h, err := parsePDQ(hx)
		if err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	ms, suppressed, err := search(append([]*loadedBank{bank}, sup...), hs, own, ownRadius)
	if err != nil || suppressed || len(ms) == 0 {
		return nil, err
	}
	if before != nil {
		then, _, err := search([]*loadedBank{before}, hs, nil, 0)
		if err != nil {
			return nil, err
		}
		ms = slices.DeleteFunc(ms, func(m Match) bool { return hasMatch(then, m) })
	}
	return ms, nil
}

// retroVideo sets what the fresh entries match of a video in a window
// (video, its frames as JSON), as a video upload is matched (searchVideo
// and matchMD5, with the same options), and the case's frame hashes.
func (s *Service) retroVideo(f *retroFound, video string, bank, before *loadedBank, sup []*loadedBank, own []pdq.Hash) error {
	var v VideoHash
	if err := json.Unmarshal([]byte(video), &v); err != nil {
		return err
	}
	frames, err := VPDQFrames(v.Frames)
	if err != nil {
		return err
	}
	outcome := func(b *loadedBank) (*videoOutcome, error) {
		o, err := searchVideo(append([]*loadedBank{b}, sup...), frames, own, s.videoOptions())
		if err != nil {
			return nil, err
		}
		o.matchMD5(append([]*loadedBank{b}, sup...), f.pr.c.MD5)
		return o, nil
	}
	o, err := outcome(bank)
	if err != nil || o.status() != StatusMatch {
		return err
	}
	if before != nil {
		then, err := outcome(before)
		if err != nil {
			return err
		}
		o.drop(func(m Match) bool { return hasMatch(then.matches, m) })
	}
	if len(o.matchedFrames) > 0 {
		f.pr.c.PDQ, f.pr.c.Quality = o.best.Hash.String(), o.best.Quality
	}
	for _, h := range o.matchedFrames {
		f.pr.frames = append(f.pr.frames, h.String())
	}
	f.ms = o.matches
	return nil
}

// hasMatch tells whether ms holds a match of m's entry.
func hasMatch(ms []Match, m Match) bool {
	return slices.ContainsFunc(ms, func(t Match) bool { return t.BankID == m.BankID && t.EntryID == m.EntryID })
}

// projectRetro adds the projector of the setting. The window itself is not
// projected: it is not in the log.
func projectRetro(reg *ledger.Projections) {
	ledger.On(reg, TypeRetroSet, func(ctx context.Context, q store.Queryer, idx int64, e *ledger.Entry, r *retroSet) error {
		if _, err := q.Exec(ctx, "DELETE FROM hm_retro_settings WHERE provider_id = ?", r.ProviderID); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO hm_retro_settings (provider_id, retention_days, set_at, set_by, log_index) VALUES (?, ?, ?, ?, ?)`,
			r.ProviderID, r.RetentionDays, e.At, e.By, idx)
		return err
	})
	reg.Tables(ledger.Table{Name: "hm_retro_settings", Order: "provider_id"})
}
