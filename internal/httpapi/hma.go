package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/check"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/hashmatch"
)

// HMAPrefix is where the HMA-compatible routes are mounted: an HMA client
// configured with the base URL https://registry.example/hma calls
// /hma/m/lookup and so on.
const HMAPrefix = "/hma"

// hmaQuery documents the query parameters the HMA routes read.
var hmaQuery = map[string]Param{
	"signal":           {Name: "signal", Doc: "the hash: 64 hex digits for pdq, 32 for video_md5, a JSON array of \"PDQHEX,QUALITY,SECONDS\" strings for vpdq"},
	"signal_type":      {Name: "signal_type", Doc: "the signal type", Values: hashmatch.HMASignalTypes},
	"banks":            {Name: "banks", Doc: "bank ids (HMA's bank names) to keep the matches of, comma-separated or the parameter given again (banks=A,B or banks=A&banks=B); each must be a bank the service subscribes to, else 400 (rule hma, field banks); absent: every subscribed bank", Multi: true},
	"include_distance": {Name: "include_distance", Doc: "true: each match with its bank_content_id and distance; false (default): bank_content_ids only"},
	"types":            {Name: "types", Doc: "comma-separated signal types to compute (default: all of the content type's), or the parameter given again", Multi: true},
	"seed":             {Name: "seed", Doc: "accepted and ignored: custos banks have no matching_enabled_ratio to flip a coin against"},
	"bypass_coinflip":  {Name: "bypass_coinflip", Doc: "accepted and ignored (see seed)"},
	"url":              {Name: "url", Doc: "refused with 403: custos never fetches a URL; upload the file"},
	"content_type":     {Name: "content_type", Doc: "with url only; refused with it"},
}

func hmaParams(names ...string) []Param {
	out := make([]Param, len(names))
	for i, n := range names {
		out[i] = hmaQuery[n]
	}
	return out
}

// HMACaseHeader names, in the answer of an HMA lookup that opened a case,
// the case's id: a header HMA does not send and its clients ignore, so the
// body stays exactly HMA's, while a platform can follow the case up through
// custos's own API.
const HMACaseHeader = "Custos-Case-Id"

// hmaAnswer writes an HMA answer: the body as JSON with the status, or the
// refusal as HMA's api_error_handler writes it, {"message": "..."}. caseID,
// when not empty, is the case a lookup opened (HMACaseHeader).
func hmaAnswer(env Env, r *http.Request, status int, body any, caseID string, err error) (int, any, error) {
	return 0, Stream(func(w http.ResponseWriter) error { return hmaWrite(env, w, r, status, body, caseID, err) }), nil
}

// hmaWrite writes an HMA answer, or its refusal err, as HMA's server writes
// its JSON: on one line. Every answer under HMAPrefix is written by it:
// the handlers' (hmaAnswer), the refusals before the handler (a role, the
// query, an Idempotency-Key: Route.refuse) and those of an address custos
// does not serve.
func hmaWrite(env Env, w http.ResponseWriter, r *http.Request, status int, body any, caseID string, err error) error {
	if err != nil {
		status, body = hmaError(env, r, err)
		caseID = ""
	}
	if e, ok := errs.As(err); ok {
		retryBusy(w.Header(), e)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if caseID != "" {
		w.Header().Set(HMACaseHeader, caseID)
	}
	w.WriteHeader(status)
	return encodeAnswer(w, body, compactAnswer)
}

// hmaRefuse writes err, a refusal, as hmaWrite does.
func hmaRefuse(env Env, w http.ResponseWriter, r *http.Request, err error) {
	_ = hmaWrite(env, w, r, 0, nil, "", err)
}

// hmaError maps a refusal to HMA's status and body: every bad request is
// 400 in HMA (abort(400, ...)). The body is HMA's {"message": ...} with
// custos's rule and field beside it, as every custos refusal names them
// (an HMA client reads the message and ignores the rest).
func hmaError(env Env, r *http.Request, err error) (int, hmaRefusal) {
	if ClientGone(env.Log, r, err) {
		return StatusClientGone, hmaRefusal{Message: "client gone"}
	}
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		env.Log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		return http.StatusInternalServerError, hmaRefusal{Message: "internal error; the operator can find it in the server log"}
	}
	status := e.Code.HTTPStatus()
	switch {
	case e.Rule == "hma_required":
		status = http.StatusUnprocessableEntity // flask-openapi3's refusal of a request model
	case e.Code == errs.Invalid || e.Code == errs.Malformed:
		status = http.StatusBadRequest
	}
	return status, hmaRefusal{Message: e.Message, Rule: e.Rule, Field: e.Field}
}

