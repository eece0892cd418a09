package auth_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func sessionRow(t *testing.T, pool *pgxpool.Pool) ([]byte, bool) {
	t.Helper()
	var data []byte
	err := pool.QueryRow(context.Background(), `SELECT data FROM sessions`).Scan(&data)
	if err != nil {
		return nil, false
	}
	return data, true
}

// TestIdleSessionsEndWithoutAWritePerRequest: the idle deadline moves at
// most once a minute (no database write per page view), and a session idle
// for longer than the timeout is ended and its row deleted.
func TestIdleSessionsEndWithoutAWritePerRequest(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	clk := &clock{t: time.Now()}
	s := auth.NewSessions(pool, auth.SessionConfig{IdleTimeout: 10 * time.Minute, Lifetime: 12 * time.Hour, Now: clk.now})
	defer s.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("/signin", func(w http.ResponseWriter, r *http.Request) {
		if err := s.SignIn(r.Context(), identity.User{Subject: "u1", Name: "U"}); err != nil {
			t.Errorf("sign in: %v", err)
			http.Error(w, err.Error(), 500)
		}
	})
	mux.HandleFunc("/me", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.User(r.Context()); !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	srv := httptest.NewServer(s.LoadAndSave(mux))
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	status := func(path string) int {
		t.Helper()
		resp, err := c.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode >= 500 {
			b, _ := io.ReadAll(resp.Body)
			t.Logf("%s: %d %s", path, resp.StatusCode, b)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status("/signin") != 200 {
		t.Fatal("sign-in failed")
	}
	signedIn, ok := sessionRow(t, pool)
	if !ok {
		t.Fatal("no session row after sign-in")
	}
	clk.add(30 * time.Second)
	if status("/me") != 200 {
		t.Fatal("signed out after 30 s")
	}
	if row, _ := sessionRow(t, pool); !bytes.Equal(row, signedIn) {
		t.Error("the session row was rewritten by a request 30 s after the last write")
	}
	clk.add(time.Minute)
	if status("/me") != 200 {
		t.Fatal("signed out after 90 s")
	}
	touched, _ := sessionRow(t, pool)
	if bytes.Equal(touched, signedIn) {
		t.Error("the last-seen time was not recorded after a minute")
	}
	clk.add(9 * time.Minute) // 9 min since the last recorded use: still within 10
	if status("/me") != 200 {
		t.Fatal("signed out within the idle timeout")
	}
	clk.add(11 * time.Minute)
	if status("/me") != http.StatusUnauthorized {
		t.Fatal("still signed in after more than the idle timeout")
	}
	if _, ok := sessionRow(t, pool); ok {
		t.Error("the idle session's row was not deleted")
	}
}
