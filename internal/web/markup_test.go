package web

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
	"time"

	"github.com/custos-project/custos/internal/i18n"
)

// TestMessagesWithMarkup renders messages whose arguments are HTML (tag,
// link, when) and text: the markup is kept where the language puts it,
// and everything else (the message, a name with markup in it, a link
// that is not the UI's) is escaped, in English and in French.
func TestMessagesWithMarkup(t *testing.T) {
	cat := i18n.CoreOnly()
	page := `{{t "Refused by rule %s on field %s: %s" (tag "strong" .Rule) (tag "code.id#x" .Field) .Msg}}|` +
		`{{t "Lost it? Revoke this principal on %s and create another." (link .Href (t "People"))}}|` +
		`{{t "Token of %s" .Msg}}|{{tn "%d leaves" 1}}`
	data := map[string]string{"Rule": "enum", "Field": "a<b", "Msg": `<script>alert("x")</script>`, "Href": "javascript:alert(1)"}
	for _, c := range []struct{ code, want string }{
		{"en", `Refused by rule <strong>enum</strong> on field <code class="id" id="x">a&lt;b</code>: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;|` +
			`Lost it? Revoke this principal on <a href="#">People</a> and create another.|` +
			`Token of &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;|1 leaf`},
		{"fr", `Refusé par la règle <strong>enum</strong> sur le champ <code class="id" id="x">a&lt;b</code> : &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;|` +
			`Perdu ? Révoquez ce compte sur <a href="#">Personnes</a> et créez-en un autre.|` +
			`Jeton de &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;|1 feuille`},
	} {
		tmpl := template.Must(template.New("").Funcs(funcs(nil, nil, time.UTC, cat.Localizer(c.code), time.Now)).Parse(page))
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.code, got, c.want)
		}
		if strings.Contains(buf.String(), "<script>") {
			t.Errorf("%s: an argument's markup was written as markup", c.code)
		}
	}
	if got := link("/people", "People"); got != `<a href="/people">People</a>` {
		t.Errorf("a link of the UI: %s", got)
	}
}
