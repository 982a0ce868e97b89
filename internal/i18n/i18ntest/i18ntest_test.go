package i18ntest

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestGoReadsCommandsHandedOn: the name of a command given to a helper that
// hands it on to the Writer (alerts.Service.work, auth.Sessions.end), or to
// a helper handing it on to such a helper, is a message, as one given to
// the Writer itself is; a name made at run time is none, and one marked
// with i18n.M is one.
func TestGoReadsCommandsHandedOn(t *testing.T) {
	dir := t.TempDir()
	src := `package svc

func (s *Service) work(ctx context.Context, id, name string) error {
	_, err := s.W.Submit(ctx, actor, name, nil)
	return err
}

func (s *Service) first(ctx context.Context, name string) error { return s.W.Refused(ctx, actor, name, nil) }

func (s *Service) outer(ctx context.Context, what string) error { return s.first(ctx, what) }

func (s *Service) Close(ctx context.Context, id string) error { return s.work(ctx, id, "close the thing") }

func (s *Service) Open(ctx context.Context) error { return s.outer(ctx, "open the thing") }

func (s *Service) Made(ctx context.Context, kind string) error { return s.work(ctx, "x", "make "+kind) }

func (s *Service) Pause(ctx context.Context, stop bool) error {
	name := i18n.M("resume the thing")
	if stop {
		name = i18n.M("pause the thing")
	}
	return s.first(ctx, name)
}
`
	if err := os.WriteFile(filepath.Join(dir, "svc.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	used, problems, err := Go(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"close the thing", "open the thing", "resume the thing", "pause the thing"} {
		if _, ok := used[want]; !ok {
			t.Errorf("the command %q is no message: read %v", want, slices.Sorted(maps.Keys(used)))
		}
	}
	if _, ok := used["make "]; ok {
		t.Errorf("a part of a name made at run time is read as a message")
	}
	if len(problems) > 0 {
		t.Errorf("problems: %v", problems)
	}
}
