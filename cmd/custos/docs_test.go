package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/custos-project/custos/internal/docstest"
)

// notCommands are words after "custos" in the documentation that do not
// start a command line: what custos prints, a key label, a placeholder.
var notCommands = map[string]string{
	"serving": "the line custos serve prints",
	"pdq":     "the label of a key derivation (custos pdq index file key v1)",
	"COMMAND": "the placeholder of custos COMMAND --help",
}

// TestDocCommands reads every command line the README and docs/ show (in
// code blocks and inline code) and checks that its command exists and
// that each flag it gives is one the command defines, as custos COMMAND
// --help lists them: a newcomer copies these lines, and a renamed flag or
// command must not leave them behind. Nothing is run but --help.
func TestDocCommands(t *testing.T) {
	checked := 0
	for _, d := range docstest.Docs(t) {
		for _, c := range docCommandLines(d.Lines) {
			for _, args := range alternatives(shellWords(c.text)[1:]) {
				if len(args) == 0 || notCommands[args[0]] != "" || strings.HasSuffix(args[0], ":") {
					continue
				}
				checked++
				checkDocCommand(t, d.Name, c.line, args)
			}
		}
	}
	// The docs show well over a hundred command lines: finding few means
	// the reading above broke, not that the docs are right.
	if checked < 150 {
		t.Fatalf("only %d command lines found in README.md and docs/", checked)
	}
}

// checkDocCommand runs the words of args before its first flag with
// --help and checks the command's usage names every flag of args.
func checkDocCommand(t *testing.T, file string, line int, args []string) {
	t.Helper()
	var words, given []string
	for i, a := range args {
		if strings.HasPrefix(a, "-") && a != "-" {
			for _, g := range args[i:] {
				if strings.HasPrefix(g, "-") && g != "-" && g != "--" {
					name, _, _ := strings.Cut(strings.TrimLeft(g, "-"), "=")
					given = append(given, name)
				}
			}
			break
		}
		words = append(words, a)
	}
	var out bytes.Buffer
	code := run(context.Background(), append(words, "--help"), &out, &out)
	where := fmt.Sprintf("%s:%d: custos %s", file, line, strings.Join(args, " "))
	if code != 0 || !strings.Contains(out.String(), "Usage: custos") {
		t.Errorf("%s\n\tcustos %s --help: exit %d: %s", where, strings.Join(words, " "), code, firstLine(out.String()))
		return
	}
	defined := map[string]bool{"help": true, "h": true}
	for _, m := range usageFlag.FindAllStringSubmatch(out.String(), -1) {
		defined[m[1]] = true
	}
	for _, g := range given {
		if !defined[g] {
			t.Errorf("%s\n\tcustos %s defines no flag --%s", where, strings.Join(words, " "), g)
		}
	}
}

var usageFlag = regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`)

type docLine struct {
	line int
	text string
}

var inlineCode = regexp.MustCompile("`([^`]+)`")

// docCommandLines returns the lines of a Markdown text that start a
// custos command: in fenced blocks (a line continued by \ joined to the
// next), and in inline code.
func docCommandLines(lines []string) []docLine {
	var out []docLine
	fenced := false
	cont, contLine := "", 0
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			fenced = !fenced
			continue
		}
		var cands []string
		at := i + 1
		if fenced {
			l := cont + strings.TrimSpace(line)
			if cont != "" {
				at = contLine
			}
			if strings.HasSuffix(l, "\\") {
				if cont == "" {
					contLine = at
				}
				cont = strings.TrimSuffix(l, "\\") + " "
				continue
			}
			cont = ""
			cands = append(cands, l)
		} else {
			for _, m := range inlineCode.FindAllStringSubmatch(line, -1) {
				cands = append(cands, m[1])
			}
		}
		for _, c := range cands {
			c = strings.TrimPrefix(c, "$ ")
			c = strings.TrimPrefix(c, "sudo -u custos ")
			c = strings.Replace(c, "go run ./cmd/custos ", "custos ", 1)
			if strings.HasPrefix(c, "custos ") {
				out = append(out, docLine{at, c})
			}
		}
	}
	return out
}

// shellWords splits a command line as a shell would, enough for the
// docs: quotes kept together, the line cut at a pipe, a redirection, a
// comment or the next command; the brackets of an optional part dropped.
func shellWords(s string) []string {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				w.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	var cmd []string
	for _, word := range words {
		if word == "|" || word == "||" || word == "&&" || word == ";" || word == "&" || word == "#" ||
			strings.HasPrefix(word, ">") || strings.HasPrefix(word, "<") || strings.HasPrefix(word, "2>") {
			break
		}
		cmd = append(cmd, strings.Trim(word, "[]"))
	}
	return cmd
}

// alternatives expands the words of a usage line such as
// "stats mapping|check|import" into one command line a choice.
func alternatives(words []string) [][]string {
	for i, w := range words {
		if !strings.Contains(w, "|") {
			continue
		}
		var out [][]string
		for _, alt := range strings.Split(w, "|") {
			line := append(append(append([]string{}, words[:i]...), alt), words[i+1:]...)
			out = append(out, alternatives(line)...)
		}
		return out
	}
	return [][]string{words}
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}
