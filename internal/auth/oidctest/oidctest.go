// Package oidctest is an OpenID provider for tests: discovery, JWKS, an
// authorization endpoint that signs the configured person in at once, and a
// token endpoint that checks the PKCE verifier and issues RS256 ID tokens.
// Knobs make it misbehave the ways a real provider or an attacker might.
package oidctest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// Person is who the provider signs in.
type Person struct {
	Subject, Email, Name string
	Groups               []string
}

// Provider is a running fake OpenID provider.
type Provider struct {
	*httptest.Server
	ClientID, ClientSecret string

	key *rsa.PrivateKey

	mu      sync.Mutex
	person  Person
	pending map[string]grant // by code
	// Knobs.
	nonceOverride    string
	tokenTTL         time.Duration
	issuerOverride   string
	audienceOverride string
	forger           *rsa.PrivateKey // signs with a key the JWKS does not hold

	// Seen records what the relying party sent, for assertions.
	seen Seen
}

// Seen is what the last authorization and token requests carried.
type Seen struct {
	CodeChallengeMethod string
	CodeChallenge       string
	CodeVerifier        string
	Nonce               string
	Scope               string
}

type grant struct {
	challenge, nonce, redirect string
}

// New starts a provider for t signing in p.
func New(t testing.TB, p Person) *Provider {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pr := &Provider{ClientID: "snapdesk-test", ClientSecret: "test-secret", key: key, person: p, pending: map[string]grant{}, tokenTTL: 5 * time.Minute}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", pr.discovery)
	mux.HandleFunc("GET /jwks", pr.jwks)
	mux.HandleFunc("GET /authorize", pr.authorize)
	mux.HandleFunc("POST /token", pr.token)
	pr.Server = httptest.NewServer(mux)
	t.Cleanup(pr.Close)
	return pr
}

// SetPerson changes who signs in next.
func (p *Provider) SetPerson(person Person) { p.mu.Lock(); p.person = person; p.mu.Unlock() }

// SetNonce makes ID tokens carry this nonce instead of the requested one.
func (p *Provider) SetNonce(n string) { p.mu.Lock(); p.nonceOverride = n; p.mu.Unlock() }

// SetIssuer makes ID tokens name another issuer ("" restores).
func (p *Provider) SetIssuer(iss string) { p.mu.Lock(); p.issuerOverride = iss; p.mu.Unlock() }

// SetAudience makes ID tokens name another audience ("" restores).
func (p *Provider) SetAudience(aud string) { p.mu.Lock(); p.audienceOverride = aud; p.mu.Unlock() }

// ForgeSignatures signs ID tokens with a key that is not in the JWKS.
func (p *Provider) ForgeSignatures(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forger = nil
	if on {
		p.forger, _ = rsa.GenerateKey(rand.Reader, 2048)
	}
}

// SetTokenTTL sets ID tokens' lifetime; negative issues expired tokens.
func (p *Provider) SetTokenTTL(d time.Duration) { p.mu.Lock(); p.tokenTTL = d; p.mu.Unlock() }

// Seen is what the relying party sent last.
func (p *Provider) Seen() Seen { p.mu.Lock(); defer p.mu.Unlock(); return p.seen }

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                p.URL,
		"authorization_endpoint":                p.URL + "/authorize",
		"token_endpoint":                        p.URL + "/token",
		"jwks_uri":                              p.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// authorize signs the person in at once and redirects back with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" {
		http.Error(w, "bad client or response type", http.StatusBadRequest)
		return
	}
	code := randomString()
	p.mu.Lock()
	p.seen = Seen{CodeChallengeMethod: q.Get("code_challenge_method"), CodeChallenge: q.Get("code_challenge"), Nonce: q.Get("nonce"), Scope: q.Get("scope")}
	p.pending[code] = grant{challenge: q.Get("code_challenge"), nonce: q.Get("nonce"), redirect: q.Get("redirect_uri")}
	p.mu.Unlock()
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	bq.Set("state", q.Get("state"))
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token redeems a code once, checking the client and the PKCE verifier.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	g, found := p.pending[r.PostForm.Get("code")]
	delete(p.pending, r.PostForm.Get("code"))
	verifier := r.PostForm.Get("code_verifier")
	p.seen.CodeVerifier = verifier
	sum := sha256.Sum256([]byte(verifier))
	switch {
	case id != p.ClientID || secret != p.ClientSecret:
		oauthError(w, "invalid_client")
		return
	case !found || g.redirect != r.PostForm.Get("redirect_uri"):
		oauthError(w, "invalid_grant")
		return
	case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
		oauthError(w, "invalid_grant") // PKCE verifier does not match the challenge
		return
	}
	nonce := g.nonce
	if p.nonceOverride != "" {
		nonce = p.nonceOverride
	}
	iss, aud, key := p.URL, p.ClientID, p.key
	if p.issuerOverride != "" {
		iss = p.issuerOverride
	}
	if p.audienceOverride != "" {
		aud = p.audienceOverride
	}
	if p.forger != nil {
		key = p.forger
	}
	now := time.Now()
	claims := map[string]any{
		"iss": iss, "aud": aud, "sub": p.person.Subject, "nonce": nonce,
		"iat": now.Unix(), "exp": now.Add(p.tokenTTL).Unix(),
		"email": p.person.Email, "email_verified": true, "name": p.person.Name, "groups": p.person.Groups,
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, map[string]any{"access_token": randomString(), "token_type": "Bearer", "expires_in": 300, "id_token": raw})
}

func oauthError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func randomString() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
