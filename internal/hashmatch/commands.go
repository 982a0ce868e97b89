package hashmatch

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch/pdq"
	"github.com/custos-project/custos/internal/hashmatch/vpdq"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/store"
)

// Config tunes matching and quarantine. Zero fields take the defaults.
type Config struct {
	MinQuality        int           // hashes below this quality are refused as low_quality (default 50)
	SuppressionRadius int           // distance within which a service's own suppression list cancels a match (default 16)
	QuarantineLimit   int           // matches of one entry within the window that quarantine it, each provider's counted up to half of it (default 1000)
	QuarantineWindow  time.Duration // default 24h
	MaxUpload         int64         // largest uploaded image in bytes (default 20 MiB)
	// MaxPixels refuses an uploaded image whose header declares more pixels
	// (default pdq.DefaultMaxPixels, 100 megapixels). DecodeBudget bounds,
	// in bytes, the memory of all uploaded images being decoded at once,
	// each counted by what its header says its decoder takes
	// (pdq.Header.DecodeBytes: 1 to 15 bytes a pixel by format): an upload
	// waits until its image fits (default 1 GiB), so that small files
	// declaring huge images cannot exhaust the server's memory together. An
	// eighth is kept for images of a sixteenth of it or less, so that they
	// never wait for large decodes, and one that would take more than the
	// other seven eighths is refused.
	MaxPixels      int64
	DecodeBudget   int64
	MaxVideoUpload int64         // largest uploaded video in bytes (default 512 MiB)
	MaxBatchUpload int64         // largest body of a batch of uploaded images in bytes (default 100 MiB)
	VideoTimeout   time.Duration // longest time receiving one uploaded video may take, and then hashing it (default 10 min)
	// VideoJobs caps the uploaded videos being received and hashed at once
	// (default DefaultVideoJobs: half the cores, at least one): each keeps a
	// core busy and holds its frames' buffers for up to VideoTimeout. A
	// video takes its turn before its body is read; one beyond the cap
	// waits up to VideoWait (default 10 s) for one to finish, then is
	// refused as busy, its body unread.
	VideoJobs int
	VideoWait time.Duration
	// VideoMemory bounds, in bytes, what each ffprobe and ffmpeg run to
	// hash an uploaded video may allocate (vpdq.Options.MaxMemory, enforced
	// on Linux; default vpdq.DefaultMaxMemory, 2 GiB): with VideoJobs, it
	// bounds the decoders' memory, which no decode budget counts. A video
	// that needs more is refused (video_memory).
	VideoMemory int64
	// The vPDQ match percentages are each bank's (Bank.QueryMatchThresholdPct
	// and IndexMatchThresholdPct), set by its owner, not the server's.
	//
	// IndexDir, when set, is a directory where each bank's PDQ index is
	// saved as an index file (internal/hashmatch/index) and memory-mapped
	// from: a restart maps the file of the bank's current generation
	// instead of rebuilding the index, and a file that is damaged, of
	// another format or of other hashes is rebuilt. Empty: indexes are
	// built in memory at every start.
	IndexDir string
}

func (c Config) withDefaults() Config {
	if c.MinQuality <= 0 {
		c.MinQuality = DefaultMinQuality
	}
	if c.SuppressionRadius <= 0 {
		c.SuppressionRadius = DefaultSuppressionRadius
	}
	if c.QuarantineLimit <= 0 {
		c.QuarantineLimit = DefaultQuarantineLimit
	}
	if c.QuarantineWindow <= 0 {
		c.QuarantineWindow = DefaultQuarantineWindow
	}
	if c.MaxUpload <= 0 {
		c.MaxUpload = DefaultMaxUpload
	}
	if c.MaxPixels <= 0 {
		c.MaxPixels = pdq.DefaultMaxPixels
	}
	if c.DecodeBudget <= 0 {
		c.DecodeBudget = DefaultDecodeBudget
	}
	if c.MaxVideoUpload <= 0 {
		c.MaxVideoUpload = DefaultMaxVideoUpload
	}
	if c.MaxBatchUpload <= 0 {
		c.MaxBatchUpload = DefaultMaxBatchUpload
	}
	if c.VideoTimeout <= 0 {
		c.VideoTimeout = DefaultVideoTimeout
	}
	if c.VideoJobs <= 0 {
		c.VideoJobs = DefaultVideoJobs()
	}
	if c.VideoWait <= 0 {
		c.VideoWait = DefaultVideoWait
	}
	if c.VideoMemory <= 0 {
		c.VideoMemory = vpdq.DefaultMaxMemory
	}
	return c
}

