package notify_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/audit"
	"github.com/snapdesk/snapdesk/internal/auth"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/notify"
	"github.com/snapdesk/snapdesk/internal/policy"
)

// The dev sign-in's people and policy (internal/auth/dev_policy.yaml).
var (
	viewer    = identity.User{Subject: "dev|viewer", Email: "vera.viewer@snapdesk.local", Name: "Vera Viewer", Groups: []string{"snapdesk-viewers"}}
	operator  = identity.User{Subject: "dev|operator", Email: "oscar.operator@snapdesk.local", Name: "Oscar Operator", Groups: []string{"snapdesk-operators"}}
	operator2 = identity.User{Subject: "dev|operator2", Email: "olga.operator@snapdesk.local", Name: "Olga Operator", Groups: []string{"snapdesk-operators"}}
	admin     = identity.User{Subject: "dev|admin", Email: "ada.admin@snapdesk.local", Name: "Ada Admin", Groups: []string{"snapdesk-admins"}}
)

const publicURL = "https://snapdesk.example.com"

var origin = audit.Origin{RequestID: "test", RemoteAddr: "127.0.0.1", UserAgent: "go test"}

func testKey(t testing.TB) []byte {
	t.Helper()
	if k := os.Getenv("NOTIFY_TEST_KEY"); k != "" {
		key, err := notify.ParseKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	k := make([]byte, notify.KeySize)
	rand.Read(k)
	return k
}

// fastConfig retries within milliseconds instead of minutes, so a test
// sees a whole retry schedule.
func fastConfig(key []byte) notify.Config {
	return notify.Config{PublicURL: publicURL, Key: key, MaxAttempts: 3, BackoffBase: 20 * time.Millisecond,
		BackoffMax: 100 * time.Millisecond, AttemptTimeout: 2 * time.Second, PollEvery: 200 * time.Millisecond}
}

func newService(t testing.TB, pool *pgxpool.Pool, cfg notify.Config) *notify.Service {
	t.Helper()
	svc, err := notify.New(pool, cfg, policy.Fixed(auth.DevPolicy()), func(_ context.Context, id string) string {
		if id == atlassim.FixtureProjectID {
			return "Payments"
		}
		return ""
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// run delivers until the test ends.
func run(t testing.TB, svc *notify.Service) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("notify service: %v", err)
		}
	})
}

