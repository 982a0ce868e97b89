package exchange

import (
	"crypto/ed25519"
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/custos-project/custos/internal/errs"
)

func testKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed([]byte(strings.Repeat(string(rune('a'+b)), ed25519.SeedSize)))
}

func sealed(t testing.TB) []byte {
	env, err := Seal(&Message{V: Version, ID: "XM-1", From: "XA", To: "XB", Module: "core", Type: "core.notice", Purpose: "vigilance",
		LegalBasis: "agreement", Notice: "none", Readers: []string{"regulator"}, SentAt: "2026-01-01T00:00:00.000000Z",
		Payload: json.RawMessage(`{"subject":"s","text":"t"}`)}, testKey(0))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEnvelopeSignature: a sealed message verifies with its key, and not
// with another key, nor once a byte of it changed, nor as a receipt.
func TestEnvelopeSignature(t *testing.T) {
	env, err := ParseEnvelope(sealed(t))
	if err != nil {
		t.Fatal(err)
	}
	pub := testKey(0).Public().(ed25519.PublicKey)
	if err := env.Verify(pub); err != nil {
		t.Fatalf("a sealed message does not verify: %v", err)
	}
	if env.Key != Fingerprint(pub) {
		t.Fatalf("key %s, want the fingerprint %s", env.Key, Fingerprint(pub))
	}
	if err := env.Verify(testKey(1).Public().(ed25519.PublicKey)); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("another key: %v", err)
	}
	tampered := *env
	tampered.Message = strings.Replace(env.Message, "vigilance", "vigilancf", 1)
	if err := tampered.Verify(pub); err == nil {
		t.Fatal("a changed message verifies")
	}
	asReceipt := SignedReceipt{Receipt: env.Message, Key: env.Key, Signature: env.Signature}
	if err := asReceipt.Verify(pub); err == nil {
		t.Fatal("a message's signature verifies as a receipt's")
	}
}

// TestParseRefusals: what the inbox refuses before it looks for the sender,
// each with its rule and field.
func TestParseRefusals(t *testing.T) {
	good := string(sealed(t))
	for _, c := range []struct{ body, rule, field string }{
		{`{`, "malformed", "envelope"},
		{`{"message":"{}","key":"k","signature":"x","extra":1}`, "malformed", "envelope"},
		{`{"message":"[]","key":"SHA256:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000","signature":"x"}`, "malformed", "message"},
		{strings.Replace(good, `"key":"SHA256:`, `"key":"MD5:`, 1), "malformed", "key"},
		{`{"message":"{}","key":"SHA256:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000","signature":"AAAA"}`, "malformed", "signature"},
		{good + " {}", "malformed", "envelope"},
		{strings.Repeat(" ", MaxMessage+1), "too_large", "message"},
	} {
		_, err := ParseEnvelope([]byte(c.body))
		e, ok := errs.As(err)
		if !ok || e.Rule != c.rule || e.Field != c.field {
			t.Errorf("%.60s: %v, want rule %s field %s", c.body, err, c.rule, c.field)
		}
	}
	for _, c := range []struct{ msg, rule, field string }{
		{`{"v":2}`, "version", "v"},
		{`{"v":1,"id":"x","from":"xa","to":"XB"}`, "jurisdiction", "from"},
		{`{"v":1,"id":"a b","from":"XA","to":"XB"}`, "id", "id"},
		{`{"v":1,"id":"a","from":"XA","to":"XB","purpose":"Vigilance"}`, "purpose", "purpose"},
		{`{"v":1,"id":"a","from":"XA","to":"XB","purpose":"v","module":"core","type":"other.notice"}`, "type", "type"},
		{`{"v":1,"id":"a","from":"XA","to":"XB","purpose":"v","module":"core","type":"core.notice","payload":[1]}`, "schema", "payload"},
		{`{"v":1,"id":"a","from":"XA","to":"XB","purpose":"v","module":"core","type":"core.notice","payload":{},"readers":["A B"]}`, "readers", "readers[0]"},
		{`{"v":1,"unknown":true}`, "malformed", "message"},
	} {
		_, err := ParseMessage(c.msg)
		e, ok := errs.As(err)
		if !ok || e.Rule != c.rule || e.Field != c.field {
			t.Errorf("%s: %v, want rule %s field %s", c.msg, err, c.rule, c.field)
		}
	}
}