// Service runs the registry's commands through the ledger writer, matches
// hashes against in-memory indexes of the banks, and answers queries.
type Service struct {
	W           *ledger.Writer
	DB          *store.DB
	Vault       *privacy.Vault
	signer      note.Signer
	verifierKey string
	cfg         Config

	decodes *decodeBudget // memory of uploaded images being decoded
	videos  chan struct{} // a token for each uploaded video being hashed

	// Now is the clock of retroactive matching's window (time.Now when
	// nil); Log receives its failures, which do not fail a publication.
	Now func() time.Time
	Log *slog.Logger
	// RetroKey authenticates the rows of retroactive matching's windows
	// (hm_retro_uploads, outside the log): a key derived from the master
	// key, set by the server.
	RetroKey []byte
	// IndexKey seals the banks' index files (Config.IndexDir) with a MAC
	// checked when a file is mapped: a key derived from the master key, set
	// by the server. Without it no index file is written or trusted.
	IndexKey []byte

	mu     sync.Mutex
	banks  map[string]*loadedBank
	loaded bool // refresh has run: the indexes are kept up to date
}

// NewService returns the service. signer signs bank documents (the registry's
// log key); verifierKey is its public half, handed to services.
func NewService(w *ledger.Writer, db *store.DB, vault *privacy.Vault, signer note.Signer, verifierKey string, cfg Config) *Service {
	cfg = cfg.withDefaults()
	return &Service{W: w, DB: db, Vault: vault, signer: signer, verifierKey: verifierKey, cfg: cfg,
		decodes: newDecodeBudget(cfg.DecodeBudget), videos: make(chan struct{}, cfg.VideoJobs), banks: map[string]*loadedBank{}}
}

// Config is the configuration in effect, defaults filled in.
func (s *Service) Config() Config { return s.cfg }

// VerifierKey is the note verifier key that checks bank documents.
func (s *Service) VerifierKey() string { return s.verifierKey }

func authorityKind(ctx context.Context, q store.Queryer, field, id string) (string, error) {
	var kind string
	err := q.QueryRow(ctx, "SELECT kind FROM authorities WHERE id = ?", id).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.New(errs.NotFound, "reference", field, "no authority %s", id)
	}
	return kind, err
}

type bankRow struct {
	Bank
	generation int64
}

func getBank(ctx context.Context, q store.Queryer, id string) (*bankRow, error) {
	var b bankRow
	err := q.QueryRow(ctx, `SELECT id, owner_id, name, kind, threshold, version, head_sha256, generation, created_at,
		query_match_threshold_pct, index_match_threshold_pct FROM hm_banks WHERE id = ?`, id).
		Scan(&b.ID, &b.OwnerID, &b.Name, &b.Kind, &b.Threshold, &b.Version, &b.HeadSHA256, &b.generation, &b.CreatedAt,
			&b.QueryMatchThresholdPct, &b.IndexMatchThresholdPct)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.NotFound, "reference", "bank_id", "no bank %s", id)
	}
	return &b, err
}

// ownBank loads a bank that the principal's authority owns.
func ownBank(ctx context.Context, q store.Queryer, p *auth.Principal, id string) (*bankRow, error) {
	b, err := getBank(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if b.OwnerID != p.AuthorityID {
		return nil, errs.Alertf(errs.Forbidden, "own_bank", "bank_id", "bank %s belongs to %s; only its owner publishes to it", id, b.OwnerID)
	}
	return b, nil
}

// ---- Banks ----

// CreateBank creates an empty bank owned by the analyst's authority.
func (s *Service) CreateBank(ctx context.Context, p *auth.Principal, in NewBank) (*Bank, error) {
	if err := p.Require(PublishBanks); err != nil {
		return nil, err
	}
	name, err := check.Line("name", in.Name, 200, false)
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errs.Invalidf("required", "name", "give the bank a name")
	}
	if in.Kind == "" {
		in.Kind = KindKnown
	}
	if err := check.OneOf("kind", in.Kind, BankKinds); err != nil {
		return nil, err
	}
	th := DefaultThreshold
	if in.Threshold != nil {
		th = *in.Threshold
	}
	if th < 0 || th > MaxThreshold {
		return nil, errs.Invalidf("range", "threshold", "threshold is a Hamming distance from 0 to %d (PDQ's usual value is %d)", MaxThreshold, DefaultThreshold)
	}
	b := bankCreated{ID: s.W.IDs().New("HB"), OwnerID: p.AuthorityID, Name: name, Kind: in.Kind, Threshold: th}
	out, err := ledger.SubmitAs[bankCreated](ctx, s.W, p.Actor(), "create hash bank", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		kind, err := authorityKind(ctx, tx, "owner_id", p.AuthorityID)
		if err != nil {
			return nil, err
		}
		if kind != KindCompetentAuthority {
			return nil, errs.Invalidf("competent_authority", "owner_id", "only a competent authority holds hash banks")
		}
		return ledger.NewEntry(TypeBankCreated, b)
	})
	if err != nil {
		return nil, err
	}
	return s.Bank(ctx, p, out.ID)
}

