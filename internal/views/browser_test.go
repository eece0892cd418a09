package views

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/a-h/templ"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/assets"
	"github.com/snapdesk/snapdesk/internal/browsertest"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// fakeApp serves the cluster page and answers its forms and event stream
// the way the web handlers are meant to, so the browser test checks that
// the components work with the vendored htmx and SSE extension.
type fakeApp struct {
	mu     sync.Mutex
	keys   map[string]int // idempotency key → posts
	events chan Job       // jobs to push on the event stream
	opened chan struct{}  // closed when the page's event stream connects
	once   sync.Once
}

func (a *fakeApp) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(assets.Prefix, assets.Handler())
	base := SnapshotsURL(groupID, "Cluster0")
	page := func(w http.ResponseWriter, r *http.Request) {
		v := clusterView()
		v.Jobs, v.Snapshots = nil, nil
		v.TakeSnapshot.Expiry = ExpiryPreview{}
		write(t, w, http.StatusOK, ClusterPage(v))
	}
	mux.HandleFunc("GET /{$}", page)
	mux.HandleFunc("GET "+SnapshotExpiryURL, func(w http.ResponseWriter, r *http.Request) {
		write(t, w, http.StatusOK, SnapshotExpiry(testExpiry(r.URL.Query().Get(rules.FieldRetentionInDays))))
	})
	mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		key := r.PostForm.Get(rules.FieldIdempotencyKey)
		t.Logf("POST key=%s retention=%q", key, r.PostForm.Get(rules.FieldRetentionInDays))
		fresh := SnapshotForm{FormCommon: FormCommon{CSRFToken: "t", IdempotencyKey: rules.NewIdempotencyKey()}, ProjectID: groupID, ClusterName: "Cluster0"}
		description, retention := r.PostForm.Get(rules.FieldDescription), r.PostForm.Get(rules.FieldRetentionInDays)
		errs := rules.Errors{}
		if msg := rules.CheckDescription(description); msg != "" {
			errs.Add(rules.FieldDescription, msg)
		}
		if testExpiry(retention).ExpiresAt.IsZero() {
			errs.Add(rules.FieldRetentionInDays, rules.RetentionDaysMessage)
		}
		if len(errs) > 0 {
			f := fresh
			f.IdempotencyKey, f.Errors = key, errs
			f.Description, f.RetentionInDays = description, retention
			f.Expiry = testExpiry(retention)
			write(t, w, http.StatusUnprocessableEntity, TakeSnapshot(f))
			return
		}
		a.mu.Lock()
		a.keys[key]++
		a.mu.Unlock()
		j := snapshotJob()
		j.State = "submitted"
		write(t, w, http.StatusOK, ActionDoneFragment(ActionDone{Job: j, Message: "Snapshot requested."}, TakeSnapshot(fresh)))
	})
	mux.HandleFunc("GET "+EventsURL, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		t.Logf("event stream %p opened: %s", r, r.URL)
		a.once.Do(func() { close(a.opened) })
		for {
			select {
			case <-r.Context().Done():
				return
			case j := <-a.events:
				t.Logf("event stream %p: sending %s", r, j.ID)
				if err := WriteEvent(r.Context(), w, RowEvent(j.ID), JobCells(j)); err != nil {
					t.Error(err)
				}
				if err := WriteEvent(r.Context(), w, BadgeEvent(j.ID), JobBadge(j)); err != nil {
					t.Error(err)
				}
				w.(http.Flusher).Flush()
			}
		}
	})
	return mux
}

// typeInto replaces the value of the field sel as typing would: one
// input event. (chromedp.SendKeys reads the node's attributes while htmx
// changes them, which the race detector reports.)
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); e.focus(); e.select(); })()`),
		browsertest.InsertText(text),
	)
}

// waitProcessed waits until htmx has processed the element sel: it does
// so after its settle delay, and a field typed into before then sends
// nothing.
func waitProcessed(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(() => { const e = document.querySelector(` + strconv.Quote(sel) + `);
		return !!(e && e["htmx-internal-data"] && e["htmx-internal-data"].initHash); })()`)
}

// waitText waits until the element sel contains text.
func waitText(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](`(document.querySelector(` + strconv.Quote(sel) + `) || {}).textContent.includes(` + strconv.Quote(text) + `)`)
}

// run runs actions with a deadline shorter than the browser's, and on
// failure logs the page as it stands.
func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) error {
	t.Helper()
	actx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	err := chromedp.Do(actx, actions...)
	if err != nil {
		if html, derr := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main"))); derr == nil {
			t.Logf("page after the failure:\n%s", html)
		}
	}
	return err
}

// read runs one action that returns a value, into *dst, as a step of run.
func read[T any](a chromedp.Action[T], dst *T) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		v, err := a(ctx, t)
		*dst = v
		return err
	})
}

// readAttr reads the attribute name of the first element sel matches
// into *dst, as a step of run.
func readAttr(sel, name string, dst *string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		r, err := chromedp.AttributeValue(chromedp.CSS(sel), name)(ctx, t)
		*dst = r.Value
		return err
	})
}

