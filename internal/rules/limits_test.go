package rules

import (
	"testing"
	"time"
)

func TestExpiresAt(t *testing.T) {
	taken := time.Date(2026, 2, 27, 23, 30, 0, 0, time.FixedZone("CET", 3600))
	got := ExpiresAt(taken, 3)
	want := time.Date(2026, 3, 2, 22, 30, 0, 0, time.UTC)
	if !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("ExpiresAt = %v, want %v in UTC", got, want)
	}
}