// SetVideoThresholds sets a bank's vPDQ match percentages (its owner's
// analyst): the share of a query video's frames that must match one of the
// bank's video entries, and of the entry's frames that must match the
// query's. Each is from 0 to 100; a field left out keeps its value.
func (s *Service) SetVideoThresholds(ctx context.Context, p *auth.Principal, bankID string, in VideoThresholds) (*Bank, error) {
	if err := p.Require(PublishBanks); err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		v    *float64
	}{{"query_match_threshold_pct", in.QueryMatchThresholdPct}, {"index_match_threshold_pct", in.IndexMatchThresholdPct}} {
		if f.v != nil && !(*f.v >= 0 && *f.v <= 100) { // NaN refused too
			return nil, errs.Invalidf("range", f.name, "%s is a percentage from 0 to 100", f.name)
		}
	}
	if in.QueryMatchThresholdPct == nil && in.IndexMatchThresholdPct == nil {
		return nil, errs.Invalidf("required", "query_match_threshold_pct", "give query_match_threshold_pct, index_match_threshold_pct or both")
	}
	_, err := s.W.Submit(ctx, p.Actor(), "set bank video thresholds", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		b, err := ownBank(ctx, tx, p, bankID)
		if err != nil {
			return nil, err
		}
		set := videoThresholdsSet{BankID: b.ID, QueryMatchThresholdPct: b.QueryMatchThresholdPct, IndexMatchThresholdPct: b.IndexMatchThresholdPct}
		if in.QueryMatchThresholdPct != nil {
			set.QueryMatchThresholdPct = *in.QueryMatchThresholdPct
		}
		if in.IndexMatchThresholdPct != nil {
			set.IndexMatchThresholdPct = *in.IndexMatchThresholdPct
		}
		return ledger.NewEntry(TypeVideoThresholdsSet, set)
	})
	if err != nil {
		return nil, err
	}
	return s.Bank(ctx, p, bankID)
}

// Publish publishes the next version of a bank: adds, updates and deletes,
// as one signed document chained to the previous version. An update
// replaces the content of a live entry, keeping its id. What would leave an
// entry as it is (an add or update of a live entry with the content it
// holds, a delete of an entry already deleted) is left out of the version
// and its counts; when nothing is left, nothing is published or logged and
// Publish answers the bank's current version with Unchanged set, so that a
// publication sent twice publishes once.
func (s *Service) Publish(ctx context.Context, p *auth.Principal, bankID string, in NewVersion) (*Version, error) {
	return s.publish(ctx, p, bankID, in, false)
}

