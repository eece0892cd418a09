package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// A sign-in in progress (state, nonce, PKCE verifier, where to go next)
// waits for the identity provider in a short-lived cookie, sealed with
// AES-256-GCM, not in a session row: anyone may start a sign-in, and each
// used to cost a sessions row for the whole session lifetime.
const (
	pendingCookie = "snapdesk_signin"
	// pendingTTL is how long a person has at the identity provider.
	pendingTTL = 10 * time.Minute
)

type pending struct {
	State    string    `json:"s"`
	Nonce    string    `json:"n"`
	Verifier string    `json:"v"`
	Next     string    `json:"x"`
	Expires  time.Time `json:"e"`
}

// pendingKey derives the cookie's key from the client secret, which every
// replica has and the database does not; a callback may reach another
// replica than the one that began the sign-in.
func pendingKey(clientSecret string) []byte {
	m := hmac.New(sha256.New, []byte(clientSecret))
	m.Write([]byte("snapdesk pending sign-in cookie v1"))
	return m.Sum(nil)
}

func (o *OIDC) seal(p pending) (string, error) {
	plain, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("auth: encode pending sign-in: %w", err)
	}
	gcm, err := o.gcm()
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("auth: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(gcm.Seal(nonce, nonce, plain, []byte(pendingCookie))), nil
}

func (o *OIDC) open(value string, now time.Time) (pending, error) {
	var p pending
	sealed, err := base64.RawURLEncoding.DecodeString(value)
	if err != nil {
		return p, ErrNoPendingSignIn
	}
	gcm, err := o.gcm()
	if err != nil {
		return p, err
	}
	if len(sealed) < gcm.NonceSize() {
		return p, ErrNoPendingSignIn
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], []byte(pendingCookie))
	if err != nil {
		return p, ErrNoPendingSignIn // not ours, or tampered with
	}
	if err := json.Unmarshal(plain, &p); err != nil || p.State == "" || !now.Before(p.Expires) {
		return pending{}, ErrNoPendingSignIn
	}
	return p, nil
}

func (o *OIDC) gcm() (cipher.AEAD, error) {
	block, err := aes.NewCipher(o.cookieKey)
	if err != nil {
		return nil, fmt.Errorf("auth: cookie cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

func (o *OIDC) pendingCookie(value string, maxAge int) *http.Cookie {
	// Lax: the identity provider's redirect back is a top-level GET, which
	// carries it. Path /auth/: only the callback needs it.
	return &http.Cookie{Name: pendingCookie, Value: value, Path: "/auth/", MaxAge: maxAge, HttpOnly: true,
		Secure: o.secure, SameSite: http.SameSiteLaxMode}
}

// takePending reads and clears the pending sign-in of the request: it is
// used once, whatever the outcome.
func (o *OIDC) takePending(w http.ResponseWriter, r *http.Request) (pending, error) {
	c, err := r.Cookie(pendingCookie)
	if errors.Is(err, http.ErrNoCookie) {
		return pending{}, ErrNoPendingSignIn
	}
	http.SetCookie(w, o.pendingCookie("", -1))
	if err != nil {
		return pending{}, ErrNoPendingSignIn
	}
	return o.open(c.Value, o.now())
}
