// Package auth signs people in (OpenID Connect, or a development picker)
// and keeps their sessions server-side in Postgres. It fills in the
// identity.User that the services check against the policy.
package auth

import (
	"context"
	"encoding/gob"
	"fmt"
	"log/slog"
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
	gob.Register(time.Time{})
}

// SessionConfig is how long sessions last and how their cookie is set.
type SessionConfig struct {
	// IdleTimeout ends a session nobody used for this long.
	IdleTimeout time.Duration
	// Lifetime ends every session this long after sign-in, used or not.
	Lifetime time.Duration
	// Secure marks the cookie Secure (served over https).
	Secure bool
	// Now is the clock (tests); time.Now when nil.
	Now func() time.Time
}

// CookieName is the session cookie's name.
const CookieName = "snapdesk_session"

const (
	userKey     = "user"
	lastSeenKey = "seen"
	csrfKey     = "csrf"
)

// Sessions keeps sign-in sessions in Postgres (the sessions table).
type Sessions struct {
	*scs.SessionManager
	idle       time.Duration
	touchEvery time.Duration
	now        func() time.Time
	stop       chan struct{}
	done       chan struct{}
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
	// The idle timeout is enforced here, not by scs: scs rewrites the
	// session row on every request to move its idle deadline, a database
	// write per page view. Sessions records when it was last used at most
	// once a minute instead. The row's expiry is the absolute lifetime.
	sm.Lifetime = c.Lifetime
	sm.Cookie.Name = CookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.Secure = c.Secure
	sm.Cookie.SameSite = http.SameSiteLaxMode // Lax: the IdP's redirect back must carry it
	sm.Cookie.Path = "/"
	sm.Cookie.Persist = false // a browser session cookie; the server enforces the timeouts
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		slog.ErrorContext(r.Context(), "session store", "err", err, "path", r.URL.Path)
		http.Error(w, "Sessions are unavailable; please try again shortly.", http.StatusServiceUnavailable)
	}
	s := &Sessions{SessionManager: sm, idle: c.IdleTimeout, touchEvery: min(time.Minute, c.IdleTimeout/10),
		now: c.Now, stop: make(chan struct{}), done: make(chan struct{})}
	if s.now == nil {
		s.now = time.Now
	}
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
	s.Put(ctx, lastSeenKey, s.now())
	// A new request-forgery token with the new session: one seen before
	// sign-in (or in another session) is worth nothing after it.
	tok, err := randomToken()
	if err != nil {
		return err
	}
	s.Put(ctx, csrfKey, tok)
	return nil
}

// CSRFToken is the signed-in session's request-forgery token: kept in the
// server-side session, so it is valid for this session only and is
// renewed with it at sign-in. Sessions from before tokens were kept get
// one on first use.
func (s *Sessions) CSRFToken(ctx context.Context) (string, error) {
	if tok := s.GetString(ctx, csrfKey); tok != "" {
		return tok, nil
	}
	tok, err := randomToken()
	if err != nil {
		return "", err
	}
	s.Put(ctx, csrfKey, tok)
	return tok, nil
}

// SignOut ends the session: its row is deleted and the cookie cleared.
func (s *Sessions) SignOut(ctx context.Context) error {
	if err := s.Destroy(ctx); err != nil {
		return fmt.Errorf("auth: end session: %w", err)
	}
	return nil
}

// User is the signed-in person of the session in ctx, if any. A session
// idle for longer than the idle timeout is ended here.
func (s *Sessions) User(ctx context.Context) (identity.User, bool) {
	u, ok := s.Get(ctx, userKey).(identity.User)
	if !ok || u.Subject == "" {
		return identity.User{}, false
	}
	now, seen := s.now(), s.GetTime(ctx, lastSeenKey)
	if s.idle > 0 && now.Sub(seen) > s.idle {
		_ = s.Destroy(ctx) // its row goes now, not at the absolute expiry
		return identity.User{}, false
	}
	if s.idle > 0 && now.Sub(seen) >= s.touchEvery {
		s.Put(ctx, lastSeenKey, now)
	}
	return u, true
}
