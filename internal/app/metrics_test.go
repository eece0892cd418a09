package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/snapdesk/snapdesk/internal/app"
)

// TestMetricsOnTheirOwnListener: with SNAPDESK_METRICS_ADDR the metrics
// are served there, and the people's listener does not answer them.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	cfg, _ := testConfig(t, map[string]string{"SNAPDESK_POLLER": "false", "SNAPDESK_METRICS_ADDR": "127.0.0.1:1"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		served <- app.Serve(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Listener: ln, MetricsListener: mln,
			Ready: func(u string) { ready <- u }})
	}()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	base := <-ready
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := get("http://" + mln.Addr().String() + "/metrics"); status != http.StatusOK || !strings.Contains(body, "snapdesk_poll_cycle_seconds") {
		t.Errorf("metrics listener /metrics = %d", status)
	}
	if status, body := get(base + "/metrics"); status == http.StatusOK || strings.Contains(body, "go_goroutines") {
		t.Errorf("the web listener answers /metrics to anyone: %d", status)
	}
	if status, _ := get("http://" + mln.Addr().String() + "/"); status != http.StatusNotFound {
		t.Errorf("the metrics listener serves more than /metrics: / = %d", status)
	}
}
