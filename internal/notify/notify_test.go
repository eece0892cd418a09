package notify_test

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/identity"
	"github.com/snapdesk/snapdesk/internal/notify"
)

func TestSignatureVerification(t *testing.T) {
	secret, err := notify.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q lacks the whsec_ prefix", secret)
	}
	body := []byte(`{"type":"job.failed"}`)
	now := time.Now()
	h := http.Header{}
	if err := notify.SetHeaders(h, secret, "msg_1", now, body); err != nil {
		t.Fatal(err)
	}
	if err := notify.Verify(secret, h, body, now, 5*time.Minute); err != nil {
		t.Fatalf("a correct signature was refused: %v", err)
	}
	other, _ := notify.NewSecret()
	if err := notify.Verify(other, h, body, now, 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
		t.Errorf("another secret's check = %v, want ErrBadSignature", err)
	}
	if err := notify.Verify(secret, h, []byte(`{"type":"job.succeeded"}`), now, 5*time.Minute); !errors.Is(err, notify.ErrBadSignature) {
		t.Errorf("a changed body = %v, want ErrBadSignature", err)
	}
	if err := notify.Verify(secret, h, body, now.Add(10*time.Minute), 5*time.Minute); !errors.Is(err, notify.ErrStale) {
		t.Errorf("a 10-minute-old message = %v, want ErrStale", err)
	}
	// The signature is the spec's: v1, base64 of HMAC-SHA256 over id.timestamp.body.
	sig, _ := notify.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0),
		[]byte(`{"test": 2432232314}`))
	if sig != "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=" {
		t.Errorf("signature of the Standard Webhooks example = %s", sig)
	}
}

