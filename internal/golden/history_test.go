package golden_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/alerts"
	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/assets/bods"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/i18n"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/mail/mailtest"
	"github.com/custos-project/custos/internal/page"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
	"github.com/custos-project/custos/internal/witness"
)

// The generator of the golden log. It records a short history through the
// registries' own commands, so every leaf is one custos really writes and the
// history is valid (every reference resolves, every rule holds), and writes
// it under dir. It is deterministic: a fixed clock, ids and tokens from fixed
// seeds, and a synthetic key derived from a fixed seed, so regenerating
// without a change to the commands writes the same files.
//
// An entry type added to a module needs a step here; a new field of an entry
// should be given a value here, so the golden log holds it.

// seeded returns a deterministic stream of bytes for a purpose.
func seeded(purpose string) io.Reader {
	return rand.NewChaCha8(sha256.Sum256([]byte("custos golden log: " + purpose)))
}

// goldenKeys reads the committed key file or, the first time, derives one
// from a fixed seed and writes it. The keys are synthetic and test-only.
func goldenKeys(t *testing.T, path string) *server.Keys {
	keys, err := server.LoadKeys(path)
	if err == nil {
		return keys
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	keys = &server.Keys{Master: make([]byte, privacy.KeySize)}
	if _, err := io.ReadFull(seeded("master key"), keys.Master); err != nil {
		t.Fatal(err)
	}
	if keys.LogSigner, keys.LogKey, err = note.GenerateKey(seeded("log key"), "custos/XA"); err != nil {
		t.Fatal(err)
	}
	if err := keys.Save(path); err != nil {
		t.Fatal(err)
	}
	return keys
}

// clock is the generator's time: it moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

// skip moves the clock d on: a deadline passing.
func (c *clock) skip(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// tick moves the clock a minute on and returns the new time.
func (c *clock) tick() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Minute)
	return c.t
}

type history struct {
	t   *testing.T
	ctx context.Context
	clk *clock
	w   *ledger.Writer
	tr  *transplant.Service
	hm  *hashmatch.Service

	admin, regulator *auth.Principal
	coordinator      *auth.Principal // of the transplant centre
	// The transplant step's donor, their second kidney (not transplanted)
	// and the recipient of the first, for the vigilance step.
	donor, kidney, recipient string
	// The hashmatch step's parties, bank and rejected case, for the
	// feedback and retroactive-matching step.
	hmAnalyst, hmService, hmReviewer *auth.Principal
	hmBank, hmRejected               string
	// The stats step's service, statistician and import, for the
	// withdrawal step.
	statsSvc     *stats.Service
	statistician *auth.Principal
	statsImport  string
	// The cross-border step's receipt of a message of the foreign
	// registry, for the assignment step.
	receive func(typ, purpose string, payload any)
}

// must stops the generator on an error: every command of the history is
// meant to succeed. (It panics, so that the trace names the failed step.)
func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprintf("golden history: %v", err))
	}
	return v
}

func (h *history) authority(by *auth.Principal, name, kind, city string) string {
	h.t.Helper()
	h.clk.tick()
	cmd := must(catalogue().CreateAuthority(auth.NewAuthority{Name: name, Kind: kind, City: city}, h.w.IDs()))
	actor := ledger.Actor{}
	if by != nil {
		actor = by.Actor()
	}
	return must(ledger.SubmitAs[auth.Authority](h.ctx, h.w, actor, "create authority", cmd)).ID
}

func (h *history) principal(name string, role auth.Role, authority string) *auth.Principal {
	h.t.Helper()
	h.clk.tick()
	cmd, _, err := catalogue().CreatePrincipal(auth.NewPrincipal{Name: name, Role: role, AuthorityID: authority}, h.w.IDs(), seeded("token of "+name))
	if err != nil {
		h.t.Fatal(err)
	}
	actor := ledger.Actor{Authority: authority} // the bootstrap administrator creates itself
	if h.admin != nil {
		actor = h.admin.Actor()
	}
	created := must(ledger.SubmitAs[auth.PrincipalCreated](h.ctx, h.w, actor, "create principal", cmd))
	return &auth.Principal{ID: created.ID, Name: name, Role: role, AuthorityID: authority, Jurisdiction: "XA"}
}

// pdqHex is the i-th synthetic PDQ hash: 256 bits from a fixed seed, so any
// two are far apart and none matches another by chance.
func pdqHex(i int) string {
	h := sha256.Sum256([]byte(fmt.Sprint("custos golden pdq ", i)))
	return hex.EncodeToString(h[:])
}

// hexDigest is a synthetic file digest of n hex digits (32 for an MD5, 64
// for a SHA-256).
func hexDigest(n int, s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}

// generate records the golden history on a new SQLite registry and writes
// its leaves, head and checkpoint into dir.
func generate(t *testing.T, dir string) {
	files := record(t, goldenKeys(t, filepath.Join(dir, keyFile)))
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote a golden log of %d bytes of leaves to %s", len(files[leavesFile]), dir)
}

// record records the history with keys and returns the golden log's files
// by name: the leaves, the signed checkpoint and the head.
func record(t *testing.T, keys *server.Keys) map[string]string {
	ctx := context.Background()
	signer := must(note.NewSigner(keys.LogSigner))
	vault := must(privacy.NewVault(keys.Master))
	vault.Rand = seeded("vault")
	db := storetest.Open(t, storetest.SQLite(t), projections().Schemas()...)
	p := projections()
	clk := &clock{t: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
	if err := ledger.Init(ctx, db, p, signer, keys.LogKey, signer.Name(), "XA", clk.Now()); err != nil {
		t.Fatal(err)
	}
	w := ledger.NewWriter(db, p, ledger.WriterConfig{Signer: signer, Origin: signer.Name(), Now: clk.Now,
		IDs: ledger.NewIDs(seeded("ids")), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer w.Close()
	// One service's two matches of one entry raise a flood alert, and two
	// services' matches quarantine it, so the history shows both and the
	// release.
	hm := hashmatch.NewService(w, db, vault, signer, keys.LogKey, hashmatch.Config{QuarantineLimit: 2})
	hm.Now = clk.Now
	if err := hm.Load(ctx); err != nil {
		t.Fatal(err)
	}
	h := &history{t: t, ctx: ctx, clk: clk, w: w, tr: &transplant.Service{W: w, DB: db, Vault: vault, Now: clk.Now}, hm: hm}
	h.core()
	h.transplant()
	h.hashmatch()
	h.alerts()
	h.preferences()
	h.persons()
	h.exports()
	h.exchange(db, keys.Master)
	h.vigilance()
	report, assessor := h.trafficking()
	h.vigmail(report, assessor)
	h.handoffs()
	h.subjectRights()
	h.witnesses(db, keys.LogKey)
	h.stats(db)
	h.crossBorder(db, keys.Master)
	h.procedures()
	h.oversight()
	h.audits(db, report, assessor)
	h.assets(db, vault)
	h.bods(db, vault)
	h.hmFeedback()
	h.requests(db, vault, keys.Master)
	h.videoThresholds()
	h.statsWithdrawal()
	h.nameIndexRepair(db)
	h.refusalsCommitted(db, keys.Master)
	h.mailSent(db)
	h.signOut(db)
	h.cosignaturesCommitted(db, keys.LogKey)
	h.importAssigned()
	h.importReassigned()
	h.linkWithdrawn(db, report, assessor)
	h.caseReopened()
	h.hmQuarantine()

	// The log as log_leaves holds it.
	var leaves strings.Builder
	rows, err := db.Read().Query(ctx, "SELECT data FROM log_leaves ORDER BY idx")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var data string
		if err := rows.Scan(&data); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(data, "\n") {
			t.Fatalf("a leaf holds a newline: %s", data)
		}
		leaves.WriteString(data + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	hd, cp, err := ledger.ReadHead(ctx, db.Read())
	if err != nil {
		t.Fatal(err)
	}
	hj := must(json.MarshalIndent(head{Size: hd.Size, Root: hex.EncodeToString(hd.Root)}, "", "  "))
	return map[string]string{leavesFile: leaves.String(), checkpointFile: cp, headFile: string(hj) + "\n"}
}

// core: the authorities and principals of every role, and a revocation.
func (h *history) core() {
	regulator := h.authority(nil, "Golden Transplant Authority", auth.KindRegulator, "")
	h.admin = h.principal("Golden administrator", auth.Admin, regulator)
	h.regulator = h.principal("Golden regulator", auth.Regulator, regulator)
	auditor := h.principal("Golden auditor", auth.Auditor, regulator)
	h.clk.tick()
	must(h.w.Submit(h.ctx, h.admin.Actor(), "revoke principal", auth.RevokePrincipal(auditor.ID)))
}

// preferences: the regulator chooses the time zone of their pages. Last, so
// that adding it left the earlier leaves as they were.
func (h *history) preferences() {
	h.clk.tick()
	tz := "Europe/Paris"
	must(h.w.Submit(h.ctx, h.regulator.Actor(), "set preferences", must(auth.SetPreferences(h.regulator.ID, auth.Preferences{TimeZone: &tz}, nil))))
}

// transplant: a centre and its licences (one revoked), a deceased donor
// whose procurement is first refused for want of consent (an alert), a living
// donor, a recipient, a procurement, a transplantation with its
// authorization, and a read of personal data.
func (h *history) transplant() {
	t, ctx, tr := h.t, h.ctx, h.tr
	regulator := h.regulator
	centre := h.authority(h.admin, "Golden Centre (synthetic)", transplant.KindCentre, "Port Aster")
	coord := h.principal("Golden coordinator", transplant.RoleCoordinator, centre)
	h.coordinator = coord
	licence := func(activity, organ, to string) *transplant.CentreAuthorization {
		h.clk.tick()
		return must(tr.AuthorizeCentre(ctx, regulator, centre, transplant.NewCentreAuthorization{Activity: activity, Organ: organ, ValidFrom: "2020-01-01", ValidTo: to}))
	}
	licence("procurement", "kidney", "2030-12-31")
	licence("transplantation", "kidney", "")
	heart := licence("procurement", "heart", "")
	h.clk.tick()
	must(tr.RevokeCentreAuthorization(ctx, regulator, centre, heart.ID, "inspection found no heart team on call"))

	today := h.clk.Now().Format(transplant.DateLayout)
	weight, height, age := 72, 176, 45
	h.clk.tick()
	donor := must(tr.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorBrainDeath, CentreID: centre,
		Name: "Golden Donor (synthetic)", NationalID: "XA000000001", Sex: "female", BloodGroup: "O", DateOfBirth: "1970-05-01",
		WeightKg: &weight, HeightCm: &height, CauseOfDeath: "cerebrovascular accident", DateOfDeath: today,
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "not_tested",
		OrganFunction: "creatinine within normal range"}))
	procure := transplant.NewProcurement{DonorID: donor.ID, CentreID: centre, Organs: []string{"kidney", "kidney"}}
	procure.ProcuredAt = h.clk.tick().Format(time.RFC3339)
	if _, err := tr.RecordProcurement(ctx, coord, procure); errs.CodeOf(err) != errs.Forbidden {
		t.Fatalf("a procurement before consent: got %v, want a refusal with an alert", err)
	}
	h.clk.tick()
	must(tr.RecordConsent(ctx, coord, donor.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: today,
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}))
	h.clk.tick()
	must(tr.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorLiving, CentreID: centre,
		Name: "Golden Living Donor (synthetic)", Sex: "male", BloodGroup: "A", EstimatedAge: &age,
		IVDrugUse: "unknown", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
		OrganFunction: "normal renal function"}))
	procure.ProcuredAt = h.clk.tick().Format(time.RFC3339)
	pr := must(tr.RecordProcurement(ctx, coord, procure))
	h.clk.tick()
	rc := must(tr.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: centre, Name: "Golden Recipient (synthetic)",
		NationalID: "XA000000002", Sex: "male", BloodGroup: "O", DateOfBirth: "1981-02-02", Residence: "XA", OrganNeeded: "kidney", ListedOn: "2024-06-01"}))
	h.clk.tick()
	ta := must(tr.AuthorizeTransplant(ctx, coord, transplant.NewTransplantAuthorization{OrganID: pr.Organs[0].ID, RecipientID: rc.ID,
		CentreID: centre, AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}))
	performed := h.clk.tick()
	h.clk.tick()
	must(tr.RecordTransplant(ctx, coord, transplant.NewTransplant{OrganID: pr.Organs[0].ID, RecipientID: rc.ID, CentreID: centre,
		PerformedAt: performed.Format(time.RFC3339), AuthorizationID: ta.ID}))
	h.donor, h.kidney, h.recipient = donor.ID, pr.Organs[1].ID, rc.ID
	h.clk.tick()
	must(tr.PersonalData(ctx, regulator, donor.ID, "check the consent on file against the family's statement"))
	// The same read as the releases before the read log moved to privacy
	// recorded it: logs hold such leaves for good.
	h.clk.tick()
	id := h.w.IDs().New("RD")
	must(h.w.Submit(ctx, regulator.Actor(), "read personal data", func(context.Context, *store.Tx, time.Time) (*ledger.Entry, error) {
		return ledger.NewEntry(privacy.TypeTransplantRead, privacy.Read{ID: id, SubjectID: donor.ID, Purpose: "as recorded before December 2026"})
	}))
}

