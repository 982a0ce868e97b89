package transplant

import (
	"encoding/json"

	"github.com/custos-project/custos/internal/exchange"
	"github.com/custos-project/custos/internal/i18n"
)

// ---- Across borders: the message types (docs/vigilance.md, "Across borders") ----
//
// The registry exchanges organs with the registries of other countries over
// the core exchange (internal/exchange): before an organ crosses a border,
// its characterization and its donor's (Directive 2010/53/EU, Annex; no
// direct identifier: the national donor id is the origin's pseudonymous
// donor id); then the traceability data, origin to destination and back
// (Implementing Directive 2012/25/EU, Art. 4 and 5); and the reports of
// serious adverse events and reactions, their acknowledgements and their
// final reports (Annexes I and II).

// The purposes the registry sends these messages for; peers register them
// among their send and receive purposes.
const (
	PurposeTraceability = "traceability"
	PurposeVigilance    = "vigilance"
)

// The message types.
const (
	MsgCharacterization = "transplant.organ_characterization"
	MsgTraceability     = "transplant.organ_traceability"
	MsgOutcome          = "transplant.organ_outcome"
	MsgSAENotification  = "transplant.sae_notification"
	MsgSAERaised        = "transplant.sae_raised"
	MsgSAEAcknowledged  = "transplant.sae_acknowledgement"
	MsgSAEFinal         = "transplant.sae_final_report"
)

// The pieces of the schemas.
const (
	schemaOrganID = `{"type": "string", "pattern": "^[A-Z]{2}-[0-9]{2}-[0-9]{6}-[0-9]{2}-[0-9A-Z]$"}`
	schemaRef     = `{"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"}`
	schemaTime    = `{"type": "string", "format": "date-time", "maxLength": 40}`
	schemaDate    = `{"type": "string", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}`
	schemaLine    = `{"type": "string", "minLength": 1, "maxLength": 200}`
	schemaText    = `{"type": "string", "minLength": 1, "maxLength": 4000}`
	schemaYesNo   = `{"enum": ["yes", "no", "unknown"]}`
	schemaTest    = `{"enum": ["negative", "positive", "not_tested"]}`
	schemaOrgan   = `{"enum": ["kidney", "liver", "heart", "lung", "pancreas", "intestine"]}`
	schemaSAEKind = `{"enum": ["event", "reaction"]}`
)