// publish is Publish; held says the request stands for a list whose
// records the bank holds already, left out before (reconcile), so that a
// version of nothing (and no withdrawal waiting) is unchanged rather than
// empty_version.
func (s *Service) publish(ctx context.Context, p *auth.Principal, bankID string, in NewVersion, held bool) (*Version, error) {
	if err := p.Require(PublishBanks); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	at := map[string]string{} // entry id -> its field in the request (adds[3].entry_id)
	norm := func(list string, in []DocEntry) ([]DocEntry, error) {
		out := make([]DocEntry, 0, len(in))
		for i, a := range in {
			e, err := newEntry(check.Index(list, i), a)
			if err != nil {
				return nil, err
			}
			if seen[e.EntryID] {
				return nil, errs.Invalidf("duplicate", check.Index(list, i)+".entry_id", "entry %s is added or updated twice", e.EntryID)
			}
			seen[e.EntryID] = true
			at[e.EntryID] = check.Index(list, i) + ".entry_id"
			out = append(out, e)
		}
		slices.SortFunc(out, func(a, b DocEntry) int { return strings.Compare(a.EntryID, b.EntryID) })
		return out, nil
	}
	adds, err := norm("adds", in.Adds)
	if err != nil {
		return nil, err
	}
	updates, err := norm("updates", in.Updates)
	if err != nil {
		return nil, err
	}
	dels := slices.Clone(in.Deletes)
	for i, d := range dels {
		if !entryIDRE.MatchString(d) {
			return nil, errs.Invalidf("entry_id", check.Index("deletes", i), "an entry id is 1 to 128 letters, digits or . _ : -")
		}
		if seen[d] {
			return nil, errs.Invalidf("add_and_delete", check.Index("deletes", i), "entry %s is both added (or updated) and deleted", d)
		}
		if at[d] == "" {
			at[d] = check.Index("deletes", i)
		}
	}
	slices.Sort(dels)
	dels = slices.Compact(dels)
	head := 0 // the bank's version, when the request changes nothing
	out, err := ledger.SubmitAs[versionPublished](ctx, s.W, p.Actor(), "publish hash bank version", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		b, err := ownBank(ctx, tx, p, bankID)
		if err != nil {
			return nil, err
		}
		// Entries withdrawn after disputes go out with this version.
		dels, err := withPendingWithdrawals(ctx, tx, bankID, dels)
		if err != nil {
			return nil, err
		}
		if len(adds) == 0 && len(dels) == 0 && len(updates) == 0 {
			if held {
				head = b.Version
				return nil, errUnchanged
			}
			return nil, errs.Invalidf("empty_version", "adds", "a version adds, updates or deletes at least one entry")
		}
		existing, err := entriesNamed(ctx, tx, bankID, adds, updates, dels)
		if err != nil {
			return nil, err
		}
		// A refusal names the entry's place in the request
		// (adds[3].entry_id); an entry withdrawn after disputes was not in
		// it and is named by the list.
		field := func(list, id string) string {
			if f := at[id]; f != "" {
				return f
			}
			return list
		}
		// What would leave an entry as it is is left out of the version:
		// an add or update of a live entry with the content it holds, a
		// delete of an entry deleted already. A version of nothing else
		// is not published (errUnchanged), so that a publication sent
		// again, say after a lost answer, publishes nothing new.
		var keptAdds, keptUpdates []DocEntry
		var keptDels []string
		for _, a := range adds {
			h, ok := existing[a.EntryID]
			if ok && h.live && sameEntry(h.e, a) {
				continue
			}
			if ok {
				return nil, errs.New(errs.Conflict, "entry_exists", field("adds", a.EntryID), "bank %s already has (or had) entry %s; entry ids are never reused", bankID, a.EntryID)
			}
			keptAdds = append(keptAdds, a)
		}
		for _, d := range dels {
			h, ok := existing[d]
			if !ok {
				return nil, errs.New(errs.Conflict, "no_live_entry", field("deletes", d), "bank %s has no live entry %s", bankID, d)
			}
			if h.live {
				keptDels = append(keptDels, d)
			}
		}
		for _, u := range updates {
			h := existing[u.EntryID]
			if !h.live {
				return nil, errs.New(errs.Conflict, "no_live_entry", field("updates", u.EntryID), "bank %s has no live entry %s to update; entry ids are never reused", bankID, u.EntryID)
			}
			if _, gone := slices.BinarySearch(dels, u.EntryID); gone {
				return nil, errs.New(errs.Conflict, "add_and_delete", field("updates", u.EntryID), "entry %s is withdrawn in this version after disputes; it cannot be updated too", u.EntryID)
			}
			if !sameEntry(h.e, u) {
				keptUpdates = append(keptUpdates, u)
			}
		}
		if len(keptAdds) == 0 && len(keptDels) == 0 && len(keptUpdates) == 0 {
			head = b.Version
			return nil, errUnchanged
		}
		adds, updates, dels := keptAdds, keptUpdates, keptDels
		doc := Doc{Format: DocFormat, Bank: b.ID, Name: b.Name, Owner: b.OwnerID, Kind: b.Kind, Threshold: b.Threshold,
			Version: b.Version + 1, Previous: b.HeadSHA256, Adds: adds, Deletes: dels, Updates: updates}
		canon, err := doc.Canonical()
		if err != nil {
			return nil, err
		}
		sig, err := SignDoc(s.signer, canon)
		if err != nil {
			return nil, err
		}
		return ledger.NewEntry(TypeVersionPublished, versionPublished{Doc: doc, DocSHA256: DocSHA256(canon), Signature: sig})
	})
	if errors.Is(err, errUnchanged) {
		v, err := s.version(ctx, bankID, head)
		if err != nil {
			return nil, err
		}
		v.Unchanged = true
		return v, nil
	}
	if err != nil {
		return nil, err
	}
	if err := s.refreshLoaded(ctx); err != nil {
		return nil, err
	}
	s.retroMatch(ctx, &out.Doc)
	return s.version(ctx, bankID, out.Doc.Version)
}

