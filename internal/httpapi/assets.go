package httpapi

import (
	"github.com/custos-project/custos/internal/assets"
)

// Assets lists the routes of the asset-recovery registry, under
// /api/v1/assets/.
func Assets(env Env, s *assets.Service) []Route {
	return []Route{}
}
