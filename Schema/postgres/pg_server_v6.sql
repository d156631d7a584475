-- BriefSync server schema, PostgreSQL, version 6: what the Reader API (/greader) needs, as
-- Schema/sqlite/server_v6.sql. Released migrations never change; add new files.
-- Statements end with ";" at the end of a line: the migrator runs them one by one.

ALTER TABLE briefs ADD COLUMN item_id BIGINT;
UPDATE briefs SET item_id = numbered.item_id FROM (
    SELECT id, published_at * 1000 + ROW_NUMBER() OVER (PARTITION BY published_at ORDER BY id) - 1 AS item_id
    FROM briefs) AS numbered
WHERE briefs.id = numbered.id;
CREATE UNIQUE INDEX briefs_by_item ON briefs (item_id);

ALTER TABLE read_states ADD COLUMN is_read BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE read_states SET is_read = COALESCE((state::json->>'isRead')::boolean, FALSE);
