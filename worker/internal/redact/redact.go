// Package redact keeps credentials that travel inside URLs out of the worker's
// logs and out of the messages it sends the backend. Presigned S3 URLs carry
// their credentials in the query string (X-Amz-Credential, X-Amz-Signature,
// X-Amz-Security-Token), and net/http errors quote the full URL they failed on
// (`Get "https://...?X-Amz-Signature=...": dial tcp ...`), so every string the
// worker logs goes through Text.
package redact

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Mark replaces what was removed.
const Mark = "REDACTED"

// urlPattern finds absolute URLs in free text; it stops at whitespace and at
// the quotes and brackets that error messages put around a URL.
var urlPattern = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'<>`]+")

// URL returns u with its query string and fragment replaced by Mark and any
// user:password in it replaced too; scheme, host and path stay for debugging.
func URL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return cutQuery(u)
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		authority = Mark + "@" + authority[at+1:]
	}
	return scheme + "://" + authority + cutQuery(tail)
}

func cutQuery(s string) string {
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		return s[:i] + "?" + Mark
	}
	return s
}

// Text redacts every URL inside s (an error message, a log line).
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlPattern.ReplaceAllStringFunc(s, URL)
}

// ReplaceAttr is a slog.HandlerOptions.ReplaceAttr that runs Text over every
// string, error and Stringer value, the message included, so no log call can
// forget to.
func ReplaceAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "://") {
			a.Value = slog.StringValue(Text(s))
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			a.Value = slog.StringValue(Text(v.Error()))
		case fmt.Stringer:
			a.Value = slog.StringValue(Text(v.String()))
		}
	}
	return a
}
