package assets

import (
	"slices"

	"github.com/custos-project/custos/internal/auth"
)

// ---- Requests between states: the vocabulary (docs/assets.md, "Requests") ----

// Types of requests.
const (
	RequestMLA           = "mla"            // mutual legal assistance (UNCAC art. 46, UNTOC art. 18)
	RequestExtradition   = "extradition"    // UNCAC art. 44, UNTOC art. 16
	RequestAssetRecovery = "asset_recovery" // UNCAC arts. 54, 55 and 57
	RequestSpontaneous   = "spontaneous"    // spontaneous disclosure, UNCAC arts. 46(4) and 56
)

// RequestTypes are the types of requests.
var RequestTypes = []string{RequestMLA, RequestExtradition, RequestAssetRecovery, RequestSpontaneous}

// Directions of a request, from this registry's side.
const (
	DirectionOutgoing = "outgoing" // made by a state of this registry
	DirectionIncoming = "incoming" // received from another custos registry over the exchange
)

// Sides of a request, from its reader's (Request.Side).
const (
	SideRequesting = "requesting" // the reader's state asks
	SideRequested  = "requested"  // the reader's state is asked
	SideOther      = "other"      // the regulator and the auditor, neither
)

// Statuses of a request.
const (
	StatusDraft          = "draft"
	StatusSent           = "sent"
	StatusAcknowledged   = "acknowledged"
	StatusUnderExecution = "under_execution"
	StatusExecuted       = "executed"
	StatusPartial        = "partially_executed"
	StatusRefused        = "refused"
	StatusWithdrawn      = "withdrawn"
)

// RequestStatuses are the statuses, in the lifecycle's order.
var RequestStatuses = []string{StatusDraft, StatusSent, StatusAcknowledged, StatusUnderExecution, StatusExecuted, StatusPartial,
	StatusRefused, StatusWithdrawn}

// StepStatuses are the statuses a step records (RecordStatus, NewStatus's
// status): every status but draft and sent, which a request takes by being
// drafted or sent.
var StepStatuses = slices.DeleteFunc(slices.Clone(RequestStatuses), func(s string) bool { return s == StatusDraft || s == StatusSent })

// requestNext is the lifecycle: the statuses that may follow each. A draft
// is sent or withdrawn; a request sent is acknowledged, refused or
// withdrawn; one acknowledged goes under execution, or is refused or
// withdrawn; one under execution ends executed, partially executed, refused
// or withdrawn. Executed, partially executed, refused and withdrawn are
// final.
var requestNext = map[string][]string{
	StatusDraft:          {StatusSent, StatusWithdrawn},
	StatusSent:           {StatusAcknowledged, StatusRefused, StatusWithdrawn},
	StatusAcknowledged:   {StatusUnderExecution, StatusRefused, StatusWithdrawn},
	StatusUnderExecution: {StatusExecuted, StatusPartial, StatusRefused, StatusWithdrawn},
}

// spontaneousNext is the lifecycle of a spontaneous disclosure: it asks for
// nothing, so it is only sent and acknowledged (or withdrawn before).
var spontaneousNext = map[string][]string{
	StatusDraft: {StatusSent, StatusWithdrawn},
	StatusSent:  {StatusAcknowledged, StatusWithdrawn},
}

// NextStatuses returns the statuses a request of type typ may move to from
// status (none for a final one).
func NextStatuses(typ, status string) []string {
	if typ == RequestSpontaneous {
		return spontaneousNext[status]
	}
	return requestNext[status]
}

// finished tells whether a status is final for a request of type typ.
func finished(typ, status string) bool {
	return status != StatusDraft && len(NextStatuses(typ, status)) == 0
}

