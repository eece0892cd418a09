-- +goose Up
-- The Take snapshot rule reads a cluster's on-demand snapshots that Atlas
-- still lists as queued or in progress (inventory.Reader.ClusterPage):
-- a handful of rows at most, found here without reading the cluster's
-- whole list on every page view. Numbered after 00072: a database already
-- at 00072 must be able to take it (goose refuses a migration numbered
-- below one it applied); IF NOT EXISTS for the few built while it was 00041.
CREATE INDEX IF NOT EXISTS inventory_snapshots_in_flight ON inventory_snapshots (project_id, cluster_name)
    WHERE gone_at IS NULL AND snapshot_type = 'onDemand' AND status IN ('queued', 'inProgress');

-- +goose Down
DROP INDEX IF EXISTS inventory_snapshots_in_flight;
