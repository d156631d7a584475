-- BriefSync server schema, SQLite, version 3: the feed in two planes. Released migrations never
-- change; add new files.
--
-- Brief editions are numbered on the content log (content_head), shared by every user; each
-- user's read-states and follows on that user's own sequence (user_heads). A token holds a place
-- in both (FeedCursor). Following a topic again no longer copies its briefs into a per-user
-- backfill: the feed finds them by query (a catch-up, sent newest first).

CREATE TABLE content_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT INTO content_head (id, position) SELECT 1, position FROM feed_head;
DROP TABLE feed_head;

-- The last position of each user's state sequence. Positions already in read_states and
-- subscriptions came from the one feed counter, so they rise within each user as well.
CREATE TABLE user_heads (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL
);
INSERT INTO user_heads (user_id, position)
    SELECT u.id, MAX(
        COALESCE((SELECT MAX(r.position) FROM read_states r WHERE r.user_id = u.id), 0),
        COALESCE((SELECT MAX(s.position) FROM subscriptions s WHERE s.user_id = u.id), 0))
    FROM users u;

-- The brief's own date, for the newest-first order of a catch-up.
ALTER TABLE briefs ADD COLUMN brief_date TEXT NOT NULL DEFAULT '';
UPDATE briefs SET brief_date = json_extract(document, '$.date');
CREATE INDEX briefs_newest ON briefs (brief_date, position);
CREATE INDEX briefs_newest_by_topic ON briefs (topic_id, brief_date, position);

-- Whether the merged state says saved (its "isSaved"): a catch-up sends saved briefs of any date.
ALTER TABLE read_states ADD COLUMN saved INTEGER NOT NULL DEFAULT 0;
UPDATE read_states SET saved = COALESCE(json_extract(state, '$.isSaved'), 0);
CREATE INDEX read_states_saved ON read_states (user_id, brief_id) WHERE saved = 1;

DROP TABLE backfill;

-- The content plane: every edition's canonical JSON by its SHA-256 (briefs.digest), kept as it
-- was published, so that it can be served and cached by that digest. `gzip` is the same bytes
-- compressed once, at publish; editions published before this migration get theirs on their
-- first request, once. Editions no brief points to any more go with the tombstone purge.
CREATE TABLE contents (
    digest     BLOB PRIMARY KEY,
    document   TEXT NOT NULL,
    gzip       BLOB,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO contents (digest, document, gzip, created_at)
    SELECT digest, document, NULL, published_at FROM briefs WHERE retracted_at IS NULL;