// The assistance a request seeks: UNCAC art. 46(3) (a) to (k), as the UNODC
// Mutual Legal Assistance Request Writer Tool groups them, with the hearing
// by video conference (art. 46(18)) and the transfer of detained persons
// (art. 46(10)).
const (
	AssistEvidence    = "taking_evidence"             // (a) evidence or statements from persons
	AssistService     = "service_of_documents"        // (b) service of judicial documents
	AssistSearch      = "search_and_seizure"          // (c) searches, seizures and freezing
	AssistExamine     = "examining_objects_sites"     // (d)
	AssistInformation = "information_and_expertise"   // (e) information, evidentiary items, expert evaluations
	AssistRecords     = "documents_and_records"       // (f) government, bank, financial, corporate or business records
	AssistTracing     = "identifying_tracing"         // (g) identifying or tracing proceeds, property, instrumentalities
	AssistAppearance  = "appearance_of_persons"       // (h) the voluntary appearance of persons
	AssistFreezing    = "freezing_proceeds"           // (j) identifying, freezing and tracing proceeds (chapter V)
	AssistRecovery    = "recovery_of_assets"          // (k) the recovery of assets (chapter V)
	AssistVideo       = "hearing_by_video"            // art. 46(18)
	AssistTransfer    = "transfer_of_detained_person" // art. 46(10)
	AssistOther       = "other_assistance"            // (i) any other assistance not contrary to domestic law
)

// AssistanceKinds are the kinds of assistance, in the order of art. 46(3).
var AssistanceKinds = []string{AssistEvidence, AssistService, AssistSearch, AssistExamine, AssistInformation, AssistRecords, AssistTracing,
	AssistAppearance, AssistFreezing, AssistRecovery, AssistVideo, AssistTransfer, AssistOther}

// coercive are the kinds of assistance that need coercive action in the
// requested state: art. 46(9)(b) and (c) let it refuse them without dual
// criminality, so a request for them states why the conduct is an offence
// in both states.
var coercive = []string{AssistSearch, AssistRecords, AssistFreezing, AssistRecovery, AssistTransfer}

// needsDualCriminality tells whether a request must state dual criminality:
// an extradition (art. 44(1)), an asset-recovery request, or a request for
// coercive assistance.
func needsDualCriminality(typ string, assistance []string) bool {
	if typ == RequestExtradition || typ == RequestAssetRecovery {
		return true
	}
	for _, a := range assistance {
		if slices.Contains(coercive, a) {
			return true
		}
	}
	return false
}

// Confidentiality: whether the requesting state asks the requested state to
// keep the request's fact and substance confidential (UNCAC art. 46(20)).
var Confidentialities = []string{"not_required", "required"}

// UsePurposes are the uses a state makes of what it receives under a
// request: the request states them, and a use for another is refused
// (UNCAC art. 46(19)).
var UsePurposes = []string{"investigation", "prosecution", "judicial_proceedings", "confiscation", "return_of_assets"}

// RefusalGrounds are the grounds a requested state refuses on: UNCAC art.
// 46(21) (a) to (d), art. 46(9)(b) (no dual criminality, de minimis) and
// art. 44(15) (persecution) for extradition.
var RefusalGrounds = []string{"not_in_accordance", "sovereignty_security_public_order", "prohibited_by_domestic_law",
	"contrary_to_legal_system", "no_dual_criminality", "de_minimis", "persecution", "other"}

// groundsNotAllowed are reasons the Convention forbids refusing on: bank
// secrecy (art. 46(8)) and fiscal matters (arts. 44(16), 46(22)).
var groundsNotAllowed = map[string]string{
	"bank_secrecy":   "UNCAC art. 46(8): assistance may not be declined on the ground of bank secrecy",
	"fiscal_matters": "UNCAC arts. 44(16) and 46(22): a request may not be refused on the sole ground that the offence involves fiscal matters",
}

// PurposeLegalAssistance is the exchange purpose the requests travel for;
// the two registries register it among their peers' purposes.
const PurposeLegalAssistance = "legal_assistance"

// The actions on requests. A central authority officer or a prosecutor
// drafts its state's requests; only the central authority sends them,
// withdraws them, and records what the requested state does (UNCAC art.
// 46(13)); each reads its own state's requests and those sent to it.
var (
	DraftRequests  = auth.NewAction("draft requests to other states", RoleCentralAuthority, RoleProsecutor)
	HandleRequests = auth.NewAction("send, answer and follow requests between central authorities", RoleCentralAuthority)
	ReadRequests   = auth.NewAction("read requests between states", RoleCentralAuthority, RoleProsecutor, auth.Regulator, auth.Auditor)
	UseRequests    = auth.NewAction("record the use of what a request brought", RoleCentralAuthority, RoleProsecutor)
)