// CrossBorderTypes are the registry's message types.
var CrossBorderTypes = []exchange.Type{
	{Name: MsgCharacterization, Purpose: PurposeTraceability, Reader: string(RoleCoordinator), Title: i18n.M("Organ and donor characterization"), Schema: `{
	"type": "object", "additionalProperties": false,
	"required": ["organ_id", "organ", "donor_id", "procurement_centre", "destination_centre", "donor"],
	"properties": {
		"organ_id": ` + schemaOrganID + `, "organ": ` + schemaOrgan + `, "donor_id": ` + schemaRef + `,
		"procurement_centre": ` + schemaLine + `, "destination_centre": {"type": "string", "maxLength": 200},
		"donor": {"type": "object", "additionalProperties": false,
			"required": ["kind", "sex", "blood_group", "iv_drug_use", "malignancy", "transmissible_disease", "hiv", "hcv", "hbv", "organ_function"],
			"properties": {
				"kind": {"enum": ["deceased_brain_death", "deceased_circulatory_death", "living"]},
				"sex": {"enum": ["female", "male", "unknown"]}, "blood_group": {"enum": ["A", "B", "AB", "O"]},
				"age_years": {"type": "integer", "minimum": 0, "maximum": 130},
				"weight_kg": {"type": "integer", "minimum": 0, "maximum": 400}, "height_cm": {"type": "integer", "minimum": 0, "maximum": 260},
				"cause_of_death": {"type": "string", "maxLength": 200}, "date_of_death": ` + schemaDate + `,
				"iv_drug_use": ` + schemaYesNo + `, "malignancy": ` + schemaYesNo + `, "transmissible_disease": ` + schemaYesNo + `,
				"hiv": ` + schemaTest + `, "hcv": ` + schemaTest + `, "hbv": ` + schemaTest + `,
				"organ_function": {"type": "string", "maxLength": 2000}}}}}`},
	{Name: MsgTraceability, Purpose: PurposeTraceability, Reader: string(RoleCoordinator), Title: i18n.M("Traceability of an organ sent"), Schema: `{
	"type": "object", "additionalProperties": false,
	"required": ["organ_id", "organ", "donor_id", "procured_at", "procurement_centre"],
	"properties": {"organ_id": ` + schemaOrganID + `, "organ": ` + schemaOrgan + `, "donor_id": ` + schemaRef + `,
		"procured_at": ` + schemaTime + `, "procurement_centre": ` + schemaLine + `}}`},
	{Name: MsgOutcome, Purpose: PurposeTraceability, Reader: string(RoleCoordinator), Title: i18n.M("Traceability of an organ received"), Schema: `{
	"type": "object", "additionalProperties": false,
	"required": ["organ_id", "outcome", "on", "centre"],
	"properties": {"organ_id": ` + schemaOrganID + `, "outcome": {"enum": ["transplanted", "discarded", "research"]},
		"recipient_id": ` + schemaRef + `, "on": ` + schemaDate + `, "centre": ` + schemaLine + `,
		"reason": {"type": "string", "maxLength": 200}}}`},
	{Name: MsgSAENotification, Purpose: PurposeVigilance, Reader: string(RoleCoordinator), Title: i18n.M("Serious adverse event or reaction: initial report"), Schema: `{
	"type": "object", "additionalProperties": false,
	"required": ["report_id", "kind", "reporting_body", "contact", "origin_country", "donor_id", "organ_ids", "recipient_ids",
		"reported_at", "started_at", "detected_at", "description", "immediate_measures"],
	"properties": {"report_id": ` + schemaRef + `, "kind": ` + schemaSAEKind + `, "reporting_body": ` + schemaLine + `,
		"contact": ` + schemaLine + `, "origin_country": {"type": "string", "pattern": "^[A-Z]{2}$"}, "donor_id": ` + schemaRef + `,
		"organ_ids": {"type": "array", "minItems": 1, "maxItems": 20, "items": ` + schemaOrganID + `},
		"recipient_ids": {"type": "array", "maxItems": 50, "items": ` + schemaRef + `},
		"reported_at": ` + schemaTime + `, "started_at": ` + schemaTime + `, "detected_at": ` + schemaTime + `,
		"description": ` + schemaText + `, "immediate_measures": ` + schemaText + `,
		"raised_report_id": ` + schemaRef + `}}`},
	{Name: MsgSAERaised, Purpose: PurposeVigilance, Reader: string(RoleCoordinator), Title: i18n.M("Serious adverse event or reaction on an organ received"), Schema: `{
	"type": "object", "additionalProperties": false,
	"required": ["report_id", "kind", "reporting_body", "contact", "organ_id", "recipient_ids", "reported_at", "started_at", "detected_at",
		"description", "immediate_measures"],
	"properties": {"report_id": ` + schemaRef + `, "kind": ` + schemaSAEKind + `, "reporting_body": ` + schemaLine + `,
		"contact": ` + schemaLine + `, "organ_id": ` + schemaOrganID + `,
		"recipient_ids": {"type": "array", "maxItems": 50, "items": ` + schemaRef + `},
		"reported_at": ` + schemaTime + `, "started_at": ` + schemaTime + `, "detected_at": ` + schemaTime + `,
		"description": ` + schemaText + `, "immediate_measures": ` + schemaText + `}}`},
	{Name: MsgSAEAcknowledged, Purpose: PurposeVigilance, Reader: string(RoleCoordinator), Title: i18n.M("Acknowledgement of a serious adverse event or reaction"), Schema: `{
	"type": "object", "additionalProperties": false, "required": ["report_id", "centres_notified", "acknowledged_at"],
	"properties": {"report_id": ` + schemaRef + `, "centres_notified": {"type": "integer", "minimum": 0, "maximum": 1000},
		"acknowledged_at": ` + schemaTime + `}}`},
	{Name: MsgSAEFinal, Purpose: PurposeVigilance, Reader: string(RoleCoordinator), Title: i18n.M("Serious adverse event or reaction: final report"), Schema: `{
	"type": "object", "additionalProperties": false, "required": ["report_id", "conclusion", "outcome", "corrective_actions", "final_reported_at"],
	"properties": {"report_id": ` + schemaRef + `, "conclusion": {"enum": ["confirmed", "not_confirmed", "inconclusive"]},
		"outcome": ` + schemaText + `, "corrective_actions": ` + schemaText + `, "final_reported_at": ` + schemaTime + `}}`},
}

// Characterization is the organ and donor characterization sent before an
// organ crosses a border.
type Characterization struct {
	OrganID           string                `json:"organ_id"`
	Organ             string                `json:"organ"`
	DonorID           string                `json:"donor_id"`
	ProcurementCentre string                `json:"procurement_centre"`
	DestinationCentre string                `json:"destination_centre"`
	Donor             DonorCharacterization `json:"donor"`
}

