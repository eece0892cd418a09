// Package atlas is a client for the parts of the MongoDB Atlas Administration
// API v2 that Snapdesk uses: projects, clusters, cloud backup snapshots,
// export buckets and export jobs, restore jobs, backup schedules, and the
// retired Data Lake pipelines.
//
// It sends each operation's versioned media type, authenticates with a
// service account (OAuth 2 client credentials) or an API key (HTTP Digest),
// validates path parameters and bodies before any request, respects Atlas's
// rate limits, retries what is safe to retry and turns every error answer
// into an *Error. It imports nothing else from Snapdesk.
package atlas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// DefaultBaseURL is Atlas's public API host.
const DefaultBaseURL = "https://cloud.mongodb.com"

// Media types of the API versions Snapdesk speaks.
const (
	mediaV20230101 = "application/vnd.atlas.2023-01-01+json"
	mediaV20240530 = "application/vnd.atlas.2024-05-30+json"
	mediaV20240805 = "application/vnd.atlas.2024-08-05+json"
)

// maxBodyBytes bounds how much of an answer is read.
const maxBodyBytes = 8 << 20

// Client talks to the Atlas Administration API.
type Client struct {
	base      *url.URL
	hc        *http.Client
	userAgent string
	observer  func(CallInfo)
	sleep     func(ctx context.Context, d time.Duration) error
	limits    *rateLimiter
	budget    *budget // the background share of each bucket (budget.go)
	retries   int
	now       func() time.Time
	// attemptTimeout bounds each HTTP attempt, so a hung connection never
	// holds a caller (or the poller) for longer.
	attemptTimeout time.Duration

	clientID, clientSecret string
	publicKey, privateKey  string
	baseTransport          http.RoundTripper
	tokens                 *resettableTokens // nil with API keys

	Projects      *ProjectsService
	Clusters      *ClustersService
	Snapshots     *SnapshotsService
	Exports       *ExportsService
	ExportBuckets *ExportBucketsService
	Pipelines     *PipelinesService
	RestoreJobs   *RestoreJobsService
	// BackupSchedules reads clusters' backup schedules.
	BackupSchedules *BackupSchedulesService
}

// CallInfo describes one finished API call, for metrics and logs.
type CallInfo struct {
	// Operation is the spec's operationId, e.g. "takeGroupClusterBackupSnapshots".
	Operation string
	Method    string
	// Status is the HTTP status of the last attempt; 0 when none came back.
	Status   int
	Attempts int
	Duration time.Duration
	// RateLimitWait is the time spent waiting on rate limits before and between attempts.
	RateLimitWait time.Duration
	Err           error
}

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API host (default https://cloud.mongodb.com).
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := url.Parse(strings.TrimSuffix(raw, "/"))
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("atlas: base URL %q: want an absolute http(s) URL", raw)
		}
		c.base = u
		return nil
	}
}

// WithServiceAccount authenticates with a service account's client id and
// secret (OAuth 2 client credentials, token reused until it nears expiry).
func WithServiceAccount(clientID, clientSecret string) Option {
	return func(c *Client) error {
		if clientID == "" || clientSecret == "" {
			return errors.New("atlas: service account needs a client id and a secret")
		}
		c.clientID, c.clientSecret = clientID, clientSecret
		return nil
	}
}

// WithAPIKey authenticates with an API key pair over HTTP Digest.
func WithAPIKey(publicKey, privateKey string) Option {
	return func(c *Client) error {
		if publicKey == "" || privateKey == "" {
			return errors.New("atlas: API key needs a public and a private key")
		}
		c.publicKey, c.privateKey = publicKey, privateKey
		return nil
	}
}

// WithTransport sets the transport below authentication (default
// http.DefaultTransport); tests use it to observe the wire.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *Client) error { c.baseTransport = rt; return nil }
}

// WithUserAgent sets the User-Agent, e.g. "snapdesk/1.4.0".
func WithUserAgent(ua string) Option {
	return func(c *Client) error { c.userAgent = ua; return nil }
}

// WithObserver has f called after every API call.
func WithObserver(f func(CallInfo)) Option {
	return func(c *Client) error { c.observer = f; return nil }
}

// WithMaxRetries bounds the retries of one call (default 4).
func WithMaxRetries(n int) Option {
	return func(c *Client) error {
		if n < 0 {
			return errors.New("atlas: retries must not be negative")
		}
		c.retries = n
		return nil
	}
}

// WithSleep replaces the wait between attempts (tests avoid wall-clock waits).
func WithSleep(f func(ctx context.Context, d time.Duration) error) Option {
	return func(c *Client) error { c.sleep = f; return nil }
}

