package atlassim

import (
	"bytes"
	crand "crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Default credentials the simulator accepts when Config leaves them empty.
// They are fixed so that a developer can point Snapdesk at a simulator
// without looking anything up.
const (
	// DefaultPublicKey is the API key's public key (the Digest user name).
	DefaultPublicKey = "snapdesk"
	// DefaultPrivateKey is the API key's private key (the Digest password).
	DefaultPrivateKey = "6f1c3a52-5d0e-4b8a-9c71-2e4f8d0a9b3c"
	// DefaultClientID is the service account's client id.
	DefaultClientID = "mdb_sa_id_65a1b2c3d4e5f60718290001"
	// DefaultClientSecret is the service account's client secret.
	DefaultClientSecret = "mdb_sa_sk_snapdesk-simulator-secret"

	// DefaultTokenTTL is how long a bearer token lives, as Atlas documents.
	DefaultTokenTTL = time.Hour
	// DefaultTokenRateLimit is how many token requests a minute a client id
	// may make, about what Atlas allows.
	DefaultTokenRateLimit = 10
	// DefaultOnDemandRetention is the retention of an on-demand snapshot
	// whose request has no retentionInDays (the spec gives no default).
	DefaultOnDemandRetention = 7 * 24 * time.Hour
)

// reportedLimit is what RateLimit-Limit and RateLimit-Remaining say for a
// scope without a configured rate limit (which is never refused).
const reportedLimit = 100

// maxBody bounds request bodies.
const maxBody = 1 << 20

// maxBuckets bounds the rate-limit buckets kept, which callers can multiply
// with made-up client ids or project ids.
const maxBuckets = 10_000

// Config configures a Server. The zero value is a working simulator with the
// default credentials and fixtures, at Atlas speed, on the wall clock.
type Config struct {
	// PublicKey and PrivateKey are the API key accepted with HTTP Digest.
	// Empty means DefaultPublicKey and DefaultPrivateKey.
	PublicKey  string
	PrivateKey string
	// ClientID and ClientSecret are the service account accepted by the
	// token endpoint. Empty means DefaultClientID and DefaultClientSecret.
	ClientID     string
	ClientSecret string

	// Speed divides every duration of the state machines: 1 (the default) is
	// Atlas-like minutes, 100 completes a snapshot within 10 seconds and an
	// export or a pipeline run within 30.
	Speed float64
	// Clock is the time source; nil means the wall clock. Use a ManualClock
	// in tests.
	Clock Clock
	// FailureRate is the probability, in [0, 1], that a new snapshot, export
	// job or pipeline run ends failed.
	FailureRate float64

	// Fixtures names a JSON file (the State format, see testdata/fixtures.json)
	// that replaces the built-in fixtures.
	Fixtures string
	// PersistPath, if set, names a file the state is loaded from (when it
	// exists) and saved to after every change and at Close.
	PersistPath string

	// Logger receives a line per request; nil discards them.
	Logger *slog.Logger

	// TokenTTL is the lifetime of bearer tokens; zero means DefaultTokenTTL.
	TokenTTL time.Duration
	// TokenRateLimit is the number of token requests a minute allowed per
	// client id; zero means DefaultTokenRateLimit.
	TokenRateLimit int

	// Faults are injected from the start.
	Faults Faults

	// Seed seeds the choices of injected faults and the random part of new
	// ids; zero picks a random seed.
	Seed uint64
}

// Server is the simulator. It is an http.Handler and safe for concurrent use.
type Server struct {
	cfg      Config
	logger   *slog.Logger
	progress progressClock
	nonceKey []byte

	mu           sync.Mutex
	st           *State
	faults       Faults
	calls        map[string]int
	limited      int                  // calls refused with 429 by a rate-limit bucket
	tokens       map[string]time.Time // bearer token -> expiry
	tokenBuckets map[string]*bucket   // client id -> token endpoint bucket
	buckets      map[string]*bucket   // scope/groupId -> API bucket
	rng          *rand.Rand
	skew         time.Duration // added to the clock by /_sim/clock/advance
	idCounter    uint32
	saveErr      error // last persistence failure, reported by Close
}

// New builds a simulator from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.PublicKey == "" {
		cfg.PublicKey = DefaultPublicKey
	}
	if cfg.PrivateKey == "" {
		cfg.PrivateKey = DefaultPrivateKey
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultClientSecret
	}
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if !(cfg.Speed > 0 && cfg.Speed <= 1e6) {
		return nil, fmt.Errorf("atlassim: new: speed %v is not above 0 and at most 1000000", cfg.Speed)
	}
	if err := validRate("failure rate", cfg.FailureRate); err != nil {
		return nil, fmt.Errorf("atlassim: new: %w", err)
	}
	if cfg.Clock == nil {
		cfg.Clock = systemClock{}
	}
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.TokenTTL < time.Second {
		return nil, fmt.Errorf("atlassim: new: token TTL %v is below one second", cfg.TokenTTL)
	}
	if cfg.TokenRateLimit == 0 {
		cfg.TokenRateLimit = DefaultTokenRateLimit
	}
	if cfg.TokenRateLimit < 1 {
		return nil, fmt.Errorf("atlassim: new: token rate limit %d is below 1", cfg.TokenRateLimit)
	}
	if err := cfg.Faults.validate(); err != nil {
		return nil, fmt.Errorf("atlassim: new: faults: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	seed := cfg.Seed
	if seed == 0 {
		var b [8]byte
		_, _ = crand.Read(b[:])
		seed = binary.LittleEndian.Uint64(b[:])
	}
	key := make([]byte, 32)
	_, _ = crand.Read(key)

	s := &Server{
		cfg:          cfg,
		logger:       logger,
		progress:     progressClock{speed: cfg.Speed},
		nonceKey:     key,
		faults:       cfg.Faults.clone(),
		calls:        map[string]int{},
		tokens:       map[string]time.Time{},
		tokenBuckets: map[string]*bucket{},
		buckets:      map[string]*bucket{},
		rng:          rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	st, err := s.initialState()
	if err != nil {
		return nil, err
	}
	s.st = st
	if cfg.PersistPath != "" {
		if err := saveStateFile(cfg.PersistPath, st); err != nil {
			return nil, fmt.Errorf("atlassim: new: %w", err)
		}
	}
	return s, nil
}

// initialState is the persisted state if there is one, else the fixtures.
func (s *Server) initialState() (*State, error) {
	now := s.cfg.Clock.Now()
	if p := s.cfg.PersistPath; p != "" {
		st, err := loadStateFile(p, now)
		switch {
		case err == nil:
			return st, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, fmt.Errorf("atlassim: new: %w", err)
		}
	}
	return s.fixtureState(now)
}

func (s *Server) fixtureState(now time.Time) (*State, error) {
	if s.cfg.Fixtures != "" {
		st, err := loadStateFile(s.cfg.Fixtures, now)
		if err != nil {
			return nil, fmt.Errorf("atlassim: new: %w", err)
		}
		return st, nil
	}
	st := defaultState(now)
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("atlassim: new: built-in fixtures: %w", err)
	}
	return st, nil
}

// Close saves the state when persistence is on. The Server keeps working
// after Close; it is only the last chance to save.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.PersistPath == "" {
		return nil
	}
	if err := saveStateFile(s.cfg.PersistPath, s.st); err != nil {
		return fmt.Errorf("atlassim: close: %w", err)
	}
	return nil
}