// hmaRefusal is the body of an HMA route's refusal: HMA's {"message": ...},
// with custos's rule and field when the refusal has them. A request
// refused before the route is reached (no token) gets custos's Error: the
// document gives both (Route.Refused).
type hmaRefusal struct {
	Message string `json:"message" api:"required"`
	Rule    string `json:"rule,omitempty"`
	Field   string `json:"field,omitempty"`
}

// hmaNoURL is custos's answer to the variants of HMA's routes that fetch a
// URL: HMA's own answer when hashing is disabled ("missing role").
var hmaNoURL = hashmatch.HMAError(errs.Forbidden, "url", "Hashing is disabled, missing role: custos never fetches a URL; POST the file as multipart/form-data")

// hmaBanksParam reads the banks parameter: every bank it names, whether
// comma-separated (HMA's banks=A,B) or given again (banks=A&banks=B), each
// once; nil, every subscribed bank, when it names none. A lookup refuses a
// bank the service does not subscribe to (hashmatch.HMACheckBanks).
func hmaBanksParam(r *http.Request) map[string]bool {
	var out map[string]bool
	for _, v := range r.URL.Query()["banks"] {
		for _, b := range strings.Split(v, ",") {
			if b = strings.TrimSpace(b); b != "" {
				if out == nil {
					out = map[string]bool{}
				}
				out[b] = true
			}
		}
	}
	return out
}

// hmaBool reads a boolean query parameter as pydantic does.
func hmaBool(r *http.Request, name string) (bool, error) {
	switch strings.ToLower(r.URL.Query().Get(name)) {
	case "", "false", "0", "no", "off", "f", "n":
		return false, nil
	case "true", "1", "yes", "on", "t", "y":
		return true, nil
	}
	return false, hashmatch.HMAError(errs.Malformed, name, "invalid boolean parameter - prefer true/false")
}

// hmaJSONBody refuses a body that HMA's request.get_json() would not read:
// one whose Content-Type is not application/json, nor application/...+json
// (Werkzeug's is_json), a missing one included. HMA's clients send it
// (Python's requests with json=, its tests' client.post(json=...)); HMA
// refuses any other with 415 and these words, HMA's own, never translated
// as no HMA answer is (code unsupported_media_type, rule content_type,
// field Content-Type, as custos's own JSON routes refuse one: the status is
// the code's, errs.Code.HTTPStatus).
func hmaJSONBody(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")) {
		return nil
	}
	return &errs.Error{Code: errs.Unsupported, Rule: "content_type", Field: "Content-Type",
		Message: "Did not attempt to load JSON data because the request Content-Type was not 'application/json'."}
}

// hmaRequired reads a required query parameter; HMA's request models
// refuse a missing one with 422.
func hmaRequired(r *http.Request, name string) (string, error) {
	if !r.URL.Query().Has(name) {
		return "", &errs.Error{Code: errs.Invalid, Rule: "hma_required", Field: name, Message: name + " is required"}
	}
	return r.URL.Query().Get(name), nil
}

