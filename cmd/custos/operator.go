package main

import (
	"os/user"
	"strings"
	"unicode"

	"github.com/custos-project/custos/internal/auth"
)

// hostOperator is the principal a command acts as when it is run on the
// server host without a token: an operator with the role the command needs,
// for the authority given ("" for none). The log records it as "cli:" and
// the operating-system account that ran the command, so that an auditor can
// tell which operator exported or changed what; as "cli" alone where the
// account cannot be told.
func hostOperator(role auth.Role, authority string) *auth.Principal {
	id := "cli"
	if u, err := user.Current(); err == nil {
		if name := accountName(u.Username); name != "" {
			id += ":" + name
		}
	}
	return &auth.Principal{ID: id, Name: "operator", Role: role, AuthorityID: authority}
}

// accountName is an account's name as the log keeps it: its printable
// characters, at most 64.
func accountName(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) && !unicode.IsSpace(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	return s
}