// Clock returns the clock the simulator was built with.
func (s *Server) Clock() Clock { return s.cfg.Clock }

// Now is the simulated time: the clock plus whatever /_sim/clock/advance or
// AdvanceClock added.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.nowLocked()
}

func (s *Server) nowLocked() time.Time { return s.cfg.Clock.Now().Add(s.skew) }

// AdvanceClock moves simulated time forward by d: a clock that can be moved
// (a ManualClock) is moved, any other is offset.
func (s *Server) AdvanceClock(d time.Duration) {
	if a, ok := s.cfg.Clock.(advancer); ok {
		a.Advance(d)
		return
	}
	s.mu.Lock()
	s.skew += d
	s.mu.Unlock()
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("atlassim: set faults: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f.clone()
	s.buckets = map[string]*bucket{} // new limits start with full buckets
	return nil
}

// Faults returns a copy of the injected faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.clone()
}

// Limited is how many API calls a rate-limit bucket refused with 429.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// Calls returns how many authenticated calls each operation (by operationId)
// has had, plus "oauthToken" for the token endpoint.
func (s *Server) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	return out
}

// ResetCalls sets every call count back to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = map[string]int{}
}

// State returns a copy of the current state.
func (s *Server) State() (*State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.clone()
}

// ServeHTTP routes a request to the API, the token endpoint or the admin
// endpoints, and logs it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	lw := &loggingWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		s.logger.LogAttrs(r.Context(), slog.LevelInfo, "atlas-sim request",
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("operation", lw.operation),
			slog.Int("status", lw.status),
			slog.Bool("dropped", lw.dropped),
			slog.Duration("duration", time.Since(start)))
	}()
	p := r.URL.Path
	switch {
	case p == TokenPath:
		lw.operation = "oauthToken"
		s.serveToken(lw, r)
	case p == "/_sim" || strings.HasPrefix(p, "/_sim/"):
		s.serveAdmin(lw, r)
	case p == apiPrefix || strings.HasPrefix(p, apiPrefix+"/"):
		s.serveAPI(lw, r)
	default:
		s.writeError(lw, r, errResourceNotFound(p))
	}
}

