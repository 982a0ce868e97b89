package assets

import (
	"context"

	"github.com/custos-project/custos/internal/module"
)

// Demo adds the registry's part of Demoland.
func Demo(ctx context.Context, d *module.Demo) error {
	if err := DemoBODS(ctx, d); err != nil { // beneficial ownership (bods_demo.go)
		return err
	}
	return nil
}