// TestParseStrict: a message, an envelope and a receipt are read as their
// sender's custos writes them. encoding/json took a key in another case for
// the field ("FROM", "ſ" for s) and kept the last of a key given twice, the
// payload's included, each silently; each is refused now (rule malformed,
// as any envelope that does not read), the reason naming the rule and the
// path.
func TestParseStrict(t *testing.T) {
	msg := `{"v":1,"id":"a","from":"XA","to":"XB","purpose":"v","module":"core","type":"core.notice","payload":{"subject":"s","text":"t"},"readers":["regulator"]}`
	if _, err := ParseMessage(msg); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, msg, has string }{
		{"a field in capitals", strings.Replace(msg, `"from"`, `"FROM"`, 1), `unknown_field: the field "FROM" is not part of this document: names are written as documented, here "from" (field FROM)`},
		{"a field with the long s", strings.Replace(msg, `"purpose"`, `"purpoſe"`, 1), `here "purpose"`},
		{"a field twice", strings.Replace(msg, `"to":"XB"`, `"to":"XB","to":"XC"`, 1), `duplicate_key: the key "to" is given twice in one object (field to)`},
		{"a payload key twice", strings.Replace(msg, `"text":"t"`, `"text":"t","text":"u"`, 1), `duplicate_key: the key "text" is given twice in one object (field payload.text)`},
		{"a payload not UTF-8", strings.Replace(msg, `"text":"t"`, "\"text\":\"t\xff\"", 1), `utf8: the document is not valid UTF-8`},
		{"something after", msg + ` {}`, `nothing after it`},
	} {
		_, err := ParseMessage(c.msg)
		if e, ok := errs.As(err); !ok || e.Rule != "malformed" || e.Field != "message" || !strings.Contains(e.Message, c.has) {
			t.Errorf("%s: %v, want a refusal of the message with %q", c.name, err, c.has)
		}
	}
	good := string(sealed(t))
	_, err := ParseEnvelope([]byte(strings.Replace(good, `"key":`, `"Key":`, 1)))
	if e, ok := errs.As(err); !ok || e.Rule != "malformed" || e.Field != "envelope" || !strings.Contains(e.Message, `here "key"`) {
		t.Errorf("an envelope's key in another case: %v", err)
	}
	_, err = ParseEnvelope([]byte(strings.Replace(good, `"key":`, `"signature":"","key":`, 1)))
	if e, ok := errs.As(err); !ok || e.Rule != "malformed" || e.Field != "envelope" || !strings.Contains(e.Message, `the key "signature" is given twice`) {
		t.Errorf("an envelope's signature twice: %v", err)
	}
	receipt := `{"v":1,"message_id":"a","message_sha256":"x","from":"XB","to":"XA","outcome":"received","at":"2026-01-01T00:00:00Z"}`
	if _, err := ParseReceipt(receipt); err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{strings.Replace(receipt, `"outcome"`, `"Outcome"`, 1), strings.Replace(receipt, `"outcome":"received"`, `"outcome":"refused","outcome":"received"`, 1)} {
		if e, ok := errs.As(mustErr(ParseReceipt(r))); !ok || e.Rule != "malformed" || e.Field != "receipt" || !strings.Contains(e.Message, "outcome") {
			t.Errorf("%s: %v", r, e)
		}
	}
}

func mustErr[T any](_ T, err error) error { return err }

// TestNoticeSchema: the core's notice type refuses a payload without its
// text or with a field it does not declare, naming where.
func TestNoticeSchema(t *testing.T) {
	ts, err := NewTypes(map[string][]Type{"core": {Notice}})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Check("core", "core.notice", []byte(`{"subject":"s","text":"t","reference":"r"}`)); err != nil {
		t.Fatal(err)
	}
	for payload, field := range map[string]string{`{"subject":"s"}`: "payload.text", `{"subject":"s","text":""}`: "payload.text", `{"subject":"s","text":"t","x":1}`: "payload.x", `[1]`: "payload"} {
		e, ok := errs.As(ts.Check("core", "core.notice", []byte(payload)))
		if !ok || e.Rule != "schema" || e.Field != field {
			t.Errorf("%s: %v, want schema at %s", payload, e, field)
		}
	}
	if _, err := NewTypes(map[string][]Type{"core": {{Name: "other.x", Schema: "{}"}}}); err == nil {
		t.Error("a type named outside its module is accepted")
	}
}

