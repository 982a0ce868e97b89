package assets

import "github.com/custos-project/custos/internal/i18n"

// Kinds of directory entries.
const (
	EntryCentralAuthority = "central_authority"
	EntryContactPoint     = "contact_point"
	EntryFocalPoint       = "asset_recovery_focal_point"
)

// EntryKinds are the kinds of directory entries.
var EntryKinds = []string{EntryCentralAuthority, EntryContactPoint, EntryFocalPoint}

// The legal bases a central authority or contact point is designated under.
const (
	BasisUNCAC       = "uncac_46"         // UNCAC art. 46(13)
	BasisUNTOC       = "untoc_18"         // UNTOC art. 18(13)
	BasisBilateral   = "bilateral_treaty" // a bilateral MLA treaty (named in Treaty)
	BasisReciprocity = "reciprocity"
)

// LegalBases are the legal bases, in the order forms show them.
var LegalBases = []string{BasisUNCAC, BasisUNTOC, BasisBilateral, BasisReciprocity}

// Channels are the ways a central authority or contact point takes requests.
var Channels = []string{"email", "phone", "fax", "post", "secure_platform", "interpol", "egmont", "diplomatic"}

// ContactPoint is one entry of the directory: a state's central authority,
// contact point or asset-recovery focal point, under its legal bases. Its
// contacts are an institution's, never a named person's.
type ContactPoint struct {
	ID           string   `json:"id"`
	State        string   `json:"state" api:"required"`
	Kind         string   `json:"kind" api:"required"`
	Name         string   `json:"name" api:"required"`
	LegalBases   []string `json:"legal_bases" api:"required"`
	Treaty       string   `json:"treaty,omitempty"`
	Languages    []string `json:"languages" api:"required"`
	Channels     []string `json:"channels"`
	Email        string   `json:"email,omitempty"`
	Phone        string   `json:"phone,omitempty"`
	Address      string   `json:"address,omitempty"`
	Available247 bool     `json:"available_24_7"`
	Contact247   string   `json:"contact_24_7,omitempty"`
	Notes        string   `json:"notes,omitempty"`
	Source       string   `json:"source,omitempty"`
	RecordedAt   string   `json:"recorded_at,omitempty"`

	line int // the line of the file it was read from (0: a form)
}

// Kinds of cases: the state's own proceedings on assets at home, assistance
// to a foreign state's proceedings, or the state's own proceedings with
// assets abroad.
const (
	CaseDomestic = "domestic"
	CaseIncoming = "incoming"
	CaseOutgoing = "outgoing"
)

// CaseKinds are the kinds of cases.
var CaseKinds = []string{CaseDomestic, CaseIncoming, CaseOutgoing}

// Case is an asset-recovery case.
type Case struct {
	ID          string   `json:"id"`
	State       string   `json:"state"`
	AuthorityID string   `json:"authority_id"`
	Reference   string   `json:"reference"`
	Title       string   `json:"title"`
	Kind        string   `json:"kind"`
	Offences    []string `json:"offences"`
	OpenedOn    string   `json:"opened_on"`
	OpenedAt    string   `json:"opened_at,omitempty"`
}

// Kinds of persons.
const (
	PersonNatural = "natural"
	PersonLegal   = "legal"
)

// PersonKinds are the kinds of persons.
var PersonKinds = []string{PersonNatural, PersonLegal}

// PersonRoles are the roles a person has in a case.
var PersonRoles = []string{"suspect", "accused", "convicted", "owner", "third_party", "victim"}

// Person is a natural or legal person of a case. A natural person's name,
// birth date and identity document are sealed (NaturalPerson); a legal
// person's name and registration are a company's, kept in clear.
type Person struct {
	ID           string `json:"id"`
	CaseID       string `json:"case_id"`
	Kind         string `json:"kind"`
	Role         string `json:"role"`
	Country      string `json:"country"`
	Name         string `json:"name,omitempty"`
	Registration string `json:"registration,omitempty"`
	Sealed       bool   `json:"sealed"`
}

// NaturalPerson is the personal data of a natural person, sealed.
type NaturalPerson struct {
	Name      string `json:"name"`
	BirthDate string `json:"birth_date,omitempty"`
	Document  string `json:"document,omitempty"`
}

// Link is a link between two cases.
type Link struct {
	CaseID  string `json:"case_id"`
	OtherID string `json:"other_id"`
	Reason  string `json:"reason"`
}