// hashmatch: a bank with image and video entries in two versions, a
// service's subscription with a snapshot and a delta pull, three matches
// (one raises a flood alert; one is a video), a confirmed
// case reported, acknowledged and removed, and a rejected case suppressed.
func (h *history) hashmatch() {
	t, ctx, hm := h.t, h.ctx, h.hm
	hotline := h.authority(h.admin, "Golden Hotline (synthetic)", hashmatch.KindCompetentAuthority, "Port Aster")
	analyst := h.principal("Golden analyst", hashmatch.RoleAnalyst, hotline)
	provider := h.authority(h.admin, "Golden Video Service (synthetic)", hashmatch.KindServiceProvider, "")
	service := h.principal("Golden matching service", hashmatch.RoleService, provider)
	reviewer := h.principal("Golden reviewer", hashmatch.RoleReviewer, provider)

	threshold := 31
	h.clk.tick()
	bank := must(hm.CreateBank(ctx, analyst, hashmatch.NewBank{Name: "Golden known images", Kind: hashmatch.KindKnown, Threshold: &threshold}))
	h.hmBank, h.hmAnalyst = bank.ID, analyst
	frames := []hashmatch.VideoFrame{{PDQ: pdqHex(10), Quality: 90, Seconds: 0}, {PDQ: pdqHex(11), Quality: 80, Seconds: 1}, {PDQ: pdqHex(12), Quality: 100, Seconds: 2.5}}
	h.clk.tick()
	must(hm.Publish(ctx, analyst, bank.ID, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{
		{EntryID: "golden-a", PDQ: pdqHex(1), MD5: hexDigest(32, "a"), SHA256: hexDigest(64, "a"), Classification: "A1"},
		{EntryID: "golden-b", PDQ: pdqHex(2)},
		{EntryID: "golden-v", Video: &hashmatch.VideoHash{Frames: frames}, Classification: "B2"},
	}}))
	h.clk.tick()
	must(hm.Subscribe(ctx, service, bank.ID))
	h.clk.tick()
	must(hm.Pull(ctx, service, bank.ID, 0))
	h.clk.tick()
	must(hm.Publish(ctx, analyst, bank.ID, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{{EntryID: "golden-c", PDQ: pdqHex(3), Classification: "A2"}}, Deletes: []string{"golden-b"}}))
	h.clk.tick()
	must(hm.Pull(ctx, service, bank.ID, 1))

	quality := 90
	match := func(ref string) string {
		t.Helper()
		h.clk.tick()
		res := must(hm.MatchHashes(ctx, service, []hashmatch.Query{{PDQ: pdqHex(1), Quality: &quality, MD5: hexDigest(32, ref), SHA256: hexDigest(64, ref),
			ContentRef: ref, UserID: "golden-user-7", UploadedAt: h.clk.Now().Add(-time.Hour).Format(time.RFC3339)}}))
		if res[0].Status != hashmatch.StatusMatch {
			t.Fatalf("golden-a did not match itself: %+v", res[0])
		}
		return res[0].CaseID
	}
	confirmed := match("upload/1001")
	// The service's second match in the window reaches the quarantine limit
	// on its own: a flood alert to the bank's owner, no quarantine (that
	// takes two services: hmQuarantine).
	rejected := match("upload/1002")
	h.clk.tick()
	h.clk.tick()
	vr := must(hm.MatchVideo(ctx, service, hashmatch.VideoQuery{Frames: frames, ContentRef: "video/2001", UserID: "golden-user-8",
		UploadedAt: h.clk.Now().Add(-time.Hour).Format(time.RFC3339)}))
	if vr.Status != hashmatch.StatusMatch {
		t.Fatalf("golden-v did not match itself: %+v", vr)
	}

	h.clk.tick()
	must(hm.ReviewCase(ctx, reviewer, confirmed, hashmatch.Review{Decision: "confirm", Note: "matches the known image"}))
	h.clk.tick()
	rep := must(hm.SendReport(ctx, reviewer, confirmed, hashmatch.NewReport{IncidentType: "child_sexual_abuse_material",
		IncidentAt: h.clk.Now().Add(-2 * time.Hour).Format(time.RFC3339), Notes: "synthetic report of the golden log"}))
	h.clk.tick()
	must(hm.AcknowledgeReport(ctx, analyst, rep.ID, "GOLDEN-2025-0001"))
	h.clk.tick()
	must(hm.RecordRemoval(ctx, reviewer, confirmed, hashmatch.NewRemoval{Action: "removed", RemovedAt: h.clk.Now().Add(-time.Minute).Format(time.RFC3339)}))
	h.clk.tick()
	must(hm.ReviewCase(ctx, reviewer, rejected, hashmatch.Review{Decision: "reject", Note: "a different picture", Suppress: true}))
	h.hmAnalyst, h.hmService, h.hmReviewer, h.hmBank, h.hmRejected = analyst, service, reviewer, bank.ID, rejected
}

// alerts: a refusal that raises an alert, retried a minute later (counted on
// the alert, not raised again), and the regulator's work on it: acknowledged,
// assigned, commented on and closed with an outcome.
func (h *history) alerts() {
	t, ctx := h.t, h.ctx
	weight, height := 70, 170
	donor := transplant.NewDonor{Kind: transplant.DonorBrainDeath, CentreID: h.regulator.AuthorityID,
		Name: "Golden Misfiled Donor (synthetic)", NationalID: "XA000000003", Sex: "male", BloodGroup: "B", DateOfBirth: "1965-01-01",
		WeightKg: &weight, HeightCm: &height, CauseOfDeath: "cerebrovascular accident", DateOfDeath: h.clk.Now().Format(transplant.DateLayout),
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
		OrganFunction: "normal"}
	for range 2 {
		h.clk.tick()
		if _, err := h.tr.RegisterDonor(ctx, h.coordinator, donor); errs.CodeOf(err) != errs.Forbidden {
			t.Fatalf("a donor registered for another authority: got %v, want a refusal with an alert", err)
		}
	}
	as := must(h.w.Alerts(ctx, h.tr.DB.Read(), ledger.AlertFilter{Rule: "own_centre"})).Items
	if len(as) != 1 || as[0].Repeats != 1 {
		t.Fatalf("the retried refusal: alerts %+v, want one repeated once", as)
	}
	id := as[0].ID
	work := &alerts.Service{W: h.w, DB: h.tr.DB}
	h.clk.tick()
	must(work.Acknowledge(ctx, h.regulator, id))
	h.clk.tick()
	must(work.Assign(ctx, h.regulator, id, alerts.Assignment{AssigneeID: h.regulator.ID}))
	h.clk.tick()
	must(work.Comment(ctx, h.regulator, id, alerts.Comment{Text: "the coordinator chose the wrong centre in the form"}))
	h.clk.tick()
	must(work.Close(ctx, h.regulator, id, alerts.Closing{Outcome: "corrected", Note: "registered at the right centre the same day"}))
}