// serveAPI serves one Atlas operation: route, latency, drops, auth, Accept,
// pipelines-retired mode, rate limit, injected errors, then the handler.
func (s *Server) serveAPI(w *loggingWriter, r *http.Request) {
	op, params, pathFound := match(r.Method, r.URL.EscapedPath())
	if op != nil {
		w.operation = op.id
	}

	// Faults that act before anything is read: latency and dropped
	// connections.
	s.mu.Lock()
	latency, drop := s.faults.Latency, s.faults.DropRate
	if op != nil {
		of := s.faults.Operations[op.id]
		latency += of.Latency
		drop = 1 - (1-drop)*(1-of.DropRate)
	}
	dropIt := drop > 0 && s.rng.Float64() < drop
	s.mu.Unlock()
	if latency > 0 && !sleep(r, latency) {
		return // the client went away
	}
	if dropIt {
		w.dropped = true
		dropConnection(w)
		return
	}

	c := &call{r: r, op: op, params: params, query: r.URL.Query(), base: baseURL(r)}
	s.mu.Lock()
	c.now = s.nowLocked().UTC()
	if e := s.authenticate(r, c.now); e != nil {
		s.mu.Unlock()
		s.writeError(w, r, e)
		return
	}
	if op == nil {
		s.mu.Unlock()
		if pathFound {
			e := newError(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "The method %s is not allowed on %s.", r.Method, r.URL.Path)
			s.writeError(w, r, e)
			return
		}
		s.writeError(w, r, errResourceNotFound(r.URL.Path))
		return
	}
	s.calls[op.id]++
	if op.scope == ScopePipelines && s.faults.PipelinesRetired {
		status := s.faults.PipelinesRetiredStatus
		if status == 0 {
			status = http.StatusNotFound
		}
		s.mu.Unlock()
		e := errResourceNotFound(r.URL.Path)
		if status == http.StatusGone {
			e = newError(http.StatusGone, "GONE", "Data Lake pipelines have been removed from Atlas.")
		}
		s.writeError(w, r, e)
		return
	}
	version, ok := negotiate(r.Header.Values("Accept"), op.versions)
	if !ok {
		s.mu.Unlock()
		s.writeError(w, r, errNotAcceptable())
		return
	}
	c.version = version
	rlHeader, e := s.rateLimit(c)
	if e != nil {
		s.limited++
	}
	if e == nil {
		e = s.injectedError(op)
	}
	if e != nil {
		s.mu.Unlock()
		for k, v := range rlHeader {
			if e.Header == nil {
				e.Header = http.Header{}
			}
			if e.Header.Get(k) == "" {
				e.Header[k] = v
			}
		}
		s.writeError(w, r, e)
		return
	}
	s.mu.Unlock()

	// The body is read without the lock held.
	if op.body {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			s.writeError(w, r, newError(http.StatusBadRequest, "MALFORMED_JSON", "Received JSON is malformed."))
			return
		}
		c.body = body
	}

	s.mu.Lock()
	result, err := op.handle(s, c)
	if err == nil && c.changed && s.cfg.PersistPath != "" {
		if serr := saveStateFile(s.cfg.PersistPath, s.st); serr != nil {
			s.saveErr = serr
			s.logger.Error("atlas-sim: save state", slog.Any("error", serr))
		}
	}
	s.mu.Unlock()
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			s.logger.Error("atlas-sim: handler failed", slog.String("operation", op.id), slog.Any("error", err))
			ae = newError(http.StatusInternalServerError, "UNEXPECTED_ERROR", "Unexpected error.")
		}
		for k, v := range rlHeader {
			if ae.Header == nil {
				ae.Header = http.Header{}
			}
			ae.Header[k] = v
		}
		s.writeError(w, r, ae)
		return
	}
	if _, ok := result.(noContent); ok {
		for k, v := range rlHeader {
			w.Header()[k] = v
		}
		w.Header().Set("X-Request-Id", s.newRequestID())
		// The spec names the versioned media type even for 204.
		w.Header().Set("Content-Type", mediaType(c.version))
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.writeSuccess(w, c, result, rlHeader)
}

