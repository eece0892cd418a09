package auth

import (
	"errors"
	"testing"
	"time"
)

func TestPendingSignInCookieIsSealedAndShortLived(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	o := &OIDC{cookieKey: pendingKey("client-secret"), now: func() time.Time { return now }}
	p := pending{State: "st", Nonce: "no", Verifier: "the-pkce-verifier", Next: "/jobs", Expires: now.Add(pendingTTL)}
	sealed, err := o.seal(p)
	if err != nil {
		t.Fatal(err)
	}
	got, err := o.open(sealed, now.Add(pendingTTL-time.Second))
	if err != nil || got != p {
		t.Fatalf("open = %+v, %v; want %+v", got, err, p)
	}
	if _, err := o.open(sealed, now.Add(pendingTTL)); !errors.Is(err, ErrNoPendingSignIn) {
		t.Errorf("an expired pending sign-in: err = %v, want ErrNoPendingSignIn", err)
	}
	other := &OIDC{cookieKey: pendingKey("another-secret"), now: o.now}
	if _, err := other.open(sealed, now); !errors.Is(err, ErrNoPendingSignIn) {
		t.Errorf("a cookie sealed with another key: err = %v", err)
	}
	tampered := []byte(sealed)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '-' || tampered[len(tampered)/2] == '_' {
		tampered[len(tampered)/2] = 'A'
	}
	if _, err := o.open(string(tampered), now); !errors.Is(err, ErrNoPendingSignIn) {
		t.Errorf("a tampered cookie: err = %v", err)
	}
}