// persons: a search for a person by national identifier and by name with
// date of birth; a second listing of the golden recipient refused as a
// likely duplicate (a logged search), then registered linked to the first;
// and another man of the same name and birth date, registered with a reason.
func (h *history) persons() {
	t, ctx := h.t, h.ctx
	h.clk.tick()
	found := must(h.tr.FindPerson(ctx, h.coordinator, transplant.PersonQuery{NationalID: "XA000000001", Name: "golden donor (SYNTHETIC)",
		DateOfBirth: "1970-05-01", Purpose: "is she registered already?"}))
	if len(found) != 1 {
		t.Fatalf("the search found %+v, want the golden donor", found)
	}
	var first string
	if err := h.tr.DB.Read().QueryRow(ctx, "SELECT id FROM recipients").Scan(&first); err != nil {
		t.Fatal(err)
	}
	rc := transplant.NewRecipient{CentreID: h.coordinator.AuthorityID, Name: "Golden Recipient (synthetic)", NationalID: "XA000000002",
		Sex: "male", BloodGroup: "O", DateOfBirth: "1981-02-02", Residence: "XA", OrganNeeded: "pancreas", ListedOn: "2024-06-01"}
	h.clk.tick()
	if _, err := h.tr.RegisterRecipient(ctx, h.coordinator, rc); len(transplant.LikelyDuplicates(err)) != 1 {
		t.Fatalf("a second listing: got %v, want a likely duplicate of %s", err, first)
	}
	rc.DuplicateOf = first
	h.clk.tick()
	must(h.tr.RegisterRecipient(ctx, h.coordinator, rc))
	rc.DuplicateOf, rc.NationalID, rc.OrganNeeded = "", "XA000000004", "kidney"
	rc.NotDuplicateReason = "another man of the same name and birth date: checked the hospital file"
	h.clk.tick()
	must(h.tr.RegisterRecipient(ctx, h.coordinator, rc))
}

// exports: the regulator exports the donors of a centre, a list with
// personal data, as CSV.
func (h *history) exports() {
	ctx := h.ctx
	req := must(h.tr.Export(h.regulator, transplant.ListDonors, url.Values{"format": {"csv"}, "centre_id": {h.coordinator.AuthorityID}}))
	req.Rand = seeded("export salt") // the donors are personal data: the file is salted
	h.clk.tick()
	must(export.Export(ctx, h.tr.DB, h.w, h.regulator.Actor(), req, nil, io.Discard))
}

// exchange: a peer registry (XB, a synthetic key) registered, a notice sent
// to it and its signed receipt recorded, a notice received from it and used
// for its purpose, the peer's key rotated, this registry's own key rotated,
// and the peer suspended and resumed.
func (h *history) exchange(db *store.DB, master []byte) {
	t, ctx := h.t, h.ctx
	types := must(exchange.NewTypes(map[string][]exchange.Type{"core": {exchange.Notice}}))
	xs := must(exchange.New(ctx, h.w, db, master, types, exchange.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	xs.Now = h.clk.Now
	seed := make([]byte, ed25519.SeedSize)
	must(io.ReadFull(seeded("exchange peer"), seed))
	peerKey := ed25519.NewKeyFromSeed(seed)
	h.clk.tick()
	peer := must(xs.RegisterPeer(ctx, h.admin, exchange.NewPeer{Name: "Golden Peer Registry (synthetic)", Jurisdiction: "XB",
		URL: "https://peer.invalid", PublicKey: exchange.EncodeKey(peerKey.Public().(ed25519.PublicKey)),
		SendPurposes: []string{"vigilance"}, ReceivePurposes: []string{"vigilance"}}))
	h.clk.tick()
	sent := must(xs.Send(ctx, h.regulator, exchange.Outgoing{PeerID: peer.ID, Type: exchange.Notice.Name, Purpose: "vigilance",
		LegalBasis: "Golden bilateral agreement (synthetic), art. 3", Notice: "Synthetic notice for the golden log.",
		Readers: []string{"regulator"}, Payload: json.RawMessage(`{"subject":"Golden notice","text":"A synthetic notice."}`)}))
	h.clk.tick()
	receipt := must(exchange.SealReceipt(&exchange.Receipt{V: exchange.Version, MessageID: sent.ID, MessageSHA256: exchange.Digest(sent.Message),
		From: "XB", To: "XA", Outcome: exchange.Received, At: ledger.FormatTime(h.clk.Now())}, peerKey))
	if err := xs.RecordReceipt(ctx, sent.ID, receipt); err != nil {
		t.Fatal(err)
	}
	h.clk.tick()
	body := apptest.Sealed(t, peerKey, exchange.Message{ID: "XBM-0001", From: "XB", To: "XA", Module: "core", Type: exchange.Notice.Name,
		Purpose: "vigilance", LegalBasis: "Golden bilateral agreement (synthetic), art. 3", Notice: "Synthetic notice for the golden log.",
		Readers: []string{"regulator"}, OnwardSharing: true, SentAt: ledger.FormatTime(h.clk.Now()),
		Payload: json.RawMessage(`{"subject":"Golden answer","text":"A synthetic answer.","reference":"` + sent.ID + `"}`)})
	if status, ans := xs.Receive(ctx, body); status != 200 {
		t.Fatalf("receive: %d %+v", status, ans.Error)
	}
	h.clk.tick()
	must(xs.UseMessage(ctx, h.regulator, peer.ID+"/XBM-0001", exchange.UseRequest{Purpose: "vigilance"}))
	h.clk.tick()
	must(io.ReadFull(seeded("exchange peer 2"), seed))
	next := ed25519.NewKeyFromSeed(seed)
	must(xs.AddPeerKey(ctx, h.admin, peer.ID, exchange.NewKey{PublicKey: exchange.EncodeKey(next.Public().(ed25519.PublicKey)),
		PreviousValidUntil: h.clk.Now().Add(24 * time.Hour).Format(time.RFC3339)}))
	h.clk.tick()
	must(xs.RotateKey(ctx, h.admin))
	h.clk.tick()
	if err := xs.SetPeerState(ctx, h.admin, peer.ID, true, "synthetic suspension"); err != nil {
		t.Fatal(err)
	}
	h.clk.tick()
	if err := xs.SetPeerState(ctx, h.admin, peer.ID, false, "synthetic resumption"); err != nil {
		t.Fatal(err)
	}
	// A message the peer never answers, abandoned by the administrator.
	h.clk.tick()
	lost := must(xs.Send(ctx, h.regulator, exchange.Outgoing{PeerID: peer.ID, Type: exchange.Notice.Name, Purpose: "vigilance",
		LegalBasis: "Golden bilateral agreement (synthetic), art. 3", Notice: "Synthetic notice for the golden log.",
		Readers: []string{"regulator"}, Payload: json.RawMessage(`{"subject":"Golden notice never answered","text":"A synthetic notice."}`)}))
	h.clk.tick()
	must(xs.AbandonMessage(ctx, h.admin, lost.ID, exchange.AbandonRequest{Reason: "synthetic: the peer never gave a receipt that verifies"}))
}

// witnesses: an auditor's witness (a synthetic key) registered to cosign
// the log's checkpoints.
func (h *history) witnesses(db *store.DB, logKey string) {
	_, vkey, err := note.GenerateKey(seeded("witness"), "witness.golden.invalid")
	if err != nil {
		h.t.Fatal(err)
	}
	cv := must(fnote.VKeyToCosignatureV1(vkey))
	h.clk.tick()
	ws := &witness.Service{W: h.w, DB: db, LogKey: logKey, Now: h.clk.Now}
	must(ws.Register(h.ctx, h.admin, witness.NewWitness{PublicKey: cv}))
}

// vigilance: the donor's second kidney discarded; a serious adverse
// reaction in the recipient of the first, reported by the regulator, which
// notifies the centre; the notification escalated a day later, then
// acknowledged; the final report overdue three months on, then made.
func (h *history) vigilance() {
	ctx, tr := h.ctx, h.tr
	h.clk.tick()
	must(tr.RecordDisposition(ctx, h.coordinator, transplant.NewDisposition{OrganID: h.kidney, Outcome: transplant.DispositionDiscarded,
		Reason: "organ_quality", Note: "biopsy: extensive glomerulosclerosis", DisposedAt: h.clk.Now().Format(time.RFC3339)}))
	h.clk.tick()
	sae := must(tr.ReportSAE(ctx, h.regulator, transplant.NewSAE{Kind: transplant.SAEReaction, DonorID: h.donor, RecipientIDs: []string{h.recipient},
		Contact: "Golden vigilance officer (synthetic), +00 0 00 00 00", StartedAt: h.clk.Now().Add(-2 * time.Hour).Format(time.RFC3339),
		DetectedAt: h.clk.Now().Add(-time.Hour).Format(time.RFC3339), Description: "Synthetic: donor-derived infection suspected.",
		ImmediateMeasures: "Synthetic: donor samples retested."}))
	h.clk.skip(25 * time.Hour)
	if n := must(tr.Escalate(ctx)); n != 1 {
		h.t.Fatalf("golden history: %d escalations, want the notification's", n)
	}
	h.clk.tick()
	must(tr.AcknowledgeNotification(ctx, h.coordinator, sae.Notifications[0].ID))
	h.clk.skip(4 * 31 * 24 * time.Hour)
	if n := must(tr.Escalate(ctx)); n != 1 {
		h.t.Fatalf("golden history: %d escalations, want the final report's", n)
	}
	h.clk.tick()
	must(tr.RecordFinalReport(ctx, h.regulator, sae.ID, transplant.FinalReport{Conclusion: "not_confirmed",
		Outcome: "Synthetic: cultures negative on retest.", CorrectiveActions: "Synthetic: none needed."}))
}

// trafficking: a designated authority and its assessor; a report filed
// under a pseudonym, moved on twice, its reporter opened; a living donation
// to a recipient who resides abroad, which the screening raises an alert on.
// Last, so that adding it left the earlier leaves as they were.
func (h *history) trafficking() (report string, assessor *auth.Principal) {
	t, ctx, tr, coord := h.t, h.ctx, h.tr, h.coordinator
	da := h.authority(h.admin, "Golden Trafficking Rapporteur (synthetic)", transplant.KindTraffickingAuthority, "")
	assessor = h.principal("Golden assessor", transplant.RoleTraffickingAssessor, da)
	h.clk.tick()
	rep := must(tr.FileTraffickingReport(ctx, coord, transplant.NewTraffickingReport{Indicators: []string{"recruitment.intermediary", "finance.payment_to_donor"},
		Text: "A broker (synthetic) accompanied the donor to every visit."}))
	for _, st := range []string{transplant.TraffickingUnderAssessment, transplant.TraffickingReferred} {
		h.clk.tick()
		must(tr.SetTraffickingStatus(ctx, assessor, rep.Reference, st))
	}
	h.clk.tick()
	must(tr.TraffickingReportReporter(ctx, assessor, rep.Reference, "ask the reporter for the broker's name"))

	centre := coord.AuthorityID
	age := 38
	h.clk.tick()
	donor := must(tr.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorLiving, CentreID: centre,
		Name: "Golden Second Living Donor (synthetic)", Sex: "female", BloodGroup: "O", EstimatedAge: &age,
		IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
		OrganFunction: "normal renal function"}))
	today := h.clk.Now().Format(transplant.DateLayout)
	h.clk.tick()
	must(tr.RecordConsent(ctx, coord, donor.ID, transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: today,
		AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}))
	procure := transplant.NewProcurement{DonorID: donor.ID, CentreID: centre, Organs: []string{"kidney"}}
	procure.ProcuredAt = h.clk.tick().Format(time.RFC3339)
	pr := must(tr.RecordProcurement(ctx, coord, procure))
	h.clk.tick()
	rc := must(tr.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: centre, Name: "Golden Visiting Recipient (synthetic)",
		NationalID: "XB000000003", Sex: "male", BloodGroup: "O", DateOfBirth: "1975-07-07", Residence: "XB", OrganNeeded: "kidney", ListedOn: today}))
	h.clk.tick()
	ta := must(tr.AuthorizeTransplant(ctx, coord, transplant.NewTransplantAuthorization{OrganID: pr.Organs[0].ID, RecipientID: rc.ID,
		CentreID: centre, AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}))
	performed := h.clk.tick()
	h.clk.tick()
	must(tr.RecordTransplant(ctx, coord, transplant.NewTransplant{OrganID: pr.Organs[0].ID, RecipientID: rc.ID, CentreID: centre,
		PerformedAt: performed.Format(time.RFC3339), AuthorizationID: ta.ID}))
	hits := must(tr.TraffickingScreenings(ctx, assessor, page.Request{})).Items
	if len(hits) != 1 || hits[0].Rule != transplant.RuleNonResidentLivingDonation {
		t.Fatalf("the screening raised %+v, want one alert of %s", hits, transplant.RuleNonResidentLivingDonation)
	}
	return rep.Reference, assessor
}