// AssetTypes are the types of assets.
var AssetTypes = []string{"bank_account", "real_estate", "vehicle", "vessel", "aircraft", "company_shares", "securities",
	"cash", "virtual_assets", "valuables", "other"}

// Steps of the measure ledger.
const (
	StepIdentified  = "identified"
	StepFrozen      = "frozen"
	StepSeized      = "seized"
	StepConfiscated = "confiscated"
	StepReturned    = "returned"
	StepDisposed    = "disposed"
	StepReleased    = "released"
)

// Steps are the steps, in the ledger's order.
var Steps = []string{StepIdentified, StepFrozen, StepSeized, StepConfiscated, StepReturned, StepDisposed, StepReleased}

// next is the rule of the ledger: the steps that may follow each.
// Identified leads to a freeze or a seizure; a frozen asset may be seized;
// either may be confiscated or released; a confiscated asset is returned or
// disposed of. Returned, disposed and released are final.
var next = map[string][]string{
	StepIdentified:  {StepFrozen, StepSeized},
	StepFrozen:      {StepSeized, StepConfiscated, StepReleased},
	StepSeized:      {StepConfiscated, StepReleased},
	StepConfiscated: {StepReturned, StepDisposed},
}

// Confiscation types.
const (
	ConfiscationCriminal = "criminal"
	ConfiscationNCB      = "non_conviction_based"
	ConfiscationCivil    = "civil"
)

// ConfiscationTypes are the types of confiscation.
var ConfiscationTypes = []string{ConfiscationCriminal, ConfiscationNCB, ConfiscationCivil}

// Asset is an asset of a case and where its ledger stands.
type Asset struct {
	ID           string    `json:"id"`
	CaseID       string    `json:"case_id"`
	Type         string    `json:"type"`
	Jurisdiction string    `json:"jurisdiction"`
	Description  string    `json:"description"`
	Value        string    `json:"value"`
	Currency     string    `json:"currency"`
	HolderID     string    `json:"holder_id,omitempty"`
	Status       string    `json:"status"`
	StatusOn     string    `json:"status_on"`
	Measures     []Measure `json:"measures,omitempty"`
}

// Measure is one step of an asset's ledger.
type Measure struct {
	ID           string `json:"id"`
	AssetID      string `json:"asset_id"`
	CaseID       string `json:"case_id"`
	Seq          int    `json:"seq"`
	Step         string `json:"step"`
	Confiscation string `json:"confiscation,omitempty"`
	DecidedOn    string `json:"decided_on"`
	Instrument   string `json:"instrument"`
	Amount       string `json:"amount"`
	Currency     string `json:"currency"`
	Authority    string `json:"authority"`
	ReturnedTo   string `json:"returned_to,omitempty"`
	Notes        string `json:"notes,omitempty"`
}

// Rate is an exchange rate for a year: units of To per unit of Currency.
type Rate struct {
	Currency string `json:"currency" api:"required"`
	To       string `json:"to" api:"required"`
	Year     int    `json:"year" api:"required"`
	Rate     string `json:"rate" api:"required"`
	Source   string `json:"source" api:"required"`
}

