package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
	"github.com/snapdesk/snapdesk/internal/rules"
)

// TestBrowserViewerSeesNoActions: a viewer is offered none of the actions
// their role forbids (no Take snapshot, Export or Trigger ingestion), and is
// told why; an operator on the same page sees them.
func TestBrowserViewerSeesNoActions(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.do(t, "open the cluster as the operator", chromedp.Navigate(a.URL+flowClusterPath), processed(takeRetention))
	if n := a.count(t, takeSubmit); n != 1 {
		t.Fatalf("the operator sees %d Take snapshot buttons", n)
	}
	if n := a.count(t, `[data-testid="export-submit"]`); n == 0 {
		t.Error("the operator is offered no Export")
	}
	if n := a.count(t, `[data-testid="actions-note"]`); n != 0 {
		t.Error("the operator is told they may not act")
	}

	a.signInAs(t, "viewer")
	for _, path := range []string{flowClusterPath, flowPipelinePath, flowClusterPath + "/exports/new"} {
		a.do(t, "open "+path+" as the viewer", chromedp.Navigate(a.URL+path), chromedp.WaitVisible(chromedp.CSS(`[data-testid="actions-note"]`)))
		for _, sel := range []string{takeSubmit, `[data-testid="export-submit"]`, `[data-testid="ingest-submit"]`, `form[method="post"][action$="/snapshots"]`,
			`form[method="post"][action$="/exports"]`, `form[method="post"][action$="/runs"]`} {
			if n := a.count(t, sel); n != 0 {
				t.Errorf("%s: the viewer is offered %s (%d)", path, sel, n)
			}
		}
		if note := a.text(t, `[data-testid="actions-note"]`); !strings.Contains(note, "operator role") {
			t.Errorf("%s: the note says %q, not why", path, note)
		}
	}
	a.noConsoleErrors(t)
}

// TestBrowserDescriptionLimitSaidAndCounted: the limit is said beside the
// field, the count follows typing, nothing typed is cut, and a description
// over the limit is refused with a message, the text kept as typed.
func TestBrowserDescriptionLimitSaidAndCounted(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const counter = takeForm + ` [data-testid="description-count"]`
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), processed(takeRetention))
	if hint := a.text(t, takeForm+` #take-snapshot-description-hint`); !strings.Contains(hint, "Up to 200 characters") {
		t.Errorf("the hint says %q, not the limit", hint)
	}
	if n := a.count(t, takeDescription+`[maxlength]`); n != 0 {
		t.Error("the field has a maxlength: a paste would be cut without a word")
	}
	a.do(t, "type a short description", typeText(takeDescription, "before release"), containsText(counter, "14 of 200 characters"))

	long := strings.Repeat("é", rules.MaxDescriptionLen+5)
	a.do(t, "paste a long description",
		typeText(takeDescription, long),
		containsText(counter, "205 of 200 characters: 5 too many"),
		typeText(takeRetention, "3"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+"`"+takeForm+"`"+`).dataset.answered = "no"`),
		chromedp.Click(chromedp.CSS(takeSubmit)),
		chromedp.WaitVisible(chromedp.CSS(takeForm+`:not([data-answered]) [data-testid="error-description"]`)),
	)
	kept := browserValue(t, a, "description", chromedp.Value(chromedp.CSS(takeDescription)))
	if kept != long {
		t.Errorf("the description after the refusal has %d characters, want the %d typed", len([]rune(kept)), len([]rune(long)))
	}
	if msg := a.text(t, takeForm+` [data-testid="error-description"]`); !strings.Contains(msg, "200 characters or fewer") || !strings.Contains(msg, "205") {
		t.Errorf("the refusal says %q", msg)
	}
	if n := a.Sim.Calls()["takeGroupClusterBackupSnapshots"]; n != 0 {
		t.Errorf("Atlas asked %d times for a refused description", n)
	}
	a.noConsoleErrors(t)
}

