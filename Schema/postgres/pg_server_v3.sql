-- BriefSync server schema, PostgreSQL, version 3: the feed in two planes, as
-- Schema/sqlite/server_v3.sql. Released migrations never change; add new files.
-- Statements end with ";" at the end of a line: the migrator runs them one by one.
--
-- Publishing numbers editions under the row lock of content_head; a push or a follow numbers the
-- user's changes under the lock of that user's user_heads row, which no other user's write takes.

CREATE TABLE content_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO content_head (id, position) SELECT 1, position FROM feed_head;
DROP TABLE feed_head;

CREATE TABLE user_heads (
    user_id  BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    position BIGINT NOT NULL
);
INSERT INTO user_heads (user_id, position)
    SELECT u.id, GREATEST(
        COALESCE((SELECT MAX(r.position) FROM read_states r WHERE r.user_id = u.id), 0),
        COALESCE((SELECT MAX(s.position) FROM subscriptions s WHERE s.user_id = u.id), 0))
    FROM users u;

ALTER TABLE briefs ADD COLUMN brief_date TEXT NOT NULL DEFAULT '';
UPDATE briefs SET brief_date = document::json->>'date';
CREATE INDEX briefs_newest ON briefs (brief_date, position);
CREATE INDEX briefs_newest_by_topic ON briefs (topic_id, brief_date, position);

ALTER TABLE read_states ADD COLUMN saved BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE read_states SET saved = COALESCE((state::json->>'isSaved')::boolean, FALSE);
CREATE INDEX read_states_saved ON read_states (user_id, brief_id) WHERE saved;

DROP TABLE backfill;

-- The content plane, as in Schema/sqlite/server_v3.sql.
CREATE TABLE contents (
    digest     BYTEA PRIMARY KEY,
    document   TEXT NOT NULL,
    gzip       BYTEA,
    created_at BIGINT NOT NULL
);
INSERT INTO contents (digest, document, gzip, created_at)
    SELECT digest, document, NULL, published_at FROM briefs WHERE retracted_at IS NULL;
