package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/app"
	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/config"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
)

// TestGracefulShutdownFinishesInFlightRequest cancels the server while a
// request is being served and checks that the request still completes and
// Serve returns cleanly.
func TestGracefulShutdownFinishesInFlightRequest(t *testing.T) {
	sim, err := atlassim.New(atlassim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim)
	defer simSrv.Close()
	dbURL := dbtest.URL(t)
	cfg, err := config.Load(func(k string) string {
		return map[string]string{
			"DATABASE_URL":                dbURL,
			"MONGODB_ATLAS_BASE_URL":      simSrv.URL,
			"MONGODB_ATLAS_CLIENT_ID":     atlassim.DefaultClientID,
			"MONGODB_ATLAS_CLIENT_SECRET": atlassim.DefaultClientSecret,
			"AUTH_MODE":                   "dev",
		}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{})
	release := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() {
		served <- app.Serve(ctx, cfg, app.Options{
			Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
			Listener: ln,
			WrapHandler: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/slow" {
						close(inFlight)
						<-release
						io.WriteString(w, "finished")
						return
					}
					next.ServeHTTP(w, r)
				})
			},
		})
	}()

	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-inFlight
	cancel() // SIGINT/SIGTERM in production
	// Serve must not return while the request is still in flight.
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	case <-time.After(200 * time.Millisecond):
	}
	// New connections are refused once shutdown has begun.
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Error("server still accepts connections during shutdown")
	}
	close(release)
	r := <-got
	if r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: body %q, err %v", r.body, r.err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}
