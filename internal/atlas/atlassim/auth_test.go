package atlassim_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/icholy/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// digestGet does a GET through a Digest client (a maintained library, as the
// Atlas client uses) and validates the answer.
func digestGet(t *testing.T, e *env, user, password, path, version string) *result {
	t.Helper()
	client := &http.Client{Transport: &digest.Transport{Username: user, Password: password, Transport: e.srv.Client().Transport}}
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.atlas."+version+"+json")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := &result{status: res.StatusCode, header: res.Header, body: body}
	checkAnswer(t, e.spec, req, nil, r, true)
	return r
}

func TestDigestAuth(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	tests := []struct {
		name, user, password string
		want                 int
	}{
		{"default API key", atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey, 200},
		{"wrong private key", atlassim.DefaultPublicKey, "not-the-key", 401},
		{"unknown public key", "someone", atlassim.DefaultPrivateKey, 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := digestGet(t, e, tc.user, tc.password, "/api/atlas/v2/groups", v1)
			if tc.want == http.StatusOK {
				res.wantOK(t)
				return
			}
			res.wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
		})
	}

	t.Run("configured API key", func(t *testing.T) {
		e := newEnv(t, atlassim.Config{PublicKey: "abcdefgh", PrivateKey: "secret"})
		digestGet(t, e, "abcdefgh", "secret", rs, v4).wantOK(t)
		digestGet(t, e, atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey, rs, v4).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
	})
}

// handDigest computes RFC 7616 MD5 credentials by hand, to test what the
// library does not let us control (stale nonces, tampering).
func handDigest(user, password, method, uri, nonce, nc, cnonce string) string {
	h := func(s string) string { sum := md5.Sum([]byte(s)); return hex.EncodeToString(sum[:]) }
	ha1 := h(user + ":" + atlassim.DigestRealm + ":" + password)
	ha2 := h(method + ":" + uri)
	resp := h(ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	return fmt.Sprintf(`Digest username="%s", realm="%s", nonce="%s", uri="%s", algorithm=MD5, qop=auth, nc=%s, cnonce="%s", response="%s"`,
		user, atlassim.DigestRealm, nonce, uri, nc, cnonce, resp)
}

var nonceRE = regexp.MustCompile(`nonce="([0-9a-f]+)"`)

func TestDigestNonces(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	path := "/api/atlas/v2/groups/" + g
	challenge := e.get(path, v1, withAuth(""))
	challenge.wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
	m := nonceRE.FindStringSubmatch(challenge.header.Get("WWW-Authenticate"))
	if m == nil {
		t.Fatalf("no nonce in %q", challenge.header.Get("WWW-Authenticate"))
	}
	nonce := m[1]
	auth := func(nonce, nc, uri string) reqOpt {
		return withAuth(handDigest(atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey, "GET", uri, nonce, nc, "0a4f113b"))
	}

	e.get(path, v1, auth(nonce, "00000001", path)).wantOK(t)
	// The nonce can be reused with the next count, as clients do.
	e.get(path, v1, auth(nonce, "00000002", path)).wantOK(t)

	// Credentials for another URI do not open this one.
	e.get(path, v1, auth(nonce, "00000003", "/api/atlas/v2/groups")).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
	// A nonce the server did not sign is refused.
	forged := "00" + nonce[2:]
	e.get(path, v1, auth(forged, "00000001", path)).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
	// Garbage credentials are refused, not a crash.
	e.get(path, v1, withAuth(`Digest username="snapdesk", realm="unterminated`)).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
	e.get(path, v1, withAuth("Basic c25hcGRlc2s6eA==")).wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")

	// After NonceLifetime the nonce is stale: 401 with stale=true and a new
	// nonce, which works.
	e.advance(atlassim.NonceLifetime + time.Second)
	stale := e.get(path, v1, auth(nonce, "00000004", path))
	stale.wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED")
	h := stale.header.Get("WWW-Authenticate")
	if !regexp.MustCompile(`stale=true`).MatchString(h) {
		t.Errorf("WWW-Authenticate = %q, want stale=true", h)
	}
	fresh := nonceRE.FindStringSubmatch(h)[1]
	e.get(path, v1, auth(fresh, "00000001", path)).wantOK(t)
}

func TestBearerTokens(t *testing.T) {
	e := newEnv(t, atlassim.Config{TokenTTL: 10 * time.Minute})
	token := e.fetchTokenTTL(10 * time.Minute)
	path := "/api/atlas/v2/groups"
	e.get(path, v1, withAuth("Bearer "+token)).wantOK(t)
	e.advance(10*time.Minute - time.Second)
	e.get(path, v1, withAuth("Bearer "+token)).wantOK(t)
	e.advance(time.Second)
	res := e.get(path, v1, withAuth("Bearer "+token))
	if e := res.wantError(t, http.StatusUnauthorized, "USER_UNAUTHORIZED"); e.Detail != "The access token has expired." {
		t.Errorf("detail = %q", e.Detail)
	}
}

// fetchTokenTTL gets a token and checks its expires_in.
func (e *env) fetchTokenTTL(ttl time.Duration) string {
	e.t.Helper()
	res := e.tokenRequest(atlassim.DefaultClientID, atlassim.DefaultClientSecret, "grant_type=client_credentials")
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	res.decode(e.t, &tok)
	if tok.ExpiresIn != int(ttl/time.Second) {
		e.t.Errorf("expires_in = %d, want %d", tok.ExpiresIn, int(ttl/time.Second))
	}
	return tok.AccessToken
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	tests := []struct {
		name, id, secret, form string
		status                 int
		code                   string
	}{
		{"wrong secret", atlassim.DefaultClientID, "nope", "grant_type=client_credentials", 401, "invalid_client"},
		{"unknown client", "mdb_sa_id_other", atlassim.DefaultClientSecret, "grant_type=client_credentials", 401, "invalid_client"},
		{"no credentials", "", "", "grant_type=client_credentials", 401, "invalid_client"},
		{"wrong grant", atlassim.DefaultClientID, atlassim.DefaultClientSecret, "grant_type=password", 400, "unsupported_grant_type"},
		{"no grant", atlassim.DefaultClientID, atlassim.DefaultClientSecret, "", 400, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.tokenRequest(tc.id, tc.secret, tc.form)
			var body struct{ Error, ErrorDescription string }
			res.decode(t, &body)
			if res.status != tc.status || body.Error != tc.code {
				t.Errorf("= %d %s, want %d %s", res.status, body.Error, tc.status, tc.code)
			}
		})
		e.advance(time.Minute) // stay clear of the token endpoint's limit
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+atlassim.TokenPath, nil)
	if res := e.send(req, nil, false); res.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint = %d, want 405", res.status)
	}
}