// WithAttemptTimeout bounds each HTTP attempt of a call (default 30 s): an
// attempt that has not been answered by then is abandoned like a dropped
// connection (a GET is retried, a POST's outcome is unknown).
func WithAttemptTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return errors.New("atlas: attempt timeout must be positive")
		}
		c.attemptTimeout = d
		return nil
	}
}

// WithClock sets the clock the rate limiter refills by (default time.Now);
// tests pair it with WithSleep to run on the simulator's clock.
func WithClock(now func() time.Time) Option {
	return func(c *Client) error { c.now = now; return nil }
}

// New builds a client. Exactly one of WithServiceAccount or WithAPIKey is required.
func New(opts ...Option) (*Client, error) {
	c := &Client{userAgent: "snapdesk", retries: 4, sleep: sleepCtx, now: time.Now, attemptTimeout: 30 * time.Second, budget: newBudget(BudgetConfig{})}
	if err := WithBaseURL(DefaultBaseURL)(c); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	c.limits = newRateLimiter(c.now)
	base := c.baseTransport
	if base == nil {
		base = http.DefaultTransport
	}
	switch {
	case c.clientID != "" && c.publicKey != "":
		return nil, errors.New("atlas: choose either a service account or an API key, not both")
	case c.clientID != "":
		cc := clientcredentials.Config{
			ClientID:     c.clientID,
			ClientSecret: c.clientSecret,
			TokenURL:     c.base.String() + "/api/oauth/token",
			AuthStyle:    oauth2.AuthStyleInHeader,
		}
		// The token endpoint allows about ten requests a minute: reuse each
		// token until a minute before it expires.
		tokenCtx := context.WithValue(context.Background(), oauth2.HTTPClient, &http.Client{Transport: base, Timeout: 30 * time.Second})
		c.tokens = &resettableTokens{newSource: func() oauth2.TokenSource {
			return oauth2.ReuseTokenSourceWithExpiry(nil, cc.TokenSource(tokenCtx), time.Minute)
		}}
		c.hc = &http.Client{Transport: &oauth2.Transport{Source: c.tokens, Base: base}}
	case c.publicKey != "":
		c.hc = &http.Client{Transport: &digest.Transport{Username: c.publicKey, Password: c.privateKey, Transport: base}}
	default:
		return nil, errors.New("atlas: no credentials: use a service account or an API key")
	}
	c.Projects = &ProjectsService{c}
	c.Clusters = &ClustersService{c}
	c.Snapshots = &SnapshotsService{c}
	c.Exports = &ExportsService{c}
	c.ExportBuckets = &ExportBucketsService{c}
	c.Pipelines = &PipelinesService{c}
	c.RestoreJobs = &RestoreJobsService{c}
	c.BackupSchedules = &BackupSchedulesService{c}
	return c, nil
}

// request is one API call to make.
type request struct {
	op        string // operationId
	scope     string // rate-limit scope
	method    string
	path      string // already escaped
	query     url.Values
	mediaType string
	body      any
}

// do performs r and decodes a 2xx answer into out (when not nil).
func (c *Client) do(ctx context.Context, r request, out any) error {
	start := time.Now()
	info := CallInfo{Operation: r.op, Method: r.method}
	err := c.doAttempts(ctx, r, out, &info)
	info.Duration = time.Since(start)
	info.Err = err
	if c.observer != nil {
		c.observer(info)
	}
	return err
}

func (c *Client) doAttempts(ctx context.Context, r request, out any, info *CallInfo) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("atlas: %s: encode body: %w", r.op, err)
		}
	}
	idempotent := r.method == http.MethodGet
	background := isBackground(ctx)
	backoff := 500 * time.Millisecond
	refreshed := false
	for attempt := 0; ; attempt++ {
		info.Attempts = attempt + 1
		if background {
			if err := c.admitBackground(limitKey(r)); err != nil {
				return err
			}
		}
		turn, grant := c.limits.reserve(limitKey(r))
		if turn > 0 {
			info.RateLimitWait += turn
			if err := c.sleep(ctx, turn); err != nil {
				grant.cancel()
				return fmt.Errorf("atlas: %s: %w", r.op, err)
			}
		}
		status, retryAfter, err := c.attempt(ctx, r, body, out, grant)
		info.Status = status
		if err == nil {
			return nil
		}
		if status == http.StatusUnauthorized && c.tokens != nil && !refreshed {
			// Atlas may revoke or expire a token before its stated lifetime:
			// fetch a new one, once. A 401 means nothing was done, so even a
			// POST may be sent again.
			refreshed = true
			c.tokens.reset()
			continue
		}
		// Background work is retried on its own schedule (the sync backs
		// the unit off), never here.
		if attempt >= c.retries || ctx.Err() != nil || background {
			return c.finalError(r, status, err)
		}
		var apiErr *Error
		isAPI := errors.As(err, &apiErr)
		var wait time.Duration
		switch {
		case isAPI && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && (idempotent || status == http.StatusTooManyRequests):
			// A 429 is refused before any work, so even a POST may be sent again.
			// A 503 on a POST is handled below as an unknown outcome.
			wait = max(retryAfter, backoff)
			info.RateLimitWait += wait
		case idempotent && isAPI && (status == http.StatusBadGateway || status == http.StatusGatewayTimeout):
			wait = backoff
		case idempotent && !isAPI:
			wait = backoff // a network error
		default:
			return c.finalError(r, status, err)
		}
		wait += time.Duration(rand.Int64N(int64(wait)/4 + 1)) // jitter
		if err := c.sleep(ctx, wait); err != nil {
			return c.finalError(r, status, err)
		}
		backoff = min(backoff*2, 30*time.Second)
	}
}

