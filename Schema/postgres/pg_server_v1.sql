-- BriefSync server schema, PostgreSQL, version 1. Released migrations never change; add new files.
-- The same tables as Schema/sqlite/server_v1.sql, so that both stores pass one conformance suite.
-- Every synced row carries `position`: the commit-ordered place of its latest change in the feed.
-- Statements end with ";" at the end of a line: the migrator runs them one by one.

CREATE TABLE server_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The head of the changes feed. Every transaction that hands out positions locks this row first
-- and holds it until it commits, so positions are taken in commit order (see PostgresDeltaStore).
CREATE TABLE feed_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position BIGINT NOT NULL
);
INSERT INTO feed_head (id, position) VALUES (1, 0);

CREATE TABLE users (
    id            BIGSERIAL PRIMARY KEY,
    username      TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
-- why lower(): "Anna" and "anna" are one account
CREATE UNIQUE INDEX users_by_name ON users (lower(username));

-- Device sessions: only a SHA-256 of the bearer token is stored.
CREATE TABLE sessions (
    token_hash  BYTEA PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id   TEXT NOT NULL,
    device_name TEXT,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX sessions_by_user ON sessions (user_id);

CREATE TABLE topics (
    id   TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

-- The newest version of every brief; a retracted one stays as a tombstone until the retention ends.
CREATE TABLE briefs (
    id           TEXT PRIMARY KEY,
    topic_id     TEXT NOT NULL REFERENCES topics (id),
    version      INTEGER NOT NULL,
    document     TEXT NOT NULL,           -- canonical JSON (sorted keys) of the brief
    digest       BYTEA NOT NULL,          -- SHA-256 of document: an identical re-publish changes nothing
    published_at BIGINT NOT NULL,
    retracted_at BIGINT,
    position     BIGINT NOT NULL UNIQUE   -- why UNIQUE: the feed pages by position; it also indexes it
);
CREATE INDEX briefs_by_topic ON briefs (topic_id, position);

-- Each user's merged read-state per brief, as the ReadState JSON (kept as text: byte for byte
-- what the merge produced).
CREATE TABLE read_states (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    brief_id TEXT NOT NULL,
    state    TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, brief_id)
);
CREATE INDEX read_states_by_user_position ON read_states (user_id, position);

-- The last mutation id applied per device: pushes are applied exactly once.
CREATE TABLE device_cursors (
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id       TEXT NOT NULL,
    last_applied_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, device_id)
);

-- Topics a user changed from the default (follow everything). A row with followed = false is fed
-- to devices as "unfollowed" once, at its position.
CREATE TABLE subscriptions (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topic_id TEXT NOT NULL,
    followed BOOLEAN NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, topic_id)
);
CREATE INDEX subscriptions_by_user_position ON subscriptions (user_id, position);

-- Briefs to send a user again because they followed the topic after the briefs were published.
CREATE TABLE backfill (
    user_id  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    brief_id TEXT NOT NULL,
    topic_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (user_id, brief_id)
);
CREATE INDEX backfill_by_user_position ON backfill (user_id, position);