func TestTokenEndpointRateLimit(t *testing.T) {
	e := newEnv(t, atlassim.Config{}) // newEnv took one token already
	for i := 2; i <= atlassim.DefaultTokenRateLimit; i++ {
		res := e.tokenRequest(atlassim.DefaultClientID, atlassim.DefaultClientSecret, "grant_type=client_credentials")
		if res.status != http.StatusOK {
			t.Fatalf("token request %d = %d %s", i, res.status, res.body)
		}
		if got, want := res.header.Get("RateLimit-Remaining"), strconv.Itoa(atlassim.DefaultTokenRateLimit-i); got != want {
			t.Errorf("request %d: RateLimit-Remaining = %s, want %s", i, got, want)
		}
	}
	res := e.tokenRequest(atlassim.DefaultClientID, atlassim.DefaultClientSecret, "grant_type=client_credentials")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("11th token request = %d, want 429", res.status)
	}
	if got := res.header.Get("Retry-After"); got != "6" {
		t.Errorf("Retry-After = %q, want 6 (ten a minute)", got)
	}
	if res.header.Get("RateLimit-Limit") != "10" || res.header.Get("RateLimit-Remaining") != "0" {
		t.Errorf("RateLimit headers = %q/%q", res.header.Get("RateLimit-Limit"), res.header.Get("RateLimit-Remaining"))
	}
	// Wrong credentials count too: the limit protects the endpoint.
	if res := e.tokenRequest(atlassim.DefaultClientID, "nope", "grant_type=client_credentials"); res.status != http.StatusTooManyRequests {
		t.Errorf("rate-limited request with wrong secret = %d, want 429", res.status)
	}
	e.advance(6 * time.Second)
	if res := e.tokenRequest(atlassim.DefaultClientID, atlassim.DefaultClientSecret, "grant_type=client_credentials"); res.status != http.StatusOK {
		t.Errorf("after Retry-After, token request = %d, want 200", res.status)
	}
	if got := e.sim.Calls()["oauthToken"]; got != 13 {
		t.Errorf("Calls()[oauthToken] = %d, want 13", got)
	}
}

// TestOAuth2Client checks the token endpoint against golang.org/x/oauth2's
// client-credentials flow, which the Atlas client uses.
func TestOAuth2Client(t *testing.T) {
	e := newEnv(t, atlassim.Config{})
	cfg := clientcredentials.Config{
		ClientID:     atlassim.DefaultClientID,
		ClientSecret: atlassim.DefaultClientSecret,
		TokenURL:     e.srv.URL + atlassim.TokenPath,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
	client := cfg.Client(ctx)
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+"/api/atlas/v2/groups", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	for i := 0; i < 3; i++ {
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("call %d = %d", i, res.StatusCode)
		}
	}
	// One token for the three calls (plus the one newEnv took).
	if got := e.sim.Calls()["oauthToken"]; got != 2 {
		t.Errorf("token requests = %d, want 2", got)
	}
	if got := e.sim.Calls()["listGroups"]; got != 3 {
		t.Errorf("listGroups calls = %d, want 3", got)
	}
}
