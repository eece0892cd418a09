package inventory

import (
	"context"

	"github.com/snapdesk/snapdesk/internal/atlas"
)

// getSchedule reads a cluster's backup schedule (getGroupClusterBackupSchedule).
func getSchedule(ctx context.Context, a *atlas.Client, groupID, clusterName string) (any, error) {
	return a.BackupSchedules.Get(ctx, groupID, clusterName)
}