func write(t *testing.T, w http.ResponseWriter, status int, c templ.Component) {
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Error(err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func TestClusterPageInBrowser(t *testing.T) {
	app := &fakeApp{keys: map[string]int{}, events: make(chan Job, 1), opened: make(chan struct{})}
	srv := httptest.NewServer(app.handler(t))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t)
	errs := consoleErrors(ctx)

	const (
		retention = `#take-snapshot-retentionInDays`
		submit    = `[data-testid="take-snapshot-submit"]`
		feedRow   = `#jobs-feed tr#job-` + jobID2
	)
	hint := `[data-testid="snapshot-expiry"]`
	var expiry, fieldErr, describedBy, keyBefore, keyAfter, flash string
	var emptyHidden bool
	err := run(t, ctx,
		chromedp.Navigate(srv.URL+"/"),
		waitProcessed(retention),
		// The expiry follows the retention as it is typed.
		typeInto(retention, "30"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="expiry-date"] time`)),
		readAttr(`[data-testid="expiry-date"] time`, "datetime", &expiry),
		// An invalid retention: the form comes back with the error beside
		// the field. (Click once the hint has settled, so the button does
		// not move under the pointer.)
		typeInto(retention, "0"),
		waitText(hint, "Enter a whole number"),
		read(chromedp.Value(chromedp.CSS(`[data-testid="idempotency-key"]`)), &keyBefore),
		chromedp.Click(chromedp.CSS(submit)),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="error-retentionInDays"]`)),
		read(chromedp.Text(chromedp.CSS(`[data-testid="error-retentionInDays"]`)), &fieldErr),
		readAttr(retention, "aria-describedby", &describedBy),
	)
	if err != nil {
		t.Fatal(err)
	}
	if expiry != "2026-03-31T10:00:00Z" {
		t.Errorf("expiry after typing 30 = %q", expiry)
	}
	if !strings.Contains(fieldErr, "1 to 3650") || !strings.Contains(describedBy, "take-snapshot-retentionInDays-error") {
		t.Errorf("inline error %q, aria-describedby %q", fieldErr, describedBy)
	}

	// A valid retention, double-clicked: one job, its row at the top of
	// the feed, a flash, and a fresh form with a new key.
	err = run(t, ctx,
		waitProcessed(retention), // the form htmx swapped in
		typeInto(retention, "7"),
		waitText(hint, "expires on"),
		chromedp.DoubleClick(chromedp.CSS(submit)),
		chromedp.WaitVisible(chromedp.CSS(feedRow)),
		read(chromedp.Text(chromedp.CSS(`#flash [data-testid="flash"]`)), &flash),
		read(chromedp.Value(chromedp.CSS(`[data-testid="idempotency-key"]`)), &keyAfter),
		read(chromedp.Evaluate[bool](`document.getElementById("jobs-feed-empty").hidden`), &emptyHidden),
	)
	if err != nil {
		t.Fatal(err)
	}
	app.mu.Lock()
	posts := app.keys[keyBefore]
	distinct := len(app.keys)
	app.mu.Unlock()
	if posts != 1 || distinct != 1 {
		t.Errorf("double click: %d posts with the form's key, %d keys in all; want one post", posts, distinct)
	}
	if !strings.Contains(flash, "Snapshot requested.") || keyAfter == keyBefore || !rules.ValidJobID(keyAfter) || !emptyHidden {
		t.Errorf("flash %q, key %q → %q, empty note hidden %v", flash, keyBefore, keyAfter, emptyHidden)
	}

	// The inserted row follows the page's event stream once htmx has
	// processed it (after its settle delay) and the extension has
	// registered the row's listener.
	err = run(t, ctx, chromedp.Poll[chromedp.Void](`(() => { const r = document.querySelector(`+strconv.Quote(feedRow)+`);
		return !!(r && r["htmx-internal-data"] && r["htmx-internal-data"].sseEventListener); })()`))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-app.opened:
	case <-time.After(30 * time.Second):
		t.Fatal("the page never opened its event stream")
	}
	j := snapshotJob()
	j.State = "succeeded"
	app.events <- j
	var rowID string
	err = run(t, ctx,
		chromedp.WaitVisible(chromedp.CSS(feedRow+` [data-testid="state-badge"][data-state="succeeded"]`)),
		readAttr(feedRow, "id", &rowID),
	)
	if err != nil {
		t.Fatal(err)
	}
	if rowID != "job-"+jobID2 {
		t.Errorf("row id after the live update = %q", rowID)
	}
	if e := errs.list(); len(e) > 0 {
		t.Errorf("console errors: %v", e)
	}
}

// consoleLog collects the page's console errors. A 422 answer is expected
// (a form shown again with its errors) and Chromium logs every 4xx
// response, so that one line is left out.
type consoleLog struct {
	mu   sync.Mutex
	errs []string
}

func consoleErrors(ctx context.Context) *consoleLog {
	l := &consoleLog{}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && strings.Contains(e.Entry.Text, "status of 422") {
			return
		}
		if e, ok := ev.(*runtime.EventConsoleAPICalled); ok && e.Type == runtime.ConsoleAPICalledTypeError {
			var s []string
			for _, a := range e.Args {
				s = append(s, string(a.Value))
			}
			l.add("console.error: " + strings.Join(s, " "))
		}
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			l.add("exception: " + e.ExceptionDetails.Text)
		}
		if e, ok := ev.(*cdplog.EventEntryAdded); ok && e.Entry.Level == cdplog.EntryLevelError {
			l.add("log: " + e.Entry.Text)
		}
	})
	if err != nil {
		l.add("listen to the console: " + err.Error())
	}
	return l
}

func (l *consoleLog) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, s)
}

func (l *consoleLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.errs...)
}

// testExpiry is the preview a handler gives for raw days typed, from t0.
func testExpiry(raw string) ExpiryPreview {
	days, err := strconv.Atoi(raw)
	if err != nil || rules.CheckRetentionDays(days) != "" {
		return ExpiryPreview{Typed: raw != ""}
	}
	return ExpiryPreview{ExpiresAt: rules.ExpiresAt(t0, days), Typed: true}
}