// vigmail: the centre and the regulator given notification addresses (the
// regulator's e-mails in French); a second serious adverse reaction, which
// queues the centre's e-mail; the trafficking report assessed as confirmed.
// After the trafficking part, so that adding it left the earlier leaves as
// they were.
func (h *history) vigmail(report string, assessor *auth.Principal) {
	ctx, tr := h.ctx, h.tr
	for _, c := range []struct{ id, email, lang string }{
		{h.coordinator.AuthorityID, "vigilance@golden-centre.example", ""},
		{h.regulator.AuthorityID, "vigilance@golden-regulator.example", "fr"},
	} {
		h.clk.tick()
		must(h.w.Submit(ctx, h.admin.Actor(), "set authority contact", must(auth.SetContact(c.id, auth.Contact{Email: c.email, Language: c.lang}, []string{"fr"}))))
	}
	h.clk.tick()
	sae := must(tr.ReportSAE(ctx, h.regulator, transplant.NewSAE{Kind: transplant.SAEEvent, DonorID: h.donor,
		Contact: "Golden vigilance officer (synthetic)", StartedAt: h.clk.Now().Add(-2 * time.Hour).Format(time.RFC3339),
		DetectedAt: h.clk.Now().Add(-time.Hour).Format(time.RFC3339), Description: "Synthetic: packaging breach found on arrival.",
		ImmediateMeasures: "Synthetic: recipient monitored."}))
	if len(sae.Mail) != 1 {
		h.t.Fatalf("golden history: the report queued e-mails %v, want the centre's", sae.Mail)
	}
	h.clk.tick()
	must(tr.AssessTraffickingReport(ctx, assessor, report, transplant.TraffickingAssessment{Conclusion: transplant.AssessmentConfirmed,
		Year: h.clk.Now().Year(), Organ: "kidney", Donor: transplant.CasePerson{Nationality: "XB", Sex: "male", AgeBand: "25-34"},
		Recipient: transplant.CasePerson{Nationality: "XA", Sex: "female", AgeBand: "45-54"}}))
}

// handoffs: a deceased donor's kidney scanned out of the procurement
// theatre, to the courier, in at the centre it is allocated to and into its
// transplant theatre. Last, so that adding it left the earlier leaves as
// they were.
func (h *history) handoffs() {
	ctx, tr, coord := h.ctx, h.tr, h.coordinator
	centre := coord.AuthorityID
	today := h.clk.Now().Format(transplant.DateLayout)
	h.clk.tick()
	donor := must(tr.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorBrainDeath, CentreID: centre,
		Name: "Golden Third Donor (synthetic)", NationalID: "XA000000004", Sex: "male", BloodGroup: "A", DateOfBirth: "1966-06-06",
		CauseOfDeath: "head trauma", DateOfDeath: today, IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no",
		HIV: "negative", HCV: "negative", HBV: "negative", OrganFunction: "creatinine within normal range"}))
	h.clk.tick()
	must(tr.RecordConsent(ctx, coord, donor.ID, transplant.NewConsent{Kind: transplant.ConsentRegistry, GivenOn: today,
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}))
	procure := transplant.NewProcurement{DonorID: donor.ID, CentreID: centre, Organs: []string{"kidney"}}
	procure.ProcuredAt = h.clk.tick().Format(time.RFC3339)
	kidney := must(tr.RecordProcurement(ctx, coord, procure)).Organs[0].ID
	scan := func(step, place string) {
		h.clk.tick()
		must(tr.RecordHandoff(ctx, coord, transplant.NewHandoff{OrganID: kidney, Step: step, Place: place}))
	}
	scan(transplant.StepProcurementTheatre, "Theatre 1")
	scan(transplant.StepTransport, "Golden courier (synthetic)")
	h.clk.tick()
	rc := must(tr.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: centre, Name: "Golden Third Recipient (synthetic)",
		NationalID: "XA000000005", Sex: "female", BloodGroup: "A", DateOfBirth: "1979-09-09", Residence: "XA", OrganNeeded: "kidney", ListedOn: today}))
	h.clk.tick()
	must(tr.AuthorizeTransplant(ctx, coord, transplant.NewTransplantAuthorization{OrganID: kidney, RecipientID: rc.ID,
		CentreID: centre, AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}))
	scan(transplant.StepArrival, "Coordination desk")
	scan(transplant.StepTransplantTheatre, "Theatre 2")
}

// subjectRights: the data subjects' rights on the first donor and recipient
// of the history: a rectification of the recipient's name, a subject-access
// export, and the erasure of the recipient (overriding the retention of a
// transplanted recipient on a court order).
func (h *history) subjectRights() {
	t, ctx, tr := h.t, h.ctx, h.tr
	t.Helper()
	h.clk.tick()
	must(tr.Rectify(ctx, h.regulator, h.recipient, transplant.Rectification{Name: "Golden Recipient Corrected (synthetic)", Reason: "misspelt at registration"}))
	h.clk.tick()
	must(tr.SubjectAccess(ctx, h.regulator, h.recipient, transplant.AccessJSON, "the recipient's request of 3 March"))
	h.clk.tick()
	must(tr.EraseSubject(ctx, h.regulator, h.recipient, transplant.Erase{Ground: privacy.GroundLegalObligation, Reference: "Court order 2025/17"}))
}

// stats: a statistics office and its statistician; a mapping of national
// offence codes to the ICCS, and an import of a few national records
// coded with it. Counting them adds the trafficking report referred to law
// enforcement above (ICCS 02043, from the transplant registry).
func (h *history) stats(db *store.DB) {
	t, ctx := h.t, h.ctx
	office := h.authority(h.admin, "Golden Statistics Office (synthetic)", stats.KindStatisticsOffice, "")
	statistician := h.principal("Golden statistician", stats.RoleStatistician, office)
	s := &stats.Service{W: h.w, DB: db, Now: h.clk.Now, Sources: []stats.Source{stats.TraffickingForOrganRemoval(transplant.ReferredTraffickingDates)}}
	rows := must(stats.ParseMapping(strings.NewReader("national_code,national_label,iccs\nG-1,Homicide (synthetic),0101\nG-2,Organ trafficking (synthetic),02043\n")))
	h.clk.tick()
	m := must(s.PublishMapping(ctx, statistician, stats.NewMapping{ID: "golden-code", Name: "Golden penal code (synthetic)", Rows: rows}))
	h.clk.tick()
	im := must(s.Import(ctx, statistician, stats.ImportRequest{Source: "golden.csv", Mapping: m.ID}, strings.NewReader(
		"offence_code,stage,unit,date,region,victim_sex,victim_age\nG-1,police,victim,2024-05-01,North,female,34\nG-2,police,offence,2024-06,South,,\n"), 0, nil))
	res := must(s.Aggregate(ctx, h.admin, stats.Query{Stage: stats.StagePolice, Unit: stats.UnitOffence, Level: 3, ICCS: []string{"0204"}}))
	if got := res.Get("02043"); got != 2 {
		t.Fatalf("ICCS 02043 counts %d offences, want 2 (one imported, one referred report)", got)
	}
	h.statsSvc, h.statistician, h.statsImport = s, statistician, im.ID
}

// statsWithdrawal: the stats step's import withdrawn, with a reason; its
// records no longer counted. Last, so that adding it left the earlier leaves
// as they were.
func (h *history) statsWithdrawal() {
	h.clk.tick()
	must(h.statsSvc.Withdraw(h.ctx, h.statistician, h.statsImport, stats.Withdrawal{Reason: "the police sent a corrected file (synthetic)"}))
}

