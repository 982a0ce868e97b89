package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/store"
	"github.com/custos-project/custos/internal/witness"
)

// Checkpoint is the answer of GET /api/v1/log/checkpoint.
type Checkpoint struct {
	Size       uint64 `json:"size"`
	Root       []byte `json:"root"`
	Checkpoint string `json:"checkpoint"` // the latest signed checkpoint (C2SP tlog-checkpoint)
	// LogKey is the key the log records (its first leaf): compare its
	// fingerprint with the one the operator published before trusting it.
	LogKey         string `json:"log_key"`
	KeyFingerprint string `json:"key_fingerprint"`
	// Cosigned is the largest checkpoint the registered witnesses cosigned,
	// with their cosignatures (null when none has been).
	Cosigned *witness.Cosigned `json:"cosigned"`
}

// readCheckpoint reads the log's head, its key and its latest cosigned
// checkpoint in one snapshot; cosignatures that do not verify are not
// shown, and go to log.
func readCheckpoint(ctx context.Context, db *store.DB, log *slog.Logger) (*Checkpoint, error) {
	q, err := db.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	defer q.Rollback()
	h, cp, err := ledger.ReadHead(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &Checkpoint{Size: h.Size, Root: h.Root, Checkpoint: cp}
	if out.LogKey, err = ledger.RecordedKey(ctx, q); err != nil {
		return nil, err
	}
	if out.KeyFingerprint, err = ledger.KeyFingerprint(out.LogKey); err != nil {
		return nil, err
	}
	out.Cosigned, err = witness.Latest(ctx, q, log)
	return out, err
}

// cosignatureIn is the body of POST /api/v1/log/cosignatures.
type cosignatureIn struct {
	// Checkpoint is one of the log's signed checkpoints with the witness's
	// cosignature/v1 line (C2SP tlog-cosignature) added.
	Checkpoint string `json:"checkpoint"`
}

// Witnesses lists the routes of the log's witnesses: who they are, their
// cosignatures, and registering one.
func Witnesses(env Env, s *witness.Service) []Route {
	return []Route{
		{Method: "GET", Path: "/api/v1/log/witnesses", Public: true, Out: []witness.Witness{},
			Summary: "The witnesses registered to cosign the log's checkpoints, each with the largest tree it cosigned",
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				ws, err := witness.List(r.Context(), env.DB.Read(), env.Log)
				return http.StatusOK, ws, err
			}},
		{Method: "POST", Path: "/api/v1/log/witnesses", Allow: []auth.Action{witness.ManageWitnesses}, In: witness.NewWitness{}, Out: witness.Witness{}, Status: http.StatusCreated,
			Summary: "Register a witness by its public key, so that its cosignatures are accepted (admin)",
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[witness.NewWitness](r)
				if err != nil {
					return 0, nil, err
				}
				w, err := s.Register(r.Context(), p, in)
				return http.StatusCreated, w, err
			}},
		{Method: "POST", Path: "/api/v1/log/cosignatures", Public: true, In: cosignatureIn{}, Out: witness.Cosigned{},
			Summary: "Send one of the log's checkpoints cosigned by a registered witness (C2SP cosignature/v1); the signature is the credential",
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[cosignatureIn](r)
				if err != nil {
					return 0, nil, err
				}
				c, err := s.Accept(r.Context(), in.Checkpoint)
				return http.StatusOK, c, err
			}},
	}
}
