package web

import (
	"embed"

	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
)

// ---- Asset recovery: the section ----

//go:embed templates/assets/*.html
var assetsFS embed.FS

// assetsPages are the section's handlers.
type assetsPages struct {
	svc *assets.Service
}

// Assets returns the section of the asset-recovery registry, served by svc.
func Assets(svc *assets.Service) Section {
	h := &assetsPages{svc: svc}
	_ = h
	return Section{
		Name:      assets.Module.Name,
		Title:     assets.Module.Title,
		Roles:     rolesOf(assets.Module.Roles),
		Nav:       assetsNav,
		Home:      assetsHome,
		Pages:     []Page{},
		Templates: subFS(assetsFS, "templates/assets"),
		Labels:    assets.Labels(),
	}
}

// assetsNav: the cases and the directory for whoever reads them.
func assetsNav(p *auth.Principal) []Link {
	return nil
}

// assetsHome is the card of whoever reads the cases or the directory.
func assetsHome(p *auth.Principal) *Card {
	if !p.Can(assets.ReadCases) && !p.Can(assets.ReadDirectory) {
		return nil
	}
	return &Card{Template: "home", Data: struct{ CanCases, CanDirectory bool }{p.Can(assets.ReadCases), p.Can(assets.ReadDirectory)}}
}
