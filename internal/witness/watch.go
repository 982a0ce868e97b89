package witness

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/go-json-experiment/json/jsontext"
	fnote "github.com/transparency-dev/formats/note"
	"golang.org/x/mod/sumdb/note"

	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/privfile"
	"github.com/custos-project/custos/internal/strictjson"
)

// State is what a witness keeps of one registry, in a file of its own: the
// registry's log key it pinned, and the last checkpoint it verified. It is
// the auditor's trust anchor: custos log verify --witness-state reads the
// key from it, and compares the log with the checkpoint.
type State struct {
	URL         string `json:"url"`
	LogKey      string `json:"log_key"`
	Fingerprint string `json:"key_fingerprint"`
	Size        uint64 `json:"size"`
	Root        []byte `json:"root"`
	Checkpoint  string `json:"checkpoint"`
	SeenAt      string `json:"seen_at"`
}

// LoadState reads a witness state file, as the watcher wrote it
// (strictjson): a key given twice or in another case, in a file edited by
// hand, is refused rather than read as encoding/json would.
func LoadState(path string) (*State, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseState(path, b)
}

// parseState reads the text b of the witness state file at path (named in
// a refusal).
func parseState(path string, b []byte) (*State, error) {
	var s State
	if err := strictjson.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("witness state %s is not valid: %w", path, err)
	}
	v, err := note.NewVerifier(s.LogKey)
	if err != nil {
		return nil, fmt.Errorf("witness state %s: log_key: %w", path, err)
	}
	if err := s.selfConsistent(v.Name()); err != nil {
		return nil, fmt.Errorf("witness state %s: %w (the file was edited or damaged: it is not what custos log watch kept, and proves nothing of the registry)", path, err)
	}
	return &s, nil
}

// selfConsistent checks that the state says one thing: its fingerprint is
// its key's, and its size and root are those of the signed checkpoint it
// keeps, signed by its key. Verify and the watcher read size and root; a
// file edited by hand would otherwise accuse the registry of a rollback or
// a rewrite that the witness never saw.
func (s *State) selfConsistent(origin string) error {
	fp, err := ledger.KeyFingerprint(s.LogKey)
	if err != nil {
		return fmt.Errorf("log_key: %w", err)
	}
	if s.Fingerprint != "" && !ledger.SameFingerprint(fp, s.Fingerprint) {
		return fmt.Errorf("key_fingerprint: %s is not the fingerprint of its log_key (%s)", s.Fingerprint, fp)
	}
	if s.Size == 0 && len(s.Root) == 0 && s.Checkpoint == "" {
		return nil // pinned, no checkpoint seen yet
	}
	if s.Checkpoint == "" {
		return fmt.Errorf("checkpoint: missing, beside a size of %d", s.Size)
	}
	cp, err := ledger.OpenCheckpoint(s.Checkpoint, s.LogKey, origin)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if cp.Size != s.Size || !bytes.Equal(cp.Root, s.Root) {
		return fmt.Errorf("size and root: %d leaves, root %s, but its signed checkpoint says %d leaves, root %s", s.Size, ledger.RootText(s.Root), cp.Size, ledger.RootText(cp.Root))
	}
	return nil
}

// Head is the checkpoint the state kept, as ledger.VerifyOptions.Witnessed.
func (s *State) Head() *ledger.Head {
	if s.Size == 0 {
		return nil
	}
	return &ledger.Head{Size: s.Size, Root: s.Root}
}

// Save writes the state file whole or not at all (mode 0600).
func (s *State) Save(path string) error {
	return writeFile(path, s)
}

func writeFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return privfile.Write(path, ".custos-witness-*", b, os.Rename)
}

// Key is a witness's own signing key, in a file of its own (mode 0600).
type Key struct {
	Signer   string `json:"signer"`   // note signer key, PRIVATE+KEY+name+hash+key
	Verifier string `json:"verifier"` // cosignature/v1 verifier key, to register with the registry
}

// NewKey generates a witness key named name (the name its cosignatures
// carry) and writes it to path, which must not exist.
func NewKey(path, name string) (*Key, error) {
	if _, err := os.Stat(path); err == nil {
		return nil, fmt.Errorf("%s already exists; custos never overwrites keys", path)
	}
	skey, vkey, err := note.GenerateKey(rand.Reader, name)
	if err != nil {
		return nil, fmt.Errorf("witness name %q: %w", name, err)
	}
	cv, err := fnote.VKeyToCosignatureV1(vkey)
	if err != nil {
		return nil, err
	}
	k := &Key{Signer: skey, Verifier: cv}
	return k, writeFile(path, k)
}

// LoadKey reads a witness key file, as NewKey wrote it (strictjson).
func LoadKey(path string) (*Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseKey(path, b)
}

// parseKey reads the text b of the witness key file at path (named in a
// refusal).
func parseKey(path string, b []byte) (*Key, error) {
	var k Key
	if err := strictjson.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("witness key %s is not valid: %w", path, err)
	}
	if _, err := fnote.NewSignerForCosignatureV1(k.Signer); err != nil {
		return nil, fmt.Errorf("witness key %s: signer: %w", path, err)
	}
	return &k, nil
}

