package httpapi_test

import (
	"bytes"
	"testing"

	"github.com/custos-project/custos/internal/apptest"
	"github.com/custos-project/custos/internal/storetest"
)

// TestTransplantAliases checks that each path transplant's routes had before
// they moved under /api/v1/transplant/ answers as its new path does: the same
// status and body for every read, the same refusal for every command, and a
// command sent to an old path is recorded as one sent to the new.
func TestTransplantAliases(t *testing.T) {
	w := apptest.NewWorld(t, storetest.SQLite(t))
	donor, organs := procured(t, w)
	recipient := transplanted(t, w, w.CoordA, w.CentreA, organs[0], "kidney")
	aid := w.Must(t, 200, "GET", "/api/v1/transplant/centres/"+w.CentreB+"/authorizations", w.Regulator, nil).
		Body["authorizations"].([]any)[0].(map[string]any)["id"].(string)

	same := func(method, path, token string, body any) {
		t.Helper()
		now := w.Do(t, method, "/api/v1/transplant"+path, token, body)
		old := w.Do(t, method, "/api/v1"+path, token, body)
		if now.Status != old.Status || !bytes.Equal(now.Raw, old.Raw) {
			t.Errorf("%s %s: %d %s\nat the alias: %d %s", method, path, now.Status, truncate(now.Raw), old.Status, truncate(old.Raw))
		}
	}
	// Reads.
	for _, path := range []string{"/centres", "/centres/" + w.CentreA, "/centres/" + w.CentreA + "/authorizations",
		"/donors", "/donors/" + donor, "/recipients", "/recipients/" + recipient, "/organs",
		"/trace/organs/" + organs[0], "/trace/donors/" + donor, "/trace/recipients/" + recipient} {
		same("GET", path, w.Auditor, nil)
	}
	same("GET", "/donors/nobody", w.Auditor, nil)
	// Commands, refused before anything is recorded.
	for _, path := range []string{"/centres", "/centres/" + w.CentreA + "/authorizations", "/centres/" + w.CentreB + "/authorizations/" + aid + "/revoke",
		"/donors", "/donors/" + donor + "/consents", "/recipients", "/personal-data", "/procurements", "/transplant-authorizations", "/transplants"} {
		same("POST", path, w.CoordA, map[string]any{"no_such_field": true})
	}
	// Reading personal data through either path answers the same and logs
	// each read.
	before := logSize(t, w)
	same("POST", "/personal-data", w.CoordA, map[string]any{"id": donor, "purpose": "alias check"})
	if after := logSize(t, w); after != before+2 {
		t.Errorf("two reads of personal data made %d log entries", after-before)
	}
	// A command at an old path is the command.
	old := w.Must(t, 201, "POST", "/api/v1/recipients", w.CoordB, apptest.Recipient(w.CentreB, "kidney"))
	now := w.Must(t, 200, "GET", "/api/v1/transplant/recipients/"+old.Str("id"), w.Auditor, nil)
	if now.Str("recipient.id") != old.Str("id") || now.Str("recipient.centre_id") != w.CentreB {
		t.Errorf("a recipient registered at the alias, read at the new path: %s", now.Raw)
	}
}
