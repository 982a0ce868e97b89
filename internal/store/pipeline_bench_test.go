package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/custos-project/custos/internal/storetest"
)

// BenchmarkWriterCommand times what the log writer does for each command of
// a batch: a savepoint, one read, one insert, the release; 16 commands a
// transaction, as is, pipelined (store.Tx.Pipeline) and pipelined with
// deferred releases (store.Tx.DeferRelease, the writer's way), with durable
// commits. On PostgreSQL the pipelined command costs two round trips instead
// of three, and one with deferred releases.
func BenchmarkWriterCommand(b *testing.B) {
	for _, mode := range []string{"plain", "pipelined", "deferred"} {
		for _, be := range storetest.Backends() {
			b.Run(fmt.Sprintf("%s/%s", be.Name, mode), func(b *testing.B) {
				ctx := context.Background()
				db := storetest.Open(b, be.DSN(b))
				setup, err := db.BeginWrite(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := setup.Exec(ctx, "CREATE TABLE bw (id BIGINT PRIMARY KEY, v TEXT NOT NULL)"); err != nil {
					b.Fatal(err)
				}
				if err := setup.Commit(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i += 16 {
					tx, err := db.BeginWrite(ctx)
					if err != nil {
						b.Fatal(err)
					}
					if mode != "plain" {
						tx.Pipeline()
					}
					if mode == "deferred" {
						tx.DeferRelease()
					}
					for k := i; k < min(i+16, b.N); k++ {
						if err := tx.Savepoint(ctx, func() error {
							var n int
							if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM bw WHERE id = ?", k).Scan(&n); err != nil {
								return err
							}
							_, err := tx.Exec(ctx, "INSERT INTO bw (id, v) VALUES (?, ?)", k, "x")
							return err
						}); err != nil {
							b.Fatal(err)
						}
					}
					if err := tx.Commit(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
