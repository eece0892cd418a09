package inventory

import (
	"context"
	"errors"

	"github.com/snapdesk/snapdesk/internal/atlas"
)

// errNoSchedules: the client cannot read backup schedules yet.
var errNoSchedules = errors.New("inventory: backup schedules are not read yet")

// getSchedule reads a cluster's backup schedule.
func getSchedule(ctx context.Context, a *atlas.Client, groupID, clusterName string) (any, error) {
	return nil, errNoSchedules
}
