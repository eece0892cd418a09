package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/snapdesk/snapdesk/internal/atlas/atlassim"
)

const snapshotRows = `#snapshot-rows`

// A snapshot Atlas's scheduler takes behind Snapdesk's back appears on an
// open cluster page without a reload, once the sync has seen it.
func TestBrowserSnapshotTakenElsewhereAppearsLive(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.do(t, "open the cluster", chromedp.Navigate(a.URL+flowClusterPath), processed(snapshotRows))
	a.following(t, snapshotRows)
	a.markPage(t)
	id, err := a.Sim.AddSnapshot(flowProject, atlassim.FixtureReplicaSetCluster, atlassim.SnapshotSpec{Description: "taken by the scheduler"})
	if err != nil {
		t.Fatal(err)
	}
	a.app.SyncNow(t)
	row := snapshotRows + ` tr[data-snapshot-id="` + id + `"]`
	a.do(t, "wait for the new snapshot's row", chromedp.WaitVisible(chromedp.CSS(row)))
	if got := a.text(t, row); !strings.Contains(got, "taken by the scheduler") {
		t.Errorf("new row = %q", got)
	}
	a.unchangedPage(t)
	a.noConsoleErrors(t)
}

// A snapshot taken through Snapdesk disables Take snapshot; when Atlas
// finishes it, the button is enabled again without a reload.
func TestBrowserFinishedSnapshotEnablesTakeSnapshot(t *testing.T) {
	t.Parallel()
	a := startBrowserApp(t)
	a.takeSnapshot(t, flowClusterPath, "2")
	disabled := func() bool {
		return browserValue(t, a, "read the button", chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(takeSubmit)+`).disabled`))
	}
	if !disabled() {
		t.Fatal("Take snapshot is enabled while the snapshot is in progress")
	}
	a.following(t, `#take-snapshot-live`)
	a.markPage(t)
	a.advance(t, time.Hour) // Atlas completes it; the poller records it
	a.do(t, "wait for Take snapshot to be enabled",
		chromedp.Poll[chromedp.Void](`(() => { const b = document.querySelector(`+strconv.Quote(takeSubmit)+`); return !!b && !b.disabled; })()`))
	a.unchangedPage(t)
	a.noConsoleErrors(t)
}
