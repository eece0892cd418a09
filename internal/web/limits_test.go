package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/db/dbtest"
	"github.com/snapdesk/snapdesk/internal/rules"
	"github.com/snapdesk/snapdesk/internal/views"
)

// refusedKept checks an answer to a form with a value over its limit: 422,
// the field shows the value whole as typed, the message beside it says the
// limit and the count, and the field is described by that message.
func refusedKept(t *testing.T, what string, resp *http.Response, doc *goquery.Document, input, errTestID, typed string, limit int) {
	t.Helper()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("%s: %d, want 422", what, resp.StatusCode)
	}
	in := doc.Find(input)
	if in.Length() != 1 {
		t.Fatalf("%s: the field %s is not shown again", what, input)
	}
	shown := in.AttrOr("value", "")
	if goquery.NodeName(in) == "textarea" {
		shown = in.Text()
	}
	if shown != typed {
		t.Errorf("%s: the field shows %d characters, want the %d typed", what, len([]rune(shown)), len([]rune(typed)))
	}
	msg := byTestID(doc, errTestID)
	if text := msg.Text(); !strings.Contains(text, strconv.Itoa(limit)+" characters or fewer") || !strings.Contains(text, "it has "+strconv.Itoa(len([]rune(typed)))) {
		t.Errorf("%s: the message beside the field says %q", what, text)
	}
	if id := msg.AttrOr("id", ""); id == "" || !strings.Contains(in.AttrOr("aria-describedby", ""), id) || in.AttrOr("aria-invalid", "") != "true" {
		t.Errorf("%s: the field (aria-describedby %q) is not described by its message %q, or not marked invalid", what, in.AttrOr("aria-describedby", ""), id)
	}
	if counter := doc.Find("#" + in.AttrOr("data-count", "")); !strings.Contains(counter.Text(), "too many") {
		t.Errorf("%s: the counter says %q", what, counter.Text())
	}
}

// TestOverLongValuesRefusedAndKept: a custom data key, a subscription's
// name, a token's name and a rejection's reason one character over their
// limit (in multi-byte characters) are refused with 422 and a message
// beside the field, the text kept whole; nothing is created and Atlas is
// not asked.
func TestOverLongValuesRefusedAndKept(t *testing.T) {
	t.Parallel()
	app := startApp(t, dbtest.New(t), appOptions{})
	srv := app.Server
	ctx := context.Background()
	count := func(table string) int {
		var n int
		if err := app.Pool.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	oscar := signedIn(t, srv, "operator")
	_, doc := fetch(t, oscar, mustGet(srv.URL+clusterPath))
	action, v := actionForm(t, doc, "/exports")
	key := strings.Repeat("ü", rules.MaxCustomKeyLen) + "!"
	v.Set("snapshotId", atlassim.FixtureSnapshotID)
	v.Set("exportBucketId", atlassim.FixtureGCPBucketID)
	v.Add("customData.key", key)
	v.Add("customData.value", "OPS-7")
	resp, doc := fetch(t, oscar, post(srv.URL, action, v))
	refusedKept(t, "custom data key", resp, doc, `form[data-testid="export-form"] input[name="customData.key"][id$="customData-0-key"]`,
		"error-"+rules.CustomKeyField(0), key, rules.MaxCustomKeyLen)
	if got := doc.Find(`form[data-testid="export-form"] input[name="customData.value"]`).First().AttrOr("value", ""); got != "OPS-7" {
		t.Errorf("the value beside the refused key is %q", got)
	}
	if n := count("jobs"); n != 0 {
		t.Errorf("%d jobs after a refused export", n)
	}
	if n := app.Sim.Calls()["createGroupClusterBackupExport"]; n != 0 {
		t.Errorf("Atlas asked %d times for a refused export", n)
	}

	admin := signedIn(t, srv, "admin")
	settings := srv.URL + views.ProjectNotificationsURL(atlassim.FixtureProjectID)
	_, doc = getDoc(t, admin, settings)
	token := doc.Find(`[data-testid="subscription-form"] input[name=_csrf]`).AttrOr("value", "")
	name := strings.Repeat("€", rules.MaxSubscriptionNameLen+1)
	resp, doc = postDoc(t, admin, settings, url.Values{"_csrf": {token}, "name": {name}, "channel": {"webhook"},
		"url": {"https://hooks.example.com/snapdesk"}, "events": {"job.failed"}})
	refusedKept(t, "subscription name", resp, doc, "#sub-name", "error-name", name, rules.MaxSubscriptionNameLen)
	if got := doc.Find("#sub-url").AttrOr("value", ""); got != "https://hooks.example.com/snapdesk" {
		t.Errorf("the URL beside the refused name is %q", got)
	}
	if n := count("notify_subscriptions"); n != 0 {
		t.Errorf("%d subscriptions after a refused one", n)
	}

	_, doc = getDoc(t, oscar, srv.URL+views.TokensURL)
	token = doc.Find(`[data-testid="token-form"] input[name=_csrf]`).AttrOr("value", "")
	tokenName := strings.Repeat("𝄞", rules.MaxTokenNameLen+1)
	resp, doc = postDoc(t, oscar, srv.URL+views.TokensURL, url.Values{"_csrf": {token}, "name": {tokenName}, "projects": {atlassim.FixtureProjectID},
		"role": {"viewer"}, "expiresInDays": {"30"}})
	refusedKept(t, "token name", resp, doc, "#token-name", "error-name", tokenName, rules.MaxTokenNameLen)
	if n := count("api_tokens"); n != 0 {
		t.Errorf("%d tokens after a refused one", n)
	}

	olga := signedIn(t, srv, "operator2")
	jobURL := requestApproval(t, srv.URL, oscar)
	// Line breaks count once, as the page counts them, though the browser
	// sends CR LF.
	reason := strings.Repeat("Wrong bucket.\r\n", 20) + strings.Repeat("é", rules.MaxReasonLen-20*14+1)
	resp, doc = fetch(t, olga, post(srv.URL, jobURL+"/reject", url.Values{"_csrf": {csrfTokenOf(t, olga, srv.URL)}, "reason": {reason}}))
	refusedKept(t, "rejection reason", resp, doc, `[data-testid="reject-form"] textarea[name="reason"]`, "error-reason",
		strings.ReplaceAll(reason, "\r\n", "\n"), rules.MaxReasonLen)
	var state string
	if err := app.Pool.QueryRow(ctx, `SELECT state FROM jobs WHERE id = $1`, strings.TrimPrefix(jobURL, "/jobs/")).Scan(&state); err != nil || state != "awaiting_approval" {
		t.Errorf("after a refused rejection the export is %q (%v), want still awaiting approval", state, err)
	}
}
