package app_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/app"
)

// TestShutdownEndsOpenEventStreams: a page left open holds an event
// stream; shutting down must end it rather than wait the whole
// SNAPDESK_SHUTDOWN_TIMEOUT for it.
func TestShutdownEndsOpenEventStreams(t *testing.T) {
	cfg, _ := testConfig(t, map[string]string{"SNAPDESK_POLLER": "false", "SNAPDESK_SHUTDOWN_TIMEOUT": "20s"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	ready := make(chan string, 1)
	go func() {
		served <- app.Serve(ctx, cfg, app.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Listener: ln,
			Ready: func(u string) { ready <- u }})
	}()
	base := <-ready
	c := devSignIn(t, base, "viewer")
	resp, err := c.Get(base + "/events?job=" + "7b0b5a52-2a39-4c55-9d59-8d0a2f43b0d1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("/events = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	streamEnded := make(chan struct{})
	go func() {
		defer close(streamEnded)
		_, _ = io.Copy(io.Discard, bufio.NewReader(resp.Body))
	}()

	start := time.Now()
	cancel() // SIGTERM
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve still waiting 10 s after shutdown began: the open event stream holds it")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %s with a page open, want well under the 20 s timeout", d)
	}
	select {
	case <-streamEnded:
	case <-time.After(5 * time.Second):
		t.Error("the event stream was not ended")
	}
}

// devSignIn signs in through the development sign-in page.
func devSignIn(t *testing.T, base, key string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/auth/dev")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page:\n%s", page)
	}
	resp, err = c.PostForm(base+"/auth/dev", url.Values{"_csrf": {string(m[1])}, "user": {key}, "next": {"/"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("dev sign-in = %d", resp.StatusCode)
	}
	return c
}