// labels are the words of the registry's coded values.
var labels = map[string]string{
	EntryCentralAuthority: i18n.M("Central authority"),
	EntryContactPoint:     i18n.M("Contact point"),
	EntryFocalPoint:       i18n.M("Asset-recovery focal point"),
	BasisUNCAC:            i18n.M("UNCAC article 46"),
	BasisUNTOC:            i18n.M("UNTOC article 18"),
	BasisBilateral:        i18n.M("Bilateral treaty"),
	BasisReciprocity:      i18n.M("Reciprocity"),
	CaseDomestic:          i18n.M("Domestic"),
	CaseIncoming:          i18n.M("Assisting a foreign state"),
	CaseOutgoing:          i18n.M("Assets abroad"),
	PersonNatural:         i18n.M("Natural person"),
	PersonLegal:           i18n.M("Legal person"),
	"suspect":             i18n.M("Suspect"), "accused": i18n.M("Accused"), "convicted": i18n.M("Convicted"),
	"owner": i18n.M("Asset owner"), "third_party": i18n.M("Third party"), "victim": i18n.M("Victim"),
	"bank_account": i18n.M("Bank account"), "real_estate": i18n.M("Real estate"), "vehicle": i18n.M("Vehicle"),
	"vessel": i18n.M("Vessel"), "aircraft": i18n.M("Aircraft"), "company_shares": i18n.M("Company shares"),
	"securities": i18n.M("Securities"), "cash": i18n.M("Cash"), "virtual_assets": i18n.M("Virtual assets"),
	"valuables":          i18n.M("Valuables"),
	StepIdentified:       i18n.M("Identified"),
	StepFrozen:           i18n.M("Frozen"),
	StepSeized:           i18n.M("Seized"),
	StepConfiscated:      i18n.M("Confiscated"),
	StepReturned:         i18n.M("Returned"),
	StepDisposed:         i18n.M("Disposed of"),
	StepReleased:         i18n.M("Released"),
	ConfiscationCriminal: i18n.M("Criminal confiscation"),
	ConfiscationNCB:      i18n.M("Non-conviction based confiscation"),
	ConfiscationCivil:    i18n.M("Civil confiscation"),
	// requests between states (requests_model.go)
	RequestMLA: i18n.M("Mutual legal assistance"), RequestExtradition: i18n.M("Extradition"),
	RequestAssetRecovery: i18n.M("Asset recovery"), RequestSpontaneous: i18n.M("Spontaneous disclosure"),
	// A request's statuses are its own messages, not the core's "Sent" or
	// "Refused": a language that agrees the word with "request" (French
	// "demande envoyée", Spanish "solicitud enviada") says so.
	StatusDraft: i18n.M("Draft request"), StatusSent: i18n.M("Request sent"), StatusAcknowledged: i18n.M("Request acknowledged"),
	StatusUnderExecution: i18n.M("Request under execution"), StatusExecuted: i18n.M("Request executed"), StatusPartial: i18n.M("Request partially executed"),
	StatusRefused: i18n.M("Request refused"), StatusWithdrawn: i18n.M("Request withdrawn"),
	AssistEvidence: i18n.M("Taking evidence or statements"), AssistService: i18n.M("Service of judicial documents"),
	AssistSearch: i18n.M("Searches, seizures and freezing"), AssistExamine: i18n.M("Examining objects and sites"),
	AssistInformation: i18n.M("Information, evidence and expert evaluations"),
	AssistRecords:     i18n.M("Documents and records (government, bank, financial, corporate, business)"),
	AssistTracing:     i18n.M("Identifying or tracing proceeds, property or instrumentalities"),
	AssistAppearance:  i18n.M("Voluntary appearance of persons"), AssistFreezing: i18n.M("Identifying, freezing and tracing proceeds"),
	AssistRecovery: i18n.M("Recovery of assets"), AssistVideo: i18n.M("Hearing by video conference"),
	AssistTransfer: i18n.M("Transfer of a detained person"), AssistOther: i18n.M("Other assistance"),
	"not_required": i18n.M("Confidentiality not required"), "required": i18n.M("Confidentiality required (UNCAC art. 46(20))"),
	"investigation": i18n.M("Investigation"), "prosecution": i18n.M("Prosecution"), "judicial_proceedings": i18n.M("Judicial proceedings"),
	"confiscation": i18n.M("Confiscation"), "return_of_assets": i18n.M("Return of assets"),
	"not_in_accordance":                 i18n.M("Not made in accordance with the Convention (art. 46(21)(a))"),
	"sovereignty_security_public_order": i18n.M("Sovereignty, security or public order (art. 46(21)(b))"),
	"prohibited_by_domestic_law":        i18n.M("Prohibited by domestic law (art. 46(21)(c))"),
	"contrary_to_legal_system":          i18n.M("Contrary to the legal system (art. 46(21)(d))"),
	"no_dual_criminality":               i18n.M("No dual criminality (art. 46(9)(b))"), "de_minimis": i18n.M("De minimis (art. 46(9)(b))"),
	"persecution": i18n.M("Persecution (art. 44(15))"), "other": i18n.M("Other grounds"),
}

// Labels returns the words of the registry's coded values, for the web UI.
func Labels() map[string]string {
	out := make(map[string]string, len(labels))
	for k, v := range labels {
		out[k] = v
	}
	return out
}

// Next returns the steps that may follow step in an asset's ledger (none
// for a final step).
func Next(step string) []string { return next[step] }