// Import parses a hash list in one of the supported formats and publishes it
// as the next version of the bank. What the bank holds already, and
// deletions of entries it does not hold, are counted in the stats and left
// out of the version (see reconcile). A list the bank holds already, every
// record of it that a bank can hold, publishes nothing and answers the
// current version with Unchanged set, as Publish does for a publication
// sent again. The stats' messages are in the language of ctx
// (i18n.NewContext), English without one.
func (s *Service) Import(ctx context.Context, p *auth.Principal, bankID, format string, data []byte) (*Version, *ImportStats, error) {
	if err := p.Require(PublishBanks); err != nil {
		return nil, nil, err
	}
	v, st, err := ParseList(format, data)
	if err != nil {
		return nil, nil, err
	}
	v, held, err := s.reconcile(ctx, p, bankID, v, st)
	if err != nil {
		return nil, nil, err
	}
	out, err := s.publish(ctx, p, bankID, v, held)
	if err == nil && !out.Unchanged {
		// The version published is what the stats say: with the list's
		// changes, the entries withdrawn after disputes that were waiting
		// for a version (withPendingWithdrawals) went out in it.
		st.Adds, st.Deletes, st.Updates = out.Adds, out.Deletes, out.Updates
	}
	return out, st.Localize(i18n.FromContext(ctx)), err
}

// ReleaseEntry ends the quarantine of an entry: it matches again.
func (s *Service) ReleaseEntry(ctx context.Context, p *auth.Principal, bankID, entryID string) error {
	if err := p.Require(PublishBanks); err != nil {
		return err
	}
	_, err := s.W.Submit(ctx, p.Actor(), "release quarantined entry", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if _, err := ownBank(ctx, tx, p, bankID); err != nil {
			return nil, err
		}
		var q sql.NullString
		err := tx.QueryRow(ctx, "SELECT quarantined_at FROM hm_entries WHERE id = ? AND deleted_version IS NULL", entryKey(bankID, entryID)).Scan(&q)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.New(errs.NotFound, "reference", "entry_id", "bank %s has no live entry %s", bankID, entryID)
		}
		if err != nil {
			return nil, err
		}
		if !q.Valid {
			return nil, errs.New(errs.Conflict, "not_quarantined", "entry_id", "entry %s is not quarantined", entryID)
		}
		return ledger.NewEntry(TypeEntryReleased, entryReleased{BankID: bankID, EntryID: entryID})
	})
	if err == nil {
		err = s.refreshLoaded(ctx)
	}
	return err
}

// ---- Subscriptions and pulls ----

