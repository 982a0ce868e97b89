package auth

import "strings"

// BearerToken reads the token of an Authorization header value of the
// Bearer scheme (RFC 6750), whose name is case-insensitive (RFC 9110,
// 11.1): "Bearer T", "bearer T". ok is false for another scheme or no token.
func BearerToken(header string) (token string, ok bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