// rateLimit takes a token from the call's bucket. It returns the RateLimit
// headers for the answer and, if the bucket is empty, a 429.
func (s *Server) rateLimit(c *call) (http.Header, *apiError) {
	h := http.Header{}
	rl, ok := s.faults.RateLimits[c.op.scope]
	if !ok {
		rl, ok = s.faults.RateLimits["*"]
	}
	if !ok {
		h.Set("RateLimit-Limit", strconv.Itoa(reportedLimit))
		h.Set("RateLimit-Remaining", strconv.Itoa(reportedLimit))
		return h, nil
	}
	group := c.params["groupId"]
	if !hexIDPattern.MatchString(group) {
		group = ""
	}
	key := c.op.scope + "/" + group
	b := s.buckets[key]
	if b == nil {
		if len(s.buckets) >= maxBuckets {
			s.buckets = map[string]*bucket{} // bound memory under a flood of project ids
		}
		b = &bucket{}
		s.buckets[key] = b
	}
	allowed, remaining, wait := b.take(c.now, rl)
	h.Set("RateLimit-Limit", strconv.Itoa(rl.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(remaining))
	if allowed {
		return h, nil
	}
	h.Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	e := newError(http.StatusTooManyRequests, "RATE_LIMITED",
		"Resource %s is limited to %d requests every %s.", c.op.scope, rl.Limit, rl.Window)
	e.Header = h
	return h, e
}

// injectedError decides whether an injected fault fails this call.
func (s *Server) injectedError(op *operation) *apiError {
	status := 0
	if of, ok := s.faults.Operations[op.id]; ok && of.ErrorRate > 0 && s.rng.Float64() < of.ErrorRate {
		status = of.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
	} else if s.faults.ErrorRate > 0 && s.rng.Float64() < s.faults.ErrorRate {
		status = s.faults.ErrorStatus
		if status == 0 {
			status = http.StatusInternalServerError
		}
	}
	if status == 0 {
		return nil
	}
	e := newError(status, injectedErrorCode(status), "Simulated fault injected by atlas-sim.")
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		e.Header = http.Header{}
		e.Header.Set("Retry-After", "1")
		if status == http.StatusTooManyRequests {
			e.Header.Set("RateLimit-Limit", strconv.Itoa(reportedLimit))
			e.Header.Set("RateLimit-Remaining", "0")
		}
	}
	return e
}

// negotiate picks the first media type in Accept that is a version the
// operation has. Parameters (charset, q) are ignored.
func negotiate(accept []string, versions []string) (string, bool) {
	for _, line := range accept {
		for _, part := range strings.Split(line, ",") {
			mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			v, ok := versionOf(mt)
			if !ok {
				continue
			}
			for _, have := range versions {
				if v == have {
					return v, true
				}
			}
		}
	}
	return "", false
}