// TestBrowserTakeSnapshotDisabledSaysWhy: while a snapshot is in flight,
// Take snapshot is shown disabled, with the reason in words beside it (the
// words jobs.SnapshotBlocked gives the preflight too), announced as the
// button's description and linking to the job in the way; a cluster that is
// not idle says so instead; a viewer on the same page is offered no button
// at all, disabled or not.
func TestBrowserTakeSnapshotDisabledSaysWhy(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	const reason = takeForm + ` [data-testid="disabled-reason"]`
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), processed(takeRetention))
	if n := a.count(t, reason); n != 0 {
		t.Fatalf("an idle cluster with nothing in flight shows a reason: %q", a.text(t, reason))
	}

	jobID := a.takeSnapshot(t, flowClusterPath, "2")
	// The row drawn for the new job names its project as the rows around
	// it do, and keeps the name when it changes live.
	jobRow := `#jobs-feed tr[data-job-id="` + jobID + `"]`
	if got := a.text(t, jobRow+` [data-testid="job-project"]`); got != "payments" {
		t.Errorf("the new job's row names its project %q, want payments", got)
	}
	a.do(t, "reload the cluster page", chromedp.Navigate(a.URL+flowClusterPath), chromedp.WaitVisible(chromedp.CSS(reason)))
	if !browserValue(t, a, "read the button", chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(takeSubmit)+`).disabled`)) {
		t.Fatal("Take snapshot is enabled while a snapshot is in flight")
	}
	said := a.text(t, reason)
	if !strings.Contains(said, "still in progress") || !strings.Contains(said, "one on-demand snapshot at a time") {
		t.Errorf("the reason says %q, not why", said)
	}
	described := browserValue(t, a, "read the button's description", chromedp.Evaluate[string](
		`document.getElementById(document.querySelector(`+strconv.Quote(takeSubmit)+`).getAttribute("aria-describedby")).textContent`))
	if !strings.Contains(described, "still in progress") {
		t.Errorf("the button is described by %q, not the reason", described)
	}
	if href := a.attr(t, reason+` [data-testid="blocking-job"]`, "href"); href != "/jobs/"+jobID {
		t.Errorf("the reason links to %q, want the snapshot's job /jobs/%s", href, jobID)
	}

	// The snapshot ends; Atlas then reports the cluster busy for another reason.
	a.following(t, jobRow)
	a.advance(t, time.Hour)
	a.do(t, "wait for the row to show the end", chromedp.WaitVisible(chromedp.CSS(jobRow+` [data-testid="state-badge"][data-state="succeeded"]`)))
	if got := a.text(t, jobRow+` [data-testid="job-project"]`); got != "payments" {
		t.Errorf("updated live, the job's row names its project %q, want payments", got)
	}
	if err := a.Sim.SetClusterState(flowProject, atlassim.FixtureReplicaSetCluster, "UPDATING"); err != nil {
		t.Fatal(err)
	}
	a.app.SyncNow(t)
	a.do(t, "reload the cluster page", chromedp.Navigate(a.URL+flowClusterPath), chromedp.WaitVisible(chromedp.CSS(reason)))
	if said := a.text(t, reason); !strings.Contains(said, "This cluster is updating") {
		t.Errorf("for a cluster that is updating the reason says %q", said)
	}
	if n := a.count(t, reason+` [data-testid="blocking-job"]`); n != 0 {
		t.Error("a busy cluster links to a job, though no job is in the way")
	}

	a.signInAs(t, "viewer")
	a.do(t, "open the cluster as the viewer", chromedp.Navigate(a.URL+flowClusterPath), chromedp.WaitVisible(chromedp.CSS(`[data-testid="actions-note"]`)))
	for _, sel := range []string{takeForm, takeSubmit, reason} {
		if n := a.count(t, sel); n != 0 {
			t.Errorf("the viewer is shown %s (%d)", sel, n)
		}
	}
	a.noConsoleErrors(t)
}

