package views

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/a-h/templ"
)

func TestWriteEvent(t *testing.T) {
	var b strings.Builder
	j := snapshotJob()
	j.RequestedBy = "line one\nline two" // text with a line break stays inside one event
	if err := WriteEvent(t.Context(), &b, RowEvent(j.ID), JobCells(j)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "event: job-"+jobID2+"\ndata: ") || !strings.HasSuffix(out, "\n\n") {
		t.Fatalf("event framing: %q", out)
	}
	// Every line but the event name and the final blank one is data, and
	// the data joined back is the component's HTML.
	var data []string
	sc := bufio.NewScanner(strings.NewReader(strings.TrimSuffix(out, "\n\n")))
	for i := 0; sc.Scan(); i++ {
		line := sc.Text()
		if i == 0 {
			continue
		}
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("line %d is not data: %q", i, line)
		}
		data = append(data, strings.TrimPrefix(line, "data: "))
	}
	var want strings.Builder
	if err := JobCells(j).Render(t.Context(), &want); err != nil {
		t.Fatal(err)
	}
	if strings.Join(data, "\n") != want.String() || len(data) < 2 {
		t.Errorf("data lines %q do not rebuild the HTML", data)
	}

	if err := WriteEvent(t.Context(), &b, "a\nb", JobCells(j)); err == nil {
		t.Error("an event name with a newline was written")
	}
	b.Reset()
	bad := templ.ComponentFunc(func(ctx context.Context, w io.Writer) error { return errors.New("boom") })
	if err := WriteEvent(t.Context(), &b, "x", bad); err == nil || b.Len() != 0 {
		t.Errorf("render error: err %v, wrote %q", err, b.String())
	}
	if RowEvent(jobID) != "job-"+jobID || BadgeEvent(jobID) != "job-"+jobID+"-badge" || DetailEvent(jobID) != "job-"+jobID+"-detail" {
		t.Error("event names changed: the components' sse-swap attributes depend on them")
	}
}
