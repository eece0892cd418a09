-- +goose Up
-- A watch names what the page shows (a cluster or pipeline; '' for the
-- project as a whole): the sync refreshes that and the project's own lists
-- at its watched cadence, and the rest of the project less often.
-- Numbered after 00072 (see 00073); written to be harmless on the few
-- databases that took it as 00042.
ALTER TABLE inventory_watch ADD COLUMN IF NOT EXISTS target text NOT NULL DEFAULT '';
ALTER TABLE inventory_watch DROP CONSTRAINT IF EXISTS inventory_watch_pkey;
ALTER TABLE inventory_watch ADD PRIMARY KEY (project_id, target);

-- +goose Down
DELETE FROM inventory_watch WHERE target <> '';
ALTER TABLE inventory_watch DROP CONSTRAINT inventory_watch_pkey;
ALTER TABLE inventory_watch DROP COLUMN target;
ALTER TABLE inventory_watch ADD PRIMARY KEY (project_id);
