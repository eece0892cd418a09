// Package auth signs people in (OpenID Connect, or a development picker)
// and keeps their sessions server-side in Postgres. It fills in the
// identity.User that the services check against the policy.
package auth

import (
	"context"
	"encoding/gob"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/identity"
)

func init() {
	// scs stores values with encoding/gob.
	gob.Register(identity.User{})
}

// SessionConfig is how long sessions last and how their cookie is set.
type SessionConfig struct {
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout time.Duration
	// Lifetime ends every session this long after sign-in, used or not.
	Lifetime time.Duration
	// Secure marks the cookie Secure (served over https).
	Secure bool
}

// CookieName is the session cookie's name.
const CookieName = "snapdesk_session"

const userKey = "user"

// Sessions keeps sign-in sessions in Postgres (the sessions table).
type Sessions struct {
	*scs.SessionManager
	stop chan struct{}
	done chan struct{}
}

// NewSessions returns the session manager; Close stops its cleanup of
// expired rows.
func NewSessions(pool *pgxpool.Pool, c SessionConfig) *Sessions {
	// pgxstore's own cleanup goroutine cannot be stopped without a data
	// race (StopCleanup reads a field the goroutine writes), so it is off
	// and Sessions sweeps expired rows itself.
	store := pgxstore.NewWithCleanupInterval(pool, 0)
	sm := scs.New()
	sm.Store = store
	sm.IdleTimeout = c.IdleTimeout
	sm.Lifetime = c.Lifetime
	sm.Cookie.Name = CookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.Secure = c.Secure
	sm.Cookie.SameSite = http.SameSiteLaxMode // Lax: the IdP's redirect back must carry it
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false // a browser session cookie; the server enforces the timeouts
	s := &Sessions{SessionManager: sm, stop: make(chan struct{}), done: make(chan struct{})}
	go s.sweep(pool, 10*time.Minute)
	return s
}

// sweep deletes expired sessions every interval until Close.
func (s *Sessions) sweep(pool *pgxpool.Pool, every time.Duration) {
	defer close(s.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, _ = pool.Exec(ctx, `DELETE FROM sessions WHERE expiry < now()`)
			cancel()
		}
	}
}

// Close stops the background cleanup.
func (s *Sessions) Close() {
	close(s.stop)
	<-s.done
}

// SignIn starts a signed-in session for u under a new session id, so an id
// planted before sign-in (session fixation) is worthless after it.
func (s *Sessions) SignIn(ctx context.Context, u identity.User) error {
	if err := s.RenewToken(ctx); err != nil {
		return fmt.Errorf("auth: renew session: %w", err)
	}
	s.Put(ctx, userKey, u)
	return nil
}

// SignOut ends the session: its row is deleted and the cookie cleared.
func (s *Sessions) SignOut(ctx context.Context) error {
	if err := s.Destroy(ctx); err != nil {
		return fmt.Errorf("auth: end session: %w", err)
	}
	return nil
}

// User is the signed-in person of the session in ctx, if any.
func (s *Sessions) User(ctx context.Context) (identity.User, bool) {
	u, ok := s.Get(ctx, userKey).(identity.User)
	return u, ok && u.Subject != ""
}
