package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/export"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/page"
)

// Request bodies of the hash-matching routes that are not domain types.
type hmAuthorityIn struct {
	Name         string `json:"name" api:"required"`
	Kind         string `json:"kind" api:"required"`
	Jurisdiction string `json:"jurisdiction"`
	City         string `json:"city"`
}

type hmPullIn struct {
	Since int `json:"since"`
}

type hmImportIn struct {
	Format  string `json:"format" api:"required"`
	Content string `json:"content" api:"required"`
}

type hmImportOut struct {
	Version hashmatch.Version     `json:"version"`
	Stats   hashmatch.ImportStats `json:"stats"`
}

type hmMatchIn struct {
	Items []hashmatch.Query `json:"items" api:"required"`
}

type hmMatchOut struct {
	Results []hashmatch.Result `json:"results"`
}

type hmAckIn struct {
	Reference string `json:"reference"`
}

type hmKeyOut struct {
	VerifierKey string `json:"verifier_key"`
}

// Answers of the hash-matching lists (a page's next: core's lists).
type (
	hmBanksOut struct {
		Banks []hashmatch.Bank `json:"banks"`
	}
	hmBankOut struct {
		Bank         hashmatch.Bank      `json:"bank"`
		Versions     []hashmatch.Version `json:"versions"`
		VersionsNext string              `json:"versions_next,omitempty"`
	}
	hmVersionsOut struct {
		Versions []hashmatch.Version `json:"versions"`
		Next     string              `json:"next,omitempty"`
	}
	hmEntriesOut struct {
		Entries []hashmatch.BankEntry `json:"entries"`
		Next    string                `json:"next,omitempty"`
	}
	hmCasesOut struct {
		Cases []hashmatch.QueueCase `json:"cases"`
		Next  string                `json:"next,omitempty"`
	}
	hmSuppressionsOut struct {
		Suppressions []hashmatch.Suppression `json:"suppressions"`
		Next         string                  `json:"next,omitempty"`
	}
	hmReportsOut struct {
		Reports []hashmatch.Report `json:"reports"`
		Next    string             `json:"next,omitempty"`
	}
	hmSubscriptionsOut struct {
		Subscriptions []hashmatch.Subscription `json:"subscriptions"`
	}
	hmReleasedOut struct {
		BankID   string `json:"bank_id"`
		EntryID  string `json:"entry_id"`
		Released bool   `json:"released"`
	}
)