// A job of the fixture project, inserted as the jobs store does.
func insertJob(t testing.TB, pool *pgxpool.Pool, kind, state string, by identity.User) string {
	t.Helper()
	id := uuid.NewString()
	var err error
	switch kind {
	case "export":
		_, err = pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, snapshot_id, export_bucket_id,
				params, requested_by_subject, requested_by_email, requested_by_name, idempotency_key, approval_expires_at)
			VALUES ($1, 'export', $2, $3, $4, $5, '{"customData":{"token":"s3cr3t-param"}}', $6, $7, $8, $9, now() + interval '1 day')`,
			id, atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, atlassim.FixtureSnapshotID, atlassim.FixtureAWSBucketID,
			by.Subject, by.Email, by.Name, uuid.NewString())
	default:
		_, err = pool.Exec(context.Background(), `INSERT INTO jobs (id, kind, project_id, cluster_name, state,
				requested_by_subject, requested_by_email, requested_by_name, idempotency_key)
			VALUES ($1, 'snapshot', $2, $3, 'running', $4, $5, $6, $7)`,
			id, atlassim.FixtureProjectID, atlassim.FixtureReplicaSetCluster, by.Subject, by.Email, by.Name, uuid.NewString())
	}
	if err != nil {
		t.Fatal(err)
	}
	if state != "" {
		setState(t, pool, id, state)
	}
	return id
}

func setState(t testing.TB, pool *pgxpool.Pool, id, state string) {
	t.Helper()
	var err error
	switch state {
	case "failed":
		_, err = pool.Exec(context.Background(), `UPDATE jobs SET state = 'failed', error_code = 'EXPORT_FAILED',
			error_message = 'the bucket refused the write', finished_at = now() WHERE id = $1`, id)
	case "succeeded", "cancelled":
		_, err = pool.Exec(context.Background(), `UPDATE jobs SET state = $2, finished_at = now() WHERE id = $1`, id, state)
	default:
		_, err = pool.Exec(context.Background(), `UPDATE jobs SET state = $2 WHERE id = $1`, id, state)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// receiver is a webhook endpoint that verifies Standard Webhooks
// signatures as a careful receiver does: a valid signature, a fresh
// timestamp, and each webhook-id processed once.
type receiver struct {
	srv       *httptest.Server
	secret    string
	tolerance time.Duration

	mu       sync.Mutex
	seen     map[string]int // webhook-id → deliveries accepted
	bodies   []map[string]any
	requests int
	refused  []string
	// behave, when set, answers attempt n (1-based) instead of accepting it.
	behave func(n int, w http.ResponseWriter, r *http.Request) bool
	got    chan string // accepted webhook-ids
}

func newReceiver(t testing.TB) *receiver {
	rc := &receiver{seen: map[string]int{}, tolerance: 5 * time.Minute, got: make(chan string, 1000)}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.requests++
	n, behave, secret := rc.requests, rc.behave, rc.secret
	rc.mu.Unlock()
	if behave != nil && behave(n, w, r) {
		return
	}
	if secret != "" {
		if err := notify.Verify(secret, r.Header, body, time.Now(), rc.tolerance); err != nil {
			rc.refuse(w, err.Error())
			return
		}
	}
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	rc.seen[id]++
	dup := rc.seen[id] > 1
	if !dup {
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		rc.bodies = append(rc.bodies, m)
	}
	rc.mu.Unlock()
	if dup {
		// A replay: acknowledged (so the sender stops) but not processed twice.
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, "duplicate "+id+" ignored")
		return
	}
	rc.got <- id
	io.WriteString(w, "thanks")
}

func (rc *receiver) refuse(w http.ResponseWriter, why string) {
	rc.mu.Lock()
	rc.refused = append(rc.refused, why)
	rc.mu.Unlock()
	http.Error(w, why, http.StatusUnauthorized)
}

// wait returns the next accepted webhook-id.
func (rc *receiver) wait(t testing.TB, timeout time.Duration) string {
	t.Helper()
	select {
	case id := <-rc.got:
		return id
	case <-time.After(timeout):
		t.Fatalf("no message reached the receiver within %s", timeout)
		return ""
	}
}

func (rc *receiver) lastBody() map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.bodies[len(rc.bodies)-1]
}

// waitFor polls cond until it holds.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// mailServer is a local SMTP server (emersion/go-smtp) keeping what it receives.
type mailServer struct {
	addr string
	mu   sync.Mutex
	msgs []mailMsg
	got  chan mailMsg
}

type mailMsg struct {
	From string
	To   []string
	Data []byte
}

func newMailServer(t testing.TB) *mailServer {
	t.Helper()
	ms := &mailServer{got: make(chan mailMsg, 100)}
	s := smtp.NewServer(ms)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms.addr = ln.Addr().String()
	go s.Serve(ln) //nolint:errcheck
	t.Cleanup(func() { s.Close() })
	return ms
}

func (ms *mailServer) smtpConfig() notify.SMTPConfig {
	host, port, _ := net.SplitHostPort(ms.addr)
	p, _ := strconv.Atoi(port)
	return notify.SMTPConfig{Host: host, Port: p, From: "snapdesk@snapdesk.local", TLS: "none"}
}

func (ms *mailServer) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{ms: ms}, nil }

type mailSession struct {
	ms  *mailServer
	cur mailMsg
}

func (s *mailSession) Reset()        { s.cur = mailMsg{} }
func (s *mailSession) Logout() error { return nil }
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = b
	s.ms.mu.Lock()
	s.ms.msgs = append(s.ms.msgs, s.cur)
	s.ms.mu.Unlock()
	s.ms.got <- s.cur
	return nil
}

func (ms *mailServer) count() int {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return len(ms.msgs)
}

var errNoMail = errors.New("no mail")

func (ms *mailServer) wait(timeout time.Duration) (mailMsg, error) {
	select {
	case m := <-ms.got:
		return m, nil
	case <-time.After(timeout):
		return mailMsg{}, errNoMail
	}
}

func jsonString(v any) string {
	var b bytes.Buffer
	_ = json.NewEncoder(&b).Encode(v)
	return b.String()
}

func newQPReader(s string) io.Reader { return quotedprintable.NewReader(strings.NewReader(s)) }

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func encodeKey(k []byte) string { return base64.StdEncoding.EncodeToString(k) }