// nameIndexRepair: the donor's name index row deleted behind custos's back,
// found by the check and repaired by the administrator. Last, so that
// adding it left the earlier leaves as they were.
// refusalsCommitted: a peer (XD, a synthetic key) registered, a message it
// signed for another registry refused (wrong_recipient), and the refusal
// kept committed to the log. Last, so that adding it left the earlier
// leaves as they were.
func (h *history) refusalsCommitted(db *store.DB, master []byte) {
	t, ctx := h.t, h.ctx
	types := must(exchange.NewTypes(map[string][]exchange.Type{"core": {exchange.Notice}}))
	xs := must(exchange.New(ctx, h.w, db, master, types, exchange.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	xs.Now = h.clk.Now
	seed := make([]byte, ed25519.SeedSize)
	must(io.ReadFull(seeded("refused peer"), seed))
	peerKey := ed25519.NewKeyFromSeed(seed)
	h.clk.tick()
	must(xs.RegisterPeer(ctx, h.admin, exchange.NewPeer{Name: "Golden Refused Registry (synthetic)", Jurisdiction: "XD",
		URL: "https://refused.invalid", PublicKey: exchange.EncodeKey(peerKey.Public().(ed25519.PublicKey)),
		SendPurposes: []string{"vigilance"}, ReceivePurposes: []string{"vigilance"}}))
	h.clk.tick()
	body := apptest.Sealed(t, peerKey, exchange.Message{ID: "XDM-0001", From: "XD", To: "XE", Module: "core", Type: exchange.Notice.Name,
		Purpose: "vigilance", LegalBasis: "Golden bilateral agreement (synthetic), art. 3", Notice: "Synthetic notice for the golden log.",
		Readers: []string{"regulator"}, SentAt: ledger.FormatTime(h.clk.Now()),
		Payload: json.RawMessage(`{"subject":"Golden misaddressed notice","text":"A synthetic notice."}`)})
	if status, ans := xs.Receive(ctx, body); status != 422 || ans.Error == nil || ans.Error.Rule != "wrong_recipient" {
		t.Fatalf("receive a message for another registry: %d %+v", status, ans.Error)
	}
	h.clk.tick()
	if ok, err := xs.CommitRefusals(ctx); !ok || err != nil {
		t.Fatalf("commit the refusals: %v %v", ok, err)
	}
}

func (h *history) nameIndexRepair(db *store.DB) {
	t, ctx := h.t, h.ctx
	if _, err := db.Read().Exec(ctx, "DELETE FROM person_names WHERE record_id = ?", h.donor); err != nil {
		t.Fatal(err)
	}
	_, problems, err := h.tr.CheckPersonNames(ctx)
	if err != nil || len(problems) != 1 {
		t.Fatalf("the name index check after a row was deleted: %v, %v", problems, err)
	}
	h.clk.tick()
	must(h.tr.RepairPersonNames(ctx, h.admin, problems))
}

// crossBorder: a foreign registry (XB, a synthetic key) registered for
// traceability and vigilance; a kidney sent to it, its outcome received; a
// report on the donor notifying the centre and XB, both escalated; an organ
// received from XB, transplanted here, a report of XB on it passed to the
// centre, escalated, then acknowledged (which acknowledges it to XB); a
// reaction raised here on it. Last, so that adding it left the earlier
// leaves as they were.
func (h *history) crossBorder(db *store.DB, master []byte) {
	t, ctx, tr, coord := h.t, h.ctx, h.tr, h.coordinator
	types := must(exchange.NewTypes(map[string][]exchange.Type{"core": {exchange.Notice}, "transplant": transplant.CrossBorderTypes}))
	xs := must(exchange.New(ctx, h.w, db, master, types, exchange.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	xs.Now = h.clk.Now
	tr.Exchange = xs
	xs.Handle("transplant", tr.ExchangeHandler())
	seed := make([]byte, ed25519.SeedSize)
	must(io.ReadFull(seeded("crossborder peer"), seed))
	peerKey := ed25519.NewKeyFromSeed(seed)
	h.clk.tick()
	purposes := []string{transplant.PurposeTraceability, transplant.PurposeVigilance}
	peer := must(xs.RegisterPeer(ctx, h.admin, exchange.NewPeer{Name: "Golden Foreign Registry (synthetic)", Jurisdiction: "XB",
		URL: "https://foreign.invalid", PublicKey: exchange.EncodeKey(peerKey.Public().(ed25519.PublicKey)), SendPurposes: purposes, ReceivePurposes: purposes}))
	n := 0
	receive := func(typ, purpose string, payload any) {
		h.clk.tick()
		n++
		body := apptest.Sealed(t, peerKey, exchange.Message{ID: fmt.Sprintf("XBX-%04d", n), From: "XB", To: "XA", Module: "transplant", Type: typ,
			Purpose: purpose, LegalBasis: "Directive 2010/53/EU (synthetic)", Notice: "Synthetic.", Readers: []string{"regulator", "coordinator"},
			SentAt: ledger.FormatTime(h.clk.Now()), Payload: must(json.Marshal(payload))})
		if status, ans := xs.Receive(ctx, body); status != 200 {
			t.Fatalf("receive %s: %d %+v", typ, status, ans.Error)
		}
	}

	h.receive = receive

	// A kidney sent to XB, and what became of it there.
	centre := coord.AuthorityID
	today := h.clk.Now().Format(transplant.DateLayout)
	h.clk.tick()
	donor := must(tr.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorBrainDeath, CentreID: centre,
		Name: "Golden Shared Donor (synthetic)", NationalID: "XA000000009", Sex: "male", BloodGroup: "A", DateOfBirth: "1966-06-06",
		CauseOfDeath: "trauma", DateOfDeath: today, IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative",
		HCV: "negative", HBV: "negative", OrganFunction: "creatinine within normal range"}))
	h.clk.tick()
	must(tr.RecordConsent(ctx, coord, donor.ID, transplant.NewConsent{Kind: transplant.ConsentFamily, GivenOn: today,
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}))
	procure := transplant.NewProcurement{DonorID: donor.ID, CentreID: centre, Organs: []string{"kidney", "kidney"}}
	procure.ProcuredAt = h.clk.tick().Format(time.RFC3339)
	pr := must(tr.RecordProcurement(ctx, coord, procure))
	h.clk.tick()
	must(tr.ExportOrgan(ctx, coord, transplant.NewExport{OrganID: pr.Organs[1].ID, PeerID: peer.ID, DestinationCentre: "Golden Foreign Centre"}))
	receive(transplant.MsgOutcome, transplant.PurposeTraceability, transplant.OutcomeMessage{OrganID: pr.Organs[1].ID, Outcome: "transplanted",
		RecipientID: "XB-RC-0001", On: today, Centre: "Golden Foreign Centre"})
	h.clk.tick()
	must(tr.ReportSAE(ctx, h.regulator, transplant.NewSAE{Kind: transplant.SAEEvent, DonorID: donor.ID, Contact: "Golden vigilance officer (synthetic)",
		StartedAt: h.clk.Now().Add(-2 * time.Hour).Format(time.RFC3339), DetectedAt: h.clk.Now().Add(-time.Hour).Format(time.RFC3339),
		Description: "Synthetic: donor malignancy found at autopsy.", ImmediateMeasures: "Synthetic: recipients' centres informed."}))
	h.clk.skip(25 * time.Hour)
	must(tr.Escalate(ctx))

	// An organ from XB, transplanted here; XB's report on its donor.
	organ := transplant.OrganID{Country: "XB", Year: 25, Seq: 42, Organ: 1}.String()
	receive(transplant.MsgCharacterization, transplant.PurposeTraceability, transplant.Characterization{OrganID: organ, Organ: "kidney", DonorID: "XB-DN-0042",
		ProcurementCentre: "Golden Foreign Centre", DestinationCentre: centre, Donor: transplant.DonorCharacterization{Kind: transplant.DonorBrainDeath,
			Sex: "female", BloodGroup: "O", IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
			OrganFunction: "normal"}})
	receive(transplant.MsgTraceability, transplant.PurposeTraceability, transplant.Traceability{OrganID: organ, Organ: "kidney", DonorID: "XB-DN-0042",
		ProcuredAt: ledger.FormatTime(h.clk.Now().Add(-time.Hour)), ProcurementCentre: "Golden Foreign Centre"})
	// The golden recipient has a kidney of this registry already: the organ
	// from abroad goes to a recipient still waiting for one, as an organ of
	// this registry would.
	h.clk.tick()
	abroad := must(tr.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: centre, Name: "Golden Recipient From Abroad (synthetic)",
		NationalID: "XA000000010", Sex: "female", BloodGroup: "O", DateOfBirth: "1984-04-04", Residence: "XA", OrganNeeded: "kidney", ListedOn: "2024-06-01"}))
	h.clk.tick()
	must(tr.RecordImportOutcome(ctx, coord, organ, transplant.NewImportOutcome{Outcome: "transplanted", RecipientID: abroad.ID, On: h.clk.Now().Format(transplant.DateLayout)}))
	receive(transplant.MsgSAENotification, transplant.PurposeVigilance, transplant.SAENotice{ReportID: "XB-SAE-2025-000001", Kind: transplant.SAEReaction,
		ReportingBody: "Golden Foreign Registry", Contact: "Synthetic desk", OriginCountry: "XB", DonorID: "XB-DN-0042", OrganIDs: []string{organ},
		RecipientIDs: []string{}, ReportedAt: ledger.FormatTime(h.clk.Now()), StartedAt: ledger.FormatTime(h.clk.Now().Add(-time.Hour)),
		DetectedAt: ledger.FormatTime(h.clk.Now()), Description: "Synthetic: donor-derived infection.", ImmediateMeasures: "Synthetic: none."})
	h.clk.skip(25 * time.Hour)
	must(tr.Escalate(ctx))
	fs := must(tr.ForeignSAE(ctx, h.regulator, "XB-SAE-2025-000001"))
	h.clk.tick()
	must(tr.AcknowledgeForeignNotification(ctx, coord, fs.Notifications[0].ID))
	h.clk.tick()
	must(tr.ReportImportSAE(ctx, coord, transplant.NewImportSAE{Kind: transplant.SAEReaction, OrganID: organ, RecipientIDs: []string{abroad.ID},
		Contact: "Golden coordinator (synthetic)", StartedAt: h.clk.Now().Add(-2 * time.Hour).Format(time.RFC3339),
		DetectedAt: h.clk.Now().Add(-time.Hour).Format(time.RFC3339), Description: "Synthetic: graft dysfunction.", ImmediateMeasures: "Synthetic: biopsy."}))
}

