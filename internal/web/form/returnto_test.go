package form

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

var allowlist = []string{"portal.example.com", "ops.example.com:8443", "Tools.Example.org"}

func policy(t testing.TB) ReturnPolicy {
	t.Helper()
	p, err := NewReturnPolicy(allowlist)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReturnToAllowed(t *testing.T) {
	p := policy(t)
	for _, s := range []string{
		"/",
		"/jobs/" + jobID,
		"/projects/" + groupID + "?tab=clusters#snapshots",
		"/a%2F/b",
		"https://portal.example.com",
		"https://portal.example.com/",
		"https://portal.example.com/backups?team=payments&x=%20y#top",
		"https://PORTAL.example.com/x",
		"HTTPS://portal.example.com/x",
		"https://portal.example.com:443/x",
		"https://ops.example.com:8443/x",
		"https://tools.example.org/x",
	} {
		got, err := p.Check(s)
		if err != nil || got != s {
			t.Errorf("Check(%q) = %q, %v; want it honoured unchanged", s, got, err)
		}
	}
	if got, err := p.Check(""); got != "" || err != nil {
		t.Errorf("Check(\"\") = %q, %v; want nothing and no error", got, err)
	}
}

func TestReturnToRefused(t *testing.T) {
	p := policy(t)
	for _, s := range []string{
		"//evil.example",
		"//evil.example/path",
		"///evil.example",
		`/\evil.example`,
		`\\evil.example`,
		`\/evil.example`,
		"/\t/evil.example",
		"/\n/evil.example",
		" /x",
		"/x y",
		"/ü",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:x",
		"http://portal.example.com/x",
		"https:portal.example.com",
		"https:/portal.example.com",
		"https:///portal.example.com",
		"https://evil.example",
		"https://portal.example.com.evil.example/",
		"https://evil.example/portal.example.com",
		"https://evil.example?https://portal.example.com",
		"https://portal.example.com@evil.example/",
		"https://user:pw@portal.example.com/",
		"https://evil.example#@portal.example.com",
		`https://evil.example\@portal.example.com`,
		"https://portal%2eexample.com/",
		"https://portal.example.com%2f@evil.example/",
		"https://portal.example.com./",
		"https://portal.example.com:8443/",
		"https://ops.example.com/",
		"https://[::1]/",
		"https://127.0.0.1/",
		"https://portal.example.com/../x",
		"/a/../b",
		"/a/%2e%2e/b",
		"portal.example.com/x",
		"x",
		"?next=/",
		"#x",
		"/" + strings.Repeat("a", MaxReturnToLen),
	} {
		got, err := p.Check(s)
		if err == nil || got != "" {
			t.Errorf("Check(%q) = %q, %v; want refused", s, got, err)
			continue
		}
		if !errors.Is(err, ErrReturnTo) {
			t.Errorf("Check(%q) error %v does not wrap ErrReturnTo", s, err)
		}
		if p.Allows(s) {
			t.Errorf("Allows(%q) = true", s)
		}
	}
}

func TestNewReturnPolicyRefusesBadEntries(t *testing.T) {
	for _, h := range []string{"https://portal.example.com", "portal.example.com/x", "user@portal.example.com", "*.example.com", "portal example"} {
		if _, err := NewReturnPolicy([]string{h}); err == nil {
			t.Errorf("NewReturnPolicy(%q) accepted", h)
		}
	}
	p, err := NewReturnPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.Allows("https://portal.example.com/") || !p.Allows("/jobs") {
		t.Error("an empty allowlist should allow same-origin paths only")
	}
}

// FuzzReturnTo: whatever the input, Check never returns a URL that leads
// a browser to a host outside the allowlist. Resolution is checked with
// Go's parser after Check has refused everything browsers read differently
// (backslashes, whitespace, control and non-ASCII characters).
func FuzzReturnTo(f *testing.F) {
	for _, s := range []string{
		"/", "/jobs", "//evil", `/\evil`, "https://portal.example.com/x", "https://evil.example",
		"https://portal.example.com@evil.example", "javascript:alert(1)", "https://ops.example.com:8443/",
		"/%2e%2e/", "https:portal.example.com", "HTTPS://PORTAL.EXAMPLE.COM", "/\t/evil",
	} {
		f.Add(s)
	}
	p := policy(f)
	allowed := map[string]bool{"portal.example.com": true, "ops.example.com:8443": true, "tools.example.org": true}
	base, _ := url.Parse("https://snapdesk.internal/projects/x")
	f.Fuzz(func(t *testing.T, raw string) {
		got, err := p.Check(raw)
		if err != nil {
			if got != "" {
				t.Fatalf("Check(%q) returned %q with error %v", raw, got, err)
			}
			return
		}
		if got == "" {
			if raw != "" {
				t.Fatalf("Check(%q) = \"\" without error", raw)
			}
			return
		}
		for _, c := range []byte(got) {
			if c <= ' ' || c >= 0x7f || c == '\\' {
				t.Fatalf("Check(%q) = %q contains byte %#x", raw, got, c)
			}
		}
		u, err := url.Parse(got)
		if err != nil {
			t.Fatalf("Check(%q) = %q, which does not parse: %v", raw, got, err)
		}
		dest := base.ResolveReference(u)
		if u.Scheme == "" && u.Host == "" {
			if dest.Host != base.Host || strings.HasPrefix(got, "//") {
				t.Fatalf("Check(%q) = %q leads to host %q", raw, got, dest.Host)
			}
			return
		}
		host := strings.TrimSuffix(strings.ToLower(dest.Host), ":443")
		if dest.Scheme != "https" || !allowed[host] || dest.User != nil {
			t.Fatalf("Check(%q) = %q leads to %s://%s (user %v)", raw, got, dest.Scheme, dest.Host, dest.User)
		}
	})
}
