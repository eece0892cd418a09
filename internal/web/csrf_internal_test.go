package web

import (
	"bytes"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAnonymousRefusalsAreSampledInTheLog: a flood of refusals writes one
// line per interval, saying how many were left out.
func TestAnonymousRefusalsAreSampledInTheLog(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	var s refusalSampler
	req := httptest.NewRequest("POST", "/auth/dev", nil)
	for range 1000 {
		s.log(log, req, "192.0.2.1", "csrf")
	}
	if n := strings.Count(buf.String(), "anonymous request refused"); n != 1 {
		t.Fatalf("%d log lines for 1,000 refusals in a burst, want 1:\n%s", n, buf.String())
	}
	s.last = s.last.Add(-refusalLogEvery) // the interval has passed
	s.log(log, req, "192.0.2.1", "csrf")
	if !strings.Contains(buf.String(), "not_logged_since_last=999") {
		t.Errorf("the next line does not count the refusals left out:\n%s", buf.String())
	}
}
