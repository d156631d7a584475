-- BriefSync server schema, SQLite, version 4: protocol 2 sends pages as manifests, so a brief
-- row names its edition (digest, size) and its document lives only on the content plane
-- (contents, by digest). Released migrations never change; add new files.

-- The size in bytes of the edition's canonical JSON, sent in the manifest (BriefRefV2.size) and
-- counted against a page's byte budget. A tombstone keeps its last edition's size.
ALTER TABLE briefs ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
UPDATE briefs SET size = length(CAST(document AS BLOB));

-- Every edition a live brief points to is in contents since version 3; a tombstone's document
-- was never sent again. The copy in briefs goes.
ALTER TABLE briefs DROP COLUMN document;