// DonorCharacterization is the donor's part of the minimum data set (the
// Annex of Directive 2010/53/EU, part A, and the tests of part B), with the
// age in years instead of the date of birth.
type DonorCharacterization struct {
	Kind                 string `json:"kind"`
	Sex                  string `json:"sex"`
	BloodGroup           string `json:"blood_group"`
	AgeYears             *int   `json:"age_years,omitempty"`
	WeightKg             *int   `json:"weight_kg,omitempty"`
	HeightCm             *int   `json:"height_cm,omitempty"`
	CauseOfDeath         string `json:"cause_of_death,omitempty"`
	DateOfDeath          string `json:"date_of_death,omitempty"`
	IVDrugUse            string `json:"iv_drug_use"`
	Malignancy           string `json:"malignancy"`
	TransmissibleDisease string `json:"transmissible_disease"`
	HIV                  string `json:"hiv"`
	HCV                  string `json:"hcv"`
	HBV                  string `json:"hbv"`
	OrganFunction        string `json:"organ_function"`
}

// Traceability is the origin's traceability message: the organ, the
// national donor id, the date and centre of procurement.
type Traceability struct {
	OrganID           string `json:"organ_id"`
	Organ             string `json:"organ"`
	DonorID           string `json:"donor_id"`
	ProcuredAt        string `json:"procured_at"`
	ProcurementCentre string `json:"procurement_centre"`
}

// OutcomeMessage is the destination's traceability message: the national
// recipient id and the date and centre of the transplantation, or the
// organ's final disposition.
type OutcomeMessage struct {
	OrganID     string `json:"organ_id"`
	Outcome     string `json:"outcome"`
	RecipientID string `json:"recipient_id,omitempty"`
	On          string `json:"on"`
	Centre      string `json:"centre"`
	Reason      string `json:"reason,omitempty"`
}

// SAENotice is the initial report of an SAE as it crosses a border (Annex I
// of 2012/25/EU), from the registry of origin to each destination.
// RaisedReportID is the destination's own report id when a destination
// raised it.
type SAENotice struct {
	ReportID          string   `json:"report_id"`
	Kind              string   `json:"kind"`
	ReportingBody     string   `json:"reporting_body"`
	Contact           string   `json:"contact"`
	OriginCountry     string   `json:"origin_country"`
	DonorID           string   `json:"donor_id"`
	OrganIDs          []string `json:"organ_ids"`
	RecipientIDs      []string `json:"recipient_ids"`
	ReportedAt        string   `json:"reported_at"`
	StartedAt         string   `json:"started_at"`
	DetectedAt        string   `json:"detected_at"`
	Description       string   `json:"description"`
	ImmediateMeasures string   `json:"immediate_measures"`
	RaisedReportID    string   `json:"raised_report_id,omitempty"`
}

// SAERaisedNotice is an SAE a destination raised on an organ it received,
// sent to the registry of origin.
type SAERaisedNotice struct {
	ReportID          string   `json:"report_id"`
	Kind              string   `json:"kind"`
	ReportingBody     string   `json:"reporting_body"`
	Contact           string   `json:"contact"`
	OrganID           string   `json:"organ_id"`
	RecipientIDs      []string `json:"recipient_ids"`
	ReportedAt        string   `json:"reported_at"`
	StartedAt         string   `json:"started_at"`
	DetectedAt        string   `json:"detected_at"`
	Description       string   `json:"description"`
	ImmediateMeasures string   `json:"immediate_measures"`
}

// SAEAcknowledgement is a foreign registry's acknowledgement of an SAE's
// notification: sent once every centre there that received an organ of the
// donor has acknowledged it.
type SAEAcknowledgement struct {
	ReportID        string `json:"report_id"`
	CentresNotified int    `json:"centres_notified"`
	AcknowledgedAt  string `json:"acknowledged_at"`
}

// SAEFinalNotice is the final report as it crosses a border (Annex II).
type SAEFinalNotice struct {
	ReportID          string `json:"report_id"`
	Conclusion        string `json:"conclusion"`
	Outcome           string `json:"outcome"`
	CorrectiveActions string `json:"corrective_actions"`
	FinalReportedAt   string `json:"final_reported_at"`
}

// crossBorderLegalBasis and crossBorderNotice travel with every message.
const (
	crossBorderLegalBasis = "Directive 2010/53/EU, Art. 10, 11 and 20; Commission Implementing Directive 2012/25/EU, Art. 3 to 7"
	crossBorderNotice     = "Pseudonymised data: national donor and recipient identifiers of the sending registry, no names or identity numbers. " +
		"For organ traceability and vigilance only."
)

// crossBorderReaders are the roles that may read the messages on the other side.
var crossBorderReaders = []string{"coordinator", "regulator"}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
