package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/assets"
	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/hashmatch"
	"github.com/custos-project/custos/internal/httpapi"
	"github.com/custos-project/custos/internal/ledger"
	"github.com/custos-project/custos/internal/mail"
	"github.com/custos-project/custos/internal/privacy"
	"github.com/custos-project/custos/internal/stats"
	"github.com/custos-project/custos/internal/storetest"
	"github.com/custos-project/custos/internal/transplant"
)

// TestOpenAPIMatchesHandlers checks the server answers every route of the
// served document and no other, that each transplant route keeps its old path
// as a documented alias, and that real requests and responses validate
// against the schemas the document gives for them.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	r := w.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	if v, _ := r.Body["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Fatalf("openapi version %q", v)
	}
	var served []string
	aliases := map[string]string{} // deprecated operation -> its description
	for path, item := range r.Body["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			op := op.(map[string]any)
			served = append(served, strings.ToUpper(method)+" "+path)
			if op["deprecated"] == true {
				aliases[strings.ToUpper(method)+" "+path], _ = op["description"].(string)
			}
		}
	}
	sort.Strings(served)
	// An answer of no content is documented with none (a client generated
	// from the document would otherwise read a body that never comes).
	noContent := 0
	for path, item := range r.Body["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			for code, resp := range op.(map[string]any)["responses"].(map[string]any) {
				if _, has := resp.(map[string]any)["content"]; code == "204" && has {
					t.Errorf("%s %s: its 204 answer is documented with a body", method, path)
				} else if code == "204" {
					noContent++
				}
			}
		}
	}
	if noContent == 0 {
		t.Errorf("no operation answers 204: the link of a trafficking case to a transplantation does")
	}
	// Every documented route is handled: without a token, each answers
	// something else than the refusal of an unknown route, and changes nothing.
	param := regexp.MustCompile(`\{[^}]+\}`)
	for _, op := range served {
		method, path, _ := strings.Cut(op, " ")
		if r := w.Do(t, method, param.ReplaceAllString(path, "x"), "", nil); r.Status == 404 && r.Str("error.rule") == "route" {
			t.Errorf("%s is documented but not handled: %s", op, r.Raw)
		}
	}
	if r := w.Do(t, "GET", "/api/v1/transplant/nothing", w.Admin, nil); r.Status != 404 || r.Str("error.rule") != "route" {
		t.Errorf("an unknown route: %d %s", r.Status, r.Raw)
	}
	// Every route the issue names is there, transplant's under its registry
	// with its old path as a deprecated alias, and only those are aliases.
	for _, want := range []string{"POST /api/v1/transplant/centres", "POST /api/v1/transplant/centres/{id}/authorizations", "POST /api/v1/transplant/donors",
		"POST /api/v1/transplant/recipients", "POST /api/v1/transplant/procurements", "POST /api/v1/transplant/transplant-authorizations",
		"POST /api/v1/transplant/transplants", "GET /api/v1/transplant/trace/organs/{id}", "GET /api/v1/transplant/trace/donors/{id}",
		"GET /api/v1/transplant/trace/recipients/{id}", "GET /api/v1/alerts", "GET /api/v1/log/checkpoint", "POST /api/v1/hashmatch/match"} {
		if i := sort.SearchStrings(served, want); i >= len(served) || served[i] != want {
			t.Errorf("route %s is missing", want)
		}
	}
	n := 0
	for _, op := range served {
		method, path, _ := strings.Cut(op, " ")
		old, ok := strings.CutPrefix(path, "/api/v1/transplant/")
		if !ok || newSincePrefix(op) {
			continue
		}
		n++
		alias := method + " /api/v1/" + old
		if want := "Deprecated alias of " + op + ","; !strings.HasPrefix(aliases[alias], want) {
			t.Errorf("%s: %q, want a deprecated alias of %s", alias, aliases[alias], op)
		}
		delete(aliases, alias)
	}
	if n != 23 || len(aliases) != 0 {
		t.Errorf("%d transplant routes with an older path, want 23; deprecated operations that alias none: %v", n, aliases)
	}

	validate := openAPIValidator(t, w.Env)
	call := func(method, pattern, path, token string, body any, status int) *apptest.Response {
		t.Helper()
		if body != nil {
			validate(method, pattern, "request", body)
		}
		res := w.Must(t, status, method, path, token, body)
		validate(method, pattern, "response", res.Body)
		return res
	}
	centre := map[string]any{"name": "Centre C", "city": "Eastfield"}
	cid := call("POST", "/api/v1/transplant/centres", "/api/v1/transplant/centres", w.Admin, centre, 201).Str("id")
	call("POST", "/api/v1/transplant/centres/{id}/authorizations", "/api/v1/transplant/centres/"+cid+"/authorizations", w.Regulator,
		map[string]any{"activity": "procurement", "organ": "kidney", "valid_from": "2020-01-01", "valid_to": "2030-12-31"}, 201)
	call("POST", "/api/v1/principals", "/api/v1/principals", w.Admin, map[string]any{"name": "C", "role": "coordinator", "authority_id": cid}, 201)
	donor := call("POST", "/api/v1/transplant/donors", "/api/v1/transplant/donors", w.CoordA, apptest.DeceasedDonor(w.CentreA), 201).Str("id")
	call("POST", "/api/v1/transplant/donors/{id}/consents", "/api/v1/transplant/donors/"+donor+"/consents", w.CoordA, map[string]any{
		"kind": "donor_registry_authorization", "given_on": time.Now().UTC().AddDate(0, 0, -2).Format("2006-01-02"), "assessed_by": "registry check",
		"assessor_independent": true, "voluntary": true, "informed": true}, 201)
	pr := call("POST", "/api/v1/transplant/procurements", "/api/v1/transplant/procurements", w.CoordA, map[string]any{"donor_id": donor, "procured_at": apptest.Hours(5), "organs": []string{"kidney"}}, 201)
	organ := pr.Body["organs"].([]any)[0].(map[string]any)["id"].(string)
	rc := call("POST", "/api/v1/transplant/recipients", "/api/v1/transplant/recipients", w.CoordA, apptest.Recipient(w.CentreA, "kidney"), 201).Str("id")
	ta := call("POST", "/api/v1/transplant/transplant-authorizations", "/api/v1/transplant/transplant-authorizations", w.CoordA, map[string]any{"organ_id": organ, "recipient_id": rc,
		"centre_id": w.CentreA, "authorized_by": "Dr. M", "compatibility_documented": true, "consent_verified": true, "no_payment_declared": true}, 201).Str("id")
	call("POST", "/api/v1/transplant/transplants", "/api/v1/transplant/transplants", w.CoordA, map[string]any{"organ_id": organ, "recipient_id": rc, "centre_id": w.CentreA,
		"performed_at": apptest.Hours(0), "authorization_id": ta}, 201)
	call("GET", "/api/v1/transplant/trace/donors/{id}", "/api/v1/transplant/trace/donors/"+donor, w.Auditor, nil, 200)
	call("GET", "/api/v1/transplant/trace/organs/{id}", "/api/v1/transplant/trace/organs/"+organ, w.Auditor, nil, 200)
	call("GET", "/api/v1/transplant/trace/donations/{number}", "/api/v1/transplant/trace/donations/"+organ[:12], w.Auditor, nil, 200)
	call("GET", "/api/v1/me", "/api/v1/me", w.CoordA, nil, 200)
}

