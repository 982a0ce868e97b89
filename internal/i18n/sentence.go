package i18n

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/custos-project/custos/internal/errs"
)

// A sentence is a message with arguments read back from its English text:
// an alert keeps the sentence of the refusal that raised it as English text
// (the log's evidence, written once), without the message and arguments that
// made it, so its page finds them again (Localizer.Sentence).
type sentence struct {
	id      string         // the message's ID, its English format
	literal string         // its longest run of text without a verb, to skip a text quickly
	re      *regexp.Regexp // the format with each verb a group
	verbs   []byte         // each group's verb: 's', 'v', 'q' or 'd'
	size    int            // how much of the format is text, to try the most specific first
}

// minSentenceText is the least text, verbs left out, of a format that
// Sentence reads back: a format such as "%s: %s" would match anything.
const minSentenceText = 12

// sentences returns the English messages with arguments that can be read
// back from their text, most specific first: not plural, and with the verbs
// %s, %v, %q and %d alone (a width, a precision or an index is skipped).
func sentences(english map[string]Entry) []sentence {
	var out []sentence
	for id, e := range english {
		if e.Plural() || !strings.Contains(id, "%") {
			continue
		}
		if s, ok := readable(id); ok {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].size != out[j].size {
			return out[i].size > out[j].size
		}
		return out[i].id < out[j].id
	})
	return out
}

// readable returns the sentence of format, and whether it can be read back.
func readable(format string) (sentence, bool) {
	s := sentence{id: format}
	var re, text strings.Builder
	re.WriteString("^")
	flush := func() {
		if text.Len() > len(s.literal) {
			s.literal = text.String()
		}
		s.size += text.Len()
		re.WriteString(regexp.QuoteMeta(text.String()))
		text.Reset()
	}
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			text.WriteByte(format[i])
			continue
		}
		if i+1 == len(format) {
			return s, false
		}
		i++
		switch v := format[i]; v {
		case '%':
			text.WriteByte('%')
		case 's', 'v':
			flush()
			re.WriteString("(.*?)")
			s.verbs = append(s.verbs, v)
		case 'q':
			flush()
			re.WriteString(`("(?:[^"\\]|\\.)*")`)
			s.verbs = append(s.verbs, v)
		case 'd':
			flush()
			re.WriteString(`(-?[0-9]+)`)
			s.verbs = append(s.verbs, v)
		default:
			return s, false
		}
	}
	flush()
	re.WriteString("$")
	if len(s.verbs) == 0 || s.size < minSentenceText {
		return s, false
	}
	s.re = regexp.MustCompile("(?s)" + re.String())
	return s, true
}

// read returns the arguments that fill the sentence's format to make text,
// and whether they do.
func (s *sentence) read(text string) ([]any, bool) {
	if !strings.Contains(text, s.literal) {
		return nil, false
	}
	m := s.re.FindStringSubmatch(text)
	if m == nil {
		return nil, false
	}
	args := make([]any, len(s.verbs))
	for i, v := range s.verbs {
		switch v {
		case 'q':
			u, err := strconv.Unquote(m[i+1])
			if err != nil {
				return nil, false
			}
			args[i] = u
		case 'd':
			n, err := strconv.Atoi(m[i+1])
			if err != nil {
				return nil, false
			}
			args[i] = n
		default:
			args[i] = m[i+1]
		}
	}
	// The same text again, or the arguments were not the ones that made it.
	if fmt.Sprintf(s.id, args...) != text {
		return nil, false
	}
	return args, true
}

// Sentence reads back an English text that a message of the catalogue
// made, its format filled with arguments: it returns the message's ID and
// the arguments, each argument that is itself a message (an organ,
// "unknown") as an errs.Text, so that T writes the text again in any
// language, those arguments included. The formats are tried the most
// specific first, and one is taken only if it writes the very same text
// with what was read. A text that is a message without arguments is its
// own ID; one that no message made is not read (false). It is for texts
// kept as English sentences, an alert's message: a refusal at hand is
// written with Localizer.Error, from its own format and arguments.
func (c *Catalogue) Sentence(text string) (id string, args []any, ok bool) {
	if c.Has(text) {
		return text, nil, true
	}
	c.sentencesOnce.Do(func() { c.sentences = sentences(c.msgs[Default]) })
	for i := range c.sentences {
		s := &c.sentences[i]
		args, ok := s.read(text)
		if !ok {
			continue
		}
		for j, a := range args {
			if v, isText := a.(string); isText && c.Has(v) && !strings.Contains(v, "%") {
				args[j] = errs.Text(v)
			}
		}
		return s.id, args, true
	}
	return "", nil, false
}
