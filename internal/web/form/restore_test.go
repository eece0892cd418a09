package form

import (
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/snapdesk/snapdesk/internal/rules"
)

func TestParseRestore(t *testing.T) {
	target := groupID + "/payments-scratch"
	at := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name    string
		in      url.Values
		want    Restore
		wantErr []string
	}{
		{"download", vals("deliveryType", "download", "snapshotId", snapID, "target", target),
			Restore{DeliveryType: "download", SnapshotID: snapID}, nil},
		{"automated", vals("deliveryType", "automated", "snapshotId", snapID, "target", target, "confirmName", " payments-scratch "),
			Restore{DeliveryType: "automated", SnapshotID: snapID, TargetProjectID: groupID, TargetClusterName: "payments-scratch", ConfirmName: "payments-scratch"}, nil},
		{"point in time needs no snapshot", vals("deliveryType", "pointInTime", "snapshotId", snapID, "target", target, "pointInTime", "2026-12-05T09:30"),
			Restore{DeliveryType: "pointInTime", TargetProjectID: groupID, TargetClusterName: "payments-scratch", PointInTime: at}, nil},
		{"no delivery type", vals("snapshotId", snapID), Restore{}, []string{rules.FieldDeliveryType}},
		{"unknown delivery type", vals("deliveryType", "AUTOMATED", "snapshotId", snapID, "target", target), Restore{}, []string{rules.FieldDeliveryType}},
		{"download without snapshot", vals("deliveryType", "download"), Restore{}, []string{rules.FieldSnapshotID}},
		{"automated without target", vals("deliveryType", "automated", "snapshotId", snapID), Restore{}, []string{rules.FieldTarget}},
		{"target not a cluster", vals("deliveryType", "automated", "snapshotId", snapID, "target", groupID+"/-bad"), Restore{}, []string{rules.FieldTarget}},
		{"point in time with seconds zone", vals("deliveryType", "pointInTime", "target", target, "pointInTime", "2026-12-05T09:30:00Z"), Restore{}, []string{rules.FieldPointInTime}},
		{"nothing for automated", vals("deliveryType", "automated"), Restore{}, []string{rules.FieldSnapshotID, rules.FieldTarget}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, errs := ParseRestore(tt.in)
			if diff := cmp.Diff(tt.wantErr, fields(errs)); diff != "" {
				t.Errorf("error fields (-want +got):\n%s\nerrors: %v", diff, errs)
			}
			if tt.wantErr == nil {
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseRestore (-want +got):\n%s", diff)
				}
			}
		})
	}
}
