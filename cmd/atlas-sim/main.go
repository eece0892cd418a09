// Command atlas-sim runs the MongoDB Atlas Administration API simulator
// (package internal/atlas/atlassim) as a stand-alone HTTP server, for
// pointing Snapdesk or any other Atlas client at it.
//
//	go run ./cmd/atlas-sim --addr 127.0.0.1:8090 --public-key K --private-key S \
//	    --client-id ID --client-secret SECRET --speed 1 --failure-rate 0 --fixtures FILE [--persist FILE]
//
// Flags (defaults in brackets):
//
//	--addr           address to listen on [127.0.0.1:8090]; port 0 picks a free one
//	--public-key     API key public key, the Digest user [atlassim.DefaultPublicKey]
//	--private-key    API key private key, the Digest password [atlassim.DefaultPrivateKey]
//	--client-id      service account client id [atlassim.DefaultClientID]
//	--client-secret  service account client secret [atlassim.DefaultClientSecret]
//	--speed          speed factor: 1 is Atlas-like minutes, 100 completes a snapshot in under 10 s [1]
//	--failure-rate   probability that a new snapshot, export or pipeline run fails [0]
//	--fixtures       JSON fixtures file replacing the built-in fixtures [built-in]
//	--persist        file to keep the state in across restarts [none]
//
// Faults can also be set from the environment (ATLAS_SIM_FAULTS as JSON,
// ATLAS_SIM_PIPELINES_RETIRED, ATLAS_SIM_LATENCY) and changed at run time
// through POST /_sim/faults. The command prints the base URL and the
// credentials it accepts, logs every request, and shuts down gracefully on
// SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// DefaultAddr is where atlas-sim listens without --addr.
const DefaultAddr = "127.0.0.1:8090"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "atlas-sim:", err)
		os.Exit(1)
	}
}

// run starts the simulator as args say and serves until ctx is done.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	a, err := start(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	return a.serve(ctx)
}

// app is a started simulator: listening, not yet serving.
type app struct {
	sim    *atlassim.Server
	ln     net.Listener
	srv    *http.Server
	logger *slog.Logger
}

// start parses the flags, builds the simulator, opens the listener and
// prints the banner.
func start(args []string, getenv func(string) string, stdout, stderr io.Writer) (*app, error) {
	fs := flag.NewFlagSet("atlas-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", DefaultAddr, "address to listen on (port 0 picks a free one)")
	publicKey := fs.String("public-key", atlassim.DefaultPublicKey, "API key public key (HTTP Digest user)")
	privateKey := fs.String("private-key", atlassim.DefaultPrivateKey, "API key private key (HTTP Digest password)")
	clientID := fs.String("client-id", atlassim.DefaultClientID, "service account client id")
	clientSecret := fs.String("client-secret", atlassim.DefaultClientSecret, "service account client secret")
	speed := fs.Float64("speed", 1, "speed factor: 1 is Atlas-like minutes, 100 completes a snapshot in under 10 s")
	failureRate := fs.Float64("failure-rate", 0, "probability (0-1) that a new snapshot, export or pipeline run fails")
	fixtures := fs.String("fixtures", "", "JSON fixtures file replacing the built-in fixtures")
	persist := fs.String("persist", "", "file to keep the simulator's state in across restarts")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	faults, err := atlassim.FaultsFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))
	sim, err := atlassim.New(atlassim.Config{
		PublicKey:    *publicKey,
		PrivateKey:   *privateKey,
		ClientID:     *clientID,
		ClientSecret: *clientSecret,
		Speed:        *speed,
		FailureRate:  *failureRate,
		Fixtures:     *fixtures,
		PersistPath:  *persist,
		Logger:       logger,
		Faults:       faults,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	base := "http://" + ln.Addr().String()
	fixturesText, persistText := "built-in", "off"
	if *fixtures != "" {
		fixturesText = *fixtures
	}
	if *persist != "" {
		persistText = *persist
	}
	fmt.Fprintf(stdout, `atlas-sim: MongoDB Atlas Administration API simulator
  base URL         %s
  API key          public key %s, private key %s (HTTP Digest)
  service account  client id %s, client secret %s (POST %s)
  speed %g, failure rate %g, fixtures %s, persistence %s
  admin            %s/_sim/state, %s/_sim/faults
Environment for Snapdesk:
  MONGODB_ATLAS_BASE_URL=%s
  MONGODB_ATLAS_PUBLIC_API_KEY=%s
  MONGODB_ATLAS_PRIVATE_API_KEY=%s
  MONGODB_ATLAS_CLIENT_ID=%s
  MONGODB_ATLAS_CLIENT_SECRET=%s
`,
		base, *publicKey, *privateKey, *clientID, *clientSecret, atlassim.TokenPath,
		*speed, *failureRate, fixturesText, persistText, base, base,
		base, *publicKey, *privateKey, *clientID, *clientSecret)

	return &app{
		sim:    sim,
		ln:     ln,
		logger: logger,
		srv: &http.Server{
			Handler:           sim,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		},
	}, nil
}

// serve answers requests until ctx is done, then shuts down: no new
// connections, in-flight requests finish (for up to 10 seconds), and the state
// is saved.
func (a *app) serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.srv.Serve(a.ln) }()

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	a.logger.Info("atlas-sim: shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	shutdownErr := a.srv.Shutdown(shutdownCtx)
	closeErr := a.sim.Close()
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	return closeErr
}