// FuzzParseEnvelope feeds the inbox's parser what a peer (or anyone) may
// send: it never panics, and what it accepts reads back the same.
func FuzzParseEnvelope(f *testing.F) {
	f.Add(sealed(f))
	f.Add([]byte(`{"message":"{\"v\":1}","key":"SHA256:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000","signature":""}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"message":"{\"v\":1,\"id\":\"a\",\"from\":\"XA\",\"to\":\"XB\",\"purpose\":\"v\",\"module\":\"core\",\"type\":\"core.notice\",\"payload\":{\"SUBJECT\":\"s\",\"text\":\"t\"},\"readers\":[\"regulator\"]}","key":"SHA256:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000","signature":""}`))
	f.Add([]byte(`{"message":"{\"v\":1,\"V\":2}","key":"SHA256:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000","signature":""}`))
	f.Add([]byte(`{"message":"{\"v\":1,\"payload\":{\"a\":1,\"a\":2}}","key":"SHA256:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0000","signature":"","key":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := ParseEnvelope(b)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("a refusal that is not an errs error: %v", err)
			}
			return
		}
		_ = env.Verify(testKey(0).Public().(ed25519.PublicKey))
		m, err := ParseMessage(env.Message)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				t.Fatalf("a refusal that is not an errs error: %v", err)
			}
			return
		}
		if !jsontext.Value(env.Message).IsValid() {
			t.Fatalf("accepted a message with a key twice or bytes that are not UTF-8: %q", env.Message)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseMessage(string(again)); err != nil {
			t.Fatalf("a message accepted does not read back: %v\n%s", err, again)
		}
		// A module reads the payload into its struct: a refusal is rule
		// schema at the payload; what is taken names no key but a field's.
		var p struct {
			Subject string `json:"subject"`
			Text    string `json:"text"`
		}
		if err := inbound("P", m).DecodePayload(&p); err != nil {
			if e, ok := errs.As(err); !ok || e.Rule != "schema" || !strings.HasPrefix(e.Field, "payload") {
				t.Fatalf("a payload refused otherwise than by rule schema at the payload: %v", err)
			}
		} else if !strings.Contains(string(m.Payload), `"subject"`) && p.Subject != "" {
			t.Fatalf("a subject read from a payload without the key %q: %s", "subject", m.Payload)
		}
	})
}

// TestDecodePayload: a module reads a payload as its sender wrote it.
// encoding/json, which the modules used, took a key in another case
// ("ORGAN_ID", "ſex") for the field, and kept the last of a key given
// twice, silently; each is refused now with rule schema at the field.
func TestDecodePayload(t *testing.T) {
	type donor struct {
		Sex string `json:"sex"`
	}
	type payload struct {
		OrganID string `json:"organ_id"`
		Donor   donor  `json:"donor"`
	}
	in := func(p string) *Inbound { return &Inbound{Type: "transplant.organ_outcome", Payload: []byte(p)} }
	var p payload
	if err := in(`{"organ_id":"O-1","donor":{"sex":"female"}}`).DecodePayload(&p); err != nil || p.OrganID != "O-1" || p.Donor.Sex != "female" {
		t.Fatalf("%+v, %v", p, err)
	}
	for _, c := range []struct{ name, payload, field, has string }{
		{"a key in capitals", `{"ORGAN_ID":"O-2","donor":{"sex":"female"}}`, "payload.ORGAN_ID", `unknown_field: the field "ORGAN_ID" is not part of this document: names are written as documented, here "organ_id"`},
		{"a nested key with the long s", `{"organ_id":"O-1","donor":{"ſex":"male"}}`, "payload.donor.ſex", `here "sex"`},
		{"a key twice", `{"organ_id":"O-1","organ_id":"O-2","donor":{"sex":"female"}}`, "payload.organ_id", `duplicate_key: the key "organ_id" is given twice`},
		{"not JSON", `{"organ_id":`, "payload", "payload is not valid JSON"},
	} {
		var p payload
		err := in(c.payload).DecodePayload(&p)
		if e, ok := errs.As(err); !ok || e.Rule != "schema" || e.Field != c.field || !strings.Contains(e.Message, c.has) {
			t.Errorf("%s: %v, want rule schema at %s with %q", c.name, err, c.field, c.has)
		}
	}
}