// Subscribe subscribes the service's provider to a bank.
func (s *Service) Subscribe(ctx context.Context, p *auth.Principal, bankID string) (*Subscription, error) {
	if err := p.Require(SubscribeBanks); err != nil {
		return nil, err
	}
	sub := Subscription{ID: s.W.IDs().New("HS"), BankID: bankID, ProviderID: p.AuthorityID}
	out, err := ledger.SubmitAs[Subscription](ctx, s.W, p.Actor(), "subscribe to hash bank", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		if _, err := getBank(ctx, tx, bankID); err != nil {
			return nil, err
		}
		var n int
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM hm_subscriptions WHERE bank_id = ? AND provider_id = ?", bankID, p.AuthorityID).Scan(&n); err != nil {
			return nil, err
		}
		if n > 0 {
			return nil, errs.New(errs.Conflict, "already_subscribed", "bank_id", "%s already subscribes to %s", p.AuthorityID, bankID)
		}
		return ledger.NewEntry(TypeSubscribed, sub)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Pull hands a subscribed service the bank from its cursor: the whole live
// list as one signed snapshot when since is 0, otherwise the signed deltas of
// every later version. Each pull is a log entry naming the documents' hash,
// so who held which list is provable. Nothing new is not logged.
func (s *Service) Pull(ctx context.Context, p *auth.Principal, bankID string, since int) (*Pull, error) {
	if err := p.Require(SubscribeBanks); err != nil {
		return nil, err
	}
	if since < 0 {
		return nil, errs.Invalidf("range", "since", "since is a version number, 0 for a snapshot")
	}
	out := &Pull{BankID: bankID, From: since, VerifierKey: s.verifierKey, Documents: []SignedDoc{}}
	id := s.W.IDs().New("HP")
	_, err := s.W.Submit(ctx, p.Actor(), "pull hash bank", func(ctx context.Context, tx *store.Tx, now time.Time) (*ledger.Entry, error) {
		b, err := getBank(ctx, tx, bankID)
		if err != nil {
			return nil, err
		}
		var subID string
		err = tx.QueryRow(ctx, "SELECT id FROM hm_subscriptions WHERE bank_id = ? AND provider_id = ?", bankID, p.AuthorityID).Scan(&subID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errs.Alertf(errs.Forbidden, "subscription", "bank_id", "%s does not subscribe to bank %s; subscribe first", p.AuthorityID, bankID)
		}
		if err != nil {
			return nil, err
		}
		if b.Version == 0 {
			return nil, errs.New(errs.Conflict, "unpublished", "bank_id", "bank %s has no published version yet", bankID)
		}
		if since > b.Version {
			return nil, errs.Invalidf("range", "since", "bank %s is at version %d; since %d is ahead of it", bankID, b.Version, since)
		}
		out.To = b.Version
		if since == b.Version {
			out.Kind = "none"
			return nil, errNothingNew
		}
		pl := pulled{ID: id, SubscriptionID: subID, BankID: bankID, ProviderID: p.AuthorityID, From: since, To: b.Version}
		if since == 0 {
			doc, err := snapshotDoc(ctx, tx, b)
			if err != nil {
				return nil, err
			}
			canon, err := doc.Canonical()
			if err != nil {
				return nil, err
			}
			sig, err := SignDoc(s.signer, canon)
			if err != nil {
				return nil, err
			}
			pl.Kind, pl.DocSHA256 = "snapshot", DocSHA256(canon)
			out.Documents = append(out.Documents, SignedDoc{Version: b.Version, SHA256: pl.DocSHA256, Note: NoteText(canon, sig)})
		} else {
			rows, err := tx.Query(ctx, "SELECT version, doc_sha256, doc, signature FROM hm_versions WHERE bank_id = ? AND version > ? ORDER BY version", bankID, since)
			if err != nil {
				return nil, err
			}
			docs, err := store.Rows(rows, func(r store.Scanner, d *SignedDoc) error {
				var doc, sig string
				err := r.Scan(&d.Version, &d.SHA256, &doc, &sig)
				d.Note = NoteText([]byte(doc), sig)
				return err
			})
			if err != nil {
				return nil, err
			}
			out.Documents = append(out.Documents, docs...)
			pl.Kind, pl.DocSHA256 = "delta", b.HeadSHA256
		}
		out.Kind = pl.Kind
		return ledger.NewEntry(TypePulled, pl)
	})
	if errors.Is(err, errNothingNew) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// errNothingNew refuses the pull command without recording anything: the
// service already holds the current version.
var errNothingNew = errs.New(errs.Conflict, "up_to_date", "since", "nothing new")

// snapshotDoc is the live list of a bank at its current version: entries not
// deleted and not quarantined, by entry id, with the bank's vPDQ
// percentages where they are not the defaults.
func snapshotDoc(ctx context.Context, q store.Queryer, b *bankRow) (*Doc, error) {
	doc := &Doc{Format: DocFormat, Bank: b.ID, Name: b.Name, Owner: b.OwnerID, Kind: b.Kind, Threshold: b.Threshold,
		Version: b.Version, Previous: b.HeadSHA256, Snapshot: true, Adds: []DocEntry{}, Deletes: []string{}}
	if b.QueryMatchThresholdPct != vpdq.DefaultQueryPct {
		doc.QueryMatchThresholdPct = &b.QueryMatchThresholdPct
	}
	if b.IndexMatchThresholdPct != vpdq.DefaultTargetPct {
		doc.IndexMatchThresholdPct = &b.IndexMatchThresholdPct
	}
	var err error
	doc.Adds, err = liveEntries(ctx, q, b.ID)
	slices.SortFunc(doc.Adds, func(a, b DocEntry) int { return strings.Compare(a.EntryID, b.EntryID) })
	return doc, err
}

// liveEntries reads the entries of a bank that match: not deleted, not
// quarantined; video entries with their frames.
func liveEntries(ctx context.Context, q store.Queryer, bankID string) ([]DocEntry, error) {
	rows, err := q.Query(ctx, `SELECT entry_id, pdq, md5, sha256, classification, video FROM hm_entries
		WHERE bank_id = ? AND deleted_version IS NULL AND quarantined_at IS NULL ORDER BY entry_id`, bankID)
	if err != nil {
		return nil, err
	}
	return store.Rows(rows, func(r store.Scanner, e *DocEntry) error {
		var video string
		if err := r.Scan(&e.EntryID, &e.PDQ, &e.MD5, &e.SHA256, &e.Classification, &video); err != nil {
			return err
		}
		if video != "" {
			e.Video = new(VideoHash)
			if err := json.Unmarshal([]byte(video), e.Video); err != nil {
				return fmt.Errorf("entry %s of bank %s: frames: %w", e.EntryID, bankID, err)
			}
		}
		return nil
	})
}

// errUnchanged is how Publish's decision says the version would change no
// entry: no refusal, since the client gets the current version. It is a
// refusal to the log's writer only so that nothing is written
// (ledger.Unchanged: not counted among the commands refused), and never
// shown, so it is no catalogue message (built without errs.New).
var errUnchanged = ledger.Unchanged{Refusal: &errs.Error{Code: errs.Conflict, Rule: "unchanged", Message: "the version changes no entry"}}

// heldEntry is an entry a bank has or had: its content, and whether it is
// live (not deleted).
type heldEntry struct {
	e    DocEntry
	live bool
}

// heldColumns are the columns of hm_entries scanHeld reads, in its order.
const heldColumns = "entry_id, pdq, md5, sha256, classification, video, deleted_version"

// scanHeld reads one row of heldColumns.
func scanHeld(r store.Scanner, h *heldEntry) error {
	var video string
	var del sql.NullInt64
	if err := r.Scan(&h.e.EntryID, &h.e.PDQ, &h.e.MD5, &h.e.SHA256, &h.e.Classification, &video, &del); err != nil {
		return err
	}
	h.live = !del.Valid
	if video != "" {
		h.e.Video = new(VideoHash)
		if err := json.Unmarshal([]byte(video), h.e.Video); err != nil {
			return fmt.Errorf("entry %s: frames: %w", h.e.EntryID, err)
		}
	}
	return nil
}

// entriesNamed reads, of the entries of bank a version adds, updates or
// deletes, those the bank has or had, by entry id, with their content, so
// that a version can leave out what would change nothing. It reads those
// ids alone, by the table's primary key (entryKey), a few hundred at a
// time, so that a version of a few entries costs as little in a bank of
// millions as in a new one.
func entriesNamed(ctx context.Context, tx *store.Tx, bankID string, adds, updates []DocEntry, dels []string) (map[string]heldEntry, error) {
	ids := make([]any, 0, len(adds)+len(updates)+len(dels))
	for _, e := range adds {
		ids = append(ids, entryKey(bankID, e.EntryID))
	}
	for _, e := range updates {
		ids = append(ids, entryKey(bankID, e.EntryID))
	}
	for _, d := range dels {
		ids = append(ids, entryKey(bankID, d))
	}
	existing := map[string]heldEntry{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		rows, err := tx.Query(ctx, "SELECT "+heldColumns+" FROM hm_entries WHERE id IN (?"+strings.Repeat(", ?", n-1)+")", ids[:n]...)
		if err != nil {
			return nil, err
		}
		got, err := store.Rows(rows, scanHeld)
		if err != nil {
			return nil, fmt.Errorf("bank %s: %w", bankID, err)
		}
		for _, h := range got {
			existing[h.e.EntryID] = h
		}
		ids = ids[n:]
	}
	return existing, nil
}
