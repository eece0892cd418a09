package form

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// MaxReturnToLen bounds a return_to value.
const MaxReturnToLen = 2048

// ErrReturnTo is returned (wrapped) for a return_to value that is not
// honoured: Snapdesk never redirects anywhere it was not told to trust.
var ErrReturnTo = errors.New("form: return_to refused")

// hostPattern is an allowlist entry or a URL's authority: a DNS name or
// IPv4 address, lower case, and an optional port. No userinfo, no
// percent-encoding, no IPv6 literal, no trailing dot.
var hostPattern = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$`)

// ReturnPolicy decides which return_to values are honoured: same-origin
// paths, and absolute https URLs to hosts on a configured allowlist (the
// internal portals that deep-link into Snapdesk).
type ReturnPolicy struct {
	hosts map[string]bool
}

// NewReturnPolicy builds a policy from allowlisted hosts, each a host name
// with an optional port ("portal.example.com", "portal.example.com:8443").
// A host without a port allows the https default port 443 only. Entries
// are case-insensitive; an entry with a scheme, path or userinfo is an error.
func NewReturnPolicy(hosts []string) (ReturnPolicy, error) {
	p := ReturnPolicy{hosts: make(map[string]bool, len(hosts))}
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" {
			continue
		}
		if !hostPattern.MatchString(h) {
			return ReturnPolicy{}, fmt.Errorf("form: return_to allowlist: %q is not a host name with an optional port", h)
		}
		p.hosts[strings.TrimSuffix(h, ":443")] = true
	}
	return p, nil
}

// Check returns the URL to send the user back to, or an error wrapping
// ErrReturnTo when raw must not be honoured. An empty raw gives "", nil.
//
// Honoured: a same-origin path that starts with exactly one '/', and an
// absolute https URL whose host (and port) is on the allowlist. Refused:
// scheme-relative URLs ("//evil", "/\evil"), any backslash, whitespace or
// control character (browsers strip or reinterpret them), non-ASCII,
// userinfo ("https://portal@evil"), other schemes (javascript:, data:,
// http:), percent-encoded or IPv6 hosts, and dot segments in a path.
func (p ReturnPolicy) Check(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	if len(raw) > MaxReturnToLen {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrReturnTo, MaxReturnToLen)
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || c == '\\' {
			return "", fmt.Errorf("%w: contains a space, backslash, control or non-ASCII character", ErrReturnTo)
		}
	}
	if raw[0] == '/' {
		return checkPath(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrReturnTo, err)
	}
	if u.Scheme != "https" || !strings.HasPrefix(strings.ToLower(raw), "https://") {
		return "", fmt.Errorf("%w: only https URLs and same-site paths are allowed", ErrReturnTo)
	}
	// The authority exactly as written: the text between "//" and the
	// first '/', '?' or '#'.
	authority := raw[len("https://"):]
	if i := strings.IndexAny(authority, "/?#"); i >= 0 {
		authority = authority[:i]
	}
	authority = strings.ToLower(authority)
	if u.User != nil || u.Opaque != "" || !hostPattern.MatchString(authority) || authority != strings.ToLower(u.Host) {
		return "", fmt.Errorf("%w: unusable host %q", ErrReturnTo, authority)
	}
	if !p.hosts[strings.TrimSuffix(authority, ":443")] {
		return "", fmt.Errorf("%w: host %q is not on the allowlist", ErrReturnTo, u.Host)
	}
	if hasDotSegment(u.EscapedPath()) {
		return "", fmt.Errorf("%w: path has dot segments", ErrReturnTo)
	}
	return raw, nil
}

// Allows reports whether raw would be honoured.
func (p ReturnPolicy) Allows(raw string) bool {
	s, err := p.Check(raw)
	return err == nil && s != ""
}

func checkPath(raw string) (string, error) {
	if len(raw) > 1 && raw[1] == '/' {
		return "", fmt.Errorf("%w: %q is scheme-relative", ErrReturnTo, raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrReturnTo, err)
	}
	if u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.EscapedPath(), "/") {
		return "", fmt.Errorf("%w: %q is not a plain path", ErrReturnTo, raw)
	}
	if hasDotSegment(u.EscapedPath()) {
		return "", fmt.Errorf("%w: path has dot segments", ErrReturnTo)
	}
	return raw, nil
}

// hasDotSegment reports whether an escaped path has a "." or ".." segment,
// written plainly or percent-encoded.
func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		s := strings.ToLower(strings.ReplaceAll(strings.ToLower(seg), "%2e", "."))
		if s == "." || s == ".." {
			return true
		}
	}
	return false
}