// procedures: a double kidney (several organs of one donor into one
// recipient), and a liver whose recipient's explanted liver is donated
// (domino) and transplanted into a second recipient (transplant migration 12).
func (h *history) procedures() {
	ctx, tr, coord := h.ctx, h.tr, h.coordinator
	centre := coord.AuthorityID
	for _, activity := range transplant.Activities {
		h.clk.tick()
		must(tr.AuthorizeCentre(ctx, h.regulator, centre, transplant.NewCentreAuthorization{Activity: activity, Organ: "liver", ValidFrom: "2020-01-01"}))
	}
	today := h.clk.Now().Format(transplant.DateLayout)
	h.clk.tick()
	donor := must(tr.RegisterDonor(ctx, coord, transplant.NewDonor{Kind: transplant.DonorCirculatoryDeath, CentreID: centre,
		Name: "Golden Procedure Donor (synthetic)", NationalID: "XA000000301", Sex: "male", BloodGroup: "A", DateOfBirth: "1962-01-05",
		CauseOfDeath: "anoxia", DateOfDeath: today, IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative",
		HBV: "negative", OrganFunction: "normal"}))
	h.clk.tick()
	must(tr.RecordConsent(ctx, coord, donor.ID, transplant.NewConsent{Kind: transplant.ConsentRegistry, GivenOn: today,
		AssessedBy: "Donation coordinator", AssessorIndependent: true, Voluntary: true, Informed: true}))
	procure := transplant.NewProcurement{DonorID: donor.ID, CentreID: centre, Organs: []string{"kidney", "kidney", "liver"}}
	procure.ProcuredAt = h.clk.tick().Format(time.RFC3339)
	pr := must(tr.RecordProcurement(ctx, coord, procure))
	recipient := func(nid, organ string, organs ...string) string {
		h.clk.tick()
		rc := must(tr.RegisterRecipient(ctx, coord, transplant.NewRecipient{CentreID: centre, Name: "Golden " + organ + " recipient " + nid + " (synthetic)",
			NationalID: nid, Sex: "female", BloodGroup: "A", DateOfBirth: "1975-07-" + nid[len(nid)-2:], Residence: "XA", OrganNeeded: organ, ListedOn: "2024-09-01"}))
		for _, o := range organs {
			h.clk.tick()
			must(tr.AuthorizeTransplant(ctx, coord, transplant.NewTransplantAuthorization{OrganID: o, RecipientID: rc.ID, CentreID: centre,
				AuthorizedBy: "Medical director", CompatibilityDocumented: true, ConsentVerified: true, NoPaymentDeclared: true}))
		}
		return rc.ID
	}
	kidneys := recipient("XA000000302", "kidney", pr.Organs[0].ID, pr.Organs[1].ID)
	performed := h.clk.tick()
	must(tr.RecordProcedure(ctx, coord, transplant.NewProcedure{Kind: transplant.ProcedureDoubleKidney, OrganIDs: []string{pr.Organs[0].ID, pr.Organs[1].ID},
		RecipientID: kidneys, CentreID: centre, PerformedAt: performed.Format(time.RFC3339)}))
	liver := recipient("XA000000303", "liver", pr.Organs[2].ID)
	performed = h.clk.tick()
	dom := must(tr.RecordProcedure(ctx, coord, transplant.NewProcedure{Kind: transplant.ProcedureSingle, OrganIDs: []string{pr.Organs[2].ID},
		RecipientID: liver, CentreID: centre, PerformedAt: performed.Format(time.RFC3339), DominoLiver: true,
		DominoConsent: &transplant.NewConsent{Kind: transplant.ConsentLiving, GivenOn: performed.Format(transplant.DateLayout),
			AssessedBy: "Independent living donor advocate", AssessorIndependent: true, Voluntary: true, Informed: true}}))
	explant := dom.Domino.Procurement.Organs[0].ID
	second := recipient("XA000000304", "liver", explant)
	performed = h.clk.tick()
	must(tr.RecordTransplant(ctx, coord, transplant.NewTransplant{OrganID: explant, RecipientID: second, CentreID: centre,
		PerformedAt: performed.Format(time.RFC3339)}))
}

// oversight: a registration with its region, suspended; a resident's
// transplant abroad that ends it, and the follow-up of its sixth month.
func (h *history) oversight() {
	ctx, tr, coord := h.ctx, h.tr, h.coordinator
	h.clk.tick()
	rc := must(tr.RegisterRecipient(ctx, coord, transplant.NewRecipient{Name: "Golden Waiting Recipient (synthetic)", NationalID: "XA000000031",
		Sex: "female", BloodGroup: "A", DateOfBirth: "1981-01-01", Residence: "XA", Region: "XA-NO", OrganNeeded: "kidney", ListedOn: "2024-01-15"}))
	h.clk.tick()
	must(tr.ChangeWaitlistStatus(ctx, coord, rc.ID, transplant.NewWaitlistChange{Status: transplant.WaitlistSuspended, Reason: "temporarily_unfit", ChangedOn: "2024-05-01"}))
	h.clk.tick()
	ab := must(tr.RecordAbroad(ctx, coord, transplant.NewAbroad{Kind: transplant.AbroadTransplant, RecipientID: rc.ID, Name: "Golden Waiting Recipient (synthetic)",
		NationalID: "XA000000031", Sex: "female", DateOfBirth: "1981-01-01", Country: "XC", ForeignCentre: "Golden Foreign Clinic (synthetic)", Organ: "kidney",
		PerformedOn: "2024-08-01", ReturnedOn: "2024-08-20", KnownThrough: "returning_patient", DonorType: "living", DonorRelation: "unrelated",
		DonorNationality: "XC", PaymentReported: "yes", MedicalRecords: "no"}))
	h.clk.tick()
	must(tr.RecordFollowUp(ctx, coord, transplant.NewFollowUp{SubjectID: ab.ID, DueMonth: 6, FollowedUpOn: "2025-02-10", VitalStatus: "alive",
		GraftStatus: "functioning", Complications: []string{"infection"}, PsychosocialCare: "offered_declined"}))
}