// Alarm is what a witness raises: the registry showed a checkpoint that
// contradicts one it showed before (a rollback or a fork), or one its
// pinned key did not sign. Kind is rollback, fork or signature.
type Alarm struct {
	Kind string
	Msg  string
}

func (a *Alarm) Error() string { return "ALARM (" + a.Kind + "): " + a.Msg }

// Watcher checks one registry's checkpoints against a state file.
type Watcher struct {
	URL       string // the registry's base URL
	StatePath string
	Key       *Key // the witness's own key; nil verifies without cosigning
	// Pin is the registry's log key, or its fingerprint, for the first run
	// (when the state file does not exist yet); later runs use the state's.
	PinKey, PinFingerprint string
	Client                 *http.Client
	Now                    func() time.Time
}

// Outcome is what one check found.
type Outcome struct {
	Size       uint64
	Root       []byte
	Previous   uint64 // the size kept before, 0 on the first run
	First      bool   // the state file was created
	Cosigned   bool   // the registry accepted the cosignature
	CosignNote string // why it did not, when it did not
}

// An answer is what the watcher reads of one of the registry's answers:
// the members it names, read as the registry writes them, and the others
// (Other) kept unread, for a registry of another version may send more.
type answer interface{ unread() jsontext.Value }

type checkpointAnswer struct {
	Size       uint64         `json:"size"`
	Checkpoint string         `json:"checkpoint"`
	LogKey     string         `json:"log_key"`
	Other      jsontext.Value `json:",embed"` // root, key_fingerprint, cosigned
}

func (a *checkpointAnswer) unread() jsontext.Value { return a.Other }

type consistencyAnswer struct {
	Proof [][]byte       `json:"proof"`
	Other jsontext.Value `json:",embed"` // from, to
}

func (a *consistencyAnswer) unread() jsontext.Value { return a.Other }

// Check fetches the registry's checkpoint, verifies it against the state
// (or the pin, on the first run), cosigns it and keeps it. A contradiction
// is an *Alarm, and the state is left as it was; any other error (the
// registry unreachable) is not.
func (w *Watcher) Check(ctx context.Context) (*Outcome, error) {
	st, err := LoadState(w.StatePath)
	first := errors.Is(err, os.ErrNotExist)
	if err != nil && !first {
		return nil, err
	}
	if first && w.PinKey == "" && w.PinFingerprint == "" {
		return nil, ErrNoPin(w.StatePath)
	}
	var ans checkpointAnswer
	if err := w.get(ctx, "/api/v1/log/checkpoint", &ans); err != nil {
		return nil, err
	}
	if first {
		if st, err = w.pin(ans.LogKey); err != nil {
			return nil, err
		}
	}
	v, err := note.NewVerifier(st.LogKey)
	if err != nil {
		return nil, err
	}
	cp, err := ledger.OpenCheckpoint(ans.Checkpoint, st.LogKey, v.Name())
	if err != nil {
		return nil, &Alarm{"signature", fmt.Sprintf("the registry's checkpoint does not verify with the pinned key %s (%s): %v", st.LogKey, st.Fingerprint, err)}
	}
	out := &Outcome{Size: cp.Size, Root: cp.Root, Previous: st.Size, First: first}
	if err := w.consistent(ctx, st, cp); err != nil {
		return nil, err
	}
	now := time.Now
	if w.Now != nil {
		now = w.Now
	}
	st.Size, st.Root, st.Checkpoint, st.SeenAt = cp.Size, cp.Root, cp.Note, now().UTC().Format(time.RFC3339)
	if err := st.Save(w.StatePath); err != nil {
		return nil, err
	}
	if w.Key != nil {
		if err := w.cosign(ctx, cp.Note); err != nil {
			out.CosignNote = err.Error()
		} else {
			out.Cosigned = true
		}
	}
	return out, nil
}

// pin makes the first state: the key the auditor gave, or the key the
// registry sends if its fingerprint is the one the auditor gave.
func (w *Watcher) pin(sent string) (*State, error) {
	key := strings.TrimSpace(w.PinKey)
	switch {
	case key != "":
	case w.PinFingerprint != "":
		fp, err := ledger.KeyFingerprint(sent)
		if err != nil {
			return nil, fmt.Errorf("the registry sends no valid log key (%q): %w", sent, err)
		}
		if !ledger.SameFingerprint(fp, w.PinFingerprint) {
			return nil, &Alarm{"signature", fmt.Sprintf("the registry's log key has fingerprint %s, not the %s you pinned", fp, w.PinFingerprint)}
		}
		key = sent
	default:
		return nil, ErrNoPin(w.StatePath)
	}
	fp, err := ledger.KeyFingerprint(key)
	if err != nil {
		return nil, fmt.Errorf("--public-key: %w", err)
	}
	return &State{URL: w.URL, LogKey: key, Fingerprint: fp}, nil
}

