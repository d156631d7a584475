-- BriefSync server schema, PostgreSQL, version 2. Released migrations never change; add new files.
-- The same change as Schema/sqlite/server_v2.sql.

-- Where each incarnation of each device's store stands, replacing device_cursors: a copied store
-- shares its device id and mutation ids with the original, so pushes are told apart by the
-- incarnation each store makes (see PushRequestV1 and PushApplier).
CREATE TABLE push_cursors (
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id       TEXT NOT NULL,
    incarnation     TEXT NOT NULL,   -- '' for stores older than incarnations
    last_applied_id BIGINT NOT NULL,
    recent          BYTEA NOT NULL,  -- id and digest of each mutation of the last push that applied one, 16 bytes each
    PRIMARY KEY (user_id, device_id, incarnation)
);
INSERT INTO push_cursors (user_id, device_id, incarnation, last_applied_id, recent)
    SELECT user_id, device_id, '', last_applied_id, '\x'::bytea FROM device_cursors;
DROP TABLE device_cursors;

-- Sessions get an identifier to list and revoke them by (never the token), and the time of
-- their last use (kept to the hour), from which their idle lifetime runs.
ALTER TABLE sessions ADD COLUMN id TEXT;
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT;
UPDATE sessions SET id = 's-' || substr(md5(random()::text || encode(token_hash, 'hex')), 1, 16), last_used_at = created_at;
CREATE UNIQUE INDEX sessions_by_id ON sessions (id);
