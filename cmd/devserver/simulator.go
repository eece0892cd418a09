package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

// startSimulator runs the Atlas simulator on a free loopback port, keeping
// its state in .data/atlas-sim.json so a second `make run` finds the same
// snapshots, and points Snapdesk's Atlas settings at it. It returns a stop
// function.
func startSimulator(ctx context.Context, log *slog.Logger) (string, func(), error) {
	speed := 20.0
	if v := os.Getenv("SNAPDESK_SIM_SPEED"); v != "" {
		s, err := strconv.ParseFloat(v, 64)
		if err != nil || s <= 0 || s > 10000 {
			return "", nil, fmt.Errorf("config: SNAPDESK_SIM_SPEED=%q is not valid: want a number between 0 and 10000", v)
		}
		speed = s
	}
	if err := os.MkdirAll(".data", 0o755); err != nil {
		return "", nil, err
	}
	sim, err := atlassim.New(atlassim.Config{
		Speed:       speed,
		PersistPath: ".data/atlas-sim.json",
		Logger:      log.With("component", "atlas-sim"),
	})
	if err != nil {
		return "", nil, fmt.Errorf("atlas simulator: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("atlas simulator: listen: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("atlas simulator stopped", "err", err)
		}
	}()
	baseURL := "http://" + ln.Addr().String()
	// The app reads its Atlas settings from the environment, as in production.
	os.Setenv("MONGODB_ATLAS_BASE_URL", baseURL)
	os.Setenv("MONGODB_ATLAS_CLIENT_ID", atlassim.DefaultClientID)
	os.Setenv("MONGODB_ATLAS_CLIENT_SECRET", atlassim.DefaultClientSecret)
	stop := func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		if err := sim.Close(); err != nil {
			log.Error("atlas simulator: save state", "err", err)
		}
	}
	return baseURL, stop, nil
}