// finalError marks errors after which a POST may or may not have taken
// effect, so the caller reconciles instead of repeating it.
func (c *Client) finalError(r request, status int, err error) error {
	if r.method == http.MethodGet {
		return err
	}
	var apiErr *Error
	if errors.As(err, &apiErr) {
		if status == http.StatusBadGateway || status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout {
			return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		return err
	}
	var ve *ValidationError
	if errors.As(err, &ve) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
}

// attempt sends r once. It returns the HTTP status (0 when none came
// back), the Retry-After the answer asked for, and an error.
func (c *Client) attempt(ctx context.Context, r request, body []byte, out any, g grant) (int, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, c.attemptTimeout)
	defer cancel()
	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawPath = ""
	if p := c.base.Path + r.path; strings.Contains(p, "%") {
		u.RawPath = p
		if dec, err := url.PathUnescape(p); err == nil {
			u.Path = dec
		}
	}
	u.RawQuery = r.query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), rd)
	if err != nil {
		g.cancel()
		return 0, 0, fmt.Errorf("atlas: %s: %w", r.op, err)
	}
	req.Header.Set("Accept", r.mediaType)
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", r.mediaType)
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		g.done(0, nil)
		return 0, 0, fmt.Errorf("atlas: %s %s: %w", r.method, r.path, redactURLError(err))
	}
	defer resp.Body.Close()
	g.done(resp.StatusCode, resp.Header)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return resp.StatusCode, 0, fmt.Errorf("atlas: %s: read answer: %w", r.op, err)
	}
	if len(data) > maxBodyBytes {
		return resp.StatusCode, 0, fmt.Errorf("atlas: %s: answer larger than %d bytes", r.op, maxBodyBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, retryAfter(resp.Header), decodeError(r.op, resp, data)
	}
	if out == nil || len(data) == 0 {
		return resp.StatusCode, 0, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, 0, fmt.Errorf("atlas: %s: decode answer: %w", r.op, err)
	}
	return resp.StatusCode, 0, nil
}

func retryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, 3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

// redactURLError drops the URL (and with it any query) from transport errors.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// groupPath is /api/atlas/v2/groups/{groupId} plus more escaped segments.
func groupPath(groupID string, segments ...string) string {
	var b strings.Builder
	b.WriteString("/api/atlas/v2/groups/")
	b.WriteString(url.PathEscape(groupID))
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(s)
	}
	return b.String()
}

// limitKey is the rate-limit bucket of r: Atlas counts calls per endpoint
// set and project.
func limitKey(r request) string {
	const prefix = "/api/atlas/v2/groups/"
	if rest, ok := strings.CutPrefix(r.path, prefix); ok {
		group, _, _ := strings.Cut(rest, "/")
		return r.scope + " " + group
	}
	return r.scope
}

// esc escapes one path segment.
func esc(s string) string { return url.PathEscape(s) }

// resettableTokens reuses one token until it nears expiry, and can be told
// to forget it when Atlas refuses it.
type resettableTokens struct {
	newSource func() oauth2.TokenSource
	mu        sync.Mutex
	src       oauth2.TokenSource
}

func (t *resettableTokens) Token() (*oauth2.Token, error) {
	t.mu.Lock()
	if t.src == nil {
		t.src = t.newSource()
	}
	src := t.src
	t.mu.Unlock()
	tok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil {
			return nil, &Error{HTTPStatus: re.Response.StatusCode, ErrorCode: re.ErrorCode, Detail: re.ErrorDescription, Reason: "token request refused", Operation: "oauthToken"}
		}
		return nil, fmt.Errorf("atlas: get a service-account token: %w", err)
	}
	return tok, nil
}

func (t *resettableTokens) reset() {
	t.mu.Lock()
	t.src = nil
	t.mu.Unlock()
}
