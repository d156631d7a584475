-- BriefSync server schema, PostgreSQL, version 4, as Schema/sqlite/server_v4.sql: a brief row
-- names its edition (digest, size); its document lives only in contents. Released migrations
-- never change; add new files. Statements end with ";" at the end of a line.

ALTER TABLE briefs ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE briefs SET size = octet_length(document);
ALTER TABLE briefs DROP COLUMN document;