// A receiver verifying signatures refuses a wrong secret, an old timestamp
// and processes a replayed webhook-id once.
func TestReceiverRefusesForgeriesAndReplays(t *testing.T) {
	rc := newReceiver(t)
	secret, _ := notify.NewSecret()
	rc.secret = secret
	body := []byte(`{"type":"test"}`)
	send := func(secret string, ts time.Time, id string) int {
		req, _ := http.NewRequest(http.MethodPost, rc.srv.URL, strings.NewReader(string(body)))
		if err := notify.SetHeaders(req.Header, secret, id, ts, body); err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	wrong, _ := notify.NewSecret()
	if got := send(wrong, time.Now(), "msg_a"); got != http.StatusUnauthorized {
		t.Errorf("wrong secret: %d, want 401", got)
	}
	if got := send(secret, time.Now().Add(-time.Hour), "msg_b"); got != http.StatusUnauthorized {
		t.Errorf("hour-old timestamp: %d, want 401", got)
	}
	if got := send(secret, time.Now(), "msg_c"); got != http.StatusOK {
		t.Errorf("good message: %d, want 200", got)
	}
	send(secret, time.Now(), "msg_c")
	if rc.seen["msg_c"] != 2 || len(rc.bodies) != 1 {
		t.Errorf("replay processed: seen %d times, %d bodies kept; want 2 and 1", rc.seen["msg_c"], len(rc.bodies))
	}
}

// Production settings retry for more than a day before dead-lettering.
func TestBackoffSpansMoreThanADay(t *testing.T) {
	cfg := notify.Config{MaxAttempts: 15, BackoffBase: 30 * time.Second, BackoffMax: 6 * time.Hour}
	var total time.Duration
	prev := time.Duration(0)
	for attempt := 1; attempt < cfg.MaxAttempts; attempt++ {
		d := cfg.Backoff(attempt)
		if attempt < 10 && d < prev {
			t.Errorf("backoff after attempt %d (%s) shorter than after %d (%s)", attempt, d, attempt-1, prev)
		}
		total += d * 10 / 11 // the lowest jitter could give
		prev = d
	}
	if total < 24*time.Hour {
		t.Errorf("15 attempts span %s, want over 24h", total)
	}
	if d := cfg.Backoff(1); d < 27*time.Second || d > 33*time.Second {
		t.Errorf("first retry after %s, want 30s ±10%%", d)
	}
}

func webhookSub(t *testing.T, svc *notify.Service, url string, events ...string) (notify.Subscription, string) {
	t.Helper()
	sub, secret, err := svc.Create(context.Background(), admin, origin, notify.NewSubscription{Scope: notify.ScopeProject,
		ProjectID: atlassim.FixtureProjectID, Channel: notify.ChannelWebhook, Name: "ops hook", Events: events, URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return sub, secret
}

// A failed job reaches a project's webhook, signed, with Atlas's error and a
// link under SNAPDESK_PUBLIC_URL, and nothing from the job's parameters.
func TestFailedJobReachesSignedWebhook(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	svc := newService(t, pool, fastConfig(testKey(t)))
	rc := newReceiver(t)
	sub, secret := webhookSub(t, svc, rc.srv.URL+"/hook", notify.JobFailed)
	if secret == "" {
		t.Fatal("no signing secret shown at creation")
	}
	rc.secret = secret
	run(t, svc)

	job := insertJob(t, pool, "export", "", operator)
	setState(t, pool, job, "running")
	setState(t, pool, job, "failed")
	id := rc.wait(t, 10*time.Second)
	body := rc.lastBody()
	data := body["data"].(map[string]any)
	if body["type"] != "job.failed" || data["errorCode"] != "EXPORT_FAILED" || data["errorMessage"] != "the bucket refused the write" {
		t.Errorf("body = %s", jsonString(body))
	}
	if data["url"] != publicURL+"/jobs/"+job || data["projectName"] != "Payments" {
		t.Errorf("url %v, projectName %v", data["url"], data["projectName"])
	}
	if s := jsonString(body); strings.Contains(s, "s3cr3t-param") || strings.Contains(s, "customData") {
		t.Errorf("the job's parameters leaked into the message: %s", s)
	}

	_, deliveries, err := svc.Deliveries(context.Background(), admin, sub.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 1 || "msg_"+deliveries[0].ID != id {
		t.Fatalf("deliveries %+v, receiver got %s", deliveries, id)
	}
	waitFor(t, 5*time.Second, "the attempt recorded", func() bool {
		_, deliveries, _ = svc.Deliveries(context.Background(), admin, sub.ID, 10)
		return deliveries[0].State == "delivered"
	})
	a := deliveries[0].Attempts
	if len(a) != 1 || !a[0].OK || a[0].HTTPStatus != 200 || a[0].Answer != "200 thanks" {
		t.Errorf("attempts %+v", a)
	}
	// Other events of the job (it did not succeed) and other subscriptions' events are not sent.
	if n := len(rc.seen); n != 1 {
		t.Errorf("receiver got %d messages, want 1", n)
	}
	// Someone who does not administer the project cannot read the deliveries.
	if _, _, err := svc.Deliveries(context.Background(), operator, sub.ID, 10); !errors.Is(err, notify.ErrNotFound) {
		t.Errorf("an operator reading a project subscription: %v, want ErrNotFound", err)
	}
}

func TestSlackMessageIsReadable(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	svc := newService(t, pool, fastConfig(testKey(t)))
	rc := newReceiver(t)
	sub, secret, err := svc.Create(context.Background(), admin, origin, notify.NewSubscription{Scope: notify.ScopeProject,
		ProjectID: atlassim.FixtureProjectID, Channel: notify.ChannelSlack, Name: "#backups", Events: []string{notify.JobSucceeded},
		URL: rc.srv.URL + "/services/T000/B000/XXXX"})
	if err != nil {
		t.Fatal(err)
	}
	if secret != "" || strings.Contains(sub.TargetDisplay, "XXXX") {
		t.Errorf("Slack: secret %q, display %q (the URL path is the secret)", secret, sub.TargetDisplay)
	}
	run(t, svc)
	job := insertJob(t, pool, "snapshot", "succeeded", operator)
	rc.wait(t, 10*time.Second)
	text := jsonString(rc.lastBody())
	for _, want := range []string{"Snapshot of " + atlassim.FixtureReplicaSetCluster + " succeeded", publicURL + "/jobs/" + job,
		"Payments", "Oscar Operator", "Succeeded", "Open in Snapdesk"} {
		if !strings.Contains(text, want) {
			t.Errorf("Slack message lacks %q: %s", want, text)
		}
	}
}

// Personal email: plain-text and HTML parts with the job link, to the
// person's own address, only for their own jobs.
func TestEmailToThePersonWhoAsked(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ms := newMailServer(t)
	cfg := fastConfig(testKey(t))
	cfg.SMTP = ms.smtpConfig()
	svc := newService(t, pool, cfg)
	if _, _, err := svc.Create(context.Background(), operator, origin, notify.NewSubscription{Scope: notify.ScopePersonal,
		Channel: notify.ChannelEmail, Name: "my jobs", Events: []string{notify.JobSucceeded, notify.JobFailed}}); err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	insertJob(t, pool, "snapshot", "succeeded", operator2) // someone else's job: no mail
	job := insertJob(t, pool, "export", "", operator)
	setState(t, pool, job, "failed")
	m, err := ms.wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || m.To[0] != operator.Email {
		t.Errorf("mail to %v", m.To)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatal(err)
	}
	if subj := msg.Header.Get("Subject"); !strings.Contains(subj, "Export of "+atlassim.FixtureReplicaSetCluster+" failed") {
		t.Errorf("subject %q", subj)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p)
		parts[ct] = decodeQP(p.Header.Get("Content-Transfer-Encoding"), string(b))
	}
	link := publicURL + "/jobs/" + job
	if !strings.Contains(parts["text/plain"], link) || !strings.Contains(parts["text/plain"], "EXPORT_FAILED") {
		t.Errorf("plain part: %q", parts["text/plain"])
	}
	if !strings.Contains(parts["text/html"], `href="`+link+`"`) {
		t.Errorf("HTML part: %q", parts["text/html"])
	}
	time.Sleep(500 * time.Millisecond)
	if n := ms.count(); n != 1 {
		t.Errorf("%d mails, want 1 (someone else's job must not mail this person)", n)
	}
}

// The approver of a project hears about an approval request; a viewer who
// subscribed to the same does not, nor does the requester.
func TestApprovalRequestGoesToThoseWhoMayApprove(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ms := newMailServer(t)
	cfg := fastConfig(testKey(t))
	cfg.SMTP = ms.smtpConfig()
	svc := newService(t, pool, cfg)
	for _, u := range []identity.User{operator2, viewer, operator} {
		if _, _, err := svc.Create(context.Background(), u, origin, notify.NewSubscription{Scope: notify.ScopePersonal,
			Channel: notify.ChannelEmail, Name: "approvals", Events: []string{notify.ApprovalRequested, notify.ApprovalDecided}}); err != nil {
			t.Fatal(err)
		}
	}
	run(t, svc)
	job := insertJob(t, pool, "export", "awaiting_approval", operator)
	m, err := ms.wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || m.To[0] != operator2.Email || !strings.Contains(string(m.Data), "waiting for your approval") {
		t.Errorf("approval request went to %v: %s", m.To, m.Data)
	}
	// Olga approves: the requester hears the decision.
	if _, err := pool.Exec(context.Background(), `UPDATE jobs SET state = 'requested', approved_by_subject = $2,
		approved_by_email = $3, approved_by_name = $4, approved_at = now(), decision = 'approved',
		decided_by_subject = $2, decided_by_email = $3, decided_by_name = $4 WHERE id = $1`, job, operator2.Subject, operator2.Email, operator2.Name); err != nil {
		t.Fatal(err)
	}
	m, err = ms.wait(10 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.To) != 1 || m.To[0] != operator.Email || !strings.Contains(string(m.Data), "Approved by Olga Operator") {
		t.Errorf("decision went to %v: %s", m.To, m.Data)
	}
	time.Sleep(500 * time.Millisecond)
	if n := ms.count(); n != 2 {
		t.Errorf("%d mails, want 2 (the viewer may not approve; the requester does not approve their own)", n)
	}
}

func decodeQP(enc, s string) string {
	if strings.EqualFold(enc, "quoted-printable") {
		b, _ := io.ReadAll(newQPReader(s))
		return string(b)
	}
	return s
}

// A person whose groups change (seen at their next sign-in) stops hearing
// about approvals they may no longer give.
func TestApprovalRequestsFollowTheGroupsOfTheLastSignIn(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ms := newMailServer(t)
	cfg := fastConfig(testKey(t))
	cfg.SMTP = ms.smtpConfig()
	svc := newService(t, pool, cfg)
	if _, _, err := svc.Create(context.Background(), operator2, origin, notify.NewSubscription{Scope: notify.ScopePersonal,
		Channel: notify.ChannelEmail, Name: "approvals", Events: []string{notify.ApprovalRequested}}); err != nil {
		t.Fatal(err)
	}
	demoted := operator2
	demoted.Groups = []string{"snapdesk-viewers"}
	if err := svc.RefreshOwner(context.Background(), demoted); err != nil {
		t.Fatal(err)
	}
	run(t, svc)
	insertJob(t, pool, "export", "awaiting_approval", operator)
	if m, err := ms.wait(2 * time.Second); err == nil {
		t.Errorf("a viewer now was told of an approval request: %v", m.To)
	}
	if err := svc.RefreshOwner(context.Background(), operator2); err != nil {
		t.Fatal(err)
	}
	insertJob(t, pool, "export", "awaiting_approval", operator)
	if _, err := ms.wait(10 * time.Second); err != nil {
		t.Errorf("an operator again was not told: %v", err)
	}
}
