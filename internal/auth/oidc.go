package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/snapdesk/snapdesk/internal/identity"
)

// OIDCConfig is the relying party's registration at the identity provider.
type OIDCConfig struct {
	IssuerURL    string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	// GroupsClaim is the ID token claim listing the person's groups.
	GroupsClaim string
	// Scopes are requested besides openid, email and profile.
	Scopes []string
	// Secure marks the pending sign-in cookie Secure (served over https).
	Secure bool
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// OIDC runs the authorization code flow with PKCE, state and nonce.
type OIDC struct {
	oauth       oauth2.Config
	verifier    *oidc.IDTokenVerifier
	groupsClaim string
	cookieKey   []byte
	secure      bool
	now         func() time.Time
}

// NewOIDC discovers the provider. ctx carries the HTTP client for
// discovery and later key fetches (oauth2.HTTPClient), if not the default.
func NewOIDC(ctx context.Context, c OIDCConfig) (*OIDC, error) {
	provider, err := oidc.NewProvider(ctx, c.IssuerURL)
	if err != nil {
		return nil, fmt.Errorf("auth: discover OpenID provider %s: %w", c.IssuerURL, err)
	}
	scopes := append([]string{oidc.ScopeOpenID, "email", "profile"}, c.Scopes...)
	claim := c.GroupsClaim
	if claim == "" {
		claim = "groups"
	}
	if c.ClientSecret == "" {
		return nil, errors.New("auth: OIDC needs a client secret (it also keys the pending sign-in cookie)")
	}
	now := c.Now
	if now == nil {
		now = time.Now
	}
	return &OIDC{
		oauth: oauth2.Config{
			ClientID: c.ClientID, ClientSecret: c.ClientSecret, RedirectURL: c.RedirectURL,
			Endpoint: provider.Endpoint(), Scopes: scopes,
		},
		// Verify checks the signature, issuer, audience (our client id) and expiry.
		verifier:    provider.Verifier(&oidc.Config{ClientID: c.ClientID}),
		groupsClaim: claim,
		cookieKey:   pendingKey(c.ClientSecret),
		secure:      c.Secure,
		now:         now,
	}, nil
}

// Begin records a pending sign-in in a short-lived sealed cookie (no
// server state) and returns the provider's authorization URL. next is
// where to go afterwards (a same-origin path, already checked by the
// caller).
func (o *OIDC) Begin(w http.ResponseWriter, next string) (string, error) {
	state, err := randomToken()
	if err != nil {
		return "", err
	}
	nonce, err := randomToken()
	if err != nil {
		return "", err
	}
	verifier := oauth2.GenerateVerifier()
	sealed, err := o.seal(pending{State: state, Nonce: nonce, Verifier: verifier, Next: next, Expires: o.now().Add(pendingTTL)})
	if err != nil {
		return "", err
	}
	http.SetCookie(w, o.pendingCookie(sealed, int(pendingTTL/time.Second)))
	return o.oauth.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// Sign-in refusals, for the audit record.
var (
	ErrNoPendingSignIn = errors.New("no sign-in in progress in this browser (or it expired)")
	ErrStateMismatch   = errors.New("state does not match the sign-in this browser started")
	ErrNonceMismatch   = errors.New("ID token nonce does not match")
	ErrProviderRefused = errors.New("identity provider refused the sign-in")
)

// Finish completes the sign-in the provider redirected back with: it checks
// state, redeems the code with the PKCE verifier, verifies the ID token and
// its nonce, and returns the person and where they were going. The pending
// sign-in is consumed whatever the outcome, so a callback cannot be replayed.
func (o *OIDC) Finish(ctx context.Context, w http.ResponseWriter, r *http.Request) (identity.User, string, error) {
	q := r.URL.Query()
	p, perr := o.takePending(w, r)
	if e := q.Get("error"); e != "" {
		return identity.User{}, "", fmt.Errorf("%w: %s", ErrProviderRefused, e)
	}
	if perr != nil {
		return identity.User{}, "", perr
	}
	state, nonce, verifier, next := p.State, p.Nonce, p.Verifier, p.Next
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1 {
		return identity.User{}, "", ErrStateMismatch
	}
	tok, err := o.oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		return identity.User{}, "", fmt.Errorf("auth: redeem code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return identity.User{}, "", errors.New("auth: token response has no id_token")
	}
	idt, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return identity.User{}, "", fmt.Errorf("auth: verify ID token: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(nonce)) != 1 {
		return identity.User{}, "", ErrNonceMismatch
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return identity.User{}, "", fmt.Errorf("auth: read ID token claims: %w", err)
	}
	u := identity.User{Subject: idt.Subject, Groups: stringsOf(claims[o.groupsClaim])}
	u.Email, _ = claims["email"].(string)
	u.Name, _ = claims["name"].(string)
	// An unverified email must not match an email grant in the policy.
	if verified, present := claims["email_verified"].(bool); present && !verified {
		u.Email = ""
	}
	return u, next, nil
}

// stringsOf reads a groups claim: a list of strings, or one string.
func stringsOf(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok && strings.TrimSpace(s) != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func randomToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
