package main

import (
	"os"
	"os/user"
	"strings"
	"unicode"

	"github.com/custos-project/custos/internal/auth"
)

// hostOperator is the principal a command acts as when it is run on the
// server host without a token: an operator with the role the command needs,
// for the authority given ("" for none). The log records it as operatorID
// names the account that ran the command, so that an auditor can tell which
// operator exported or changed what.
func hostOperator(role auth.Role, authority string) *auth.Principal {
	account := ""
	if u, err := user.Current(); err == nil {
		account = u.Username
	}
	return &auth.Principal{ID: operatorID(account, os.Getenv("SUDO_USER")), Name: "operator", Role: role, AuthorityID: authority}
}

// operatorID is how the log names the operator on the server host: "cli:"
// and the operating-system account that ran the command ("cli" alone where
// the account cannot be told), then, when sudo ran it for another account
// (sudo sets SUDO_USER to the person who invoked it), that person:
// "cli:custos (sudo alice)". Commands are run as custos's own account, which
// alone may read the database and the key file; without the sudo part
// every operator's entries would read "cli:custos". SUDO_USER is what sudo
// says; whoever runs custos as its account without sudo could set it to
// anything, as they could the rest of the environment.
func operatorID(account, sudoUser string) string {
	id := "cli"
	name := accountName(account)
	if name != "" {
		id += ":" + name
	}
	if by := accountName(sudoUser); by != "" && by != name {
		id += " (sudo " + by + ")"
	}
	return id
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
