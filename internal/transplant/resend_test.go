package transplant

import (
	"context"

	"github.com/custos-project/custos/internal/auth"
)

// SendCharacterizationAgain has the registry send peerID the
// characterization of an organ it sent, again, naming destination: what a
// registry of origin does when it tells the destination another centre
// there. The tests of the destination's history of holders use it; the
// registry has no page nor route for it.
func (s *Service) SendCharacterizationAgain(ctx context.Context, p *auth.Principal, organID, peerID, destination string) error {
	char, _, err := s.exportMessages(ctx, organID, destination)
	if err != nil {
		return err
	}
	x, err := s.exchange()
	if err != nil {
		return err
	}
	_, err = x.Send(ctx, p, outgoing(peerID, MsgCharacterization, PurposeTraceability, char))
	return err
}