// FuzzDecode feeds arbitrary bodies to the JSON command decoding: it must never
// panic, and must either fill the command or refuse with a named rule.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"kind":"living","name":"x","sex":"female","blood_group":"O"}`))
	f.Add([]byte(`{"organs":["kidney","liver"],"donor_id":"DN-1","procured_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"estimated_age": 1e400}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"weight_kg": "12"}`))
	f.Add([]byte(`{} x`))
	f.Add([]byte(`{"kind":"reaction","donor_id":"DN-1","recipient_ids":["RC-1",7],"started_at":"2026-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"organ_id":"XA-26-000001-01-K","outcome":"discarded","reason":"other","note":"\u202e"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, target := range []any{new(transplant.NewDonor), new(transplant.NewProcurement), new(transplant.NewTransplant), new(transplant.NewConsent),
			new(transplant.NewDisposition), new(transplant.NewSAE), new(transplant.FinalReport)} {
			err := httpapi.DecodeBytes(b, target)
			if err == nil {
				continue
			}
			e, ok := errs.As(err)
			if !ok || e.Rule == "" || e.Message == "" || (e.Code != errs.Malformed && e.Code != errs.TooLarge) {
				t.Fatalf("decoding %q: refusal without code, rule and message: %#v", b, err)
			}
		}
	})
}

// openAPIValidator reads the served OpenAPI document and returns a check that
// a request or response body (where: "request" or "response", a success's)
// of the route method+path matches the schema the document gives for it,
// named or inline. (Every answer apptest gets is checked by TestMain too;
// this checks the bodies a test builds or changes.)
func openAPIValidator(t *testing.T, e *apptest.Env) func(method, path, where string, body any) {
	t.Helper()
	d, err := docOf(e)
	if err != nil {
		t.Fatal(err)
	}
	return func(method, path, where string, body any) {
		t.Helper()
		var ptr string
		var err error
		if where == "request" {
			ptr, err = d.requestSchema(method, path)
		} else {
			ptr, err = d.successSchema(method, path)
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.validate(ptr, b); err != nil {
			t.Errorf("%s %s %s: %v", method, path, where, err)
		}
	}
}

// openAPICompiler returns a schema compiler holding the OpenAPI document
// raw as the resource custos.json: compile "custos.json#" and a JSON
// pointer to a schema of the document.
func openAPICompiler(t testing.TB, raw []byte) *jsonschema.Compiler {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("custos.json", doc); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOpenAPIEnums checks the document enumerates every string it
// enumerated when enumerations were keyed by JSON field name, now that each
// is declared by Go type with the route, and no other.
func TestOpenAPIEnums(t *testing.T) {
	e := apptest.Start(t, storetest.SQLite(t))
	r := e.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil)
	organs, yesNo, tests := transplant.OrganTypes, transplant.YesNo, transplant.TestResults
	want := map[string][]string{
		"AuthNewPrincipal.role": roles, "AuthPrincipal.role": roles, "AuthCreatedPrincipal.role": roles, "AuthPrincipalRecord.role": roles,
		"AuthNewAuthority.kind":      {"regulator", "transplant_centre", "trafficking_authority", "payer", "competent_authority", "service_provider", "statistics_office", "central_authority", "prosecution_service"},
		"HashmatchNewRemoval.action": hashmatch.RemovalActions, "HashmatchRemoval.action": hashmatch.RemovalActions,
		"HashmatchNewReport.incident_type": hashmatch.IncidentTypes, "HashmatchReport.incident_type": hashmatch.IncidentTypes,
		"HashmatchReview.decision": hashmatch.Decisions, "HmImportIn.format": hashmatch.Formats,
		"HashmatchEntryReview.decision": hashmatch.DisputeDecisions, "HmReviewedEntryOut.decision": hashmatch.DisputeDecisions,
		"TransplantCentreAuthorization.activity": transplant.Activities, "TransplantCentreAuthorization.organ": organs,
		"TransplantNewCentreAuthorization.activity": transplant.Activities, "TransplantNewCentreAuthorization.organ": organs,
		"TransplantNewProcurement.organs[]": organs, "TransplantProcuredOrgan.organ": organs,
		"TransplantNewRecipient.blood_group": transplant.BloodGroups, "TransplantNewRecipient.organ_needed": organs, "TransplantNewRecipient.sex": transplant.Sexes,
		"TransplantRecipient.blood_group": transplant.BloodGroups, "TransplantRecipient.organ_needed": organs, "TransplantRecipient.sex": transplant.Sexes,
		"TransplantTraceDonor.blood_group": transplant.BloodGroups, "TransplantTraceOrgan.organ": organs,
		"TransplantTraceTransplant.recipient.blood_group": transplant.BloodGroups,
		"LedgerRaisedAlert.state":                         ledger.AlertStates, "AlertsClosing.outcome": ledger.AlertOutcomes,
		"ExchangePeer.state":               {exchange.PeerActive, exchange.PeerSuspended},
		"ExchangeOutboxMessage.state":      exchange.OutboxStates,
		"ExchangeInboxMessage.state":       exchange.InboxStates,
		"MailItem.state":                   mail.States,
		"TransplantNewDisposition.outcome": transplant.DispositionOutcomes, "TransplantDisposition.outcome": transplant.DispositionOutcomes,
		"TransplantNewDisposition.reason": transplant.DispositionReasons, "TransplantDisposition.reason": transplant.DispositionReasons,
		"TransplantNewSAE.kind": transplant.SAEKinds, "TransplantSAE.kind": transplant.SAEKinds,
		"TransplantSAE.conclusion": transplant.SAEConclusions, "TransplantFinalReport.conclusion": transplant.SAEConclusions,
		"TransplantSAEDestination.organ": organs,
		"TransplantNewImportSAE.kind":    transplant.SAEKinds, "TransplantNewImportOutcome.outcome": transplant.ImportOutcomes,
		"TransplantIndicator.category": transplant.TraffickingCategories, "TransplantTraffickingReporter.role": roles,
		"TransplantTraffickingReport.indicators[]": transplant.TraffickingIndicatorCodes(), "TransplantNewTraffickingReport.indicators[]": transplant.TraffickingIndicatorCodes(),
		"TransplantNewHandoff.step": transplant.HandoffSteps, "TransplantHandoff.step": transplant.HandoffSteps,
		"TransplantTraffickingAssessment.conclusion": transplant.AssessmentConclusions, "TransplantTraffickingAssessment.organ": transplant.CaseOrgans,
		"TransplantCasePerson.sex": transplant.Sexes, "TransplantCasePerson.age_band": transplant.AgeBands,
		"TransplantNewAbroad.kind": transplant.AbroadKinds, "TransplantNewAbroad.known_through": transplant.KnownThrough,
		"TransplantNewAbroad.donor_type": transplant.AbroadDonorTypes, "TransplantNewAbroad.donor_relation": transplant.DonorRelations,
		"TransplantNewAbroad.organ": organs, "TransplantNewAbroad.sex": transplant.Sexes,
		"TransplantNewFollowUp.vital_status": transplant.VitalStatuses, "TransplantNewFollowUp.graft_status": transplant.GraftStatuses,
		"TransplantNewFollowUp.psychosocial_care": transplant.PsychosocialCare,
		"TransplantNewWaitlistChange.status":      transplant.WaitlistStatuses, "TransplantNewWaitlistChange.reason": transplant.WaitlistReasons,
		"TransplantNewProcedure.kind": transplant.ProcedureKinds, "TransplantProcedure.kind": transplant.ProcedureKinds,
		"TransplantTraceProcedure.kind": transplant.ProcedureKinds,
		"StatsQuery.stage":              stats.DimStage.Codes()[1:], "StatsQuery.unit": stats.DimUnit.Codes()[1:], "StatsQuery.period": stats.Periods,
		"TransplantNewReimbursement.payee": transplant.Payees, "TransplantReimbursement.payee": transplant.Payees,
		"TransplantNewReimbursement.category": transplant.ExpenseCategories, "TransplantReimbursement.category": transplant.ExpenseCategories,
		"TransplantNewFinding.severity": transplant.FindingSeverities, "TransplantAuditFinding.severity": transplant.FindingSeverities,
	}
	for _, s := range []string{"TransplantTraffickingReceipt", "TransplantTraffickingReport", "TraffickingStatusIn", "TransplantTraffickingStatusChange"} {
		want[s+".status"] = transplant.TraffickingStatuses
	}
	for _, s := range []string{"TransplantDonor", "TransplantNewDonor"} {
		for f, v := range map[string][]string{"blood_group": transplant.BloodGroups, "sex": transplant.Sexes,
			"iv_drug_use": yesNo, "malignancy": yesNo, "transmissible_disease": yesNo, "hiv": tests, "hcv": tests, "hbv": tests} {
			want[s+"."+f] = v
		}
	}
	want["TransplantErase.ground"], want["PrivacyErasure.ground"] = privacy.GroundNames(), privacy.GroundNames()
	// The closed lists the services check, declared from the lists they
	// check against (TestEnumFields checks the API takes each value).
	for k, v := range map[string][]string{
		"TransplantNewDonor.kind": transplant.DonorKinds, "TransplantDonor.kind": transplant.DonorKinds,
		"TransplantNewConsent.kind": transplant.ConsentKinds, "TransplantConsent.kind": transplant.ConsentKinds,
		"TransplantNewFollowUp.complications[]": transplant.Complications,
		"TransplantNewAbroad.payment_reported":  yesNo, "TransplantNewAbroad.medical_records": transplant.RecordsReturned,
		"HmAuthorityIn.kind":    hashmatch.AuthorityKinds,
		"HashmatchNewBank.kind": hashmatch.BankKinds, "HashmatchBank.kind": hashmatch.BankKinds,
		"AssetsContactPoint.kind": assets.EntryKinds, "AssetsContactPoint.legal_bases[]": assets.LegalBases, "AssetsContactPoint.channels[]": assets.Channels,
		"AssetsNewCase.kind": assets.CaseKinds, "AssetsCase.kind": assets.CaseKinds, "AssetsCaseFile.kind": assets.CaseKinds,
		"AssetsNewPerson.kind": assets.PersonKinds, "AssetsPerson.kind": assets.PersonKinds,
		"AssetsNewPerson.role": assets.PersonRoles, "AssetsPerson.role": assets.PersonRoles,
		"AssetsNewAsset.type": assets.AssetTypes, "AssetsAsset.type": assets.AssetTypes, "AssetsAsset.status": assets.Steps,
		"AssetsNewMeasure.step": assets.Steps[1:], "AssetsMeasure.step": assets.Steps,
		"AssetsNewMeasure.confiscation": assets.ConfiscationTypes, "AssetsMeasure.confiscation": assets.ConfiscationTypes,
		"AssetsNewStatus.grounds": assets.RefusalGrounds, "AssetsNewStatus.status": assets.StepStatuses, "AssetsNewUse.purpose": assets.UsePurposes,
	} {
		want[k] = v
	}
	for _, s := range []string{"AssetsNewRequest", "AssetsRequest", "AssetsRequestFile"} {
		want[s+".type"], want[s+".legal_basis"], want[s+".assistance[]"] = assets.RequestTypes, assets.LegalBases, assets.AssistanceKinds
		want[s+".confidentiality"], want[s+".use_purposes[]"] = assets.Confidentialities, assets.UsePurposes
	}
	got := schemaEnums(r.Body)
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s: enum %v, want %v", k, got[k], v)
		}
	}
	for k, v := range got {
		if want[k] == nil {
			t.Errorf("%s: enum %v, want none", k, v)
		}
	}
}

// schemaEnums returns the enums of the named schemas of doc but Error, by
// where they are: SCHEMA.field, with [] for a list's items and .field for a
// nested object's (an inline one, or one of anyOf: a pointer to a struct).
// The null that a pointer's enum takes (nullable) is left out: it is no
// value of the list, and is documented by the schema's type.
func schemaEnums(doc map[string]any) map[string][]string {
	got := map[string][]string{}
	var walk func(where string, s map[string]any)
	walk = func(where string, s map[string]any) {
		if e, ok := s["enum"].([]any); ok {
			for _, v := range e {
				if v != nil {
					got[where] = append(got[where], v.(string))
				}
			}
		}
		if items, ok := s["items"].(map[string]any); ok {
			walk(where+"[]", items)
		}
		if of, ok := s["anyOf"].([]any); ok {
			for _, o := range of {
				walk(where, o.(map[string]any))
			}
		}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			walk(where+"."+name, p.(map[string]any))
		}
	}
	for name, s := range doc["components"].(map[string]any)["schemas"].(map[string]any) {
		if name != "Error" {
			walk(name, s.(map[string]any))
		}
	}
	return got
}

// TestSchemaEnumsNullable checks schemaEnums reads the enum of a pointer to
// an enumerated string, which takes null beside its values, and of the
// lists and objects nested in a schema, without panicking on the null.
func TestSchemaEnumsNullable(t *testing.T) {
	type tag struct {
		Shape *string `json:"shape"`
	}
	type labelled struct {
		Colour *string `json:"colour"`
		Tags   []tag   `json:"tags"`
		Inner  struct {
			Shade *string `json:"shade"`
		} `json:"inner"`
		Kinds []string `json:"kinds"`
	}
	handler := func(r *http.Request, p *auth.Principal) (int, any, error) { return 200, nil, nil }
	api := httpapi.New(httpapi.Config{}, []httpapi.Route{{Method: "GET", Path: "/api/v1/labels/x", Out: labelled{}, Handler: handler,
		Enums: []httpapi.Enum{{Type: reflect.TypeFor[labelled](), Field: "Colour", Values: []string{"red", "green"}},
			{Type: reflect.TypeFor[tag](), Field: "Shape", Values: []string{"round"}},
			{Type: reflect.TypeFor[labelled](), Field: "Kinds", Values: []string{"a", "b"}},
			{Type: reflect.TypeFor[labelled]().Field(2).Type, Field: "Shade", Values: []string{"dark"}}}}})
	raw, err := json.Marshal(api.OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	// The document does put null in a pointer's enum: what the walker meets.
	colour := doc["components"].(map[string]any)["schemas"].(map[string]any)["HttpapiLabelled"].(map[string]any)["properties"].(map[string]any)["colour"].(map[string]any)
	if e, _ := colour["enum"].([]any); len(e) != 3 || e[2] != nil {
		t.Fatalf("the enum of a pointer to a string: %v, want its values and null", colour["enum"])
	}
	got := schemaEnums(doc)
	want := map[string][]string{"HttpapiLabelled.colour": {"red", "green"}, "HttpapiTag.shape": {"round"}, "HttpapiLabelled.kinds[]": {"a", "b"},
		"HttpapiLabelled.inner.shade": {"dark"}}
	if len(got) != len(want) {
		t.Errorf("enums %v, want %v", got, want)
	}
	for k, v := range want {
		if !slices.Equal(got[k], v) {
			t.Errorf("%s: enum %v, want %v", k, got[k], v)
		}
	}
}

// roles are the roles of the server's catalogue, in its order.
// roles are in the catalogue's order: the core's, then each module's.
var roles = []string{"admin", "regulator", "auditor", "coordinator", "trafficking_assessor", "payer", "analyst", "service", "reviewer", "statistician", "central_authority_officer", "prosecutor"}

// newSincePrefix tells whether a transplant route was added after the
// registries got their prefix (vigilance, trafficking reports): it has no
// older path, so no deprecated alias.
func newSincePrefix(op string) bool {
	return vigilanceRoute[op] || op == "GET /api/v1/transplant/trace/donations/{number}" || strings.Contains(op, " /api/v1/transplant/trafficking/") || handoffRoute[op] || strings.Contains(op, " /api/v1/transplant/subjects/") || crossBorderRoute(op) ||
		godtRoute[op] || oversightRoute(op) || auditRoute(op)
}

// auditRoute holds for the routes of reimbursements, audits and the
// payer check (docs/oversight.md).
func auditRoute(op string) bool {
	for _, p := range []string{"/reimbursements", "/audits", "/audit-findings/", "/corrective-actions/", "/centre-standings", "/audit-pack", "/payer-check"} {
		if strings.Contains(op, " /api/v1/transplant"+p) {
			return true
		}
	}
	return false
}

// oversightRoute holds for the routes of treatment abroad, follow-up and
// the waiting list.
func oversightRoute(op string) bool {
	for _, p := range []string{"/abroad", "/travel", "/followups", "/equity", "/recipients/{id}/waitlist"} {
		if strings.Contains(op, " /api/v1/transplant"+p) {
			return true
		}
	}
	return false
}

// godtRoute are the routes of procedures and of the GODT report.
var godtRoute = map[string]bool{
	"POST /api/v1/transplant/procedures": true, "GET /api/v1/transplant/godt": true,
}

// handoffRoute are the routes of labels and hand-offs.
var handoffRoute = map[string]bool{
	"POST /api/v1/transplant/handoffs": true, "GET /api/v1/transplant/organs/{id}/custody": true, "GET /api/v1/transplant/organs/{id}/label": true,
}

// crossBorderRoute holds for the routes of organs and reports across borders.
func crossBorderRoute(op string) bool {
	for _, p := range []string{"/exports", "/imports", "/foreign-sae", "/foreign-notifications/"} {
		if strings.Contains(op, " /api/v1/transplant"+p) {
			return true
		}
	}
	return false
}

// vigilanceRoute are the vigilance's routes.
var vigilanceRoute = map[string]bool{
	"POST /api/v1/transplant/dispositions": true, "GET /api/v1/transplant/organs/awaiting-disposition": true,
	"POST /api/v1/transplant/sae": true, "GET /api/v1/transplant/sae": true, "GET /api/v1/transplant/sae/{id}": true,
	"POST /api/v1/transplant/sae/{id}/final-report": true, "GET /api/v1/transplant/notifications": true,
	"POST /api/v1/transplant/notifications/{id}/acknowledge": true,
}