// TestBrowserOverLongValuesKeptCountedAndRefused: pasted past its limit, a
// custom data value of the Export form and an API token's name are kept
// whole (no maxlength cuts them), the counter says how many characters
// too many, and the submitted form comes back refused with the message
// beside the field and the text intact. Characters outside the BMP count
// one each, as the server counts them.
func TestBrowserOverLongValuesKeptCountedAndRefused(t *testing.T) {
	a := startBrowserApp(t)
	const (
		export   = `form[data-testid="export-form"]`
		key      = export + ` input[name="customData.key"]`
		value    = export + ` input[name="customData.value"]`
		counter  = export + ` [data-testid="count-customData.value"]`
		valueErr = export + `:not([data-answered]) [data-testid="error-customData.0.value"]`
	)
	a.do(t, "open the Export page", chromedp.Navigate(a.URL+flowClusterPath+"/exports/new?snapshotId="+atlassim.FixtureSnapshotID), processed(export))
	if n := a.count(t, export+` [maxlength]`); n != 0 {
		t.Errorf("%d fields of the Export form have a maxlength: a paste would be cut without a word", n)
	}
	if hint := a.text(t, export+` fieldset > p.hint`); !strings.Contains(hint, "values up to 255") {
		t.Errorf("the custom data hint says %q, not the limit", hint)
	}
	long := strings.Repeat("é", rules.MaxCustomValueLen) + "𝄞𝄞𝄞𝄞𝄞𝄞𝄞"
	a.do(t, "paste a long custom value",
		typeText(key, "ticket"),
		typeText(value, long),
		containsText(counter, "262 of 255 characters: 7 too many"),
		chromedp.SetValue(chromedp.CSS(export+` [data-testid="bucket-picker"]`), atlassim.FixtureGCPBucketID),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+"`"+export+"`"+`).dataset.answered = "no"`),
		chromedp.Click(chromedp.CSS(export+` [data-testid="export-submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(valueErr)),
	)
	if kept := browserValue(t, a, "the value", chromedp.Value(chromedp.CSS(value))); kept != long {
		t.Errorf("the value after the refusal has %d characters, want the %d typed", len([]rune(kept)), len([]rune(long)))
	}
	if kept := browserValue(t, a, "the key", chromedp.Value(chromedp.CSS(key))); kept != "ticket" {
		t.Errorf("the key after the refusal is %q", kept)
	}
	if msg := a.text(t, valueErr); !strings.Contains(msg, "255 characters or fewer") || !strings.Contains(msg, "262") {
		t.Errorf("the refusal says %q", msg)
	}
	if got := a.text(t, counter); got != "262 of 255 characters: 7 too many" {
		t.Errorf("the counter after the refusal says %q", got)
	}
	if n := a.Sim.Calls()["createGroupClusterBackupExport"]; n != 0 {
		t.Errorf("Atlas asked %d times for a refused export", n)
	}

	const (
		tokens    = `form[data-testid="token-form"]`
		name      = tokens + ` input[name="name"]`
		nameCount = `#token-name-count`
	)
	a.do(t, "open API tokens", chromedp.Navigate(a.URL+"/settings/tokens"), chromedp.WaitVisible(chromedp.CSS(tokens)))
	if n := a.count(t, tokens+` [maxlength]`); n != 0 {
		t.Errorf("%d fields of the token form have a maxlength", n)
	}
	if hint := a.text(t, `#token-name-hint`); !strings.Contains(hint, "Up to 64 characters") {
		t.Errorf("the token name hint says %q, not the limit", hint)
	}
	// 𝄞 is two UTF-16 units: a maxlength of 64 would keep 32 of them.
	tokenName := strings.Repeat("𝄞", rules.MaxTokenNameLen+3)
	a.do(t, "paste a long token name",
		typeText(name, tokenName),
		containsText(nameCount, "67 of 64 characters: 3 too many"),
		chromedp.Click(chromedp.CSS(tokens+` input[name="projects"][value="`+atlassim.FixtureProjectID+`"]`)),
		chromedp.Click(chromedp.CSS(`[data-testid="token-create"]`)),
		chromedp.WaitVisible(chromedp.CSS(tokens+` [data-testid="error-name"]`)),
	)
	if kept := browserValue(t, a, "the token name", chromedp.Value(chromedp.CSS(name))); kept != tokenName {
		t.Errorf("the token name after the refusal has %d characters, want the %d typed", len([]rune(kept)), len([]rune(tokenName)))
	}
	if msg := a.text(t, tokens+` [data-testid="error-name"]`); !strings.Contains(msg, "64 characters or fewer") || !strings.Contains(msg, "67") {
		t.Errorf("the refusal says %q", msg)
	}
	if got := a.text(t, nameCount); got != "67 of 64 characters: 3 too many" {
		t.Errorf("the token counter after the refusal says %q", got)
	}
	if n := a.count(t, `[data-testid="token-secret"]`); n != 0 {
		t.Error("a token was made with a name over the limit")
	}
	a.noConsoleErrors(t)
}
