package transplant

import (
	"net/url"
	"slices"
	"testing"

	"github.com/custos-project/custos/internal/auth"
	"github.com/custos-project/custos/internal/errs"
)

// FuzzExportQuery reads any query string as an export's: it is refused with
// a registry error or accepted with a format of csv or xlsx, columns, and a
// filter that holds only the list's own filters.
func FuzzExportQuery(f *testing.F) {
	for _, s := range []string{"format=csv", "format=xlsx&centre_id=TC-1&blood_group=O", "format=pdf", "format=csv&limit=3",
		"format=csv&format=xlsx", "format=csv&from=2025-01-01&to=2024-01-01", "format=csv&organ=kidney&status=waiting", "%zz", "format=csv&id=",
		"format=xlsx&cursor=abc"} {
		f.Add(s, uint8(0))
		f.Add(s, uint8(3))
	}
	s := &Service{}
	regulator := &auth.Principal{ID: "PR-1", Role: auth.Regulator}
	f.Fuzz(func(t *testing.T, raw string, which uint8) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		list := Exports[int(which)%len(Exports)]
		req, err := s.Export(regulator, list, q)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("%q: not a registry error: %v", raw, err)
			}
			return
		}
		if (req.Format != "csv" && req.Format != "xlsx") || len(req.Columns) == 0 || req.Rows == nil || req.List != list {
			t.Fatalf("%q: accepted as %+v", raw, req)
		}
		filters := map[string][]string{ListDonors: DonorFilters, ListRecipients: RecipientFilters, ListOrgans: OrganFilters,
			ListAuthorizations: AuthorizationFilters, ListAwaitingDisposition: OrganFilters, ListSAEs: SAEFilters,
			ListNotifications: NotificationFilters}[list]
		for name := range req.Filter {
			if !slices.Contains(filters, name) {
				t.Fatalf("%q: the filter keeps %s", raw, name)
			}
		}
	})
}