// audits: a reimbursement of a living donor's travel and a refused
// "gift" (alerted); an audit of the centre with a finding and a corrective
// action, done; the trafficking case linked to a transplantation, and an
// insurer's payer asking about it. Last, so that adding it left the
// earlier leaves as they were.
// linkWithdrawn: the trafficking case's link to a transplantation (audits)
// withdrawn as made in error, with its reason, and made again.
func (h *history) linkWithdrawn(db *store.DB, report string, assessor *auth.Principal) {
	var tx string
	if err := db.Read().QueryRow(h.ctx, "SELECT transplant_id FROM trafficking_case_transplants WHERE report_id = ?", report).Scan(&tx); err != nil {
		h.t.Fatal(err)
	}
	h.clk.tick()
	must(h.tr.WithdrawTraffickingCaseLink(h.ctx, assessor, report, tx, transplant.LinkWithdrawal{Reason: "Linked in error: the case concerns another transplantation (synthetic)."}))
	h.clk.tick()
	if err := h.tr.LinkTraffickingCase(h.ctx, assessor, report, tx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *history) audits(db *store.DB, report string, assessor *auth.Principal) {
	ctx, tr, coord := h.ctx, h.tr, h.coordinator
	var living, tx string
	if err := db.Read().QueryRow(ctx, "SELECT id FROM donors WHERE kind = ? AND centre_id = ? ORDER BY id LIMIT 1", transplant.DonorLiving, coord.AuthorityID).Scan(&living); err != nil {
		h.t.Fatal(err)
	}
	if err := db.Read().QueryRow(ctx, "SELECT id FROM transplants ORDER BY id LIMIT 1").Scan(&tx); err != nil {
		h.t.Fatal(err)
	}
	today := h.clk.Now().Format(transplant.DateLayout)
	h.clk.tick()
	must(tr.RecordReimbursement(ctx, coord, transplant.NewReimbursement{DonorID: living, Payee: transplant.PayeeDonor, Category: transplant.ExpenseTravel,
		Amount: "84.50", Currency: "EUR", IncurredOn: today, EvidenceRef: "Rail tickets (synthetic)"}))
	h.clk.tick()
	if _, err := tr.RecordReimbursement(ctx, coord, transplant.NewReimbursement{DonorID: living, Payee: transplant.PayeeDonor, Category: "gift",
		Amount: "5000", Currency: "EUR", IncurredOn: today, EvidenceRef: "none"}); err == nil {
		h.t.Fatal("golden history: a gift was reimbursed")
	}
	h.clk.tick()
	a := must(tr.PlanAudit(ctx, h.regulator, transplant.NewAudit{CentreID: coord.AuthorityID, PlannedOn: today, Scope: "Living donation files (synthetic)"}))
	h.clk.tick()
	f := must(tr.RecordFinding(ctx, h.regulator, a.ID, transplant.NewFinding{Severity: "minor", Description: "A consent form filed late (synthetic)."}))
	h.clk.tick()
	act := must(tr.SetCorrectiveAction(ctx, h.regulator, f.ID, transplant.NewCorrectiveAction{Action: "File consents on the day (synthetic).", DueOn: today}))
	h.clk.tick()
	must(tr.CloseCorrectiveAction(ctx, h.regulator, act.ID, today, "Checked on site (synthetic)."))
	h.clk.tick()
	if err := tr.LinkTraffickingCase(ctx, assessor, report, tx); err != nil {
		h.t.Fatal(err)
	}
	insurer := h.authority(h.admin, "Golden Health Insurance Fund (synthetic)", transplant.KindPayer, "")
	payer := h.principal("Golden claims officer", transplant.RolePayer, insurer)
	h.clk.tick()
	if ans := must(tr.CheckPayer(ctx, payer, transplant.PayerQuery{TransplantID: tx})); ans.ProcedurePayable {
		h.t.Fatalf("golden history: a confirmed case's transplantation is payable: %+v", ans)
	}
}

// assets: a central authority's directory imported from a file; a
// prosecutor's case of embezzlement and money laundering with a natural
// person (sealed) and a company, linked to a second case; a bank account
// identified, frozen, confiscated and returned; an exchange rate.
func (h *history) assets(db *store.DB, vault *privacy.Vault) {
	ctx := h.ctx
	central := h.authority(h.admin, "Golden Central Authority (synthetic)", assets.KindCentralAuthority, "")
	officer := h.principal("Golden central authority officer", assets.RoleCentralAuthority, central)
	office := h.authority(h.admin, "Golden Asset Recovery Office (synthetic)", assets.KindProsecution, "")
	prosecutor := h.principal("Golden prosecutor", assets.RoleProsecutor, office)
	s := &assets.Service{W: h.w, DB: db, Vault: vault, Now: h.clk.Now}
	h.clk.tick()
	must(s.ImportDirectory(ctx, officer, "golden-directory.csv", strings.NewReader("state,kind,name,legal_bases,languages,channels,email,available_24_7,contact_24_7\n"+
		"XA,central_authority,Golden Ministry of Justice (synthetic),uncac_46;untoc_18,en;fr,email;post,mla@justice.example,yes,+999 100 200\n")))
	h.clk.tick()
	c := must(s.OpenCase(ctx, prosecutor, assets.NewCase{Reference: "G-2024-1", Title: "Golden embezzlement (synthetic)", Kind: assets.CaseOutgoing,
		Offences: []string{"07032", "07041"}, OpenedOn: "2024-02-01"}))
	h.clk.tick()
	other := must(s.OpenCase(ctx, prosecutor, assets.NewCase{Reference: "G-2024-2", Title: "Golden bribery (synthetic)", Kind: assets.CaseDomestic,
		Offences: []string{"070312"}, OpenedOn: "2024-02-02"}))
	h.clk.tick()
	holder := must(s.AddPerson(ctx, prosecutor, c.ID, assets.NewPerson{Kind: assets.PersonNatural, Role: "accused", Country: "XA",
		Name: "Golden Accused (synthetic)", BirthDate: "1970-01-01"}))
	h.clk.tick()
	must(s.AddPerson(ctx, prosecutor, c.ID, assets.NewPerson{Kind: assets.PersonLegal, Role: "owner", Country: "XB", Name: "Golden Holdings Ltd (synthetic)", Registration: "G-123"}))
	h.clk.tick()
	must(s.LinkCases(ctx, prosecutor, c.ID, other.ID, "the same public official"))
	h.clk.tick()
	a := must(s.IdentifyAsset(ctx, prosecutor, c.ID, assets.NewAsset{Type: "bank_account", Jurisdiction: "XB", Description: "Golden account (synthetic)",
		Value: "500000.00", Currency: "EUR", HolderID: holder.ID, IdentifiedOn: "2024-02-10", Instrument: "Tracing order G-1", Authority: "Golden Asset Recovery Office"}))
	for _, m := range []assets.NewMeasure{
		{Step: assets.StepFrozen, DecidedOn: "2024-03-01", Instrument: "Freezing order G-2", Amount: "480000.00", Currency: "EUR", Authority: "Golden District Court"},
		{Step: assets.StepConfiscated, Confiscation: assets.ConfiscationNCB, DecidedOn: "2024-09-01", Instrument: "Judgment G-3", Amount: "480000.00", Currency: "EUR", Authority: "Golden High Court"},
		{Step: assets.StepReturned, ReturnedTo: "XA", DecidedOn: "2024-12-01", Instrument: "Return agreement G-4", Amount: "450000.00", Currency: "EUR", Authority: "Golden Ministry of Justice"},
	} {
		h.clk.tick()
		must(s.RecordMeasure(ctx, prosecutor, a.ID, m))
	}
	h.clk.tick()
	must(s.RecordRate(ctx, officer, assets.Rate{Currency: "EUR", To: "USD", Year: 2024, Rate: "1.0824", Source: "Golden central bank (synthetic)"}))
}

// bods: beneficial ownership: a central authority imports a small BODS
// file (an entity held through another by a person) and looks up its
// owners. After assets, so that adding it left the earlier leaves as they
// were.
func (h *history) bods(db *store.DB, vault *privacy.Vault) {
	t, ctx := h.t, h.ctx
	ca := h.authority(h.admin, "Golden Register Authority (synthetic)", assets.KindCentralAuthority, "")
	officer := h.principal("Golden register officer", assets.RoleCentralAuthority, ca)
	s := &assets.Service{W: h.w, DB: db, Vault: vault, Now: h.clk.Now}
	b := &bods.Builder{Prefix: "golden", Date: "2025-03-01", Publisher: "Golden register (synthetic)"}
	file := bytes.Join([][]byte{b.Entity("GE1", "Golden Holdings (synthetic)", "XA", ""), b.Entity("GE2", "Golden Trading (synthetic)", "XA", ""),
		b.Person("GP1", "Golden Person (synthetic)", ""), b.Relationship("GR1", "GE1", "GE2", []float64{75}, ""),
		b.Relationship("GR2", "GE2", "GP1", []float64{40, 60}, "")}, []byte("\n"))
	h.clk.tick()
	must(s.ImportBODS(ctx, officer, "golden.jsonl", bytes.NewReader(file), 0, nil))
	h.clk.tick()
	a := must(s.Ownership(ctx, officer, assets.QuestionOwners, "GE1", "api"))
	if len(a.Holdings) != 1 || a.Holdings[0].Lo != 30 || a.Holdings[0].Hi != 45 {
		t.Fatalf("the golden owners of GE1: %+v", a.Holdings)
	}
}

// hmFeedback: the reviewer disputes the rejected case with the bank's
// owner, who withdraws the entry; the service opts in to retroactive
// matching, an upload matches nothing, and the next version (which deletes
// the withdrawn entry) adds its hash: a retro case opens. The service then
// opts out. After bods, so that adding it left the earlier leaves as they
// were.
func (h *history) hmFeedback() {
	t, ctx, hm := h.t, h.ctx, h.hm
	h.clk.tick()
	must(hm.DisputeCase(ctx, h.hmReviewer, h.hmRejected, hashmatch.NewDispute{Note: "a different picture: the entry looks like a common template"}))
	h.clk.tick()
	if err := hm.ReviewDisputedEntry(ctx, h.hmAnalyst, h.hmBank, "golden-a", hashmatch.EntryReview{Decision: hashmatch.DecisionWithdraw,
		Reason: "entered by mistake"}); err != nil {
		t.Fatal(err)
	}
	days := 30
	h.clk.tick()
	must(hm.SetRetro(ctx, h.hmService, hashmatch.NewRetroSetting{RetentionDays: &days}))
	quality := 90
	h.clk.tick()
	res := must(hm.MatchHashes(ctx, h.hmService, []hashmatch.Query{{PDQ: pdqHex(5), Quality: &quality, ContentRef: "upload/3001", UserID: "golden-user-9"}}))
	if res[0].Status != hashmatch.StatusNoMatch {
		t.Fatalf("the golden upload for retroactive matching: %+v", res[0])
	}
	h.clk.tick()
	v := must(hm.Publish(ctx, h.hmAnalyst, h.hmBank, hashmatch.NewVersion{Adds: []hashmatch.DocEntry{{EntryID: "golden-d", PDQ: pdqHex(5), Classification: "A1"}}}))
	if v.Deletes != 1 {
		t.Fatalf("the version after the withdrawal deletes %d entries, want 1", v.Deletes)
	}
	cases := must(hm.Cases(ctx, h.hmReviewer, hashmatch.ListFilter{BankID: h.hmBank, Status: "open", Request: page.Request{Limit: 10}}))
	if len(cases.Items) == 0 || cases.Items[0].Source != "retro" || cases.Items[0].BestEntryID != "golden-d" { // the newest first
		t.Fatalf("the golden retro case: %+v", cases.Items)
	}
	days = 0
	h.clk.tick()
	must(hm.SetRetro(ctx, h.hmService, hashmatch.NewRetroSetting{RetentionDays: &days}))
}

// caseReopened: the hash-matching case rejected with suppress (and disputed,
// its entry withdrawn) reopened by its reviewer, lifting its suppression.
// Last, so that adding it left the earlier leaves as they were.
func (h *history) caseReopened() {
	h.clk.tick()
	c := must(h.hm.ReopenCase(h.ctx, h.hmReviewer, h.hmRejected, hashmatch.Reopen{Reason: "rejected in error: the upload is the listed picture"}))
	if c.Status != "open" {
		h.t.Fatalf("the reopened golden case is %s", c.Status)
	}
}

// hmQuarantine: a second service subscribes and matches golden-c after the
// first service did: together they reach the quarantine limit (2, each
// service's matches counted up to half of it), the entry is quarantined,
// and its owner releases it. Last, so that adding it left the earlier
// leaves as they were.
func (h *history) hmQuarantine() {
	t, ctx, hm := h.t, h.ctx, h.hm
	provider := h.authority(h.admin, "Golden Photo Service (synthetic)", hashmatch.KindServiceProvider, "")
	service := h.principal("Golden second matching service", hashmatch.RoleService, provider)
	h.clk.tick()
	must(hm.Subscribe(ctx, service, h.hmBank))
	quality := 90
	for _, p := range []*auth.Principal{h.hmService, service} {
		h.clk.tick()
		res := must(hm.MatchHashes(ctx, p, []hashmatch.Query{{PDQ: pdqHex(3), Quality: &quality, ContentRef: "upload/4001"}}))
		if res[0].Status != hashmatch.StatusMatch {
			t.Fatalf("golden-c did not match itself: %+v", res[0])
		}
	}
	h.clk.tick()
	if err := hm.ReleaseEntry(ctx, h.hmAnalyst, h.hmBank, "golden-c"); err != nil {
		t.Fatal(err)
	}
}

// requests: requests between central authorities over the exchange: a
// spontaneous disclosure received from XB and acknowledged; a request for
// mutual legal assistance following it, drafted by the prosecutor and sent
// by the central authority; XB acknowledges it, asks for more information
// (answered), executes it consenting to onward sharing; a use recorded.
// After bods, so that adding it left the earlier leaves as they were.
func (h *history) requests(db *store.DB, vault *privacy.Vault, master []byte) {
	t, ctx := h.t, h.ctx
	types := must(exchange.NewTypes(map[string][]exchange.Type{"core": {exchange.Notice}, "assets": assets.RequestTypesExchanged}))
	xs := must(exchange.New(ctx, h.w, db, master, types, exchange.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil))))
	xs.Now = h.clk.Now
	ca := h.authority(h.admin, "Golden Requests Central Authority (synthetic)", assets.KindCentralAuthority, "")
	officer := h.principal("Golden requests officer", assets.RoleCentralAuthority, ca)
	office := h.authority(h.admin, "Golden Requests Prosecution (synthetic)", assets.KindProsecution, "")
	prosecutor := h.principal("Golden requests prosecutor", assets.RoleProsecutor, office)
	s := &assets.Service{W: h.w, DB: db, Vault: vault, Now: h.clk.Now, Exchange: xs}
	xs.Handle("assets", s.ExchangeHandler())
	seed := make([]byte, ed25519.SeedSize)
	must(io.ReadFull(seeded("requests peer"), seed))
	peerKey := ed25519.NewKeyFromSeed(seed)
	h.clk.tick()
	purposes := []string{assets.PurposeLegalAssistance}
	peer := must(xs.RegisterPeer(ctx, h.admin, exchange.NewPeer{Name: "Golden Central Authority of XB (synthetic)", Jurisdiction: "XB",
		URL: "https://xb-central.invalid", PublicKey: exchange.EncodeKey(peerKey.Public().(ed25519.PublicKey)), SendPurposes: purposes, ReceivePurposes: purposes}))
	n := 0
	receive := func(typ string, payload any) {
		h.clk.tick()
		n++
		body := apptest.Sealed(t, peerKey, exchange.Message{ID: fmt.Sprintf("XBR-%04d", n), From: "XB", To: "XA", Module: "assets", Type: typ,
			Purpose: assets.PurposeLegalAssistance, LegalBasis: "UNCAC art. 46 (synthetic)", Notice: "Synthetic.", Readers: []string{"central_authority_officer"},
			SentAt: ledger.FormatTime(h.clk.Now()), Payload: must(json.Marshal(payload))})
		if status, ans := xs.Receive(ctx, body); status != 200 {
			t.Fatalf("receive %s: %d %+v", typ, status, ans.Error)
		}
	}
	h.clk.tick()
	dir := must(s.ImportDirectory(ctx, h.admin, "golden-requests-directory.csv", strings.NewReader("state,kind,name,legal_bases,languages,email\n"+
		"XB,central_authority,Golden Central Authority of XB (synthetic),uncac_46,en,ca@xb.example\n")))
	h.clk.tick()
	c := must(s.OpenCase(ctx, prosecutor, assets.NewCase{Reference: "G-2025-R1", Title: "Golden bribes abroad (synthetic)", Kind: assets.CaseOutgoing,
		Offences: []string{"07031"}, OpenedOn: "2025-01-02"}))
	receive(assets.MsgRequest, assets.RequestMessage{RequestID: "XB-SD-1", Type: assets.RequestSpontaneous, RequestingState: "XB", RequestedState: "XA",
		RequestingAuthority: "Golden Central Authority of XB (synthetic)", RequestedAuthority: "Golden Requests Central Authority (synthetic)",
		LegalBasis: assets.BasisUNCAC, Offences: []string{"07031"}, Facts: "Synthetic: payments from a XA official's relative.", Purpose: "Synthetic: inform XA.",
		Confidentiality: "required", Language: "en", UsePurposes: []string{"investigation"}, SentAt: ledger.FormatTime(h.clk.Now())})
	spont := must(s.Requests(ctx, officer, assets.RequestFilter{Direction: assets.DirectionIncoming}))
	if len(spont) != 1 {
		t.Fatalf("golden history: the disclosure received: %+v", spont)
	}
	h.clk.tick()
	must(s.RecordStatus(ctx, officer, spont[0].ID, assets.NewStatus{Status: assets.StatusAcknowledged}))
	h.clk.tick()
	r := must(s.DraftRequest(ctx, prosecutor, "", assets.NewRequest{Type: assets.RequestMLA, RequestedState: "XB", RequestedAuthority: dir.Entries[0].ID,
		LegalBasis: assets.BasisUNCAC, Assistance: []string{assets.AssistRecords}, Offences: []string{"07031"}, Facts: "Synthetic facts.",
		Purpose: "Synthetic: evidence for the prosecution.", Nexus: "Synthetic: the account received the bribes.", Confidentiality: "required",
		DualCriminality: "Synthetic: bribery is an offence in both states.", Language: "en", UsePurposes: []string{"prosecution"},
		Follows: spont[0].ID, CaseIDs: []string{c.ID}, PeerID: peer.ID}))
	h.clk.tick()
	if _, _, err := s.SendRequest(ctx, officer, r.ID); err != nil {
		t.Fatal(err)
	}
	receive(assets.MsgStatus, map[string]any{"request_id": r.ID, "status": assets.StatusAcknowledged, "on": h.clk.Now().Format("2006-01-02")})
	receive(assets.MsgQuestion, map[string]any{"request_id": r.ID, "question_id": "XB-Q-1", "question": "Synthetic: which period?"})
	f := must(s.RequestFile(ctx, officer, r.ID))
	h.clk.tick()
	must(s.AnswerInformation(ctx, officer, r.ID, f.Questions[0].ID, "Synthetic: 2024."))
	receive(assets.MsgStatus, map[string]any{"request_id": r.ID, "status": assets.StatusUnderExecution, "on": h.clk.Now().Format("2006-01-02")})
	receive(assets.MsgStatus, map[string]any{"request_id": r.ID, "status": assets.StatusExecuted, "onward_sharing": true, "on": h.clk.Now().Format("2006-01-02")})
	h.clk.tick()
	if err := s.RecordUse(ctx, prosecutor, r.ID, assets.NewUse{Purpose: "prosecution", Note: "Synthetic."}); err != nil {
		t.Fatal(err)
	}
	if f := must(s.RequestFile(ctx, officer, r.ID)); f.Status != assets.StatusExecuted || len(f.Events) != 8 {
		t.Fatalf("golden history: the request: %s, %d events", f.Status, len(f.Events))
	}
}