// versionOf reads the date out of application/vnd.atlas.YYYY-MM-DD+json.
func versionOf(mediaType string) (string, bool) {
	rest, ok := strings.CutPrefix(mediaType, "application/vnd.atlas.")
	if !ok {
		return "", false
	}
	v, ok := strings.CutSuffix(rest, "+json")
	return v, ok
}

func mediaType(version string) string {
	return "application/vnd.atlas." + version + "+json"
}

// writeSuccess encodes a handler's result with the version's media type,
// applying envelope and pretty.
func (s *Server) writeSuccess(w http.ResponseWriter, c *call, result any, rl http.Header) {
	body, err := json.Marshal(result)
	if err != nil {
		s.logger.Error("atlas-sim: encode answer", slog.String("operation", c.op.id), slog.Any("error", err))
		s.writeError(w, c.r, newError(http.StatusInternalServerError, "UNEXPECTED_ERROR", "Unexpected error."))
		return
	}
	if queryBool(c.query, "envelope") {
		body = envelope(body, c.op.kind)
	}
	if queryBool(c.query, "pretty") {
		body = indent(body)
	}
	for k, v := range rl {
		w.Header()[k] = v
	}
	w.Header().Set("X-Request-Id", s.newRequestID())
	writeRaw(w, http.StatusOK, mediaType(c.version), body)
}

// envelope wraps an answer for envelope=true: a page gains "status"; any
// other answer becomes {"status": 200, "content": ...}.
func envelope(body []byte, kind answerKind) []byte {
	if kind == answerPage {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err == nil {
			m["status"] = json.RawMessage("200")
			if b, err := json.Marshal(m); err == nil {
				return b
			}
		}
	}
	return mustJSON(struct {
		Content json.RawMessage `json:"content"`
		Status  int             `json:"status"`
	}{body, http.StatusOK})
}

func indent(body []byte) []byte {
	var buf bytes.Buffer
	if err := json.Indent(&buf, body, "", "  "); err != nil {
		return body
	}
	buf.WriteByte('\n')
	return buf.Bytes()
}

// writeError writes an ApiError answer.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	for k, v := range e.Header {
		w.Header()[k] = v
	}
	body := mustJSON(e.wire())
	if queryBool(r.URL.Query(), "pretty") {
		body = indent(body)
	}
	w.Header().Set("X-Request-Id", s.newRequestID())
	writeRaw(w, e.Status, "application/json", body)
}

func writeRaw(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// queryBool reads a boolean query parameter; anything unparsable is false.
func queryBool(q map[string][]string, name string) bool {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return false
	}
	b, err := strconv.ParseBool(v[0])
	return err == nil && b
}

// baseURL is scheme://host of the request, for the links in answers.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	return scheme + "://" + host
}

// newRequestID is 24 hex digits, like Atlas's ids.
func (s *Server) newRequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newIDLocked()
}

// newIDLocked makes an ObjectId-like id: 4 bytes of simulated time, 5 random
// bytes and a 3-byte counter.
func (s *Server) newIDLocked() string {
	var b [12]byte
	t := uint32(s.nowLocked().Unix())
	b[0], b[1], b[2], b[3] = byte(t>>24), byte(t>>16), byte(t>>8), byte(t)
	r := s.rng.Uint64()
	for i := 0; i < 5; i++ {
		b[4+i] = byte(r >> (8 * i))
	}
	s.idCounter++
	n := s.idCounter
	b[9], b[10], b[11] = byte(n>>16), byte(n>>8), byte(n)
	const hexdigits = "0123456789abcdef"
	out := make([]byte, 24)
	for i, v := range b {
		out[2*i], out[2*i+1] = hexdigits[v>>4], hexdigits[v&15]
	}
	return string(out)
}

// sleep waits d or until the client gives up; it reports whether the wait
// ran out normally.
func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	// Not hijackable (HTTP/2, a recorder): abort the response, which is
	// net/http's documented way to drop it without logging a stack trace.
	panic(http.ErrAbortHandler)
}

// loggingWriter remembers the status of an answer for the request log.
type loggingWriter struct {
	http.ResponseWriter
	status    int
	operation string
	dropped   bool
}

func (w *loggingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (to hijack it).
func (w *loggingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
