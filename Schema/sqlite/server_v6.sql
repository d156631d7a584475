-- BriefSync server schema, SQLite, version 6: what the Reader API (/greader) needs. Released
-- migrations never change; add new files.

-- A brief's Reader API item id: the microseconds since 1970 at which the server first received
-- it, made unique by taking one more than the highest when two arrive in one microsecond (as
-- FreshRSS numbers its entries). Clients keep it as the item's identity, so a correction keeps
-- it; `ot`/`nt` compare with it, and the streams are ordered by it. Briefs received before this
-- version get the time of their latest edition, ties broken by id.
ALTER TABLE briefs ADD COLUMN item_id INTEGER;
UPDATE briefs SET item_id = published_at * 1000 + (
    SELECT COUNT(*) FROM briefs o WHERE o.published_at = briefs.published_at AND o.id < briefs.id);
CREATE UNIQUE INDEX briefs_by_item ON briefs (item_id);

-- Whether a read-state says read, as `saved` says saved: the Reader API's streams filter on it.
ALTER TABLE read_states ADD COLUMN is_read INTEGER NOT NULL DEFAULT 0;
UPDATE read_states SET is_read = COALESCE(json_extract(state, '$.isRead'), 0);
