package assets

import (
	"context"

	"github.com/custos-project/custos/internal/module"
)

// Demo adds the registry's part of Demoland.
func Demo(ctx context.Context, d *module.Demo) error {
	return nil
}