// hmaTypes reads the types parameter.
func hmaTypes(r *http.Request) ([]string, error) {
	v, ok := r.URL.Query()["types"]
	if !ok {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(strings.Join(v, ","), ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, hashmatch.HMAError(errs.Malformed, "types", "empty signal type selection")
	}
	return out, nil
}

// hmaFilesField is what the refusals of an upload's files name (none, more
// than one, a part header that cannot be read, where the part's field,
// photo or video, is in the line that cannot be read): the files of the
// body, as HMA's hash_media_from_form_data calls them (request.files) and
// custos's image batch names its parts.
const hmaFilesField = "files"

// hmaUpload hashes the one file of a multipart/form-data body, whose field
// name is its HMA content type (photo or video), as HMA's
// hash_media_from_form_data does, and returns its signals and digests.
func hmaUpload(r *http.Request, p *auth.Principal, s *hashmatch.Service) (*hashmatch.HMAFile, error) {
	types, err := hmaTypes(r)
	if err != nil {
		return nil, err
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, hashmatch.HMAError(errs.Malformed, "Content-Type", "Missing multipart/form-data file upload")
	}
	cfg := s.Config()
	r.Body = http.MaxBytesReader(nil, r.Body, cfg.MaxVideoUpload+MaxBody)
	mr := multipart.NewReader(r.Body, params["boundary"])
	var out *hashmatch.HMAFile
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, errs.New(errs.TooLarge, "body_size", "", "the request body is larger than %d bytes", mb.Limit)
			}
			// A part header Go's reader refused (a file name with a
			// control character) is refused as custos's upload routes
			// refuse it, without the line; the field cannot be read from
			// it, so the refusal names HMA's files, as the API's batch.
			if e := check.PartHeader(err, hmaFilesField); e != nil {
				return nil, e
			}
			return nil, hashmatch.HMAError(errs.Malformed, "", "the multipart/form-data body could not be read")
		}
		if part.FileName() == "" {
			continue // a form field, not a file: HMA reads request.files only
		}
		if out != nil {
			return nil, hashmatch.HMAError(errs.Malformed, hmaFilesField, "Only one file allowed per request")
		}
		if out, err = s.HMAHash(r.Context(), p, part.FormName(), types, part); err != nil {
			return nil, err
		}
	}
	if out == nil {
		return nil, hashmatch.HMAError(errs.Malformed, hmaFilesField, "Missing multipart/form-data file upload")
	}
	return out, nil
}

// hmaRawLookupOut is HMA's raw lookup answer: each match a bank content
// id, or with include_distance an object of it and its distance.
type hmaRawLookupOut struct {
	Matches []any `json:"matches"`
}

// hmaByBank groups lookup matches by bank, as HMA's lookup answers them.
func hmaByBank(ms []hashmatch.HMABankMatch) hmaLookupOut {
	out := hmaLookupOut{}
	for _, m := range ms {
		out[m.Bank] = append(out[m.Bank], m.HMAMatch)
	}
	return out
}

// HMA's answers keyed by names the data gives, as HMA answers them: by
// signal type (a hash, a file's lookup, an index's status, a comparison)
// or by bank (a signal's lookup). Named, so that the document describes
// each value rather than any object.
type (
	hmaHashOut       map[string]string
	hmaLookupOut     map[string][]hashmatch.HMAMatch
	hmaFileLookupOut map[string]hmaLookupOut
	hmaIndexOut      map[string]hashmatch.HMAIndexStatus
	// hmaCompareOut is each signal type's [match, similarity]: a boolean
	// and a number.
	hmaCompareOut map[string][2]any
	// hmaCompareIn is the body of /m/compare: for each signal type
	// compared (pdq, vpdq, video_md5), the pair of signals. The handler
	// reads it itself, to refuse as HMA does.
	hmaCompareIn map[string][2]string
)

