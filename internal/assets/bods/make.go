package bods

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// Builder writes valid BODS 0.4 statements for synthetic data (tests, the
// demo, benchmarks): deterministic statement ids from a prefix and a
// counter, one declaration subject, one publisher and date.
type Builder struct {
	Prefix    string // makes statement ids unique across builders
	Date      string // statementDate and publicationDate, YYYY-MM-DD
	Publisher string
	Subject   string // declarationSubject
	n         int
}

func (b *Builder) id() string {
	b.n++
	sum := sha256.Sum256([]byte(b.Prefix + "/" + strconv.Itoa(b.n)))
	return hex.EncodeToString(sum[:16])
}

func (b *Builder) statement(recordID, recordType, status string, details any) []byte {
	subject := b.Subject
	if subject == "" {
		subject = recordID
	}
	if status == "" {
		status = StatusNew
	}
	out, err := json.Marshal(map[string]any{
		"statementId":        b.id(),
		"declarationSubject": subject,
		"statementDate":      b.Date,
		"publicationDetails": map[string]any{"publicationDate": b.Date, "bodsVersion": "0.4", "publisher": map[string]any{"name": b.Publisher}},
		"recordId":           recordID,
		"recordType":         recordType,
		"recordStatus":       status,
		"recordDetails":      details,
	})
	if err != nil {
		panic(err)
	}
	return out
}

// Entity is a registered entity's statement.
func (b *Builder) Entity(recordID, name, jurisdiction, status string) []byte {
	d := map[string]any{"isComponent": false, "entityType": map[string]any{"type": "registeredEntity"}, "name": name}
	if jurisdiction != "" {
		d["jurisdiction"] = map[string]any{"code": jurisdiction, "name": jurisdiction}
	}
	return b.statement(recordID, Entity, status, d)
}

// Person is a known person's statement.
func (b *Builder) Person(recordID, fullName, status string) []byte {
	return b.statement(recordID, Person, status, map[string]any{
		"isComponent": false, "personType": "knownPerson", "names": []any{map[string]any{"fullName": fullName, "type": "legal"}},
	})
}

// Relationship is a shareholding of party in subject; share is nil
// (no share given), [exact] or [minimum, maximum].
func (b *Builder) Relationship(recordID, subject, party string, share []float64, status string) []byte {
	in := map[string]any{"type": "shareholding", "directOrIndirect": "direct", "beneficialOwnershipOrControl": false}
	switch len(share) {
	case 1:
		in["share"] = map[string]any{"exact": share[0]}
	case 2:
		in["share"] = map[string]any{"minimum": share[0], "maximum": share[1]}
	default:
		in["type"] = "otherInfluenceOrControl"
	}
	return b.statement(recordID, Relationship, status, map[string]any{
		"isComponent": false, "subject": subject, "interestedParty": party, "interests": []any{in},
	})
}