// videoThresholds: the hashmatch bank's owner sets its vPDQ match
// percentages (hashmatch.video_thresholds_set).
func (h *history) videoThresholds() {
	t, ctx := h.t, h.ctx
	q, i := 70.0, 25.5
	h.clk.tick()
	b := must(h.hm.SetVideoThresholds(ctx, h.hmAnalyst, h.hmBank, hashmatch.VideoThresholds{QueryMatchThresholdPct: &q, IndexMatchThresholdPct: &i}))
	if b.QueryMatchThresholdPct != q || b.IndexMatchThresholdPct != i {
		t.Fatalf("the golden bank's video thresholds: %+v", b)
	}
}

// mailSent: the e-mails queued so far (vigmail's, the escalations') sent
// to an SMTP server on the loopback, each recorded by a mail.sent entry.
// Last, so that adding it left the earlier leaves as they were.
func (h *history) mailSent(db *store.DB) {
	srv := mailtest.Start(h.t, mailtest.Options{})
	m := mail.New(db, mail.Config{Addr: srv.Addr, TLS: mail.NoTLS, From: "registry@golden.example"}, i18n.CoreOnly(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	m.Now, m.W = h.clk.Now, h.w
	h.clk.tick()
	if err := m.DeliverDue(h.ctx); err != nil {
		h.t.Fatal(err)
	}
	var n int
	if err := db.Read().QueryRow(h.ctx, "SELECT COUNT(*) FROM mail_committed WHERE sent_index > 0").Scan(&n); err != nil || n == 0 {
		h.t.Fatalf("golden history: %d e-mails logged sent (%v), want some", n, err)
	}
}

// signOut: the coordinator signs in to the pages and signs out, a
// session.ended entry naming the session's ref. Last, so that adding it
// left the earlier leaves as they were.
func (h *history) signOut(db *store.DB) {
	s := &auth.Sessions{DB: db, W: h.w, Now: h.clk.Now, Rand: seeded("sessions"), Key: make([]byte, 32)}
	h.clk.tick()
	started := must(s.Start(h.ctx, h.coordinator, auth.MethodToken, "192.0.2.0/24", "Golden browser (synthetic)"))
	h.clk.tick()
	if ref := must(s.End(h.ctx, h.coordinator, started.Secret)); ref != started.Ref {
		h.t.Fatalf("golden history: signed out of session %q, want %q", ref, started.Ref)
	}
}

// cosignaturesCommitted: the witness of witnesses cosigns the log's
// checkpoint (a signature of a fixed time, so that the history stays the
// same), and the registry commits the cosignature to the log. Last, so that
// adding it left the earlier leaves as they were.
func (h *history) cosignaturesCommitted(db *store.DB, logKey string) {
	t, ctx := h.t, h.ctx
	skey, _, err := note.GenerateKey(seeded("witness"), "witness.golden.invalid") // the witnesses step's key
	if err != nil {
		t.Fatal(err)
	}
	signer := &fixedCosigner{Signer: must(fnote.NewSignerForCosignatureV1(skey)), at: h.clk.tick()}
	seed := must(base64.StdEncoding.DecodeString(skey[strings.LastIndexByte(skey, '+')+1:]))
	signer.key = ed25519.NewKeyFromSeed(seed[1:])
	_, checkpoint, err := ledger.ReadHead(ctx, db.Read())
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndex(checkpoint, "\n\n")
	own := must(note.Sign(&note.Note{Text: checkpoint[:i+1]}, signer))
	ws := &witness.Service{W: h.w, DB: db, LogKey: logKey, Now: h.clk.Now}
	if c := must(ws.Accept(ctx, checkpoint+string(own[i+2:]))); len(c.Witnesses) != 1 {
		t.Fatalf("golden history: the cosignature kept for %v", c.Witnesses)
	}
	h.clk.tick()
	if ok, err := ws.CommitCosignatures(ctx); !ok || err != nil {
		t.Fatalf("commit the cosignatures: %v %v", ok, err)
	}
}

// importAssigned: an organ from XB sent to no centre named, which a
// regulator assigns to the golden centre (transplant migration 19). Last, so
// that adding it left the earlier leaves as they were.
func (h *history) importAssigned() {
	organ := transplant.OrganID{Country: "XB", Year: 25, Seq: 43, Organ: 1}.String()
	h.receive(transplant.MsgCharacterization, transplant.PurposeTraceability, transplant.Characterization{OrganID: organ, Organ: "kidney", DonorID: "XB-DN-0043",
		ProcurementCentre: "Golden Foreign Centre", Donor: transplant.DonorCharacterization{Kind: transplant.DonorBrainDeath,
			Sex: "male", BloodGroup: "A", IVDrugUse: "no", Malignancy: "no", TransmissibleDisease: "no", HIV: "negative", HCV: "negative", HBV: "negative",
			OrganFunction: "normal"}})
	h.clk.tick()
	must(h.tr.AssignImport(h.ctx, h.regulator, organ, transplant.NewAssignment{CentreID: h.coordinator.AuthorityID}))
}

// importReassigned: the organ importAssigned assigned, moved by the
// regulator to a second centre with a reason (transplant.import_assigned
// with from and reason). Last, so that adding it left the earlier leaves as
// they were.
func (h *history) importReassigned() {
	organ := transplant.OrganID{Country: "XB", Year: 25, Seq: 43, Organ: 1}.String()
	second := h.authority(h.admin, "Golden Second Centre (synthetic)", transplant.KindCentre, "Port Aster")
	h.clk.tick()
	must(h.tr.ReassignImport(h.ctx, h.regulator, organ, transplant.NewReassignment{CentreID: second, Reason: "Synthetic: the organ went to the second centre."}))
}

// fixedCosigner is a witness's cosignature/v1 signer whose signatures all
// carry one time (fnote's carries the clock's).
type fixedCosigner struct {
	*fnote.Signer
	key ed25519.PrivateKey
	at  time.Time
}

func (s *fixedCosigner) Sign(msg []byte) ([]byte, error) {
	t := uint64(s.at.Unix())
	sig := binary.BigEndian.AppendUint64(nil, t)
	return append(sig, ed25519.Sign(s.key, fmt.Appendf(nil, "cosignature/v1\ntime %d\n%s", t, msg))...), nil
}
