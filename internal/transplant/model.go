// Package transplant is the organ donation and transplantation registry of
// resolution VI, paragraph 6: centres and their authorizations (e), donors with
// their consent (b), procurements giving each organ a unique identifier,
// per-procedure authorization (g), transplantations, and the trace of every
// organ from donor to recipient and back (h). Each rule lives here; handlers
// and storage only carry its inputs and outputs.
package transplant

import (
	"fmt"
	"time"

	"github.com/custos-project/custos/internal/check"
)

// Organ types the registry records.
var OrganTypes = []string{"kidney", "liver", "heart", "lung", "pancreas", "intestine"}

// Activities a centre can be authorized for.
var Activities = []string{"procurement", "transplantation"}

// Donor kinds.
const (
	DonorBrainDeath       = "deceased_brain_death"
	DonorCirculatoryDeath = "deceased_circulatory_death"
	DonorLiving           = "living"
)

// DonorKinds lists the donor kinds.
var DonorKinds = []string{DonorBrainDeath, DonorCirculatoryDeath, DonorLiving}

// Consent kinds.
const (
	ConsentLiving   = "living_informed_consent"
	ConsentFamily   = "family_authorization"
	ConsentRegistry = "donor_registry_authorization"
)

// ConsentKinds lists the consent kinds.
var ConsentKinds = []string{ConsentLiving, ConsentFamily, ConsentRegistry}

// Value lists of the donor characterisation.
var (
	BloodGroups = []string{"A", "B", "AB", "O"}
	Sexes       = []string{"female", "male", "unknown"}
	YesNo       = []string{"yes", "no", "unknown"}
	TestResults = []string{"negative", "positive", "not_tested"}
)

// RecordsReturned are the answers to whether a foreign centre's medical
// records came back (NewAbroad.MedicalRecords): there is no unknown.
var RecordsReturned = []string{"yes", "no"}

// maxPerDonor is how many organs of a type one donor can give.
var maxPerDonor = map[string]int{"kidney": 2, "lung": 2, "liver": 1, "heart": 1, "pancreas": 1, "intestine": 1}

// livingOrgans are the organs (or their segments) a living donor may give,
// and how many of each.
var livingOrgans = map[string]int{"kidney": 1, "liver": 1, "lung": 1, "pancreas": 1, "intestine": 1}

func isDeceased(kind string) bool { return kind == DonorBrainDeath || kind == DonorCirculatoryDeath }

// DateLayout is how calendar dates are written.
const DateLayout = check.DateLayout

func day(t time.Time) string { return t.UTC().Format(DateLayout) }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func plural(n int, s string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", s)
	}
	return fmt.Sprintf("%d %ss", n, s)
}