// ErrNoPin is the refusal of a first run that pins nothing.
func ErrNoPin(state string) error {
	return fmt.Errorf("%s does not exist: give the registry's log key (--public-key) or its fingerprint (--key-fingerprint), as its operator published it, for the witness to pin", state)
}

// consistent checks that the new checkpoint extends the kept one.
func (w *Watcher) consistent(ctx context.Context, st *State, cp *ledger.Checkpoint) error {
	switch {
	case st.Size == 0:
		return nil
	case cp.Size < st.Size:
		return &Alarm{"rollback", fmt.Sprintf("the registry's log has %d leaves, but it showed %d on %s: it was rolled back", cp.Size, st.Size, st.SeenAt)}
	case cp.Size == st.Size:
		if !bytes.Equal(cp.Root, st.Root) {
			return &Alarm{"fork", fmt.Sprintf("the registry's log of %d leaves has root %s, but it showed root %s at that size on %s: it was rewritten (a fork)", cp.Size, ledger.RootText(cp.Root), ledger.RootText(st.Root), st.SeenAt)}
		}
		return nil
	}
	var pr consistencyAnswer
	if err := w.get(ctx, fmt.Sprintf("/api/v1/log/consistency?from=%d&to=%d", st.Size, cp.Size), &pr); err != nil {
		return err
	}
	if err := ledger.VerifyConsistency(st.Size, cp.Size, pr.Proof, st.Root, cp.Root); err != nil {
		return &Alarm{"fork", fmt.Sprintf("the registry's log of %d leaves does not extend the one of %d leaves it showed on %s (%v): it was rewritten (a fork)", cp.Size, st.Size, st.SeenAt, err)}
	}
	return nil
}

// cosign signs the checkpoint with the witness's key and sends it back.
func (w *Watcher) cosign(ctx context.Context, signed string) error {
	s, err := fnote.NewSignerForCosignatureV1(w.Key.Signer)
	if err != nil {
		return err
	}
	// The checkpoint verified already: its text ends at the blank line.
	i := strings.LastIndex(signed, "\n\n")
	if i < 0 {
		return errors.New("the checkpoint is not a signed note")
	}
	own, err := note.Sign(&note.Note{Text: signed[:i+1]}, s)
	if err != nil {
		return err
	}
	// The log's signature, then the witness's (the line after its text).
	body, _ := json.Marshal(map[string]string{"checkpoint": signed + string(own[i+2:])})
	req, err := http.NewRequestWithContext(ctx, "POST", w.endpoint("/api/v1/log/cosignatures"), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnprocessableEntity {
		return fmt.Errorf("the registry refused the cosignature: %s; a witness's cosignatures are taken once the registry's operator has registered its public key (printed when its key was created; docs/operations.md, Witnesses)", answerError(resp))
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("the registry refused the cosignature: %s", answerError(resp))
	}
	return nil
}

func (w *Watcher) client() *http.Client {
	if w.Client != nil {
		return w.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

func (w *Watcher) endpoint(path string) string {
	return strings.TrimSuffix(w.URL, "/") + path
}

// get reads the registry's answer at path into v as strictjson reads it: a
// key given twice, one that is a read member's name in another case
// (encoding/json would take "CHECKPOINT" for the checkpoint, or the last of
// two) or bytes that are not UTF-8 are refused, naming the rule and the
// member, as an error (not an alarm: nothing was shown that contradicts
// the state).
func (w *Watcher) get(ctx context.Context, path string, v answer) error {
	req, err := http.NewRequestWithContext(ctx, "GET", w.endpoint(path), nil)
	if err != nil {
		return err
	}
	resp, err := w.client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, answerError(resp))
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if err := readAnswer(b, v); err != nil {
		return fmt.Errorf("GET %s: the registry's answer does not read as written: %w", path, err)
	}
	return nil
}

// readAnswer reads the registry's answer b into v, as get says.
func readAnswer(b []byte, v answer) error {
	err := strictjson.Unmarshal(b, v)
	if err == nil {
		err = strictjson.CaseVariant(reflect.TypeOf(v).Elem(), v.unread(), "")
	}
	return err
}

// maxAnswerMessage is the most of a registry's refusal message that the
// witness's error repeats, in characters: custos's own are shorter.
const maxAnswerMessage = 400

// answerError is a refusal's message and status, as the API answers it.
// The registry wrote both, and the witness's error goes to a terminal or a
// log: they are cut and escaped (errs.Echo), so that a registry answering
// control characters or a megabyte of text cannot reach either.
func answerError(resp *http.Response) string {
	var e struct {
		Error *errs.Error `json:"error"`
	}
	status := errs.Echo(resp.Status, errs.MaxEchoed)
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if strictjson.Unmarshal(b, &e) == nil && e.Error != nil && e.Error.Message != "" {
		return fmt.Sprintf("%s (%s)", errs.Echo(e.Error.Message, maxAnswerMessage), status)
	}
	return status
}

// ParseURL checks a registry's base URL.
func ParseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not a registry's URL (http:// or https://host[:port])", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
