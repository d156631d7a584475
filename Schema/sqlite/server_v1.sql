-- BriefSync server schema, SQLite, version 1. Released migrations never change; add new files.
-- Every synced row carries `position`: the commit-ordered place of its latest change in the feed.

-- One row per setting of the deployment: the feed epoch, the token secret, the purge horizon.
CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- The head of the changes feed. SQLite runs one write transaction at a time, so positions taken
-- from this counter inside a transaction are in commit order (see SQLiteDeltaStore).
CREATE TABLE feed_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL
);
INSERT INTO feed_head (id, position) VALUES (1, 0);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,  -- why: "Anna" and "anna" are one account
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Device sessions: only a SHA-256 of the bearer token is stored.
CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id    TEXT NOT NULL,
    device_name  TEXT,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE topics (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

-- The newest version of every brief; a retracted one stays as a tombstone until the retention ends.
CREATE TABLE briefs (
    id           TEXT PRIMARY KEY,
    topic_id     TEXT NOT NULL REFERENCES topics (id),
    version      INTEGER NOT NULL,
    document     TEXT NOT NULL,          -- canonical JSON (sorted keys) of the brief
    digest       BLOB NOT NULL,          -- SHA-256 of document: an identical re-publish changes nothing
    published_at INTEGER NOT NULL,
    retracted_at INTEGER,
    position     INTEGER NOT NULL UNIQUE -- why UNIQUE: the feed pages by position; it also indexes it
) WITHOUT ROWID;
CREATE INDEX briefs_by_topic ON briefs (topic_id, position);

-- Each user's merged read-state per brief, as the ReadState JSON.
CREATE TABLE read_states (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    brief_id TEXT NOT NULL,
    state    TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, brief_id)
) WITHOUT ROWID;
CREATE INDEX read_states_by_user_position ON read_states (user_id, position);

-- The last mutation id applied per device: pushes are applied exactly once.
CREATE TABLE device_cursors (
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id       TEXT NOT NULL,
    last_applied_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, device_id)
) WITHOUT ROWID;

-- Topics a user changed from the default (follow everything). A row with followed = 0 is fed
-- to devices as "unfollowed" once, at its position.
CREATE TABLE subscriptions (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    followed INTEGER NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, topic_id)
) WITHOUT ROWID;
CREATE INDEX subscriptions_by_user_position ON subscriptions (user_id, position);

-- Briefs to send a user again because they followed the topic after the briefs were published
-- (their own positions lie behind the user's token).
CREATE TABLE backfill (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    brief_id TEXT NOT NULL,
    topic_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (user_id, brief_id)
) WITHOUT ROWID;
CREATE INDEX backfill_by_user_position ON backfill (user_id, position);
