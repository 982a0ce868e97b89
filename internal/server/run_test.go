package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/module"
	"github.com/custos-project/custos/internal/server"
	"github.com/custos-project/custos/internal/storetest"
)

// TestServeRunsModulesWork: Serve runs each opened module's background work
// (Opened.Run) beside the HTTP server, and waits for it to stop when the
// server stops.
func TestServeRunsModulesWork(t *testing.T) {
	started, stopped := make(chan struct{}), make(chan struct{})
	mods := []server.Registry{{Module: module.Core}, {Module: module.Module{Name: "worker"}, Open: func(ctx context.Context, a *server.App) (*server.Opened, error) {
		return &server.Opened{Run: func(ctx context.Context) {
			close(started)
			<-ctx.Done()
			close(stopped)
		}}, nil
	}}}
	e := apptest.StartModules(t, storetest.SQLite(t), mods)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.App.Serve(ctx, &http.Server{Addr: "127.0.0.1:0"}, nil) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not start the module's work")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	select {
	case <-stopped:
	default:
		t.Error("Serve returned before the module's work stopped")
	}
}
