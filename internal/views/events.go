package views

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/a-h/templ"
)

// The server-sent event names a job's live elements follow. The events
// endpoint (EventsURL, query rules.Live) sends, for each change to a
// followed job:
//
//	RowEvent(id)      with JobCells(job)            (rows: JobRow and job tables)
//	BadgeEvent(id)    with JobBadge(job)            (badges beside snapshots, runs, lineage)
//	DetailEvent(id)   with JobLive(detail)          (only when rules.Live.Detail is id)
//	SnapshotEvent(id) with SnapshotStatus(snapshot) (snapshot jobs Atlas has answered:
//	                                                 the status cell of the snapshot's row)
//	RunEvent(id)      with RunStatus(run)           (ingestion jobs Atlas has answered:
//	                                                 the status cell of the run's row)

// RowEvent is the event whose payload (JobCells) replaces a job row's cells.
func RowEvent(jobID string) string { return "job-" + jobID }

// BadgeEvent is the event whose payload (JobBadge) replaces a live badge.
func BadgeEvent(jobID string) string { return "job-" + jobID + "-badge" }

// DetailEvent is the event whose payload (JobLive) replaces the live
// section of the job's page.
func DetailEvent(jobID string) string { return "job-" + jobID + "-detail" }

// SnapshotEvent is the event whose payload (SnapshotStatus) replaces the
// status cell of the row of the snapshot the job took.
func SnapshotEvent(jobID string) string { return "job-" + jobID + "-snapshot" }

// RunEvent is the event whose payload (RunStatus) replaces the status cell
// of the row of the pipeline run the job triggered.
func RunEvent(jobID string) string { return "job-" + jobID + "-run" }

// WriteEvent renders c and writes it to w as one server-sent event named
// name: rendered first, so a render error writes nothing, and one data
// line per line of HTML, as the SSE format requires. The caller flushes.
func WriteEvent(ctx context.Context, w io.Writer, name string, c templ.Component) error {
	if name == "" || strings.ContainsAny(name, "\r\n") {
		return fmt.Errorf("views: write event: bad event name %q", name)
	}
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		return fmt.Errorf("views: write event %s: render: %w", name, err)
	}
	var out bytes.Buffer
	out.WriteString("event: " + name + "\n")
	html := strings.ReplaceAll(buf.String(), "\r\n", "\n")
	for _, line := range strings.Split(strings.ReplaceAll(html, "\r", "\n"), "\n") {
		out.WriteString("data: " + line + "\n")
	}
	out.WriteString("\n")
	if _, err := w.Write(out.Bytes()); err != nil {
		return fmt.Errorf("views: write event %s: %w", name, err)
	}
	return nil
}
