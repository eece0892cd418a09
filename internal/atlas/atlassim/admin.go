package atlassim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// maxAdvance bounds one clock advance, so a typo cannot overflow time.
const maxAdvance = 10 * 365 * 24 * time.Hour

// adminState is the answer of GET /_sim/state.
type adminState struct {
	Now    time.Time      `json:"now"`
	Speed  float64        `json:"speed"`
	Faults Faults         `json:"faults"`
	Calls  map[string]int `json:"calls"`
	State  *State         `json:"state"`
}

// serveAdmin serves the simulator's own endpoints under /_sim/.
func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, format string, args ...any) {
		writeRaw(w, status, "application/json", mustJSON(map[string]string{"error": fmt.Sprintf(format, args...)}))
	}
	ok := func(v any) {
		writeRaw(w, http.StatusOK, "application/json", indent(mustJSON(v)))
	}
	readBody := func(dst any) bool {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			fail(http.StatusBadRequest, "read body: %v", err)
			return false
		}
		if err := json.Unmarshal(body, dst); err != nil {
			fail(http.StatusBadRequest, "parse body: %v", err)
			return false
		}
		return true
	}

	switch route := r.Method + " " + r.URL.Path; route {
	case "GET /_sim/state":
		s.mu.Lock()
		st, err := s.st.clone()
		out := adminState{Now: s.nowLocked().UTC(), Speed: s.cfg.Speed, Faults: s.faults.clone(), Calls: map[string]int{}, State: st}
		for k, v := range s.calls {
			out.Calls[k] = v
		}
		s.mu.Unlock()
		if err != nil {
			fail(http.StatusInternalServerError, "%v", err)
			return
		}
		ok(out)

	case "GET /_sim/faults":
		ok(s.Faults())

	case "POST /_sim/faults", "PUT /_sim/faults":
		var f Faults
		if !readBody(&f) {
			return
		}
		if err := s.SetFaults(f); err != nil {
			fail(http.StatusBadRequest, "%v", err)
			return
		}
		ok(s.Faults())

	case "DELETE /_sim/faults":
		_ = s.SetFaults(Faults{})
		ok(s.Faults())

	case "POST /_sim/clock/advance":
		var req struct {
			Duration jsonDuration `json:"duration"`
		}
		if !readBody(&req) {
			return
		}
		d := time.Duration(req.Duration)
		if d < 0 || d > maxAdvance {
			fail(http.StatusBadRequest, "duration %v is not between 0 and %v", d, maxAdvance)
			return
		}
		s.AdvanceClock(d)
		ok(map[string]time.Time{"now": s.Now().UTC()})

	case "GET /_sim/calls":
		ok(s.Calls())

	case "POST /_sim/reset":
		if err := s.Reset(); err != nil {
			fail(http.StatusInternalServerError, "%v", err)
			return
		}
		ok(map[string]string{"status": "reset"})

	default:
		if s.serveInventoryAdmin(route, readBody, ok, fail) {
			return
		}
		fail(http.StatusNotFound, "no admin endpoint %s", route)
	}
}

// Reset puts the simulator back to its fixtures (the built-in ones or
// Config.Fixtures, never the persisted state) and clears faults, call counts,
// tokens and rate-limit buckets. With persistence on, the fixtures are saved.
func (s *Server) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.fixtureState(s.nowLocked())
	if err != nil {
		return fmt.Errorf("atlassim: reset: %w", err)
	}
	s.st = st
	s.faults = Faults{}
	s.calls = map[string]int{}
	s.tokens = map[string]time.Time{}
	s.tokenBuckets = map[string]*bucket{}
	s.buckets = map[string]*bucket{}
	if s.cfg.PersistPath != "" {
		if err := saveStateFile(s.cfg.PersistPath, s.st); err != nil {
			return fmt.Errorf("atlassim: reset: %w", err)
		}
	}
	return nil
}
