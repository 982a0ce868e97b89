// Package transplant is the organ donation and transplantation registry of
// resolution VI, paragraph 6: centres and their authorizations (e), donors with
// their consent (b), procurements giving each organ a unique identifier,
// per-procedure authorization (g), transplantations, and the trace of every
// organ from donor to recipient and back (h). Each rule lives here; handlers
// and storage only carry its inputs and outputs.
package transplant

import (
	"fmt"
	"strings"
	"time"

	"github.com/custos-project/custos/internal/errs"
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

// maxPerDonor is how many organs of a type one donor can give.
var maxPerDonor = map[string]int{"kidney": 2, "lung": 2, "liver": 1, "heart": 1, "pancreas": 1, "intestine": 1}

// livingOrgans are the organs (or their segments) a living donor may give,
// and how many of each.
var livingOrgans = map[string]int{"kidney": 1, "liver": 1, "lung": 1, "pancreas": 1, "intestine": 1}

func oneOf(rule, field, v string, allowed []string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return errs.Invalidf(rule, field, "%s must be one of %s", field, strings.Join(allowed, ", "))
}

func isDeceased(kind string) bool { return kind == DonorBrainDeath || kind == DonorCirculatoryDeath }

// DateLayout is how calendar dates are written.
const DateLayout = "2006-01-02"

func parseDate(field, s string, required bool) (string, error) {
	if s == "" {
		if required {
			return "", errs.Invalidf("required", field, "%s is required (YYYY-MM-DD)", field)
		}
		return "", nil
	}
	t, err := time.Parse(DateLayout, s)
	if err != nil {
		return "", errs.Invalidf("date_format", field, "%s must be a date written YYYY-MM-DD", field)
	}
	if t.Year() < 1900 {
		return "", errs.Invalidf("date_range", field, "%s is before 1900", field)
	}
	return t.Format(DateLayout), nil
}

// parseTime reads an RFC 3339 timestamp and returns it in the ledger's layout.
func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, errs.Invalidf("required", field, "%s is required (RFC 3339, e.g. 2026-03-01T14:30:00Z)", field)
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errs.Invalidf("time_format", field, "%s must be an RFC 3339 time such as 2026-03-01T14:30:00Z", field)
	}
	if t.Year() < 1900 {
		return time.Time{}, errs.Invalidf("date_range", field, "%s is before 1900", field)
	}
	return t.UTC(), nil
}

func text(field, s string, max int, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" && required {
		return "", errs.Invalidf("required", field, "%s is required", field)
	}
	if len(s) > max {
		return "", errs.Invalidf("too_long", field, "%s is at most %d characters", field, max)
	}
	for _, r := range s {
		if r < 0x20 && r != '\n' && r != '\t' {
			return "", errs.Invalidf("control_character", field, "%s contains a control character", field)
		}
	}
	return s, nil
}

// notFuture refuses a time later than now, with a few minutes' grace for
// clocks that disagree.
func notFuture(field string, t, now time.Time) error {
	if t.After(now.Add(5 * time.Minute)) {
		return errs.Invalidf("dates_in_order", field, "%s (%s) is in the future", field, t.Format(time.RFC3339))
	}
	return nil
}

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