// HMA lists the HMA-compatible routes (Meta's Hasher-Matcher-Actioner, the
// version docs/hashmatch.md pins) under HMAPrefix: the same requests and
// answers as HMA's hashing and matching blueprints, on custos's banks, for
// a principal of role service authenticated with its custos token.
func HMA(env Env, s *hashmatch.Service) []Route {
	routes := []Route{
		{Method: "GET", Path: HMAPrefix + "/h/hash", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: hash the media at a URL; refused (403): custos never fetches a URL",
			Query: hmaParams("url", "content_type", "types"),
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				return hmaAnswer(env, r, 0, nil, "", hmaNoURL)
			}},
		{Method: "POST", Path: HMAPrefix + "/h/hash", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: hash one uploaded file, multipart/form-data with one file whose field name is its content type (photo: pdq; video: video_md5, vpdq); answers {signal_type: hash} and stores nothing (service)",
			Query: hmaParams("types"), Out: hmaHashOut{}, Reads: true,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := hmaUpload(r, p, s)
				if err != nil {
					return hmaAnswer(env, r, 0, nil, "", err)
				}
				return hmaAnswer(env, r, http.StatusOK, hmaHashOut(out.Signals), "", nil)
			}},
		{Method: "GET", Path: HMAPrefix + "/m/raw_lookup", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: the matches of a signal in the subscribed known banks' indexes, {\"matches\": [bank_content_id or {bank_content_id, distance}]}; stores nothing (service)",
			Query: hmaParams("signal", "signal_type", "banks", "include_distance"),
			Out:   hmaRawLookupOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := func() (any, error) {
					signal, err := hmaRequired(r, "signal")
					if err != nil {
						return nil, err
					}
					st, err := hmaRequired(r, "signal_type")
					if err != nil {
						return nil, err
					}
					dist, err := hmaBool(r, "include_distance")
					if err != nil {
						return nil, err
					}
					ms, _, err := s.HMALookup(r.Context(), p, st, signal, hmaBanksParam(r), true)
					if err != nil {
						return nil, err
					}
					matches := make([]any, len(ms))
					for i, m := range ms {
						matches[i] = m.BankContentID
						if dist {
							matches[i] = m.HMAMatch
						}
					}
					return hmaRawLookupOut{Matches: matches}, nil
				}()
				return hmaAnswer(env, r, http.StatusOK, out, "", err)
			}},
		{Method: "GET", Path: HMAPrefix + "/m/lookup", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: the banks a signal matches, {bank: [{bank_content_id, distance}]}, after suppression; a match opens a case for review, as /api/v1/hashmatch/match does, named in the header Custos-Case-Id (service)",
			Query: hmaParams("signal", "signal_type", "banks", "seed", "bypass_coinflip", "url", "content_type", "types"), Out: hmaLookupOut{}, Records: true,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				var caseID string
				out, err := func() (any, error) {
					q := r.URL.Query()
					if q.Get("url") != "" {
						return nil, hmaNoURL
					}
					if q.Get("signal") == "" || q.Get("signal_type") == "" {
						return nil, hashmatch.HMAError(errs.Malformed, "signal", "Either url or both signal and signal_type are required")
					}
					ms, id, err := s.HMALookup(r.Context(), p, q.Get("signal_type"), q.Get("signal"), hmaBanksParam(r), false)
					caseID = id
					return hmaByBank(ms), err
				}()
				return hmaAnswer(env, r, http.StatusOK, out, caseID, err)
			}},
		{Method: "POST", Path: HMAPrefix + "/m/lookup", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: hash one uploaded file (as POST /h/hash) and look each signal up, {signal_type: {bank: [{bank_content_id, distance}]}}; the file's matches open one case for review, named in the header Custos-Case-Id (service)",
			Query: hmaParams("banks", "seed", "bypass_coinflip", "types"), Out: hmaFileLookupOut{}, FileLimit: s.Config().MaxVideoUpload + MaxBody,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				var caseID string
				out, err := func() (any, error) {
					// A bank the service does not subscribe to is refused
					// before the file is read.
					only := hmaBanksParam(r)
					if err := s.HMACheckBanks(r.Context(), p, only); err != nil {
						return nil, err
					}
					file, err := hmaUpload(r, p, s)
					if err != nil {
						return nil, err
					}
					found, id, err := s.HMALookupFile(r.Context(), p, file, only)
					if err != nil {
						return nil, err
					}
					caseID = id
					out := hmaFileLookupOut{}
					for st, ms := range found {
						out[st] = hmaByBank(ms)
					}
					return out, nil
				}()
				return hmaAnswer(env, r, http.StatusOK, out, caseID, err)
			}},
		{Method: "GET", Path: HMAPrefix + "/m/index/status", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: each signal type's index over the subscribed banks, {signal_type: {present, built_to, size}} (service)",
			Query: hmaParams("signal_type"), Out: hmaIndexOut{},
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := func() (any, error) {
					all, err := s.HMAIndexStatus(r.Context(), p)
					if err != nil {
						return nil, err
					}
					if q := r.URL.Query(); q.Has("signal_type") {
						st := q.Get("signal_type")
						one, ok := all[st]
						if !ok {
							return nil, hashmatch.HMAError(errs.Malformed, "signal_type", "No such signal type '%s'", errs.Echo(st, errs.MaxEchoed))
						}
						return hmaIndexOut{st: one}, nil
					}
					return all, nil
				}()
				return hmaAnswer(env, r, http.StatusOK, out, "", err)
			}},
		{Method: "POST", Path: HMAPrefix + "/m/compare", Allow: []auth.Action{hashmatch.MatchHashes}, Summary: "HMA: compare pairs of signals, {signal_type: [a, b]} -> {signal_type: [match, similarity]}; stores nothing (service)",
			In: hmaCompareIn{}, Out: hmaCompareOut{}, Reads: true,
			Handler: func(r *http.Request, p *auth.Principal) (int, any, error) {
				out, err := func() (any, error) {
					if err := hmaJSONBody(r); err != nil {
						return nil, err
					}
					b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
					if err != nil || len(b) > MaxBody {
						return nil, errs.New(errs.TooLarge, "body_size", "", "the request body is larger than %d bytes", MaxBody)
					}
					// What encoding/json would take silently (a signal
					// type given twice, the last winning; bytes that are
					// not UTF-8) is refused, as custos's own bodies.
					if err := checkJSON(b, reflect.TypeFor[hmaCompareIn]()); err != nil {
						return nil, err
					}
					var in map[string]json.RawMessage
					if json.Unmarshal(b, &in) != nil || in == nil {
						return nil, hashmatch.HMAError(errs.Malformed, "", "Request input was not a dict")
					}
					// Each signal type in order, so that the same body
					// gets the same refusal; each checked as a name of a
					// signal type first, then its pair, then each hash
					// (HMA checks the pair's length before the name: a
					// wrong name is named first here).
					types := make([]string, 0, len(in))
					for st := range in {
						types = append(types, st)
					}
					slices.Sort(types)
					out := hmaCompareOut{}
					for _, st := range types {
						raw := in[st]
						if err := hashmatch.HMASignalType(hashmatch.HMACompareField(st), st); err != nil {
							return nil, err
						}
						var pair []json.RawMessage
						if json.Unmarshal(raw, &pair) != nil || pair == nil {
							return nil, hashmatch.HMAError(errs.Malformed, st, "Comparison hashes for %s was not a list", st)
						}
						if len(pair) != 2 {
							return nil, hashmatch.HMAError(errs.Malformed, st, "Comparison hash list length must be exactly 2")
						}
						var left, right string
						if json.Unmarshal(pair[0], &left) != nil || json.Unmarshal(pair[1], &right) != nil {
							return nil, hashmatch.HMAError(errs.Malformed, st, "Invalid %s hash: not a string", st)
						}
						res, err := hashmatch.HMACompare(st, left, right)
						if err != nil {
							return nil, err
						}
						out[st] = res
					}
					return out, nil
				}()
				return hmaAnswer(env, r, http.StatusOK, out, "", err)
			}},
	}
	// A role refused the route gets HMA's body, as its other refusals do.
	for i := range routes {
		routes[i].refuse = func(w http.ResponseWriter, r *http.Request, err error) { hmaRefuse(env, w, r, err) }
		routes[i].Refused = hmaRefusal{}
	}
	return routes
}
