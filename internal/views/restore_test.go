package views

import (
	"strings"
	"testing"
)

// TestRestoreFormReadsAsWords: the snapshot line reads as a sentence
// (no words run together, no stray space before punctuation), and the
// ways to restore are choices a person can click beside their words.
func TestRestoreFormReadsAsWords(t *testing.T) {
	doc := render(t, RestoreForms(RestoreForm{FormCommon: FormCommon{CSRFToken: "t"}, ProjectID: groupID, ClusterName: "Cluster0",
		SnapshotID: snapID, SnapshotTakenAt: t0}))
	if got, want := text(byTestID(doc, "restore-snapshot")), "Snapshot taken 2026-03-01 10:00 UTC "+snapID; got != want {
		t.Errorf("snapshot line = %q, want %q", got, want)
	}
	for _, d := range []string{DeliveryAutomated, DeliveryPointInTime, DeliveryDownload} {
		radio := byTestID(doc, "delivery-"+d)
		label := radio.Parent()
		if radio.Length() != 1 || !label.Is("label.check") || !strings.Contains(text(label), deliveryLabel(d)) {
			t.Errorf("choice %s is not a radio inside its label.check (%q)", d, text(label))
		}
	}
}
