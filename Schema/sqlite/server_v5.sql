-- BriefSync server schema, SQLite, version 5: a session has a scope. A device's session reads and
-- writes everything of its user; a feed key (POST /v1/feed-keys) reads that user's feeds only,
-- and is listed and revoked like any other session. Released migrations never change; add new files.
ALTER TABLE sessions ADD COLUMN scope TEXT NOT NULL DEFAULT 'device';