// Hashmatch lists the routes of the hash-matching registry, under
// /api/v1/hashmatch/.
func Hashmatch(env Env, s *hashmatch.Service) []Route {
	formatEnums := []Enum{{reflect.TypeFor[hmImportIn](), "Format", hashmatch.Formats}}
	bankEnums := []Enum{
		{reflect.TypeFor[hashmatch.NewBank](), "Kind", hashmatch.BankKinds},
		{reflect.TypeFor[hashmatch.Bank](), "Kind", hashmatch.BankKinds},
	}
	reviewEnums := []Enum{{reflect.TypeFor[hashmatch.Review](), "Decision", hashmatch.Decisions}}
	reportEnums := []Enum{
		{reflect.TypeFor[hashmatch.NewReport](), "IncidentType", hashmatch.IncidentTypes},
		{reflect.TypeFor[hashmatch.Report](), "IncidentType", hashmatch.IncidentTypes},
	}
	removalEnums := []Enum{
		{reflect.TypeFor[hashmatch.NewRemoval](), "Action", hashmatch.RemovalActions},
		{reflect.TypeFor[hashmatch.Removal](), "Action", hashmatch.RemovalActions},
	}
	// Whole hash lists and long videos take LargeBody: a video entry or
	// query may have 36,000 frames (about 3.6 MB of JSON), a batch 1000
	// items of up to 500-character fields.
	return append([]Route{
		{Method: "POST", Path: "/api/v1/hashmatch/authorities", Allow: []auth.Action{auth.ManageAuthorities}, Summary: "Register a competent authority or a service provider (admin)",
			In: hmAuthorityIn{}, Out: auth.Authority{}, Status: 201, Enums: []Enum{{reflect.TypeFor[hmAuthorityIn](), "Kind", hashmatch.AuthorityKinds}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hmAuthorityIn](r)
				if err != nil {
					return 0, nil, err
				}
				if !slices.Contains(hashmatch.AuthorityKinds, in.Kind) {
					return 0, nil, errs.Invalidf("enum", "kind", "kind must be %q or %q", hashmatch.KindCompetentAuthority, hashmatch.KindServiceProvider)
				}
				out, err := env.Authorities.CreateAuthority(r.Context(), p, auth.NewAuthority{Name: in.Name, Kind: in.Kind, Jurisdiction: in.Jurisdiction, City: in.City})
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/key", Public: true, Summary: "The note verifier key that checks signed bank documents",
			Out: hmKeyOut{},
			Handler: func(r *http.Request, _ *auth.Principal) (int, any, error) {
				return http.StatusOK, hmKeyOut{VerifierKey: s.VerifierKey()}, nil
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "Create a hash bank owned by the analyst's authority (analyst)",
			In: hashmatch.NewBank{}, Out: hashmatch.Bank{}, Status: 201, Enums: bankEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.NewBank](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.CreateBank(r.Context(), p, in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/banks", Allow: []auth.Action{hashmatch.ReadBankMetadata}, Summary: "List hash banks: metadata only, never hashes",
			Out: hmBanksOut{}, Enums: bankEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				bs, err := s.Banks(r.Context(), p)
				return http.StatusOK, hmBanksOut{Banks: bs}, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/banks/{id}", Allow: []auth.Action{hashmatch.ReadBankMetadata}, Summary: "A bank's metadata and its newest published versions (the rest at versions_next)",
			Out: hmBankOut{}, Enums: bankEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				b, err := s.Bank(r.Context(), p, r.PathValue("id"))
				if err != nil {
					return 0, nil, err
				}
				vs, err := s.Versions(r.Context(), p, b.ID, hashmatch.ListFilter{})
				if err != nil {
					return 0, nil, err
				}
				body := hmBankOut{Bank: *b, Versions: vs.Items}
				if vs.Next != "" {
					body.VersionsNext = page.Next(r.URL.Path+"/versions", nil, vs.Next)
				}
				return http.StatusOK, body, nil
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/banks/{id}/versions", Allow: []auth.Action{hashmatch.ReadBankMetadata}, Summary: "A bank's published versions, newest first, a page at a time, or as a file (query limit, cursor, from, to (published), format)",
			Query: hmListQuery(hashmatch.VersionFilters, "published"), Out: hmVersionsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return listOrExport(env, r, p, "versions", hmFilter(hashmatch.VersionFilters),
					func(ctx context.Context, p *auth.Principal, f hashmatch.ListFilter) (page.Of[hashmatch.Version], error) {
						return s.Versions(ctx, p, r.PathValue("id"), f)
					}, hmExport(s, p, hashmatch.ListVersions, r.PathValue("id")))
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/banks/{id}/entries", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "A bank's live entries with their hashes, newest first, a page at a time, or as a file (query limit, cursor, status, id, format) (owner analyst)",
			Query: hmListQuery(hashmatch.EntryFilters, ""), Out: hmEntriesOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return listOrExport(env, r, p, "entries", hmFilter(hashmatch.EntryFilters),
					func(ctx context.Context, p *auth.Principal, f hashmatch.ListFilter) (page.Of[hashmatch.BankEntry], error) {
						return s.BankEntries(ctx, p, r.PathValue("id"), f)
					}, hmExport(s, p, hashmatch.ListEntries, r.PathValue("id")))
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/versions", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "Publish the next signed version: adds, updates and deletes (owner analyst); entries it would leave as they are are left out, and a version that would change nothing is not published: 200 with the current version and \"unchanged\":true",
			In: hashmatch.NewVersion{}, Out: hashmatch.Version{}, Status: 201, Also: http.StatusOK, BodyLimit: LargeBody,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.NewVersion](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Publish(r.Context(), p, r.PathValue("id"), in)
				if err == nil && out.Unchanged {
					return http.StatusOK, out, nil
				}
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/import", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "Import a list (hex, NCMEC v2, Project VIC, custos JSON, ThreatExchange CSV/TSV, HMA) as the next version; stats count and name what was not imported (owner analyst); a list the bank holds already is not published: 200 with the current version and \"unchanged\":true",
			In: hmImportIn{}, Out: hmImportOut{}, Status: 201, Also: http.StatusOK, BodyLimit: LargeBody, Enums: formatEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hmImportIn](r)
				if err != nil {
					return 0, nil, err
				}
				v, st, err := s.Import(r.Context(), p, r.PathValue("id"), in.Format, []byte(in.Content))
				if err != nil {
					return 0, nil, err
				}
				if v.Unchanged {
					return http.StatusOK, hmImportOut{Version: *v, Stats: *st}, nil
				}
				return http.StatusCreated, hmImportOut{Version: *v, Stats: *st}, nil
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/banks/{id}/export", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "The bank's list at a version as a file in one of the list formats (query format, version: 0 or absent for the current one); logged; headers Custos-Log-Size, Custos-Log-Root and Custos-Export-Log-Entry (the checkpoint it reflects, its log entry), Custos-Export-Entries and Custos-Export-Left-Out (JSON: what the format could not carry) (owner analyst)",
			Query: []Param{{Name: "format", Doc: "the list format", Values: hashmatch.Formats}, {Name: "version", Doc: "the version, 0 or absent for the current one"}},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				q := r.URL.Query() // each parameter once at most (Route.Query)
				version := 0
				if v := q.Get("version"); v != "" {
					n, err := strconv.Atoi(v)
					if err != nil {
						return 0, nil, errs.Invalidf("integer", "version", "version is a version number, 0 for the current one")
					}
					version = n
				}
				return http.StatusOK, Stream(func(w http.ResponseWriter) error {
					return export.ServeFile(w, r, func(start func(func(http.Header)), out io.Writer) error {
						_, err := s.ExportBank(r.Context(), p, r.PathValue("id"), version, q.Get("format"), func(m export.Meta, st *hashmatch.ExportStats) {
							left, _ := json.Marshal(st.LeftOut) // a slice of plain structs: never an error
							start(func(h http.Header) {
								export.SetHeaders(h, hashmatch.FormatMediaType(st.Format), hashmatch.ExportFileName(r.PathValue("id"), st), m.Checkpoint, m.Entry)
								h.Set("Custos-Export-Entries", strconv.Itoa(st.Entries))
								h.Set("Custos-Export-Left-Out", string(left))
							})
						}, out)
						return err
					})
				}), nil
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/video_thresholds", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "Set the bank's vPDQ match percentages, query_match_threshold_pct and index_match_threshold_pct, 0 to 100; a field left out keeps its value (owner analyst)",
			In: hashmatch.VideoThresholds{}, Out: hashmatch.Bank{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.VideoThresholds](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.SetVideoThresholds(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/entries/{entry}/release", Allow: []auth.Action{hashmatch.PublishBanks}, Summary: "End an entry's quarantine (owner analyst)",
			Out: hmReleasedOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				err := s.ReleaseEntry(r.Context(), p, r.PathValue("id"), r.PathValue("entry"))
				return http.StatusOK, hmReleasedOut{BankID: r.PathValue("id"), EntryID: r.PathValue("entry"), Released: err == nil}, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/subscriptions", Allow: []auth.Action{hashmatch.SubscribeBanks}, Summary: "Subscribe the service's provider to a bank (service)",
			Out: hashmatch.Subscription{}, Status: 201,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Subscribe(r.Context(), p, r.PathValue("id"))
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/subscriptions", Allow: []auth.Action{hashmatch.SubscribeBanks}, Summary: "The provider's subscriptions with their cursors (service)",
			Out: hmSubscriptionsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Subscriptions(r.Context(), p)
				return http.StatusOK, hmSubscriptionsOut{Subscriptions: out}, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/banks/{id}/pull", Allow: []auth.Action{hashmatch.SubscribeBanks}, Summary: "Pull a signed snapshot (since 0) or the signed deltas after a version; logged (service)",
			In: hmPullIn{}, Out: hashmatch.Pull{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hmPullIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.Pull(r.Context(), p, r.PathValue("id"), in.Since)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/match", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "Match up to 1000 hashes the service computed itself; matches open cases (service)",
			In: hmMatchIn{}, Out: hmMatchOut{}, BodyLimit: LargeBody,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hmMatchIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.MatchHashes(r.Context(), p, in.Items)
				return http.StatusOK, hmMatchOut{Results: out}, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/match/image", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "Hash and match the image in the raw request body; headers Custos-Content-Ref, Custos-User-Id, Custos-Uploaded-At (service)",
			In: uploadBody{imageTypes, "the image, at most 20 MiB by default (server.Config.Hashmatch.MaxUpload)"}, Out: hashmatch.Result{}, FileLimit: s.Config().MaxUpload,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if err := rawUpload(r, p, "image/* or application/octet-stream"); err != nil {
					return 0, nil, err
				}
				meta, err := uploadMeta(r.Header)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.MatchImage(r.Context(), p, io.Reader(r.Body), meta)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/match/images", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "Hash and match up to 100 images, the multipart/form-data parts named files, each with the headers of match/image; one result per part, in order; status error for a part that cannot be hashed (service)",
			In: filesBody{hashmatch.MaxImageBatch, imageTypes, "at most 20 MiB an image and 100 MiB in all by default (server.Config.Hashmatch.MaxUpload, MaxBatchUpload); a part whose header line is malformed (a file name with a control character does this) refuses the whole request: 400 malformed, rule part_header, field files"}, Out: hmMatchOut{}, FileLimit: s.Config().MaxBatchUpload,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				parts, err := newImageParts(r, p, s.Config().MaxBatchUpload)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.MatchImages(r.Context(), p, parts.next)
				if err != nil {
					return 0, nil, parts.refusal(err)
				}
				return http.StatusOK, hmMatchOut{Results: out}, nil
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/match/video", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "Match one video's frame hashes (vPDQ) the service computed itself, at most 36000 frames; a match opens a case (service)",
			In: hashmatch.VideoQuery{}, Out: hashmatch.VideoResult{}, BodyLimit: LargeBody,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.VideoQuery](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.MatchVideo(r.Context(), p, in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/match/video-file", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "Hash (vPDQ, one frame a second) and match the video in the raw request body; same headers as match/image; 503 without ffmpeg (service)",
			In: uploadBody{[]string{"video/*", "application/octet-stream"}, "the video, at most 512 MiB by default (server.Config.Hashmatch.MaxVideoUpload)"}, Out: hashmatch.VideoResult{}, FileLimit: s.Config().MaxVideoUpload,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				if err := rawUpload(r, p, "video/* or application/octet-stream"); err != nil {
					return 0, nil, err
				}
				meta, err := uploadMeta(r.Header)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.MatchVideoFile(r.Context(), p, io.Reader(r.Body), meta)
				return http.StatusOK, out, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/cases", Allow: []auth.Action{hashmatch.ReadCases}, Summary: "The provider's match cases, newest first, a page at a time, or as a file (query limit, cursor, status, bank_id, from, to (opened), id, format)",
			Query: hmListQuery(hashmatch.CaseFilters, "opened"), Out: hmCasesOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return listOrExport(env, r, p, "cases", hmFilter(hashmatch.CaseFilters), s.Cases, hmExport(s, p, hashmatch.ListCases, ""))
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/suppressions", Allow: []auth.Action{hashmatch.ReadCases}, Summary: "The provider's own suppression list (hashes its reviewers' rejections with suppress added), newest first, a page at a time (query limit, cursor, from, to (added), id)",
			Query: hmPageQuery(hashmatch.SuppressionFilters, "added"), Out: hmSuppressionsOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return pagedList(r, p, "suppressions", hmFilter(hashmatch.SuppressionFilters), s.Suppressions)
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/cases/{id}", Allow: []auth.Action{hashmatch.ReadCases}, Summary: "A match case with its matches",
			Out: hashmatch.Case{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Case(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/cases/{id}/review", Allow: []auth.Action{hashmatch.ReviewCases}, Summary: "Confirm or reject a match (reviewer)",
			In: hashmatch.Review{}, Out: hashmatch.Case{}, Enums: reviewEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.Review](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.ReviewCase(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/cases/{id}/reopen", Allow: []auth.Action{hashmatch.ReviewCases}, Summary: "Undo a rejection made in error, with the reason: the case is open for review again and the suppressions the rejection added are lifted (reviewer)",
			In: hashmatch.Reopen{}, Out: hashmatch.Case{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.Reopen](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.ReopenCase(r.Context(), p, r.PathValue("id"), in)
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/cases/{id}/report", Allow: []auth.Action{hashmatch.ReviewCases}, Summary: "Report a confirmed case to a competent authority (reviewer)",
			In: hashmatch.NewReport{}, Out: hashmatch.Report{}, Status: 201, Enums: reportEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.NewReport](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.SendReport(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/cases/{id}/removal", Allow: []auth.Action{hashmatch.ReviewCases}, Summary: "Record what was removed for a confirmed case, and when (reviewer)",
			In: hashmatch.NewRemoval{}, Out: hashmatch.Removal{}, Status: 201, Enums: removalEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hashmatch.NewRemoval](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.RecordRemoval(r.Context(), p, r.PathValue("id"), in)
				return http.StatusCreated, out, err
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/reports", Allow: []auth.Action{hashmatch.ReceiveReports, hashmatch.ReadCases}, Summary: "Reports addressed to the analyst's authority, or sent by the service's provider, newest first, a page at a time, or as a file " +
			"(query limit, cursor, status, provider_id, authority_id, from, to (sent), id, format)",
			Query: hmListQuery(hashmatch.ReportFilters, "sent"), Out: hmReportsOut{}, Enums: reportEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return listOrExport(env, r, p, "reports", hmFilter(hashmatch.ReportFilters), s.Reports, hmExport(s, p, hashmatch.ListReports, ""))
			}},
		{Method: "GET", Path: "/api/v1/hashmatch/reports/{id}", Allow: []auth.Action{hashmatch.ReceiveReports, hashmatch.ReadCases}, Summary: "One report",
			Out: hashmatch.Report{}, Enums: reportEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := s.Report(r.Context(), p, r.PathValue("id"))
				return http.StatusOK, out, err
			}},
		{Method: "POST", Path: "/api/v1/hashmatch/reports/{id}/acknowledge", Allow: []auth.Action{hashmatch.ReceiveReports}, Summary: "Acknowledge a report addressed to the analyst's authority (analyst)",
			In: hmAckIn{}, Out: hashmatch.Report{}, Enums: reportEnums,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				in, err := DecodeRequest[hmAckIn](r)
				if err != nil {
					return 0, nil, err
				}
				out, err := s.AcknowledgeReport(r.Context(), p, r.PathValue("id"), in.Reference)
				return http.StatusOK, out, err
			}},
	}, hashmatchFeedback(s)...)
}

// hmFilter reads the filter of the hash-matching list that has filters.
func hmFilter(filters []string) func(url.Values) (hashmatch.ListFilter, error) {
	return func(q url.Values) (hashmatch.ListFilter, error) { return hashmatch.FilterOf(q, page.Lists, filters) }
}

// hmListQuery documents the query parameters of a hash-matching list (dates
// are those of the event named when).
func hmListQuery(filters []string, when string) []Param {
	return append(hmPageQuery(filters, when), formatParam)
}

// hmPageQuery documents the query parameters of a hash-matching list that
// does not export.
func hmPageQuery(filters []string, when string) []Param {
	return pageQuery(page.Lists, filters, map[string]Param{
		"status": {Doc: "a case's review status (" + strings.Join(hashmatch.CaseStatuses, ", ") + "), a report's (" +
			strings.Join(hashmatch.ReportStatuses, ", ") + "), an entry's (" + strings.Join(hashmatch.EntryStatuses, ", ") + ")"},
		"bank_id":      {Doc: "cases whose best match is in this bank"},
		"provider_id":  {Doc: "reports sent by this service provider"},
		"authority_id": {Doc: "reports addressed to this competent authority"},
		"from":         {Doc: "first day " + when + ", YYYY-MM-DD (UTC)"},
		"to":           {Doc: "last day " + when + ", YYYY-MM-DD (UTC), included"},
		"id":           {Doc: "exactly one row, by its identifier"},
	})
}

// hmExport reads the export of a hash-matching list (hashmatch.Service.Export)
// for p; bankID is the bank of entries and versions.
func hmExport(s *hashmatch.Service, p *auth.Principal, list, bankID string) func(url.Values) (export.Request, error) {
	return func(q url.Values) (export.Request, error) { return s.Export(p, list, bankID, q) }
}

// rawUpload checks a request that carries a file as its raw body: a principal
// that may match, and a body that is not JSON.
func rawUpload(r *http.Request, p *auth.Principal, want string) error {
	if err := p.Require(hashmatch.MatchHashes); err != nil {
		return err
	}
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		return errs.New(errs.Unsupported, "content_type", "Content-Type", "send the file's bytes as the body (%s), not JSON", want)
	}
	return nil
}

// The headers that carry what a report would need of an uploaded file: on
// the request for a raw file, on each part of a batch.
const (
	hdrContentRef = "Custos-Content-Ref"
	hdrUserID     = "Custos-User-Id"
	hdrUploadedAt = "Custos-Uploaded-At"
)

var imageTypes = []string{"image/*", "application/octet-stream"}

// renamedHeaders are the upload headers' names before custos dropped the
// X- prefix (RFC 6648 deprecates it), each with its name now. A request
// that still sends one is refused rather than read without it: its content
// reference or user would be lost from the report without a word.
var renamedHeaders = [][2]string{
	{"X-" + hdrContentRef, hdrContentRef},
	{"X-" + hdrUserID, hdrUserID},
	{"X-" + hdrUploadedAt, hdrUploadedAt},
}

// uploadMeta reads an uploaded file's fields from its headers, refusing a
// header under its old name (rule header_renamed, the old name its field).
func uploadMeta(h http.Header) (hashmatch.Query, error) {
	for _, n := range renamedHeaders {
		if _, ok := h[http.CanonicalHeaderKey(n[0])]; ok {
			return hashmatch.Query{}, errs.New(errs.Malformed, "header_renamed", n[0], "the header %s is now named %s: send it under that name", n[0], n[1])
		}
	}
	return hashmatch.Query{ContentRef: h.Get(hdrContentRef), UserID: h.Get(hdrUserID), UploadedAt: h.Get(hdrUploadedAt)}, nil
}

// imageParts streams the images of a batch upload: a multipart/form-data
// body of at most max bytes whose parts are each one image, named files,
// with the upload headers. Nothing is buffered but the part being hashed.
type imageParts struct {
	mr   *multipart.Reader
	body *cappedReader
}

func newImageParts(r *http.Request, p *auth.Principal, max int64) (*imageParts, error) {
	if err := p.Require(hashmatch.MatchHashes); err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, errs.New(errs.Unsupported, "content_type", "Content-Type", "send the images as multipart/form-data with a boundary, one part named files per image")
	}
	body := &cappedReader{r: r.Body, left: max, max: max}
	return &imageParts{mr: multipart.NewReader(body, params["boundary"]), body: body}, nil
}

// next yields the next part's bytes and fields, io.EOF after the last.
func (ip *imageParts) next() (io.Reader, hashmatch.Query, error) {
	part, err := ip.mr.NextPart()
	if err == io.EOF {
		return nil, hashmatch.Query{}, io.EOF
	}
	if err != nil {
		return nil, hashmatch.Query{}, ip.refusal(bodyError{err})
	}
	if name := part.FormName(); name != "files" {
		return nil, hashmatch.Query{}, errs.New(errs.Malformed, "multipart", name, "each part is one image, named files; a part named %q is not", name)
	}
	meta, err := uploadMeta(http.Header(part.Header))
	if err != nil {
		return nil, hashmatch.Query{}, err
	}
	return partReader{part}, meta, nil
}

// refusal turns a failure to read the body into the refusal it is: the body
// over the limit, or not a well-formed multipart body. Other errors pass.
func (ip *imageParts) refusal(err error) error {
	var be bodyError
	switch {
	case ip.body.over:
		return errs.New(errs.TooLarge, "body_size", "", "the request body is larger than %d bytes", ip.body.max)
	case errors.As(err, &be):
		// Every part is named files; the refusal of a part header Go's
		// reader refused is the web UI's, and does not repeat the line.
		if e := check.PartHeader(be.err, "files"); e != nil {
			return e
		}
		return errs.New(errs.Malformed, "multipart", "", "the multipart body cannot be read: %v", be.err)
	}
	return err
}

// bodyError marks a failure to read the request body, so that it is not
// taken for an image that cannot be hashed.
type bodyError struct{ err error }

func (e bodyError) Error() string { return e.err.Error() }

// partReader reads a part, marking its read errors as bodyErrors.
type partReader struct{ r io.Reader }

func (p partReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = bodyError{err}
	}
	return n, err
}

// cappedReader reads at most max bytes, and fails past them.
type cappedReader struct {
	r         io.Reader
	left, max int64
	over      bool
}

var errOverCap = errors.New("the request body is over its limit")

func (c *cappedReader) Read(b []byte) (int, error) {
	if c.over {
		return 0, errOverCap
	}
	if int64(len(b)) > c.left+1 {
		b = b[:c.left+1]
	}
	n, err := c.r.Read(b)
	if int64(n) > c.left {
		n, c.left, c.over = int(c.left), 0, true
		return n, errOverCap
	}
	c.left -= int64(n)
	return n, err
}
