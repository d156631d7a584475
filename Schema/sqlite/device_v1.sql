-- BriefSync device store, SQLite, version 1. Released migrations never change; add new files.
-- No WITHOUT ROWID tables here: SQLite does not report their changes to update hooks, and
-- screens observe these tables (GRDB ValueObservation) to refresh themselves.

-- Briefs the device holds, newest version only. A retracted brief that the user saved stays,
-- marked retracted; any other retracted brief is deleted.
CREATE TABLE briefs (
    id         TEXT PRIMARY KEY,
    topic_id   TEXT NOT NULL,
    topic_name TEXT NOT NULL,
    date       TEXT NOT NULL,      -- YYYY-MM-DD, for lists and the storage budget
    title      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    document   TEXT NOT NULL,      -- the brief's JSON as the server sent it
    retracted  INTEGER NOT NULL DEFAULT 0,
    stored_at  INTEGER NOT NULL
);
CREATE INDEX briefs_by_date ON briefs (date DESC, id);
CREATE INDEX briefs_by_topic ON briefs (topic_id, date DESC);

-- The reader's state per brief. `confirmed` is the merged state the server last sent; `visible`
-- is confirmed with the pending mutations of the outbox applied, and is what the reader sees.
-- The flat columns copy `visible` for filtering and sorting.
CREATE TABLE read_states (
    brief_id       TEXT PRIMARY KEY,
    confirmed      TEXT,
    visible        TEXT NOT NULL,
    is_read        INTEGER NOT NULL,
    is_saved       INTEGER NOT NULL,
    progress       REAL NOT NULL,
    last_opened_at INTEGER
);
CREATE INDEX read_states_saved ON read_states (is_saved, brief_id);

-- Local mutations not yet acknowledged by the server, in the order they were made. Written in the
-- same transaction as the change they describe; deleted when a push result acknowledges them.
CREATE TABLE outbox (
    mutation_id INTEGER PRIMARY KEY,
    brief_id    TEXT NOT NULL,
    mutation    TEXT NOT NULL,     -- MutationV1 JSON
    queued_at   INTEGER NOT NULL
);
CREATE INDEX outbox_by_brief ON outbox (brief_id);

-- One row: who this device is and where its sync stands. The change token lives here, beside
-- the data it describes, so they are committed together and can never disagree.
CREATE TABLE sync_state (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    device_id      TEXT NOT NULL,
    recorder       TEXT NOT NULL,  -- ChangeRecorder JSON: the clock and the last mutation id
    change_token   TEXT,
    last_sync_at   INTEGER,
    last_error     TEXT,
    full_resync    INTEGER NOT NULL DEFAULT 0  -- 1 while a resync from scratch is under way
);

-- Briefs seen during a resync from scratch; what the device holds but did not see is gone.
CREATE TABLE resync_seen (
    brief_id TEXT PRIMARY KEY
);

-- Full-text search over every part of a brief a reader may remember. Each entry takes the rowid
-- of its brief's row, so it is found and removed by rowid (brief_id is not indexed in FTS5).
CREATE VIRTUAL TABLE briefs_search USING fts5 (
    brief_id UNINDEXED, title, takeaways, body, quotes, episodes, highlights, categories,
    tokenize = 'unicode61 remove_diacritics 2'
);
