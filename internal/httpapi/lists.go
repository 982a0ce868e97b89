package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/page"
)

// pageQuery documents the query parameters of a paged list: its filters,
// each as doc says, then limit and cursor.
func pageQuery(size page.Size, filters []string, doc map[string]Param) []Param {
	var out []Param
	for _, f := range filters {
		p := doc[f]
		p.Name = f
		out = append(out, p)
	}
	return append(out, Param{Name: "limit", Doc: fmt.Sprintf("rows a page, 1 to %d; %d when absent", size.Max, size.Default)},
		Param{Name: "cursor", Doc: "where the page starts: copied from the previous page's next link"})
}

// pagedList answers a paged list: one page of it under key, and next, the
// link to the following page with the same filters, unless it is the last.
// parse reads the list's filter from the query parameters, refusing any
// that is not the list's; list refuses a bad value of one.
func pagedList[F, T any](r *http.Request, p *auth.Principal, key string, parse func(url.Values) (F, error),
	list func(context.Context, *auth.Principal, F) (page.Of[T], error)) (int, any, error) {
	f, err := parse(r.URL.Query())
	if err != nil {
		return 0, nil, err
	}
	out, err := list(r.Context(), p, f)
	if err != nil {
		return 0, nil, err
	}
	body := map[string]any{key: out.Items}
	if out.Next != "" {
		body["next"] = page.Next(r.URL.Path, r.URL.Query(), out.Next)
	}
	return http.StatusOK, body, nil
}

// serveFile answers the file of the export req, made and logged by
// export.Serve as the response is written.
func serveFile(env Env, r *http.Request, p *auth.Principal, req export.Request) (int, any, error) {
	return http.StatusOK, Stream(func(w http.ResponseWriter) error { return export.Serve(w, r, env.DB, env.Writer, p.Actor(), req) }), nil
}

// serveExport answers the file of the export exp makes in the format the
// query names (csv or xlsx): the routes whose file is made from the format
// alone (the asset-recovery cases, requests and statistics, a UN-CTS table).
func serveExport(env Env, r *http.Request, p *auth.Principal, exp func(export.Format) (export.Request, error)) (int, any, error) {
	format, err := export.ParseFormat(r.URL.Query().Get("format"))
	if err != nil {
		return 0, nil, err
	}
	req, err := exp(format)
	if err != nil {
		return 0, nil, err
	}
	return serveFile(env, r, p, req)
}

// listOrExport answers a list that exports: one page of it (pagedList), or,
// with the parameter format, the whole filtered list as a file, the export
// that exp reads from the query (the registry's Export: format, filters,
// rights, columns and rows), made and logged by export.Serve.
func listOrExport[F, T any](env Env, r *http.Request, p *auth.Principal, key string, parse func(url.Values) (F, error),
	list func(context.Context, *auth.Principal, F) (page.Of[T], error), exp func(url.Values) (export.Request, error)) (int, any, error) {
	if !r.URL.Query().Has("format") {
		return pagedList(r, p, key, parse, list)
	}
	req, err := exp(r.URL.Query())
	if err != nil {
		return 0, nil, err
	}
	return serveFile(env, r, p, req)
}
